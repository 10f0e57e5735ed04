package hmmemu.checker;

import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shadow of the folio locks and references make_device_exclusive() returns to its caller (mm/rmap.c: the folio
 * comes back locked with a reference; the caller does folio_unlock()+folio_put()).
 */
final class FolioLockShadow {
  /** reqId -> successful make_device_exclusive whose FolioUnlockPut was not done yet. */
  final LongTable<Trace.ExclusiveReturned> holds = new LongTable<>();
  /** How many released reqIds {@link #released} remembers (as the notifier shadow keeps its ended invalidations). */
  static final int RELEASED_KEPT = 4096;
  /**
   * The last {@value #RELEASED_KEPT} reqIds whose folio_unlock()+folio_put() was done (a set: the values are
   * {@code Boolean.TRUE}), so that a second release names itself; an older reqId released again has no hold either,
   * so I8 still reports it (as a release without a successful call). Bounded: a spin of make_device_exclusive
   * rounds must not grow the checker by one entry per round.
   */
  final LongTable<Boolean> released = new LongTable<>();
  /**
   * A ring of the released reqIds, oldest at releasedNext once full: the eldest leaves when a new one comes. It grows
   * (by doubling) up to {@value #RELEASED_KEPT} as reqIds are released, so that a short run (an explored schedule)
   * does not allocate and clear 32 KiB per checker, as NotifierShadow's ring of ended invalidations.
   */
  private long[] releasedOrder = new long[16];
  private int releasedNext;
  private boolean releasedFull;
  /** reqIds the ring took in so far (a statistic the fast-forward advances, see {@link #refillReleased}). */
  private long releasedCount;

  /** Remembers {@code reqId} as released, forgetting the eldest once {@value #RELEASED_KEPT} are kept. */
  void release(long reqId) {
    if (releasedFull) released.remove(releasedOrder[releasedNext]);
    if (releasedNext == releasedOrder.length) {
      releasedOrder = Arrays.copyOf(releasedOrder, Math.min(2 * releasedOrder.length, RELEASED_KEPT));
    }
    releasedOrder[releasedNext] = reqId;
    released.put(reqId, Boolean.TRUE);
    releasedNext = (releasedNext + 1) % RELEASED_KEPT;
    if (releasedNext == 0) releasedFull = true;
    releasedCount++;
  }

  /** The released reqIds, newest first (emulator-only: the fast-forward's window on the ring). */
  long[] releasedNewestFirst() { return releasedNewestFirst(Integer.MAX_VALUE); }

  /**
   * The newest {@code max} released reqIds (all if fewer), newest first: the slots below releasedNext backwards, then
   * from the full ring's end (emulator-only: the pictures' window on the ring, {@link #releasedNewestFirst()}).
   */
  long[] releasedNewestFirst(int max) {
    long[] out = new long[Math.min(releasedFull ? RELEASED_KEPT : releasedNext, max)];
    int head = Math.min(releasedNext, out.length);
    for (int k = 0; k < head; k++) out[k] = releasedOrder[releasedNext - 1 - k];
    for (int k = head, i = RELEASED_KEPT - 1; k < out.length; k++, i--) out[k] = releasedOrder[i];
    return out;
  }

  /** The ring's value for {@code reqId} (emulator-only: the fast-forward's window on the ring). */
  Boolean releasedOf(long reqId) { return released.get(reqId); }

  /**
   * Emulator-only host mechanism (hmmemu.sim.FastForward): the ring as {@code n} more periods of a spin releasing
   * {@code d} reqIds each would leave it, as NotifierShadow#refillEnded does for ended invalidations (positions the
   * last d reqIds' pattern gives keep their reqId, older ones get reqIds no run issues). Requires n x d at least
   * {@value #RELEASED_KEPT}.
   */
  void refillReleased(int d, long n, int kept) {
    long[] keys = releasedNewestFirst();
    int real = Math.min(RingRefill.periodic(keys, d), kept);
    // session 22 (ringreuse): the table keeps the keys the refilled ring holds again (the last full refill's reqIds no
    // run issues, UNISSUED + y, keep their positions' ids) and loses the others, instead of being emptied and filled:
    // the same set of keys (the ring's, every one put), each mapped to TRUE
    int copies = RELEASED_KEPT - real;
    boolean[] inRing = new boolean[copies]; // y: UNISSUED + y is in the ring now, past the kept positions
    int stay = RingRefill.removeLeaving(keys, real, inRing, released);
    // session 23 (ringcost): when the table holds as many keys as stay in the ring (it holds none but the ring's, so
    // then exactly those, each once), only the keys of the refill's range it lacks are put, in the order the loop below
    // puts every key otherwise (the same table, layout included: putting a key there already changes nothing)
    boolean known = released.size() == stay;
    if (known) for (int y = 0; y < copies; y++) if (!inRing[y]) released.put(RingRefill.UNISSUED + y, Boolean.TRUE);
    if (releasedOrder.length < RELEASED_KEPT) releasedOrder = new long[RELEASED_KEPT];
    for (int q = RELEASED_KEPT - 1; q >= 0; q--) {
      long key = q < real ? keys[q] : RingRefill.UNISSUED + RELEASED_KEPT - 1 - q;
      releasedOrder[RELEASED_KEPT - 1 - q] = key;
      if (!known) released.put(key, Boolean.TRUE); // a key there already stays (a reqId released twice: put again)
    }
    releasedNext = 0;
    releasedFull = true;
    releasedCount += n * d;
  }
  /**
   * Emulator-only host mechanism (hmmemu.sim.FastForward's partial refill, k = n x d below the ring's size): the ring as
   * n more periods releasing d reqIds each leave it, newest first: the k reqIds the period extrapolates, then the newest
   * of those it holds now, under the fast-forward's labels {@code ids} (FastForwardRings#partialIds); the ring's array
   * has the length the unskipped run's would have.
   */
  void refillReleasedPartial(int d, int k, long[] ids) {
    released.clear(); // the table's keys are among the ring's: as removing each
    int total = ids.length;
    releasedOrder = new long[RingRefill.lengthFor(total, RELEASED_KEPT)];
    for (int q = total - 1; q >= 0; q--) {
      releasedOrder[total - 1 - q] = ids[q];
      released.put(ids[q], Boolean.TRUE);
    }
    releasedNext = total % RELEASED_KEPT;
    releasedFull = total == RELEASED_KEPT;
    releasedCount += k;
  }

  /** pfn -> reqId of the make_device_exclusive call that returned with that folio locked. */
  final LongTable<Long> lockHolder = new LongTable<>();

  /** The reqId holding pfn's folio lock through make_device_exclusive, or null. */
  Long holder(long pfn) { return lockHolder.get(pfn); }

  List<Long> outstanding() {
    long[] reqIds = holds.keys();
    Arrays.sort(reqIds);
    List<Long> out = new ArrayList<>(reqIds.length);
    for (long r : reqIds) out.add(r);
    return out;
  }
}
