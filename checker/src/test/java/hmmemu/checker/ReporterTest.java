package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Session 24 (xrep): the Reporter's ring keeps each recorded event's parts in its own arrays (the event, the node, the
 * model time, the vector clock copied) instead of the {@link Stamped} records: a violation quotes exactly the events it
 * quoted before (each formatted from the event as offered), through the ring's wrap and a longer vector clock than any
 * before, and the ring shares no array with what was offered or handed out.
 */
class ReporterTest {
  /** What the ring used to hold: the last {@code n} offered events, oldest first, formatted as a violation quotes them. */
  private static List<String> expected(List<Stamped> offered, int n) {
    int take = Math.min(Math.min(Math.max(0, n), 256), offered.size());
    List<String> out = new ArrayList<>();
    for (Stamped s : offered.subList(offered.size() - take, offered.size())) out.add(EventFormat.describe(s));
    return out;
  }

  private static Trace.Event event(SplittableRandom r, int i) {
    return switch (r.nextInt(3)) {
      case 0 -> new Trace.CpuFaulted(r.nextInt(4), 1, 0x7f00_0000L + 0x1000L * i, "anon");
      case 1 -> new Trace.InvalidateAcked(i, r.nextInt(3), 2, r.nextBoolean(), false);
      default -> new Trace.NodeGone(r.nextInt(3), "node " + i + " gone");
    };
  }

  @Test
  void lastEventsQuoteTheOfferedEventsThroughTheWrapAndAWiderClock() {
    SplittableRandom r = new SplittableRandom(24);
    Reporter rep = new Reporter();
    List<Stamped> offered = new ArrayList<>();
    assertEquals(List.of(), rep.lastEvents(12));
    for (int i = 0; i < 900; i++) {
      int width = i < 300 ? 2 : i < 600 ? 3 : 7; // the clock gets longer twice: the ring's words are laid out again
      long[] vc = new long[width];
      for (int j = 0; j < width; j++) vc[j] = r.nextLong(1_000_000);
      int node = r.nextInt(width);
      Stamped s = i % 5 == 0 ? new Stamped(node, vc, event(r, i)) : new Stamped(node, vc, event(r, i), r.nextLong(1 << 40));
      offered.add(s);
      rep.record(s);
      for (int n : new int[] {0, 1, 12, 255, 256, 300}) {
        if (i % 97 == 0 || i > 880 || n == 12) assertEquals(expected(offered, n), rep.lastEvents(n), "n=" + n + " at " + i);
      }
    }
    for (int k = 0; k < 256; k++) { // each slot holds what was offered there, the vector clock as it was
      Stamped want = offered.get(offered.size() - 256 + k);
      Stamped got = rep.entry((int) ((offered.size() - 256 + k) & 255));
      assertEquals(want.node(), got.node());
      assertArrayEquals(want.vc(), got.vc());
      assertSame(want.event(), got.event(), "the event, an immutable record, is kept as offered");
      assertEquals(want.atMicros(), got.atMicros());
      assertNotSame(want.vc(), got.vc(), "the ring copies the clock: it shares no array with the offered event");
    }
  }

  @Test
  void theRingSharesNoArrayWithWhatItWasOfferedOrHandsOut() {
    Reporter rep = new Reporter();
    assertNull(rep.entry(0), "a slot never written");
    long[] vc = {3, 9};
    Stamped s = new Stamped(1, vc, new Trace.NodeGone(2, "x"), 42);
    rep.record(s);
    List<String> before = rep.lastEvents(1);
    assertEquals(List.of("n1#9 " + EventFormat.describe(s.event())), before);
    assertTrue(before.get(0).startsWith("n1#9 NodeGone["), before::toString);
    rep.entry(0).vc()[1] = 77; // a reader writing into an entry's clock changes nothing kept
    assertArrayEquals(new long[] {3, 9}, rep.entry(0).vc());
    assertEquals(before, rep.lastEvents(1));
    Stamped none = new Stamped(0, null, new Trace.NodeGone(0, "y"));
    rep.record(none); // a clock-less event (never offered by a simulator) is kept as such
    assertNull(rep.entry(1).vc());
    assertEquals(-1, rep.entry(1).atMicros());
  }

  /** A violation quotes the last events the checker applied, in the order it applied them. */
  @Test
  void aViolationQuotesTheLastAppliedEventsExactly() {
    TraceBuilder b = Scenario.setup(false);
    for (int i = 0; i < 20; i++) b.cpu(new Trace.CpuFaulted(1, Scenario.MM, Scenario.B + i * Scenario.P, "anon"));
    b.cpu(Scenario.folio(false, 2, 2)); // an I9 judged at finish
    InvariantChecker c = new InvariantChecker();
    List<Stamped> applied = new ArrayList<>();
    c.onApplied(applied::add);
    for (Stamped s : b.inOrder()) c.offer(s);
    List<Violation> v = c.finish();
    assertEquals(1, v.size());
    assertTrue(applied.size() > InvariantChecker.RECENT_IN_VIOLATION, "more events than a violation quotes");
    assertEquals(expected(applied, InvariantChecker.RECENT_IN_VIOLATION), v.get(0).recentEvents());
    assertEquals(String.join("\n", expected(applied, 5)), c.describeRecent(5));
  }
}
