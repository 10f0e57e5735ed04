package hmmemu.gpu.core;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.List;

/**
 * Models one call of nouveau_atomic_range_fault() (PROTOCOL.md §4.2, V2025 form) or nouveau_range_fault() (§4.3)
 * for one fault of a batch: a temporary interval notifier "Gt" over the faulting page, then the seq loop
 * read_begin / make_device_exclusive or hmm_range_fault / svmm mutex + read_retry / map, bounded by a deadline.
 *
 * <p>Variants selected by {@link hmmemu.protocol.model.ModelSwitches}: driverLockAcrossConversion takes the svmm
 * mutex before make_device_exclusive (C10); leakFolioOnRetry omits the retry path's folio_unlock+folio_put (the
 * bug fixed in Feb 2025, C17); brokenMapBeforeRetry programs the GPU PTE before read_retry and keeps it on retry
 * (a deliberately broken driver the checker must catch).
 */
final class NouveauFault implements DriverMutex.Holder {
  /**
   * Transitions: INSERTING_WINDOW -> READ_BEGIN (NotifierInserted);
   * READ_BEGIN -> [LOCKING_BEFORE_CONVERSION ->] CONVERTING | FAULTING_RANGE (read_begin returned);
   * CONVERTING -> LOCKING_FOR_CHECK | DONE (reply; error -> DONE);
   * FAULTING_RANGE -> LOCKING_FOR_CHECK | READ_BEGIN (-EBUSY) | DONE (error);
   * LOCKING_FOR_CHECK -> READ_BEGIN (retry) | REMOVING_WINDOW (mapped); READ_BEGIN -> REMOVING_WINDOW (deadline);
   * any error -> REMOVING_WINDOW; REMOVING_WINDOW -> DONE (NotifierRemoved: mmu_interval_notifier_remove returned).
   */
  enum State {
    INSERTING_WINDOW, READ_BEGIN, LOCKING_BEFORE_CONVERSION, CONVERTING, FAULTING_RANGE, LOCKING_FOR_CHECK,
    REMOVING_WINDOW, DONE
  }

  private final Device device;
  private final StepContext ctx;
  private final Binding binding;
  private final WarpAccess fault;
  private final long page;
  private final boolean atomicPath;
  private final int hmmFlags;

  private State state;
  private long deadlineMicros;
  private Subscription window;
  private long seq;
  private int iterations = 1;
  private boolean holdsMutex;
  private long exclusiveReqId;
  private long pfn;
  private long pendingReqId;
  /** args.phys[0] after a successful update (Device.PHYS_*), -1 when nothing was programmed. */
  private int resultPhys = -1;

  NouveauFault(Device device, StepContext ctx, Binding binding, WarpAccess fault, boolean atomicPath, int hmmFlags) {
    this.device = device;
    this.ctx = ctx;
    this.binding = binding;
    this.fault = fault;
    this.page = fault.page();
    this.atomicPath = atomicPath;
    this.hmmFlags = hmmFlags;
  }

  int iterations() { return iterations; }

  int resultPhys() { return resultPhys; }

  State state() { return state; }

  /** deadline := now + HMM_RANGE_DEFAULT_TIMEOUT; mmu_interval_notifier_insert(Gt, [page, page + PAGE)). */
  void start() {
    deadlineMicros = ctx.nowMicros + ctx.switches.driverDeadlineMicros();
    state = State.INSERTING_WINDOW;
    window = device.insertSubscription(Subscription.Role.NOUVEAU_FAULT_WINDOW, binding, page, page + Page.SIZE,
        this::loop);
  }

  /** Top of the loop: (a) deadline, (b) read_begin (sleeps while an invalidation of Gt is in flight). */
  private void loop() {
    if (ctx.nowMicros > deadlineMicros) {
      finish(Errno.EBUSY);
      return;
    }
    state = State.READ_BEGIN;
    device.readBegin(window, s -> {
      expect(State.READ_BEGIN);
      seq = s;
      if (!atomicPath) {
        sendRangeFault();
      } else if (ctx.switches.driverLockAcrossConversion()) {
        state = State.LOCKING_BEFORE_CONVERSION;
        binding.mutex.lock(this, () -> {
          holdsMutex = true;
          sendMakeDeviceExclusive();
        });
      } else {
        sendMakeDeviceExclusive();
      }
    });
  }

  // ---------------------------------------------------------------------------------------- atomic path (§4.2)

  /** (c) make_device_exclusive(mm, addr, owner = drm device) under the mmap read lock. */
  private void sendMakeDeviceExclusive() {
    state = State.CONVERTING;
    pendingReqId = device.newReqId();
    device.expectReply(pendingReqId, this::onExclusiveReply);
    if (holdsMutex) {
      ctx.emit(new Trace.DriverLockHeldAcross(device.deviceId, binding.mmId, page, binding.mutex.name(),
          "make_device_exclusive", pendingReqId));
    }
    ctx.toCpu(new HmmProtocol.MakeDeviceExclusive(pendingReqId, device.deviceId, binding.mmId, page, binding.owner));
  }

  private void onExclusiveReply(HmmProtocol.Msg msg) {
    expect(State.CONVERTING);
    HmmProtocol.MakeDeviceExclusiveReply reply = (HmmProtocol.MakeDeviceExclusiveReply) msg;
    if (reply.errno() != Errno.OK) {
      releaseMutexIfHeld();
      finish(Errno.EINVAL); // IS_ERR(page) -> -EINVAL: the fault is cancelled
      return;
    }
    exclusiveReqId = reply.reqId();
    pfn = reply.pfn();
    if (holdsMutex) {
      checkAndMapAtomic();
    } else {
      state = State.LOCKING_FOR_CHECK;
      binding.mutex.lock(this, () -> {
        holdsMutex = true;
        checkAndMapAtomic();
      });
    }
  }

  /** (d) under the svmm mutex: read_retry -> (e) retry, or program V|W|A|HOST and release everything. */
  private void checkAndMapAtomic() {
    state = State.LOCKING_FOR_CHECK;
    boolean broken = ctx.switches.brokenMapBeforeRetry();
    if (broken) device.install(binding.mmId, page, pfn, true, true, true, window.subId, seq);
    if (device.readRetry(window, seq)) {
      releaseMutexIfHeld();
      if (!ctx.switches.leakFolioOnRetry()) {
        ctx.toCpu(new HmmProtocol.FolioUnlockPut(exclusiveReqId, device.deviceId, pfn));
      }
      iterations++;
      loop();
      return;
    }
    if (!broken) device.install(binding.mmId, page, pfn, true, true, true, window.subId, seq);
    resultPhys = Device.PHYS_V | Device.PHYS_W | Device.PHYS_A;
    releaseMutexIfHeld();
    // folio_unlock(); folio_put(); then out: mmu_interval_notifier_remove(Gt), with nothing in between.
    state = State.REMOVING_WINDOW;
    device.unlockPutAndRemove(exclusiveReqId, pfn, window, () -> done(Errno.OK));
  }

  // ---------------------------------------------------------------------------------------- range path (§4.3)

  private void sendRangeFault() {
    state = State.FAULTING_RANGE;
    pendingReqId = device.newReqId();
    device.expectReply(pendingReqId, this::onRangeFaultReply);
    ctx.toCpu(new HmmProtocol.HmmRangeFault(pendingReqId, device.deviceId, window.subId, seq, binding.mmId, page,
        List.of(hmmFlags)));
  }

  private void onRangeFaultReply(HmmProtocol.Msg msg) {
    expect(State.FAULTING_RANGE);
    HmmProtocol.HmmRangeFaultReply reply = (HmmProtocol.HmmRangeFaultReply) msg;
    if (reply.errno() == Errno.EBUSY) {
      iterations++;
      loop();
      return;
    }
    if (reply.errno() != Errno.OK) {
      finish(reply.errno());
      return;
    }
    if (reply.hmmPfns().size() != 1) {
      throw new IllegalStateException("hmm_range_fault answers one word per page: got " + reply.hmmPfns().size());
    }
    long word = reply.hmmPfns().get(0);
    state = State.LOCKING_FOR_CHECK;
    binding.mutex.lock(this, () -> {
      holdsMutex = true;
      checkAndMapRange(word);
    });
  }

  /** Under the svmm mutex: read_retry, then nouveau_hmm_convert_pfn() + the PFNMAP ioctl. */
  private void checkAndMapRange(long word) {
    boolean valid = (word & HmmPfn.VALID) != 0 && (word & HmmPfn.ERROR) == 0;
    boolean writable = valid && (word & HmmPfn.WRITE) != 0;
    boolean broken = ctx.switches.brokenMapBeforeRetry();
    if (broken && valid) {
      device.install(binding.mmId, page, HmmPfn.pfn(word), true, writable, false, window.subId, seq);
    }
    if (device.readRetry(window, seq)) {
      releaseMutexIfHeld();
      iterations++;
      loop();
      return;
    }
    if (!broken && valid) {
      device.install(binding.mmId, page, HmmPfn.pfn(word), true, writable, false, window.subId, seq);
    }
    resultPhys = valid ? (Device.PHYS_V | (writable ? Device.PHYS_W : 0)) : 0;
    releaseMutexIfHeld();
    finish(Errno.OK);
  }

  // ---------------------------------------------------------------------------------------- common

  private void releaseMutexIfHeld() {
    if (holdsMutex) {
      holdsMutex = false;
      binding.mutex.unlock(this);
    }
  }

  /**
   * out: mmu_interval_notifier_remove(Gt), which sleeps while an invalidation of the mm is running (the
   * replay of the fault batch therefore comes after it); then return the result to nouveau_svm_fault().
   */
  private void finish(Errno errno) {
    state = State.REMOVING_WINDOW;
    device.removeSubscription(window, () -> done(errno));
  }

  private void done(Errno errno) {
    expect(State.REMOVING_WINDOW);
    state = State.DONE;
    ctx.emit(new Trace.DriverFaultHandled(device.deviceId, binding.mmId, page, fault.access, iterations, errno));
    device.onFaultHandled(this, errno);
  }

  private void expect(State expected) {
    if (state != expected) {
      throw new IllegalStateException("nouveau fault loop order: expected " + expected + " but in " + state
          + " (" + describeHolder() + ")");
    }
  }

  @Override
  public String describeHolder() {
    String what;
    switch (state) {
      case CONVERTING:
        what = "MakeDeviceExclusive (req " + pendingReqId + ")";
        break;
      case FAULTING_RANGE:
        what = "HmmRangeFault (req " + pendingReqId + ")";
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
        binding.mmId, device.deviceId, atomicPath ? "atomic" : "range", iterations, what);
  }
}
