package hmmemu.checker;

import static hmmemu.checker.Reporter.hex;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.trace.Trace;

/**
 * The rules of the folio lock and reference make_device_exclusive() hands to its caller, and of the driver's own
 * lock: I7 (lock discipline) and I8 (one folio_unlock()+folio_put() per successful call).
 */
final class LockRules {
  private final Reporter out;
  private final FolioLockShadow locks;

  LockRules(Reporter out, FolioLockShadow locks) {
    this.out = out;
    this.locks = locks;
  }

  /** make_device_exclusive returned: I7 when it returns a folio locked that another call still holds. */
  void onExclusiveReturned(Trace.ExclusiveReturned x) {
    if (x.errno() != Errno.OK) return;
    locks.holds.put(x.reqId(), x);
    if (x.folioLocked()) {
      Long other = locks.lockHolder.get(x.pfn());
      if (other != null) {
        out.report(Invariant.I7, "pfn=" + hex(x.pfn()) + " dev" + x.deviceId(), "make_device_exclusive "
            + hex(x.reqId()) + " returned the folio locked while call " + hex(other) + " still holds its lock");
      }
      locks.lockHolder.put(x.pfn(), x.reqId());
    }
  }

  /** I8: every FolioUnlockPut matches exactly one earlier successful make_device_exclusive. */
  void onFolioUnlockPutDone(Trace.FolioUnlockPutDone u) {
    if (locks.released.containsKey(u.reqId())) {
      out.report(Invariant.I8, where(u), "a second folio_unlock()+folio_put() for make_device_exclusive " + hex(u.reqId())
          + " (one reference and one lock dropped twice)");
      return;
    }
    Trace.ExclusiveReturned hold = locks.holds.remove(u.reqId());
    if (hold == null) {
      out.report(Invariant.I8, where(u), "folio_unlock()+folio_put() for " + hex(u.reqId())
          + " without an outstanding successful make_device_exclusive of that reqId (none returned OK, or its"
          + " release was more than " + FolioLockShadow.RELEASED_KEPT + " releases ago)");
      return;
    }
    locks.release(u.reqId());
    Long holder = locks.lockHolder.get(hold.pfn());
    if (holder != null && holder == u.reqId()) locks.lockHolder.remove(hold.pfn());
  }

  /** Where a violation of I8 at {@code u} is (formatted only when one is reported). */
  private static String where(Trace.FolioUnlockPutDone u) { return "pfn=" + hex(u.pfn()) + " dev" + u.deviceId(); }

  /**
   * The dead caller's folio_unlock()+folio_put() done by the CPU node when the lease ran out: ends the hold like
   * FolioUnlockPutDone (I8: exactly one release per successful make_device_exclusive).
   */
  void onLeaseExpired(Trace.FolioLockLeaseExpired x) {
    onFolioUnlockPutDone(new Trace.FolioUnlockPutDone(x.reqId(), x.deviceId(), x.pfn()));
  }

  /**
   * I7 (lock discipline): a driver's user lock is never held across make_device_exclusive, read_begin or
   * hmm_range_fault, since the call's own invalidate callbacks take that lock (C10).
   */
  void onDriverLockHeldAcross(Trace.DriverLockHeldAcross l) {
    out.report(Invariant.I7, "mm" + l.mmId() + " va=" + hex(l.va()) + " dev" + l.deviceId(), "dev" + l.deviceId()
        + " called " + l.call() + " (req " + hex(l.reqId()) + ") holding its " + l.lock()
        + ": the call's own invalidate callbacks take that lock");
  }
}
