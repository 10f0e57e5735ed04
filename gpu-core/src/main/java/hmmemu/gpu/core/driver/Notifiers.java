package hmmemu.gpu.core.driver;

import hmmemu.gpu.core.device.DeviceIds;
import hmmemu.gpu.core.device.StepContext;
import hmmemu.protocol.model.Mutant;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * The driver side of the mmu notifier API (docs/PROTOCOL.md §2) for one device: the subscriptions its drivers
 * inserted, mmu_interval_notifier_insert/remove, mmu_interval_read_begin/read_retry and mmu_interval_set_seq.
 */
final class Notifiers {
  private final DeviceIds ids;
  private final StepContext ctx;
  private final Map<Long, Subscription> subscriptions = new HashMap<>();

  Notifiers(DeviceIds ids, StepContext ctx) {
    this.ids = ids;
    this.ctx = ctx;
  }

  Subscription get(long subId) { return subscriptions.get(subId); }

  /** mmu_interval_notifier_insert() / mmu_notifier_register(): live once NotifierInserted arrives. */
  Subscription insert(Subscription.Role role, Binding binding, long start, long end, Runnable onInserted) {
    Subscription sub = new Subscription(ids.newSubId(), binding.mmId, role, start, end, binding);
    sub.onInserted = onInserted;
    subscriptions.put(sub.subId, sub);
    NotifierKind kind = role == Subscription.Role.NOUVEAU_CLASSIC ? NotifierKind.CLASSIC : NotifierKind.INTERVAL;
    ctx.toCpu(new HmmProtocol.NotifierInsert(sub.subId, ids.deviceId(), binding.mmId, kind, start, end));
    return sub;
  }

  /**
   * mmu_interval_notifier_remove(): the caller sleeps until NotifierRemoved; callbacks that reach the subscription
   * meanwhile run as before (the kernel keeps it in the tree until the running invalidation period ends).
   */
  void remove(Subscription sub, Runnable onRemoved) {
    markRemoving(sub, onRemoved);
    ctx.toCpu(new HmmProtocol.NotifierRemove(sub.subId));
  }

  /**
   * folio_unlock() + folio_put() of a make_device_exclusive() call, then at once mmu_interval_notifier_remove(sub):
   * nouveau_atomic_range_fault()'s exit path, as one message (see HmmProtocol.FolioUnlockPut).
   */
  void unlockPutAndRemove(long exclusiveReqId, long pfn, Subscription sub, Runnable onRemoved) {
    markRemoving(sub, onRemoved);
    ctx.toCpu(new HmmProtocol.FolioUnlockPut(exclusiveReqId, ids.deviceId(), pfn, sub.subId));
  }

  private void markRemoving(Subscription sub, Runnable onRemoved) {
    if (sub.onRemoved != null) throw new IllegalStateException("mmu_interval_notifier_remove called twice on sub "
        + Long.toHexString(sub.subId));
    sub.onRemoved = onRemoved;
  }

  /** mmu_interval_notifier_remove() returns: later callbacks for the subscription are acked at once. */
  void onNotifierRemoved(HmmProtocol.NotifierRemoved msg) {
    Subscription sub = subscriptions.get(msg.subId());
    if (sub == null || sub.onRemoved == null) return; // late or duplicate: harmless
    subscriptions.remove(sub.subId);
    Runnable next = sub.onRemoved;
    next.run();
  }

  void onNotifierInserted(HmmProtocol.NotifierInserted msg) {
    Subscription sub = subscriptions.get(msg.subId());
    if (sub == null || sub.inserted) return; // late or duplicate: harmless
    sub.inserted = true;
    sub.seq = msg.seq();
    // __mmu_interval_notifier_insert() during an invalidation gives the subscription the mm's current odd seq:
    // it does not block, but mmu_interval_read_begin() sees is_invalidating and sleeps until mn_itree_inv_end().
    if (msg.invalidating()) sub.invalidationInFlight = true;
    Runnable next = sub.onInserted;
    sub.onInserted = null;
    if (next != null) next.run();
  }

  /** mmu_interval_read_begin(): sleeps while an invalidation that already hit the subscription is running. */
  void readBegin(Subscription sub, LongConsumer continuation) {
    if (sub.invalidationInFlight && !ctx.switches().has(Mutant.READ_BEGIN_NO_WAIT)) {
      sub.readBeginWaiters.add(() -> continuation.accept(sub.seq));
    } else {
      continuation.accept(sub.seq);
    }
  }

  /** mmu_interval_read_retry() under the user lock, traced. */
  boolean readRetry(Subscription sub, long seq) {
    boolean retry = sub.seq != seq && !ctx.switches().has(Mutant.SKIP_READ_RETRY);
    ctx.emit(new Trace.ReadRetryChecked(ids.deviceId(), sub.subId, seq, sub.seq, retry));
    return retry;
  }

  /** mmu_interval_set_seq() from an invalidate callback: read_begin sleeps until InvalidateEnd. */
  void setSeq(Subscription sub, long curSeq) {
    sub.seq = curSeq;
    sub.invalidationInFlight = true;
  }

  /** mmu_interval_invalidate end: read_begin callers sleeping on the subscription wake up. */
  void onInvalidateEnd(HmmProtocol.InvalidateEnd msg) {
    Subscription sub = subscriptions.get(msg.subId());
    if (sub == null || !sub.invalidationInFlight) return; // stale, duplicate, or only ignored callbacks
    sub.invalidationInFlight = false;
    List<Runnable> waiters = new ArrayList<>(sub.readBeginWaiters);
    sub.readBeginWaiters.clear();
    for (Runnable waiter : waiters) waiter.run();
  }
}
