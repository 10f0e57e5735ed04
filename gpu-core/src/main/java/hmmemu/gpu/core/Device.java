package hmmemu.gpu.core;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * One emulated device with its driver: the device page table (nouveau GPU PTEs / dmirror xarray, PROTOCOL.md
 * §1.7), the warps' outstanding host accesses, the replayable fault buffer and the nouveau fault worker
 * (nouveau_svm_fault, §4.1), the driver bindings and the invalidate callbacks of every subscription (§4.4, §4.6).
 *
 * <p>Implementation note: everything that waits (for NotifierInserted, a reply, InvalidateEnd, a mutex) is a
 * parked continuation; a later step resumes it. Every state change emits its trace event in the same step.
 */
final class Device {
  /** NVIF_VMM_PFNMAP_V0_{V,W,A}: the bits of the last GPU PTE update (nouveau's args.phys[0]). */
  static final int PHYS_V = 1;
  static final int PHYS_W = 2;
  static final int PHYS_A = 4;
  static final long NOUVEAU_OWNER_BASE = 0x4e56_0000L;
  /** dmirror_fault() works in chunks of ARRAY_SIZE(pfns) = 64 pages. */
  static final int DMIRROR_CHUNK_PAGES = 64;

  /** Key of a device page-table entry: the process and the page-aligned virtual address. */
  record EntryKey(int mmId, long va) implements Comparable<EntryKey> {
    @Override
    public int compareTo(EntryKey o) {
      int c = Integer.compare(mmId, o.mmId);
      return c != 0 ? c : Long.compare(va, o.va);
    }
  }

  /** One device page-table entry (PROTOCOL.md §1.7). */
  record Entry(long pfn, boolean read, boolean write, boolean atomic) {}

  private record HostAccess(long pfn, LongConsumer onReply) {}

  /** A classic-notifier ack held back until the device's transactions to the zapped pfns completed. */
  private static final class DeferredAck {
    final HmmProtocol.InvalidateStart inv;
    final Set<Long> waitingFor;

    DeferredAck(HmmProtocol.InvalidateStart inv, Set<Long> waitingFor) {
      this.inv = inv;
      this.waitingFor = waitingFor;
    }
  }

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

  /** The faults of one nouveau_svm_fault() call, taken from the fault buffer at once. */
  private static final class FaultBatch {
    final List<WarpAccess> faults;
    /** Index of the fault being handled (nouveau's fi). */
    int next;
    /** nouveau's function-local atomic flag: set by an ATOMIC fault, never cleared within the batch (C19). */
    boolean atomic;
    /** args.phys[0]: the bits of the last successful GPU PTE update; stale after a failed one, as in nouveau. */
    int phys;
    int replay;
    final Set<Long> cancelled = new HashSet<>();

    FaultBatch(List<WarpAccess> faults) { this.faults = faults; }
  }

  /**
   * nouveau_svm_fault_cmp(): by instance (here mm), address, then severest access first (READ after WRITE and
   * ATOMIC). The kernel leaves WRITE vs ATOMIC unordered; we put ATOMIC first, then arrival order.
   */
  private static final Comparator<WarpAccess> FAULT_ORDER = Comparator
      .comparingInt((WarpAccess f) -> f.mmId)
      .thenComparingLong(WarpAccess::page)
      .thenComparingInt(f -> -f.access.ordinal())
      .thenComparingLong(f -> f.arrival);

  final int deviceId;
  final long nouveauOwner;
  private final StepContext ctx;
  /** Id counters survive a reset so that late messages of an earlier run can never match new state. */
  private long subCounter;
  private long reqCounter;
  private long arrivalCounter;

  private final TreeMap<EntryKey, Entry> pageTable = new TreeMap<>();
  private final Map<Integer, Binding> bindings = new TreeMap<>();
  private final Map<Long, Subscription> subscriptions = new HashMap<>();
  private final Map<Long, Consumer<HmmProtocol.Msg>> pendingReplies = new HashMap<>();
  private final Map<Long, HostAccess> hostAccesses = new LinkedHashMap<>();
  private final Map<Long, WarpAccess> warps = new HashMap<>();
  private final List<WarpAccess> faultBuffer = new ArrayList<>();
  private final List<DeferredAck> deferredAcks = new ArrayList<>();
  /** dmirror ioctls started and possibly not returned yet. */
  private final List<DmirrorIoctl> ioctls = new ArrayList<>();
  /** The nouveau fault worker: null when idle (transitions: null -> batch when faults wait -> null). */
  private FaultBatch batch;
  private NouveauFault currentFault;

  private long faults;
  private long driverIterations;
  private long driverIterationsMax;
  private long driverTimeouts;
  private long cancels;
  private long invalidations;
  private long replays;
  private long faultsHandled;

  Device(int deviceId, StepContext ctx) { this(deviceId, ctx, 0, 0); }

  private Device(int deviceId, StepContext ctx, long subCounter, long reqCounter) {
    this.deviceId = deviceId;
    this.nouveauOwner = NOUVEAU_OWNER_BASE + deviceId;
    this.ctx = ctx;
    this.subCounter = subCounter;
    this.reqCounter = reqCounter;
  }

  /** A fresh device with no state, keeping the id counters. */
  Device reset() { return new Device(deviceId, ctx, subCounter, reqCounter); }

  // ------------------------------------------------------------------------------------------------ ids

  long newSubId() { return ((long) deviceId << 32) | ++subCounter; }

  long newReqId() { return ((long) deviceId << 40) | ++reqCounter; }

  // ------------------------------------------------------------------------------------------------ binding

  void onBindMm(HmmProtocol.BindMm msg) {
    if (bindings.containsKey(msg.mmId())) {
      throw new IllegalStateException("one binding per (device, mm): device " + deviceId + " already bound to mm "
          + msg.mmId());
    }
    long owner = msg.flavour() == DriverFlavour.NOUVEAU ? nouveauOwner : 0L;
    Binding binding = new Binding(msg.mmId(), msg.flavour(), owner, deviceId);
    bindings.put(msg.mmId(), binding);
    ctx.emit(new Trace.DriverBound(deviceId, msg.mmId(), owner, msg.flavour().name()));
    Subscription.Role role = msg.flavour() == DriverFlavour.NOUVEAU
        ? Subscription.Role.NOUVEAU_CLASSIC : Subscription.Role.DMIRROR_MIRROR;
    binding.subscription = insertSubscription(role, binding, 0, Page.TASK_SIZE, () -> {
      binding.bound = true;
      ctx.reply(new HmmProtocol.MmBound(msg.reqId(), deviceId, owner));
    });
  }

  Binding binding(int mmId) { return bindings.get(mmId); }

  // ------------------------------------------------------------------------------------------------ subscriptions

  /** mmu_interval_notifier_insert() / mmu_notifier_register(): live once NotifierInserted arrives. */
  Subscription insertSubscription(Subscription.Role role, Binding binding, long start, long end,
      Runnable onInserted) {
    Subscription sub = new Subscription(newSubId(), binding.mmId, role, start, end, binding);
    sub.onInserted = onInserted;
    subscriptions.put(sub.subId, sub);
    NotifierKind kind = role == Subscription.Role.NOUVEAU_CLASSIC ? NotifierKind.CLASSIC : NotifierKind.INTERVAL;
    ctx.toCpu(new HmmProtocol.NotifierInsert(sub.subId, deviceId, binding.mmId, kind, start, end));
    return sub;
  }

  /**
   * mmu_interval_notifier_remove(): the caller sleeps until NotifierRemoved; callbacks that reach the subscription
   * meanwhile run as before (the kernel keeps it in the tree until the running invalidation period ends).
   */
  void removeSubscription(Subscription sub, Runnable onRemoved) {
    markRemoving(sub, onRemoved);
    ctx.toCpu(new HmmProtocol.NotifierRemove(sub.subId));
  }

  /**
   * folio_unlock() + folio_put() of a make_device_exclusive() call, then at once mmu_interval_notifier_remove(sub):
   * nouveau_atomic_range_fault()'s exit path, as one message (see HmmProtocol.FolioUnlockPut).
   */
  void unlockPutAndRemove(long exclusiveReqId, long pfn, Subscription sub, Runnable onRemoved) {
    markRemoving(sub, onRemoved);
    ctx.toCpu(new HmmProtocol.FolioUnlockPut(exclusiveReqId, deviceId, pfn, sub.subId));
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
    Runnable next = sub.onInserted;
    sub.onInserted = null;
    if (next != null) next.run();
  }

  /** mmu_interval_read_begin(): sleeps while an invalidation that already hit the subscription is running. */
  void readBegin(Subscription sub, LongConsumer continuation) {
    if (sub.invalidationInFlight) {
      sub.readBeginWaiters.add(() -> continuation.accept(sub.seq));
    } else {
      continuation.accept(sub.seq);
    }
  }

  /** mmu_interval_read_retry() under the user lock, traced. */
  boolean readRetry(Subscription sub, long seq) {
    boolean retry = sub.seq != seq;
    ctx.emit(new Trace.ReadRetryChecked(deviceId, sub.subId, seq, sub.seq, retry));
    return retry;
  }

  void onInvalidateEnd(HmmProtocol.InvalidateEnd msg) {
    Subscription sub = subscriptions.get(msg.subId());
    if (sub == null || !sub.invalidationInFlight) return; // stale, duplicate, or only ignored callbacks
    sub.invalidationInFlight = false;
    List<Runnable> waiters = new ArrayList<>(sub.readBeginWaiters);
    sub.readBeginWaiters.clear();
    for (Runnable waiter : waiters) waiter.run();
  }

  // ------------------------------------------------------------------------------------------------ callbacks

  void onInvalidateStart(HmmProtocol.InvalidateStart inv) {
    invalidations++;
    Subscription sub = subscriptions.get(inv.subId());
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
    if (ctx.switches.ownerFilter() && inv.event() == NotifyEvent.EXCLUSIVE && inv.owner() == binding.owner) {
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
      setSeq(sub, inv.curSeq());
      ack(inv, true, false);
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
    if (!inv.blockable()) {
      ack(inv, false, false);
      return;
    }
    Binding binding = sub.binding;
    Callback callback = new Callback(inv);
    binding.mutex.lock(callback, () -> {
      if (inv.event() == NotifyEvent.MIGRATE && inv.owner() == binding.owner) {
        ack(inv, true, true);
      } else {
        Set<Long> pfns = zap(sub.mmId, Page.alignDown(inv.start()), inv.end(), false);
        ackAfterFlush(inv, pfns);
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
    // dmirror compares with its pgmap owner, which is never NULL; our dmirror passes owner NULL (0).
    if (inv.event() == NotifyEvent.MIGRATE && binding.owner != 0 && inv.owner() == binding.owner) {
      ack(inv, true, true);
      return;
    }
    Callback callback = new Callback(inv);
    Runnable body = () -> {
      setSeq(sub, inv.curSeq());
      long first = (inv.start() >>> Page.SHIFT) << Page.SHIFT;
      long last = (inv.end() >>> Page.SHIFT) << Page.SHIFT;
      zap(sub.mmId, first, last, true);
      ack(inv, true, false);
      binding.mutex.unlock(callback);
    };
    if (!inv.blockable()) {
      if (binding.mutex.tryLock(callback)) body.run(); else ack(inv, false, false);
    } else {
      binding.mutex.lock(callback, body);
    }
  }

  private void setSeq(Subscription sub, long curSeq) {
    sub.seq = curSeq;
    sub.invalidationInFlight = true;
  }

  private void ack(HmmProtocol.InvalidateStart inv, boolean ok, boolean ignored) {
    ctx.emit(new Trace.InvalidateAcked(inv.invId(), inv.subId(), deviceId, ok, ignored));
    ctx.toCpu(new HmmProtocol.InvalidateAck(inv.invId(), inv.subId(), ok));
  }

  /**
   * The TLB flush of a zap completes only when every transaction already sent to the zapped pages did. An
   * overlapping callback that finds the entries already zapped by an earlier callback whose flush is still
   * pending must wait for that flush too (the kernel's second callback waits on the same flush under the svmm
   * mutex): otherwise it would ack at once while an access sent through the zapped entry can still reach the
   * host after that ack.
   */
  private void ackAfterFlush(HmmProtocol.InvalidateStart inv, Set<Long> zappedPfns) {
    Set<Long> waitingFor = new HashSet<>();
    for (Map.Entry<Long, HostAccess> e : hostAccesses.entrySet()) {
      if (zappedPfns.contains(e.getValue().pfn())) waitingFor.add(e.getKey());
    }
    for (DeferredAck earlier : deferredAcks) {
      if (earlier.inv.mmId() == inv.mmId() && earlier.inv.start() < inv.end() && inv.start() < earlier.inv.end()) {
        waitingFor.addAll(earlier.waitingFor);
      }
    }
    if (waitingFor.isEmpty()) {
      ack(inv, true, false);
    } else {
      deferredAcks.add(new DeferredAck(inv, waitingFor));
    }
  }

  // ------------------------------------------------------------------------------------------------ page table

  Entry entry(int mmId, long va) { return pageTable.get(new EntryKey(mmId, Page.alignDown(va))); }

  void install(int mmId, long va, long pfn, boolean read, boolean write, boolean atomic, long subId, long seq) {
    long page = Page.alignDown(va);
    pageTable.put(new EntryKey(mmId, page), new Entry(pfn, read, write, atomic));
    ctx.emit(new Trace.DeviceEntryInstalled(deviceId, mmId, page, pfn, read, write, atomic, subId, seq));
  }

  /** Removes the entries of mm from page {@code from} to {@code to} (inclusive or not); returns their pfns. */
  private Set<Long> zap(int mmId, long from, long to, boolean toInclusive) {
    Set<Long> pfns = new HashSet<>();
    if (to < from || (to == from && !toInclusive)) return pfns;
    NavigableMap<EntryKey, Entry> range =
        pageTable.subMap(new EntryKey(mmId, from), true, new EntryKey(mmId, to), toInclusive);
    Iterator<Map.Entry<EntryKey, Entry>> it = range.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<EntryKey, Entry> e = it.next();
      // Read the entry before removing it: TreeMap may reuse the removed node for its successor.
      long va = e.getKey().va();
      long pfn = e.getValue().pfn();
      it.remove();
      pfns.add(pfn);
      ctx.emit(new Trace.DeviceEntryZapped(deviceId, mmId, va, pfn));
    }
    return pfns;
  }

  // ------------------------------------------------------------------------------------------------ host memory

  /** The device reads/writes host memory by physical address through the entry at (mmId, pageVa). */
  void issueHostAccess(int mmId, long pageVa, long pfn, int wordIndex, Access access, long value,
      LongConsumer onReply) {
    ctx.emit(new Trace.DeviceAccessIssued(deviceId, mmId, pageVa, pfn, access));
    long reqId = newReqId();
    hostAccesses.put(reqId, new HostAccess(pfn, onReply));
    ctx.toCpu(new HmmProtocol.DeviceMemoryAccess(reqId, deviceId, pfn, wordIndex, access, value));
  }

  void onDeviceMemoryAccessReply(HmmProtocol.DeviceMemoryAccessReply msg) {
    HostAccess access = hostAccesses.remove(msg.reqId());
    if (access == null) return; // late or duplicate reply
    access.onReply().accept(msg.value());
    Iterator<DeferredAck> it = deferredAcks.iterator();
    List<DeferredAck> ready = new ArrayList<>();
    while (it.hasNext()) {
      DeferredAck d = it.next();
      if (d.waitingFor.remove(msg.reqId()) && d.waitingFor.isEmpty()) {
        it.remove();
        ready.add(d);
      }
    }
    for (DeferredAck d : ready) ack(d.inv, true, false);
  }

  void expectReply(long reqId, Consumer<HmmProtocol.Msg> continuation) { pendingReplies.put(reqId, continuation); }

  void onReply(long reqId, HmmProtocol.Msg msg) {
    Consumer<HmmProtocol.Msg> continuation = pendingReplies.remove(reqId);
    if (continuation != null) continuation.accept(msg); // else late or duplicate reply
  }

  // ------------------------------------------------------------------------------------------------ warps

  void onDeviceAccess(HmmProtocol.DeviceAccess msg) {
    if (warps.containsKey(msg.reqId())) {
      throw new IllegalStateException("one outstanding access per warp: reqId " + msg.reqId() + " already pending");
    }
    if ((msg.va() & (Long.BYTES - 1)) != 0) {
      throw new IllegalStateException("device accesses are 8-byte aligned: va " + Long.toHexString(msg.va()));
    }
    WarpAccess warp = new WarpAccess(msg, ctx.nowMicros, arrivalCounter++);
    warps.put(warp.reqId, warp);
    execute(warp);
    startBatchIfIdle();
  }

  private static boolean permits(Entry e, Access access) {
    switch (access) {
      case READ: return e.read();
      case WRITE: return e.write();
      case ATOMIC: return e.atomic();
      default: throw new IllegalStateException("unknown access " + access);
    }
  }

  /** The device executes the access: through a sufficient entry to host memory, or a replayable fault. */
  private void execute(WarpAccess warp) {
    Entry e = pageTable.get(new EntryKey(warp.mmId, warp.page()));
    if (e != null && permits(e, warp.access)) {
      issueHostAccess(warp.mmId, warp.page(), e.pfn(), Page.wordIndex(warp.va), warp.access, warp.value,
          old -> complete(warp, Errno.OK, old));
    } else {
      faults++;
      warp.faultRounds++;
      ctx.emit(new Trace.DeviceFaulted(deviceId, warp.mmId, warp.page(), warp.access));
      faultBuffer.add(warp);
    }
  }

  private void complete(WarpAccess warp, Errno errno, long value) {
    warps.remove(warp.reqId);
    if (errno != Errno.OK) cancels++;
    long latency = ctx.nowMicros - warp.issuedAtMicros;
    ctx.emit(new Trace.DeviceAccessCompleted(deviceId, warp.reqId, errno, warp.faultRounds, latency));
    ctx.reply(new HmmProtocol.DeviceAccessDone(warp.reqId, deviceId, errno, value, warp.faultRounds, latency));
  }

  // ------------------------------------------------------------------------------------------------ nouveau worker

  /** nouveau_svm_fault(): when the worker is idle, take the whole fault buffer as one batch. */
  private void startBatchIfIdle() {
    if (batch != null || faultBuffer.isEmpty()) return;
    List<WarpAccess> taken = new ArrayList<>(faultBuffer);
    faultBuffer.clear();
    taken.sort(FAULT_ORDER);
    batch = new FaultBatch(taken);
    handleNextFault();
  }

  private void handleNextFault() {
    FaultBatch b = batch;
    while (b.next < b.faults.size()) {
      WarpAccess fault = b.faults.get(b.next);
      Binding binding = bindings.get(fault.mmId);
      if (binding == null || binding.flavour != DriverFlavour.NOUVEAU || !binding.bound) {
        // "Cancel any faults from non-SVM channels."
        cancelFault(b, fault);
        b.next++;
        continue;
      }
      if (fault.access == Access.ATOMIC) b.atomic = true;
      int hmmFlags = fault.access == Access.READ ? HmmPfn.REQ_FAULT : HmmPfn.REQ_FAULT | HmmPfn.REQ_WRITE;
      currentFault = new NouveauFault(this, ctx, binding, fault, b.atomic, hmmFlags);
      currentFault.start();
      return;
    }
    finishBatch(b);
  }

  /** Called by the fault handler when nouveau_(atomic_)range_fault() returned. */
  void onFaultHandled(NouveauFault handler, Errno errno) {
    FaultBatch b = batch;
    if (b == null || handler != currentFault) {
      throw new IllegalStateException("one fault handled at a time: handler finished outside its batch");
    }
    currentFault = null;
    faultsHandled++;
    driverIterations += handler.iterations();
    driverIterationsMax = Math.max(driverIterationsMax, handler.iterations());
    if (errno == Errno.EBUSY) driverTimeouts++;
    if (handler.resultPhys() >= 0) b.phys = handler.resultPhys();
    // Skip the following faults of the same page that the update satisfies, judged (as nouveau does) by the
    // access of the fault just handled against args.phys[0].
    int fi = b.next;
    WarpAccess handled = b.faults.get(fi);
    int fn = fi + 1;
    while (fn < b.faults.size()) {
      WarpAccess f = b.faults.get(fn);
      if (f.mmId != handled.mmId || f.page() >= handled.page() + Page.SIZE || !satisfied(handled.access, b.phys)) {
        break;
      }
      fn++;
    }
    if (errno != Errno.OK) {
      for (int i = fi; i < fn; i++) cancelFault(b, b.faults.get(i));
    } else {
      b.replay++;
    }
    b.next = fn;
    handleNextFault();
  }

  private static boolean satisfied(Access handledAccess, int phys) {
    switch (handledAccess) {
      case READ: return (phys & PHYS_V) != 0;
      case WRITE: return (phys & PHYS_W) != 0;
      case ATOMIC: return (phys & PHYS_W) != 0 && (phys & PHYS_A) != 0;
      default: throw new IllegalStateException("unknown access " + handledAccess);
    }
  }

  /**
   * nouveau_svm_fault_cancel_fault(): cancels the faulting access. A stale entry (its access already completed
   * after an earlier replay, or a second entry of the same access) cancels nothing.
   */
  private void cancelFault(FaultBatch b, WarpAccess fault) {
    b.cancelled.add(fault.reqId);
    if (warps.get(fault.reqId) == fault) complete(fault, Errno.CANCELLED, 0);
  }

  /**
   * After the batch: one REPLAY (nouveau_svm_fault_replay(), the fault buffer's global replay): every access the
   * device holds stalled on a fault re-executes, those of this batch that were not cancelled and those that
   * faulted while the batch was serviced. An access that now finds a sufficient entry completes, but its fault
   * entry stays in the buffer and the next batch services it anyway (nouveau skips duplicates only within a batch);
   * one that faults again adds a new entry.
   */
  private void finishBatch(FaultBatch b) {
    batch = null;
    if (b.replay > 0) {
      replays++;
      java.util.LinkedHashSet<WarpAccess> stalled = new java.util.LinkedHashSet<>();
      for (WarpAccess fault : b.faults) {
        if (!b.cancelled.contains(fault.reqId)) stalled.add(fault);
      }
      stalled.addAll(faultBuffer);
      for (WarpAccess fault : stalled) {
        if (warps.get(fault.reqId) == fault) execute(fault);
      }
    }
    startBatchIfIdle();
  }

  // ------------------------------------------------------------------------------------------------ dmirror

  void onDmirrorCmd(HmmProtocol.DmirrorCmd cmd) {
    Binding binding = bindings.get(cmd.mmId());
    if (binding == null || binding.flavour != DriverFlavour.DMIRROR || !binding.bound) {
      throw new IllegalStateException("dmirror ioctls need an open dmirror bound to mm " + cmd.mmId()
          + " on device " + deviceId);
    }
    DmirrorIoctl ioctl = new DmirrorIoctl(this, ctx, binding, cmd);
    ioctls.removeIf(DmirrorIoctl::done);
    ioctls.add(ioctl);
    ioctl.start();
  }

  // ------------------------------------------------------------------------------------------------ CPU node gone

  /**
   * The CPU node is gone: like a device whose host went away (PCIe surprise removal), every warp access still in
   * flight completes with {@code errno}, ioctls in progress return it, and nothing waits for the host any more
   * (fault buffer, fault worker, replies, host accesses and deferred acks are dropped). The page table stays.
   */
  void stop(Errno errno) {
    for (DmirrorIoctl ioctl : ioctls) ioctl.abort(errno);
    ioctls.clear();
    List<WarpAccess> inFlight = new ArrayList<>(warps.values());
    inFlight.sort(Comparator.comparingLong(w -> w.arrival));
    faultBuffer.clear();
    batch = null;
    currentFault = null;
    pendingReplies.clear();
    hostAccesses.clear();
    deferredAcks.clear();
    for (WarpAccess w : inFlight) complete(w, errno, 0);
  }

  /** A warp access that arrives after the CPU node went away fails at once. */
  void refuse(HmmProtocol.DeviceAccess msg, Errno errno) {
    cancels++;
    ctx.emit(new Trace.DeviceAccessCompleted(deviceId, msg.reqId(), errno, 0, 0));
    ctx.reply(new HmmProtocol.DeviceAccessDone(msg.reqId(), deviceId, errno, 0, 0, 0));
  }

  // ------------------------------------------------------------------------------------------------ introspection

  List<HmmProtocol.DeviceEntry> entries() {
    List<HmmProtocol.DeviceEntry> out = new ArrayList<>();
    for (Map.Entry<EntryKey, Entry> e : pageTable.entrySet()) {
      Entry v = e.getValue();
      out.add(new HmmProtocol.DeviceEntry(e.getKey().mmId(), e.getKey().va(), v.pfn(), v.read(), v.write(),
          v.atomic()));
    }
    return out;
  }

  DeviceCounters counters() {
    return new DeviceCounters(faults, driverIterations, driverIterationsMax, driverTimeouts, cancels, invalidations,
        replays, faultsHandled);
  }

  HmmProtocol.DeviceInfo info(long reqId) {
    List<String> suspects = new ArrayList<>();
    collectDeadlockSuspects(suspects);
    return new HmmProtocol.DeviceInfo(reqId, deviceId, entries(), faults, driverIterations, driverIterationsMax,
        driverTimeouts, cancels, invalidations, replays, faultsHandled, List.copyOf(suspects));
  }

  int faultBufferSize() { return faultBuffer.size(); }

  boolean faultWorkerIdle() { return batch == null; }

  /** Invalidate callbacks blocked on a driver mutex, each with the holder it waits for. */
  void collectDeadlockSuspects(List<String> out) {
    for (Binding binding : bindings.values()) {
      DriverMutex mutex = binding.mutex;
      if (!mutex.isHeld()) continue;
      for (DriverMutex.Holder waiter : mutex.waiters()) {
        if (waiter instanceof Callback) {
          out.add(waiter.describeHolder() + " waits for " + mutex.name() + " held by "
              + mutex.holder().describeHolder());
        }
      }
    }
  }
}
