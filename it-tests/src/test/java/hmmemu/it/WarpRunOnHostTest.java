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
 * On the embedded cluster a GPU warp of the demo/sweep workload runs its loop of accesses on the GPU node
 * (HmmProtocol.WarpRun), as a warp runs on its device and as the simulator runs it (SimWarpRunTest): the controller
 * sends each GPU node one message per warp, not one per access (before, each warp access was a controller round
 * trip through the transport, ~150 µs each way at time-scale 1.0, between two atomics of the warp).
 */
class WarpRunOnHostTest {

  @Test
  void theControllerSendsOneMessagePerWarpNotOnePerAccess() {
    int gpuNodes = 1, warps = 2, ops = 12;
    HmmEmuSettings s = HmmEmuSettings.fromConfig(ConfigFactory.parseMap(Map.of(
            "hmm-emu.demo.gpu-nodes", gpuNodes,
            "hmm-emu.demo.warps-per-device", warps,
            "hmm-emu.demo.ops-per-warp", ops,
            "hmm-emu.demo.cpu-threads", 1,
            "hmm-emu.demo.ops-per-thread", 10,
            "hmm-emu.demo.counters", 2,
            "hmm-emu.demo.counter-pages", 1,
            // What is counted here does not depend on the deadline; a stale fault entry (§8 R7) spins to it, and
            // the real 1000 ms would make this test last half a minute of wall time at time-scale 1.0.
            "hmm-emu.model.driver-deadline", "20ms"))
        .withFallback(ConfigFactory.load("application-test")));
    try (EmbeddedCluster cluster = EmbeddedCluster.start(s.config, gpuNodes, s.switches, ModelClock.scaledWall(1.0),
        Link.DIRECT, Duration.ofSeconds(30))) {
      Experiment.RunResult r = Experiment.run("kernel", s, cluster, System.nanoTime());
      assertTrue(r.ok(), "violations " + r.violations() + ", " + r.finalValue() + " / " + r.expectedValue());
      assertEquals((long) gpuNodes * warps * ops, r.gpuAtomics() + r.gpuCancelled(), "every warp access answered");
      for (int k = 1; k <= gpuNodes; k++) {
        Map<String, Long> c = NodeCounters.of(cluster.gpuSystem(k)).snapshot();
        assertEquals(warps, c.getOrDefault("controllerRequests:WarpRun", 0L),
            "GPU node " + k + ": one controller message starts each warp's loop: " + c);
        assertEquals(0L, c.getOrDefault("controllerRequests:DeviceAccess", 0L),
            "GPU node " + k + ": no controller message per warp access: " + c);
        long requests = c.getOrDefault("controllerRequests", 0L);
        assertTrue(requests < warps * ops, "GPU node " + k + ": controller requests (" + requests + ") fewer than its "
            + "warps' accesses (" + warps * ops + "): " + c);
        long accesses = c.getOrDefault("gpuAccessesCompleted", 0L) + c.getOrDefault("gpuAccessesCancelled", 0L);
        assertEquals((long) warps * ops, accesses, "GPU node " + k + ": its warps' accesses ran there: " + c);
      }
    }
  }
}
