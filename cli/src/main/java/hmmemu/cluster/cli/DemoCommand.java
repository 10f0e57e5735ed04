package hmmemu.cluster.cli;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.demo.DemoReport;
import hmmemu.cluster.demo.Experiment;
import hmmemu.node.link.Link;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hmm-emu demo}: the headline experiment on an embedded one-JVM cluster (1 CPU node, N GPU nodes). */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Runs the headline experiment with the kernel's folio lock and with it released early.",
        "Both arms use the same seed: (a) the kernel's folio lock, (b) the folio unlocked right after conversion "
            + "(PROTOCOL.md §8 R9). Prints a table; exits 1 on a violated invariant or a lost increment."})
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--json", description = "Print the result as one JSON object on the last line of stdout.")
  boolean json;
  @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file that overrides reference.conf.")
  File config;
  @Mixin WorkloadOptions workload;
  @Option(names = "--arms", split = ",", description = "Arms to run: kernel, early-unlock (default both).")
  List<String> arms;
  @Option(names = "--link", description = "Send host-device traffic through the modelled link of hmm-emu.link "
      + "(delays, faults and the data link layer; docs/LATENCY.md, docs/FAULTS.md) instead of directly.")
  boolean link;
  @Option(names = "--sim", description = {"Run in the deterministic simulator (one thread, virtual time, the",
      "modelled link of hmm-emu.link; --seed replays a run exactly) instead of an embedded cluster."})
  boolean sim;

  @Override
  public Integer call() {
    Map<String, Object> o = new HashMap<>();
    workload.putInto(o);
    HmmEmuSettings settings = HmmEmuSettings.load(config, o);
    List<String> selected = arms == null ? List.of("kernel", "early-unlock") : arms;
    for (String a : selected) {
      if (!a.equals("kernel") && !a.equals("early-unlock")) {
        throw new hmmemu.cluster.SettingsException("--arms: unknown arm '" + a + "' (kernel, early-unlock)");
      }
    }
    if (sim) return hmmemu.cluster.demo.SimDemo.run(System.out, settings, selected, json);
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
}
