package hmmemu.checker;

/**
 * Emulator-only host mechanism, not a kernel structure: helpers for the fast-forward (hmmemu.sim.FastForward) to
 * refill the checker's bounded rings (NotifierShadow's ended invalidations, FolioLockShadow's released reqIds) as the
 * skipped periods of a spin would have left them, instead of waiting for a spin to fill them.
 */
public final class RingRefill {
  private RingRefill() {}

  /**
   * The first id of the range no run issues (ids are issued from counters from 1 up: invIds, and reqIds of a device
   * number and a counter): a refilled ring's entries older than the spin's get ids from here up, in ring order.
   */
  public static final long UNISSUED = Long.MIN_VALUE / 4;

  /**
   * How many of the ring's newest ids (newest first) follow the pattern of the newest {@code d} with one step per
   * period: id k equals id (k mod d) minus (k / d) x the step of the newest period.
   */
  public static int periodic(long[] newestFirst, int d) {
    if (newestFirst.length < 2 * d) return Math.min(newestFirst.length, d);
    long step = newestFirst[0] - newestFirst[d];
    int k = 0;
    while (k < newestFirst.length && newestFirst[k] == newestFirst[k % d] - (long) (k / d) * step) k++;
    return k;
  }

  /**
   * A full refill's first pass over the ring's ids ({@code keys}, newest first) past its {@code real} kept positions:
   * each id outside the refill's range {@code UNISSUED + [0, inRing.length)} leaves {@code table}; each inside marks
   * {@code inRing}. Returns how many ids stay in the table (the kept positions and the marked ones), which the caller
   * compares with the table's size (session 23, ringcost: NotifierShadow and FolioLockShadow).
   */
  static int removeLeaving(long[] keys, int real, boolean[] inRing, LongTable<?> table) {
    int stay = real;
    for (int q = real; q < keys.length; q++) {
      long y = keys[q] - UNISSUED;
      if (y < 0 || y >= inRing.length) {
        table.remove(keys[q]);
      } else {
        inRing[(int) y] = true;
        stay++;
      }
    }
    return stay;
  }

  /**
   * The length of a ring's array holding {@code size} entries, as the rings grow it (from 16, doubling when full, up to
   * {@code kept}): so that a partially refilled ring has the unskipped run's shape.
   */
  static int lengthFor(int size, int kept) {
    int len = 16;
    while (len < size && len < kept) len *= 2;
    return Math.min(len, kept);
  }
}
