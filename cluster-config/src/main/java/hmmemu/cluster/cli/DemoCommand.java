package hmmemu.cluster.cli;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.demo.DemoReport;
import hmmemu.cluster.demo.Experiment;
import hmmemu.node.Link;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hmm-emu demo}: the headline experiment on an embedded one-JVM cluster (1 CPU node, N GPU nodes). */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Runs the headline experiment twice with the same seed: (a) the kernel's folio lock,",
        "(b) the folio unlocked right after conversion (PROTOCOL.md §8 R9). Prints a table; exit 1 on a",
        "violated invariant or a lost increment."})
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--json", description = "Print the result as one JSON object on the last line of stdout.")
  boolean json;
  @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file that overrides reference.conf.")
  File config;
  @Option(names = "--seed", description = "Seed for the counter choice (default: hmm-emu.demo.seed).")
  Long seed;
  @Option(names = "--gpu-nodes", description = "GPU nodes (default 2).") Integer gpuNodes;
  @Option(names = "--warps", description = "Warps per device (default 2).") Integer warps;
  @Option(names = "--ops-per-warp", description = "Atomic increments per warp (default 4).") Integer opsPerWarp;
  @Option(names = "--cpu-threads", description = "CPU threads (default 2).") Integer cpuThreads;
  @Option(names = "--ops-per-thread", description = "Atomic increments per CPU thread (default 100).")
  Integer opsPerThread;
  @Option(names = "--counters", description = "Shared 64-bit counters (default 4).") Integer counters;
  @Option(names = "--counter-pages", description = "Pages the counters are spread over (default 2).")
  Integer counterPages;
  @Option(names = "--time-scale", description = "Real µs per model µs (default 1.0).") Double timeScale;
  @Option(names = "--arms", split = ",", description = "Arms to run: kernel, early-unlock (default both).")
  List<String> arms;
  @Option(names = "--link", description = {"Send host-device traffic through the modelled link of hmm-emu.link",
      "(delays, faults and the data link layer; docs/LATENCY.md, docs/FAULTS.md) instead of directly."})
  boolean link;

  @Override
  public Integer call() {
    Map<String, Object> o = new HashMap<>();
    put(o, "hmm-emu.demo.seed", seed);
    put(o, "hmm-emu.demo.gpu-nodes", gpuNodes);
    put(o, "hmm-emu.demo.warps-per-device", warps);
    put(o, "hmm-emu.demo.ops-per-warp", opsPerWarp);
    put(o, "hmm-emu.demo.cpu-threads", cpuThreads);
    put(o, "hmm-emu.demo.ops-per-thread", opsPerThread);
    put(o, "hmm-emu.demo.counters", counters);
    put(o, "hmm-emu.demo.counter-pages", counterPages);
    put(o, "hmm-emu.time-scale", timeScale);
    HmmEmuSettings settings = HmmEmuSettings.load(config, o);
    List<String> selected = arms == null ? List.of("kernel", "early-unlock") : arms;
    for (String a : selected) {
      if (!a.equals("kernel") && !a.equals("early-unlock")) {
        throw new hmmemu.cluster.SettingsException("--arms: unknown arm '" + a + "' (kernel, early-unlock)");
      }
    }
    if (!json) System.out.println("starting an embedded cluster (1 CPU node, "
        + settings.demo.gpuNodes() + " GPU nodes) per arm...");
    List<Experiment.RunResult> results = new ArrayList<>();
    for (String a : selected) {
      boolean kernel = a.equals("kernel");
      String name = kernel ? "folio-lock (kernel)" : "early-unlock (ablation)";
      if (!link) {
        results.add(Experiment.runArm(name, settings, settings.switches.withFolioLockUntilMapped(kernel), Link.DIRECT));
      } else {
        LinkSettings ls;
        try {
          ls = LinkSettings.fromConfig(settings.config);
        } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
          throw new hmmemu.cluster.SettingsException(e.getMessage());
        }
        try (ModeledLink modeled = new ModeledLink(ls, settings.demo.seed(), settings.timeScale, Link.DIRECT)) {
          results.add(Experiment.runArm(name, settings, settings.switches.withFolioLockUntilMapped(kernel), modeled));
          if (!json) modeled.stats().values().forEach(st -> System.out.println("    link " + st));
        }
      }
      if (!json) System.out.println("  arm '" + name + "' done");
    }
    DemoReport.print(System.out, settings, results, json);
    return results.stream().allMatch(Experiment.RunResult::ok) ? 0 : 1;
  }

  private static void put(Map<String, Object> m, String key, Object v) {
    if (v != null) m.put(key, v);
  }
}
