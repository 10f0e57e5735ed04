package hmmemu.protocol.trace;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import java.util.List;

/**
 * Trace events: every state change a core makes, in past tense. The invariant checker rebuilds the global
 * state from them (in causal order) and checks docs/PROTOCOL.md §6 after each one. Each has a protobuf twin.
 */
public final class Trace {
  private Trace() {}

  public sealed interface Event
      permits PteChanged, FolioChanged, VmaChanged, NotifierRegistered, InvalidateStarted, InvalidateEnded,
          HostMemoryAccessed, ExclusiveReturned, FolioUnlockPutDone, CpuFaulted, DriverBound,
          DeviceEntryInstalled, DeviceEntryZapped, InvalidateAcked, DeviceAccessIssued, DeviceFaulted,
          DriverFaultHandled, ReadRetryChecked, DeviceAccessCompleted, NodeGone, FolioLockLeaseExpired,
          DriverLockHeldAcross, KernelWarning, Livelock {}

  // ------------------------------------------------------------ CPU node

  /** A CPU PTE changed (set_pte_at / pte_clear / restore_exclusive_pte). pfn 0 when NONE. */
  public record PteChanged(int mmId, long va, PteState state, long pfn, boolean write, boolean dirty,
      boolean young, String cause) implements Event {}

  /** A folio's state changed: lock, refcount, mapcount, dirty, anon-exclusive, or it was freed. */
  public record FolioChanged(long pfn, boolean locked, int refcount, int mapcount, boolean dirty,
      boolean anonExclusive, boolean freed) implements Event {}

  /** A VMA was created, changed (mprotect) or removed. */
  public record VmaChanged(int mmId, long start, long end, int prot, VmaKind kind, boolean removed) implements Event {}

  /** A notifier subscription became live (removed=false) or was removed. */
  public record NotifierRegistered(long subId, int deviceId, int mmId, NotifierKind kind, long start, long end,
      boolean removed) implements Event {}

  /** mmu_notifier_invalidate_range_start() for [start,end): the callbacks sent, to subIds. */
  public record InvalidateStarted(long invId, int mmId, long start, long end, NotifyEvent event, long owner,
      boolean blockable, List<Long> subIds) implements Event {}

  /** mmu_notifier_invalidate_range_end(); applied=false when a non-blockable attempt was abandoned (-EAGAIN). */
  public record InvalidateEnded(long invId, boolean applied) implements Event {}

  /** Host memory was read or written; deviceId -1 for a CPU thread (threadId), else the device. */
  public record HostMemoryAccessed(int deviceId, int threadId, long pfn, int wordIndex, Access access,
      long oldValue, long newValue) implements Event {}

  /**
   * make_device_exclusive returned to its caller (reqId); errno OK with pfn on success. For a page of a 5.14
   * make_device_exclusive_range call, reqId is that page's (MakeDeviceExclusiveRange.pageReqIds) and errno why it is
   * NULL.
   */
  public record ExclusiveReturned(long reqId, int deviceId, long pfn, Errno errno, boolean folioLocked)
      implements Event {}

  /** The caller's folio_unlock()+folio_put() for make_device_exclusive call reqId was carried out. */
  public record FolioUnlockPutDone(long reqId, int deviceId, long pfn) implements Event {}

  /** A CPU page fault (kind: "devexcl", "anon", "wp", "swap", "sigsegv", "retry"). */
  public record CpuFaulted(int threadId, int mmId, long va, String kind) implements Event {}

  /**
   * The lease on a folio lock (and reference) that a make_device_exclusive caller on a node that is gone still
   * held ran out: the CPU node did that caller's folio_unlock() (lockHeld) + folio_put() for it. A fault event.
   */
  public record FolioLockLeaseExpired(long reqId, int deviceId, long pfn, boolean lockHeld) implements Event {}

  // ------------------------------------------------------------ any node

  /**
   * The emitting node declared node {@code nodeIndex} gone (Pekko Cluster downed or removed it): on the CPU node
   * its devices' subscriptions are removed as at driver unbind; on a GPU node (nodeIndex 0) the warps stop.
   */
  public record NodeGone(int nodeIndex, String reason) implements Event {}

  /**
   * The kernel would print a WARN_ON/WARN_ON_ONCE splat: {@code function} is the kernel function, {@code condition}
   * the warned expression (e.g. zap_nonpresent_ptes, "!vma_is_anonymous(vma)"), at va of mm mmId. The kernel goes
   * on after the warning; so does the model.
   */
  public record KernelWarning(String function, String condition, int mmId, long va) implements Event {}

  /**
   * The emulator's livelock bound ran out: {@code rounds} consecutive calls of {@code path} (e.g. "migrate_to_ram")
   * for the page at (mmId, va) returned without changing its PTE while {@code threads} threads kept faulting on it.
   * Those threads' accesses end with Errno.LIVELOCK instead of faulting forever (docs/PROTOCOL.md §3.11).
   */
  public record Livelock(int mmId, long va, long pfn, String path, int rounds, int threads) implements Event {}

  // ------------------------------------------------------------ GPU node

  /** A device driver bound to mm with its owner cookie. */
  public record DriverBound(int deviceId, int mmId, long owner, String flavour) implements Event {}

  /** A device page-table entry was programmed; subId/seq are the critical section's (seq -1: no seq check). */
  public record DeviceEntryInstalled(int deviceId, int mmId, long va, long pfn, boolean read, boolean write,
      boolean atomic, long subId, long seq) implements Event {}

  /** A device page-table entry was removed (and the device TLB flushed). */
  public record DeviceEntryZapped(int deviceId, int mmId, long va, long pfn) implements Event {}

  /** The driver acked callback (invId, subId); ignored=true when the owner filter skipped it. */
  public record InvalidateAcked(long invId, long subId, int deviceId, boolean ok, boolean ignored) implements Event {}

  /** The device sent an access to host memory through entry (mmId, va) -> pfn. */
  public record DeviceAccessIssued(int deviceId, int mmId, long va, long pfn, Access access) implements Event {}

  /** A device access faulted (no or insufficient entry). */
  public record DeviceFaulted(int deviceId, int mmId, long va, Access access) implements Event {}

  /** The driver finished one fault: iterations of its loop and the result (OK, EBUSY timeout, EINVAL...). */
  public record DriverFaultHandled(int deviceId, int mmId, long va, Access access, int iterations, Errno errno)
      implements Event {}

  /** read_retry under the driver lock: seq from read_begin vs the subscription's invalidate_seq. */
  public record ReadRetryChecked(int deviceId, long subId, long seq, long subSeq, boolean retry) implements Event {}

  /** A device access completed (OK) or was cancelled. */
  public record DeviceAccessCompleted(int deviceId, long reqId, Errno errno, int faultRounds, long latencyMicros)
      implements Event {}

  /**
   * A driver called {@code call} (e.g. make_device_exclusive, request reqId) on page va while holding its user
   * lock {@code lock} (nouveau's svmm mutex with driver-lock-across-conversion, C10): the I7 lock-discipline
   * breach, since the call's own invalidate callbacks take that lock.
   */
  public record DriverLockHeldAcross(int deviceId, int mmId, long va, String lock, String call, long reqId)
      implements Event {}
}
