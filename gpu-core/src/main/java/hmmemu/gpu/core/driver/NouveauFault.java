package hmmemu.gpu.core.driver;

import hmmemu.gpu.core.device.FaultBuffer;
import hmmemu.gpu.core.device.WarpAccess;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.Mutant;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.List;

/**
 * Models one call of nouveau_atomic_range_fault() (docs/PROTOCOL.md §4.2, V2025 form) or nouveau_range_fault() (§4.3)
 * for one fault of a batch: a temporary interval notifier "Gt" over the faulting page, then the seq loop
 * read_begin / make_device_exclusive or hmm_range_fault / svmm mutex + read_retry / map ({@link IntervalReadLoop}),
 * bounded by a deadline.
 *
 * <p>Variants selected by {@link hmmemu.protocol.model.ModelSwitches}: driverLockAcrossConversion takes the svmm
 * mutex before make_device_exclusive (C10); leakFolioOnRetry omits the retry path's folio_unlock+folio_put (the
 * bug fixed in Feb 2025, C17); brokenMapBeforeRetry programs the GPU PTE before read_retry and keeps it on retry
 * (a deliberately broken driver the checker must catch).
 */
final class NouveauFault implements DriverMutex.Holder {
  /** nouveau_(atomic_)range_fault() returned: what nouveau_svm_fault() learns. */
  interface Handled {
    void handled(NouveauFault handler, Errno errno);
  }

  /**
   * Transitions: INSERTING_WINDOW -> READ_BEGIN (NotifierInserted);
   * READ_BEGIN -> [LOCKING_BEFORE_CONVERSION ->] CONVERTING | FAULTING_RANGE (read_begin returned);
   * CONVERTING -> LOCKING_FOR_CHECK | DONE (reply; error -> DONE);
   * FAULTING_RANGE -> LOCKING_FOR_CHECK | READ_BEGIN (-EBUSY) | DONE (error);
   * LOCKING_FOR_CHECK -> READ_BEGIN (retry) | REMOVING_WINDOW (mapped); READ_BEGIN -> REMOVING_WINDOW (deadline);
   * any error -> REMOVING_WINDOW; REMOVING_WINDOW -> DONE (NotifierRemoved: mmu_interval_notifier_remove returned).
   * The states from READ_BEGIN to LOCKING_FOR_CHECK are the phases of the seq loop.
   */
  enum State {
    INSERTING_WINDOW, READ_BEGIN, LOCKING_BEFORE_CONVERSION, CONVERTING, FAULTING_RANGE, LOCKING_FOR_CHECK,
    REMOVING_WINDOW, DONE
  }

  /** Outside the seq loop: before it, in it, after it. */
  private enum Stage { INSERTING_WINDOW, LOOPING, REMOVING_WINDOW, DONE }

  private final Drivers drivers;
  private final Binding binding;
  private final WarpAccess fault;
  private final long page;
  private final boolean atomicPath;
  private final int hmmFlags;
  private final Handled onHandled;

  private Stage stage;
  private Subscription window;
  private IntervalReadLoop<?> loop;
  private long exclusiveReqId;
  private long pfn;
  /** args.phys[0] after a successful update (FaultBuffer.PHYS_*), -1 when nothing was programmed. */
  private int resultPhys = -1;
  /** args.i.p.addr + args.i.p.size: the end of what the PFNMAP ioctl covered (one page unless a large page). */
  private long mapLimit;

  NouveauFault(Drivers drivers, Binding binding, WarpAccess fault, boolean atomicPath, int hmmFlags,
      Handled onHandled) {
    this.drivers = drivers;
    this.binding = binding;
    this.fault = fault;
    this.page = fault.page();
    this.atomicPath = atomicPath;
    this.hmmFlags = hmmFlags;
    this.onHandled = onHandled;
    this.mapLimit = page + Page.SIZE;
  }

  int iterations() { return loop == null ? 1 : loop.iterations(); }

  int resultPhys() { return resultPhys; }

  /** {@code limit = args.i.p.addr + args.i.p.size} in nouveau_svm_fault(): later faults below it are satisfied. */
  long mapLimit() { return mapLimit; }

  State state() {
    switch (stage) {
      case INSERTING_WINDOW: return State.INSERTING_WINDOW;
      case REMOVING_WINDOW: return State.REMOVING_WINDOW;
      case DONE: return State.DONE;
      default: break;
    }
    if (loop.phase() == null) return State.INSERTING_WINDOW; // NotifierInserted came after the deadline
    switch (loop.phase()) {
      case READ_BEGIN: return State.READ_BEGIN;
      case LOCKING_BEFORE_CALL: return State.LOCKING_BEFORE_CONVERSION;
      case CALLING: return atomicPath ? State.CONVERTING : State.FAULTING_RANGE;
      case LOCKING_FOR_CHECK: return State.LOCKING_FOR_CHECK;
      default: throw new IllegalStateException("unknown loop phase " + loop.phase());
    }
  }

  /** deadline := now + HMM_RANGE_DEFAULT_TIMEOUT; mmu_interval_notifier_insert(Gt, [page, page + PAGE)). */
  void start() {
    long deadlineMicros = drivers.ctx.nowMicros() + drivers.ctx.switches().driverDeadlineMicros();
    stage = Stage.INSERTING_WINDOW;
    window = drivers.notifiers.insert(Subscription.Role.NOUVEAU_FAULT_WINDOW, binding, page, page + Page.SIZE,
        () -> {
          stage = Stage.LOOPING;
          loop.start();
        });
    loop = atomicPath ? atomicLoop(deadlineMicros) : rangeLoop(deadlineMicros);
  }

  // ---------------------------------------------------------------------------------------- atomic path (§4.2)

  /**
   * (c) make_device_exclusive(mm, addr, owner = drm device) under the mmap read lock; (d) under the svmm mutex:
   * read_retry -> (e) retry, or program V|W|A|HOST and release everything.
   */
  private IntervalReadLoop<HmmProtocol.MakeDeviceExclusiveReply> atomicLoop(long deadlineMicros) {
    var call = drivers.replies.makeDeviceExclusive(binding.mmId, page, binding.owner);
    boolean lockAcross = drivers.ctx.switches().driverLockAcrossConversion();
    boolean broken = drivers.ctx.switches().brokenMapBeforeRetry();
    boolean unlockFirst = drivers.ctx.switches().has(Mutant.DRIVER_UNLOCK_BEFORE_MAP); // mutant: unlock, then map
    return new IntervalReadLoop<>(drivers.ids, drivers.ctx, drivers.notifiers, window, binding.mutex, this,
        lockAcross, deadlineMicros, call, new IntervalReadLoop.Body<>() {
          @Override
          public void callingUnderLock(long reqId) {
            drivers.ctx.emit(new Trace.DriverLockHeldAcross(drivers.ids.deviceId(), binding.mmId, page,
                binding.mutex.name(), "make_device_exclusive", reqId));
          }

          @Override
          public void replied(HmmProtocol.MakeDeviceExclusiveReply reply) {
            exclusiveReqId = reply.reqId();
            pfn = reply.pfn();
          }

          @Override
          public void beforeRetryCheck(HmmProtocol.MakeDeviceExclusiveReply reply, long seq) {
            if (broken) drivers.pageTable.install(binding.mmId, page, pfn, true, true, true, window.subId, seq);
          }

          @Override
          public void retrying(HmmProtocol.MakeDeviceExclusiveReply reply) {
            if (!drivers.ctx.switches().leakFolioOnRetry()) {
              drivers.ctx.toCpu(new HmmProtocol.FolioUnlockPut(exclusiveReqId, drivers.ids.deviceId(), pfn));
            }
          }

          @Override
          public Errno update(HmmProtocol.MakeDeviceExclusiveReply reply, long seq) {
            if (unlockFirst) drivers.ctx.toCpu(new HmmProtocol.FolioUnlockPut(exclusiveReqId, drivers.ids.deviceId(), pfn));
            if (!broken) drivers.pageTable.install(binding.mmId, page, pfn, true, true, true, window.subId, seq);
            resultPhys = FaultBuffer.PHYS_V | FaultBuffer.PHYS_W | FaultBuffer.PHYS_A;
            return Errno.OK;
          }

          @Override
          public void ended(IntervalReadLoop.End how, Errno errno) {
            switch (how) {
              case TIMED_OUT:
                finish(Errno.EBUSY);
                break;
              case CALL_FAILED:
                finish(Errno.EINVAL); // IS_ERR(page) -> -EINVAL: the fault is cancelled
                break;
              default:
                // folio_unlock(); folio_put(); then out: mmu_interval_notifier_remove(Gt), with nothing in between.
                stage = Stage.REMOVING_WINDOW;
                if (unlockFirst) drivers.notifiers.remove(window, () -> done(Errno.OK)); // unlocked in update()
                else drivers.notifiers.unlockPutAndRemove(exclusiveReqId, pfn, window, () -> done(Errno.OK));
            }
          }
        });
  }

  // ---------------------------------------------------------------------------------------- range path (§4.3)

  /** hmm_range_fault, then under the svmm mutex: read_retry, nouveau_hmm_convert_pfn() + the PFNMAP ioctl. */
  private IntervalReadLoop<HmmProtocol.HmmRangeFaultReply> rangeLoop(long deadlineMicros) {
    var call = drivers.replies.hmmRangeFault(window, page, List.of(hmmFlags));
    boolean broken = drivers.ctx.switches().brokenMapBeforeRetry();
    return new IntervalReadLoop<>(drivers.ids, drivers.ctx, drivers.notifiers, window, binding.mutex, this, false,
        deadlineMicros, call, new IntervalReadLoop.Body<>() {
          @Override
          public void replied(HmmProtocol.HmmRangeFaultReply reply) {
            if (reply.hmmPfns().size() != 1) {
              throw new IllegalStateException("hmm_range_fault answers one word per page: got "
                  + reply.hmmPfns().size());
            }
          }

          @Override
          public void beforeRetryCheck(HmmProtocol.HmmRangeFaultReply reply, long seq) {
            if (broken) map(reply.hmmPfns().get(0), seq);
          }

          @Override
          public Errno update(HmmProtocol.HmmRangeFaultReply reply, long seq) {
            long word = reply.hmmPfns().get(0);
            if (!broken) map(word, seq);
            boolean valid = valid(word);
            boolean writable = valid && (word & HmmPfn.WRITE) != 0;
            resultPhys = valid ? (FaultBuffer.PHYS_V | (writable ? FaultBuffer.PHYS_W : 0)) : 0;
            return Errno.OK;
          }

          @Override
          public void ended(IntervalReadLoop.End how, Errno errno) { finish(errno); }
        });
  }

  private static boolean valid(long word) { return (word & HmmPfn.VALID) != 0 && (word & HmmPfn.ERROR) == 0; }

  /**
   * nouveau_hmm_convert_pfn() + the PFNMAP ioctl: V, plus W for a writable pfn; nothing for an invalid one. When
   * the CPU maps the page with a map order (a PMD-mapped THP: {@code hmm_pfn_to_map_order}), nouveau maps the whole
   * naturally aligned 2^order pages as one GPU page ({@code args->p.page = order + PAGE_SHIFT}, {@code p.addr}
   * aligned down, {@code page -= (addr - p.addr) >> PAGE_SHIFT}: the folio's pages have consecutive pfns); the
   * emulated device keeps 4 KiB entries, so it installs one per page of the large page.
   */
  private void map(long word, long seq) {
    if (!valid(word)) return;
    boolean writable = (word & HmmPfn.WRITE) != 0;
    int order = HmmPfn.mapOrder(word);
    long size = Page.SIZE << order;
    long start = page & -size;
    long headPfn = HmmPfn.pfn(word) - (page - start) / Page.SIZE;
    for (long i = 0; i < size / Page.SIZE; i++) {
      drivers.pageTable.install(binding.mmId, start + i * Page.SIZE, headPfn + i, true, writable, false, window.subId,
          seq);
    }
    mapLimit = start + size;
  }

  // ---------------------------------------------------------------------------------------- common

  /**
   * out: mmu_interval_notifier_remove(Gt), which sleeps while an invalidation of the mm is running (the
   * replay of the fault batch therefore comes after it); then return the result to nouveau_svm_fault().
   */
  private void finish(Errno errno) {
    stage = Stage.REMOVING_WINDOW;
    drivers.notifiers.remove(window, () -> done(errno));
  }

  private void done(Errno errno) {
    if (stage != Stage.REMOVING_WINDOW) {
      throw new IllegalStateException("nouveau fault loop order: expected " + State.REMOVING_WINDOW + " but in "
          + state() + " (" + describeHolder() + ")");
    }
    stage = Stage.DONE;
    drivers.ctx.emit(new Trace.DriverFaultHandled(drivers.ids.deviceId(), binding.mmId, page, fault.access,
        iterations(), errno));
    onHandled.handled(this, errno);
  }

  @Override
  public String describeHolder() {
    State state = state();
    String what;
    switch (state) {
      case CONVERTING:
        what = "MakeDeviceExclusive (req " + loop.pendingReqId() + ")";
        break;
      case FAULTING_RANGE:
        what = "HmmRangeFault (req " + loop.pendingReqId() + ")";
        break;
      case READ_BEGIN:
        what = "read_begin on sub " + Long.toHexString(window.subId);
        break;
      case REMOVING_WINDOW:
        what = "mmu_interval_notifier_remove of sub " + Long.toHexString(window.subId);
        break;
      case LOCKING_FOR_CHECK:
      case LOCKING_BEFORE_CONVERSION:
        what = "the svmm mutex";
        break;
      default:
        what = state.name();
    }
    return String.format("fault on page %#x (mm %d, device %d, %s path, iteration %d), which waits for %s", page,
        binding.mmId, drivers.ids.deviceId(), atomicPath ? "atomic" : "range", iterations(), what);
  }
}
