package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A random or PCT exploration that does not count its distinct states ({@link Explorer#distinctStates}: its runs keep
 * no state key) reports exactly what one that counts them reports, but for {@code distinctStates} (-1): the same
 * schedules, states, choice points per kind, generated states, simulated runs and choice points, and first failing
 * schedule (kind, first failure, number, choices), bounded and unbounded, with snapshots and without, on files with
 * concurrent blocks, faults, a crash, pause points, timing bounds and explore targets. Not a kernel structure.
 */
class ExploreDistinctOffTest {
  static final Config BASE = ConfigFactory.load();
  static final Path SCENARIOS = Path.of("..", "scenarios");

  private static String report(Explorer.Report r, Explorer x) {
    Explorer.Failure f = r.failure();
    return r.schedules() + " schedules, " + r.states() + " states, kinds " + r.choicePoints() + ", exhausted "
        + r.exhausted() + ", generated " + r.generatedStates() + ", simulated " + x.simulatedRuns() + " runs, "
        + x.simulatedPoints() + " points, failure " + (f == null ? "none" : f.kind() + " in " + f.scheduleNumber()
        + ": " + f.firstFailure());
  }

  private static void compare(String file, Explorer.Strategy st, int budget, long maxDelay, boolean snapshots) {
    Scenario s = ScenarioParser.parse(SCENARIOS.resolve(file));
    Explorer on = new Explorer(s, 1, BASE).maxDelay(maxDelay).maxRuns(60).snapshots(snapshots);
    Explorer off = new Explorer(s, 1, BASE).maxDelay(maxDelay).maxRuns(60).snapshots(snapshots).distinctStates(false);
    Explorer.Report a = on.explore(st, budget, 0);
    Explorer.Report b = off.explore(st, budget, 0);
    String what = file + " " + st + (maxDelay < 0 ? "" : " bounded") + (snapshots ? "" : " without snapshots");
    assertEquals(report(a, on), report(b, off), what);
    assertTrue(a.distinctStates() > 0 || a.states() == 0, what + ": counted");
    assertEquals(-1, b.distinctStates(), what + ": not counted");
    if (a.failure() == null) {
      assertNull(b.failure(), what);
    } else {
      assertArrayEquals(a.failure().schedule(), b.failure().schedule(), what);
    }
  }

  @Test
  void pctAndRandomReportTheSameWithoutStateKeys() {
    compare("cases/x08-concurrent-cpu-gpu-atomics.conf", Explorer.Strategy.PCT, 80, -1, true);
    compare("cases/m04-devpriv-fault-livelock.conf", Explorer.Strategy.RANDOM, 40, -1, true);
    compare("cases/c07-thrash-folio-lock.conf", Explorer.Strategy.PCT, 30, -1, false);
    compare("cases/k01-kthread-lock-exclusive-waits.conf", Explorer.Strategy.PCT, 30, -1, true);
    compare("cases/k01-kthread-lock-exclusive-waits.conf", Explorer.Strategy.PCT, 30, 50_000, true);
    compare("faults/crash-restart.conf", Explorer.Strategy.PCT, 20, -1, true);
    compare("faults/loss.conf", Explorer.Strategy.RANDOM, 40, -1, true);
    compare("explore/c-fork-enomem.conf", Explorer.Strategy.PCT, 60, -1, true);
    compare("explore/a-skip-read-retry-i4.conf", Explorer.Strategy.PCT, 30, -1, false);
    compare("explore/b-no-folio-lock-progress.conf", Explorer.Strategy.RANDOM, 80, -1, true);
    compare("cases/c11b-madvise-after-check.conf", Explorer.Strategy.PCT, 60, -1, true);
  }

  /** Exhaustive search keys its states whatever the setting: its report is the same, distinct states included. */
  @Test
  void exhaustiveSearchStillKeysItsStates() {
    Scenario s = ScenarioParser.parse(SCENARIOS.resolve("explore/c-fork-enomem.conf"));
    Explorer.Report a = new Explorer(s, 1, BASE).explore(Explorer.Strategy.EXHAUSTIVE, 200, 0);
    Explorer.Report b = new Explorer(s, 1, BASE).distinctStates(false).explore(Explorer.Strategy.EXHAUSTIVE, 200, 0);
    assertEquals(a.schedules() + " " + a.states() + " " + a.distinctStates() + " " + a.exhausted() + " "
        + (a.failure() == null ? "-" : a.failure().kind()), b.schedules() + " " + b.states() + " " + b.distinctStates()
        + " " + b.exhausted() + " " + (b.failure() == null ? "-" : b.failure().kind()));
  }
}
