import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.demo.SimDemo;
import hmmemu.sim.SimExperiment;
import java.util.HashMap;
import java.util.Map;

/**
 * Emulator-only analysis helper (docs/RESULTS.md "Think time at a high time scale", 2026-12-06): runs the demo
 * workload in the simulator for a range of seeds and prints one JSON line per seed, hop and arm with the per-seed
 * figures the sweep pools (cancels, CPU faults, GPU p50, driver timeouts). Each run is SimDemo.runArm, the run of
 * {@code hmm-emu demo --sim --seed S --one-way L --arms A}. Usage (from the repository root, after a build):
 * {@code java -cp "cli/target/cli.jar:cli/target/lib/*" docs/SimPerSeed.java FIRST COUNT HOP[,HOP...] [key=value...]}
 * (HOP "link": the delays of hmm-emu.link, as set by the key=value arguments)
 * where each key=value sets a hmm-emu key, e.g. hmm-emu.demo.ops-per-thread=100.
 */
public final class SimPerSeed {
  /** Entry point: FIRST COUNT HOPS [key=value...]. */
  public static void main(String[] args) {
    long first = Long.parseLong(args[0]);
    int count = Integer.parseInt(args[1]);
    String[] hops = args[2].split(",");
    Map<String, Object> o = new HashMap<>();
    for (int i = 3; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      o.put(kv[0], kv[1].equals("true") || kv[1].equals("false") ? (Object) Boolean.valueOf(kv[1]) : kv[1]);
    }
    HmmEmuSettings s = HmmEmuSettings.load(null, o);
    for (String hop : hops) {
      // "link" keeps hmm-emu.link's delays (set by key=value arguments); otherwise a constant one-way hop.
      double us = hop.equals("link") ? -1 : com.typesafe.config.ConfigFactory.parseString("x = " + hop)
          .getDuration("x", java.util.concurrent.TimeUnit.NANOSECONDS) / 1000.0;
      var link = SimDemo.link(s, us);
      for (long seed = first; seed < first + count; seed++) {
        for (String arm : new String[] {"kernel", "early-unlock"}) {
          SimExperiment.Result r = SimDemo.runArm(s, link, arm, seed, null);
          var h = r.gpuLatency();
          System.out.printf(java.util.Locale.ROOT,
              "{\"seed\": %d, \"hop\": \"%s\", \"arm\": \"%s\", \"gpuAtomics\": %d, \"gpuCancelled\": %d,"
                  + " \"cpuFaults\": %d, \"driverTimeouts\": %d, \"gpuP50\": %d, \"finished\": %b,"
                  + " \"violations\": %d, \"lost\": %d, \"modelMicros\": %d}%n",
              seed, hop, arm, r.gpuAtomics(), r.gpuCancelled(), r.cpuFaults(), r.driverTimeouts(),
              h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(50), r.finished(), r.violations().size(),
              r.expectedValue() - r.finalValue(), r.modelMicros());
        }
      }
    }
  }
}
