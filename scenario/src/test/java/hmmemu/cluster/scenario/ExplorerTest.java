package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The scheduler hook and schedule replay (issue 13): the seeded choice changes nothing; a schedule replays exactly. */
class ExplorerTest {
  static final Config BASE = ConfigFactory.load();
  static final Path CASES = Path.of("..", "scenarios", "cases");

  @Test
  void choosingIndexZeroEverywhereIsTheSeededRunBitForBit() {
    for (String f : new String[] {"c05-nouveau-atomic.conf", "c04-two-devices.conf", "c11-madvise-before-check.conf",
        "c06-cpu-touch-in-window.conf"}) {
      Scenario s = ScenarioParser.parse(CASES.resolve(f));
      for (long seed : new long[] {1, 42}) {
        SimScenarioRunner.Result seeded = SimScenarioRunner.run(s, seed, BASE);
        ScheduleRun.Outcome zero = new Explorer(s, seed, BASE).replay(new int[0]);
        assertEquals(seeded.traceHashHex(), hmmemu.sim.TraceHash.hex(zero.traceHash()), f + " seed " + seed);
        assertEquals(seeded.failures(), zero.failures(), f);
        assertTrue(seeded.ok(), f + ": " + seeded.failures());
      }
    }
  }

  /** A faults block's crash and restart lines run with the host's hooks under the explorer too (they once did not). */
  @Test
  void aFaultsBlocksCrashFiresInTheSeededScheduleAsInTheSimulator() {
    Scenario s = ScenarioParser.parse(Path.of("..", "scenarios", "faults", "crash-restart.conf"));
    SimScenarioRunner.Result seeded = SimScenarioRunner.run(s, 1, BASE);
    assertTrue(seeded.ok(), "crash-restart seed 1: " + seeded.failures());
    ScheduleRun.Outcome zero = new Explorer(s, 1, BASE).replay(new int[0]);
    assertEquals(seeded.failures(), zero.failures(), "the explorer's seeded order is the simulator's run");
    assertEquals(seeded.traceHashHex(), hmmemu.sim.TraceHash.hex(zero.traceHash()));
  }

  @Test
  void aRandomScheduleReplaysToTheSameTraceAndChoices() {
    Scenario s = ScenarioParser.parse(Path.of("..", "scenarios", "explore", "b-no-folio-lock-progress.conf"));
    Explorer x = new Explorer(s, 7, BASE);
    SplittableRandom rng = new SplittableRandom(3);
    ScheduleRun.Outcome a = x.run((point, key, e) -> rng.nextInt(e.size()));
    assertTrue(a.choices().size() > 10, "the file has choice points: " + a.choices().size());
    ScheduleRun.Outcome b = x.replay(a.schedule());
    assertArrayEquals(a.schedule(), b.schedule());
    assertEquals(a.traceHash(), b.traceHash());
    assertEquals(a.failures(), b.failures());
  }

  @Test
  void exhaustiveSearchCountsTheStatesItGeneratedApartFromReplayedPrefixes() {
    Scenario s = ScenarioParser.parse(Path.of("..", "scenarios", "explore", "b-no-folio-lock-progress.conf"));
    Explorer.Report r = new Explorer(s, 1, BASE).explore(Explorer.Strategy.EXHAUSTIVE, 300, 2);
    assertTrue(r.schedules() > 1, "several schedules: " + r.schedules());
    // every distinct state was first met past a replayed prefix, and the prefixes replayed choice points
    assertTrue(r.generatedStates() >= r.distinctStates(), r.generatedStates() + " < " + r.distinctStates());
    assertTrue(r.generatedStates() < r.states(), r.generatedStates() + " >= " + r.states());
    Explorer.Report pct = new Explorer(s, 1, BASE).explore(Explorer.Strategy.PCT, 20, 0);
    assertEquals(pct.states(), pct.generatedStates(), "PCT replays nothing");
  }
}
