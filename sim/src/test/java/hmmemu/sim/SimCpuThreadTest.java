package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.ModelSwitches;
import org.junit.jupiter.api.Test;

/**
 * A CPU thread of the demo/sweep workload runs its loop on the CPU node (HmmProtocol.CpuThreadRun), as on the
 * embedded cluster (it-tests CpuThreadOnHostTest): the messages the simulator delivers do not grow with the thread's
 * accesses, and the thread's accesses take no controller hop (its loop, without faults, takes no model time).
 */
class SimCpuThreadTest {
  static SimExperiment.Result run(int opsPerThread, boolean viaController) {
    SimExperiment.Workload w = new SimExperiment.Workload(1, 0, 0, 2, opsPerThread, 4, 2, 42, true);
    return SimExperiment.run("kernel", SimConfig.of(42, 1, ModelSwitches.kernel()).withControllerHop(100),
        viaController ? w.viaController() : w, 60_000_000L, 50_000_000L);
  }

  @Test
  void aCpuThreadsLoopCostsTheControllerOneMessageNotOnePerAccess() {
    SimExperiment.Result few = run(10, false), many = run(40, false);
    assertTrue(few.ok() && many.ok(), few.violations() + " " + many.violations());
    assertEquals(80, many.cpuAtomics());
    assertEquals(few.messages(), many.messages(), "messages delivered do not grow with the threads' accesses");
    assertEquals(80, many.cpuLatency().getTotalCount(), "one latency per access");
    assertEquals(0, many.cpuLatency().getMaxValue(), "an access that does not fault takes no model time");
  }

  /** The contrast (so that the test above can fail): accesses paced by controller round trips. */
  @Test
  void accessesAsControllerRoundTripsCostOneMessageEach() {
    SimExperiment.Result few = run(10, true), many = run(40, true);
    assertTrue(few.ok() && many.ok(), few.violations() + " " + many.violations());
    assertEquals(2 * 30, many.messages() - few.messages(), "one delivered CpuAccess per access");
    assertTrue(many.cpuLatency().getMinValue() >= 100, "each access is a controller round trip (2 x [50, 150) µs)");
  }

  /**
   * With a think time T (CpuThreadRun.thinkMicros) a thread's access k is issued at >= k*T: the simulator steps the
   * CPU core at the thread's wake-up (a timer, not a message), so the loop still costs the controller one message.
   */
  @Test
  void aThinkingThreadsAccessKIsIssuedAtKTimesItsThinkTime() {
    long think = 1000;
    SimExperiment.Result[] r = new SimExperiment.Result[2];
    int[] ops = {10, 40};
    for (int i = 0; i < 2; i++) {
      SimExperiment.Workload w = new SimExperiment.Workload(1, 0, 0, 2, ops[i], 4, 2, 42, true).withCpuThink(think);
      r[i] = SimExperiment.run("kernel", SimConfig.of(42, 1, ModelSwitches.kernel()).withControllerHop(100), w,
          60_000_000L, 50_000_000L);
      assertTrue(r[i].ok(), r[i].violations().toString());
      assertEquals(2L * ops[i], r[i].cpuAtomics());
      assertTrue(r[i].modelMicros() >= (ops[i] - 1) * think,
          ops[i] + " accesses with think " + think + " µs took " + r[i].modelMicros() + " model µs");
    }
    // 30 more accesses, 30 more think times; the controller hop that starts the threads ([50, 150) µs) varies.
    assertTrue(r[1].modelMicros() - r[0].modelMicros() >= 30 * think - 100,
        "30 more accesses, 30 more think times: " + r[0].modelMicros() + " -> " + r[1].modelMicros());
    assertEquals(r[0].messages(), r[1].messages(), "the wake-ups are timers, not messages");
  }

  /** A thread that thinks longer than the livelock span after the GPU is done replies only at its end: no livelock. */
  @Test
  void aThinkingThreadThatOutlastsTheGpuIsNotALivelock() {
    SimExperiment.Workload w = new SimExperiment.Workload(1, 1, 1, 1, 10, 4, 2, 42, false).withCpuThink(1_000_000);
    SimExperiment.Result r = SimExperiment.run("kernel", SimConfig.of(42, 1, ModelSwitches.kernel()), w,
        60_000_000L, 50_000_000L);
    assertTrue(r.finished(), "finished: " + r.liveness());
    assertEquals(10, r.cpuAtomics());
    assertTrue(r.modelMicros() >= 9_000_000L, "nine think times of 1 s: " + r.modelMicros());
  }
}
