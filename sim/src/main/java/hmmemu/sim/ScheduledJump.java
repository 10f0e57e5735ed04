package hmmemu.sim;

/**
 * When {@link FastForward} may jump a deadline spin of a run that a {@link Scheduler} drives (issue 13: {@code hmm-emu
 * explore} of the deadline spinners). Emulator-only host mechanism, not a kernel structure.
 *
 * <p>The rule: the run has met no choice point so far ({@link Sim#choicePoints} is 0). Then the scheduler was never
 * asked, and it is not asked in the skipped rounds either:
 * <ul>
 *   <li>A choice point needs two enabled sources: events due by the run bound {@code untilNanos}, within the
 *       scheduler's delay bound of the earliest ({@link Choices#pick}). The observed periods had none (the count is
 *       still 0), and the pictures showed the agenda move by P a period (an event that does not move bounds the jump
 *       before it). So each skipped round meets the observed rounds' agenda, shifted by k x P. Against the fixed
 *       {@code untilNanos} a shifted event can only leave the enabled set, never join it, and the delay bound is
 *       relative to the earliest. So every skipped pick has at most one source, as the observed picks had.</li>
 *   <li>With at most one source, {@link Choices#pick} takes the agenda's minimum: the run is the seeded run, which the
 *       fast-forward reproduces exactly (FastForwardSpinnerTest). Ties are counted as without a scheduler
 *       ({@link FastForward#polled}).</li>
 *   <li>Nothing of the strategy moves in the skipped rounds: no choice index (PCT's change points count choice
 *       points), no random draw (random draws one per choice point, PCT one per new source at a choice point), no
 *       state key ({@link Sim#stateKey} is read only at choice points).</li>
 *   <li>The state keys after the jump: the inputs of the skipped rounds are not folded into the nodes' input hashes,
 *       and the identity families stay where they are, so a key after the jump is not the unskipped run's key. With no
 *       choice point before the jump, every run of an exploration has the same prefix up to the jump and jumps
 *       there alike, so the keys after it are the unskipped keys under one injective relabelling shared by all runs:
 *       equal stays equal, distinct stays distinct, and the distinct-state counts and exhaustive search's pruning are
 *       the same. A choice point before the spin would break this (runs with different prefixes could jump at
 *       different rounds), hence the rule.</li>
 * </ul>
 * ExploreSpinnersTest (scenario) compares explorations with and without the jump.
 */
final class ScheduledJump {
  private ScheduledJump() {}

  /**
   * The simulator's fields on the exploring side, left out of {@link StateWalk}'s pictures: the scheduler (a search's
   * strategy, its draws and its record of the run) and the last pick ({@link Choices}: the picked event, already fired,
   * and the count of choice points). Under {@link #refusal}'s rule the scheduler is not asked before or during a jump,
   * so nothing of it moves or enters the run there; the count stays 0.
   */
  static final java.util.Set<String> EXPLORING_SIDE = java.util.Set.of("hmmemu.sim.Sim#scheduler", "hmmemu.sim.Sim#choices");

  /** Why a jump of {@code sim}'s spin is refused because of its scheduler, or null (no scheduler, or one not asked). */
  static String refusal(Sim sim) {
    if (sim.scheduler() == null) return null;
    return sim.choicePoints() == 0 ? null : "a scheduler chose at a choice point of this run";
  }
}
