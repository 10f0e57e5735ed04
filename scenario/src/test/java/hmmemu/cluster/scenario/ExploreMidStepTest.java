package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * An exhaustive search whose runs go on from a copy of the world kept at a choice point inside a step's wait
 * ({@link MidStepStart}, {@link ExhaustiveCopies}) instead of replaying their prefix reports exactly what replaying
 * every prefix reports: the same schedules, states, distinct states, choice points per kind, generated states,
 * exhaustion and first failing schedule (kind, first failure, number, choices), bounded and unbounded, on a long file
 * whose branch points lie deep in a step (c01), short ones, concurrent blocks' files and failing files.
 */
class ExploreMidStepTest {
  static final Config BASE = ConfigFactory.load();
  static final Path SCENARIOS = Path.of("..", "scenarios");

  /** Both ways; returns the runs that went on from a kept copy. */
  private static int compare(String file, int budget, int depth, long maxDelay) {
    return compare(SCENARIOS.resolve(file), file, budget, depth, maxDelay);
  }

  private static int compare(Path path, String file, int budget, int depth, long maxDelay) {
    return explorers(path, file, budget, depth, maxDelay).resumedRuns();
  }

  /** Both ways; returns the explorer with resumes on (its runs resumed, from checkpoints among them). */
  private static Explorer explorers(Path path, String file, int budget, int depth, long maxDelay) {
    Scenario s = ScenarioParser.parse(path);
    Explorer off = new Explorer(s, 1, BASE).maxDelay(maxDelay).stepStarts(false);
    Explorer on = new Explorer(s, 1, BASE).maxDelay(maxDelay).stepStarts(true);
    String what = file + " exhaustive depth " + depth + (maxDelay < 0 ? "" : " bounded");
    ExploreSnapshotTest.sameReports(off, on, Explorer.Strategy.EXHAUSTIVE, budget, depth, what, x -> "-");
    assertEquals(0, off.resumedRuns(), what + ": resumes off, yet a run resumed");
    System.out.println(what + ": " + on.resumedRuns() + " runs went on from a mid-step copy, " + on.checkpointRuns()
        + " from a checkpoint");
    return on;
  }

  /**
   * Searches that backtrack below the window of copies a run keeps before its branch point go on from checkpoints
   * kept further down ({@link ExhaustiveCopies}: the band's deepest wait point at or before a branch point, an
   * expectation's inspection's included) instead of replaying the whole prefix, and report the same.
   */
  @Test
  void runsResumedAtCheckpointsReportTheSame() {
    for (String f : new String[] {"faults/partition-one-way.conf", "cases/m04-devpriv-fault-livelock.conf"}) {
      Explorer on = explorers(SCENARIOS.resolve(f), f, 300, 2, -1);
      assertTrue(on.checkpointRuns() > 5, f + ": " + on.checkpointRuns() + " runs from a checkpoint");
    }
  }

  /** Long and short files: most runs go on from a copy, and report the same. */
  @Test
  void runsResumedInsideAStepReportTheSame() {
    assertTrue(compare("explore/c-fork-enomem.conf", 600, 3, -1) > 300, "c-fork-enomem");
    assertTrue(compare("cases/c01-exclusive.conf", 40, 3, -1) > 20, "c01");
    compare("explore/b-no-folio-lock-progress.conf", 300, 2, -1);
    compare("cases/k01-kthread-lock-exclusive-waits.conf", 100, 2, 50_000);
    compare("cases/c07-thrash-folio-lock.conf", 100, 2, -1);
  }

  /**
   * Unbounded searches (depth 0, as ExploreEveryFileTest and the CLI's default) that branch at the first choice point:
   * a world copied there inside a paused prefix has its input hashes restored (a clean clone's verify found a run that
   * could not key its first point).
   */
  @Test
  void aBranchAtTheFirstPointKeysItsStates() {
    compare("cases/b-anon-read-prot.conf", 1000, 0, -1);
    compare("cases/c11-madvise-before-check.conf", 1000, 0, -1);
    compare("cases/c10-driver-lock-deadlock.conf", 1000, 0, -1);
  }

  /** Concurrent blocks' draws, faults and failing files: the same failure in the same schedule. */
  @Test
  void blocksFaultsAndFailuresAreTheSame() {
    compare("cases/x08-concurrent-cpu-gpu-atomics.conf", 200, 2, -1);
    compare("faults/crash-restart.conf", 100, 2, -1);
    compare("faults/partition-one-way.conf", 200, 2, -1);
    compare("explore/a-skip-read-retry-i4.conf", 100, 2, -1);
    compare("explore/e-two-gpu-re-exclusive.conf", 100, 2, -1);
    compare("explore/d-dmirror-exclusive-dontneed.conf", 100, 2, -1);
  }

  /**
   * A failure found after runs went on from copies: x08 expecting the seeded run's 10 CPU faults in all, which
   * another interleaving of the concurrent atomics changes (schedule 43 at depth 2, 80 at depth 3): the same failure
   * in the same schedule with the same choices.
   */
  @Test
  void aFailureFoundAfterResumedRunsIsTheSame(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    String x08 = java.nio.file.Files.readString(SCENARIOS.resolve("cases/x08-concurrent-cpu-gpu-atomics.conf"));
    String counted = x08.replace("      violations = []\n  } }", "      violations = []\n      total-cpu-faults = 10\n  } }");
    assertTrue(!counted.equals(x08), "x08's last expectation moved: update this test");
    Path file = dir.resolve("x08-cpu-faults.conf");
    java.nio.file.Files.writeString(file, counted);
    for (int depth = 2; depth <= 3; depth++) {
      Explorer on = new Explorer(ScenarioParser.parse(file), 1, BASE).stepStarts(true);
      Explorer.Report r = on.explore(Explorer.Strategy.EXHAUSTIVE, 500, depth);
      assertNotNull(r.failure(), "x08 with 10 CPU faults expected, depth " + depth);
      assertTrue(r.failure().scheduleNumber() > 10 && on.resumedRuns() > 5,
          "the failure comes after resumed runs: schedule " + r.failure().scheduleNumber() + ", " + on.resumedRuns()
              + " resumed");
      compare(file, "x08 with 10 CPU faults", 500, depth, -1);
    }
  }
}
