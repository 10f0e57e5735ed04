package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The busy-loop livelock verdict ({@link BusyLoopWatch}, docs/SCENARIOS.md "Liveness verdicts"; issue 13 (b)):
 * scenarios/explore/b-no-folio-lock-progress.conf (no pause point, no spin) holds in the seeded order; exploration
 * finds a schedule in which T1's writes keep undoing G's driver iterations for longer than the file's
 * {@code livelock-span}, reported with kind {@code livelock}, naming G, its loop and who undoes it, and the shrunk
 * schedule still livelocks. The same file with the folio lock held until the driver mapped (the kernel) cannot
 * livelock: no write can land inside an iteration, so no iteration fails. Without the {@code liveness} block the
 * found schedule is no livelock (the verdict is the file's opt-in; no other file changes).
 */
class ExploreLivelockTest {
  static final Config BASE = ConfigFactory.load();
  static final Path B = Path.of("..", "scenarios", "explore", "b-no-folio-lock-progress.conf");
  static final long SEED = 50; // ExploreTargets.SEED: b holds seeded and random finds its livelock (46); 2 before TieRule moved the draws

  private static Scenario variant(String from, String to) throws IOException {
    String text = Files.readString(B);
    assertTrue(text.contains(from), "the b file no longer says " + from);
    return ScenarioParser.parse(B.toString(), text.replace(from, to));
  }

  @Test
  void theFileHoldsInTheSeededOrderAndStatesItsSpan() {
    Scenario s = ScenarioParser.parse(B);
    assertEquals(Duration.ofNanos(20_000), s.livelockSpan());
    SimScenarioRunner.Result r = SimScenarioRunner.run(s, SEED, BASE);
    assertTrue(r.ran() && r.ok(), r.failures().toString());
  }

  @Test
  void withoutTheFolioLockExplorationFindsALivelockNamingTheLoopAndShrinksIt() throws IOException {
    Scenario s = ScenarioParser.parse(B);
    Explorer x = new Explorer(s, SEED, BASE);
    Explorer.Report r = x.explore(Explorer.Strategy.RANDOM, 300, 0);
    assertNotNull(r.failure(), "no livelock within 300 random schedules");
    assertEquals("livelock", r.failure().kind(), r.failure().firstFailure());
    String f = r.failure().firstFailure();
    assertTrue(f.contains("got a livelock") && f.contains("G's driver fault loop failed")
        && f.contains("read_retry failed") && f.contains("make_device_exclusive")
        && f.contains("undone by: ") && f.contains("T1 devexcl fault") && f.contains("MMU_NOTIFY_CLEAR")
        && f.contains("step 2 'gpu'"), f);
    // the choice points per kind add up to the states visited
    assertEquals(r.states(), r.choicePoints().values().stream().mapToLong(Long::longValue).sum(),
        r.choicePoints().toString());
    Shrinker.Shrunk shrunk = new Shrinker(x, "livelock").shrink(r.failure().schedule());
    assertEquals("livelock", x.replay(shrunk.schedule()).kind());
    assertTrue(shrunk.deviations().size() < r.failure().schedule().length, shrunk.deviations().toString());
    // the same schedule without the file's liveness block: G's access completes late, but that is no verdict
    Scenario unwatched = variant("liveness { livelock-span = 20us }\n", "");
    assertNull(unwatched.livelockSpan());
    ScheduleRun.Outcome o = new Explorer(unwatched, SEED, BASE).replay(r.failure().schedule());
    assertNotEquals("livelock", o.kind(), o.failures().toString());
  }

  @Test
  void withTheFolioLockUntilMappedNoScheduleLivelocks() throws IOException {
    Scenario kernel = variant("folio-lock-until-mapped = false", "folio-lock-until-mapped = true");
    for (Explorer.Strategy st : Explorer.Strategy.values()) {
      Explorer.Report r = new Explorer(kernel, SEED, BASE).explore(st, 300, 0);
      assertNull(r.failure(), () -> st + ": " + r.failure().firstFailure());
    }
  }

  /**
   * C08 itself (T1 spins on X for 1500 ms against G's atomic; the driver's 1000 ms deadline ends G's loop with
   * CANCELLED): with a span below the deadline the same run is a livelock naming G's loop and T1; with a span over
   * the deadline the kernel's deadline ends the loop first and the file holds as it does without a liveness block.
   */
  @Test
  void aDeadlineEndingTheLoopIsNoLivelockButASpanBelowItIs() throws IOException {
    Path c08 = Path.of("..", "scenarios", "cases", "c08-thrash-no-folio-lock.conf");
    String text = Files.readString(c08);
    String at = "switches { folio-lock-until-mapped = false }\n";
    assertTrue(text.contains(at));
    Scenario below = ScenarioParser.parse(c08.toString(), text.replace(at, at + "liveness { livelock-span = 100ms }\n"));
    SimScenarioRunner.Result r = SimScenarioRunner.run(below, SEED, BASE);
    assertTrue(!r.ok() && !r.failures().isEmpty(), "C08 with a 100 ms span held");
    String f = r.failures().get(0); // then the await's own expectations, as after every liveness verdict
    assertEquals("livelock", SimScenarioRunner.failureKind(f), f);
    assertTrue(f.contains("G's driver fault loop failed") && f.contains("T1 devexcl fault")
        && f.contains("MMU_NOTIFY_CLEAR"), f);
    Scenario over = ScenarioParser.parse(c08.toString(), text.replace(at, at + "liveness { livelock-span = 2s }\n"));
    SimScenarioRunner.Result ok = SimScenarioRunner.run(over, SEED, BASE);
    assertTrue(ok.ok(), ok.failures().toString());
  }

  @Test
  void theLivenessBlockIsChecked() {
    String head = "name = x\nvmas = [{name = v, start = \"0x7f0000000000\", pages = 1}]\nsteps = [{ T1 { read = \"v+0:word0\" } }]\n";
    ScenarioException e = assertThrows(ScenarioException.class,
        () -> ScenarioParser.parse("l.conf", head + "liveness { livelock-span = 0s }\n"));
    assertTrue(e.getMessage().contains("liveness.livelock-span: must be > 0"), e.getMessage());
    e = assertThrows(ScenarioException.class, () -> ScenarioParser.parse("l.conf", head + "liveness { span = 1ms }\n"));
    assertTrue(e.getMessage().contains("span"), e.getMessage());
    assertNull(ScenarioParser.parse("l.conf", head).livelockSpan());
  }
}
