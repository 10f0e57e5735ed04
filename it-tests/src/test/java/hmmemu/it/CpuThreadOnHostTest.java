package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.demo.Experiment;
import hmmemu.node.ModelClock;
import hmmemu.node.NodeCounters;
import hmmemu.node.link.Link;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * On the embedded cluster a CPU thread of the demo/sweep workload runs its loop of accesses on the CPU node
 * (HmmProtocol.CpuThreadRun), as a user thread runs on its CPU and as the simulator runs it: the controller sends one
 * message per thread, not one per access (before, each access was a controller round trip through the transport,
 * ~150 µs each way at time-scale 1.0, which paced the threads and made the cluster's R9 figures differ from the
 * simulator's: docs/RESULTS.md, "The simulator against the embedded cluster at 100 µs and 1 ms").
 */
class CpuThreadOnHostTest {

  @Test
  void theControllerSendsOneMessagePerCpuThreadNotOnePerAccess() {
    int threads = 2, ops = 60, counters = 2;
    HmmEmuSettings s = HmmEmuSettings.fromConfig(ConfigFactory.parseMap(Map.of(
            "hmm-emu.demo.gpu-nodes", 1,
            "hmm-emu.demo.warps-per-device", 1,
            "hmm-emu.demo.ops-per-warp", 2,
            "hmm-emu.demo.cpu-threads", threads,
            "hmm-emu.demo.ops-per-thread", ops,
            "hmm-emu.demo.counters", counters,
            "hmm-emu.demo.counter-pages", 1,
            "hmm-emu.demo.cpu-spin", true))
        .withFallback(ConfigFactory.load("application-test")));
    try (EmbeddedCluster cluster = EmbeddedCluster.start(s.config, 1, s.switches, ModelClock.scaledWall(1.0),
        Link.DIRECT, Duration.ofSeconds(30))) {
      Experiment.RunResult r = Experiment.run("kernel", s, cluster, System.nanoTime());
      assertTrue(r.ok(), "violations " + r.violations() + ", " + r.finalValue() + " / " + r.expectedValue());
      assertEquals(threads * ops, r.cpuAtomics(), "every CPU increment completes");
      Map<String, Long> c = NodeCounters.of(cluster.cpuSystem).snapshot();
      assertEquals(threads, c.getOrDefault("controllerRequests:CpuThreadRun", 0L),
          "one controller message starts each CPU thread's loop: " + c);
      // The set-up's first write per counter is the only CpuAccess the controller sends.
      assertEquals(counters, c.getOrDefault("controllerRequests:CpuAccess", 0L),
          "no controller message per CPU thread access: " + c);
      long perOp = c.getOrDefault("controllerRequests", 0L);
      assertTrue(perOp < threads * ops, "controller requests to the CPU node (" + perOp + ") fewer than the CPU "
          + "threads' accesses (" + threads * ops + "): " + c);
    }
  }
}
