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
  /** A ring of the released reqIds, oldest at releasedNext once full: the eldest leaves when a new one comes. */
  private final long[] releasedOrder = new long[RELEASED_KEPT];
  private int releasedNext;
  private boolean releasedFull;

  /** Remembers {@code reqId} as released, forgetting the eldest once {@value #RELEASED_KEPT} are kept. */
  void release(long reqId) {
    if (releasedFull) released.remove(releasedOrder[releasedNext]);
    releasedOrder[releasedNext] = reqId;
    released.put(reqId, Boolean.TRUE);
    releasedNext = (releasedNext + 1) % RELEASED_KEPT;
    if (releasedNext == 0) releasedFull = true;
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
