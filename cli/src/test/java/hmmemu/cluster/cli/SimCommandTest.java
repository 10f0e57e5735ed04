package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code hmm-emu sim}: bad input is one line and exit 2; one FILE with --seed S replays the same run (the same
 * trace hash in its JSON line); a skipped file (a faults block) is counted as skipped, never as passed.
 */
class SimCommandTest {
  static final String C05 = "../scenarios/cases/c05-nouveau-atomic.conf";


  private static CliRun run(String... args) { return CliRun.run(args); }

  @Test
  void badInputIsOneLineAndExit2() {
    for (String[] args : List.of(new String[] {"sim", "no-such-file.conf"},
        new String[] {"sim", C05, "--seeds", "0"},
        new String[] {"sim", C05, "--seeds", "2", "--seed", "1"},
        new String[] {"sim", C05, "--seed", "x"})) {
      CliRun r = run(args);
      assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
      assertEquals(1, r.err().size(), String.join(" ", args) + ": " + r.err());
    }
  }

  @Test
  void oneSeedReplaysWithItsTraceHash() {
    CliRun a = run("sim", C05, "--seed", "5", "--json");
    CliRun b = run("sim", C05, "--seed", "5", "--json");
    assertEquals(0, a.code(), a.out().toString());
    assertTrue(a.last().startsWith("{\"ok\": true, \"passed\": 1, \"failed\": 0, \"skipped\": 0, \"seeds\": 1,"), a.last());
    assertTrue(a.last().contains("\"traceHash\": \""), a.last());
    assertTrue(a.last().contains("\"failingSeeds\": []"), a.last());
    String hash = a.last().replaceAll(".*\"traceHash\": \"([0-9a-f]{16})\".*", "$1");
    assertEquals(16, hash.length(), a.last());
    assertTrue(b.last().contains("\"traceHash\": \"" + hash + "\""), "seed 5 replayed with another hash: " + b.last());
    assertTrue(a.out().stream().anyMatch(l -> l.contains("seed 5 ok, trace " + hash)), a.out().toString());
  }

  /** A crash and a restart in a faults block run in the simulator through the host's crash bookkeeping (no skip). */
  @Test
  void aCrashInAFaultsBlockRunsInTheSimulator() {
    CliRun r = run("sim", "../scenarios/faults/crash-restart.conf", "--seeds", "2", "--json");
    assertEquals(0, r.code(), r.out().toString());
    assertTrue(r.out().get(0).startsWith("PASS ../scenarios/faults/crash-restart.conf"), r.out().get(0));
    assertTrue(r.last().contains("\"passed\": 1, \"failed\": 0, \"skipped\": 0"), r.last());
  }

  /** A faults block of link faults runs on the simulator's link stage, in model time (5 % loss both ways here). */
  @Test
  void aLinkFaultsFileRunsInTheSimulator() {
    CliRun r = run("sim", "../scenarios/faults/loss.conf", "--seeds", "2", "--json");
    assertEquals(0, r.code(), r.out().toString());
    assertTrue(r.out().get(0).startsWith("PASS ../scenarios/faults/loss.conf"), r.out().get(0));
    assertTrue(r.last().contains("\"passed\": 1, \"failed\": 0, \"skipped\": 0"), r.last());
  }

  /** A simulated run leaves its record like every run (docs/OBSERVABILITY.md), its metrics from the checked stream. */
  @Test
  void aSimulatedRunLeavesItsRecord(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    CliRun r = run("sim", "../scenarios/cases/c05-nouveau-atomic.conf", "--seed", "3", "--out", dir.toString(), "--quiet");
    assertEquals(0, r.code(), r.out().toString());
    for (String f : List.of("result.json", "metrics.json", "trace.json", "report.html")) {
      assertTrue(java.nio.file.Files.size(dir.resolve(f)) > 0, f + " missing or empty in " + dir);
    }
    String metrics = java.nio.file.Files.readString(dir.resolve("metrics.json"));
    assertTrue(metrics.contains("\"conversions\"") && metrics.contains("seed 3"), metrics);
    assertTrue(r.last().equals("run record: " + dir), r.last());
  }
}
