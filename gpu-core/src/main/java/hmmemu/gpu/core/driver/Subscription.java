package hmmemu.gpu.core.driver;

import java.util.ArrayList;
import java.util.List;

/**
 * The driver-side mirror of one notifier subscription: for interval subscriptions, the
 * {@code mmu_interval_notifier.invalidate_seq} the driver stores with {@code mmu_interval_set_seq()} and the
 * "invalidation in flight" mark that makes {@code mmu_interval_read_begin()} wait (docs/PROTOCOL.md §2).
 */
final class Subscription {
  /** Which callback this subscription runs. */
  enum Role {
    /** nouveau's per-process classic notifier "Gc" (nouveau_svmm_invalidate_range_start): zaps GPU PTEs. */
    NOUVEAU_CLASSIC,
    /** nouveau's temporary per-fault interval notifier "Gt" (nouveau_svm_range_invalidate): set_seq only. */
    NOUVEAU_FAULT_WINDOW,
    /** dmirror's interval notifier over the whole mm (dmirror_interval_invalidate): set_seq and erase. */
    DMIRROR_MIRROR,
    /** dmirror_snapshot()'s temporary interval notifier (dmirror_snapshot_invalidate): set_seq only. */
    DMIRROR_SNAPSHOT
  }

  final long subId;
  final int mmId;
  final Role role;
  final long start;
  final long end;
  final Binding binding;

  /** Transitions: false -> true on NotifierInserted. */
  boolean inserted;
  /** The mirror of invalidate_seq: set by NotifierInserted, then by every applied set_seq. */
  long seq;
  /** Transitions: false -> true when an invalidate callback applied set_seq; -> false on InvalidateEnd. */
  boolean invalidationInFlight;
  Runnable onInserted;
  /**
   * Set when mmu_interval_notifier_remove() was called: the caller's continuation, run on NotifierRemoved. Until
   * then the subscription is still in the CPU's tree and its callbacks run as before (mm/mmu_notifier.c).
   */
  Runnable onRemoved;
  /** read_begin callers sleeping until the invalidation in flight ends. */
  final List<Runnable> readBeginWaiters = new ArrayList<>();

  Subscription(long subId, int mmId, Role role, long start, long end, Binding binding) {
    this.subId = subId;
    this.mmId = mmId;
    this.role = role;
    this.start = start;
    this.end = end;
    this.binding = binding;
  }
}
