package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The fast-forward's full refill of the released reqIds' ring (FolioLockShadow#refillReleased, emulator-only) puts only
 * the keys of its range the table lacks (session 23, ringcost): the ring and its table, the table's layout included,
 * are those the refill putting every key leaves (session 22's, kept here as the reference), whatever was released
 * between two refills, a reqId released twice and a reqId of the refill's range among them.
 */
class FolioLockShadowRefillTest {
  private static final int D = 3;

  @Test
  void puttingOnlyTheMissingKeysLeavesTheTablePuttingEveryKeyLeaves() throws ReflectiveOperationException {
    FolioLockShadow fast = new FolioLockShadow(), reference = new FolioLockShadow();
    long next = releaseMany(fast, reference, 1, 100);
    // per round: reqIds released before the refill, then a pathological release (0: none, 1: a reqId released twice,
    // 2: a reqId of the refill's range, 3: a reqId of the kept pattern released again)
    int[][] rounds = {{50, 0}, {200, 0}, {4100, 0}, {7, 1}, {64, 0}, {90, 2}, {33, 0}, {120, 3}, {5, 0}, {300, 0}};
    for (int r = 0; r < rounds.length; r++) {
      next = releaseMany(fast, reference, next, rounds[r][0]);
      long odd = switch (rounds[r][1]) {
        case 1 -> next - 40;
        case 2 -> RingRefill.UNISSUED + 17;
        case 3 -> next - 1;
        default -> 0;
      };
      if (odd != 0) {
        fast.release(odd);
        reference.release(odd);
        next = releaseMany(fast, reference, next, 4); // so that the pattern's newest entries are periodic again
      }
      fast.refillReleased(D, 5000, 64);
      referenceRefill(reference, D, 5000, 64);
      assertSame(fast, reference, "after refill " + r);
    }
  }

  private static long releaseMany(FolioLockShadow a, FolioLockShadow b, long next, int count) {
    for (int k = 0; k < count; k++, next++) {
      a.release(next);
      b.release(next);
    }
    return next;
  }

  /** Session 22's refillReleased (every key of the refilled ring put), through the shadow's fields. */
  private static void referenceRefill(FolioLockShadow s, int d, long n, int kept) throws ReflectiveOperationException {
    long[] keys = s.releasedNewestFirst();
    int real = Math.min(RingRefill.periodic(keys, d), kept);
    int size = FolioLockShadow.RELEASED_KEPT, copies = size - real;
    for (int q = real; q < keys.length; q++) {
      long y = keys[q] - RingRefill.UNISSUED;
      if (y < 0 || y >= copies) s.released.remove(keys[q]);
    }
    long[] order = new long[size];
    for (int q = size - 1; q >= 0; q--) {
      long key = q < real ? keys[q] : RingRefill.UNISSUED + size - 1 - q;
      order[size - 1 - q] = key;
      s.released.put(key, Boolean.TRUE);
    }
    set(s, "releasedOrder", order);
    set(s, "releasedNext", 0);
    set(s, "releasedFull", true);
    set(s, "releasedCount", (Long) field(s, "releasedCount") + n * d);
  }

  /** The same ring and the same table: the ring's fields, and the table's arrays slot by slot. */
  private static void assertSame(FolioLockShadow a, FolioLockShadow b, String when) throws ReflectiveOperationException {
    assertArrayEquals(b.releasedNewestFirst(), a.releasedNewestFirst(), when + ": the reqIds, newest first");
    assertArrayEquals((long[]) field(b, "releasedOrder"), (long[]) field(a, "releasedOrder"), when + ": the ring's array");
    for (String f : new String[] {"releasedNext", "releasedFull", "releasedCount"}) {
      assertEquals(field(b, f), field(a, f), when + ": " + f);
    }
    assertEquals(b.released.size(), a.released.size(), when + ": the table's size");
    assertArrayEquals((long[]) field(b.released, "keys"), (long[]) field(a.released, "keys"), when + ": the table's keys by slot");
    assertEquals(Arrays.toString((Object[]) field(b.released, "values")), Arrays.toString((Object[]) field(a.released, "values")),
        when + ": the table's values by slot");
  }

  private static Object field(Object o, String name) throws ReflectiveOperationException {
    Field f = o.getClass().getDeclaredField(name);
    f.setAccessible(true);
    return f.get(o);
  }

  private static void set(Object o, String name, Object v) throws ReflectiveOperationException {
    Field f = o.getClass().getDeclaredField(name);
    f.setAccessible(true);
    f.set(o, v);
  }
}
