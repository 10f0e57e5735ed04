package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A warp of the demo/sweep workload runs its loop on the GPU node (HmmProtocol.WarpRun), as on the embedded cluster
 * (it-tests WarpRunOnHostTest) and as a warp runs on its device: its access k+1 is issued in the model instant its
 * access k completed (or was cancelled), with no controller hop in between, and the controller's messages to the
 * GPU nodes do not grow with the warps' accesses.
 */
class SimWarpRunTest {
  /** One run's per-device access ends (issue and end instants, model µs) and the controller's deliveries by type. */
  record Run(SimExperiment.Result r, Map<Integer, List<long[]>> accesses, Map<String, Integer> toGpu) {}

  static Run run(int opsPerWarp, boolean viaController) { return run(2, opsPerWarp, viaController, 2); }

  static Run run(int gpuNodes, int opsPerWarp, boolean viaController, int cpuThreads) {
    // GPU nodes with one warp each (a device's accesses are its warp's, in order) and contending CPU threads.
    SimExperiment.Workload w = new SimExperiment.Workload(gpuNodes, 1, opsPerWarp, cpuThreads, 40, 4, 2, 42, true);
    Map<Integer, List<long[]>> accesses = new TreeMap<>();
    Map<String, Integer> toGpu = new TreeMap<>();
    SimExperiment.Result r = SimExperiment.run("kernel", SimConfig.of(42, gpuNodes, ModelSwitches.kernel())
            .withControllerHop(100), viaController ? w.withWarpsViaController() : w, 60_000_000L, 50_000_000L,
        st -> {
          if (st.event() instanceof Trace.DeviceAccessCompleted d) {
            accesses.computeIfAbsent(d.deviceId(), k -> new ArrayList<>())
                .add(new long[] {st.atMicros() - d.latencyMicros(), st.atMicros()});
          }
        }, null, sim -> {
          sim.fastForward();
          sim.onDelivered((node, msg, fromController) -> {
            if (node > 0 && fromController) toGpu.merge(msg.getClass().getSimpleName(), 1, Integer::sum);
          });
        });
    assertTrue(r.ok(), r.violations() + " " + r.liveness());
    assertEquals((long) gpuNodes * opsPerWarp, r.gpuAtomics() + r.gpuCancelled(), "every warp access answered");
    return new Run(r, accesses, toGpu);
  }

  @Test
  void aWarpsAccessKPlusOneIsIssuedWhenItsAccessKCompletes() {
    Run run = run(16, false);
    assertEquals(2, run.accesses().size());
    for (Map.Entry<Integer, List<long[]>> e : run.accesses().entrySet()) {
      List<long[]> a = e.getValue();
      assertEquals(16, a.size(), "device " + e.getKey());
      for (int k = 0; k + 1 < a.size(); k++) {
        assertEquals(a.get(k)[1], a.get(k + 1)[0], "device " + e.getKey() + ": access " + (k + 1)
            + " is issued when access " + k + " ended (no controller hop between them)");
      }
    }
    assertEquals(32, run.r().gpuLatency().getTotalCount() + run.r().gpuCancelled(), "one latency per completed access");
  }

  @Test
  void aWarpsLoopCostsTheControllerOneMessageNotOnePerAccess() {
    Run few = run(4, false), many = run(16, false);
    assertEquals(Map.of("BindMm", 2, "InspectDevice", 2, "WarpRun", 2), many.toGpu(), "one WarpRun per warp");
    assertEquals(few.toGpu(), many.toGpu(), "the controller's messages to the GPU nodes do not grow with the accesses");
  }

  /**
   * The contrast (so that the tests above can fail): each warp access a controller round trip, as before WarpRun
   * (one warp alone: two controller-paced warps on two devices take their page from each other between two of
   * their accesses, and their driver loops spin to the deadline for a minute of wall time).
   */
  @Test
  void accessesAsControllerRoundTripsWaitForTheHop() {
    Run run = run(1, 16, true, 0);
    assertEquals(16, run.toGpu().get("DeviceAccess"), "one controller message per warp access");
    for (List<long[]> a : run.accesses().values()) {
      for (int k = 0; k + 1 < a.size(); k++) {
        assertTrue(a.get(k + 1)[0] - a.get(k)[1] >= 100, "a reply hop and a request hop ([50, 150) µs each)");
      }
    }
  }
}
