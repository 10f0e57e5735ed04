package hmmemu.cluster.cli;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.ProcessCluster;
import hmmemu.cluster.SettingsException;
import hmmemu.cluster.demo.DemoReport;
import hmmemu.cluster.demo.Experiment;
import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hmm-emu cluster}: the headline experiment on a local cluster of separate JVM processes. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
    description = {"Launches 1 CPU node and N GPU nodes as separate JVMs (this process is the controller and hosts",
        "the invariant checker), waits until every member is Up, runs the headline experiment across them and",
        "stops every child, also on Ctrl-C or failure."})
final class ClusterCommand implements Callable<Integer> {
  @Option(names = "--cpu", defaultValue = "1", description = "CPU nodes (only 1 is supported: one host mm).")
  int cpuNodes;
  @Option(names = "--gpu", defaultValue = "2", description = "GPU nodes (default ${DEFAULT-VALUE}).")
  int gpuNodes;
  @Option(names = "--json", description = "Print the result as one JSON object on the last line of stdout.")
  boolean json;
  @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file that overrides reference.conf.")
  File config;
  @Option(names = "--seed") Long seed;
  @Option(names = "--warps") Integer warps;
  @Option(names = "--ops-per-warp") Integer opsPerWarp;
  @Option(names = "--cpu-threads") Integer cpuThreads;
  @Option(names = "--ops-per-thread") Integer opsPerThread;
  @Option(names = "--time-scale") Double timeScale;
  @Option(names = "--arms", split = ",", description = "kernel, early-unlock (default both).") List<String> arms;

  @Override
  public Integer call() {
    if (cpuNodes != 1) throw new SettingsException("--cpu: only 1 CPU node is supported (one host mm), got " + cpuNodes);
    if (gpuNodes < 1 || gpuNodes > 15) throw new SettingsException("--gpu: must be in [1, 15], got " + gpuNodes);
    Map<String, Object> o = new HashMap<>();
    o.put("hmm-emu.demo.gpu-nodes", gpuNodes);
    if (seed != null) o.put("hmm-emu.demo.seed", seed);
    if (warps != null) o.put("hmm-emu.demo.warps-per-device", warps);
    if (opsPerWarp != null) o.put("hmm-emu.demo.ops-per-warp", opsPerWarp);
    if (cpuThreads != null) o.put("hmm-emu.demo.cpu-threads", cpuThreads);
    if (opsPerThread != null) o.put("hmm-emu.demo.ops-per-thread", opsPerThread);
    if (timeScale != null) o.put("hmm-emu.time-scale", timeScale);
    HmmEmuSettings settings = HmmEmuSettings.load(config, o);
    List<String> selected = arms == null ? List.of("kernel", "early-unlock") : arms;
    List<Experiment.RunResult> results = new ArrayList<>();
    int processes = 0;
    for (String a : selected) {
      if (!a.equals("kernel") && !a.equals("early-unlock")) {
        throw new SettingsException("--arms: unknown arm '" + a + "' (kernel, early-unlock)");
      }
      boolean kernel = a.equals("kernel");
      Map<String, String> sets = new HashMap<>();
      sets.put("hmm-emu.model.folio-lock-until-mapped", Boolean.toString(kernel));
      sets.put("hmm-emu.time-scale", Double.toString(settings.timeScale));
      String name = kernel ? "folio-lock (kernel)" : "early-unlock (ablation)";
      if (!json) System.out.println("launching 1 CPU + " + gpuNodes + " GPU node JVMs for arm '" + name + "'...");
      long started = System.nanoTime();
      try (ProcessCluster c = ProcessCluster.start(settings.config, gpuNodes, sets, Duration.ofSeconds(60))) {
        processes = Math.max(processes, c.processes());
        results.add(Experiment.run(name, settings, c, started));
      }
    }
    DemoReport.print(System.out, settings, results, json, processes);
    return results.stream().allMatch(Experiment.RunResult::ok) ? 0 : 1;
  }
}
