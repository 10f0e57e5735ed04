package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A search whose runs start from a copy of the world at the start of the step holding the first choice point
 * ({@link ScheduleRun.Snapshot}, {@link Explorer#snapshots}) reports exactly what running every schedule from the
 * start reports: the same schedules, states, distinct states, choice points per kind, simulated runs, exhaustion and
 * first failing schedule (kind, first failure, number, choices), under PCT, random and exhaustive search, bounded and
 * unbounded, on files whose first choice point lies in a later step (the snapshot skips steps) and in the first.
 */
class ExploreSnapshotTest {
  static final Config BASE = ConfigFactory.load();
  static final Path SCENARIOS = Path.of("..", "scenarios");

  /** A whole exploration's report but its times, {@code simulated} the runs (and points) it simulated, in one line. */
  static String report(Explorer.Report r, String simulated) {
    Explorer.Failure f = r.failure();
    return r.schedules() + " schedules, " + r.states() + " states, " + r.distinctStates() + " distinct, kinds "
        + r.choicePoints() + ", exhausted " + r.exhausted() + ", generated " + r.generatedStates() + ", simulated "
        + simulated + ", failure "
        + (f == null ? "none" : f.kind() + " in " + f.scheduleNumber() + ": " + f.firstFailure() + " "
        + java.util.Arrays.toString(f.schedule()));
  }

  /**
   * Explores with {@code off} (the lever off) and {@code on} and asserts the same report ({@code simulated}: what of an
   * explorer the report line shows as simulated) and the same first failing schedule. ExploreStepStartTest and
   * ExploreMidStepTest share it.
   */
  static void sameReports(Explorer off, Explorer on, Explorer.Strategy st, int budget, int depth, String what,
      java.util.function.Function<Explorer, String> simulated) {
    Explorer.Report a = off.explore(st, budget, depth);
    Explorer.Report b = on.explore(st, budget, depth);
    assertEquals(report(a, simulated.apply(off)), report(b, simulated.apply(on)), what);
    if (a.failure() != null) {
      assertNotNull(b.failure(), what);
      assertArrayEquals(a.failure().schedule(), b.failure().schedule(), what);
    } else {
      assertNull(b.failure(), what);
    }
  }

  /** Both ways; returns the steps the snapshot skipped (-1: none taken). */
  private static int compare(String file, Explorer.Strategy st, int budget, long maxDelay) {
    Scenario s = ScenarioParser.parse(SCENARIOS.resolve(file));
    Explorer off = new Explorer(s, 1, BASE).maxDelay(maxDelay).maxRuns(25).maxStates(4000).snapshots(false);
    Explorer on = new Explorer(s, 1, BASE).maxDelay(maxDelay).maxRuns(25).maxStates(4000).snapshots(true);
    sameReports(off, on, st, budget, 0, file + " " + st + (maxDelay < 0 ? "" : " bounded"),
        x -> st == Explorer.Strategy.EXHAUSTIVE ? "-" : String.valueOf(x.simulatedRuns()));
    assertEquals(-1, off.snapshotStep(), "snapshots off, yet one was taken");
    return on.snapshotStep();
  }

  /** Files whose first choice point lies past step 0: their runs skip set-up and steps, and report the same. */
  @Test
  void runsStartingPastTheFirstStepsReportTheSame() {
    // x08: its first choice point is in step 1; m04: step 9; c07: step 2
    assertTrue(compare("cases/x08-concurrent-cpu-gpu-atomics.conf", Explorer.Strategy.PCT, 40, -1) > 0, "x08");
    assertTrue(compare("cases/m04-devpriv-fault-livelock.conf", Explorer.Strategy.RANDOM, 40, -1) > 0, "m04");
    assertTrue(compare("cases/c07-thrash-folio-lock.conf", Explorer.Strategy.PCT, 30, -1) > 0, "c07");
    compare("cases/x08-concurrent-cpu-gpu-atomics.conf", Explorer.Strategy.EXHAUSTIVE, 60, -1);
    compare("cases/m04-devpriv-fault-livelock.conf", Explorer.Strategy.EXHAUSTIVE, 60, -1);
  }

  /** Failures (explore targets, a timing-bound line, a crash with its hooks) and bounds are found the same. */
  @Test
  void failuresBoundsAndFaultsAreTheSame() {
    compare("explore/c-fork-enomem.conf", Explorer.Strategy.PCT, 40, -1);
    compare("explore/b-no-folio-lock-progress.conf", Explorer.Strategy.RANDOM, 80, -1);
    compare("explore/a-skip-read-retry-i4.conf", Explorer.Strategy.PCT, 30, -1);
    compare("cases/k01-kthread-lock-exclusive-waits.conf", Explorer.Strategy.PCT, 30, -1);
    compare("cases/k01-kthread-lock-exclusive-waits.conf", Explorer.Strategy.PCT, 30, 50_000);
    compare("cases/x06-fork-meets-dead-drivers-lock.conf", Explorer.Strategy.EXHAUSTIVE, 30, -1);
    compare("faults/crash-restart.conf", Explorer.Strategy.PCT, 20, -1);
    compare("faults/loss.conf", Explorer.Strategy.PCT, 20, -1);
    compare("cases/c11b-madvise-after-check.conf", Explorer.Strategy.PCT, 60, -1);
    compare("explore/b-no-folio-lock-progress.conf", Explorer.Strategy.EXHAUSTIVE, 200, -1);
  }
}
