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

  /** A long simulator run (demo --sim, one arm of minutes): the arm, its seed and the trace events so far move. */
  @Test
  void aLongRunShowsItsEventsSoFar() {
    long[] events = {0};
    try (Progress p = new Progress("arms", 2, true, System.err, false).events(() -> events[0])) {
      p.stage("arm 'folio-lock (kernel)', seed 42");
      events[0] = 12_345_678;
      String l = p.line();
      assertTrue(l.startsWith("0/2 arms (0%), 0/s, ETA --:-- - arm 'folio-lock (kernel)', seed 42: 12,345,678 trace"
          + " events"), l);
      p.stage("");
      assertTrue(p.line().endsWith("ETA --:-- - 12,345,678 trace events"), p.line());
    }
  }
}
