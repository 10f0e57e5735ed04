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
 * A random or PCT exploration that skips the runs repeating one it simulated ({@link ExploredRuns}) reports exactly
 * what simulating every run reports: the same schedules, states, distinct states, choice points per kind and first
 * failing schedule; and on files whose schedules repeat it simulates fewer runs than its schedules.
 */
class ExploreRepeatsTest {
  static final Config BASE = ConfigFactory.load();
  static final Path SCENARIOS = Path.of("..", "scenarios");

  private static void assertSameReport(Explorer.Report all, Explorer.Report skipping, String what) {
    assertEquals(all.schedules(), skipping.schedules(), what + ": schedules");
    assertEquals(all.states(), skipping.states(), what + ": states");
    assertEquals(all.distinctStates(), skipping.distinctStates(), what + ": distinct states");
    assertEquals(all.choicePoints(), skipping.choicePoints(), what + ": choice points per kind");
    assertEquals(all.exhausted(), skipping.exhausted(), what + ": exhausted");
    if (all.failure() == null) {
      assertNull(skipping.failure(), what + ": failed where simulating every run held");
      return;
    }
    assertNotNull(skipping.failure(), what + ": held where simulating every run failed");
    assertEquals(all.failure().kind(), skipping.failure().kind(), what);
    assertEquals(all.failure().firstFailure(), skipping.failure().firstFailure(), what);
    assertEquals(all.failure().scheduleNumber(), skipping.failure().scheduleNumber(), what);
    assertArrayEquals(all.failure().schedule(), skipping.failure().schedule(), what);
  }

  /** Both ways on one file and strategy; returns the runs the skipping exploration simulated. */
  private static int compare(Scenario s, Explorer.Strategy st, int budget, long maxDelay, String what) {
    Explorer.Report all = new Explorer(s, 1, BASE).maxDelay(maxDelay).skipRepeats(false).explore(st, budget, 0);
    Explorer x = new Explorer(s, 1, BASE).maxDelay(maxDelay);
    Explorer.Report skipping = x.explore(st, budget, 0);
    assertSameReport(all, skipping, what + " " + st);
    assertTrue(x.simulatedRuns() <= skipping.schedules(), what + ": simulated " + x.simulatedRuns());
    return x.simulatedRuns();
  }

  private static Scenario file(String dirAndName) { return ScenarioParser.parse(SCENARIOS.resolve(dirAndName)); }

  /** Files with few choice points or sources: most schedules repeat, and the reports are the same. */
  @Test
  void repeatedSchedulesAreCountedNotRunAgain() {
    // c05 has no choice point: one run is every schedule
    assertEquals(1, compare(file("cases/c05-nouveau-atomic.conf"), Explorer.Strategy.PCT, 30, -1, "c05"));
    for (String f : new String[] {"cases/c06-cpu-touch-in-window.conf", "cases/b-snapshot.conf",
        "cases/c11-madvise-before-check.conf"}) {
      for (Explorer.Strategy st : new Explorer.Strategy[] {Explorer.Strategy.PCT, Explorer.Strategy.RANDOM}) {
        int runs = compare(file(f), st, 60, -1, f);
        assertTrue(runs < 60, f + " " + st + ": every one of 60 schedules simulated (" + runs + ")");
      }
    }
  }

  /** Longer runs (the explore files' c and b, faults/loss with its link faults), a bound, and failures found. */
  @Test
  void longerRunsBoundsAndFailuresAreTheSame() {
    compare(file("explore/c-fork-enomem.conf"), Explorer.Strategy.PCT, 40, -1, "c");
    compare(file("explore/b-no-folio-lock-progress.conf"), Explorer.Strategy.RANDOM, 40, -1, "b");
    compare(file("faults/loss.conf"), Explorer.Strategy.PCT, 20, -1, "loss");
    compare(file("cases/k01-kthread-lock-exclusive-waits.conf"), Explorer.Strategy.PCT, 30, 50_000, "k01 bounded");
    // failing schedules: found in the same schedule, with the same choices
    compare(file("cases/k01-kthread-lock-exclusive-waits.conf"), Explorer.Strategy.PCT, 30, -1, "k01");
    compare(file("explore/a-skip-read-retry-i4.conf"), Explorer.Strategy.RANDOM, 30, -1, "a");
  }

  /** A concurrent block's draws are choice points with sources of their own (ExploreConcurrentTest's file). */
  @Test
  void aConcurrentBlockIsExploredTheSame() {
    Scenario s = ScenarioParser.parse("two-writers.conf", ExploreConcurrentTest.FILE);
    for (Explorer.Strategy st : new Explorer.Strategy[] {Explorer.Strategy.PCT, Explorer.Strategy.RANDOM}) {
      compare(s, st, 40, -1, "two writers");
    }
  }
}
