package hmmemu.checker;

import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Shadow of the folio locks and references make_device_exclusive() returns to its caller (mm/rmap.c: the folio
 * comes back locked with a reference; the caller does folio_unlock()+folio_put()).
 */
final class FolioLockShadow {
  /** reqId -> successful make_device_exclusive whose FolioUnlockPut was not done yet. */
  final Map<Long, Trace.ExclusiveReturned> holds = new HashMap<>();
  final Set<Long> released = new HashSet<>();
  /** pfn -> reqId of the make_device_exclusive call that returned with that folio locked. */
  final Map<Long, Long> lockHolder = new HashMap<>();

  /** The reqId holding pfn's folio lock through make_device_exclusive, or null. */
  Long holder(long pfn) { return lockHolder.get(pfn); }

  List<Long> outstanding() {
    List<Long> reqIds = new ArrayList<>(holds.keySet());
    Collections.sort(reqIds);
    return reqIds;
  }
}
