package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Bounded-delay exploration ({@code hmm-emu explore --max-delay}, docs/TESTING.md "Bounded delay") still finds the
 * targets of scenarios/explore: with ExploreFilesTest's strategy, budget and seed (ExploreTargets.SEED), each
 * file's target kind is found with every event's delay bounded by 50 µs (measured: in the same schedule as
 * unbounded, ExploreFilesTest checks that; the files' races are between events due within a few µs of each other:
 * 1 µs links and controller hops). e's is found even with a bound of 0 (only simultaneous events reordered): its
 * seeded order already fails.
 */
class ExploreBoundedTargetsTest {
  static final Config BASE = ConfigFactory.load();
  static final Path EXPLORE = Path.of("..", "scenarios", "explore");
  static final long SEED = ExploreTargets.SEED;
  static final long BOUND = 50_000; // 50 µs

  /** The targets, as ExploreFilesTest explores them (one list: ExploreTargets). */
  static final List<ExploreTargets.Target> TARGETS = ExploreTargets.TARGETS;

  private static Explorer.Report explore(ExploreTargets.Target t, long bound) {
    Explorer x = new Explorer(ScenarioParser.parse(EXPLORE.resolve(t.file())), SEED, BASE).maxDelay(bound);
    return x.explore(t.strategy(), t.budget(), 0);
  }

  @TestFactory
  Stream<DynamicTest> eachTargetIsFoundWithA50MicrosecondBound() {
    return TARGETS.stream().map(t -> DynamicTest.dynamicTest(t.file() + " --max-delay 50us", () -> {
      Explorer.Report bounded = explore(t, BOUND);
      assertNotNull(bounded.failure(), t.file() + " --max-delay 50us: no failing schedule within " + t.budget());
      assertEquals(t.kind(), bounded.failure().kind(), t.file() + ": " + bounded.failure().firstFailure());
    }));
  }

  /**
   * A bound of 0 reorders only events due at the same instant: a's file has none, so exhaustive search meets no choice
   * point at all and exhausts its space in the seeded schedule (a needs some delay, 1 µs finds it); e's seeded order
   * fails with ExploreTargets.SEED, so any bound finds it in schedule 1.
   */
  @TestFactory
  Stream<DynamicTest> aBoundOfZeroReordersOnlySimultaneousEvents() {
    return Stream.of(DynamicTest.dynamicTest("a-skip-read-retry-i4.conf --strategy exhaustive --max-delay 0", () -> {
      Explorer x = new Explorer(ScenarioParser.parse(EXPLORE.resolve(TARGETS.get(0).file())), SEED, BASE).maxDelay(0);
      Explorer.Report r = x.explore(Explorer.Strategy.EXHAUSTIVE, 100, 0);
      assertTrue(r.exhausted() && r.schedules() == 1 && r.states() == 0 && r.failure() == null,
          "a with --max-delay 0: " + r);
    }), DynamicTest.dynamicTest("e-two-gpu-re-exclusive.conf --max-delay 0", () -> {
      Explorer.Report r = explore(TARGETS.get(4), 0);
      assertNotNull(r.failure(), "e: its seeded order fails, with any bound");
      assertEquals("expectation", r.failure().kind());
      assertEquals(1, r.failure().scheduleNumber(), "e fails in its first schedule");
    }));
  }
}
