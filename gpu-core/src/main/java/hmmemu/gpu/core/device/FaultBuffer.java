package hmmemu.gpu.core.device;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * The warps' outstanding accesses, the replayable fault buffer and nouveau's fault worker (nouveau_svm_fault,
 * docs/PROTOCOL.md §4.1): batch, sort, sticky atomic flag, skip of satisfied duplicates, cancel, REPLAY.
 *
 * <p>It never calls a driver: each method that may hand a fault to the driver returns it as a {@link Handover}
 * (null: nothing to handle now), and the caller reports the result with {@link #onFaultHandled}. Whether a fault
 * comes from an SVM channel (a bound nouveau svmm) is asked through the {@code svmBound} predicate passed in.
 */
public final class FaultBuffer {
  /** NVIF_VMM_PFNMAP_V0_{V,W,A}: the bits of the last GPU PTE update (nouveau's args.phys[0]). */
  public static final int PHYS_V = 1;
  public static final int PHYS_W = 2;
  public static final int PHYS_A = 4;

  /**
   * One fault the worker hands to nouveau_atomic_range_fault() ({@code atomic}) or nouveau_range_fault().
   *
   * @param hmmFlags HMM_PFN_REQ_FAULT, with HMM_PFN_REQ_WRITE unless the access is a READ
   */
  public record Handover(WarpAccess fault, boolean atomic, int hmmFlags) {}

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
   * nouveau_svm_fault_cmp(): by instance (here mm), address, then nouveau_svm_fault_priority() ASCENDING
   * (PREFETCH 0 < READ 1 < WRITE 2 < ATOMIC 3): at one address the least severe fault comes first. Its handling
   * decides (by its own access, see {@link #onFaultHandled}) whether the later, more severe faults of the page are
   * skipped; skipped ones fault again after the replay. nouveau's comment "WRITE faults appear first" is stale;
   * the comparator decides. The kernel's sort() is not stable; equal faults keep arrival order here.
   */
  private static final Comparator<WarpAccess> FAULT_ORDER = Comparator
      .comparingInt((WarpAccess f) -> f.mmId)
      .thenComparingLong(WarpAccess::page)
      .thenComparingInt(f -> priority(f.access))
      .thenComparingLong(f -> f.arrival);

  /** nouveau_svm_fault_priority(): PREFETCH 0 (not modelled), READ 1, WRITE 2, ATOMIC 3. */
  static int priority(Access access) {
    switch (access) {
      case READ: return 1;
      case WRITE: return 2;
      case ATOMIC: return 3;
      default: throw new IllegalStateException("unknown access " + access);
    }
  }

  private final int deviceId;
  private final StepContext ctx;
  private final DevicePageTable pageTable;
  /** The warps' loops (WarpRun): an access of theirs ends there instead of in a reply to a requester. */
  private final Warps loops;
  private long arrivalCounter;
  private final Map<Long, WarpAccess> warps = new HashMap<>();
  /** Host accesses of warps in flight: host reqId -> warp. */
  private final Map<Long, WarpAccess> warpHostAccesses = new HashMap<>();
  private final List<WarpAccess> faultBuffer = new ArrayList<>();
  /** The nouveau fault worker: null when idle (transitions: null -> batch when faults wait -> null). */
  private FaultBatch batch;

  private long faults;
  private long driverIterations;
  private long driverIterationsMax;
  private long driverTimeouts;
  private long cancels;
  private long replays;
  private long faultsHandled;

  public FaultBuffer(int deviceId, StepContext ctx, DevicePageTable pageTable, Warps loops) {
    this.deviceId = deviceId;
    this.ctx = ctx;
    this.pageTable = pageTable;
    this.loops = loops;
  }

  // ------------------------------------------------------------------------------------------------ warps

  /** A warp issues an access; returns the fault to hand to the driver if the worker starts a batch. */
  public Handover onDeviceAccess(HmmProtocol.DeviceAccess msg, IntPredicate svmBound) {
    if (warps.containsKey(msg.reqId())) {
      throw new IllegalStateException("one outstanding access per warp: reqId " + msg.reqId() + " already pending");
    }
    if ((msg.va() & (Long.BYTES - 1)) != 0) {
      throw new IllegalStateException("device accesses are 8-byte aligned: va " + Long.toHexString(msg.va()));
    }
    WarpAccess warp = new WarpAccess(msg, ctx.nowMicros(), arrivalCounter++);
    warps.put(warp.reqId, warp);
    execute(warp);
    return startBatchIfIdle(svmBound);
  }

  /** A host access completed: true if it was a warp's (which then completes), false if someone else issued it. */
  public boolean onHostAccessDone(long hostReqId, long value) {
    WarpAccess warp = warpHostAccesses.remove(hostReqId);
    if (warp == null) return false;
    complete(warp, Errno.OK, value);
    return true;
  }

  private static boolean permits(DevicePageTable.Entry e, Access access) {
    switch (access) {
      case READ: return e.read();
      case WRITE: return e.write();
      case ATOMIC: return e.atomic();
      default: throw new IllegalStateException("unknown access " + access);
    }
  }

  /** The device executes the access: through a sufficient entry to host memory, or a replayable fault. */
  private void execute(WarpAccess warp) {
    DevicePageTable.Entry e = pageTable.entry(warp.mmId, warp.page());
    if (e != null && permits(e, warp.access)) {
      long hostReqId = pageTable.issueHostAccess(warp.mmId, warp.page(), e.pfn(), Page.wordIndex(warp.va),
          warp.access, warp.value);
      warpHostAccesses.put(hostReqId, warp);
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
    long latency = ctx.nowMicros() - warp.issuedAtMicros;
    ctx.emit(new Trace.DeviceAccessCompleted(deviceId, warp.reqId, errno, warp.faultRounds, latency));
    done(new HmmProtocol.DeviceAccessDone(warp.reqId, deviceId, errno, value, warp.faultRounds, latency));
  }

  /** An access ended: its warp's loop goes on (WarpRun), or its requester hears the DeviceAccessDone. */
  private void done(HmmProtocol.DeviceAccessDone d) {
    if (!loops.onAccessDone(d)) ctx.reply(d);
  }

  // ------------------------------------------------------------------------------------------------ nouveau worker

  /** nouveau_svm_fault(): when the worker is idle, take the whole fault buffer as one batch. */
  private Handover startBatchIfIdle(IntPredicate svmBound) {
    if (batch != null || faultBuffer.isEmpty()) return null;
    List<WarpAccess> taken = new ArrayList<>(faultBuffer);
    faultBuffer.clear();
    taken.sort(FAULT_ORDER);
    batch = new FaultBatch(taken);
    return handleNextFault(svmBound);
  }

  private Handover handleNextFault(IntPredicate svmBound) {
    FaultBatch b = batch;
    while (b.next < b.faults.size()) {
      WarpAccess fault = b.faults.get(b.next);
      if (!svmBound.test(fault.mmId)) {
        // "Cancel any faults from non-SVM channels."
        cancelFault(b, fault);
        b.next++;
        continue;
      }
      if (fault.access == Access.ATOMIC) b.atomic = true;
      int hmmFlags = fault.access == Access.READ ? HmmPfn.REQ_FAULT : HmmPfn.REQ_FAULT | HmmPfn.REQ_WRITE;
      return new Handover(fault, b.atomic, hmmFlags);
    }
    return finishBatch(b, svmBound);
  }

  /**
   * nouveau_(atomic_)range_fault() returned for the fault last handed over: skip the satisfied duplicates, cancel
   * on error, and return the next fault to hand over (null when the batch ended and no new one started).
   *
   * @param resultPhys args.phys[0] after a successful update ({@link #PHYS_V} ...), -1 when nothing was programmed
   * @param limit {@code args.i.p.addr + args.i.p.size}: faults of the same mm below it are judged satisfied (one
   *     page past the handled fault, or the end of the large page nouveau_hmm_convert_pfn() mapped)
   */
  public Handover onFaultHandled(Errno errno, int iterations, int resultPhys, long limit, IntPredicate svmBound) {
    FaultBatch b = batch;
    if (b == null) {
      throw new IllegalStateException("one fault handled at a time: handler finished outside its batch");
    }
    faultsHandled++;
    driverIterations += iterations;
    driverIterationsMax = Math.max(driverIterationsMax, iterations);
    if (errno == Errno.EBUSY) driverTimeouts++;
    if (resultPhys >= 0) b.phys = resultPhys;
    // Skip the following faults below limit (the same page, or the rest of a large page) that the update
    // satisfies, judged (as nouveau does) by the access of the fault just handled against args.phys[0].
    int fi = b.next;
    WarpAccess handled = b.faults.get(fi);
    int fn = fi + 1;
    while (fn < b.faults.size()) {
      WarpAccess f = b.faults.get(fn);
      if (f.mmId != handled.mmId || f.page() >= limit || !satisfied(handled.access, b.phys)) {
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
    return handleNextFault(svmBound);
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
  private Handover finishBatch(FaultBatch b, IntPredicate svmBound) {
    batch = null;
    if (b.replay > 0) {
      replays++;
      LinkedHashSet<WarpAccess> stalled = new LinkedHashSet<>();
      for (WarpAccess fault : b.faults) {
        if (!b.cancelled.contains(fault.reqId)) stalled.add(fault);
      }
      stalled.addAll(faultBuffer);
      for (WarpAccess fault : stalled) {
        if (warps.get(fault.reqId) == fault) execute(fault);
      }
    }
    return startBatchIfIdle(svmBound);
  }

  // ------------------------------------------------------------------------------------------------ host gone

  /**
   * The host is gone: every warp access still in flight completes with {@code errno} in arrival order; the fault
   * buffer and the worker's batch are dropped.
   */
  public void stop(Errno errno) {
    List<WarpAccess> inFlight = new ArrayList<>(warps.values());
    inFlight.sort(Comparator.comparingLong(w -> w.arrival));
    faultBuffer.clear();
    batch = null;
    warpHostAccesses.clear();
    for (WarpAccess w : inFlight) complete(w, errno, 0);
  }

  /** A warp access that arrives after the host went away fails at once. */
  public void refuse(HmmProtocol.DeviceAccess msg, Errno errno) {
    cancels++;
    ctx.emit(new Trace.DeviceAccessCompleted(deviceId, msg.reqId(), errno, 0, 0));
    done(new HmmProtocol.DeviceAccessDone(msg.reqId(), deviceId, errno, 0, 0, 0));
  }

  // ------------------------------------------------------------------------------------------------ introspection

  public int size() { return faultBuffer.size(); }

  public boolean workerIdle() { return batch == null; }

  public long faults() { return faults; }

  public long driverIterations() { return driverIterations; }

  public long driverIterationsMax() { return driverIterationsMax; }

  public long driverTimeouts() { return driverTimeouts; }

  public long cancels() { return cancels; }

  public long replays() { return replays; }

  public long faultsHandled() { return faultsHandled; }
}
