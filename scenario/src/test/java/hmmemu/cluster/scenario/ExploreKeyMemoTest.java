package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.cpu.core.CpuMm;
import hmmemu.node.link.LinkSettings;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A search run that replays a prefix keys it from the run it comes from ({@link ScheduleRun.KeyMemo}: no input folded
 * before the branch point, the input hashes restored there) and gets every choice point's state key a run keying
 * every point gets; a memo from another run is caught at the branch point.
 */
class ExploreKeyMemoTest {
  private static ScheduleRun.Outcome lean(Scenario s, long seed, int[] schedule, ScheduleRun.KeyMemo memo) {
    return ScheduleRun.run(s, seed, LinkSettings.fromConfig(ExploreLeanRunsTest.BASE),
        CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS, false, true,
        (point, key, e) -> point < schedule.length ? Math.min(schedule[point], e.size() - 1) : 0, memo);
  }

  @Test
  void aReplayedPrefixGetsTheKeysOfARunKeyingEveryPoint() {
    Scenario s = ScenarioParser.parse(ExploreLeanRunsTest.EXPLORE.resolve("b-no-folio-lock-progress.conf"));
    Explorer x = new Explorer(s, 7, ExploreLeanRunsTest.BASE);
    SplittableRandom rng = new SplittableRandom(3);
    ScheduleRun.Outcome first = x.run((point, key, e) -> rng.nextInt(e.size()));
    int n = first.choices().size();
    assertTrue(n > 10, "choice points: " + n);
    ScheduleRun.KeyMemo memo = new ScheduleRun.KeyMemo();
    ScheduleRun.Outcome keyed = lean(x.scenario(), 7, first.schedule(), memo); // resumeAt -1: keys every point
    for (int branch : new int[] {n / 3, n / 2, n - 1}) {
      memo.resumeAt = branch;
      // the same schedule up to the branch point, then another index there (if there is one) and the seeded order
      int[] next = java.util.Arrays.copyOf(first.schedule(), branch + 1);
      next[branch] = first.choices().get(branch).enabled() > 1 ? (next[branch] + 1) % first.choices().get(branch).enabled() : 0;
      ScheduleRun.Outcome memoed = lean(x.scenario(), 7, next, memo);
      ScheduleRun.Outcome reference = lean(x.scenario(), 7, next, null);
      assertEquals(reference.failures(), memoed.failures(), "branch " + branch);
      assertEquals(reference.choices().size(), memoed.choices().size(), "branch " + branch);
      for (int i = 0; i < reference.choices().size(); i++) {
        assertEquals(reference.choices().get(i).stateKey(), memoed.choices().get(i).stateKey(),
            "branch " + branch + ", choice point " + i);
      }
      for (int i = 0; i <= branch; i++) assertEquals(first.choices().get(i).stateKey(), keyed.choices().get(i).stateKey());
      lean(x.scenario(), 7, first.schedule(), memo.resumeAt(-1)); // the memo back to the first run's keys
    }
  }

  @Test
  void aMemoOfAnotherStateIsCaughtAtTheBranchPoint() {
    Scenario s = ScenarioParser.parse(ExploreLeanRunsTest.EXPLORE.resolve("b-no-folio-lock-progress.conf"));
    ScheduleRun.KeyMemo memo = new ScheduleRun.KeyMemo();
    ScheduleRun.Outcome o = lean(s, 7, new int[0], memo);
    int branch = o.choices().size() / 2;
    memo.keys[branch] ^= 1; // as if the replay had reached another state there
    memo.resumeAt = branch;
    ScheduleRun.Outcome bad = lean(s, 7, new int[0], memo);
    assertTrue(bad.failures().toString().contains("the replayed prefix reached point " + branch + " in another state"),
        bad.failures().toString());
  }
}
