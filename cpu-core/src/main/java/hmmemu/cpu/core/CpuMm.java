package hmmemu.cpu.core;

import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.CpuAccess;
import hmmemu.protocol.msg.HmmProtocol.DeviceMemoryAccess;
import hmmemu.protocol.msg.HmmProtocol.FolioUnlockPut;
import hmmemu.protocol.msg.HmmProtocol.HmmRangeFault;
import hmmemu.protocol.msg.HmmProtocol.InvalidateAck;
import hmmemu.protocol.msg.HmmProtocol.MakeDeviceExclusive;
import hmmemu.protocol.msg.HmmProtocol.NotifierInsert;
import hmmemu.protocol.msg.HmmProtocol.NotifierRemove;
import hmmemu.protocol.msg.HmmProtocol.Syscall;
import hmmemu.protocol.msg.Msgs;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Models the memory-management side of one Linux CPU node: every mm_struct of the node (VMAs, page tables,
 * mmap_lock, mmu_notifier subscriptions and their invalidate_seq), physical memory (folios) and the kernel
 * paths of docs/PROTOCOL.md §2-§3: make_device_exclusive() (mm/rmap.c), the page-fault paths of mm/memory.c
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
  /** Default lease on a dead driver's folio lock: 2 s of model time (hmm-emu.faults.folio-lock-lease). */
  public static final long DEFAULT_FOLIO_LOCK_LEASE_MICROS = 2_000_000L;

  /** State shared by every path; kept across resets. */
  private final Kernel k;
  // The paths of the kernel, rebuilt (with their state) by a reset.
  private Folios folios;
  private MmapLock mmapLock;
  private MmuNotifier notifier;
  private PageFault faults;
  private UserAccess access;
  private DeviceExclusive exclusive;
  private RangeFault rangeFault;
  private Syscalls syscalls;
  private MigrateDevice migrate;
  private Kthreads kthreads;

  private long duplicateRequests;
  /**
   * The last request carried out per requester: the device for a driver's request, -1 for a local one (CPU
   * thread, syscall, controller). Cleared by a reset. One entry per requester, whatever the length of the run.
   */
  private final Map<Integer, HmmProtocol.Msg> lastRequest = new HashMap<>();
  /** ResetNode reqIds already carried out (kept across resets). */
  private final Set<Long> seenResets = new HashSet<>();
  private boolean stepping;
  private long droppedFromGoneNodes;
  private long nodesGone;

  public CpuMm(ModelSwitches switches) {
    this(switches, DEFAULT_FOLIO_LOCK_LEASE_MICROS);
  }

  /** A CPU node whose dead drivers' folio locks are released {@code folioLockLeaseMicros} after they went away. */
  public CpuMm(ModelSwitches switches, long folioLockLeaseMicros) {
    if (folioLockLeaseMicros < 0) throw new IllegalArgumentException("folio-lock lease must be >= 0, got " + folioLockLeaseMicros);
    this.k = new Kernel(folioLockLeaseMicros);
    reset(switches);
  }

  private void reset(ModelSwitches newSwitches) {
    if (newSwitches == null) throw new IllegalStateException("ModelSwitches must not be null");
    k.switches = newSwitches;
    k.mms.clear();
    k.runQueue.clear();
    k.warnedOnce.clear();
    k.arrivedAt.clear();
    folios = new Folios(k);
    mmapLock = new MmapLock(k);
    notifier = new MmuNotifier(k);
    HugeMemory huge = new HugeMemory(k, folios, notifier);
    faults = new PageFault(k, folios, mmapLock, notifier, huge);
    access = new UserAccess(k, folios, mmapLock, faults);
    exclusive = new DeviceExclusive(k, folios, mmapLock, notifier, faults, access, huge);
    rangeFault = new RangeFault(k, folios, mmapLock, notifier, faults);
    syscalls = new Syscalls(k, folios, mmapLock, notifier, faults, huge);
    migrate = new MigrateDevice(k, folios, mmapLock, notifier, huge);
    faults.migrate = migrate;
    access.migrate = migrate;
    kthreads = new Kthreads(k, folios);
    k.threads = new CpuThreads(k, access);
    duplicateRequests = 0;
    lastRequest.clear();
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
      exclusive.expireLeases();
      k.threads.wake();
      dispatch(msg);
    });
  }

  /** Runs one step of the core: the action, then every continuation it made runnable. */
  private Ready run(long now, Runnable action) {
    if (stepping) throw new IllegalStateException("single-threaded core: step() re-entered");
    stepping = true;
    Ready out = new Ready();
    k.ready = out;
    k.nowMicros = Math.max(k.nowMicros, now);
    try {
      action.run();
      drainRunQueue();
      return out;
    } finally {
      k.ready = null;
      stepping = false;
    }
  }

  private void drainRunQueue() {
    Runnable r;
    while ((r = k.runQueue.poll()) != null) r.run();
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
      exclusive.expireLeases();
      if (!k.goneNodes.add(nodeIndex)) return;
      nodesGone++;
      k.emit(new Trace.NodeGone(nodeIndex, reason));
      // In the kernel the callback runs in the invalidating thread and a dead device's callback has nothing left to
      // flush, so it returns at once; mmu_interval_notifier_remove() (mm/mmu_notifier.c) then only waits for the
      // running invalidation to end. Here the callback lives on the dead node, so what it owed counts as returned.
      for (Subscription s : new ArrayList<>(notifier.subscriptions.values())) {
        if (Kernel.nodeOfDevice(s.deviceId) == nodeIndex) notifier.removeSubscriptionNow(s);
      }
      for (Mm mm : k.mms.values()) {
        mm.deferredInserts.removeIf(d -> Kernel.nodeOfDevice(d.deviceId) == nodeIndex);
        mm.deferredRemoves.removeIf(d -> Kernel.nodeOfDevice(d.deviceId) == nodeIndex);
      }
      for (DeviceExclusive.Grant g : exclusive.grants.values()) {
        if (Kernel.nodeOfDevice(g.deviceId) == nodeIndex) exclusive.startLease(g);
      }
      migrate.nodeGone(nodeIndex);
    });
  }

  /**
   * Lets model time pass: releases the folio locks whose lease ran out and wakes the user threads whose think time
   * is over (the host's timers call it at {@link #nextLeaseDeadline} and {@link #nextThreadWake}).
   */
  public Ready tick(long now) {
    return run(now, () -> {
      exclusive.expireLeases();
      k.threads.wake();
    });
  }

  /** The model time at which a thinking user thread issues its next access, or Long.MAX_VALUE when none thinks. */
  public long nextThreadWake() { return k.threads.nextWake(); }

  /**
   * When {@link #tick} has work next: the earlier of {@link #nextThreadWake} and {@link #nextLeaseDeadline}
   * (Long.MAX_VALUE: none); both hosts arm their one timer here.
   */
  public long nextTick() { return Math.min(nextThreadWake(), nextLeaseDeadline()); }

  /** Whether node {@code nodeIndex} was declared gone. */
  public boolean nodeIsGone(int nodeIndex) { return k.goneNodes.contains(nodeIndex); }

  /** Whether any GPU node was declared gone ({@link #nodeGone}); false: {@link #nodeIsGone} is false for every node. */
  public boolean anyNodeGone() { return !k.goneNodes.isEmpty(); }

  /** Driver messages dropped because their node had been declared gone. */
  public long droppedFromGoneNodes() { return droppedFromGoneNodes; }

  /** Folio-lock leases of dead drivers that ran out (fault events). */
  public long leasesExpired() { return k.leasesExpired; }

  /** Leases running (grants of dead drivers not released yet). */
  public int leasesPending() { return exclusive.leaseDeadlines.size(); }

  /** The model time at which the next lease runs out, or Long.MAX_VALUE when none is running. */
  public long nextLeaseDeadline() {
    long min = Long.MAX_VALUE;
    for (long d : exclusive.leaseDeadlines.values()) min = Math.min(min, d);
    return min;
  }

  /** GPU nodes declared gone so far. */
  public long nodesGone() { return nodesGone; }

  /** A driver message from a node already declared gone (in flight when it died, or a partitioned zombie). */
  private boolean fromGoneNode(HmmProtocol.Msg msg) {
    if (k.goneNodes.isEmpty() || !Msgs.isFromDriver(msg)) return false;
    int device = Msgs.deviceIdOf(msg);
    return device >= 0 && k.goneNodes.contains(Kernel.nodeOfDevice(device));
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
    // CpuAccessDone / SyscallDone carry the model time from here to the reply (Kernel.reply stamps it).
    if (msg instanceof CpuAccess m) k.arrivedAt.put(m.reqId(), k.nowMicros);
    else if (msg instanceof Syscall m) k.arrivedAt.put(m.reqId(), k.nowMicros);
    if (msg instanceof InvalidateAck m) notifier.onInvalidateAck(m);
    else if (msg instanceof CpuAccess m) access.onCpuAccess(m);
    else if (msg instanceof HmmProtocol.CpuThreadRun m) k.threads.onCpuThreadRun(m);
    else if (msg instanceof DeviceMemoryAccess m) access.onDeviceMemoryAccess(m);
    else if (msg instanceof MakeDeviceExclusive m) exclusive.onMakeDeviceExclusive(m);
    else if (msg instanceof HmmProtocol.MakeDeviceExclusiveRange m) exclusive.onMakeDeviceExclusiveRange(m);
    else if (msg instanceof FolioUnlockPut m) exclusive.onFolioUnlockPut(m);
    else if (msg instanceof HmmRangeFault m) rangeFault.onHmmRangeFault(m);
    else if (msg instanceof HmmProtocol.UnlockFence m) k.reply(new HmmProtocol.UnlockFenceReply(m.reqId()));
    else if (msg instanceof NotifierInsert m) notifier.onNotifierInsert(m);
    else if (msg instanceof NotifierRemove m) notifier.onNotifierRemove(m);
    else if (msg instanceof HmmProtocol.MigrateVmaSetup m) migrate.onMigrateVmaSetup(m);
    else if (msg instanceof HmmProtocol.MigrateVmaPages m) migrate.onMigrateVmaPages(m);
    else if (msg instanceof HmmProtocol.MigrateVmaFinalize m) migrate.onMigrateVmaFinalize(m);
    else if (msg instanceof HmmProtocol.MigrateToRamDone m) migrate.onMigrateToRamDone(m);
    else if (msg instanceof Syscall m) access.asThread(m.threadId(), () -> syscalls.onSyscall(m));
    else if (msg instanceof HmmProtocol.InspectPage m) onInspectPage(m);
    else if (msg instanceof HmmProtocol.InspectFolio m) onInspectFolio(m);
    else if (msg instanceof HmmProtocol.InspectNotifier m) k.reply(notifier.inspect(m));
    else if (msg instanceof HmmProtocol.KthreadFolioLock m) kthreads.onLock(m);
    else if (msg instanceof HmmProtocol.KthreadFolioUnlock m) kthreads.onUnlock(m);
    else if (msg instanceof HmmProtocol.ResetNode m) onResetNode(m);
    else throw new IllegalStateException("CPU node does not handle " + msg.getClass().getSimpleName());
  }

  /**
   * The link may deliver a message twice; a request is carried out at most once. A duplicate is an equal record
   * (same type, reqId and arguments), so requesters that reuse a reqId for different requests are not affected.
   *
   * <p>Only the requester's last request needs remembering: the one way a request reaches the core twice is the raw
   * link's duplication (with the data link layer on, the receiver drops replayed copies by sequence number), and
   * the raw link hands both copies of a message over back to back on its direction (ModeledLink: one Pending with
   * two copies, handed over under the link's lock), so nothing from the same requester comes between them. Every
   * requester numbers its requests uniquely (a device: {@code deviceId << 40 | n}, kept across device resets; the
   * controller: one counter), so two equal requests are always two copies of one message.
   */
  private boolean isDuplicateRequest(HmmProtocol.Msg msg) {
    if (msg instanceof HmmProtocol.ResetNode m) return !seenResets.add(m.reqId());
    boolean request = msg instanceof MakeDeviceExclusive || msg instanceof HmmProtocol.MakeDeviceExclusiveRange
        || msg instanceof CpuAccess || msg instanceof HmmProtocol.CpuThreadRun || msg instanceof HmmRangeFault
        || msg instanceof DeviceMemoryAccess || msg instanceof Syscall || msg instanceof HmmProtocol.MigrateVmaSetup
        || msg instanceof HmmProtocol.MigrateVmaPages || msg instanceof HmmProtocol.MigrateVmaFinalize
        || msg instanceof HmmProtocol.KthreadFolioLock || msg instanceof HmmProtocol.KthreadFolioUnlock
        || msg instanceof HmmProtocol.UnlockFence;
    if (!request) return false;
    int requester = Msgs.deviceIdOf(msg);
    if (msg.equals(lastRequest.get(requester))) return true;
    lastRequest.put(requester, msg);
    return false;
  }

  // ====================================================================================== accessors

  /**
   * The sizes of the core's internal collections, by name (per-mm and per-folio collections summed): what a
   * long run retains. For tests that check that nothing grows with the number of operations carried out.
   */
  Map<String, Integer> collectionSizes() {
    Map<String, Integer> s = new TreeMap<>();
    s.put("lastRequest", lastRequest.size());
    s.put("seenResets", seenResets.size());
    s.put("goneNodes", k.goneNodes.size());
    s.put("runQueue", k.runQueue.size());
    s.put("cpuThreadLoops", k.threads.running());
    s.put("mms", k.mms.size());
    int ptes = 0, vmas = 0, hit = 0, deferred = 0, mmapWaiters = 0;
    for (Mm mm : k.mms.values()) {
      ptes += mm.ptes.size();
      vmas += mm.vmas.size();
      hit += mm.hitThisPeriod.size();
      deferred += mm.deferredInserts.size() + mm.deferredRemoves.size();
      mmapWaiters += mm.mmapWaiters.size();
    }
    s.put("mm.ptes", ptes);
    s.put("mm.vmas", vmas);
    s.put("mm.hitThisPeriod", hit);
    s.put("mm.deferred", deferred);
    s.put("mm.mmapWaiters", mmapWaiters);
    s.put("folios", folios.count());
    int waiters = 0;
    for (Folio f : folios.all()) waiters += f.waiterCount();
    s.put("folio.waiters", waiters);
    s.put("exclusiveHolder", folios.exclusiveHolder.size());
    s.put("subscriptions", notifier.subscriptions.size());
    s.put("insertedSubIds", notifier.insertedSubIds.size());
    s.put("invalidations", notifier.invalidations.size());
    s.put("grants", exclusive.grants.size());
    s.put("leaseDeadlines", exclusive.leaseDeadlines.size());
    s.put("spinners", access.spinners.size());
    s.put("migrations", migrate.migrations.size());
    s.put("migrateToRamCalls", migrate.faultCalls.size());
    s.put("livelocked", migrate.livelocked.size() + migrate.fruitless.size());
    s.put("arrivedAt", k.arrivedAt.size());
    s.put("kthreads", kthreads.held.size() + kthreads.waiting.size());
    return s;
  }

  public ModelSwitches switches() { return k.switches; }

  /** The PTE mapping va in mm (Pte.NONE when none or the mm is unknown). */
  public Pte pte(int mmId, long va) {
    Mm mm = k.mms.get(mmId);
    return mm == null ? Pte.NONE : mm.pte(Page.alignDown(va));
  }

  /** pmd_trans_huge(): va of mm is mapped by a huge PMD (false when the mm is unknown). */
  public boolean hugePmd(int mmId, long va) {
    Mm mm = k.mms.get(mmId);
    return mm != null && mm.pmdMapped(Page.alignDown(va));
  }

  /** The mm_struct itself, for tests of this package (null when unknown). */
  Mm mmForTest(int mmId) { return k.mms.get(mmId); }

  /** The folio itself, for tests of this package. */
  Folio folioForTest(long pfn) { return folios.byPfn(pfn); }

  /** A snapshot of the folio at pfn (freed folios included), if it was ever allocated. */
  public Optional<FolioView> folio(long pfn) {
    Folio f = folios.byPfn(pfn);
    return f == null ? Optional.empty() : Optional.of(f.view());
  }

  /** Word {@code index} of the page at pfn (also after it was freed); 0 for an unknown pfn. */
  public long word(long pfn, int index) {
    Folio f = folios.byPfn(pfn);
    return f == null ? 0 : f.word(index);
  }

  /** The VMA containing va, if any. */
  public Optional<VmaView> vma(int mmId, long va) {
    Mm mm = k.mms.get(mmId);
    Vma v = mm == null ? null : mm.findVma(va);
    return v == null ? Optional.empty() : Optional.of(v.view());
  }

  /** All VMAs of mm in address order. */
  public List<VmaView> vmas(int mmId) {
    Mm mm = k.mms.get(mmId);
    List<VmaView> out = new ArrayList<>();
    if (mm != null) for (Vma v : mm.vmas.values()) out.add(v.view());
    return out;
  }

  /** All non-none PTEs of mm by page address. */
  public Map<Long, Pte> ptes(int mmId) {
    Mm mm = k.mms.get(mmId);
    return mm == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(mm.ptes.snapshot()));
  }

  public boolean hasMm(int mmId) { return k.mms.containsKey(mmId); }

  /** The mm's invalidate_seq (2 for an unknown mm). */
  public long globalSeq(int mmId) {
    Mm mm = k.mms.get(mmId);
    return mm == null ? 2 : mm.seq;
  }

  /**
   * get_mm_counter(mm, MM_ANONPAGES) and MM_SWAPENTS, computed from the page table: {anonymous pages mapped by a
   * PRESENT or DEVEXCL PTE (the zero page excluded), swap entries}. try_to_unmap_one moves a page from the first
   * to the second (reclaim: "rss falls"), do_swap_page back.
   */
  public long[] rss(int mmId) {
    Mm mm = k.mms.get(mmId);
    long anon = 0;
    long swap = 0;
    if (mm != null) {
      for (Pte p : mm.ptes.snapshot().values()) {
        if (p.state() == PteState.SWAP) {
          swap++;
        } else if (p.state() == PteState.PRESENT || p.state() == PteState.DEVEXCL) {
          Folio f = folios.byPfn(p.pfn());
          if (f != null && !f.zero && f.anon) anon++;
        }
      }
    }
    return new long[] {anon, swap};
  }

  /** The mm's active_invalidate_ranges. */
  public int activeInvalidations(int mmId) {
    Mm mm = k.mms.get(mmId);
    return mm == null ? 0 : mm.active;
  }

  /** The seq the core last told interval subscription subId (its initial seq or the last curSeq), if live. */
  public Optional<Long> subscriptionSeq(long subId) {
    Subscription s = notifier.subscriptions.get(subId);
    return s == null ? Optional.empty() : Optional.of(s.seq);
  }

  public boolean subscriptionLive(long subId) { return notifier.subscriptions.containsKey(subId); }

  /** Successful make_device_exclusive calls still waiting for their FolioUnlockPut. */
  public int outstandingGrants() { return exclusive.grants.size(); }

  /** FolioUnlockPut messages for an unknown or already completed reqId (ignored). */
  public long duplicateUnlockPuts() { return exclusive.duplicateUnlockPuts; }

  /** FolioUnlockPut messages whose pfn differs from the call's (ignored, the grant stays outstanding). */
  public long mismatchedUnlockPuts() { return exclusive.mismatchedUnlockPuts; }

  /** InvalidateAck(ok=false) for a blockable invalidation (the kernel WARNs and continues; so do we). */
  public long blockableAckFailures() { return notifier.blockableAckFailures; }

  /** Requests delivered more than once (equal records) and ignored after the first. */
  public long duplicateRequests() { return duplicateRequests; }

  /** NotifierInsert for a subId inserted before (live, deferred or removed), ignored. */
  public long duplicateInserts() { return notifier.duplicateInserts; }

  /** DeviceMemoryAccess to a pfn that was never allocated (answered with 0). */
  public long unknownPfnAccesses() { return access.unknownPfnAccesses; }

  /** Invalidations between start and end, over all mms. */
  public int invalidationsInFlight() { return notifier.invalidations.size(); }

  /** Touches made by spinning threads right after a conversion of their page. */
  public long spinTouches() { return access.spinTouches(); }

  /** migrate_vma_setup() calls not finalized yet. */
  public int migrationsInFlight() { return migrate.migrations.size(); }

  /** do_swap_page() calls waiting for a driver's migrate_to_ram(). */
  public int migrateToRamInFlight() { return migrate.faultCalls.size(); }

  /** The folio (pfn) whose lock kernel thread {@code kthread} holds, or -1 (KthreadFolioLock). */
  public long kthreadHolds(String kthread) {
    Folio f = kthreads.held.get(kthread);
    return f == null ? -1 : f.pfn;
  }

  /** The device that last converted pfn to device-exclusive, or -1. */
  public int exclusiveHolder(long pfn) { return folios.exclusiveHolder.getOrDefault(pfn, -1); }

  // =================================================================================== control

  private void onInspectPage(HmmProtocol.InspectPage m) {
    Pte p = pte(m.mmId(), m.va());
    Folio f = p.state() == PteState.NONE ? null : folios.byPfn(p.pfn());
    k.reply(new HmmProtocol.PageInfo(m.reqId(), p.state(), p.pfn(), p.write(), p.dirty(), p.young(),
        f != null && f.locked(), f == null ? 0 : f.refcount, f == null ? 0 : f.mapcount, f != null && f.dirty,
        f != null && f.anonExclusive, f == null ? 0 : f.word(0), wordList(f)));
  }

  /** The folio at a pfn, mapped or not (a driver's folio_get keeps an unmapped folio alive); pte is NONE. */
  private void onInspectFolio(HmmProtocol.InspectFolio m) {
    Folio f = folios.byPfn(m.pfn());
    k.reply(new HmmProtocol.PageInfo(m.reqId(), PteState.NONE, f == null ? 0 : m.pfn(), false, false, false,
        f != null && f.locked(), f == null ? 0 : f.refcount, f == null ? 0 : f.mapcount, f != null && f.dirty,
        f != null && f.anonExclusive, f == null ? 0 : f.word(0), wordList(f)));
  }

  /**
   * Emulator-only host mechanism: a folio's words as an InspectPage/InspectFolio reply carries them (empty without a
   * folio), built in one array (a growing ArrayList and a copy of it were a fifth of a scenario file's simulation), in one
   * pass over the folio's stored words ({@link Folio#wordList}).
   */
  private static List<Long> wordList(Folio f) {
    return f == null ? List.of() : f.wordList();
  }

  private void onResetNode(HmmProtocol.ResetNode m) {
    reset(m.switches());
    k.reply(new HmmProtocol.ResetDone(m.reqId(), 0));
  }
}
