package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.ModelSwitches;
import org.junit.jupiter.api.Test;

/** The headline workload in the simulator: replays bit for bit, and many seeds show no violation, no lost increment. */
class SimDemoTest {
  static final SimExperiment.Workload SMALL = new SimExperiment.Workload(2, 2, 3, 2, 8, 4, 2, 1, false);
  /**
   * The driver deadline of these tests (model µs): 0.5 ms instead of HMM_RANGE_DEFAULT_TIMEOUT's 1000 ms, so that a
   * §8 R7 spin to the deadline costs ~10^2 loop iterations instead of ~10^5 and 200 runs fit in a unit test.
   */
  static final long TEST_DEADLINE_MICROS = 500;

  static SimExperiment.Result run(long seed, boolean kernel, SimExperiment.Workload w) {
    return run(seed, kernel, w, true, 60_000_000L);
  }

  static SimExperiment.Result run(long seed, boolean kernel, SimExperiment.Workload w, boolean check, long maxMicros) {
    SimExperiment.Workload ws = new SimExperiment.Workload(w.gpuNodes(), w.warpsPerDevice(), w.opsPerWarp(),
        w.cpuThreads(), w.opsPerThread(), w.counters(), w.counterPages(), seed, w.cpuSpin());
    SimConfig c = SimConfig.of(seed, w.gpuNodes(),
        ModelSwitches.kernel().withFolioLockUntilMapped(kernel).withDriverDeadlineMicros(TEST_DEADLINE_MICROS));
    if (!check) c = c.withoutChecker();
    return SimExperiment.run(kernel ? "kernel" : "early-unlock", c, ws, maxMicros, 50_000_000L);
  }

  @Test
  void oneSeedReplaysToTheSameTraceHash() {
    SimExperiment.Result a = run(42, true, SMALL);
    SimExperiment.Result b = run(42, true, SMALL);
    assertTrue(a.traceEvents() > 100, "the run made trace events: " + a.traceEvents());
    assertEquals(TraceHash.hex(a.traceHash()), TraceHash.hex(b.traceHash()), "same seed, same trace");
    assertEquals(a.traceEvents(), b.traceEvents());
    SimExperiment.Result c = run(43, true, SMALL);
    assertTrue(c.traceHash() != a.traceHash(), "another seed, another trace");
  }

  @Test
  void twoHundredSeedsBothArmsNoViolationNoLostIncrement() {
    for (long seed = 1; seed <= 100; seed++) {
      for (boolean kernel : new boolean[] {true, false}) {
        SimExperiment.Result r = run(seed, kernel, SMALL);
        assertTrue(r.finished(), "seed " + seed + " " + r.name() + ": every lane finished");
        assertTrue(r.violations().isEmpty(), "seed " + seed + " " + r.name() + ": " + r.violations());
        assertEquals(r.expectedValue(), r.finalValue(), "seed " + seed + " " + r.name() + ": no lost increment");
        assertTrue(r.checkerCaughtUp(), "seed " + seed + " " + r.name() + ": the checker judged every event");
      }
    }
  }

  @Test
  void theC10LockCycleIsReportedAsADeadlockNamingTheWaitingLanes() {
    SimExperiment.Workload w = new SimExperiment.Workload(1, 2, 3, 2, 8, 4, 2, 7, false);
    String found = null;
    for (long seed = 1; seed <= 20 && found == null; seed++) {
      SimConfig c = SimConfig.of(seed, 1, ModelSwitches.kernel().withDriverLockAcrossConversion(true)
          .withDriverDeadlineMicros(TEST_DEADLINE_MICROS));
      SimExperiment.Result r = SimExperiment.run("c10", c, w, 60_000_000L, 50_000_000L);
      if (!r.finished()) found = r.liveness();
    }
    assertTrue(found != null, "some seed deadlocks with the driver lock held across conversion (C10)");
    assertTrue(found.startsWith("deadlock"), found);
    assertTrue(found.contains("waits for"), "names the lock and what its holder waits for: " + found);
  }

  /** Not a test: {@code java -cp ... hmmemu.sim.SimDemoTest [seed] [opsPerThread] [opsPerWarp]} prints figures. */
  public static void main(String[] args) {
    long seed = args.length > 0 ? Long.parseLong(args[0]) : 1;
    int opsT = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    int opsW = args.length > 2 ? Integer.parseInt(args[2]) : 4;
    SimExperiment.Workload w = new SimExperiment.Workload(2, 2, opsW, 2, opsT, 4, 2, seed, false);
    boolean check = !(args.length > 3 && args[3].equals("nocheck"));
    long maxMicros = args.length > 4 ? Long.parseLong(args[4]) : 60_000_000L;
    for (int i = 0; i < 5; i++) {
      for (boolean kernel : new boolean[] {true, false}) {
        SimExperiment.Result r = run(seed, kernel, w, check, maxMicros);
        double s = r.wallNanos() / 1e9;
        System.out.printf("%s seed %d: cpu %d gpu %d cancl %d final %d/%d timeouts %d viol %d modelµs %d"
                + " fin %s trace %d (%.0f/s) msgs %d (%.0f/s) hash %s wall %.3fs%n", r.name(), seed, r.cpuAtomics(),
            r.gpuAtomics(), r.gpuCancelled(), r.finalValue(), r.expectedValue(), r.driverTimeouts(),
            r.violations().size(), r.modelMicros(), r.finished(), r.traceEvents(), r.traceEvents() / s, r.messages(),
            r.messages() / s, TraceHash.hex(r.traceHash()), s);
      }
    }
  }
}
