package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.node.cost.HostCost;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.trace.Stamped;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host-side cost model in the simulator: it shows in model time, replays, and changes no verdict. */
class SimHostCostTest {

  static SimExperiment.Result run(long seed, boolean kernel, SimExperiment.Workload w, HostCost cost, List<Stamped> t) {
    SimExperiment.Workload ws = new SimExperiment.Workload(w.gpuNodes(), w.warpsPerDevice(), w.opsPerWarp(),
        w.cpuThreads(), w.opsPerThread(), w.counters(), w.counterPages(), seed, w.cpuSpin());
    SimConfig c = SimConfig.of(seed, w.gpuNodes(), ModelSwitches.kernel().withFolioLockUntilMapped(kernel)
        .withDriverDeadlineMicros(SimDemoTest.TEST_DEADLINE_MICROS)).withHostCost(cost);
    return SimExperiment.run(kernel ? "kernel" : "early-unlock", c, ws, 60_000_000L, 50_000_000L,
        t == null ? null : t::add);
  }

  @Test
  void aDriverFaultBatchCostsItsTimeBeforeTheDriverAnswers() {
    SimExperiment.Workload quiet = new SimExperiment.Workload(2, 1, 6, 0, 0, 8, 8, 4, false);
    List<Stamped> off = new ArrayList<>(), on = new ArrayList<>();
    run(4, true, quiet, HostCost.OFF, off);
    SimExperiment.Result r = run(4, true, quiet, HostCost.DEFAULTS, on);
    assertTrue(r.ok(), r.violations() + " " + r.liveness());
    long before = SimFaultsTest.minFaultMicros(off, 1), after = SimFaultsTest.minFaultMicros(on, 1);
    assertTrue(before < 20, "without costs a fault takes a few link round trips: " + before);
    assertTrue(after >= before + 20, "the 20 µs batch cost shows: " + after + " vs " + before);
  }

  @Test
  void oneHundredSeedsBothArmsWithCostsNoViolationNoLostIncrementAndReplay() {
    long first = 0;
    for (long seed = 1; seed <= 100; seed++) {
      for (boolean kernel : new boolean[] {true, false}) {
        SimExperiment.Result r = run(seed, kernel, SimDemoTest.SMALL, HostCost.DEFAULTS, null);
        assertTrue(r.finished(), "seed " + seed + " " + r.name() + ": " + r.liveness());
        assertTrue(r.violations().isEmpty(), "seed " + seed + " " + r.name() + ": " + r.violations());
        assertEquals(r.expectedValue(), r.finalValue(), "seed " + seed + " " + r.name() + ": no lost increment");
        assertTrue(r.checkerCaughtUp(), "seed " + seed + " " + r.name());
        if (seed == 1 && kernel) first = r.traceHash();
      }
    }
    assertEquals(TraceHash.hex(first), TraceHash.hex(run(1, true, SimDemoTest.SMALL, HostCost.DEFAULTS, null).traceHash()));
  }
}
