package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.node.cost.HostCost;
import hmmemu.node.link.FaultSchedule;
import hmmemu.protocol.model.ModelSwitches;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link ScheduledJump}'s rule against the unskipped run: a deadline spin (nouveau_atomic_range_fault spinning to its
 * deadline, docs/PROTOCOL.md §8 R7) of a run that a {@link Scheduler} drives, with choice points before the spin, is
 * jumped, and the run meets the same choice points (how many, when, what was enabled, what was taken) with the same
 * figures and final state as simulated round by round; under a delay bound an agenda event that does not move (a
 * fault-schedule instant) bounds the jump so that the rounds where it becomes a choice are simulated; a state key
 * asked for after such a jump throws. Emulator-only test of a host mechanism.
 */
class ScheduledJumpTest {
  /** A deadline long enough for a jump (as FastForwardEquivalenceTest's). */
  private static final long DEADLINE_MICROS = 60_000;

  /** One run: its result, simulator, fast-forward (null when off), its choice points, and per point the jumps made. */
  private record Run(SimExperiment.Result result, Sim sim, FastForward ff, List<String> points, List<Integer> jumpsAt) {}

  /**
   * Seed 42, one GPU node, FastForwardEquivalenceTest's workload, under a scheduler bound by {@code maxDelayNanos}
   * that takes the last enabled event at its first {@code deviate} choice points, then the earliest; with {@code
   * keys}, it asks for the state key at every point.
   */
  private static Run run(boolean fastForward, FaultSchedule faults, long maxDelayNanos, int deviate, boolean keys) {
    SimConfig c = new SimConfig(42, 1, 1, ModelSwitches.kernel().withDriverDeadlineMicros(DEADLINE_MICROS),
        hmmemu.cpu.core.CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS, SimLongHopArmsTest.hop(1.0), 1.0, true, HostCost.DEFAULTS);
    List<String> points = new ArrayList<>();
    List<Integer> jumpsAt = new ArrayList<>();
    Sim[] sim = new Sim[1];
    Scheduler s = new Scheduler() {
      @Override
      public int choose(Sim at, Enabled e) {
        StringBuilder b = new StringBuilder().append(at.choicePoints()).append(" at ").append(at.nowNanos()).append(':');
        for (int i = 0; i < e.size(); i++) b.append(' ').append(e.atNanos(i)).append(e.link(i) == null ? "" : " " + e.link(i));
        if (keys) b.append(" key ").append(at.stateKey());
        int taken = points.size() < deviate ? e.size() - 1 : 0;
        points.add(b.append(" -> ").append(taken).toString());
        jumpsAt.add(at.fastForwardOrNull() == null ? 0 : at.fastForwardOrNull().jumps().size());
        return taken;
      }

      @Override
      public long maxDelayNanos() { return maxDelayNanos; }
    };
    SimExperiment.Result r = SimExperiment.run("kernel", c, new SimExperiment.Workload(1, 2, 2, 1, 20, 4, 2, 42, false),
        3_600_000_000L, Long.MAX_VALUE, null, faults, x -> {
          sim[0] = x;
          if (fastForward) x.fastForward();
          else x.noFastForward();
          x.keepStateKey(keys);
          x.scheduler(s);
        });
    return new Run(r, sim[0], sim[0].fastForwardOrNull(), points, jumpsAt);
  }

  private static void same(Run plain, Run ff, String what) {
    assertEquals(plain.points().size(), ff.points().size(), what + ": choice points");
    assertEquals(plain.points(), ff.points(), what + ": the choice points, their enabled events and the choices");
    FastForwardEquivalenceTest.sameFigures(plain.result(), ff.result(), what);
    FastForwardEquivalenceTest.sameState(plain.sim(), ff.sim(), what);
  }

  /**
   * Choice points before the spin (some deviating), none in it: the spin is jumped (the rule before session 17
   * refused it) and the run is the unskipped run. Fails with {@code ScheduledJump.refusal} answering
   * {@link ScheduledJump#CHOSE} whenever the run met a choice point (no jump).
   */
  @Test
  void aSpinAfterChoicePointsIsJumpedExactly() {
    Run plain = run(false, null, DelayBound.UNBOUNDED, 3, false), ff = run(true, null, DelayBound.UNBOUNDED, 3, false);
    String what = "choice points before the spin (" + ff.points().size() + "), jumps " + ff.ff().jumps() + ", refusals "
        + ff.ff().refusals();
    System.out.println("scheduledJump: " + what);
    same(plain, ff, what);
    assertTrue(plain.result().driverTimeouts() > 0, what + ": the workload spins to its deadline");
    assertFalse(ff.points().isEmpty(), what + ": no choice point");
    assertFalse(ff.ff().jumps().isEmpty(), what + ": the spin was not jumped");
  }

  /**
   * A delay bound D and a fault-schedule instant T ahead of the spin (an agenda event that does not move): the spin's
   * rounds meet no choice point until they come within D of T, then every one does. The jump must stop D before T
   * (ScheduledJump#delayBound), so those rounds are simulated. Fails with the bound at T (FastForward's bound for an
   * agenda event without {@code delayBound}): the jumped run then skips the rounds where T became a choice.
   */
  @Test
  void underADelayBoundAFixedEventAheadBoundsTheJumpByTheBound() {
    FastForward.Jump free = run(true, null, DelayBound.UNBOUNDED, 3, false).ff().jumps().get(0);
    long at = (free.atNanos() + free.nanos() / 2) / 1000;
    FaultSchedule f = FaultSchedule.parse("at " + at + "us pause gpu1 for 1us");
    // 8 ms (~720 rounds of 11 µs): more than the jump's step (n x P a multiple of 1 µs: 500 periods, ~5.5 ms here)
    long d = 8_000_000;
    Run plain = run(false, f, d, 3, false), ff = run(true, f, d, 3, false);
    String what = "a pause at " + at + " µs, delay bound 8 ms: jumps " + ff.ff().jumps() + ", refusals "
        + ff.ff().refusals() + ", " + ff.points().size() + " choice points";
    System.out.println("scheduledJump: " + what);
    same(plain, ff, what);
    assertFalse(ff.ff().jumps().isEmpty(), what + ": nothing was jumped");
    assertTrue(ff.jumpsAt().get(0) == 0 && ff.jumpsAt().get(ff.jumpsAt().size() - 1) > 0,
        what + ": expected choice points before the first jump and after it");
  }

  /**
   * Unbounded delay and a fault-schedule instant far past the spins (1 s): it is enabled beside every spin round, so
   * every round is a choice point (the scheduler takes the spin's event, index 0): no jump may skip them, and none
   * does (the rule's refusal). Fails with {@code ScheduledJump.refusal} answering null and FastForward's cheap check
   * of the choice-point count off (a jump over rounds that are choice points).
   */
  @Test
  void aSpinWhoseRoundsAreChoicePointsIsNotJumped() {
    FaultSchedule f = FaultSchedule.parse("at 1000000us pause gpu1 for 1us");
    // the seeded choice at every point (a deviation here could take the pause itself, at 1 s)
    Run plain = run(false, f, DelayBound.UNBOUNDED, 0, false), ff = run(true, f, DelayBound.UNBOUNDED, 0, false);
    String what = "a pause at 1 s, unbounded: jumps " + ff.ff().jumps() + ", refusals " + ff.ff().refusals() + ", "
        + ff.points().size() + " choice points";
    System.out.println("scheduledJump: " + what);
    same(plain, ff, what);
    assertTrue(plain.result().driverTimeouts() > 0, what + ": the workload spins to its deadline");
    assertTrue(ff.points().size() > 10_000, what + ": expected the spin's rounds to be choice points");
    assertTrue(ff.ff().jumps().isEmpty() && ff.ff().refusals().containsKey(ScheduledJump.CHOSE), what);
  }

  /** The same run asking for the state key at each choice point: after the jump that followed choice points, it throws. */
  @Test
  void aStateKeyAfterAJumpThatFollowedChoicePointsThrows() {
    FastForward.Jump free = run(true, null, DelayBound.UNBOUNDED, 3, false).ff().jumps().get(0);
    FaultSchedule f = FaultSchedule.parse("at " + (free.atNanos() + free.nanos() / 2) / 1000 + "us pause gpu1 for 1us");
    run(false, f, 8_000_000, 3, true); // unskipped: every key can be read
    ScheduledJump.KeyAfterJump e = assertThrows(ScheduledJump.KeyAfterJump.class, () -> run(true, f, 8_000_000, 3, true));
    assertTrue(e.getMessage().contains("without --fast-forward"), e.getMessage());
  }
}
