package hmmemu.cluster.scenario;

import java.util.List;

/**
 * The five targets of scenarios/explore (issue 13 item 5, docs/TESTING.md "Finding what we know without being told"):
 * each starting file, the strategy and budget that find its failure with {@link #SEED} (a margin over the schedules
 * measured), and the failure's kind. One list for the tests that explore them (it-tests' ExploreFilesTest, unbounded;
 * ExploreBoundedTargetsTest, with a delay bound). b runs random (46 schedules at seed 50) rather than PCT (124): the
 * same find in less time; its kind is the busy-loop {@code livelock} of its {@code liveness} block
 * (docs/SCENARIOS.md "Liveness verdicts"). Emulator-only test data, not a kernel structure.
 */
public final class ExploreTargets {
  private ExploreTargets() {}

  /** A file of scenarios/explore, the strategy and budget that find its target, the target's kind. */
  public record Target(String file, Explorer.Strategy strategy, int budget, String kind) {}

  /**
   * The seed of every exploration of the targets (with it, every file but e holds in the seeded order). 50 since ties
   * are ordered by TieRule (docs/ARCHITECTURE.md "Ties"; it was 2): the run's draws moved, and with seed 2 a's seeded
   * order fails (I4). Of seeds 1-60 only 8, 18, 20, 21, 23, 41, 50 and 54 keep a-d holding in the seeded order with e
   * failing; of those 23, 50 and 54 find every target within its budget, bounded and unbounded; 50 with the widest
   * margin on b (random: schedule 46 of 200).
   */
  public static final long SEED = 50;

  /** The five targets, a to e. */
  public static final List<Target> TARGETS = List.of(
      new Target("a-skip-read-retry-i4.conf", Explorer.Strategy.PCT, 10, "violation"),
      new Target("b-no-folio-lock-progress.conf", Explorer.Strategy.RANDOM, 200, "livelock"),
      new Target("c-fork-enomem.conf", Explorer.Strategy.PCT, 100, "expectation"),
      new Target("d-dmirror-exclusive-dontneed.conf", Explorer.Strategy.PCT, 10, "violation"),
      new Target("e-two-gpu-re-exclusive.conf", Explorer.Strategy.PCT, 20, "expectation"));
}
