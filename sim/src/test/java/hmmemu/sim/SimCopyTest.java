package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import hmmemu.protocol.model.ModelSwitches;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link SimCopy} is exact: a copy taken in the middle of a run holds the original's picture ({@link StateWalk}) even
 * after the original ran on (nothing mutable is shared with it), and two copies continued alike give the same trace
 * hash, the same events and the same clock (nothing mutable is shared between them).
 */
class SimCopyTest {
  private static List<Long> picture(Sim s) {
    List<Long> out = new ArrayList<>();
    for (StateWalk.Leaf l : StateWalk.of(s).leaves) {
      out.add(l.where());
      out.add(l.value());
    }
    return out;
  }

  /** The list the copied trace listener appends to (the one listener this test added). */
  private static Object hashListOf(Sim s) {
    try {
      java.lang.reflect.Field f = Sim.class.getDeclaredField("traceListeners");
      f.setAccessible(true);
      List<?> listeners = (List<?>) f.get(s);
      for (Object l : listeners) {
        if (!l.getClass().getName().startsWith(SimCopyTest.class.getName())) continue;
        for (java.lang.reflect.Field c : l.getClass().getDeclaredFields()) {
          c.setAccessible(true);
          if (c.get(l) instanceof List<?> list) return list;
        }
      }
      throw new AssertionError("no trace listener of this test among " + listeners);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  /** Equal lists, else the first index where they differ (the lists are too long to print). */
  private static void assertSame(List<?> want, List<?> got, String what) {
    int n = Math.min(want.size(), got.size());
    for (int i = 0; i < n; i++) {
      if (!want.get(i).equals(got.get(i))) fail(what + ": element " + i + " of " + want.size() + " differs");
    }
    assertEquals(want.size(), got.size(), what + ": sizes");
  }

  @Test
  void aCopyTakenMidRunIsIndependentOfTheOriginalAndContinuesAsAnotherCopyDoes() {
    Sim[] copies = new Sim[2];
    List<?>[] original = new List<?>[1];
    int[] atCopy = {0};
    List<List<Long>> at = new ArrayList<>();
    SimExperiment.Result r = SimExperiment.run("kernel", SimConfig.of(7, 2,
            ModelSwitches.kernel().withDriverDeadlineMicros(2_000)),
        new SimExperiment.Workload(2, 2, 3, 1, 8, 2, 1, 7, false), 3_600_000_000L, Long.MAX_VALUE, null, null,
        s -> {
          List<Long> hashes = new ArrayList<>(); // the trace hash after each trace event (a copy keeps its own)
          s.onTrace(st -> hashes.add(s.traceHash()));
          original[0] = hashes;
          s.at(400_000, () -> {
            at.add(picture(s));
            copies[0] = SimCopy.of(s);
            copies[1] = SimCopy.of(s);
            atCopy[0] = hashes.size();
          });
        });
    assertTrue(r.ok(), r.liveness() + " " + r.violations());
    assertNotNull(copies[0], "the copy was taken (the run lasted past 400 µs of model time)");
    Sim a = copies[0], b = copies[1];
    assertSame(at.get(0), picture(a), "the original ran on; its copy still holds its picture at the copy");
    assertSame(at.get(0), picture(b), "the second copy too");
    long firedAtCopy = a.fired();
    long until = a.nowNanos() + 50_000_000_000L;
    a.runUntil(() -> false, until, 200_000);
    b.runUntil(() -> false, until, 200_000);
    assertTrue(a.fired() > firedAtCopy + 100, "the copy ran on: " + (a.fired() - firedAtCopy) + " events");
    assertEquals(a.fired(), b.fired(), "two copies continued alike fire the same events");
    assertEquals(a.traceHash(), b.traceHash(), "and trace the same");
    assertEquals(a.nowNanos(), b.nowNanos());
    assertEquals(a.violations().size(), b.violations().size());
    // the copy's own hash list (the listener and its list were copied with the simulator) against the original's
    List<?> mine = (List<?>) hashListOf(a);
    int common = Math.min(mine.size(), original[0].size());
    assertTrue(common > atCopy[0] + 100, "the original and the copy both traced past the copy: " + atCopy[0] + " -> "
        + common);
    assertSame(original[0].subList(0, common), mine.subList(0, common),
        "the copy continued traces exactly as the original continued (trace hash after each trace event)");
  }

  /**
   * A LinkedLongTable (the checker's and the CPU core's insertion-ordered tables) is copied exactly: the same entries
   * in the same order, through its holes and its hash index, and the copy is independent of the original.
   */
  @Test
  void aLinkedLongTableIsCopiedEntryForEntryInOrderAndIndependently() {
    hmmemu.protocol.model.LinkedLongTable<long[]> t = new hmmemu.protocol.model.LinkedLongTable<>();
    for (long id = 1; id <= 40; id++) t.put(id * 0x1_0000_0001L, new long[] {id});
    for (long id = 1; id <= 40; id += 3) t.remove(id * 0x1_0000_0001L); // holes before and after the squeeze
    t.put(7 * 0x1_0000_0001L, new long[] {-7}); // put again: keeps its place
    hmmemu.protocol.model.LinkedLongTable<long[]> c = SimCopy.copyOf(t);
    assertEquals(t.toString().replaceAll("\\[J@[0-9a-f]+", "a"), c.toString().replaceAll("\\[J@[0-9a-f]+", "a"));
    List<Long> want = new ArrayList<>(), got = new ArrayList<>();
    for (int i = 0; i < t.positions(); i++) if (t.valueAt(i) != null) { want.add(t.keyAt(i)); want.add(t.valueAt(i)[0]); }
    for (int i = 0; i < c.positions(); i++) if (c.valueAt(i) != null) { got.add(c.keyAt(i)); got.add(c.valueAt(i)[0]); }
    assertEquals(want, got, "the copy's entries, in insertion order");
    for (int i = 0; i < t.positions(); i++) {
      if (t.valueAt(i) != null) assertTrue(t.valueAt(i) != c.valueAt(i), "values are copied, not shared");
    }
    t.put(99, new long[] {99});
    t.remove(2 * 0x1_0000_0001L);
    assertEquals(null, c.get(99), "the copy does not see the original's later puts");
    assertEquals(2, c.get(2 * 0x1_0000_0001L)[0], "nor its later removals");
    assertEquals(-7, c.get(7 * 0x1_0000_0001L)[0], "lookups through the copy's index");
    assertEquals(want.size() / 2, c.size());
  }
}
