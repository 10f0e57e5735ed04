package hmmemu.gpu.core.driver;

import hmmemu.gpu.core.device.DeviceIds;
import hmmemu.gpu.core.device.DeviceMemory;
import hmmemu.gpu.core.device.DevicePageTable;
import hmmemu.gpu.core.device.FaultBuffer;
import hmmemu.gpu.core.device.StepContext;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongConsumer;

/**
 * The drivers bound on one device (nouveau_svm.c's svmm per process, lib/test_hmm.c's dmirror per open file):
 * their bindings and notifier subscriptions with the invalidate callbacks, nouveau's fault handler for the fault
 * the worker hands over, and dmirror's ioctls. The drivers call the device (page table, host accesses); the
 * device never calls them: whoever dispatches a message tells them what concerns them.
 */
public final class Drivers {
  /** nouveau's owner cookie (its drm device) is this plus the deviceId; dmirror passes NULL (0). */
  public static final long NOUVEAU_OWNER_BASE = hmmemu.protocol.msg.Ids.NOUVEAU_OWNER_BASE;

  /** nouveau_(atomic_)range_fault() returned for the fault handed over by the worker. */
  public interface FaultHandled {
    /**
     * @param resultPhys args.phys[0] after a successful update, -1 when nothing was programmed
     * @param limit {@code args.i.p.addr + args.i.p.size}: the end of the GPU mapping the update made
     */
    void handled(Errno errno, int iterations, int resultPhys, long limit);
  }

  final DeviceIds ids;
  final StepContext ctx;
  final DevicePageTable pageTable;
  final Notifiers notifiers;
  final Replies replies;
  /** The device's own memory (device-private pages), which dmirror migrates to and from. */
  final DeviceMemory deviceMemory;
  final DmirrorMigrate migrate;
  private final InvalidateCallbacks callbacks;
  private final long nouveauOwner;
  private final Map<Integer, Binding> bindings = new TreeMap<>();
  /** The dmirror copies' host accesses in flight: host reqId -> continuation with the value. */
  private final Map<Long, LongConsumer> hostAccesses = new HashMap<>();
  /** dmirror ioctls started and possibly not returned yet. */
  private final List<DmirrorIoctl> ioctls = new ArrayList<>();
  /** The nouveau fault being handled for the worker, or null. */
  private NouveauFault currentFault;

  public Drivers(DeviceIds ids, StepContext ctx, DevicePageTable pageTable) {
    this.ids = ids;
    this.ctx = ctx;
    this.pageTable = pageTable;
    this.notifiers = new Notifiers(ids, ctx);
    this.replies = new Replies(ids, ctx);
    this.callbacks = new InvalidateCallbacks(ids.deviceId(), ctx, notifiers, pageTable);
    this.deviceMemory = new DeviceMemory(ids.deviceId());
    this.migrate = new DmirrorMigrate(this);
    this.nouveauOwner = NOUVEAU_OWNER_BASE + ids.deviceId();
  }

  // ------------------------------------------------------------------------------------------------ binding

  /** nouveau_svmm_bind / open("/dev/hmm_dmirror"): the driver subscribes to the mm; MmBound once live. */
  public void onBindMm(HmmProtocol.BindMm msg) {
    int deviceId = ids.deviceId();
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
    binding.subscription = notifiers.insert(role, binding, 0, Page.TASK_SIZE, () -> {
      binding.bound = true;
      ctx.reply(new HmmProtocol.MmBound(msg.reqId(), deviceId, owner));
    });
  }

  /** True if faults of mm come from an SVM channel: a nouveau svmm is bound to it. */
  public boolean svmBound(int mmId) {
    Binding binding = bindings.get(mmId);
    return binding != null && binding.flavour == DriverFlavour.NOUVEAU && binding.bound;
  }

  // ------------------------------------------------------------------------------------------------ notifiers

  public void onNotifierInserted(HmmProtocol.NotifierInserted msg) { notifiers.onNotifierInserted(msg); }

  public void onNotifierRemoved(HmmProtocol.NotifierRemoved msg) { notifiers.onNotifierRemoved(msg); }

  public void onInvalidateStart(HmmProtocol.InvalidateStart inv) { callbacks.onInvalidateStart(inv); }

  public void onInvalidateEnd(HmmProtocol.InvalidateEnd msg) { notifiers.onInvalidateEnd(msg); }

  public void onMakeDeviceExclusiveReply(HmmProtocol.MakeDeviceExclusiveReply msg) {
    replies.onMakeDeviceExclusiveReply(msg);
  }

  public void onMakeDeviceExclusiveRangeReply(HmmProtocol.MakeDeviceExclusiveRangeReply msg) {
    replies.onMakeDeviceExclusiveRangeReply(msg);
  }

  public void onHmmRangeFaultReply(HmmProtocol.HmmRangeFaultReply msg) { replies.onHmmRangeFaultReply(msg); }

  public void onMigrateVmaReply(HmmProtocol.MigrateVmaReply msg) { replies.onMigrateVmaReply(msg); }

  /** Emulator-only: the CPU node handled this device's worker messages sent before an UnlockFence. */
  public void onUnlockFenceReply(HmmProtocol.UnlockFenceReply msg) { replies.onUnlockFenceReply(msg); }

  /** pgmap->ops->migrate_to_ram() on a page of this device: dmirror_devmem_fault(). */
  public void onMigrateToRam(HmmProtocol.MigrateToRam msg) {
    Binding binding = bindings.get(msg.mmId());
    migrate.onMigrateToRam(binding != null && binding.flavour == DriverFlavour.DMIRROR ? binding : null, msg);
  }

  // ------------------------------------------------------------------------------------------------ nouveau

  /**
   * nouveau_svm_fault() calls nouveau_atomic_range_fault() or nouveau_range_fault() for the fault the worker
   * handed over; {@code onHandled} runs when it returned (in a later step).
   */
  public void handleFault(FaultBuffer.Handover handover, FaultHandled onHandled) {
    Binding binding = bindings.get(handover.fault().mmId);
    currentFault = new NouveauFault(this, binding, handover.fault(), handover.atomic(), handover.hmmFlags(),
        (handler, errno) -> {
          if (handler != currentFault) {
            throw new IllegalStateException("one fault handled at a time: handler finished outside its batch");
          }
          currentFault = null;
          onHandled.handled(errno, handler.iterations(), handler.resultPhys(), handler.mapLimit());
        });
    currentFault.start();
  }

  // ------------------------------------------------------------------------------------------------ dmirror

  /** One dmirror ioctl (HMM_DMIRROR_READ, _WRITE, _EXCLUSIVE, _CHECK_EXCLUSIVE, _SNAPSHOT). */
  public void onDmirrorCmd(HmmProtocol.DmirrorCmd cmd) {
    Binding binding = bindings.get(cmd.mmId());
    if (binding == null || binding.flavour != DriverFlavour.DMIRROR || !binding.bound) {
      throw new IllegalStateException("dmirror ioctls need an open dmirror bound to mm " + cmd.mmId()
          + " on device " + ids.deviceId());
    }
    DmirrorIoctl ioctl = new DmirrorIoctl(this, binding, cmd);
    ioctls.removeIf(DmirrorIoctl::done);
    ioctls.add(ioctl);
    ioctl.start();
  }

  /** A dmirror copy through the device: the device accesses host memory, {@code onReply} gets the old value. */
  void issueHostAccess(int mmId, long pageVa, long pfn, int wordIndex, Access access, long value,
      LongConsumer onReply) {
    hostAccesses.put(pageTable.issueHostAccess(mmId, pageVa, pfn, wordIndex, access, value), onReply);
  }

  /** A host access the drivers issued completed. */
  public void onHostAccessDone(long hostReqId, long value) {
    LongConsumer continuation = hostAccesses.remove(hostReqId);
    if (continuation != null) continuation.accept(value);
  }

  // ------------------------------------------------------------------------------------------------ host gone

  /** The host is gone: ioctls in progress return {@code errno}; nothing waits for a reply any more. */
  public void stop(Errno errno) {
    for (DmirrorIoctl ioctl : ioctls) ioctl.abort(errno);
    ioctls.clear();
    currentFault = null;
    replies.clear();
    hostAccesses.clear();
  }

  // ------------------------------------------------------------------------------------------------ introspection

  public long invalidations() { return callbacks.invalidations(); }

  /** Invalidate callbacks blocked on a driver mutex, each with the holder it waits for. */
  public void collectDeadlockSuspects(List<String> out) {
    for (Binding binding : bindings.values()) {
      DriverMutex mutex = binding.mutex;
      if (!mutex.isHeld()) continue;
      for (DriverMutex.Holder waiter : mutex.waiters()) {
        if (waiter instanceof InvalidateCallbacks.Callback) {
          out.add(waiter.describeHolder() + " waits for " + mutex.name() + " held by "
              + mutex.holder().describeHolder());
        }
      }
    }
  }
}
