package hmmemu.cluster.scenario;

import java.util.List;

/**
 * The five targets of scenarios/explore (issue 13 item 5, docs/TESTING.md "Finding what we know without being told"):
 * each starting file, the strategy and budget that find its failure with {@link #SEED} (a margin over the schedules
 * measured), and the failure's kind. One list for the tests that explore them (it-tests' ExploreFilesTest, unbounded;
 * ExploreBoundedTargetsTest, with a delay bound). b runs random (63 schedules) rather than PCT (487): the same find
 * in less time; its kind is the busy-loop {@code livelock} of its {@code liveness} block (docs/SCENARIOS.md "Liveness
 * verdicts"). Emulator-only test data, not a kernel structure.
 */
public final class ExploreTargets {
  private ExploreTargets() {}

  /** A file of scenarios/explore, the strategy and budget that find its target, the target's kind. */
  public record Target(String file, Explorer.Strategy strategy, int budget, String kind) {}

  /** The seed of every exploration of the targets (with it, every file but e holds in the seeded order). */
  public static final long SEED = 2;

  /** The five targets, a to e. */
  public static final List<Target> TARGETS = List.of(
      new Target("a-skip-read-retry-i4.conf", Explorer.Strategy.PCT, 10, "violation"),
      new Target("b-no-folio-lock-progress.conf", Explorer.Strategy.RANDOM, 200, "livelock"),
      new Target("c-fork-enomem.conf", Explorer.Strategy.PCT, 100, "expectation"),
      new Target("d-dmirror-exclusive-dontneed.conf", Explorer.Strategy.PCT, 10, "violation"),
      new Target("e-two-gpu-re-exclusive.conf", Explorer.Strategy.PCT, 20, "expectation"));
}
