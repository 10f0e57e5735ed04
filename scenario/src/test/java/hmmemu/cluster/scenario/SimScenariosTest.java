package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every scenario file in the deterministic simulator (issue 12): the files' expectations are the contract, so each
 * file holds with each of a few seeds, or is a counted skip naming why the simulator cannot run it yet (only files
 * with a faults block); and a seed replays a run exactly (the same trace hash). {@code -Dhmm.scenario=c06} runs
 * only the files whose name contains that text.
 */
class SimScenariosTest {
  static final Path CASES = Path.of("..", "scenarios", "cases");
  static final Path FAULTS = Path.of("..", "scenarios", "faults");
  /** A handful of seeds per file (the CLI's --seeds N runs more). */
  static final long[] SEEDS = java.util.Arrays.stream(System.getProperty("hmm.sim.seeds", "1,2,3,42,1234").split(","))
      .mapToLong(Long::parseLong).toArray();

  static final Config BASE = ConfigFactory.load();

  static List<Path> files(Path dir) throws IOException {
    assertTrue(Files.isDirectory(dir), "no scenario directory at " + dir.toAbsolutePath());
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".conf"))
          .filter(p -> p.getFileName().toString().contains(System.getProperty("hmm.scenario", ""))).sorted()
          .collect(Collectors.toList());
    }
  }

  @TestFactory
  Stream<DynamicTest> everyCaseFileHoldsInTheSimulator() throws IOException {
    return files(CASES).stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> holds(f)));
  }

  @TestFactory
  Stream<DynamicTest> everyFaultFileHoldsOrIsACountedSkip() throws IOException {
    return files(FAULTS).stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> holds(f)));
  }

  private static void holds(Path file) {
    Scenario scenario = ScenarioParser.parse(file);
    for (long seed : SEEDS) {
      SimScenarioRunner.Result r = SimScenarioRunner.run(scenario, seed, BASE);
      System.err.println("SIMTEST " + file.getFileName() + " seed " + seed + " " + r.wallNanos() / 1_000_000 + " ms "
          + r.events() + " events ok=" + r.ok() + " " + r.failures());
      if (!r.ran()) {
        // only a faults block may be refused, and then for every seed, with its reason
        assertTrue(!scenario.faults().entries().isEmpty(), file + " was skipped without a faults block: " + r.skipped());
        assertTrue(r.skipped().contains("faults block"), r.skipped());
        return;
      }
      assertTrue(r.ok(), () -> file + " seed " + seed + " (" + r.replayLine() + "): " + r.failures().size()
          + " failure(s):\n  " + String.join("\n  ", r.failures()));
      assertTrue(r.events() > 0, file + " made no trace event");
    }
  }

  /** A seed replays a run exactly: a pause-point file and an async race give the same trace hash twice. */
  @Test
  void replayingASeedGivesTheSameTraceHash() {
    for (String f : List.of("c12-fork-in-driver-window.conf", "c08-thrash-no-folio-lock.conf")) {
      Scenario s = ScenarioParser.parse(CASES.resolve(f));
      SimScenarioRunner.Result a = SimScenarioRunner.run(s, 7, BASE);
      SimScenarioRunner.Result b = SimScenarioRunner.run(s, 7, BASE);
      assertTrue(a.ran() && a.events() > 0, f);
      assertEquals(a.traceHashHex(), b.traceHashHex(), f + ": seed 7 gave two trace hashes");
      assertEquals(a.events(), b.events(), f);
      assertEquals(a.failures(), b.failures(), f);
    }
  }

  /** C10's driver-lock deadlock is a deadlock in the simulator too: no event is enabled while the step waits. */
  @Test
  void anExpectedDeadlockIsNamedAsOne() {
    Scenario s = ScenarioParser.parse(CASES.resolve("c10-driver-lock-deadlock.conf"));
    SimScenarioRunner.Result r = SimScenarioRunner.run(s, 1, BASE);
    assertNotNull(r);
    assertTrue(r.ok(), () -> String.join("\n", r.failures()));
  }
}
