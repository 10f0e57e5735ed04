package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The partial ring refill's labels (FastForwardRings#partialIds, and since session 22 #ledIds) on the released ring of
 * a spin like c12b's: device 1's reqIds 1..N, one a period, and outside the ring the spin's moving reqId (the driver's
 * next one) and a fixed reqId 1 that a delivered FolioUnlockPut still holds. Not a kernel structure: the fast-forward's.
 */
class FastForwardRingsTest {
  private static final long BASE = 1L << hmmemu.protocol.msg.Ids.REQ_DEVICE_SHIFT; // device 1's reqId 0

  /** Device 1's reqIds N..1, newest first. */
  private static long[] ring(int size) {
    long[] ids = new long[size];
    for (int q = 0; q < size; q++) ids[q] = BASE + size - q;
    return ids;
  }

  @Test
  void aFixedIdOfTheSpinsFamilyIsMisfoundByTheShiftAndFoundByTheLedLabels() {
    int size = 300;
    long n = 40;
    long[] ids = ring(size);
    // outside the ring: the next reqId (moves by 1 a period) and reqId 1 (fixed)
    long[] jumped = {BASE + size + 1, BASE + 1};
    long[] unskipped = {BASE + size + 1 + n, BASE + 1};
    long[][] plain = FastForwardRings.partialIds(ids, 1, n, false);
    assertEquals(1, FastForwardRings.misfound(jumped, unskipped, plain),
        "the family's shift relabels reqId 1's entry: the fixed id finds another entry (the refusal before session 22)");
    long[][] led = FastForwardRings.ledIds(ids, 1, n, false, jumped, unskipped);
    assertEquals(-1, FastForwardRings.misfound(jumped, unskipped, led), "every id outside the ring finds its entry");
    assertEquals(size + n, led[0].length);
    assertTrue(java.util.Arrays.equals(plain[1], led[1]), "the same unskipped ring");
    // reqId 1's entry (the oldest) keeps its id; every other label is the shift's, but the one that took it
    int oldest = led[0].length - 1;
    assertEquals(BASE + 1, led[0][oldest]);
    Set<Long> distinct = new HashSet<>();
    int changed = 0;
    for (int q = 0; q < led[0].length; q++) {
      assertTrue(distinct.add(led[0][q]), "labels distinct");
      if (led[0][q] != plain[0][q]) changed++;
    }
    assertEquals(2, changed, "reqId 1's entry, and the entry whose shifted label was reqId 1 (now one no run issues)");
    // labels are ids the jumped run issued already, or ones no run issues: none meets an id it issues after the jump
    for (long l : led[0]) assertTrue(l <= BASE + size || l < 0, "label " + l);
  }

  @Test
  void labelsThatPassAlreadyAreNotAskedFor() {
    long[] ids = ring(300);
    long n = 40;
    long[] jumped = {BASE + 301}, unskipped = {BASE + 341}; // only the moving id: the shift's labels pass
    assertEquals(-1, FastForwardRings.misfound(jumped, unskipped, FastForwardRings.partialIds(ids, 1, n, false)));
  }

  @Test
  void idsOutsideTheRingThatNeedOneEntryUnderTwoLabelsHaveNoLabelling() {
    long[] ids = ring(300);
    long n = 40;
    // reqId 5 fixed, and a moving id whose jumped value is 5 too: one entry can't answer both lookups
    long[] jumped = {BASE + 5, BASE + 5}, unskipped = {BASE + 5, BASE + 5 + n};
    long[][] led = FastForwardRings.ledIds(ids, 1, n, false, jumped, unskipped);
    assertTrue(led == null || FastForwardRings.misfound(jumped, unskipped, led) >= 0, "refused");
  }

  @Test
  void anIdTheUnskippedRingLacksFindsNothingInTheJumpedOne() {
    long[] ids = ring(300);
    long n = 40;
    // a fixed id that the family's shift gives as a label (unskipped BASE + 30's entry is labelled BASE - 10) while
    // the unskipped ring lacks it: its lookup must find nothing in the jumped ring either
    long[] jumped = {BASE + 301, BASE - 10}, unskipped = {BASE + 341, BASE - 10};
    long[][] plain = FastForwardRings.partialIds(ids, 1, n, false);
    assertEquals(1, FastForwardRings.misfound(jumped, unskipped, plain));
    long[][] led = FastForwardRings.ledIds(ids, 1, n, false, jumped, unskipped);
    assertEquals(-1, FastForwardRings.misfound(jumped, unskipped, led));
    assertTrue(led[0][310] < 0 && led[0][310] != plain[0][310], "BASE + 30's entry: a label no run issues");
    assertNull(FastForwardRings.partialIds(new long[] {BASE + 2, BASE + 2}, 1, n, false), "an id twice");
  }
}
