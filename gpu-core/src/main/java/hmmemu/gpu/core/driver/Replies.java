package hmmemu.gpu.core.driver;

import hmmemu.gpu.core.device.DeviceIds;
import hmmemu.gpu.core.device.StepContext;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The calls a driver makes into the CPU node's mm (make_device_exclusive(), 5.14's make_device_exclusive_range(),
 * hmm_range_fault()) and their typed
 * replies: each request parks its continuation under its reqId until the reply of that type arrives.
 */
final class Replies {
  private final DeviceIds ids;
  private final StepContext ctx;
  private final Map<Long, Consumer<HmmProtocol.MakeDeviceExclusiveReply>> exclusive = new HashMap<>();
  private final Map<Long, Consumer<HmmProtocol.MakeDeviceExclusiveRangeReply>> exclusiveRange = new HashMap<>();
  private final Map<Long, Consumer<HmmProtocol.HmmRangeFaultReply>> rangeFault = new HashMap<>();
  private final Map<Long, Consumer<HmmProtocol.MigrateVmaReply>> migrate = new HashMap<>();
  private final Map<Long, Runnable> fences = new HashMap<>();

  Replies(DeviceIds ids, StepContext ctx) {
    this.ids = ids;
    this.ctx = ctx;
  }

  void onMakeDeviceExclusiveReply(HmmProtocol.MakeDeviceExclusiveReply msg) {
    Consumer<HmmProtocol.MakeDeviceExclusiveReply> continuation = exclusive.remove(msg.reqId());
    if (continuation != null) continuation.accept(msg); // else late or duplicate reply
  }

  void onMakeDeviceExclusiveRangeReply(HmmProtocol.MakeDeviceExclusiveRangeReply msg) {
    Consumer<HmmProtocol.MakeDeviceExclusiveRangeReply> continuation = exclusiveRange.remove(msg.reqId());
    if (continuation != null) continuation.accept(msg); // else late or duplicate reply
  }

  void onHmmRangeFaultReply(HmmProtocol.HmmRangeFaultReply msg) {
    Consumer<HmmProtocol.HmmRangeFaultReply> continuation = rangeFault.remove(msg.reqId());
    if (continuation != null) continuation.accept(msg); // else late or duplicate reply
  }

  void onMigrateVmaReply(HmmProtocol.MigrateVmaReply msg) {
    Consumer<HmmProtocol.MigrateVmaReply> continuation = migrate.remove(msg.reqId());
    if (continuation != null) continuation.accept(msg); // else late or duplicate reply
  }

  void onUnlockFenceReply(HmmProtocol.UnlockFenceReply msg) {
    Runnable continuation = fences.remove(msg.reqId());
    if (continuation != null) continuation.run(); // else late or duplicate reply
  }

  /**
   * Emulator-only host mechanism: models that the caller's thread finished its unlocks before the ioctl returns. An
   * UnlockFence on the worker's lane, FIFO behind its FolioUnlockPuts; {@code then} runs when it comes back.
   */
  void unlockFence(Runnable then) {
    long reqId = ids.newReqId();
    fences.put(reqId, then);
    ctx.toCpu(new HmmProtocol.UnlockFence(reqId, ids.deviceId()));
  }

  /** migrate_vma_setup/pages/finalize request reqId was sent; its reply goes to {@code onReply}. */
  void expectMigrate(long reqId, Consumer<HmmProtocol.MigrateVmaReply> onReply) { migrate.put(reqId, onReply); }

  /** The host is gone: no reply will come. */
  void clear() {
    exclusive.clear();
    exclusiveRange.clear();
    rangeFault.clear();
    migrate.clear();
    fences.clear();
  }

  /** make_device_exclusive(mm, va, owner) under the mmap read lock; its reply carries the pfn of the locked folio. */
  IntervalReadLoop.Call<HmmProtocol.MakeDeviceExclusiveReply> makeDeviceExclusive(int mmId, long va, long owner) {
    return new IntervalReadLoop.Call<>() {
      @Override
      public void expect(long reqId, Consumer<HmmProtocol.MakeDeviceExclusiveReply> onReply) {
        exclusive.put(reqId, onReply);
      }

      @Override
      public void send(long reqId, long seq) {
        ctx.toCpu(new HmmProtocol.MakeDeviceExclusive(reqId, ids.deviceId(), mmId, va, owner));
      }

      @Override
      public Errno errno(HmmProtocol.MakeDeviceExclusiveReply reply) { return reply.errno(); }

      @Override
      public boolean busyRestarts() { return false; }
    };
  }

  /**
   * make_device_exclusive_range(mm, start, start + pageReqIds.size() pages, pages, owner) (5.14) under the mmap read
   * lock, sent now as request {@code reqId}; {@code onReply} gets its return value and pages[].
   */
  void makeDeviceExclusiveRange(long reqId, int mmId, long start, long owner, List<Long> pageReqIds,
      Consumer<HmmProtocol.MakeDeviceExclusiveRangeReply> onReply) {
    exclusiveRange.put(reqId, onReply);
    ctx.toCpu(new HmmProtocol.MakeDeviceExclusiveRange(reqId, ids.deviceId(), mmId, start, owner, pageReqIds));
  }

  /**
   * range.dev_private_owner: dmirror passes its pgmap owner (dmirror->mdevice), nouveau its drm device (its owner
   * cookie): device-private pages of that owner come back as they are, others are faulted back to system memory.
   */
  private long devPrivateOwner(Subscription sub) {
    Binding b = sub.binding;
    if (b == null) return 0;
    return b.flavour == hmmemu.protocol.model.DriverFlavour.DMIRROR ? hmmemu.protocol.msg.Ids.dmirrorPgmapOwner(
        ids.deviceId()) : b.owner;
  }

  /**
   * hmm_range_fault() over {@code flags.size()} pages from {@code from}, with range.notifier = {@code sub} and
   * range.notifier_seq = the seq of read_begin; its reply carries one hmm_pfns word per page.
   */
  IntervalReadLoop.Call<HmmProtocol.HmmRangeFaultReply> hmmRangeFault(Subscription sub, long from,
      List<Integer> flags) {
    return new IntervalReadLoop.Call<>() {
      @Override
      public void expect(long reqId, Consumer<HmmProtocol.HmmRangeFaultReply> onReply) {
        rangeFault.put(reqId, onReply);
      }

      @Override
      public void send(long reqId, long seq) {
        ctx.toCpu(new HmmProtocol.HmmRangeFault(reqId, ids.deviceId(), sub.subId, seq, sub.mmId, from, flags,
            devPrivateOwner(sub)));
      }

      @Override
      public Errno errno(HmmProtocol.HmmRangeFaultReply reply) { return reply.errno(); }

      @Override
      public boolean busyRestarts() { return true; }
    };
  }
}
