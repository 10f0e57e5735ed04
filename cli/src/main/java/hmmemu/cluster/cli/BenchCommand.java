package hmmemu.cluster.cli;

import hmmemu.bench.Bench;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.demo.Experiment;
import hmmemu.node.link.Link;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hmm-emu bench}: issue 11's figures (docs/PERFORMANCE.md); it measures, so it exits 0 even on a MISSED target. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Measures transport round trips, GPU faults through an embedded cluster, heap per page, heap "
        + "retained per cycle, a 1 GiB MADV_DONTNEED, the pure CPU core (JMH), the invariant checker and the demo "
        + "with 8 GPU nodes; prints a table with each target met or MISSED (docs/PERFORMANCE.md)."})
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--json", description = "End the output with one JSON object holding every figure and target.")
  boolean json;
  @Option(names = "--quick", description = "Smaller sizes (stated in the output); under a minute.")
  boolean quick;
  @Option(names = "--only", split = ",", paramLabel = "STEP",
      description = "Run only these steps (comma-separated): cluster, invalidation, heap, retained, checker, core, "
          + "gpu8. The other figures are printed as not run.")
  java.util.List<String> only = new java.util.ArrayList<>();

  @Override
  public Integer call() {
    java.util.Set<String> steps = new java.util.LinkedHashSet<>(only);
    for (String step : steps) {
      if (!Bench.STEPS.containsKey(step)) {
        System.err.println("hmm-emu bench: unknown step '" + step + "' for --only (steps: "
            + String.join(", ", Bench.STEPS.keySet()) + ")");
        return 2;
      }
    }
    return Bench.run(quick, json, steps, BenchCommand::gpuNodes8Ok, System.out);
  }

  /** The demo's experiment (kernel arm) on an embedded cluster of 1 CPU node and 8 GPU nodes: correct or not. */
  static boolean gpuNodes8Ok(boolean quick) {
    Map<String, Object> o = new HashMap<>();
    o.put("hmm-emu.demo.gpu-nodes", 8);
    if (quick) {
      o.put("hmm-emu.demo.ops-per-warp", 1);
      o.put("hmm-emu.demo.ops-per-thread", 10);
    }
    HmmEmuSettings s = HmmEmuSettings.load(null, o);
    return Experiment.runArm("8 GPU nodes", s, s.switches, Link.DIRECT).ok();
  }
}
