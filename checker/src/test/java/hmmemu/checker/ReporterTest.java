package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Session 24 (xrep): the Reporter's ring ({@link RecentEvents}) holds the offered records until a world copy freezes it,
 * which keeps each record's parts in the ring's own arrays (the event, the node, the model time, the vector clock
 * copied): a violation quotes exactly the events it quoted before (each formatted from the event as offered), before
 * and after a freeze, through the ring's wrap and a longer vector clock than any before; a frozen ring shares no array
 * with what was offered or handed out and never changes again (the Reporter records into an unfrozen copy).
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
      if (i % 97 == 0) assertTrue(ringOf(rep).freezeForCopy(), "a world copy freezes the ring at " + i);
      for (int n : new int[] {0, 1, 12, 255, 256, 300}) {
        if (i % 97 == 0 || i > 880 || n == 12) assertEquals(expected(offered, n), rep.lastEvents(n), "n=" + n + " at " + i);
      }
    }
    RecentEvents ring = ringOf(rep);
    assertTrue(ring.freezeForCopy(), "values only: a world copy shares the ring");
    assertTrue(ring.frozen());
    for (int n : new int[] {0, 1, 12, 256, 300}) assertEquals(expected(offered, n), rep.lastEvents(n), "frozen, n=" + n);
    for (int k = 0; k < 256; k++) { // each slot holds what was offered there, the vector clock as it was
      Stamped want = offered.get(offered.size() - 256 + k);
      Stamped got = rep.entry((int) ((offered.size() - 256 + k) & 255));
      assertEquals(want.node(), got.node());
      assertArrayEquals(want.vc(), got.vc());
      assertSame(want.event(), got.event(), "the event, an immutable record, is kept as offered");
      assertEquals(want.atMicros(), got.atMicros());
      assertNotSame(want.vc(), got.vc(), "the frozen ring copied the clock: it shares no array with the offered event");
    }
    for (int i = 0; i < 300; i++) { // the Reporter goes on in an unfrozen copy; the frozen ring stays as it was
      long[] vc = {i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7, i + 8}; // longer again: laid out anew
      Stamped s = new Stamped(i % 9, vc, event(r, i), i);
      offered.add(s);
      rep.record(s);
      if (i % 50 == 0) assertTrue(ringOf(rep).freezeForCopy(), "frozen again mid-way");
      assertEquals(expected(offered, 12), rep.lastEvents(12), "after the freeze, at " + i);
    }
    assertNotSame(ring, ringOf(rep));
    for (int k = 0; k < 256; k++) {
      Stamped want = offered.get(900 - 256 + k);
      Stamped got = ring.entry((900 - 256 + k) & 255);
      assertSame(want.event(), got.event(), "the frozen ring still holds what it held");
      assertArrayEquals(want.vc(), got.vc());
    }
    assertThrows(IllegalStateException.class, () -> ring.put(0, offered.get(0)), "a frozen ring is never changed");
  }

  /** The Reporter's ring (its private field). */
  private static RecentEvents ringOf(Reporter rep) {
    try {
      java.lang.reflect.Field f = Reporter.class.getDeclaredField("ring");
      f.setAccessible(true);
      return (RecentEvents) f.get(rep);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  /** An invalidation whose ids could change (a mutable list) keeps the ring unfrozen and untouched: copied, not shared. */
  @Test
  void aRingHoldingAMutableListIsNotFrozen() {
    Reporter rep = new Reporter();
    List<Long> ids = new ArrayList<>(List.of(7L, 8L));
    Stamped mutable = new Stamped(0, new long[] {1}, new Trace.InvalidateStarted(1, 1, 0, 0x1000,
        hmmemu.protocol.model.NotifyEvent.CLEAR, 0, true, ids));
    rep.record(mutable);
    rep.record(new Stamped(0, new long[] {2}, new Trace.InvalidateStarted(2, 1, 0, 0x1000,
        hmmemu.protocol.model.NotifyEvent.CLEAR, 0, true, List.of(7L, 8L))));
    RecentEvents ring = ringOf(rep);
    assertFalse(ring.freezeForCopy());
    assertFalse(ring.frozen());
    assertSame(mutable, rep.entry(0), "the offered record is still there");
    assertTrue(RecentEvents.immutable(new Trace.InvalidateStarted(3, 1, 0, 1, hmmemu.protocol.model.NotifyEvent.CLEAR,
        0, true, List.of())));
    assertTrue(RecentEvents.immutable(new Trace.NodeGone(1, "x")));
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
    assertTrue(ringOf(rep).freezeForCopy());
    rep.entry(0).vc()[1] = 77; // a reader writing into a kept entry's clock changes nothing kept
    assertArrayEquals(new long[] {3, 9}, rep.entry(0).vc());
    assertEquals(before, rep.lastEvents(1));
    Stamped none = new Stamped(0, null, new Trace.NodeGone(0, "y"));
    rep.record(none); // a clock-less event (never offered by a simulator) is kept as such
    assertTrue(ringOf(rep).freezeForCopy());
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
