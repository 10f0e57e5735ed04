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
  /** reqIds whose folio_unlock()+folio_put() was done (a set: the values are {@code Boolean.TRUE}). */
  final LongTable<Boolean> released = new LongTable<>();
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
