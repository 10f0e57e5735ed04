package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A random or PCT search whose runs that repeat an earlier run's choices up to a later step's start begin there from a
 * kept copy of the world ({@link ScheduleRun.StepStart}, {@link Explorer#stepStarts}) reports exactly what running
 * each of them from the first choice point's step reports: the same schedules, states, distinct states, choice points
 * per kind, generated states, simulated runs and points, and first failing schedule (kind, first failure, number,
 * choices), with distinct states counted or not, bounded and unbounded, on long files whose runs repeat whole steps
 * (c01, t05, b-anon-read-multiple), short ones, a concurrent block's file and failing files.
 */
class ExploreStepStartTest {
  static final Config BASE = ConfigFactory.load();
  static final Path SCENARIOS = Path.of("..", "scenarios");

  /** Both ways; returns the runs the search with step starts resumed at one. */
  private static int compare(String file, Explorer.Strategy st, int budget, int runs, boolean distinct,
      long maxDelay) {
    Scenario s = ScenarioParser.parse(SCENARIOS.resolve(file));
    Explorer off = new Explorer(s, 1, BASE).maxDelay(maxDelay).maxRuns(runs).distinctStates(distinct)
        .stepStarts(false);
    Explorer on = new Explorer(s, 1, BASE).maxDelay(maxDelay).maxRuns(runs).distinctStates(distinct)
        .stepStarts(true);
    String what = file + " " + st + (distinct ? "" : " no distinct") + (maxDelay < 0 ? "" : " bounded");
    ExploreSnapshotTest.sameReports(off, on, st, budget, 0, what,
        x -> x.simulatedRuns() + " runs " + x.simulatedPoints() + " points");
    assertEquals(0, off.resumedRuns(), what + ": resumes off, yet a run resumed");
    System.out.println(what + ": " + on.resumedRuns() + " of " + on.simulatedRuns() + " runs resumed at a step start");
    return on.resumedRuns();
  }

  /** The long files whose runs repeat whole steps: most runs resume past them, and report the same. */
  @Test
  void longRunsRepeatingStepsReportTheSame() {
    assertTrue(compare("cases/c01-exclusive.conf", Explorer.Strategy.PCT, 1000, 24, false, -1) > 0, "c01");
    assertTrue(compare("cases/t05-hmm-exclusive-thp.conf", Explorer.Strategy.PCT, 1000, 20, true, -1) > 0, "t05");
    assertTrue(compare("cases/b-anon-read-multiple.conf", Explorer.Strategy.PCT, 1000, 24, false, -1) > 0,
        "b-anon-read-multiple");
    compare("cases/c01-exclusive.conf", Explorer.Strategy.RANDOM, 10, 10, true, -1);
  }

  /** Short files, a concurrent block's draws, bounds, and failures are found the same. */
  @Test
  void shortFilesBoundsAndFailuresAreTheSame() {
    compare("cases/x08-concurrent-cpu-gpu-atomics.conf", Explorer.Strategy.PCT, 200, 200, true, -1);
    compare("cases/c07-thrash-folio-lock.conf", Explorer.Strategy.PCT, 100, 100, false, -1);
    compare("cases/m04-devpriv-fault-livelock.conf", Explorer.Strategy.PCT, 200, 200, true, -1);
    compare("cases/k01-kthread-lock-exclusive-waits.conf", Explorer.Strategy.PCT, 100, 100, false, 50_000);
    compare("cases/b-anon-write.conf", Explorer.Strategy.PCT, 200, 60, false, -1);
    compare("faults/crash-restart.conf", Explorer.Strategy.PCT, 40, 40, true, -1);
    compare("explore/c-fork-enomem.conf", Explorer.Strategy.PCT, 200, 200, true, -1);
    compare("explore/a-skip-read-retry-i4.conf", Explorer.Strategy.PCT, 100, 100, false, -1);
    compare("explore/b-no-folio-lock-progress.conf", Explorer.Strategy.RANDOM, 100, 100, true, -1);
  }

  /** A failure found after runs resumed at step starts: the same schedule number, failure and choices. */
  @Test
  void aFailureFoundAfterResumedRunsIsTheSame() {
    Scenario s = ScenarioParser.parse(SCENARIOS.resolve("faults/partition-one-way.conf"));
    Explorer on = new Explorer(s, 1, BASE).distinctStates(false).stepStarts(true);
    Explorer.Report r = on.explore(Explorer.Strategy.PCT, 200, 0);
    assertNotNull(r.failure(), "partition-one-way's timing-bound line (ExploreEveryFileTest.TIMED)");
    assertTrue(on.resumedRuns() > 0, "no run resumed before the failure");
    compare("faults/partition-one-way.conf", Explorer.Strategy.PCT, 200, 200, false, -1);
    compare("faults/partition-one-way.conf", Explorer.Strategy.PCT, 200, 200, true, -1);
    compare("cases/k01-kthread-lock-exclusive-waits.conf", Explorer.Strategy.PCT, 200, 200, false, -1);
  }
}
