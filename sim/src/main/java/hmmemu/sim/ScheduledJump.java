package hmmemu.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * When {@link FastForward} may jump a deadline spin of a run that a {@link Scheduler} drives (issue 13: {@code hmm-emu
 * explore} of the deadline spinners). Emulator-only host mechanism, not a kernel structure.
 *
 * <p>The rule: the run met no choice point in the periods the look observed ({@link Sim#choicePoints} did not move
 * from the first picture's boundary to the last one's, {@link #refusal}); choice points before them do not matter.
 * The count includes the choice points a host offers the scheduler itself ({@link Sim#offered}: a concurrent block's
 * draws, which the rule before session 17 missed when it asked for none at all).
 * Then the scheduler is not asked in the skipped rounds either, and nothing it decides is skipped:
 * <ul>
 *   <li>Whether a round meets a choice point is decided by the simulated state the pictures compare: a choice point
 *       needs two enabled sources, events due by the run bound {@code untilNanos} (with the scheduler's delay bound
 *       D, due by the earliest + D; {@link Choices#pick}). The observed periods had none, and the pictures showed
 *       the agenda move by P a period (an event that does not move bounds the jump before it). So each skipped round
 *       meets the observed rounds' agenda, shifted by k x P. Against the fixed {@code untilNanos} a shifted event can
 *       only leave the enabled set, never join it, and the moving events keep their distances. An agenda event that
 *       does not move comes closer to the moving ones: under a delay bound D it could become allowed, so it bounds the
 *       jump D earlier ({@link #delayBound}); unbounded, it was enabled in the observed rounds already (if due by
 *       {@code untilNanos}), which then met choice points. So every skipped pick has at most one source, as the
 *       observed picks had.</li>
 *   <li>With at most one source, {@link Choices#pick} takes the agenda's minimum: the skipped rounds are the seeded
 *       run's from the same state, which the fast-forward reproduces exactly (FastForwardSpinnerTest). Ties are
 *       counted as without a scheduler ({@link FastForward#polled}). The look itself only reads the state: it asks
 *       the scheduler nothing.</li>
 *   <li>Nothing of the strategy moves in the skipped rounds: no choice index (the run's recorded choices, PCT's step
 *       counter and its change points count choice points; the next run's length estimate is a count of them), no
 *       random draw (random draws one per choice point, PCT one per new source at a choice point), no state key
 *       ({@link Sim#stateKey} is read only at choice points). A choice point before the jump was decided, recorded
 *       and keyed exactly as without it.</li>
 *   <li>The state keys after the jump: the inputs of the skipped rounds are not folded into the nodes' input hashes,
 *       and the identity families stay where they are, so a key after the jump is not the unskipped run's key. With
 *       no choice point before the jump, every run of an exploration has the same prefix up to the jump and jumps
 *       there alike, so the keys after it are the unskipped keys under one injective relabelling shared by all runs:
 *       equal stays equal, distinct stays distinct, and the distinct-state counts and exhaustive search's pruning are
 *       the same. After a choice point runs differ before the jump (in timing too, which the key leaves out), so
 *       they may jump at different rounds or by different n: their keys after the jump are not comparable. Such a
 *       run's keys must not be read after its jump: {@link Sim#stateKey} then throws {@link KeyAfterJump} and stops
 *       the exploration rather than key it ({@link #keysIncomparable}); a run whose choice points all come before
 *       its spin (c12) never asks. (Its choices after the jump would be exact: a fresh source id after the jump,
 *       {@code Sim#scheduled} an identity family, is still fresh, so PCT draws for it as unjumped; only the key is
 *       not.)</li>
 * </ul>
 * <p>Since session 19 (xspin2) a jump may also skip choice points, when the scheduler promises that its decisions
 * repeat ({@link Scheduler#repeats}): PCT with no state key (ExploreEveryFileTest's runs). The rule, on top of the
 * fast-forward's own (the pictures repeat, shifted by P a period, no draw of the run's random source):
 * <ul>
 *   <li>Each observed period met the same number k of choice points ({@link #refusal}: the marks' counts at the
 *       period boundaries), and the scheduler saw the same choice points in each: at each of the k positions the same
 *       enabled count, the same sources in the same order, the same kind, and it took the same index (ScheduleRun
 *       keeps the last points' signatures and compares them); none was a host's own draw (a concurrent block).</li>
 *   <li>The scheduler's answer is a function of the enabled sources that nothing in the observed periods changed:
 *       PCT takes the enabled source of highest priority; a priority changes only when a new source is met (a draw)
 *       or at a change point (point index >= changeAt). The observed periods drew nothing and met no change point
 *       (ScheduleRun compares PCT's epoch, draws plus changes, across them), so the priorities of every source they
 *       offered are fixed; {@link Scheduler#repeats} answers how many more points come before PCT's next change point,
 *       and the jump skips at most that many ({@link #maxPeriods}: n x k of them). No state key is folded or read
 *       (the run keeps none, {@link Sim#keepStateKey}); random search (a draw per point) and exhaustive search (a key
 *       per point, and it backtracks into the points) keep refusing, as does any run that keys.</li>
 *   <li>The skipped rounds offer the scheduler the observed rounds' choice points. By induction over the skipped
 *       periods: a period starts in the observed boundary's state shifted by j x P (the pictures; identity families
 *       relabelled), and the scheduler decides its points as in the last observed period, so it ends in the next
 *       shifted state. The enabled set at a point is, per source, the earliest event due by {@code untilNanos} (and,
 *       under a delay bound D, due by the earliest + D), in the order (time, tie): it is the observed one as long as
 *       no event that moves (by P a period) crosses an instant that does not: {@code untilNanos + 1}, an event that
 *       does not move (order), and under D that event's instant - D and + D + 1 (which of the two is allowed when the
 *       other is the earliest). {@link #maxPeriods} bounds n so that no moving agenda event, nor the events a
 *       skipped period makes and fires (due in [now, now + n x P]), reaches one of them. Moving events keep their
 *       distances and events that do not move keep theirs. The sources themselves: a lane's key is stable, an event
 *       that stays pending keeps its id, and an event made in a period gets a fresh id (Sim#scheduled), which PCT
 *       would meet as a new source with a draw; the observed periods' sources are equal period to period and drew
 *       nothing, so no such event was offered in them, nor is in the skipped ones.</li>
 *   <li>The record: the simulator's count ({@link Sim#skippedChoicePoints}) and the scheduler's ({@link
 *       Scheduler#skipped}: ScheduleRun's count per kind, the taken indices for a failing schedule, the sources for
 *       the explorer's trie of runs) advance by n x k, as the unskipped run's would; PCT's next decision sees the
 *       point index the unskipped run gives it (its change points fire where they would). Fresh source ids after
 *       the jump are still fresh (the counter is an identity family), so PCT draws for them as unjumped.</li>
 * </ul>
 * ExploreSpinnersTest (scenario) compares explorations with and without the jump.
 */
final class ScheduledJump {
  private ScheduledJump() {}

  /**
   * The simulator's fields on the exploring side, left out of {@link StateWalk}'s pictures: the scheduler (a search's
   * strategy, its draws and its record of the run), the last pick ({@link Choices}: the picked event, already fired,
   * and the count of choice points) and the count of a host's own choice points (a concurrent block's draws). Under
   * {@link #refusal}'s rule the scheduler is not asked in the observed periods nor during a jump, so nothing of it
   * moves or enters the run there; the counts stay where they were.
   */
  static final java.util.Set<String> EXPLORING_SIDE = java.util.Set.of("hmmemu.sim.Sim#scheduler", "hmmemu.sim.Sim#choices",
      "hmmemu.sim.Sim#offered");

  /** The refusal for a choice point met in the observed periods whose decisions the scheduler does not repeat. */
  static final String CHOSE = "a scheduler chose at a choice point in the observed periods";

  /** The refusal for observed periods that met different numbers of choice points. */
  static final String UNEVEN = "the observed periods met different numbers of choice points";

  /** The choice points met by each boundary of the last {@code repeats} periods of {@code period} marks (FastForward's marks, [6]). */
  private static long[] boundaries(List<long[]> marks, int period, int repeats) {
    int m = marks.size() - 1;
    long[] b = new long[repeats + 1];
    for (int k = 0; k <= repeats; k++) b[k] = marks.get(m - (repeats - k) * period)[6];
    return b;
  }

  /**
   * Why a jump of {@code sim}'s spin is refused because of its scheduler, or null: no scheduler, none asked in the
   * last {@code repeats} periods of {@code period} marks ({@link FastForward}'s marks: [6] the choice points met by each
   * boundary), or one that met the same number in each and promises to repeat them ({@link Scheduler#repeats}).
   */
  static String refusal(Sim sim, List<long[]> marks, int period, int repeats) {
    Scheduler s = sim.scheduler();
    if (s == null) return null;
    long[] b = boundaries(marks, period, repeats);
    if (b[repeats] == b[0]) return null;
    for (int k = 2; k <= repeats; k++) if (b[k] - b[k - 1] != b[1] - b[0]) return UNEVEN;
    return s.repeats(repeats, b[repeats] - b[0]) >= 0 ? null : CHOSE;
  }

  /**
   * The most periods a jump may skip for the scheduler ({@link Long#MAX_VALUE}: no choice point observed, no bound):
   * the scheduler's promise ({@link Scheduler#repeats}) in whole periods, and no event that moves (by {@code pNanos}
   * a period, between the last two of {@code shots}) nor one a skipped period makes (due from now on) may reach an
   * instant that does not move: {@code untilNanos + 1}, an agenda event that does not move, and under a delay bound D
   * its instant - D and + D + 1 (the class comment). Called after {@link #refusal} allowed the jump.
   */
  static long maxPeriods(Sim sim, List<long[]> marks, int period, int repeats, List<StateWalk> shots, long untilNanos,
      long pNanos) {
    Scheduler s = sim.scheduler();
    if (s == null) return Long.MAX_VALUE;
    long[] b = boundaries(marks, period, repeats);
    long window = b[repeats] - b[0];
    if (window == 0) return Long.MAX_VALUE;
    long per = window / repeats;
    long promised = s.repeats(repeats, window);
    if (promised < 0) return 0;
    long n = promised == Long.MAX_VALUE ? Long.MAX_VALUE : promised / per;
    StateWalk last = shots.get(shots.size() - 1), before = shots.get(shots.size() - 2);
    long d = s.maxDelayNanos();
    long[] moving = new long[last.size() + 1];
    int mc = 0;
    moving[mc++] = sim.nowNanos(); // what a skipped period makes and fires is due in [now + j x P, now + (j+1) x P]
    List<Long> fixed = new ArrayList<>();
    for (int i = 0; i < last.size(); i++) {
      StateWalk.Leaf l = last.leaves.get(i);
      if (!(l.owner() instanceof EventQueue.Event) || !AT_NANOS.equals(l.site())) continue;
      long v = last.value(i), dv = v - before.value(i);
      if (v > untilNanos) continue; // never enabled: a moving one moves away, a fixed one stays out
      if (dv == pNanos) moving[mc++] = v;
      else if (dv == 0) fixed.add(v);
      else return 0; // the jump refuses such an agenda instant itself
    }
    List<Long> thresholds = new ArrayList<>();
    thresholds.add(untilNanos == Long.MAX_VALUE ? Long.MAX_VALUE : untilNanos + 1);
    for (long f : fixed) {
      thresholds.add(f);
      if (d >= 0) {
        thresholds.add(f - d);
        thresholds.add(f > Long.MAX_VALUE - d - 1 ? Long.MAX_VALUE : f + d + 1);
      }
    }
    for (long t : thresholds) {
      if (t == Long.MAX_VALUE) continue;
      for (int j = 0; j < mc; j++) {
        long v = moving[j];
        if (v <= t) n = Math.min(n, Math.max(0, Math.floorDiv(t - v - 1, pNanos)));
      }
    }
    return n;
  }

  /** What bounded a jump that {@link #maxPeriods} bounded (FastForward's diagnostics; it looks again past the bound). */
  static final String BY_SCHEDULER = "the scheduler's repeats (PCT's next change point, or a moving event reaching a fixed instant)";

  /** The site of an agenda event's instant in {@link StateWalk}'s pictures. */
  private static final String AT_NANOS = "hmmemu.sim.EventQueue$Event#atNanos";

  /**
   * A jump of {@code n} periods was made: the choice points of the observed periods ({@link #refusal}), k a period,
   * are counted n x k more times by the simulator and by the scheduler ({@link Scheduler#skipped}).
   */
  static void skipped(Sim sim, List<long[]> marks, int period, int repeats, long n) {
    Scheduler s = sim.scheduler();
    if (s == null) return;
    long[] b = boundaries(marks, period, repeats);
    long window = b[repeats] - b[0];
    if (window == 0) return;
    long per = window / repeats;
    sim.skippedChoicePoints(Math.multiplyExact(n, per));
    s.skipped(n, Math.toIntExact(per));
  }

  /** The scheduler's delay bound in ns ({@link DelayBound}), or {@link DelayBound#UNBOUNDED} (none, or no scheduler). */
  static long delayBound(Sim sim) {
    Scheduler s = sim.scheduler();
    return s == null ? DelayBound.UNBOUNDED : s.maxDelayNanos();
  }

  /**
   * Whether the jump just made leaves the run's later state keys incomparable with other runs' keys: the run had met
   * choice points before it (see the class comment). {@link Sim#stateKey} then throws {@link KeyAfterJump}.
   */
  static boolean keysIncomparable(Sim sim) { return sim.scheduler() != null && sim.choicePoints() > 0; }

  /**
   * A state key asked for after a jump in a run that had met choice points before it: it would not be comparable
   * with other runs' keys, so an exploration cannot go on exactly (an Error: no step and no run catches it).
   */
  public static final class KeyAfterJump extends Error {
    KeyAfterJump(long points) {
      super("fast-forward: a state key asked for at choice point " + points + ", after a jump of a spin that followed"
          + " choice points, would not be comparable with other runs' keys: explore this file without --fast-forward"
          + " (hmmemu.sim.ScheduledJump)");
    }
  }
}
