package hmmemu.gpu.core.driver;

import hmmemu.gpu.core.device.DevicePageTable;
import hmmemu.gpu.core.device.StepContext;
import hmmemu.protocol.model.Mutant;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.Set;

/**
 * The invalidate callbacks of every subscription the drivers of one device hold (docs/PROTOCOL.md §4.4, §4.6):
 * nouveau_svm_range_invalidate (Gt), nouveau_svmm_invalidate_range_start (Gc), dmirror_interval_invalidate and
 * dmirror_snapshot_invalidate. Each ends with exactly one InvalidateAck (the classic one after the zap's flush).
 */
final class InvalidateCallbacks {
  /** An invalidate callback, as a holder of (or waiter for) a driver mutex. */
  static final class Callback implements DriverMutex.Holder {
    final HmmProtocol.InvalidateStart inv;

    Callback(HmmProtocol.InvalidateStart inv) { this.inv = inv; }

    @Override
    public String describeHolder() {
      return String.format("callback for inv %d on sub %#x (%s [%#x,%#x))", inv.invId(), inv.subId(), inv.event(),
          inv.start(), inv.end());
    }
  }

  private final int deviceId;
  private final StepContext ctx;
  private final Notifiers notifiers;
  private final DevicePageTable pageTable;
  private long invalidations;

  InvalidateCallbacks(int deviceId, StepContext ctx, Notifiers notifiers, DevicePageTable pageTable) {
    this.deviceId = deviceId;
    this.ctx = ctx;
    this.notifiers = notifiers;
    this.pageTable = pageTable;
  }

  long invalidations() { return invalidations; }

  /** mn_itree_invalidate / mn_hlist_invalidate_range_start reaching one of our subscriptions. */
  void onInvalidateStart(HmmProtocol.InvalidateStart inv) {
    invalidations++;
    Subscription sub = notifiers.get(inv.subId());
    if (sub == null) {
      ack(inv, true, false); // removed or unknown subscription: nothing of ours to invalidate
      return;
    }
    switch (sub.role) {
      case NOUVEAU_FAULT_WINDOW:
        faultWindowInvalidate(sub, inv);
        break;
      case NOUVEAU_CLASSIC:
        classicInvalidate(sub, inv);
        break;
      case DMIRROR_MIRROR:
        mirrorInvalidate(sub, inv);
        break;
      case DMIRROR_SNAPSHOT:
        lockedSetSeq(sub, inv);
        break;
      default:
        throw new IllegalStateException("unknown subscription role " + sub.role);
    }
  }

  /**
   * nouveau_svm_range_invalidate(): ignore the own conversion (EXCLUSIVE with own owner); else lock the svmm
   * mutex (trylock when non-blockable), set_seq, unlock. Does not touch GPU PTEs.
   */
  private void faultWindowInvalidate(Subscription sub, HmmProtocol.InvalidateStart inv) {
    Binding binding = sub.binding;
    if (ctx.switches().ownerFilter() && !ctx.switches().has(Mutant.OWNER_FILTER_IGNORED)
        && inv.event() == NotifyEvent.EXCLUSIVE
        && (inv.owner() == binding.owner || ctx.switches().has(Mutant.OWNER_FILTER_ANY_OWNER))) {
      ack(inv, true, true);
      return;
    }
    lockedSetSeq(sub, inv);
  }

  /** Lock the user lock (trylock when non-blockable, failing the callback), set_seq, unlock. */
  private void lockedSetSeq(Subscription sub, HmmProtocol.InvalidateStart inv) {
    Binding binding = sub.binding;
    Callback callback = new Callback(inv);
    Runnable body = () -> {
      setSeqAndAck(sub, inv);
      binding.mutex.unlock(callback);
    };
    if (!inv.blockable()) {
      if (binding.mutex.tryLock(callback)) body.run(); else ack(inv, false, false);
    } else {
      binding.mutex.lock(callback, body);
    }
  }

  /**
   * nouveau_svmm_invalidate_range_start(): non-blockable -> -EAGAIN; lock the svmm mutex; skip MIGRATE with own
   * owner; zap the GPU PTEs of [start,end) and flush (the ack waits for transactions already sent to the zapped
   * pages); unlock. EXCLUSIVE is not filtered, so the driver's own conversion zaps an earlier mapping.
   */
  private void classicInvalidate(Subscription sub, HmmProtocol.InvalidateStart inv) {
    if (!inv.blockable() && !ctx.switches().has(Mutant.CLASSIC_BLOCKS_NONBLOCKABLE)) {
      ack(inv, false, false);
      return;
    }
    Binding binding = sub.binding;
    Callback callback = new Callback(inv);
    binding.mutex.lock(callback, () -> {
      if (inv.event() == NotifyEvent.MIGRATE && inv.owner() == binding.owner) {
        ack(inv, true, true);
      } else {
        Set<Long> pfns = pageTable.zap(sub.mmId, Page.alignDown(inv.start()), inv.end(), false);
        pageTable.ackAfterFlush(inv, pfns);
      }
      binding.mutex.unlock(callback);
    });
  }

  /**
   * dmirror_interval_invalidate(): skip MIGRATE with own owner; lock (trylock when non-blockable), set_seq,
   * erase entries with page index start>>12 .. end>>12 INCLUSIVE (one page beyond the range), unlock.
   */
  private void mirrorInvalidate(Subscription sub, HmmProtocol.InvalidateStart inv) {
    Binding binding = sub.binding;
    // dmirror compares with its pgmap owner (dmirror->mdevice), never NULL: its own migrations are skipped, without
    // mmu_interval_set_seq; dmirror_migrate_finalize_and_map / dmirror_devmem_fault_alloc_and_copy update its entries.
    if (inv.event() == NotifyEvent.MIGRATE && inv.owner() == hmmemu.protocol.msg.Ids.dmirrorPgmapOwner(deviceId)) {
      ack(inv, true, true);
      return;
    }
    Callback callback = new Callback(inv);
    Runnable body = () -> {
      long first = (inv.start() >>> Page.SHIFT) << Page.SHIFT;
      long last = (inv.end() >>> Page.SHIFT) << Page.SHIFT;
      pageTable.zap(sub.mmId, first, last, !ctx.switches().has(Mutant.DMIRROR_ZAP_EXCLUSIVE_END));
      setSeqAndAck(sub, inv);
      binding.mutex.unlock(callback);
    };
    if (!inv.blockable()) {
      if (binding.mutex.tryLock(callback)) body.run(); else ack(inv, false, false);
    } else {
      binding.mutex.lock(callback, body);
    }
  }

  /** A callback that returned without mmu_interval_set_seq() (filtered, failed trylock, classic, unknown sub). */
  private void ack(HmmProtocol.InvalidateStart inv, boolean ok, boolean ignored) {
    ctx.ackInvalidate(deviceId, inv, ok, ignored, false);
  }

  /**
   * mmu_interval_set_seq(sub, cur_seq), then the callback returns true (the SKIP_SET_SEQ mutant returns true
   * without setting the seq).
   */
  private void setSeqAndAck(Subscription sub, HmmProtocol.InvalidateStart inv) {
    if (ctx.switches().has(Mutant.SKIP_SET_SEQ)) {
      ack(inv, true, false);
      return;
    }
    notifiers.setSeq(sub, inv.curSeq());
    ackSeqSet(inv);
  }

  /** A callback that called mmu_interval_set_seq(sub, cur_seq) and returned true. */
  private void ackSeqSet(HmmProtocol.InvalidateStart inv) {
    ctx.ackInvalidate(deviceId, inv, true, false, true);
  }
}
