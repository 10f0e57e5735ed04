package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hmm-emu explore-bench} refuses bad input before it measures anything: a bound below 1, a missing file, an
 * empty directory or a malformed scenario is one line on stderr, exit 2 and no table (it used to measure
 * {@code --budget -1} as a table of -1 schedules with exit 0, and a missing file ended a printed table with exit 1).
 */
class ExploreBenchCliTest {
  static final String C11 = "../scenarios/cases/c11-madvise-before-check.conf";

  private static void refused(String expect, String... args) {
    CliRun r = CliRun.run(args);
    assertEquals(2, r.code(), String.join(" ", args) + ": " + r);
    assertEquals(1, r.err().size(), String.join(" ", args) + ": " + r.err());
    assertTrue(r.err().get(0).contains(expect), r.err().get(0));
    assertTrue(r.out().isEmpty(), "printed before refusing: " + r.out());
  }

  @Test
  void boundsBelowOneAreRefused() {
    refused("--budget must be at least 1, got -1", "explore-bench", "--budget", "-1", C11);
    refused("--depth must be at least 1, got 0", "explore-bench", "--depth", "0", C11);
    refused("--passes must be at least 1, got 0", "explore-bench", "--passes", "0", C11);
  }

  @Test
  void missingEmptyAndMalformedInputsAreRefused(@TempDir Path tmp) throws Exception {
    refused("no such file or directory", "explore-bench", tmp.resolve("nosuch.conf").toString());
    Path empty = Files.createDirectory(tmp.resolve("empty"));
    refused("no scenario files (*.conf)", "explore-bench", empty.toString());
    Path bad = tmp.resolve("bad.conf");
    Files.writeString(bad, String.join("\n", List.of("name = \"x\"", "steps = [ { T1 { write = ")));
    refused("bad.conf:", "explore-bench", C11, bad.toString());
  }
}
