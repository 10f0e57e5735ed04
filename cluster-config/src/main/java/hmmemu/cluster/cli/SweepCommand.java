package hmmemu.cluster.cli;

import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.SettingsException;
import hmmemu.cluster.demo.Experiment;
import hmmemu.node.Link;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hmm-emu sweep}: the headline experiment as the modelled host-device one-way latency grows, with the
 * kernel's folio lock and with it released early (PROTOCOL.md §8 R9: can the folio lock be dropped?).
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
    description = {"Runs the headline experiment for each one-way host-device latency (model time) and both arms,",
        "on a fresh embedded cluster each, and prints GPU fault rounds per atomic, driver timeouts and p99 GPU",
        "atomic latency. A first row with 0 us measures the emulator's own share (transport + scheduling)."})
final class SweepCommand implements Callable<Integer> {
  @Option(names = "--latencies", split = ",", defaultValue = "1us,10us,100us,1ms",
      description = "One-way latencies (HOCON durations; default ${DEFAULT-VALUE}).")
  List<String> latencies;
  @Option(names = "--config", paramLabel = "FILE") File config;
  @Option(names = "--time-scale", description = "Real µs per model µs (default from config, 1.0).") Double timeScale;
  @Option(names = "--warps") Integer warps;
  @Option(names = "--ops-per-warp") Integer opsPerWarp;
  @Option(names = "--cpu-threads") Integer cpuThreads;
  @Option(names = "--ops-per-thread") Integer opsPerThread;
  @Option(names = "--json", description = "Also print one JSON line with every row.") boolean json;

  @Override
  public Integer call() {
    Map<String, Object> o = new HashMap<>();
    if (timeScale != null) o.put("hmm-emu.time-scale", timeScale);
    if (warps != null) o.put("hmm-emu.demo.warps-per-device", warps);
    if (opsPerWarp != null) o.put("hmm-emu.demo.ops-per-warp", opsPerWarp);
    if (cpuThreads != null) o.put("hmm-emu.demo.cpu-threads", cpuThreads);
    if (opsPerThread != null) o.put("hmm-emu.demo.ops-per-thread", opsPerThread);
    HmmEmuSettings base = HmmEmuSettings.load(config, o);
    List<String> points = new ArrayList<>();
    points.add("0us");
    points.addAll(latencies);
    List<String> rows = new ArrayList<>();
    String fmt = "%-10s %-24s %12s %9s %9s %14s %14s %5s%n";
    System.out.printf(Locale.ROOT, fmt, "one-way", "arm", "rounds/atom", "timeouts", "gpu ops", "p50 (µs)", "p99 (µs)",
        "viol");
    boolean ok = true;
    for (String lat : points) {
      Duration d;
      try {
        d = ConfigFactory.parseString("d = " + lat).getDuration("d");
      } catch (RuntimeException e) {
        throw new SettingsException("--latencies: not a duration: '" + lat + "'");
      }
      for (boolean kernel : new boolean[] {true, false}) {
        HmmEmuSettings s = HmmEmuSettings.fromConfig(ConfigFactory.parseMap(Map.of(
                "hmm-emu.link.default.delay", Map.of("dist", "constant", "value", (d.toNanos() / 1000) + "us")))
            .withFallback(base.config));
        String name = kernel ? "folio-lock (kernel)" : "early-unlock (ablation)";
        Experiment.RunResult r;
        try (ModeledLink link = new ModeledLink(LinkSettings.fromConfig(s.config), s.demo.seed(), s.timeScale,
            Link.DIRECT)) {
          r = Experiment.runArm(name, s, s.switches.withFolioLockUntilMapped(kernel), link);
        }
        ok &= r.ok();
        System.out.printf(Locale.ROOT, fmt, lat, name, String.format(Locale.ROOT, "%.2f", r.faultRoundsPerGpuAtomic()),
            r.driverTimeouts(), r.gpuAtomics(), String.format(Locale.ROOT, "%.0f", r.gpuAtomicLatencyP50Micros()),
            String.format(Locale.ROOT, "%.0f", r.gpuAtomicLatencyP99Micros()), r.violations().size());
        rows.add(String.format(Locale.ROOT, "{\"oneWay\": \"%s\", \"name\": \"%s\", \"faultRoundsPerGpuAtomic\": %.4f, "
                + "\"driverTimeouts\": %d, \"gpuAtomics\": %d, \"gpuAtomicLatencyP50Micros\": %.1f, "
                + "\"gpuAtomicLatencyP99Micros\": %.1f, \"violations\": %d}", lat, name, r.faultRoundsPerGpuAtomic(),
            r.driverTimeouts(), r.gpuAtomics(), r.gpuAtomicLatencyP50Micros(), r.gpuAtomicLatencyP99Micros(),
            r.violations().size()));
      }
    }
    System.out.println("The 0us rows are the emulator's own share (Artery transport ~0.3 ms per round trip and"
        + " scheduling) at time-scale " + base.timeScale + "; subtract them to read the modelled link's effect.");
    if (json) System.out.println("{\"ok\": " + ok + ", \"rows\": [" + String.join(", ", rows) + "]}");
    return ok ? 0 : 1;
  }
}
