package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Progress on stderr (issue 15): done of total, the recent rate and the ETA; nothing with --quiet. */
class ProgressTest {
  private static final long S = 1_000_000_000L;

  @Test
  void theRateIsRecentSoASlowStartFades() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (Progress p = new Progress("operations", 1000, true, new PrintStream(err), false)) {
      long t0 = System.nanoTime();
      p.line(t0 + 60 * S); // a minute of launching JVMs, nothing done
      p.add(100);
      p.line(t0 + 70 * S);
      p.add(100);
      String l = p.line(t0 + 80 * S); // 200 done in the last 20 s: 10/s, 800 left: 1:20
      assertTrue(l.startsWith("200/1000 operations (20%), 10/s, ETA 1:20"), l);
      p.add(100);
      l = p.line(t0 + 90 * S); // the window is 70 s..90 s: 200 more in 20 s
      assertTrue(l.startsWith("300/1000 operations (30%), 10/s, ETA 1:10"), l);
    }
    assertEquals("", err.toString(StandardCharsets.UTF_8), "quiet: nothing on stderr");
  }

  @Test
  void nothingDoneHasNoEta() {
    try (Progress p = new Progress("operations", 10, true, System.err, false)) {
      assertTrue(p.line().contains("ETA --:--"), p.line());
    }
  }
}
