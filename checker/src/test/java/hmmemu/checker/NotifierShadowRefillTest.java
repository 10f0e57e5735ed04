package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.trace.Trace;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fast-forward's full refill of the ended invalidations' ring (NotifierShadow#refillEnded, emulator-only) keeps
 * or updates in place the copies its last full refill made (session 22, ringreuse): the ring it leaves is the one the
 * refill copying every entry anew leaves (ids, order, every entry's members, the table), whatever the phase of the
 * period at each refill, across partial refills and for a ring refilled from empty.
 */
class NotifierShadowRefillTest {
  private static final int D = 4;

  /** The j-th invalidation of a period: two unlike exclusive ones and two clears (as the demo's spin ends). */
  private static void endOne(NotifierShadow s, long invId, int j) {
    long start = j == 0 ? 0x10_0000L : 0x20_0000L;
    NotifyEvent e = j % 2 == 0 ? NotifyEvent.EXCLUSIVE : NotifyEvent.CLEAR;
    Invalidation inv = new Invalidation(new Trace.InvalidateStarted(invId, 1, start, start + 4096, e, j == 2 ? 9 : 0, true,
        j == 1 ? List.of(7L, 8L) : List.of(7L)));
    inv.addTarget(7, 16, false);
    if (j != 3) inv.ack(7);
    if (j == 1) inv.addTarget(8, 32, false);
    s.inFlight.put(invId, inv);
    s.end(invId);
  }

  /** Ends {@code count} invalidations from invId {@code next}, the period's j from {@code phase}; the next invId. */
  private static long endMany(NotifierShadow a, NotifierShadow b, long next, int count, int phase) {
    for (int k = 0; k < count; k++, next++) {
      endOne(a, next, (phase + k) % D);
      endOne(b, next, (phase + k) % D);
    }
    return next;
  }

  @Test
  void keptCopiesLeaveTheRingACopyingRefillLeaves() throws ReflectiveOperationException {
    NotifierShadow reuse = new NotifierShadow(), copy = new NotifierShadow();
    long next = endMany(reuse, copy, 100, 300, 0);
    int kept = 0;
    int[][] rounds = {{24, 1}, {61, 2}, {100, 3}, {8, 0}, {300, 1}, {4200, 2}, {3, 3}, {52, 0}};
    for (int r = 0; r < rounds.length; r++) {
      java.util.IdentityHashMap<Invalidation, Boolean> before = entries(reuse);
      refill(reuse, copy, 5000);
      assertSame(reuse, copy, "after full refill " + r);
      if (r > 0) kept += countKept(reuse, before);
      if (r == 4) { // a partial refill between: every copy made anew at the next full one
        reuse.refillEndedPartial(D, 8, ids(reuse, 8));
        copy.refillEndedPartial(D, 8, ids(copy, 8));
        assertSame(reuse, copy, "after the partial refill");
      }
      next = endMany(reuse, copy, next, rounds[r][0], rounds[r][1]);
    }
    assertTrue(kept > 4 * 3000, "the copies were kept or updated in place, not made anew: " + kept);
  }

  /**
   * Session 23 (xfreeze): entries a world copy froze (every ended one, before each refill: the refill's own copies too)
   * are changed through copies, not in place; the full and partial refills still leave the ring the copying refill
   * leaves, and a frozen entry is never changed.
   */
  @Test
  void frozenEntriesLeaveTheRingACopyingRefillLeaves() throws ReflectiveOperationException {
    NotifierShadow frozen = new NotifierShadow(), copy = new NotifierShadow();
    long next = endMany(frozen, copy, 100, 300, 0);
    int[][] rounds = {{24, 1}, {61, 2}, {100, 3}, {8, 0}, {300, 1}, {52, 0}};
    for (int r = 0; r < rounds.length; r++) {
      java.util.List<Object[]> before = freezeAll(frozen);
      refill(frozen, copy, 5000);
      assertSame(frozen, copy, "after full refill " + r);
      assertUnchanged(before, "full refill " + r);
      if (r == 2) {
        before = freezeAll(frozen);
        long[] labels = ids(frozen, 8);
        for (int q = 8; q < labels.length; q++) labels[q] += 2_000_000; // the kept entries relabelled too
        frozen.refillEndedPartial(D, 8, labels);
        copy.refillEndedPartial(D, 8, labels.clone());
        assertSame(frozen, copy, "after the partial refill");
        assertUnchanged(before, "the partial refill");
      }
      next = endMany(frozen, copy, next, rounds[r][0], rounds[r][1]);
    }
  }

  /** Freezes every entry of the ring, as a world copy meeting it does; each entry with its dump. */
  private static java.util.List<Object[]> freezeAll(NotifierShadow s) throws ReflectiveOperationException {
    java.util.List<Object[]> out = new java.util.ArrayList<>();
    for (long k : s.endedNewestFirst()) {
      Invalidation inv = s.endedOf(k);
      assertTrue(inv.freezeForCopy());
      out.add(new Object[] {inv, dump(inv)});
    }
    return out;
  }

  private static void assertUnchanged(java.util.List<Object[]> frozen, String when) throws ReflectiveOperationException {
    for (Object[] e : frozen) {
      Invalidation inv = (Invalidation) e[0];
      assertTrue(inv.frozen());
      assertEquals(e[1], dump(inv), when + ": a frozen entry changed");
    }
  }

  /**
   * Session 23 (ringcost): the reuse reads which copies are in the ring off its keys, not the table; an id of the
   * refill's range that ends otherwise (a copy's id ended again, with other contents, or one evicted ended anew) puts
   * another object under a copy's id, and the next refill must still leave the ring the copying refill leaves.
   */
  @Test
  void anIdOfTheRefillsRangeEndedOtherwiseIsNotTakenForACopy() throws ReflectiveOperationException {
    for (long y : new long[] {3000, 0}) { // a copy still in the ring (ended again); one evicted by then (ended anew)
      NotifierShadow reuse = new NotifierShadow(), copy = new NotifierShadow();
      long next = endMany(reuse, copy, 100, 300, 0);
      refill(reuse, copy, 5000);
      next = endMany(reuse, copy, next, 40, 1);
      for (NotifierShadow s : new NotifierShadow[] {reuse, copy}) {
        Invalidation inv = new Invalidation(new Trace.InvalidateStarted(RingRefill.UNISSUED + y, 2, 0x30_0000L, 0x30_1000L,
            NotifyEvent.CLEAR, 5, false, List.of(9L)));
        s.inFlight.put(RingRefill.UNISSUED + y, inv);
        s.end(RingRefill.UNISSUED + y);
      }
      assertSame(reuse, copy, "after ending UNISSUED + " + y);
      endMany(reuse, copy, next, 21, 2);
      refill(reuse, copy, 5000);
      assertSame(reuse, copy, "refilled after ending UNISSUED + " + y);
    }
  }

  /**
   * The rings' ids newest first (session 23, ringcost: two straight loops instead of a wrapped index per slot, and a
   * window of the newest {@code max}) are what session 22's per-slot formula reads, at every fill: growing, full,
   * turned, and partially refilled.
   */
  @Test
  void newestFirstIsTheRingReadSlotBySlot() throws ReflectiveOperationException {
    NotifierShadow a = new NotifierShadow(), b = new NotifierShadow();
    FolioLockShadow locks = new FolioLockShadow();
    long next = 1;
    for (int count : new int[] {0, 5, 11, 1, 16, 100, 3960, 1, 4000, 17}) {
      next = endMany(a, b, next, count, 0);
      for (int k = 0; k < count; k++) locks.release(next + k);
      checkNewestFirst(a, locks, "after " + next);
      if (count == 17) {
        a.refillEndedPartial(D, 8, ids(a, 8));
        long[] rel = locks.releasedNewestFirst(), labels = new long[Math.min(4096, rel.length + 8)];
        for (int q = 0; q < labels.length; q++) labels[q] = q < 8 ? 1_000_000_000L + q : rel[q - 8];
        locks.refillReleasedPartial(D, 8, labels);
        checkNewestFirst(a, locks, "after a partial refill");
      }
    }
  }

  private static void checkNewestFirst(NotifierShadow s, FolioLockShadow locks, String when)
      throws ReflectiveOperationException {
    long[] order = (long[]) field(s, "endedOrder");
    int next = (Integer) field(s, "endedNext");
    long[] expect = new long[((LongTable<?>) field(s, "ended")).size()];
    for (int k = 0; k < expect.length; k++) {
      int i = next - 1 - k;
      expect[k] = order[i < 0 ? i + order.length : i];
    }
    long[] rOrder = (long[]) field(locks, "releasedOrder");
    int rNext = (Integer) field(locks, "releasedNext");
    long[] rExpect = new long[(Boolean) field(locks, "releasedFull") ? FolioLockShadow.RELEASED_KEPT : rNext];
    for (int k = 0; k < rExpect.length; k++) rExpect[k] = rOrder[Math.floorMod(rNext - 1 - k, FolioLockShadow.RELEASED_KEPT)];
    assertArrayEquals(expect, s.endedNewestFirst(), when + ": ended");
    assertArrayEquals(rExpect, locks.releasedNewestFirst(), when + ": released");
    for (int max : new int[] {0, 1, 16, 64, 5000}) {
      assertArrayEquals(Arrays.copyOf(expect, Math.min(max, expect.length)), s.endedNewestFirst(max), when + ": ended " + max);
      assertArrayEquals(Arrays.copyOf(rExpect, Math.min(max, rExpect.length)), locks.releasedNewestFirst(max),
          when + ": released " + max);
    }
  }

  /** Both shadows refilled, {@code copy} by copying every entry anew (no copies of an earlier refill known). */
  private static void refill(NotifierShadow reuse, NotifierShadow copy, long n) throws ReflectiveOperationException {
    Field f = NotifierShadow.class.getDeclaredField("refillCopies");
    f.setAccessible(true);
    f.set(copy, null);
    reuse.refillEnded(D, n, 64);
    copy.refillEnded(D, n, 64);
  }

  /** Labels for a partial refill of k entries: the extrapolated ones new ids, the kept ones their own. */
  private static long[] ids(NotifierShadow s, int k) {
    long[] keys = s.endedNewestFirst();
    long[] out = new long[Math.min(4096, keys.length + k)];
    for (int q = 0; q < out.length; q++) out[q] = q < k ? 1_000_000 + q : keys[q - k];
    return out;
  }

  private static java.util.IdentityHashMap<Invalidation, Boolean> entries(NotifierShadow s) {
    java.util.IdentityHashMap<Invalidation, Boolean> out = new java.util.IdentityHashMap<>();
    for (long k : s.endedNewestFirst()) out.put(s.endedOf(k), Boolean.TRUE);
    return out;
  }

  private static int countKept(NotifierShadow s, java.util.IdentityHashMap<Invalidation, Boolean> before) {
    int n = 0;
    for (long k : s.endedNewestFirst()) if (k < 0 && before.containsKey(s.endedOf(k))) n++;
    return n;
  }

  /** The same ring: ids in order, the ring's array and next slot, each entry's members, the table's keys. */
  private static void assertSame(NotifierShadow a, NotifierShadow b, String when) throws ReflectiveOperationException {
    long[] ka = a.endedNewestFirst(), kb = b.endedNewestFirst();
    assertArrayEquals(kb, ka, when + ": the ids, newest first");
    for (String f : new String[] {"endedOrder", "endedNext", "endedCount"}) {
      assertEquals(dumpValue(field(b, f)), dumpValue(field(a, f)), when + ": " + f);
    }
    long[] ta = ((LongTable<?>) field(a, "ended")).keys(), tb = ((LongTable<?>) field(b, "ended")).keys();
    Arrays.sort(ta);
    Arrays.sort(tb);
    assertArrayEquals(tb, ta, when + ": the table's keys");
    java.util.IdentityHashMap<Object, Boolean> seen = new java.util.IdentityHashMap<>();
    for (long k : ka) {
      assertEquals(dump(b.endedOf(k)), dump(a.endedOf(k)), when + ": invId " + k);
      assertTrue(seen.put(a.endedOf(k), Boolean.TRUE) == null, when + ": an entry twice in the ring");
    }
  }

  private static Object field(Object o, String name) throws ReflectiveOperationException {
    Field f = o.getClass().getDeclaredField(name);
    f.setAccessible(true);
    return f.get(o);
  }

  private static String dump(Invalidation inv) throws ReflectiveOperationException {
    StringBuilder b = new StringBuilder();
    for (Field f : Invalidation.class.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers())) continue;
      if (f.getName().equals("frozen")) continue; // whether a world copy met it: not the ring's contents (xfreeze)
      if (f.getName().equals("changes")) continue; // the entry's own count of its changes, not its contents (ffchg)
      f.setAccessible(true);
      b.append(f.getName()).append('=').append(dumpValue(f.get(inv))).append(';');
    }
    return b.toString();
  }

  private static String dumpValue(Object v) {
    if (v instanceof long[] a) return Arrays.toString(a);
    if (v instanceof int[] a) return Arrays.toString(a);
    if (v instanceof byte[] a) return Arrays.toString(a);
    return String.valueOf(v);
  }
}
