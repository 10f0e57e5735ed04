package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hmm-emu explore --json} (docs/TESTING.md "Exploration"): explore file b is found as a {@code livelock}
 * (its {@code liveness} block, docs/SCENARIOS.md §8), shrunk, and the JSON line counts the choice points by kind
 * next to the keys it always had.
 */
class ExploreJsonTest {
  static final String B = "../scenarios/explore/b-no-folio-lock-progress.conf";

  private static List<String> run(String... args) { return run(1, args); }

  private static List<String> run(int exit, String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      code = Main.run(args);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(exit, code, String.join("\n", lines));
    return lines;
  }

  @Test
  void fileBIsALivelockAndTheJsonCountsChoicePointsByKind(@TempDir Path out) {
    // seed 50 (ExploreTargets.SEED): random finds b's livelock in schedule 46; seed 2 finds none in 200 since TieRule
    List<String> lines = run("explore", B, "--strategy", "random", "--budget", "200", "--seed", "50", "--json",
        "--out", out.toString());
    String json = lines.get(lines.size() - 1);
    for (String key : List.of("\"ok\": false", "\"strategy\": \"random\"", "\"schedules\": ", "\"distinctStates\": ",
        "\"statesPerSecond\": ", "\"statesPerCpuSecond\": ", "\"kind\": \"livelock\"", "\"schedule\": [",
        "\"shrunkFile\": ", "\"shrunkSteps\": ")) {
      assertTrue(json.contains(key), key + " missing: " + json);
    }
    Matcher cp = Pattern.compile("\"choicePoints\": \\{([^}]*)\\}").matcher(json);
    assertTrue(cp.find(), json);
    long total = 0;
    Matcher kv = Pattern.compile("\"([a-z-]+)\": (\\d+)").matcher(cp.group(1));
    while (kv.find()) {
      assertTrue(List.of("link", "other", "link-vs-other", "start-order", "start-gap").contains(kv.group(1)), json);
      total += Long.parseLong(kv.group(2));
    }
    assertTrue(total > 0, json);
    Matcher n = Pattern.compile("\"scheduleNumber\": (\\d+), \"shrunkDeviations\": (\\d+)").matcher(json);
    assertTrue(n.find(), json);
    assertTrue(Integer.parseInt(n.group(1)) <= 200 && Integer.parseInt(n.group(2)) > 0, json);
    assertTrue(String.join("\n", lines).contains("G's driver fault loop failed"), String.join("\n", lines));
  }

  @Test
  void exploreBenchCountsGeneratedStatesApartAndProbesASnapshot() {
    List<String> lines = run(0, "explore-bench", B, "--budget", "40", "--depth", "2", "--json");
    String json = lines.get(lines.size() - 1);
    Matcher m = Pattern.compile("\"states\": (\\d+), \"generatedStates\": (\\d+), \"distinctStates\": (\\d+)")
        .matcher(json);
    assertTrue(m.find(), json);
    long states = Long.parseLong(m.group(1)), generated = Long.parseLong(m.group(2));
    assertTrue(generated < states && generated >= Long.parseLong(m.group(3)), json);
    assertTrue(json.contains("\"copyObjects\": ") && !json.contains("\"copyObjects\": 0,"), json);
    assertTrue(String.join("\n", lines).contains("MISSED") || String.join("\n", lines).contains("*"), json);
  }
}
