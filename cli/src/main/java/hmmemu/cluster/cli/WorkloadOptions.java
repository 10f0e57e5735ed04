package hmmemu.cluster.cli;

import java.util.Map;
import picocli.CommandLine.Option;

/** The headline experiment's workload flags, shared by {@code demo} and {@code sweep} (keys of hmm-emu.demo). */
final class WorkloadOptions {
  @Option(names = "--seed", description = "Seed for the counter choice (default: hmm-emu.demo.seed).") Long seed;
  @Option(names = "--gpu-nodes", description = "GPU nodes (default 2). With 1, the GPU contends with CPU threads "
      + "only: the folio lock's own question (R9) without GPU-GPU ping-pong (R7; docs/PROTOCOL.md §8).")
  Integer gpuNodes;
  @Option(names = "--warps", description = "Warps per device (default 2).") Integer warps;
  @Option(names = "--ops-per-warp", description = "Atomic increments per warp (default 4).") Integer opsPerWarp;
  @Option(names = "--cpu-threads", description = "CPU threads (default 2).") Integer cpuThreads;
  @Option(names = "--ops-per-thread", description = "Atomic increments per CPU thread (default 100).")
  Integer opsPerThread;
  @Option(names = "--counters", description = "Shared 64-bit counters (default 4).") Integer counters;
  @Option(names = "--counter-pages", description = "Pages the counters are spread over (default 2).")
  Integer counterPages;
  @Option(names = "--time-scale", description = "Real µs per model µs (default: hmm-emu.time-scale, 1.0).")
  Double timeScale;
  @Option(names = "--cpu-spin", description = "CPU threads spin on their counter between increments and touch it "
      + "right after every conversion of its page (hmm-emu.demo.cpu-spin; docs/SCENARIOS.md C08).") Boolean cpuSpin;
  @Option(names = "--cpu-think", paramLabel = "DURATION", description = "Model time a CPU thread works between two "
      + "increments, e.g. 20us; 0 issues the next at once (hmm-emu.demo.cpu-think, default 70ms; "
      + "docs/LATENCY.md).") String cpuThink;

  /** The flags given, as config overrides. */
  void putInto(Map<String, Object> o) {
    put(o, "hmm-emu.demo.seed", "--seed", seed);
    put(o, "hmm-emu.demo.gpu-nodes", "--gpu-nodes", gpuNodes);
    put(o, "hmm-emu.demo.warps-per-device", "--warps", warps);
    put(o, "hmm-emu.demo.ops-per-warp", "--ops-per-warp", opsPerWarp);
    put(o, "hmm-emu.demo.cpu-threads", "--cpu-threads", cpuThreads);
    put(o, "hmm-emu.demo.ops-per-thread", "--ops-per-thread", opsPerThread);
    put(o, "hmm-emu.demo.counters", "--counters", counters);
    put(o, "hmm-emu.demo.counter-pages", "--counter-pages", counterPages);
    put(o, "hmm-emu.time-scale", "--time-scale", timeScale);
    put(o, "hmm-emu.demo.cpu-spin", "--cpu-spin", cpuSpin);
    put(o, "hmm-emu.demo.cpu-think", "--cpu-think", cpuThink);
    if (cpuThink != null) checkThink(cpuThink);
  }

  /** Names the flag in a bad --cpu-think, as typed ("hardcoded value: ..." and "PT-0.001S" named neither). */
  private static void checkThink(String v) {
    java.time.Duration d = FlagDurations.parse("--cpu-think", v);
    if (d.isNegative() || d.compareTo(java.time.Duration.ofSeconds(1)) > 0) {
      throw new hmmemu.cluster.SettingsException("--cpu-think: must be between 0 and 1s, got " + v);
    }
  }

  /**
   * The arms of {@code --arms} (null: both), checked before anything runs: an unknown arm or one given twice (it would
   * run twice and count twice in the report) is a settings error.
   */
  static java.util.List<String> arms(java.util.List<String> given) {
    if (given == null) return java.util.List.of("kernel", "early-unlock");
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (String a : given) {
      if (!a.equals("kernel") && !a.equals("early-unlock")) {
        throw new hmmemu.cluster.SettingsException("--arms: unknown arm '" + a + "' (kernel, early-unlock)");
      }
      if (!seen.add(a)) throw new hmmemu.cluster.SettingsException("--arms: '" + a + "' given twice");
    }
    return given;
  }

  /** The flags given, except --seed, as they are typed (for a replay command line). */
  String flags() {
    StringBuilder b = new StringBuilder();
    flag(b, "--gpu-nodes", gpuNodes);
    flag(b, "--warps", warps);
    flag(b, "--ops-per-warp", opsPerWarp);
    flag(b, "--cpu-threads", cpuThreads);
    flag(b, "--ops-per-thread", opsPerThread);
    flag(b, "--counters", counters);
    flag(b, "--counter-pages", counterPages);
    if (cpuSpin != null && cpuSpin) b.append(" --cpu-spin");
    flag(b, "--cpu-think", cpuThink);
    return b.toString();
  }

  private static void flag(StringBuilder b, String name, Object v) {
    if (v != null) b.append(' ').append(name).append(' ').append(v);
  }

  /** An override whose origin is {@code flag}: a bad value's error names the flag (HmmEmuSettings.bad). */
  private static void put(Map<String, Object> m, String key, String flag, Object v) {
    if (v != null) m.put(key, com.typesafe.config.ConfigValueFactory.fromAnyRef(v, flag));
  }
}
