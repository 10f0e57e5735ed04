package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code hmm-emu explore --max-delay D} (docs/TESTING.md "Bounded delay"): a bad bound is refused with one line and
 * exit 2; k01, whose unbounded exploration fails at its timing bound, passes 10 PCT schedules with 50 µs, and the JSON
 * line carries the bound (null when unbounded).
 */
class ExploreMaxDelayCliTest {
  static final String K01 = "../scenarios/cases/k01-kthread-lock-exclusive-waits.conf";


  private static CliRun run(String... args) { return CliRun.run(args); }

  @Test
  void aBadBoundIsRefusedWithOneLine() {
    for (String bad : List.of("50", "-5us", "1.5ms", "fast")) {
      CliRun r = run("explore", K01, "--max-delay", bad);
      assertEquals(2, r.code(), bad + ": " + r);
      assertEquals(1, r.err().size(), bad + ": " + r.err());
      assertTrue(r.err().get(0).startsWith("hmm-emu explore: --max-delay: expected a duration"), r.err().get(0));
    }
  }

  @Test
  void k01PassesBoundedAndTheJsonCarriesTheBound() {
    CliRun bounded = run("explore", K01, "--budget", "10", "--max-delay", "50us", "--no-shrink", "--json");
    assertEquals(0, bounded.code(), String.join("\n", bounded.out()));
    assertTrue(bounded.out().get(0).contains("--max-delay 50us"), bounded.out().get(0));
    String json = bounded.out().get(bounded.out().size() - 1);
    assertTrue(json.contains("\"ok\": true") && json.contains("\"maxDelayNanos\": 50000"), json);
    CliRun unbounded = run("explore", K01, "--budget", "10", "--no-shrink", "--json");
    assertEquals(1, unbounded.code(), String.join("\n", unbounded.out()));
    String u = unbounded.out().get(unbounded.out().size() - 1);
    assertTrue(u.contains("\"maxDelayNanos\": null") && u.contains("\"kind\": \"expectation\""), u);
  }
}
