package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.cluster.scenario.CaseResult;
import hmmemu.cluster.scenario.Scenario;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Mutant;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The mutation score's bookkeeping with a pluggable per-file runner (no cluster), and the mutants' switches. */
class MutantsCommandTest {
  private static Scenario file(String name) {
    return new Scenario(name, name, null, null, ModelSwitches.kernel(), 1, null, 0, List.of(), List.of(), List.of(),
        List.of(), null, List.of(KernelProfile.V6_15));
  }

  private static CaseResult verdict(Scenario s, boolean ok) {
    return new CaseResult(s.file(), s.name(), ok, ok ? List.of() : List.of(s.file() + ":1: expected X, got Y"), 1);
  }

  @Test
  void aMutantIsKilledByTheFirstFileThatTurnsFromPassToFail() {
    List<Scenario> files = List.of(file("a.conf"), file("b.conf"), file("broken.conf"), file("c.conf"));
    List<String> ran = new ArrayList<>();
    Function<Scenario, CaseResult> runner = s -> {
      ran.add(s.file() + s.switches().mutants());
      if (s.file().equals("broken.conf")) return verdict(s, false); // fails at the baseline: never counts
      if (s.switches().has(Mutant.SKIP_READ_RETRY) && s.file().equals("b.conf")) return verdict(s, false);
      if (s.switches().has(Mutant.SKIP_SET_SEQ) && s.file().equals("broken.conf")) return verdict(s, false);
      return verdict(s, true);
    };
    MutantsCommand cmd = new MutantsCommand();
    cmd.quiet = true;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    MutantsCommand.Score score = cmd.score(files, EnumSet.of(Mutant.SKIP_READ_RETRY, Mutant.SKIP_SET_SEQ), runner,
        new PrintStream(bytes, true, StandardCharsets.UTF_8));
    assertEquals(List.of("broken.conf"), score.baselineFailures());
    MutantsCommand.Outcome killed = score.outcomes().get(0);
    assertEquals(Mutant.SKIP_READ_RETRY, killed.mutant());
    assertEquals("b.conf", killed.killedBy());
    assertEquals(2, killed.filesRun(), "stops at the killing file");
    MutantsCommand.Outcome survived = score.outcomes().get(1);
    assertNull(survived.killedBy(), "a failure of a file that already failed at the baseline kills nothing");
    assertEquals(3, survived.filesRun());
    assertFalse(ran.contains("broken.conf[SKIP_SET_SEQ]"), "baseline failures are left out of the score");
    String json = MutantsCommand.toJson(score);
    assertTrue(json.startsWith("{\"mutants\": 2, \"killed\": 1, \"survivors\": [\"skip-set-seq\"]"), json);
    assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("KILLED   skip-read-retry"));
  }

  @Test
  void onlyParsesKebabNamesAndRejectsUnknownOnes() {
    assertEquals(Set.of(Mutant.ACK_BEFORE_TLB_FLUSH, Mutant.SKIP_READ_RETRY),
        MutantsCommand.chosen(List.of("ack-before-tlb-flush", "SKIP_READ_RETRY")));
    assertEquals(EnumSet.allOf(Mutant.class), MutantsCommand.chosen(null));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MutantsCommand.chosen(List.of("no-such-mutant")));
    assertTrue(e.getMessage().contains("unknown mutant 'no-such-mutant'"), e.getMessage());
  }

  @Test
  void mutantsAreOffByDefaultAndSurviveEveryOtherSwitch() {
    ModelSwitches k = ModelSwitches.kernel();
    assertTrue(k.mutants().isEmpty());
    for (Mutant m : Mutant.values()) assertFalse(k.has(m));
    ModelSwitches m = k.withMutant(Mutant.SKIP_READ_RETRY).withMutant(Mutant.ACK_BEFORE_TLB_FLUSH)
        .withMutant(Mutant.SKIP_READ_RETRY);
    assertEquals(List.of(Mutant.SKIP_READ_RETRY, Mutant.ACK_BEFORE_TLB_FLUSH), m.mutants(), "declaration order, once");
    ModelSwitches moved = m.withKernelProfile(KernelProfile.V5_14).withOwnerFilter(false).withFolioLockUntilMapped(false)
        .withBrokenMapBeforeRetry(true).withDriverDeadlineMicros(5).withDriverLockAcrossConversion(true)
        .withLeakFolioOnRetry(true).withDmirrorSeqCheck(true).withHmmPfnExclusive(true);
    assertEquals(m.mutants(), moved.mutants());
    assertEquals(k, new ModelSwitches(k.kernelProfile(), true, true, false, false, false, false,
        ModelSwitches.DEFAULT_DEADLINE_MICROS, false), "the nine-argument constructor still means no mutant");
    assertEquals(m.mutants(), file("a.conf").withMutants(m.mutants()).switches().mutants());
    assertTrue(Mutant.values().length >= 20, "issue 13 asks for at least 20 mutants");
  }

  /** {@code --host} and {@code --seeds}: bad input is one line on stderr and exit 2, before anything runs. */
  @Test
  void badHostOrSeedsIsOneLineAndExit2() {
    for (String[] args : List.of(new String[] {"mutants", "--host", "gpu", "../scenarios/cases/c05-nouveau-atomic.conf"},
        new String[] {"mutants", "--seeds", "3", "../scenarios/cases/c05-nouveau-atomic.conf"},
        new String[] {"mutants", "--host", "sim", "--seeds", "0", "../scenarios/cases/c05-nouveau-atomic.conf"})) {
      CliRun r = CliRun.run(args);
      int code = r.code();
      List<String> lines = r.err();
      assertEquals(2, code, String.join(" ", args) + ": " + lines);
      assertEquals(1, lines.size(), String.join(" ", args) + ": " + lines);
    }
  }

  /**
   * {@code --host sim}: the simulator's verdict per file, seeds 1..N: x07 passes without mutants and is failed by
   * exclusive-skip-rewalk, with the line that replays the failing seed.
   */
  @Test
  void theSimulatorHostKillsTheRewalkMutantWithX07() {
    Scenario x07 = hmmemu.cluster.scenario.ScenarioParser.parse(
        java.nio.file.Path.of("..", "scenarios", "cases", "x07-exclusive-rewalk-after-dontneed.conf"));
    Function<Scenario, CaseResult> sim = MutantsCommand.simRunner(com.typesafe.config.ConfigFactory.load(), 2);
    CaseResult base = sim.apply(x07);
    assertTrue(base.ok(), base.failures().toString());
    CaseResult mutated = sim.apply(x07.withMutants(Set.of(Mutant.EXCLUSIVE_SKIP_REWALK)));
    assertFalse(mutated.ok());
    assertTrue(mutated.failures().get(0).endsWith("(hmm-emu sim " + x07.file() + " --seed 1)"), mutated.failures().get(0));
  }

  /** {@code mutants --list --json} ends with the list as one JSON line (--json was ignored with --list). */
  @Test
  void listWithJsonEndsWithTheListAsJson() throws Exception {
    CliRun r = CliRun.run("mutants", "--list", "--json");
    assertEquals(0, r.code(), r.toString());
    com.fasterxml.jackson.databind.JsonNode list = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.last())
        .get("mutants");
    assertEquals(Mutant.values().length, list.size(), r.last());
    assertEquals(Mutant.SKIP_READ_RETRY.cliName(), list.get(Mutant.SKIP_READ_RETRY.ordinal()).get("name").asText());
    assertTrue(list.get(0).get("kernelFunction").asText().length() > 0, r.last());
  }
}
