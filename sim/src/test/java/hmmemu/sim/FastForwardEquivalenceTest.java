package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.node.cost.HostCost;
import hmmemu.node.link.FaultSchedule;
import hmmemu.protocol.model.ModelSwitches;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fast-forward's jump against the unskipped run: a deadline spin (nouveau_atomic_range_fault spinning to its
 * deadline, docs/PROTOCOL.md §8 R7) fast-forwarded and simulated round by round give the same verdict, the same
 * figures (driver iterations, cancels, timeouts, latencies, model time, events incl. skipped ones) and the same final
 * state picture up to the identity families ({@link FastForwardSites#IDENTITY}) and the report-only ring; a leaf ahead (a
 * fault-schedule instant) stops a jump before it.
 */
class FastForwardEquivalenceTest {
  /** A deadline long enough for the checker's rings of 4,096 ids to fill inside one spin (~11 µs a round). */
  private static final long DEADLINE_MICROS = 60_000;

  private record Run(SimExperiment.Result result, Sim sim, FastForward ff) {}

  private static Run run(long seed, int gpus, boolean fastForward, FaultSchedule faults) {
    return run(seed, gpus, fastForward, faults, 0);
  }

  private static Run run(long seed, int gpus, boolean fastForward, FaultSchedule faults, long thinkMicros) {
    return run(seed, gpus, fastForward, faults, thinkMicros, s -> { });
  }

  private static Run run(long seed, int gpus, boolean fastForward, FaultSchedule faults, long thinkMicros,
      java.util.function.Consumer<Sim> setUp) {
    return run(seed, gpus, fastForward, faults, thinkMicros, setUp, DEADLINE_MICROS, 1.0);
  }

  private static Run run(long seed, int gpus, boolean fastForward, FaultSchedule faults, long thinkMicros,
      java.util.function.Consumer<Sim> setUp, long deadlineMicros, double hopMicros) {
    SimConfig c = new SimConfig(seed, gpus, 1, ModelSwitches.kernel().withDriverDeadlineMicros(deadlineMicros),
        hmmemu.cpu.core.CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS, SimLongHopArmsTest.hop(hopMicros), 1.0, true, HostCost.DEFAULTS);
    Sim[] sim = new Sim[1];
    FastForward[] ff = new FastForward[1];
    SimExperiment.Result r = SimExperiment.run("kernel", c, new SimExperiment.Workload(gpus, 2, 2, 1, 20, 4, 2, seed, false).withCpuThink(thinkMicros),
        3_600_000_000L, Long.MAX_VALUE, null, faults, s -> {
          sim[0] = s;
          if (fastForward) ff[0] = s.fastForward();
          else s.noFastForward();
          setUp.accept(s);
        });
    return new Run(r, sim[0], ff[0]);
  }

  /** Every figure of the two results but the trace hash (a jump is folded into it) and the wall time. */
  static void sameFigures(SimExperiment.Result a, SimExperiment.Result b, String what) {
    assertEquals(a.ok(), b.ok(), what + ": verdict");
    assertEquals(a.violations(), b.violations(), what + ": violations");
    assertEquals(a.liveness(), b.liveness(), what + ": liveness");
    assertEquals(a.cpuAtomics(), b.cpuAtomics(), what + ": CPU atomics");
    assertEquals(a.gpuAtomics(), b.gpuAtomics(), what + ": GPU atomics");
    assertEquals(a.gpuCancelled(), b.gpuCancelled(), what + ": cancels");
    assertEquals(a.finalValue(), b.finalValue(), what + ": final value");
    assertEquals(a.driverIterations(), b.driverIterations(), what + ": driver iterations");
    assertEquals(a.driverIterationsMax(), b.driverIterationsMax(), what + ": longest loop");
    assertEquals(a.driverTimeouts(), b.driverTimeouts(), what + ": timeouts");
    assertEquals(a.invalidations(), b.invalidations(), what + ": invalidations");
    assertEquals(a.faultRounds(), b.faultRounds(), what + ": fault rounds");
    assertEquals(a.gpuLatency(), b.gpuLatency(), what + ": GPU latencies");
    assertEquals(a.cpuLatency(), b.cpuLatency(), what + ": CPU latencies");
    assertEquals(a.modelMicros(), b.modelMicros(), what + ": model time");
    assertEquals(a.traceEvents(), b.traceEvents(), what + ": trace events");
    assertEquals(a.eventsChecked(), b.eventsChecked(), what + ": events checked");
    assertEquals(a.messages(), b.messages(), what + ": messages");
    assertEquals(a.linkStats(), b.linkStats(), what + ": link counters");
    assertEquals(a.faultLog(), b.faultLog(), what + ": fault log");
  }

  /** The final state pictures agree leaf for leaf, but for the identity families and the report-only ring. */
  static void sameState(Sim a, Sim b, String what) {
    StateWalk x = StateWalk.of(a), y = StateWalk.of(b);
    if (x.leaves.size() != y.leaves.size()) {
      assertEquals(x.leaves.size(), y.leaves.size(), what + ": the state's shape: " + FastForward.differences(a, b));
    }
    int compared = 0;
    java.util.Map<String, String> differ = new java.util.TreeMap<>();
    StateWalk named = null;
    for (int i = 0; i < x.leaves.size(); i++) {
      StateWalk.Leaf p = x.leaves.get(i), q = y.leaves.get(i);
      assertEquals(p.where(), q.where(), what + ": leaf " + i + " where");
      if (FastForwardSites.identity(p.site()) || FastForwardSites.REPORT_ONLY.containsKey(p.site())) continue;
      if (p.value() != q.value() && !differ.containsKey(p.site())) {
        if (named == null) named = StateWalk.of(a, true);
        differ.put(p.site(), named.leaves.get(i).path() + " is " + p.value() + " unskipped, " + q.value() + " fast-forwarded");
      }
      compared++;
    }
    assertTrue(differ.isEmpty(), what + ": leaves that differ: " + differ);
    assertTrue(compared > 1000, what + ": compared " + compared + " leaves");
  }

  @Test
  void oneGpuNodeFastForwardedAsSimulated() {
    for (long seed : new long[] {42, 45}) {
      Run plain = run(seed, 1, false, null), ff = run(seed, 1, true, null);
      String what = "1 GPU node, seed " + seed;
      assertTrue(plain.result().driverTimeouts() > 0, what + ": the workload spins to its deadline");
      assertFalse(ff.ff().jumps().isEmpty(), what + ": a spin was jumped (refusals: " + ff.ff().refusals() + ")");
      sameFigures(plain.result(), ff.result(), what);
      sameState(plain.sim(), ff.sim(), what);
    }
  }

  /**
   * Two GPU nodes (issue 12): their spins meet ~12 ties a round, ordered by {@link TieRule} (a per-seed priority,
   * then first scheduled first), so a round's order repeats and the spins are jumped; at each seed (-Dprobe.seeds,
   * default 42,49) the jumped run has the unskipped run's figures and final state.
   */
  @Test
  void twoGpuNodesFastForwardedAsSimulated() {
    long jumped = 0;
    for (String sd : System.getProperty("probe.seeds", "42,49").split(",")) {
      long seed = Long.parseLong(sd.trim());
      Run plain = run(seed, 2, false, null), ff = run(seed, 2, true, null);
      String what = "2 GPU nodes, seed " + seed + " (" + ff.ff().jumps().size() + " jumps, " + ff.ff().skippedRounds()
          + " rounds skipped, " + ff.ff().spinsJumped() + " of " + ff.ff().spins() + " spins)";
      System.out.println(what + "; refusals " + ff.ff().refusals());
      assertTrue(plain.result().driverTimeouts() > 0, what + ": the workload spins to its deadline");
      sameFigures(plain.result(), ff.result(), what);
      sameState(plain.sim(), ff.sim(), what);
      jumped += ff.ff().spinsJumped();
    }
    assertTrue(jumped > 0, "no two-GPU spin was jumped");
  }

  /**
   * The R9 grid's settings (docs/r9-sim.conf: a 10 ms deadline; two GPU nodes; hops of 1 µs and 0.5 µs): a spin is
   * ~690 or ~1,200 rounds, too few for a jump to refill the checker's 4,096-entry rings whole, so the jump refills
   * them partially (FastForwardRings.partialIds); at each seed (-Dprobe.r9Seeds) the jumped run has the unskipped
   * run's figures and final state, and some spin is jumped. Fails with -Dhmm.ff.fullRings=true (no partial refill).
   */
  @Test
  void r9SpinsJumpedWithAPartialRingRefill() {
    long jumped = 0;
    for (double hop : new double[] {1.0, 0.5}) {
      for (String sd : System.getProperty("probe.r9Seeds", "42,43,44").split(",")) {
        long seed = Long.parseLong(sd.trim());
        Run plain = run(seed, 2, false, null, 0, s -> { }, 10_000, hop), ff = run(seed, 2, true, null, 0, s -> { }, 10_000, hop);
        String what = "R9, 2 GPU nodes, hop " + hop + " µs, seed " + seed + " (" + ff.ff().jumps().size() + " jumps, "
            + ff.ff().skippedRounds() + " rounds skipped, " + ff.ff().spinsJumped() + " of " + ff.ff().spins() + " spins)";
        System.out.println(what + "; refusals " + ff.ff().refusals());
        assertTrue(plain.result().driverTimeouts() > 0, what + ": the workload spins to its deadline");
        sameFigures(plain.result(), ff.result(), what);
        sameState(plain.sim(), ff.sim(), what);
        jumped += ff.ff().spinsJumped();
      }
    }
    assertTrue(jumped > 0, "no R9 spin was jumped");
  }

  private static final String TOO_CLOSE = "a leaf ahead (deadline, lease, wake, fault, the run's bounds) is too close";

  @Test
  void aFaultInstantAheadStopsTheJumpBeforeIt() {
    // a 1 µs pause of the GPU node in the middle of where the run without faults jumps
    FastForward.Jump free = run(42, 1, true, null).ff().jumps().get(0);
    long at = (free.atNanos() + free.nanos() / 2) / 1000;
    FaultSchedule f = FaultSchedule.parse("at " + at + "us pause gpu1 for 1us");
    Run plain = run(42, 1, false, f), ff = run(42, 1, true, f);
    String what = "1 GPU node, a pause at " + at + " µs after the set-up";
    sameFigures(plain.result(), ff.result(), what);
    sameState(plain.sim(), ff.sim(), what);
    long pauseNanos = -1;
    for (String line : ff.result().faultLog()) {
      if (line.contains("pause")) {
        pauseNanos = Long.parseLong(line.substring(0, line.indexOf(' '))) * 1000;
        break;
      }
    }
    assertTrue(pauseNanos > free.atNanos() && pauseNanos < free.atNanos() + free.nanos(),
        "the pause lies where the run without it jumped: " + ff.result().faultLog() + " " + free);
    List<String> crossing = new ArrayList<>();
    for (FastForward.Jump j : ff.ff().jumps()) {
      if (j.atNanos() < pauseNanos && j.atNanos() + j.nanos() >= pauseNanos - 1000) crossing.add(j.toString());
    }
    assertTrue(crossing.isEmpty(), what + ": jumps that reach the pause at " + pauseNanos + " ns: " + crossing);
    assertTrue(!ff.ff().jumps().isEmpty() || ff.ff().refusals().containsKey(TOO_CLOSE),
        what + ": the pause shortened or refused the jump: " + ff.ff().jumps() + " " + ff.ff().refusals());
  }

  @Test
  void aThinkingCpuThreadsWakeBoundsTheJump() {
    // The CPU thread thinks 2 ms between increments. Session 8 asserted that every jump is shorter than the think
    // (a wake in every window); that held only because a vector clock entry (Sim#controllerVc, 54,815) was taken for
    // an instant in µs and refused every jump (-Dhmm.ff.anyBound=true shows it): during the GPU's spin the CPU thread
    // has no wake pending. What must hold: no jump skips an access of the CPU thread (a CpuFaulted of the unskipped
    // run), and the figures and the state are those of the unskipped run.
    // both runs carry the same listener (it is part of their pictures): the lists must agree as well
    List<Long> cpuFaults = new ArrayList<>(), cpuFaultsJumped = new ArrayList<>();
    Run plain = run(42, 1, false, null, 2_000, s -> s.onTrace(st -> {
      if (st.event() instanceof hmmemu.protocol.trace.Trace.CpuFaulted) cpuFaults.add(st.atMicros() * 1000);
    }));
    Run ff = run(42, 1, true, null, 2_000, s -> s.onTrace(st -> {
      if (st.event() instanceof hmmemu.protocol.trace.Trace.CpuFaulted) cpuFaultsJumped.add(st.atMicros() * 1000);
    }));
    String what = "1 GPU node, CPU think 2 ms";
    System.out.println("think: jumps " + ff.ff().jumps() + " bounded by " + ff.ff().boundedBy + ", too close: "
        + ff.ff().tooClose + "; CPU faults of the unskipped run: " + cpuFaults.size());
    sameFigures(plain.result(), ff.result(), what);
    sameState(plain.sim(), ff.sim(), what);
    assertFalse(cpuFaults.isEmpty(), what + ": the CPU thread faults");
    assertEquals(cpuFaults, cpuFaultsJumped, what + ": the CPU thread's faults");
    for (FastForward.Jump j : ff.ff().jumps()) {
      for (long t : cpuFaults) {
        assertFalse(t > j.atNanos() && t < j.atNanos() + j.nanos(), what + ": a jump over a CPU thread's fault at "
            + t + " ns: " + j);
      }
    }
  }

  /**
   * The demo's shape (two GPU nodes, a CPU thread that thinks between increments): its wakes bound the jumps, and
   * after a jump the next look comes soon after the wake (session 17, demoff), not after the streak doubled, so a spin
   * is jumped between several wakes; the figures and the final state are the unskipped run's.
   */
  @Test
  void jumpedAgainAfterEachWakeThatBoundedAJump() {
    long think = Long.getLong("probe.think", 10_000);
    Run plain = run(42, 2, false, null, think), ff = run(42, 2, true, null, think);
    String what = "2 GPU nodes, CPU think " + think + " µs (" + ff.ff().jumps().size() + " jumps, "
        + ff.ff().skippedRounds() + " rounds skipped, " + ff.ff().spinsJumped() + " of " + ff.ff().spins() + " spins)";
    System.out.println(what + "; bounded by " + ff.ff().boundedBy + "; refusals " + ff.ff().refusals());
    sameFigures(plain.result(), ff.result(), what);
    sameState(plain.sim(), ff.sim(), what);
    long byAWake = ff.ff().boundedBy.stream().filter(b -> b.startsWith("hmmemu.sim.EventQueue") || b.contains("Wake")).count();
    // seed 42: 18 jumps, each bounded by the next wake, 10,350 rounds (12 and 7,350 with the step of n doubled for an
    // odd seq even when already even); the rule before (the next look after the streak doubled) skipped wake
    // intervals: 8 jumps, 3,950 rounds
    assertTrue(byAWake >= 10, what + ": jumped again after each wake that bounded a jump: bounded by " + ff.ff().boundedBy);
  }
}
