package hmmemu.sim;

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

  /** The refusal for a choice point met in the observed periods. */
  static final String CHOSE = "a scheduler chose at a choice point in the observed periods";

  /**
   * Why a jump of {@code sim}'s spin is refused because of its scheduler, or null (no scheduler, or one not asked
   * since the look's first observed boundary, where the run had met {@code pointsObservedFrom} choice points).
   */
  static String refusal(Sim sim, long pointsObservedFrom) {
    if (sim.scheduler() == null) return null;
    return sim.choicePoints() == pointsObservedFrom ? null : CHOSE;
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
