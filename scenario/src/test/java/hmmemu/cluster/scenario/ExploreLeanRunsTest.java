package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Searches run lean (issue 13's states per second: no pause-point ordinals, no trace hash, counts by field only when
 * the file reads one; {@link ScheduleRun#run(Scenario, long, hmmemu.node.link.LinkSettings, long, boolean, boolean,
 * ScheduleRun.Strategy)}) and find exactly what the full runs found before: the same schedules, states, distinct
 * states, exhaustion and first failing schedule, on files of scenarios/explore and a concurrent block.
 */
class ExploreLeanRunsTest {
  static final Config BASE = ConfigFactory.load();
  static final Path EXPLORE = Path.of("..", "scenarios", "explore");

  private static void assertSameReport(Explorer.Report full, Explorer.Report lean, String what) {
    assertEquals(full.schedules(), lean.schedules(), what + ": schedules");
    assertEquals(full.states(), lean.states(), what + ": states");
    assertEquals(full.distinctStates(), lean.distinctStates(), what + ": distinct states");
    assertEquals(full.exhausted(), lean.exhausted(), what + ": exhausted");
    if (full.failure() == null) {
      assertNull(lean.failure(), what + ": the lean search failed where the full one held");
      return;
    }
    assertNotNull(lean.failure(), what + ": the lean search held where the full one failed");
    assertEquals(full.failure().kind(), lean.failure().kind(), what);
    assertEquals(full.failure().firstFailure(), lean.failure().firstFailure(), what);
    assertEquals(full.failure().scheduleNumber(), lean.failure().scheduleNumber(), what);
    assertArrayEquals(full.failure().schedule(), lean.failure().schedule(), what);
  }

  private static Explorer.Report search(Scenario s, long seed, boolean full, Explorer.Strategy st, int budget, int depth) {
    return new Explorer(s, seed, BASE).fullRuns(full).explore(st, budget, depth);
  }

  /** c (C12's ENOMEM branch): 300 schedules of the bounded exhaustive search, none failing; and PCT to its find. */
  @Test
  void forkEnomemExploresTheSameStates() {
    Scenario s = ScenarioParser.parse(EXPLORE.resolve("c-fork-enomem.conf"));
    Explorer.Report full = search(s, 1, true, Explorer.Strategy.EXHAUSTIVE, 300, 2);
    Explorer.Report lean = search(s, 1, false, Explorer.Strategy.EXHAUSTIVE, 300, 2);
    assertEquals(300, full.schedules(), "the budget is spent: " + full);
    assertTrue(full.distinctStates() > 1000, "a search of some size: " + full);
    assertSameReport(full, lean, "c exhaustive");
    assertSameReport(search(s, 2, true, Explorer.Strategy.PCT, 100, 0), search(s, 2, false, Explorer.Strategy.PCT, 100, 0),
        "c pct");
  }

  /** a and d: exhaustive search finds the violation after the same schedules. */
  @Test
  void violationsAreFoundInTheSameSchedule() {
    for (String f : List.of("a-skip-read-retry-i4.conf", "d-dmirror-exclusive-dontneed.conf")) {
      Scenario s = ScenarioParser.parse(EXPLORE.resolve(f));
      Explorer.Report full = search(s, 2, true, Explorer.Strategy.EXHAUSTIVE, 100, 0);
      assertNotNull(full.failure(), f + ": " + full);
      assertEquals("violation", full.failure().kind(), f);
      assertSameReport(full, search(s, 2, false, Explorer.Strategy.EXHAUSTIVE, 100, 0), f);
    }
  }

  /** A concurrent block's draws are choice points of lean runs too (ExploreConcurrentTest's file). */
  @Test
  void aConcurrentBlockIsSearchedTheSame() {
    Scenario s = ScenarioParser.parse("two-writers.conf", ExploreConcurrentTest.FILE);
    for (long seed : new long[] {2, 3}) {
      Explorer.Report full = search(s, seed, true, Explorer.Strategy.EXHAUSTIVE, 20, 1);
      assertNotNull(full.failure(), "seed " + seed);
      assertSameReport(full, search(s, seed, false, Explorer.Strategy.EXHAUSTIVE, 20, 1), "two writers seed " + seed);
    }
  }

  /** One random schedule, run lean and full: the same choice points, one by one, and the same failures. */
  @Test
  void aLeanRunHasTheFullRunsChoicePoints() {
    Scenario s = ScenarioParser.parse(EXPLORE.resolve("b-no-folio-lock-progress.conf"));
    Explorer x = new Explorer(s, 7, BASE);
    SplittableRandom rng = new SplittableRandom(3);
    ScheduleRun.Outcome full = x.run((point, key, e) -> rng.nextInt(e.size()));
    ScheduleRun.Outcome lean = ScheduleRun.run(x.scenario(), 7, hmmemu.node.link.LinkSettings.fromConfig(BASE),
        hmmemu.cpu.core.CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS, false, true,
        (point, key, e) -> point < full.schedule().length ? full.schedule()[point] : 0);
    assertTrue(full.choices().size() > 10, "choice points: " + full.choices().size());
    assertEquals(full.choices().size(), lean.choices().size());
    for (int i = 0; i < full.choices().size(); i++) {
      ScheduleRun.Choice a = full.choices().get(i);
      ScheduleRun.Choice b = lean.choices().get(i);
      String at = "choice point " + i;
      assertEquals(a.enabled(), b.enabled(), at);
      assertEquals(a.taken(), b.taken(), at);
      assertEquals(a.stateKey(), b.stateKey(), at);
      assertEquals(a.step(), b.step(), at);
      assertEquals(a.kind(), b.kind(), at);
      assertEquals(a.option(), b.option(), at);
      assertEquals(a.pointKind(), b.pointKind(), at);
    }
    assertEquals(full.failures(), lean.failures());
    assertFalse(full.traceHash() == lean.traceHash(), "the lean run hashes no trace event");
  }

  /** Counts by field are on exactly for a file that reads one (x01 does; the explore files do not). */
  @Test
  void countsByFieldOnlyWhenTheFileReadsOne() {
    assertTrue(SimHost.countsByField(ScenarioParser.parse(Path.of("..", "scenarios", "cases",
        "x01-exclusive-both-profiles.conf"))));
    assertTrue(SimHost.countsByField(ScenarioParser.parse(Path.of("..", "scenarios", "cases",
        "m05-devpriv-fault-trylock.conf"))));
    assertFalse(SimHost.countsByField(ScenarioParser.parse(EXPLORE.resolve("c-fork-enomem.conf"))));
  }

  /** The checker counts by value only the fields a file's trace counts filter by (session 24, simcost8). */
  @Test
  void countedFieldsAreThoseTheFileFiltersBy() {
    assertEquals(java.util.Set.of("CpuFaulted.kind", "PteChanged.state"), SimHost.countedFields(ScenarioParser.parse(
        Path.of("..", "scenarios", "cases", "x01-exclusive-both-profiles.conf"))));
    assertEquals(java.util.Set.of("CpuFaulted.kind", "PteChanged.cause"), SimHost.countedFields(ScenarioParser.parse(
        Path.of("..", "scenarios", "cases", "t05-hmm-exclusive-thp.conf"))));
    assertEquals(java.util.Set.of(), SimHost.countedFields(ScenarioParser.parse(EXPLORE.resolve("c-fork-enomem.conf"))));
  }
}
