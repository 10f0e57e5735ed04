package hmmemu.cpu.core;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.CpuAccess;
import hmmemu.protocol.msg.HmmProtocol.CpuAccessDone;
import hmmemu.protocol.msg.HmmProtocol.DeviceMemoryAccess;
import hmmemu.protocol.msg.HmmProtocol.FolioUnlockPut;
import hmmemu.protocol.msg.HmmProtocol.HmmRangeFault;
import hmmemu.protocol.msg.HmmProtocol.InvalidateAck;
import hmmemu.protocol.msg.HmmProtocol.MakeDeviceExclusive;
import hmmemu.protocol.msg.HmmProtocol.MakeDeviceExclusiveReply;
import hmmemu.protocol.msg.HmmProtocol.NotifierInsert;
import hmmemu.protocol.msg.HmmProtocol.NotifierRemove;
import hmmemu.protocol.msg.HmmProtocol.Syscall;
import hmmemu.protocol.msg.HmmProtocol.SyscallDone;
import hmmemu.protocol.msg.Msgs;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Models the memory-management side of one Linux CPU node: every mm_struct of the node (VMAs, page tables,
 * mmap_lock, mmu_notifier subscriptions and their invalidate_seq), physical memory (folios) and the kernel
 * paths of PROTOCOL.md §2-§3: make_device_exclusive() (mm/rmap.c), the page-fault paths of mm/memory.c
 * (do_anonymous_page, do_wp_page/wp_page_copy, remove_device_exclusive_entry/restore_exclusive_pte),
 * hmm_range_fault() (mm/hmm.c), and munmap, madvise(MADV_DONTNEED), mprotect, fork (copy_page_range),
 * exit_mmap, clear_refs soft-dirty and the OOM reaper.
 *
 * <p>A single-threaded state machine: {@link #step} handles one message and returns what to send and what
 * changed. An operation that must wait (for invalidation acks, a folio lock or mmap_lock) is parked as a
 * continuation and resumed by a later step; a step never blocks. Every state change is emitted as a
 * {@link Trace} event, in order.
 *
 * <p>Implementation note: operations are written in continuation-passing style. A continuation that becomes
 * runnable because of a lock release goes through {@code runQueue} and runs before the step returns;
 * invalidation continuations run inline once the last ack arrives (or at once when no subscription overlaps).
 */
public final class CpuMm {
  /** The shared zero page (ZERO_PAGE(0)): mapped read-only by read faults on anonymous memory. */
  public static final long ZERO_PFN = 1;
  /** pfns are handed out from here and never reused. */
  public static final long FIRST_PFN = 0x1000;
  /** Where mmap(NULL, ...) starts looking for room (mmap_base is not modelled). */
  public static final long MMAP_BASE = 0x7f00_0000_0000L;

  private ModelSwitches switches;
  private final Map<Integer, Mm> mms = new TreeMap<>();
  private final Map<Long, Folio> folios = new HashMap<>();
  /** Live subscriptions by subId (deferred inserts are in their mm's deferredInserts until answered). */
  private final Map<Long, Subscription> subscriptions = new LinkedHashMap<>();
  /** Invalidations between start and end, by invId. */
  private final Map<Long, Invalidation> invalidations = new LinkedHashMap<>();
  /** Successful make_device_exclusive calls whose FolioUnlockPut has not arrived yet, by reqId. */
  private final Map<Long, Grant> grants = new LinkedHashMap<>();
  /** pfn -> the device that last converted it (only reported with the hmmPfnExclusive switch). */
  private final Map<Long, Integer> exclusiveHolder = new HashMap<>();
  private final ArrayDeque<Runnable> runQueue = new ArrayDeque<>();
  /** Threads in a tight loop on a word after a CpuAccess with spin, by threadId. */
  private final Map<Integer, Spinner> spinners = new HashMap<>();
  private long spinTouches;
  private Folio zeroFolio;
  private long nextPfn;
  private long nextInvId;
  private long duplicateUnlockPuts;
  private long mismatchedUnlockPuts;
  private long blockableAckFailures;
  private long unknownPfnAccesses;
  private long duplicateRequests;
  private long duplicateInserts;
  /** Requests already carried out (cleared by a reset). */
  private final Set<HmmProtocol.Msg> seenRequests = new HashSet<>();
  /** ResetNode reqIds already carried out (kept across resets). */
  private final Set<Long> seenResets = new HashSet<>();
  /** subIds ever inserted since the reset: a late duplicate NotifierInsert must not resurrect a removed one. */
  private final Set<Long> insertedSubIds = new HashSet<>();
  private Ready ready;
  private boolean stepping;
  /** Model time of the step being carried out (leases start and expire in model time). */
  private long nowMicros;
  /** How long a dead driver's folio lock and reference are kept before the CPU node releases them (model µs). */
  private final long folioLockLeaseMicros;
  /** GPU node indexes declared gone (Pekko Cluster downed/removed them); kept across resets. */
  private final Set<Integer> goneNodes = new HashSet<>();
  /** Grants of drivers on gone nodes, by reqId, with the model time at which their lease expires. */
  private final Map<Long, Long> leaseDeadlines = new LinkedHashMap<>();
  private long droppedFromGoneNodes;
  private long leasesExpired;
  private long nodesGone;

  /** One successful make_device_exclusive() whose caller still owes folio_unlock() + folio_put(). */
  private static final class Grant {
    final long reqId;
    final int deviceId;
    final long pfn;
    /** The call still holds the folio lock (false after the early-unlock ablation). */
    boolean lockHeld;

    Grant(long reqId, int deviceId, long pfn, boolean lockHeld) {
      this.reqId = reqId;
      this.deviceId = deviceId;
      this.pfn = pfn;
      this.lockHeld = lockHeld;
    }
  }

  /**
   * A user thread in a tight loop on one word (CpuAccess.spin): between its requests it re-touches the word right
   * after every conversion of its page. Transitions: SPINNING -> TOUCHING (a conversion of the page) -> SPINNING
   * (the touch completed); the thread's next CpuAccess ends the spin (queued until a running touch completes).
   */
  private static final class Spinner {
    final int threadId;
    final int mmId;
    final long va;
    boolean touching;
    /** The thread's next request, which arrived while a touch was running. */
    CpuAccess next;

    Spinner(int threadId, int mmId, long va) {
      this.threadId = threadId;
      this.mmId = mmId;
      this.va = va;
    }
  }

  /** How a fault may wait for a locked folio (FAULT_FLAG_ALLOW_RETRY or not). */
  private enum FaultMode {
    /** A user CPU access: drops mmap_lock, waits for the unlock, returns VM_FAULT_RETRY (folio_lock_or_retry). */
    USER,
    /** GUP or hmm_range_fault: no ALLOW_RETRY, sleeps in __folio_lock() holding mmap_lock. */
    KERNEL
  }

  /** Continuation of a fault: retry=true when the fault returned VM_FAULT_RETRY with mmap_lock dropped. */
  private interface FaultDone {
    void done(boolean retry);
  }

  /** Default lease on a dead driver's folio lock: 2 s of model time (hmm-emu.faults.folio-lock-lease). */
  public static final long DEFAULT_FOLIO_LOCK_LEASE_MICROS = 2_000_000L;

  public CpuMm(ModelSwitches switches) {
    this(switches, DEFAULT_FOLIO_LOCK_LEASE_MICROS);
  }

  /** A CPU node whose dead drivers' folio locks are released {@code folioLockLeaseMicros} after they went away. */
  public CpuMm(ModelSwitches switches, long folioLockLeaseMicros) {
    if (folioLockLeaseMicros < 0) throw new IllegalArgumentException("folio-lock lease must be >= 0, got " + folioLockLeaseMicros);
    this.folioLockLeaseMicros = folioLockLeaseMicros;
    reset(switches);
  }

  private void reset(ModelSwitches newSwitches) {
    if (newSwitches == null) throw new IllegalStateException("ModelSwitches must not be null");
    switches = newSwitches;
    mms.clear();
    folios.clear();
    subscriptions.clear();
    invalidations.clear();
    grants.clear();
    leaseDeadlines.clear();
    exclusiveHolder.clear();
    runQueue.clear();
    spinners.clear();
    spinTouches = 0;
    nextPfn = FIRST_PFN;
    nextInvId = 1;
    duplicateUnlockPuts = 0;
    mismatchedUnlockPuts = 0;
    blockableAckFailures = 0;
    unknownPfnAccesses = 0;
    duplicateRequests = 0;
    duplicateInserts = 0;
    seenRequests.clear();
    insertedSubIds.clear();
    zeroFolio = new Folio(ZERO_PFN, true);
    folios.put(ZERO_PFN, zeroFolio);
  }

  // =========================================================================================== step

  /**
   * Handles one message.
   *
   * @param fromDeviceId the sending device, or -1 for local (CPU thread, controller) requests
   * @param msg          the message
   * @param nowMicros    model time (unused by the kernel paths modelled; accepted for the shell's contract)
   * @return messages to send and trace events, in the order they happened
   * @throws IllegalStateException naming the invariant when the core is misused or an invariant breaks
   */
  public Ready step(int fromDeviceId, HmmProtocol.Msg msg, long nowMicros) {
    return run(nowMicros, () -> {
      expireLeases();
      dispatch(msg);
    });
  }

  /** Runs one step of the core: the action, then every continuation it made runnable. */
  private Ready run(long now, Runnable action) {
    if (stepping) throw new IllegalStateException("single-threaded core: step() re-entered");
    stepping = true;
    Ready out = new Ready();
    ready = out;
    nowMicros = Math.max(nowMicros, now);
    try {
      action.run();
      drainRunQueue();
      return out;
    } finally {
      ready = null;
      stepping = false;
    }
  }

  private void drainRunQueue() {
    Runnable r;
    while ((r = runQueue.poll()) != null) r.run();
  }

  // ================================================================================ node loss

  /**
   * GPU node {@code nodeIndex} is gone (Pekko Cluster downed or removed it; its JVM may be dead). Models what
   * the host does when a device's driver goes away without cleaning up (driver unbind): for every subscription
   * of that node's devices, mmu_interval_notifier_remove() / mmu_notifier_unregister() (mm/mmu_notifier.c); a
   * callback a removed subscription still owed counts as returned, so invalidations waiting for it complete and
   * the CPU faults and syscalls blocked on them proceed. Folio locks and references its make_device_exclusive
   * calls still hold are released after a lease of {@code folioLockLeaseMicros} (see {@link #tick}). DEVEXCL
   * entries of its devices stay; the next CPU touch restores them (restore_exclusive_pte) with no subscription
   * of the dead device left to call. Later messages from the node are dropped and counted. Idempotent.
   */
  public Ready nodeGone(int nodeIndex, String reason, long now) {
    if (nodeIndex <= 0) throw new IllegalArgumentException("only GPU nodes (index >= 1) can be declared gone, got " + nodeIndex);
    return run(now, () -> {
      expireLeases();
      if (!goneNodes.add(nodeIndex)) return;
      nodesGone++;
      ready.emit(new Trace.NodeGone(nodeIndex, reason));
      // In the kernel the callback runs in the invalidating thread and a dead device's callback has nothing left to
      // flush, so it returns at once; mmu_interval_notifier_remove() (mm/mmu_notifier.c) then only waits for the
      // running invalidation to end. Here the callback lives on the dead node, so what it owed counts as returned.
      for (Subscription s : new ArrayList<>(subscriptions.values())) {
        if (nodeOfDevice(s.deviceId) == nodeIndex) removeSubscriptionNow(s);
      }
      for (Mm mm : mms.values()) {
        mm.deferredInserts.removeIf(d -> nodeOfDevice(d.deviceId) == nodeIndex);
        mm.deferredRemoves.removeIf(d -> nodeOfDevice(d.deviceId) == nodeIndex);
      }
      for (Grant g : grants.values()) if (nodeOfDevice(g.deviceId) == nodeIndex) startLease(g);
    });
  }

  /** Lets model time pass: releases the folio locks whose lease ran out (the actor's timer calls it). */
  public Ready tick(long now) {
    return run(now, this::expireLeases);
  }

  /** Whether node {@code nodeIndex} was declared gone. */
  public boolean nodeIsGone(int nodeIndex) { return goneNodes.contains(nodeIndex); }

  /** Driver messages dropped because their node had been declared gone. */
  public long droppedFromGoneNodes() { return droppedFromGoneNodes; }

  /** Folio-lock leases of dead drivers that ran out (fault events). */
  public long leasesExpired() { return leasesExpired; }

  /** Leases running (grants of dead drivers not released yet). */
  public int leasesPending() { return leaseDeadlines.size(); }

  /** The model time at which the next lease runs out, or Long.MAX_VALUE when none is running. */
  public long nextLeaseDeadline() {
    long min = Long.MAX_VALUE;
    for (long d : leaseDeadlines.values()) min = Math.min(min, d);
    return min;
  }

  /** GPU nodes declared gone so far. */
  public long nodesGone() { return nodesGone; }

  /** Node index of the GPU node hosting a device (deviceId = node * 16 + local index, docs/ARCHITECTURE.md). */
  private static int nodeOfDevice(int deviceId) { return deviceId >> 4; }

  private void startLease(Grant g) {
    leaseDeadlines.putIfAbsent(g.reqId, nowMicros + folioLockLeaseMicros);
  }

  /**
   * Releases every grant whose lease ran out: the dead caller's folio_unlock() (when it still held the lock) +
   * folio_put(), done by the CPU node on its behalf; waiters on the folio lock proceed.
   */
  private void expireLeases() {
    if (leaseDeadlines.isEmpty()) return;
    for (Map.Entry<Long, Long> e : new ArrayList<>(leaseDeadlines.entrySet())) {
      if (e.getValue() > nowMicros) continue;
      leaseDeadlines.remove(e.getKey());
      Grant g = grants.remove(e.getKey());
      if (g == null) continue;
      leasesExpired++;
      Folio f = folioOf(g.pfn);
      ready.emit(new Trace.FolioLockLeaseExpired(g.reqId, g.deviceId, g.pfn, g.lockHeld));
      if (g.lockHeld) unlockFolio(f);
      putFolio(f);
    }
  }

  /** A driver message from a node already declared gone (in flight when it died, or a partitioned zombie). */
  private boolean fromGoneNode(HmmProtocol.Msg msg) {
    if (goneNodes.isEmpty() || !Msgs.isFromDriver(msg)) return false;
    int device = Msgs.deviceIdOf(msg);
    return device >= 0 && goneNodes.contains(nodeOfDevice(device));
  }

  private void dispatch(HmmProtocol.Msg msg) {
    if (fromGoneNode(msg)) {
      droppedFromGoneNodes++;
      return;
    }
    if (isDuplicateRequest(msg)) {
      duplicateRequests++;
      return;
    }
    if (msg instanceof InvalidateAck m) onInvalidateAck(m);
    else if (msg instanceof CpuAccess m) onCpuAccess(m);
    else if (msg instanceof DeviceMemoryAccess m) onDeviceMemoryAccess(m);
    else if (msg instanceof MakeDeviceExclusive m) onMakeDeviceExclusive(m);
    else if (msg instanceof FolioUnlockPut m) onFolioUnlockPut(m);
    else if (msg instanceof HmmRangeFault m) onHmmRangeFault(m);
    else if (msg instanceof NotifierInsert m) onNotifierInsert(m);
    else if (msg instanceof NotifierRemove m) onNotifierRemove(m);
    else if (msg instanceof Syscall m) onSyscall(m);
    else if (msg instanceof HmmProtocol.InspectPage m) onInspectPage(m);
    else if (msg instanceof HmmProtocol.ResetNode m) onResetNode(m);
    else throw new IllegalStateException("CPU node does not handle " + msg.getClass().getSimpleName());
  }

  /**
   * The link may deliver a message twice; a request is carried out at most once. A duplicate is an equal record
   * (same type, reqId and arguments), so requesters that reuse a reqId for different requests are not affected.
   */
  private boolean isDuplicateRequest(HmmProtocol.Msg msg) {
    if (msg instanceof HmmProtocol.ResetNode m) return !seenResets.add(m.reqId());
    boolean request = msg instanceof MakeDeviceExclusive || msg instanceof CpuAccess || msg instanceof HmmRangeFault
        || msg instanceof DeviceMemoryAccess || msg instanceof Syscall;
    return request && !seenRequests.add(msg);
  }

  // ====================================================================================== accessors

  public ModelSwitches switches() { return switches; }

  /** The PTE mapping va in mm (Pte.NONE when none or the mm is unknown). */
  public Pte pte(int mmId, long va) {
    Mm mm = mms.get(mmId);
    return mm == null ? Pte.NONE : mm.pte(Page.alignDown(va));
  }

  /** A snapshot of the folio at pfn (freed folios included), if it was ever allocated. */
  public Optional<FolioView> folio(long pfn) {
    Folio f = folios.get(pfn);
    return f == null ? Optional.empty() : Optional.of(f.view());
  }

  /** Word {@code index} of the page at pfn (also after it was freed); 0 for an unknown pfn. */
  public long word(long pfn, int index) {
    Folio f = folios.get(pfn);
    return f == null ? 0 : f.data[index];
  }

  /** The VMA containing va, if any. */
  public Optional<VmaView> vma(int mmId, long va) {
    Mm mm = mms.get(mmId);
    Vma v = mm == null ? null : mm.findVma(va);
    return v == null ? Optional.empty() : Optional.of(v.view());
  }

  /** All VMAs of mm in address order. */
  public List<VmaView> vmas(int mmId) {
    Mm mm = mms.get(mmId);
    List<VmaView> out = new ArrayList<>();
    if (mm != null) for (Vma v : mm.vmas.values()) out.add(v.view());
    return out;
  }

  /** All non-none PTEs of mm by page address. */
  public Map<Long, Pte> ptes(int mmId) {
    Mm mm = mms.get(mmId);
    return mm == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(mm.ptes));
  }

  public boolean hasMm(int mmId) { return mms.containsKey(mmId); }

  /** The mm's invalidate_seq (2 for an unknown mm). */
  public long globalSeq(int mmId) {
    Mm mm = mms.get(mmId);
    return mm == null ? 2 : mm.seq;
  }

  /** The mm's active_invalidate_ranges. */
  public int activeInvalidations(int mmId) {
    Mm mm = mms.get(mmId);
    return mm == null ? 0 : mm.active;
  }

  /** The seq the core last told interval subscription subId (its initial seq or the last curSeq), if live. */
  public Optional<Long> subscriptionSeq(long subId) {
    Subscription s = subscriptions.get(subId);
    return s == null ? Optional.empty() : Optional.of(s.seq);
  }

  public boolean subscriptionLive(long subId) { return subscriptions.containsKey(subId); }

  /** Successful make_device_exclusive calls still waiting for their FolioUnlockPut. */
  public int outstandingGrants() { return grants.size(); }

  /** FolioUnlockPut messages for an unknown or already completed reqId (ignored). */
  public long duplicateUnlockPuts() { return duplicateUnlockPuts; }

  /** FolioUnlockPut messages whose pfn differs from the call's (ignored, the grant stays outstanding). */
  public long mismatchedUnlockPuts() { return mismatchedUnlockPuts; }

  /** InvalidateAck(ok=false) for a blockable invalidation (the kernel WARNs and continues; so do we). */
  public long blockableAckFailures() { return blockableAckFailures; }

  /** Requests delivered more than once (equal records) and ignored after the first. */
  public long duplicateRequests() { return duplicateRequests; }

  /** NotifierInsert for a subId inserted before (live, deferred or removed), ignored. */
  public long duplicateInserts() { return duplicateInserts; }

  /** DeviceMemoryAccess to a pfn that was never allocated (answered with 0). */
  public long unknownPfnAccesses() { return unknownPfnAccesses; }

  /** Invalidations between start and end, over all mms. */
  public int invalidationsInFlight() { return invalidations.size(); }

  /** The device that last converted pfn to device-exclusive, or -1. */
  public int exclusiveHolder(long pfn) { return exclusiveHolder.getOrDefault(pfn, -1); }

  private boolean v5() { return switches.kernelProfile() == KernelProfile.V5_14; }

  // ================================================================================ event helpers

  private void reply(HmmProtocol.Msg m) { ready.send(Outbound.reply(m)); }

  private void emitFolio(Folio f) {
    if (f.zero) return;
    ready.emit(new Trace.FolioChanged(f.pfn, f.locked, f.refcount, f.mapcount, f.dirty, f.anonExclusive, f.freed));
  }

  private void setPte(Mm mm, long va, Pte pte, String cause) {
    if (pte.state() == PteState.NONE) mm.ptes.remove(va);
    else mm.ptes.put(va, pte);
    ready.emit(new Trace.PteChanged(mm.id, va, pte.state(), pte.pfn(), pte.write(), pte.dirty(), pte.young(), cause));
  }

  private void emitVma(Mm mm, Vma v, boolean removed) {
    ready.emit(new Trace.VmaChanged(mm.id, v.start, v.end, v.prot, v.kind, removed));
  }

  private Mm mmFor(int mmId) { return mms.computeIfAbsent(mmId, Mm::new); }

  private Folio folioOf(long pfn) {
    Folio f = folios.get(pfn);
    if (f == null) throw new IllegalStateException("I8 refcount: a PTE references pfn " + pfn + " that was never allocated");
    return f;
  }

  private Folio allocFolio(boolean anon) {
    Folio f = new Folio(nextPfn++, false);
    f.anon = anon;
    f.refcount = 1;
    folios.put(f.pfn, f);
    return f;
  }

  /** folio_try_get()/folio_get(). */
  private void getFolio(Folio f) {
    if (f.zero) return;
    if (f.freed) throw new IllegalStateException("I8 refcount: folio_get on freed pfn " + f.pfn);
    f.refcount++;
    emitFolio(f);
  }

  /** folio_put(): frees at refcount 0. */
  private void putFolio(Folio f) {
    if (f.zero) return;
    f.refcount--;
    settleRefcount(f);
    emitFolio(f);
  }

  /** Checks the refcount after a decrement and frees the folio at 0 (does not emit). */
  private void settleRefcount(Folio f) {
    if (f.refcount < 0) throw new IllegalStateException("I8 refcount: underflow on pfn " + f.pfn);
    if (f.mapcount < 0) throw new IllegalStateException("I9 mapcount: underflow on pfn " + f.pfn);
    if (f.refcount == 0) {
      if (f.mapcount != 0) {
        throw new IllegalStateException("I8 refcount: pfn " + f.pfn + " reached refcount 0 while mapcount=" + f.mapcount);
      }
      if (f.locked) throw new IllegalStateException("I8 refcount: pfn " + f.pfn + " freed while locked");
      f.freed = true;
      exclusiveHolder.remove(f.pfn);
    }
  }

  private void lockFolio(Folio f) {
    if (f.locked) throw new IllegalStateException("I7 lock discipline: folio " + f.pfn + " locked twice");
    f.locked = true;
    emitFolio(f);
  }

  /** folio_unlock(): wakes every waiter; each re-checks when it runs. */
  private void unlockFolio(Folio f) {
    if (!f.locked) throw new IllegalStateException("I7 lock discipline: unlock of unlocked folio " + f.pfn);
    f.locked = false;
    emitFolio(f);
    runQueue.addAll(f.waiters);
    f.waiters.clear();
  }

  // ================================================================================== mmap_lock

  private void mmapReadLock(Mm mm, Runnable k) {
    if (!mm.mmapWriter && mm.mmapWaiters.isEmpty()) {
      mm.mmapReaders++;
      k.run();
    } else {
      mm.mmapWaiters.add(new Mm.LockWaiter(false, k));
    }
  }

  private boolean mmapReadTrylock(Mm mm) {
    if (mm.mmapWriter || !mm.mmapWaiters.isEmpty()) return false;
    mm.mmapReaders++;
    return true;
  }

  private void mmapWriteLock(Mm mm, Runnable k) {
    if (!mm.mmapWriter && mm.mmapReaders == 0 && mm.mmapWaiters.isEmpty()) {
      mm.mmapWriter = true;
      k.run();
    } else {
      mm.mmapWaiters.add(new Mm.LockWaiter(true, k));
    }
  }

  private void mmapReadUnlock(Mm mm) {
    if (mm.mmapReaders <= 0) throw new IllegalStateException("mmap_lock: read unlock without a reader (mm " + mm.id + ")");
    mm.mmapReaders--;
    grantMmapLock(mm);
  }

  private void mmapWriteUnlock(Mm mm) {
    if (!mm.mmapWriter) throw new IllegalStateException("mmap_lock: write unlock without the writer (mm " + mm.id + ")");
    mm.mmapWriter = false;
    grantMmapLock(mm);
  }

  private void grantMmapLock(Mm mm) {
    while (!mm.mmapWaiters.isEmpty()) {
      Mm.LockWaiter w = mm.mmapWaiters.peek();
      if (w.write()) {
        if (mm.mmapReaders == 0 && !mm.mmapWriter) {
          mm.mmapWaiters.poll();
          mm.mmapWriter = true;
          runQueue.add(w.continuation());
        }
        return;
      }
      if (mm.mmapWriter) return;
      mm.mmapWaiters.poll();
      mm.mmapReaders++;
      runQueue.add(w.continuation());
    }
  }

  // =============================================================== notifier subscriptions and seq

  /** Models mmu_interval_notifier_insert() / mmu_notifier_register(). */
  private void onNotifierInsert(NotifierInsert m) {
    if (!insertedSubIds.add(m.subId())) { // a duplicated or late message: the subscription exists or existed
      duplicateInserts++;
      return;
    }
    Mm mm = mmFor(m.mmId());
    Subscription s = new Subscription(m.subId(), m.deviceId(), m.mmId(), m.kind(), m.start(), m.end());
    if (mm.active > 0) mm.deferredInserts.add(s);
    else activateSubscription(mm, s);
  }

  private void activateSubscription(Mm mm, Subscription s) {
    if ((mm.seq & 1) != 0) throw new IllegalStateException("seq: insert while an invalidation is running (mm " + mm.id + ")");
    s.live = true;
    // An odd seq that can never equal a live global seq (mmu_interval_notifier_insert: invalidate_seq - 1).
    s.seq = mm.seq - 1;
    subscriptions.put(s.subId, s);
    ready.emit(new Trace.NotifierRegistered(s.subId, s.deviceId, s.mmId, s.kind, s.start, s.end, false));
    ready.send(Outbound.toDevice(s.deviceId, new HmmProtocol.NotifierInserted(s.subId, s.seq, mm.seq)));
  }

  /**
   * Models mmu_interval_notifier_remove() (mm/mmu_notifier.c): while mn_itree_is_invalidating() (the mm's seq is
   * odd) the subscription goes on the deferred list, stays in the tree, and the caller sleeps until the period
   * ends; otherwise it leaves the tree at once. Either way the caller is answered with NotifierRemoved.
   */
  private void onNotifierRemove(NotifierRemove m) {
    Subscription s = subscriptions.get(m.subId());
    if (s == null) {
      // Never inserted, already removed (a duplicate from the link), or still a deferred insert.
      for (Mm mm : mms.values()) mm.deferredInserts.removeIf(d -> d.subId == m.subId());
      answerRemove(m.subId());
      return;
    }
    Mm mm = mms.get(s.mmId);
    if (mm != null && (mm.seq & 1) != 0 && s.kind == NotifierKind.INTERVAL) {
      if (!mm.deferredRemoves.contains(s)) mm.deferredRemoves.add(s);
      return;
    }
    removeSubscriptionNow(s);
    answerRemove(s.subId);
  }

  /** mmu_interval_notifier_remove() returns to its caller (the device is in the subId's high half). */
  private void answerRemove(long subId) {
    ready.send(Outbound.toDevice((int) (subId >>> 32), new HmmProtocol.NotifierRemoved(subId)));
  }

  /** Takes a subscription out of the tree; a callback it still owed counts as returned (node loss, unregister). */
  private void removeSubscriptionNow(Subscription s) {
    if (subscriptions.remove(s.subId) == null) return;
    s.live = false;
    Mm mm = mms.get(s.mmId);
    if (mm != null) mm.hitThisPeriod.remove(s);
    ready.emit(new Trace.NotifierRegistered(s.subId, s.deviceId, s.mmId, s.kind, s.start, s.end, true));
    // A callback the removed subscription still owes counts as acked.
    for (Invalidation inv : new ArrayList<>(invalidations.values())) {
      if (inv.pendingAcks.remove(s.subId) && inv.pendingAcks.isEmpty()) runQueue.add(() -> advance(inv));
    }
  }

  /**
   * Models mmu_notifier_invalidate_range_start(): mn_itree_inv_start_range() + the interval callbacks, then
   * the classic invalidate_range_start callbacks. {@code onAcked} runs when every callback returned true (the
   * caller changes PTEs and must call {@link #endInvalidation}); {@code onAbandoned} runs (non-blockable only)
   * after a callback failed: the range was ended with applied=false, as the OOM reaper's -EAGAIN path does.
   */
  private void startInvalidation(Mm mm, long start, long end, NotifyEvent event, long owner, boolean blockable,
      Consumer<Invalidation> onAcked, Consumer<Invalidation> onAbandoned) {
    if (!blockable && onAbandoned == null) throw new IllegalStateException("non-blockable invalidation needs onAbandoned");
    mm.active++;
    List<Subscription> interval = new ArrayList<>();
    List<Subscription> classic = new ArrayList<>();
    for (Subscription s : subscriptions.values()) {
      if (s.mmId != mm.id || !s.overlaps(start, end)) continue;
      (s.kind == NotifierKind.INTERVAL ? interval : classic).add(s);
    }
    if (!interval.isEmpty()) {
      mm.seq |= 1;
      mm.hitThisPeriod.addAll(interval);
    }
    Invalidation inv = new Invalidation(nextInvId++, mm, start, end, event, owner, blockable, mm.seq, onAcked, onAbandoned);
    inv.interval.addAll(interval);
    inv.classic.addAll(classic);
    invalidations.put(inv.invId, inv);
    List<Long> ids = new ArrayList<>();
    for (Subscription s : interval) ids.add(s.subId);
    for (Subscription s : classic) ids.add(s.subId);
    ready.emit(new Trace.InvalidateStarted(inv.invId, mm.id, start, end, event, owner, blockable, List.copyOf(ids)));
    sendCallbacks(inv, inv.interval);
    if (inv.pendingAcks.isEmpty()) advance(inv);
  }

  private void sendCallbacks(Invalidation inv, List<Subscription> targets) {
    for (Subscription s : targets) {
      if (!s.live) continue;
      inv.pendingAcks.add(s.subId);
      ready.send(Outbound.toDevice(s.deviceId, new HmmProtocol.InvalidateStart(inv.invId, s.subId, inv.mm.id,
          inv.start, inv.end, inv.event, inv.owner, inv.blockable, inv.curSeq)));
    }
  }

  /** Called when no ack is pending: next phase, abandon, or hand over to the caller. */
  private void advance(Invalidation inv) {
    if (!inv.pendingAcks.isEmpty() || inv.phase == Invalidation.Phase.ACKED || inv.phase == Invalidation.Phase.ENDED) return;
    if (inv.failed) {
      abandon(inv);
      return;
    }
    if (inv.phase == Invalidation.Phase.INTERVAL) {
      inv.phase = Invalidation.Phase.CLASSIC;
      sendCallbacks(inv, inv.classic);
      if (!inv.pendingAcks.isEmpty()) return;
    }
    inv.phase = Invalidation.Phase.ACKED;
    inv.onAcked.accept(inv);
  }

  private void onInvalidateAck(InvalidateAck m) {
    Invalidation inv = invalidations.get(m.invId());
    if (inv == null || !inv.pendingAcks.remove(m.subId())) return; // unknown or duplicate ack: harmless
    // interval_sub->invalidate_seq changes only by the callback's own mmu_interval_set_seq(sub, cur_seq): a
    // callback that returned early (nouveau's owner filter) or failed leaves it, and mmu_interval_check_retry()
    // sees only what was set (mm/mmu_notifier.c; include/linux/mmu_notifier.h).
    Subscription sub = subscriptions.get(m.subId());
    if (m.seqSet() && sub != null && sub.kind == NotifierKind.INTERVAL) sub.seq = inv.curSeq;
    if (!m.ok()) {
      if (inv.blockable) blockableAckFailures++; // mn_itree_invalidate: WARN_ON(blockable) and continue
      else inv.failed = true;
    }
    if (inv.pendingAcks.isEmpty()) advance(inv);
  }

  private void abandon(Invalidation inv) {
    inv.phase = Invalidation.Phase.ENDED;
    invalidations.remove(inv.invId);
    ready.emit(new Trace.InvalidateEnded(inv.invId, false));
    itreeInvEnd(inv.mm);
    inv.onAbandoned.accept(inv);
  }

  /** Models mmu_notifier_invalidate_range_end() + mn_itree_inv_end(). */
  private void endInvalidation(Invalidation inv) {
    if (inv.phase != Invalidation.Phase.ACKED) {
      throw new IllegalStateException("invalidation " + inv.invId + " ended in phase " + inv.phase);
    }
    inv.phase = Invalidation.Phase.ENDED;
    invalidations.remove(inv.invId);
    ready.emit(new Trace.InvalidateEnded(inv.invId, true));
    itreeInvEnd(inv.mm);
  }

  private void itreeInvEnd(Mm mm) {
    mm.active--;
    if (mm.active < 0) throw new IllegalStateException("seq: active_invalidate_ranges underflow (mm " + mm.id + ")");
    if (mm.active > 0) return;
    if ((mm.seq & 1) != 0) {
      mm.seq++;
      for (Subscription s : mm.hitThisPeriod) {
        if (s.live) ready.send(Outbound.toDevice(s.deviceId, new HmmProtocol.InvalidateEnd(s.subId, mm.seq)));
      }
      mm.hitThisPeriod.clear();
    }
    List<Subscription> removes = new ArrayList<>(mm.deferredRemoves);
    mm.deferredRemoves.clear();
    for (Subscription s : removes) {
      removeSubscriptionNow(s);
      answerRemove(s.subId);
    }
    List<Subscription> deferred = new ArrayList<>(mm.deferredInserts);
    mm.deferredInserts.clear();
    for (Subscription s : deferred) activateSubscription(mm, s);
  }

  /**
   * mmu_interval_check_retry() for hmm_range_fault: {@code READ_ONCE(interval_sub->invalidate_seq) != seq}, i.e.
   * only what a callback set with mmu_interval_set_seq() counts (a callback sent but filtered or not yet run does
   * not).
   */
  private boolean checkRetry(Subscription s, long seq) {
    return s.seq != seq;
  }

  // ================================================================================ page faults

  private void emitCpuFault(FaultMode mode, int threadId, Mm mm, long va, String kind) {
    if (mode == FaultMode.USER) ready.emit(new Trace.CpuFaulted(threadId, mm.id, va, kind));
  }

  /**
   * Models handle_mm_fault() for one page (mmap_lock held for read; the VMA permits the access). Calls k once
   * the fault was handled; the caller re-walks (the fault may have lost a race and changed nothing).
   */
  private void handleMmFault(Mm mm, Vma vma, long va, boolean write, FaultMode mode, int threadId, FaultDone k) {
    Pte pte = mm.pte(va);
    switch (pte.state()) {
      case NONE:
        emitCpuFault(mode, threadId, mm, va, "anon");
        faultNonePte(mm, vma, va, write);
        k.done(false);
        return;
      case PRESENT:
        if (write && !pte.write()) {
          emitCpuFault(mode, threadId, mm, va, "wp");
          doWpPage(mm, vma, va, pte, k);
        } else {
          k.done(false); // spurious
        }
        return;
      case DEVEXCL:
        emitCpuFault(mode, threadId, mm, va, "devexcl");
        removeDeviceExclusiveEntry(mm, va, pte, mode, k);
        return;
      default:
        throw new IllegalStateException("fault on unsupported PTE state " + pte.state());
    }
  }

  /** Models do_anonymous_page / do_read_fault / do_cow_fault / do_shared_fault / hugetlb_no_page. */
  private void faultNonePte(Mm mm, Vma vma, long va, boolean write) {
    switch (vma.kind) {
      case ANON_PRIVATE:
        if (!write) {
          setPte(mm, va, new Pte(PteState.PRESENT, ZERO_PFN, false, false, true, true), "do_anonymous_page:zero");
        } else {
          mapNewAnonFolio(mm, vma, va, null, "do_anonymous_page");
        }
        return;
      case HUGETLB: {
        Folio f = allocFolio(true);
        f.hugetlb = true;
        f.mapcount = 1;
        f.anonExclusive = true;
        vma.anonVma = true;
        emitFolio(f);
        setPte(mm, va, new Pte(PteState.PRESENT, f.pfn, write, write, true, true), "hugetlb_no_page");
        return;
      }
      case ANON_SHARED: {
        Folio f = pageCacheFolio(vma, va);
        f.mapcount++;
        f.refcount++;
        emitFolio(f);
        setPte(mm, va, new Pte(PteState.PRESENT, f.pfn, vma.canWrite(), write, true, true), "do_shared_fault");
        return;
      }
      case FILE_PRIVATE: {
        Folio file = pageCacheFolio(vma, va);
        if (!write) {
          file.mapcount++;
          file.refcount++;
          emitFolio(file);
          setPte(mm, va, new Pte(PteState.PRESENT, file.pfn, false, false, true, true), "do_read_fault");
        } else {
          mapNewAnonFolio(mm, vma, va, file.data, "do_cow_fault");
        }
        return;
      }
      default:
        throw new IllegalStateException("unknown VMA kind " + vma.kind);
    }
  }

  private Folio pageCacheFolio(Vma vma, long va) {
    long index = vma.pgoff + (va - vma.start) / Page.SIZE;
    Folio f = vma.pageCache.pages.get(index);
    if (f == null) {
      f = allocFolio(false); // the page cache's reference
      vma.pageCache.pages.put(index, f);
      emitFolio(f);
    }
    return f;
  }

  /** A new exclusive anonymous folio mapped PRESENT W D A (contents copied from src, or zeroed). */
  private Folio mapNewAnonFolio(Mm mm, Vma vma, long va, long[] src, String cause) {
    Folio f = allocFolio(true);
    if (src != null) System.arraycopy(src, 0, f.data, 0, Page.WORDS);
    f.mapcount = 1;
    f.anonExclusive = true;
    vma.anonVma = true;
    emitFolio(f);
    setPte(mm, va, new Pte(PteState.PRESENT, f.pfn, true, true, true, true), cause);
    return f;
  }

  /** Models do_wp_page(): wp_page_shared, wp_page_reuse (wp_can_reuse_anon_folio) or wp_page_copy. */
  private void doWpPage(Mm mm, Vma vma, long va, Pte pte, FaultDone k) {
    if (vma.shared()) {
      setPte(mm, va, new Pte(PteState.PRESENT, pte.pfn(), true, true, true, pte.softDirty()), "wp_page_shared");
      k.done(false);
      return;
    }
    if (pte.pfn() != ZERO_PFN) {
      Folio f = folioOf(pte.pfn());
      if (f.anon) {
        boolean reuse = f.anonExclusive;
        // wp_can_reuse_anon_folio: folio_trylock, and no reference besides ours.
        if (!reuse && !f.locked && f.refcount == 1) {
          f.anonExclusive = true;
          emitFolio(f);
          reuse = true;
        }
        if (reuse) {
          setPte(mm, va, new Pte(PteState.PRESENT, pte.pfn(), true, true, true, pte.softDirty()), "wp_page_reuse");
          k.done(false);
          return;
        }
      }
    }
    wpPageCopy(mm, vma, va, pte, k);
  }

  /** Models wp_page_copy(): CLEAR over the page, then replace the PTE if it is unchanged (pte_same). */
  private void wpPageCopy(Mm mm, Vma vma, long va, Pte pte, FaultDone k) {
    startInvalidation(mm, va, va + Page.SIZE, NotifyEvent.CLEAR, 0, true, inv -> {
      if (mm.pte(va).equals(pte)) {
        Folio old = folioOf(pte.pfn());
        mapNewAnonFolio(mm, vma, va, old.zero ? null : old.data, "wp_page_copy");
        if (!old.zero) {
          old.mapcount--;
          old.refcount--;
          settleRefcount(old);
          emitFolio(old);
        }
      }
      endInvalidation(inv);
      k.done(false);
    }, null);
  }

  /** Models remove_device_exclusive_entry() (do_swap_page on a device-exclusive entry). */
  private void removeDeviceExclusiveEntry(Mm mm, long va, Pte orig, FaultMode mode, FaultDone k) {
    Folio f = folioOf(orig.pfn());
    if (f.freed || f.refcount == 0) { // folio_try_get failed: the entry is going away; retry the access
      k.done(false);
      return;
    }
    getFolio(f);
    lockForRestore(mm, va, orig, f, mode, k);
  }

  private void lockForRestore(Mm mm, long va, Pte orig, Folio f, FaultMode mode, FaultDone k) {
    if (f.locked) {
      if (mode == FaultMode.USER) {
        // folio_lock_or_retry: drop mmap_lock, wait for the unlock, VM_FAULT_RETRY; the caller puts the ref.
        mmapReadUnlock(mm);
        f.waiters.add(() -> {
          putFolio(f);
          k.done(true);
        });
      } else {
        f.waiters.add(() -> lockForRestore(mm, va, orig, f, mode, k));
      }
      return;
    }
    lockFolio(f);
    NotifyEvent event = v5() ? NotifyEvent.EXCLUSIVE : NotifyEvent.CLEAR;
    startInvalidation(mm, va, va + Page.SIZE, event, 0, true, inv -> {
      if (mm.pte(va).equals(orig)) restoreExclusivePte(mm, va, f, orig, "restore_exclusive_pte:fault");
      unlockFolio(f);
      putFolio(f);
      endInvalidation(inv);
      k.done(false);
    }, null);
  }

  /** Models restore_exclusive_pte() (folio locked, PTE lock held, devices already invalidated). */
  private void restoreExclusivePte(Mm mm, long va, Folio f, Pte orig, String cause) {
    if (!f.locked) throw new IllegalStateException("I6 restore ordering: restore of pfn " + f.pfn + " without the folio lock");
    Vma vma = mm.findVma(va);
    if (vma == null) throw new IllegalStateException("I11: DEVEXCL entry at " + Long.toHexString(va) + " outside any VMA");
    boolean write;
    boolean dirty;
    if (v5()) {
      write = orig.write() && vma.canWrite();
      dirty = orig.write();
      f.mapcount++; // page_add_anon_rmap: 5.14 entries were not counted
      emitFolio(f);
    } else {
      // can_change_pte_writable() for a private mapping: only an anon-exclusive page.
      write = vma.canWrite() && f.anon && f.anonExclusive;
      dirty = write && f.dirty;
    }
    setPte(mm, va, new Pte(PteState.PRESENT, f.pfn, write, dirty, false, orig.softDirty()), cause);
  }

  // ================================================================================ CPU accesses

  private static final class CpuAccessOp {
    final CpuAccess m;
    final Mm mm;
    /** The touch of a spinning thread (nobody waits for a reply), or null for a requested access. */
    final Spinner spinner;
    int faults;

    CpuAccessOp(CpuAccess m, Mm mm, Spinner spinner) {
      this.m = m;
      this.mm = mm;
      this.spinner = spinner;
    }
  }

  /** A user thread's load/store/atomic: the hardware walk, then handle_mm_fault until it succeeds. */
  private void onCpuAccess(CpuAccess m) {
    Spinner s = spinners.get(m.threadId());
    if (s != null && s.touching) { // the thread is still inside its loop's faulting touch
      if (s.next != null) throw new IllegalStateException("thread " + m.threadId() + " sent two requests at once");
      s.next = m;
      return;
    }
    spinners.remove(m.threadId());
    CpuAccessOp op = new CpuAccessOp(m, mmFor(m.mmId()), null);
    mmapReadLock(op.mm, () -> cpuAccessWalk(op));
  }

  /** Conversions that make a spinning thread's page device-exclusive wake the thread; true if one was woken. */
  private boolean wakeSpinners(Mm mm, long pageVa) {
    boolean woken = false;
    for (Spinner s : spinners.values()) {
      if (s.touching || s.mmId != mm.id || Page.alignDown(s.va) != pageVa) continue;
      s.touching = true;
      woken = true;
      spinTouches++;
      CpuAccessOp op = new CpuAccessOp(new CpuAccess(-1, s.threadId, s.mmId, s.va, Access.READ, 0), mm, s);
      runQueue.add(() -> mmapReadLock(mm, () -> cpuAccessWalk(op)));
    }
    return woken;
  }

  /** A spinning thread's touch completed (or hit SIGSEGV, which ends the loop); its queued request runs. */
  private void spinTouchDone(CpuAccessOp op, boolean keepSpinning) {
    Spinner s = op.spinner;
    s.touching = false;
    if (!keepSpinning) spinners.remove(s.threadId);
    if (s.next != null) {
      CpuAccess next = s.next;
      s.next = null;
      runQueue.add(() -> onCpuAccess(next));
    }
  }

  /** Touches made by spinning threads right after a conversion of their page. */
  public long spinTouches() { return spinTouches; }

  private void cpuAccessWalk(CpuAccessOp op) {
    Mm mm = op.mm;
    CpuAccess m = op.m;
    long va = Page.alignDown(m.va());
    boolean write = m.access().isWrite();
    Vma vma = mm.findVma(va);
    if (vma == null || !vma.canAccess() || (write && !vma.canWrite())) {
      ready.emit(new Trace.CpuFaulted(m.threadId(), mm.id, m.va(), "sigsegv"));
      mmapReadUnlock(mm);
      if (op.spinner != null) spinTouchDone(op, false);
      else reply(new CpuAccessDone(m.reqId(), m.threadId(), Errno.SIGSEGV, 0, op.faults));
      return;
    }
    Pte pte = mm.pte(va);
    if (pte.isPresent() && (!write || pte.write())) {
      completeCpuAccess(op, va, pte);
      return;
    }
    op.faults++;
    handleMmFault(mm, vma, va, write, FaultMode.USER, m.threadId(), retry -> {
      if (retry) {
        ready.emit(new Trace.CpuFaulted(m.threadId(), mm.id, m.va(), "retry"));
        mmapReadLock(mm, () -> cpuAccessWalk(op));
      } else {
        cpuAccessWalk(op);
      }
    });
  }

  private void completeCpuAccess(CpuAccessOp op, long va, Pte pte) {
    CpuAccess m = op.m;
    Folio f = folioOf(pte.pfn());
    int w = Page.wordIndex(m.va());
    long old = f.data[w];
    long now = apply(m.access(), old, m.value());
    boolean write = m.access().isWrite();
    if (write) {
      if (f.zero || !pte.write()) throw new IllegalStateException("CPU store through a read-only PTE at " + Long.toHexString(va));
      f.data[w] = now;
    }
    Pte accessed = new Pte(PteState.PRESENT, pte.pfn(), pte.write(), pte.dirty() || write, true, pte.softDirty());
    if (!accessed.equals(pte)) setPte(op.mm, va, accessed, write ? "access:dirty" : "access:young");
    ready.emit(new Trace.HostMemoryAccessed(-1, m.threadId(), f.pfn, w, m.access(), old, now));
    mmapReadUnlock(op.mm);
    if (op.spinner != null) {
      spinTouchDone(op, true);
      return;
    }
    if (m.spin()) spinners.put(m.threadId(), new Spinner(m.threadId(), op.mm.id, m.va()));
    reply(new CpuAccessDone(m.reqId(), m.threadId(), Errno.OK, old, op.faults));
  }

  private static long apply(Access access, long old, long value) {
    switch (access) {
      case READ: return old;
      case WRITE: return value;
      case ATOMIC: return old + value;
      default: throw new IllegalStateException("unknown access " + access);
    }
  }

  /** A device's PCIe access to host memory by pfn: no page table is consulted (the checker judges it). */
  private void onDeviceMemoryAccess(DeviceMemoryAccess m) {
    if (m.wordIndex() < 0 || m.wordIndex() >= Page.WORDS) {
      throw new IllegalStateException("device access outside the page: word " + m.wordIndex());
    }
    Folio f = folios.get(m.pfn());
    if (f == null) {
      unknownPfnAccesses++;
      ready.emit(new Trace.HostMemoryAccessed(m.deviceId(), -1, m.pfn(), m.wordIndex(), m.access(), 0, 0));
      reply(new HmmProtocol.DeviceMemoryAccessReply(m.reqId(), 0));
      return;
    }
    long old = f.data[m.wordIndex()];
    long now = apply(m.access(), old, m.value());
    if (m.access().isWrite()) {
      f.data[m.wordIndex()] = now;
      if (!f.dirty && !f.freed && !f.zero) {
        f.dirty = true; // the device wrote the page (set_page_dirty by the DMA owner)
        emitFolio(f);
      }
    }
    ready.emit(new Trace.HostMemoryAccessed(m.deviceId(), -1, m.pfn(), m.wordIndex(), m.access(), old, now));
    reply(new HmmProtocol.DeviceMemoryAccessReply(m.reqId(), old));
  }

  // ====================================================================== make_device_exclusive

  private static final class ExclusiveOp {
    final MakeDeviceExclusive m;
    final Mm mm;
    final long va;

    ExclusiveOp(MakeDeviceExclusive m, Mm mm) {
      this.m = m;
      this.mm = mm;
      this.va = Page.alignDown(m.va());
    }
  }

  /** Models make_device_exclusive() (6.15, PROTOCOL.md §3.1) or the 5.14 range API for one page (§3.2). */
  private void onMakeDeviceExclusive(MakeDeviceExclusive m) {
    ExclusiveOp op = new ExclusiveOp(m, mmFor(m.mmId()));
    mmapReadLock(op.mm, () -> exclusiveGup(op)); // the caller holds mmap_lock for read
  }

  /** get_user_page_vma_remote(FOLL_GET | FOLL_WRITE | FOLL_SPLIT_PMD), then the folio checks. */
  private void exclusiveGup(ExclusiveOp op) {
    Mm mm = op.mm;
    Vma vma = mm.findVma(op.va);
    if (vma == null) {
      exclusiveFail(op, Errno.EFAULT);
      return;
    }
    if (vma.kind == VmaKind.HUGETLB) { // check_vma_flags: FOLL_SPLIT_PMD on hugetlb
      exclusiveFail(op, Errno.EOPNOTSUPP);
      return;
    }
    if (!vma.canWrite()) {
      exclusiveFail(op, Errno.EFAULT);
      return;
    }
    Pte pte = mm.pte(op.va);
    if (pte.isPresent() && pte.write()) {
      Folio f = folioOf(pte.pfn());
      getFolio(f);
      if (!f.anon || f.hugetlb) {
        putFolio(f);
        exclusiveFail(op, Errno.EOPNOTSUPP);
        return;
      }
      exclusiveLockFolio(op, f);
      return;
    }
    // faultin_page(): write fault without FAULT_FLAG_ALLOW_RETRY, then follow the page again.
    handleMmFault(mm, vma, op.va, true, FaultMode.KERNEL, -1, retry -> exclusiveGup(op));
  }

  private void exclusiveLockFolio(ExclusiveOp op, Folio f) {
    if (f.locked) {
      if (v5()) { // folio_trylock failed: the page is reported NULL, dmirror answers -EBUSY
        putFolio(f);
        exclusiveFail(op, Errno.EBUSY);
      } else { // folio_lock_killable(): sleep (holding mmap_lock) until unlocked
        f.waiters.add(() -> exclusiveLockFolio(op, f));
      }
      return;
    }
    lockFolio(f);
    startInvalidation(op.mm, op.va, op.va + Page.SIZE, NotifyEvent.EXCLUSIVE, op.m.owner(), true,
        inv -> exclusiveConvert(op, f, inv), null);
  }

  /** The re-walk under the PTE lock, then PRESENT -> DEVEXCL. */
  private void exclusiveConvert(ExclusiveOp op, Folio f, Invalidation inv) {
    Mm mm = op.mm;
    Pte cur = mm.pte(op.va);
    if (!cur.isPresent() || cur.pfn() != f.pfn || !cur.write()) {
      endInvalidation(inv);
      unlockFolio(f);
      putFolio(f);
      if (v5()) exclusiveFail(op, Errno.EBUSY);
      else exclusiveGup(op); // 6.15: goto retry
      return;
    }
    boolean folioChanged = false;
    if (cur.dirty() && !f.dirty) { // ptep_clear_flush yields the final dirty bit
      f.dirty = true;
      folioChanged = true;
    }
    if (v5()) { // page_remove_rmap: 5.14 entries are not counted in mapcount
      f.mapcount--;
      folioChanged = true;
    }
    if (folioChanged) emitFolio(f);
    setPte(mm, op.va, new Pte(PteState.DEVEXCL, f.pfn, v5() && cur.write(), false, false, cur.softDirty()),
        "make_device_exclusive");
    exclusiveHolder.put(f.pfn, op.m.deviceId());
    endInvalidation(inv);
    if (grants.containsKey(op.m.reqId())) {
      throw new IllegalStateException("I8: make_device_exclusive reqId " + op.m.reqId() + " granted twice");
    }
    Grant g = new Grant(op.m.reqId(), op.m.deviceId(), f.pfn, true);
    grants.put(g.reqId, g);
    if (!switches.folioLockUntilMapped()) { // ablation (C08): unlock right after conversion
      unlockFolio(f);
      g.lockHeld = false;
    }
    // A call parked while its node went away: nobody will unlock/put, so the lease starts now.
    if (goneNodes.contains(nodeOfDevice(g.deviceId))) startLease(g);
    mmapReadUnlock(mm);
    // A thread spinning on the page touches it before the caller returns (CpuAccess.spin): its fault, and with
    // the folio unlocked (the ablation) its restore's invalidation, start first.
    boolean lockHeld = g.lockHeld;
    Runnable returned = () -> {
      ready.emit(new Trace.ExclusiveReturned(op.m.reqId(), op.m.deviceId(), f.pfn, Errno.OK, lockHeld));
      reply(new MakeDeviceExclusiveReply(op.m.reqId(), Errno.OK, f.pfn));
    };
    if (wakeSpinners(mm, op.va)) runQueue.add(returned);
    else returned.run();
  }

  private void exclusiveFail(ExclusiveOp op, Errno errno) {
    mmapReadUnlock(op.mm);
    ready.emit(new Trace.ExclusiveReturned(op.m.reqId(), op.m.deviceId(), 0, errno, false));
    reply(new MakeDeviceExclusiveReply(op.m.reqId(), errno, 0));
  }

  /** The caller's folio_unlock() + folio_put() after a successful make_device_exclusive(). */
  private void onFolioUnlockPut(FolioUnlockPut m) {
    Grant g = grants.get(m.reqId());
    if (g == null) {
      duplicateUnlockPuts++;
      return;
    }
    if (g.pfn != m.pfn()) {
      mismatchedUnlockPuts++;
      return;
    }
    grants.remove(m.reqId());
    leaseDeadlines.remove(m.reqId());
    Folio f = folioOf(g.pfn);
    // Reported first so that a checker counting outstanding references never sees fewer refs than owed.
    ready.emit(new Trace.FolioUnlockPutDone(m.reqId(), g.deviceId, g.pfn));
    if (g.lockHeld) unlockFolio(f);
    putFolio(f);
    // The caller's next call, before any thread the unlock woke runs (those wait in the run queue).
    if (m.thenRemoveSubId() != 0) onNotifierRemove(new NotifierRemove(m.thenRemoveSubId()));
  }

  // ============================================================================= hmm_range_fault

  private static final class RangeFaultOp {
    final HmmRangeFault m;
    final Mm mm;
    final long start;

    RangeFaultOp(HmmRangeFault m, Mm mm) {
      this.m = m;
      this.mm = mm;
      this.start = Page.alignDown(m.start());
    }
  }

  /** Models hmm_range_fault() (mm/hmm.c, PROTOCOL.md §3.10). */
  private void onHmmRangeFault(HmmRangeFault m) {
    RangeFaultOp op = new RangeFaultOp(m, mmFor(m.mmId()));
    mmapReadLock(op.mm, () -> rangeFaultWalk(op));
  }

  private void rangeFaultWalk(RangeFaultOp op) {
    Mm mm = op.mm;
    Subscription sub = subscriptions.get(op.m.subId());
    if (sub != null && sub.mmId == mm.id && checkRetry(sub, op.m.seq())) {
      rangeFaultDone(op, Errno.EBUSY, List.of());
      return;
    }
    List<Integer> flags = op.m.reqFlags();
    List<Long> words = new ArrayList<>(flags.size());
    for (int i = 0; i < flags.size(); i++) {
      long va = op.start + i * Page.SIZE;
      int req = flags.get(i);
      boolean fault = (req & HmmPfn.REQ_FAULT) != 0;
      boolean writeFault = fault && (req & HmmPfn.REQ_WRITE) != 0;
      Vma vma = mm.findVma(va);
      if (vma == null || !vma.canAccess()) { // hmm_vma_walk_hole / hmm_vma_walk_test
        if (fault) {
          rangeFaultDone(op, Errno.EFAULT, List.of());
          return;
        }
        words.add(HmmPfn.ERROR);
        continue;
      }
      Pte pte = mm.pte(va);
      boolean needFault = fault && (!pte.isPresent() || (writeFault && !pte.write()));
      if (needFault) {
        if (writeFault && !vma.canWrite()) { // hmm_vma_fault
          rangeFaultDone(op, Errno.EPERM, List.of());
          return;
        }
        // handle_mm_fault(), then the walk restarts (-EBUSY inside the walk) with check_retry first.
        handleMmFault(mm, vma, va, writeFault, FaultMode.KERNEL, -1, retry -> rangeFaultWalk(op));
        return;
      }
      words.add(snapshotWord(pte));
    }
    rangeFaultDone(op, Errno.OK, words);
  }

  private long snapshotWord(Pte pte) {
    switch (pte.state()) {
      case PRESENT:
        return HmmPfn.VALID | pte.pfn() | (pte.write() ? HmmPfn.WRITE : 0);
      case DEVEXCL:
        if (switches.hmmPfnExclusive()) {
          long holder = exclusiveHolder.getOrDefault(pte.pfn(), 0) & 0xffffL;
          return HmmPfn.EXCLUSIVE | (holder << HmmPfn.HOLDER_SHIFT) | pte.pfn();
        }
        return 0;
      default:
        return 0;
    }
  }

  private void rangeFaultDone(RangeFaultOp op, Errno errno, List<Long> words) {
    mmapReadUnlock(op.mm);
    reply(new HmmProtocol.HmmRangeFaultReply(op.m.reqId(), errno, List.copyOf(words)));
  }

  // ===================================================================================== syscalls

  private void onSyscall(Syscall m) {
    Mm mm = mmFor(m.mmId());
    if (mm.exited) {
      reply(new SyscallDone(m.reqId(), Errno.EINVAL, 0));
      return;
    }
    switch (m.kind()) {
      case MMAP: mmapWriteLock(mm, unlessExited(mm, m, true, () -> doMmap(mm, m))); return;
      case MUNMAP: mmapWriteLock(mm, unlessExited(mm, m, true, () -> doMunmap(mm, m))); return;
      case MADV_DONTNEED: mmapReadLock(mm, unlessExited(mm, m, false, () -> doMadvDontneed(mm, m))); return;
      case MPROTECT: mmapWriteLock(mm, unlessExited(mm, m, true, () -> doMprotect(mm, m))); return;
      case FORK: mmapWriteLock(mm, unlessExited(mm, m, true, () -> doFork(mm, m))); return;
      case EXIT: mmapWriteLock(mm, unlessExited(mm, m, true, () -> doExit(mm, m))); return;
      case SOFT_DIRTY_RESET: mmapWriteLock(mm, unlessExited(mm, m, true, () -> doSoftDirtyReset(mm, m))); return;
      case OOM_REAP: doOomReap(mm, m); return;
      default: throw new IllegalStateException("unknown syscall " + m.kind());
    }
  }

  /** A syscall that waited for mmap_lock while the mm exited is refused (-EINVAL) once it gets the lock. */
  private Runnable unlessExited(Mm mm, Syscall m, boolean writeLocked, Runnable body) {
    return () -> {
      if (mm.exited) syscallDone(mm, m, Errno.EINVAL, 0, writeLocked);
      else body.run();
    };
  }

  private void syscallDone(Mm mm, Syscall m, Errno errno, long value, boolean writeLocked) {
    if (writeLocked) mmapWriteUnlock(mm);
    else mmapReadUnlock(mm);
    reply(new SyscallDone(m.reqId(), errno, value));
  }

  private static long pageRoundUp(long len) { return (len + Page.SIZE - 1) & ~(Page.SIZE - 1); }

  /** [start, start+length) page-aligned, or null when invalid (-EINVAL). */
  private static long[] userRange(Syscall m) {
    if ((m.start() & (Page.SIZE - 1)) != 0 || m.length() <= 0) return null;
    long end = m.start() + pageRoundUp(m.length());
    if (end > Page.TASK_SIZE || end <= m.start()) return null;
    return new long[] {m.start(), end};
  }

  /** Models mmap(start, length, prot, flags) without MAP_FIXED replacement: overlap is -EINVAL. */
  private void doMmap(Mm mm, Syscall m) {
    long len = pageRoundUp(m.length());
    long start = m.start();
    if (m.vmaKind() == null || len <= 0 || (m.prot() & ~Prot.RW) != 0) {
      syscallDone(mm, m, Errno.EINVAL, 0, true);
      return;
    }
    if (start == 0) { // get_unmapped_area: first gap above MMAP_BASE
      start = MMAP_BASE;
      for (Vma v : mm.vmas.tailMap(MMAP_BASE, true).values()) {
        if (v.start >= start + len) break;
        start = Math.max(start, v.end);
      }
    }
    long end = start + len;
    if ((start & (Page.SIZE - 1)) != 0 || end > Page.TASK_SIZE || end <= start || !mm.vmasIn(start, end).isEmpty()) {
      syscallDone(mm, m, Errno.EINVAL, 0, true);
      return;
    }
    boolean file = m.vmaKind() == VmaKind.ANON_SHARED || m.vmaKind() == VmaKind.FILE_PRIVATE;
    Vma v = new Vma(start, end, m.prot(), m.vmaKind(), file ? new Vma.PageCache() : null, 0);
    mm.vmas.put(start, v);
    emitVma(mm, v, false);
    syscallDone(mm, m, Errno.OK, start, true);
  }

  /** Models __split_vma(): afterwards no VMA straddles addr. */
  private void splitVmaAt(Mm mm, long addr) {
    Vma v = mm.findVma(addr);
    if (v == null || v.start == addr) return;
    emitVma(mm, v, true);
    Vma hi = v.copy();
    hi.start = addr;
    hi.pgoff = v.pgoff + (addr - v.start) / Page.SIZE;
    v.end = addr;
    mm.vmas.put(hi.start, hi);
    emitVma(mm, v, false);
    emitVma(mm, hi, false);
  }

  /** Models zap_pte_range() for one entry (zap_present_ptes / zap_nonpresent_ptes). No folio lock is taken. */
  private void zapPte(Mm mm, long va, String cause) {
    Pte pte = mm.pte(va);
    if (pte.state() == PteState.NONE) return;
    setPte(mm, va, Pte.NONE, cause);
    Folio f = folioOf(pte.pfn());
    if (f.zero) return;
    if (pte.isPresent()) {
      f.mapcount--;
      if (!f.anon && pte.dirty()) f.dirty = true;
    } else if (pte.isDeviceExclusive()) {
      if (!v5()) f.mapcount--; // 6.15: the entry counts like a present PTE
    } else {
      throw new IllegalStateException("zap of unsupported PTE state " + pte.state());
    }
    f.refcount--;
    settleRefcount(f);
    emitFolio(f);
  }

  private void zapRange(Mm mm, long start, long end, String cause) {
    for (Long va : new ArrayList<>(mm.ptes.subMap(start, end).keySet())) zapPte(mm, va, cause);
  }

  /** Models munmap(): split, one UNMAP notifier over the range (unmap_vmas), zap, remove the VMAs. */
  private void doMunmap(Mm mm, Syscall m) {
    long[] r = userRange(m);
    if (r == null) {
      syscallDone(mm, m, Errno.EINVAL, 0, true);
      return;
    }
    if (mm.vmasIn(r[0], r[1]).isEmpty()) {
      syscallDone(mm, m, Errno.OK, 0, true);
      return;
    }
    splitVmaAt(mm, r[0]);
    splitVmaAt(mm, r[1]);
    List<Vma> victims = mm.vmasIn(r[0], r[1]);
    startInvalidation(mm, r[0], r[1], NotifyEvent.UNMAP, 0, true, inv -> {
      zapRange(mm, r[0], r[1], "munmap");
      for (Vma v : victims) {
        mm.vmas.remove(v.start);
        emitVma(mm, v, true);
      }
      endInvalidation(inv);
      syscallDone(mm, m, Errno.OK, 0, true);
    }, null);
  }

  /** Models madvise(MADV_DONTNEED): per VMA a CLEAR notifier and a zap (zap_page_range_single); VMAs stay. */
  private void doMadvDontneed(Mm mm, Syscall m) {
    long[] r = userRange(m);
    if (r == null) {
      syscallDone(mm, m, Errno.EINVAL, 0, false);
      return;
    }
    List<long[]> pieces = new ArrayList<>();
    long covered = 0;
    for (Vma v : mm.vmasIn(r[0], r[1])) {
      long s = Math.max(v.start, r[0]);
      long e = Math.min(v.end, r[1]);
      pieces.add(new long[] {s, e});
      covered += e - s;
    }
    Errno errno = covered == r[1] - r[0] ? Errno.OK : Errno.ENOMEM; // unmapped holes: -ENOMEM
    dontneedNext(mm, m, pieces, 0, errno);
  }

  private void dontneedNext(Mm mm, Syscall m, List<long[]> pieces, int i, Errno errno) {
    if (i == pieces.size()) {
      syscallDone(mm, m, errno, 0, false);
      return;
    }
    long s = pieces.get(i)[0];
    long e = pieces.get(i)[1];
    startInvalidation(mm, s, e, NotifyEvent.CLEAR, 0, true, inv -> {
      zapRange(mm, s, e, "madv_dontneed");
      endInvalidation(inv);
      dontneedNext(mm, m, pieces, i + 1, errno);
    }, null);
  }

  /**
   * Models mprotect(): per VMA (mprotect_fixup -> change_protection) a PROTECTION_VMA notifier when the VMA has
   * page-table entries, then the new VMA protection and PTE updates. 6.15 leaves DEVEXCL entries untouched;
   * 5.14 turns the writable variant into the readable one.
   */
  private void doMprotect(Mm mm, Syscall m) {
    long[] r = userRange(m);
    if (r == null || (m.prot() & ~Prot.RW) != 0) {
      syscallDone(mm, m, Errno.EINVAL, 0, true);
      return;
    }
    long covered = 0;
    for (Vma v : mm.vmasIn(r[0], r[1])) covered += Math.min(v.end, r[1]) - Math.max(v.start, r[0]);
    if (covered != r[1] - r[0]) {
      syscallDone(mm, m, Errno.ENOMEM, 0, true);
      return;
    }
    splitVmaAt(mm, r[0]);
    splitVmaAt(mm, r[1]);
    mprotectNext(mm, m, mm.vmasIn(r[0], r[1]), 0);
  }

  private void mprotectNext(Mm mm, Syscall m, List<Vma> vmas, int i) {
    if (i == vmas.size()) {
      syscallDone(mm, m, Errno.OK, 0, true);
      return;
    }
    Vma v = vmas.get(i);
    if (mm.ptes.subMap(v.start, v.end).isEmpty()) { // change_pmd_range raises the notifier lazily
      changeVmaProtection(mm, v, m.prot());
      mprotectNext(mm, m, vmas, i + 1);
      return;
    }
    startInvalidation(mm, v.start, v.end, NotifyEvent.PROTECTION_VMA, 0, true, inv -> {
      changeVmaProtection(mm, v, m.prot());
      endInvalidation(inv);
      mprotectNext(mm, m, vmas, i + 1);
    }, null);
  }

  private void changeVmaProtection(Mm mm, Vma v, int prot) {
    if (v.prot != prot) {
      v.prot = prot;
      emitVma(mm, v, false);
    }
    boolean vmaWrite = v.canWrite();
    for (Map.Entry<Long, Pte> e : new ArrayList<>(mm.ptes.subMap(v.start, v.end).entrySet())) {
      Pte p = e.getValue();
      if (p.isPresent()) {
        boolean write;
        if (!vmaWrite) {
          write = false;
        } else if (p.write()) {
          write = true;
        } else if (v.shared()) {
          write = p.dirty(); // can_change_pte_writable for a shared mapping
        } else {
          Folio f = folioOf(p.pfn()); // MM_CP_TRY_CHANGE_WRITABLE: only exclusive anon pages
          write = !f.zero && f.anon && f.anonExclusive;
        }
        if (write != p.write()) {
          setPte(mm, e.getKey(), new Pte(p.state(), p.pfn(), write, p.dirty(), p.young(), p.softDirty()), "mprotect");
        }
      } else if (p.isDeviceExclusive() && v5() && p.write()) {
        setPte(mm, e.getKey(), new Pte(p.state(), p.pfn(), false, false, false, p.softDirty()), "mprotect");
      }
    }
  }

  // ========================================================================================= fork

  /** Models dup_mmap() + copy_page_range() (PROTOCOL.md §3.5). */
  private void doFork(Mm parent, Syscall m) {
    Mm existing = mms.get(m.childMmId());
    if (m.childMmId() == parent.id || (existing != null && (!existing.vmas.isEmpty() || existing.exited))) {
      syscallDone(parent, m, Errno.EINVAL, 0, true);
      return;
    }
    Mm child = mmFor(m.childMmId());
    forkNextVma(parent, child, m, new ArrayList<>(parent.vmas.values()), 0);
  }

  private void forkNextVma(Mm parent, Mm child, Syscall m, List<Vma> vmas, int i) {
    if (i == vmas.size()) {
      syscallDone(parent, m, Errno.OK, child.id, true);
      return;
    }
    Vma pv = vmas.get(i);
    Vma cv = pv.copy();
    child.vmas.put(cv.start, cv);
    emitVma(child, cv, false);
    // copy_page_range: shared mappings and VMAs without anon_vma are refaulted by the child, not copied.
    boolean copy = !pv.shared() && (pv.anonVma || pv.kind == VmaKind.HUGETLB);
    if (!copy) {
      forkNextVma(parent, child, m, vmas, i + 1);
      return;
    }
    NotifyEvent event = pv.kind == VmaKind.HUGETLB ? NotifyEvent.CLEAR : NotifyEvent.PROTECTION_PAGE;
    startInvalidation(parent, pv.start, pv.end, event, 0, true, inv -> {
      boolean ok = copyPteRange(parent, child, pv, cv);
      endInvalidation(inv);
      if (!ok) {
        forkAbort(parent, child, m);
        return;
      }
      forkNextVma(parent, child, m, vmas, i + 1);
    }, null);
  }

  /** copy_pte_range() for a COW VMA; false when a device-exclusive folio could not be trylocked (-EBUSY). */
  private boolean copyPteRange(Mm parent, Mm child, Vma pv, Vma cv) {
    for (Long va : new ArrayList<>(parent.ptes.subMap(pv.start, pv.end).keySet())) {
      Pte p = parent.pte(va);
      if (p.isDeviceExclusive()) { // copy_nonpresent_pte -> try_restore_exclusive_pte
        Folio f = folioOf(p.pfn());
        if (f.locked) return false;
        lockFolio(f);
        restoreExclusivePte(parent, va, f, p, "restore_exclusive_pte:fork");
        unlockFolio(f);
        p = parent.pte(va);
      }
      if (!p.isPresent()) throw new IllegalStateException("fork: cannot copy PTE state " + p.state());
      Folio f = folioOf(p.pfn());
      if (!f.zero) {
        if (f.anon) f.anonExclusive = false; // folio_try_dup_anon_rmap_pte
        f.mapcount++;
        f.refcount++;
        emitFolio(f);
        cv.anonVma = cv.anonVma || f.anon;
      }
      if (p.write()) { // COW: write-protect both
        p = new Pte(PteState.PRESENT, p.pfn(), false, p.dirty(), p.young(), p.softDirty());
        setPte(parent, va, p, "fork:wrprotect");
      }
      setPte(child, va, new Pte(PteState.PRESENT, p.pfn(), false, p.dirty(), false, p.softDirty()), "fork:copy");
    }
    return true;
  }

  /** fork() failed (-ENOMEM): the child is torn down, the parent keeps what was done to it. */
  private void forkAbort(Mm parent, Mm child, Syscall m) {
    zapRange(child, 0, Page.TASK_SIZE, "fork:abort");
    for (Vma v : new ArrayList<>(child.vmas.values())) {
      child.vmas.remove(v.start);
      emitVma(child, v, true);
    }
    mms.remove(child.id);
    syscallDone(parent, m, Errno.ENOMEM, 0, true);
  }

  // ========================================================================== exit, reap, dirty

  /**
   * Models exit_mmap(): mmu_notifier_release() (RELEASE over the whole address space to interval
   * subscriptions, then classic release callbacks, after which classic subscriptions are unhooked), then
   * unmap_vmas() (UNMAP over the whole address space), zap, free.
   */
  private void doExit(Mm mm, Syscall m) {
    startInvalidation(mm, 0, Page.TASK_SIZE, NotifyEvent.RELEASE, 0, true, release -> {
      for (Subscription s : new ArrayList<>(subscriptions.values())) {
        if (s.mmId == mm.id && s.kind == NotifierKind.CLASSIC) {
          subscriptions.remove(s.subId);
          s.live = false;
          ready.emit(new Trace.NotifierRegistered(s.subId, s.deviceId, s.mmId, s.kind, s.start, s.end, true));
        }
      }
      endInvalidation(release);
      startInvalidation(mm, 0, Page.TASK_SIZE, NotifyEvent.UNMAP, 0, true, unmap -> {
        zapRange(mm, 0, Page.TASK_SIZE, "exit_mmap");
        for (Vma v : new ArrayList<>(mm.vmas.values())) {
          mm.vmas.remove(v.start);
          emitVma(mm, v, true);
        }
        endInvalidation(unmap);
        mm.exited = true;
        syscallDone(mm, m, Errno.OK, 0, true);
      }, null);
    }, null);
  }

  /**
   * Models __oom_reap_task_mm(): mmap_read_trylock, then per private VMA a non-blockable UNMAP notifier and a
   * zap; a VMA whose notifier fails is skipped and the reap answers -EAGAIN.
   */
  private void doOomReap(Mm mm, Syscall m) {
    if (!mmapReadTrylock(mm)) {
      reply(new SyscallDone(m.reqId(), Errno.EAGAIN, 0));
      return;
    }
    List<Vma> targets = new ArrayList<>();
    for (Vma v : mm.vmas.values()) if (v.kind != VmaKind.HUGETLB && !v.shared()) targets.add(v);
    reapNext(mm, m, targets, 0, false);
  }

  private void reapNext(Mm mm, Syscall m, List<Vma> vmas, int i, boolean skipped) {
    if (i == vmas.size()) {
      syscallDone(mm, m, skipped ? Errno.EAGAIN : Errno.OK, 0, false);
      return;
    }
    Vma v = vmas.get(i);
    startInvalidation(mm, v.start, v.end, NotifyEvent.UNMAP, 0, false, inv -> {
      zapRange(mm, v.start, v.end, "oom_reap");
      endInvalidation(inv);
      reapNext(mm, m, vmas, i + 1, skipped);
    }, abandoned -> reapNext(mm, m, vmas, i + 1, true));
  }

  /** Models clear_refs_write(CLEAR_REFS_SOFT_DIRTY): SOFT_DIRTY notifier, then clear_soft_dirty per PTE. */
  private void doSoftDirtyReset(Mm mm, Syscall m) {
    long start = m.length() == 0 ? 0 : m.start();
    long end = m.length() == 0 ? Page.TASK_SIZE : m.start() + pageRoundUp(m.length());
    startInvalidation(mm, start, end, NotifyEvent.SOFT_DIRTY, 0, true, inv -> {
      for (Map.Entry<Long, Pte> e : new ArrayList<>(mm.ptes.subMap(start, end).entrySet())) {
        Pte p = e.getValue();
        Pte n = p.isPresent()
            ? new Pte(p.state(), p.pfn(), false, p.dirty(), p.young(), false)
            : new Pte(p.state(), p.pfn(), p.write(), p.dirty(), p.young(), false);
        if (!n.equals(p)) setPte(mm, e.getKey(), n, "clear_soft_dirty");
      }
      endInvalidation(inv);
      syscallDone(mm, m, Errno.OK, 0, true);
    }, null);
  }

  // =================================================================================== control

  private void onInspectPage(HmmProtocol.InspectPage m) {
    Pte p = pte(m.mmId(), m.va());
    Folio f = p.state() == PteState.NONE ? null : folios.get(p.pfn());
    List<Long> words = new ArrayList<>();
    if (f != null) for (long w : f.data) words.add(w);
    reply(new HmmProtocol.PageInfo(m.reqId(), p.state(), p.pfn(), p.write(), p.dirty(), p.young(),
        f != null && f.locked, f == null ? 0 : f.refcount, f == null ? 0 : f.mapcount, f != null && f.dirty,
        f != null && f.anonExclusive, f == null ? 0 : f.data[0], List.copyOf(words)));
  }

  private void onResetNode(HmmProtocol.ResetNode m) {
    reset(m.switches());
    reply(new HmmProtocol.ResetDone(m.reqId(), 0));
  }
}
