package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.scenario.Explorer;
import hmmemu.cluster.scenario.ScenarioParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code hmm-emu explore}'s progress on stderr (Session 17: ux3): schedules tried of the budget and failures found,
 * read from Explorer#schedulesTried by the ticker thread; {@code --quiet} shows none; a {@code --json} run's stdout is
 * the same lines either way, the JSON line last. (The ticker's period is wall time, 5 s off a terminal: these runs
 * end sooner, so the line it prints is checked on Progress#line with an injected clock.)
 */
class ExploreProgressCliTest {
  private static final String C05 = "../scenarios/cases/c05-nouveau-atomic.conf";
  private static final long S = 1_000_000_000L;

  @Test
  void theLineShowsSchedulesOfTheBudgetAndFailuresFound() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    long[] tried = {0};
    try (Progress p = new Progress("schedules", 1000, true, new PrintStream(err), false).done(() -> tried[0])) {
      long t0 = System.nanoTime();
      p.stage("0 failures found");
      tried[0] = 250;
      String l = p.line(t0 + 10 * S); // 250 in 10 s: 25/s, 750 left: 0:30
      assertTrue(l.startsWith("250/1000 schedules (25%), 25/s, ETA 0:30 - 0 failures found"), l);
      p.stage("1 failure found (schedule 251), shrinking (ddmin)");
      tried[0] = 251;
      assertTrue(p.line(t0 + 11 * S).startsWith("251/1000 schedules (25%)"), p.line());
      assertTrue(p.line().endsWith(" - 1 failure found (schedule 251), shrinking (ddmin)"), p.line());
      assertEquals(251, p.done());
    }
    assertEquals("", err.toString(StandardCharsets.UTF_8), "quiet: nothing on stderr");
  }

  /** The counter is display only: after an exploration it is the report's schedules, and the report is unchanged. */
  @Test
  void schedulesTriedEndsAtTheReportsSchedules() throws Exception {
    Explorer x = new Explorer(ScenarioParser.parse(Path.of(C05)), 1, HmmEmuSettings.load(null, Map.of()).config);
    assertEquals(0, x.schedulesTried());
    Explorer.Report r = x.explore(Explorer.Strategy.PCT, 12, 0);
    assertEquals(r.schedules(), x.schedulesTried());
    Explorer.Report again = new Explorer(ScenarioParser.parse(Path.of(C05)), 1,
        HmmEmuSettings.load(null, Map.of()).config).explore(Explorer.Strategy.PCT, 12, 0);
    assertEquals(List.of(r.schedules(), r.states(), r.distinctStates(), r.choicePoints()),
        List.of(again.schedules(), again.states(), again.distinctStates(), again.choicePoints()));
  }

  @Test
  void quietShowsNoProgressAndJsonStaysStdoutsLastLine() {
    CliRun quiet = CliRun.run("explore", C05, "--budget", "12", "--json", "--quiet");
    assertEquals(0, quiet.code(), quiet.toString());
    assertEquals(List.of(), quiet.err(), "--quiet: nothing on stderr");
    assertTrue(quiet.last().startsWith("{\"ok\": true") && quiet.last().endsWith("}"), quiet.last());
    assertEquals(1, quiet.out().stream().filter(l -> l.startsWith("{")).count(), quiet.out().toString());
    CliRun shown = CliRun.run("explore", C05, "--budget", "12", "--json", "-q");
    assertEquals(List.of(), shown.err(), "-q: nothing on stderr");
    CliRun loud = CliRun.run("explore", C05, "--budget", "12", "--json");
    assertEquals(0, loud.code(), loud.toString());
    // progress adds nothing to stdout: the same lines (their timings aside), the JSON line last
    assertEquals(quiet.out().size(), loud.out().size(), loud.out().toString());
    assertTrue(loud.last().startsWith("{\"ok\": true") && loud.last().endsWith("}"), loud.last());
    assertTrue(loud.out().stream().noneMatch(l -> l.startsWith("progress:")), loud.out().toString());
    assertTrue(loud.err().stream().allMatch(l -> l.startsWith("progress: ") && l.contains("/12 schedules")),
        loud.err().toString());
  }
}
