package hmmemu.gpu.core;

import hmmemu.gpu.core.device.DeviceIds;
import hmmemu.gpu.core.device.DevicePageTable;
import hmmemu.gpu.core.device.FaultBuffer;
import hmmemu.gpu.core.device.StepContext;
import hmmemu.gpu.core.device.Warps;
import hmmemu.gpu.core.driver.Drivers;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.ArrayList;
import java.util.List;

/**
 * One emulated device with the drivers bound to it: the hardware (the device page table with its flushes, the
 * warps and the fault buffer with nouveau's fault worker, package {@code device}) and the drivers (package
 * {@code driver}). It routes each message of the device to the part it concerns and carries what one part returns
 * to the other: the fault the worker hands over goes to nouveau's handler, whose result goes back to the worker;
 * a completed host access goes to the warp or the dmirror copy that issued it, then to the pending flushes.
 *
 * <p>Implementation note: everything that waits (for NotifierInserted, a reply, InvalidateEnd, a mutex) is a
 * parked continuation; a later step resumes it. Every state change emits its trace event in the same step.
 */
final class Device {
  final int deviceId;
  private final DeviceIds ids;
  private final StepContext ctx;
  private final DevicePageTable pageTable;
  private final FaultBuffer faultBuffer;
  private final Drivers drivers;
  private final Warps warps;

  Device(int deviceId, StepContext ctx) { this(new DeviceIds(deviceId), ctx); }

  private Device(DeviceIds ids, StepContext ctx) {
    this.deviceId = ids.deviceId();
    this.ids = ids;
    this.ctx = ctx;
    this.pageTable = new DevicePageTable(ids, ctx);
    this.warps = new Warps(ctx);
    this.faultBuffer = new FaultBuffer(deviceId, ctx, pageTable, warps);
    this.drivers = new Drivers(ids, ctx, pageTable);
  }

  /** A fresh device with no state, keeping the id counters. */
  Device reset() { return new Device(ids, ctx); }

  void onBindMm(HmmProtocol.BindMm msg) { drivers.onBindMm(msg); }

  void onNotifierInserted(HmmProtocol.NotifierInserted msg) { drivers.onNotifierInserted(msg); }

  void onNotifierRemoved(HmmProtocol.NotifierRemoved msg) { drivers.onNotifierRemoved(msg); }

  void onInvalidateStart(HmmProtocol.InvalidateStart inv) { drivers.onInvalidateStart(inv); }

  void onInvalidateEnd(HmmProtocol.InvalidateEnd msg) { drivers.onInvalidateEnd(msg); }

  void onMakeDeviceExclusiveReply(HmmProtocol.MakeDeviceExclusiveReply msg) {
    drivers.onMakeDeviceExclusiveReply(msg);
  }

  void onMakeDeviceExclusiveRangeReply(HmmProtocol.MakeDeviceExclusiveRangeReply msg) {
    drivers.onMakeDeviceExclusiveRangeReply(msg);
  }

  void onHmmRangeFaultReply(HmmProtocol.HmmRangeFaultReply msg) { drivers.onHmmRangeFaultReply(msg); }

  void onMigrateVmaReply(HmmProtocol.MigrateVmaReply msg) { drivers.onMigrateVmaReply(msg); }

  void onUnlockFenceReply(HmmProtocol.UnlockFenceReply msg) { drivers.onUnlockFenceReply(msg); }

  void onMigrateToRam(HmmProtocol.MigrateToRam msg) { drivers.onMigrateToRam(msg); }

  void onDmirrorCmd(HmmProtocol.DmirrorCmd cmd) { drivers.onDmirrorCmd(cmd); }

  /** A warp's access: executed, or faulted; a batch the worker starts goes to nouveau. */
  void onDeviceAccess(HmmProtocol.DeviceAccess msg) { handOver(faultBuffer.onDeviceAccess(msg, drivers::svmBound)); }

  /** A warp starts its loop of accesses (WarpRun); {@link #runWarps} issues them. */
  void onWarpRun(HmmProtocol.WarpRun msg) { warps.onWarpRun(msg); }

  /**
   * Issues the warps' accesses that became ready in this step (each when its loop's previous access completed), and
   * those that become ready meanwhile; once the host is gone ({@code hostGone}) each fails at once with ENODEV, as a
   * DeviceAccess arriving then does. Called at the end of every step.
   */
  void runWarps(boolean hostGone) {
    for (HmmProtocol.DeviceAccess a = warps.poll(); a != null; a = warps.poll()) {
      if (hostGone) refuse(a, Errno.ENODEV);
      else onDeviceAccess(a);
    }
  }

  /** Warps running their loop (an access in flight or ready). */
  int warpLoops() { return warps.running(); }

  /** nouveau_svm_fault() between the worker and nouveau's handler, until the worker has nothing to hand over. */
  private void handOver(FaultBuffer.Handover handover) {
    if (handover == null) return;
    drivers.handleFault(handover, (errno, iterations, resultPhys, limit) ->
        handOver(faultBuffer.onFaultHandled(errno, iterations, resultPhys, limit, drivers::svmBound)));
  }

  /** The host answered a device access: its issuer gets the value, then pending flushes make progress. */
  void onDeviceMemoryAccessReply(HmmProtocol.DeviceMemoryAccessReply msg) {
    if (!pageTable.completeHostAccess(msg.reqId())) return; // late or duplicate reply
    if (!faultBuffer.onHostAccessDone(msg.reqId(), msg.value())) drivers.onHostAccessDone(msg.reqId(), msg.value());
    pageTable.flushProgress(msg.reqId());
  }

  /**
   * The CPU node is gone: like a device whose host went away (PCIe surprise removal), every warp access still in
   * flight completes with {@code errno}, ioctls in progress return it, and nothing waits for the host any more
   * (fault buffer, fault worker, replies, host accesses and deferred acks are dropped). The page table stays.
   */
  void stop(Errno errno) {
    drivers.stop(errno);
    pageTable.dropInFlight();
    faultBuffer.stop(errno);
  }

  /** A warp access that arrives after the CPU node went away fails at once. */
  void refuse(HmmProtocol.DeviceAccess msg, Errno errno) { faultBuffer.refuse(msg, errno); }

  // ------------------------------------------------------------------------------------------------ introspection

  List<HmmProtocol.DeviceEntry> entries() { return pageTable.entries(); }

  DeviceCounters counters() {
    return new DeviceCounters(faultBuffer.faults(), faultBuffer.driverIterations(), faultBuffer.driverIterationsMax(),
        faultBuffer.driverTimeouts(), faultBuffer.cancels(), drivers.invalidations(), faultBuffer.replays(),
        faultBuffer.faultsHandled());
  }

  HmmProtocol.DeviceInfo info(long reqId) {
    List<String> suspects = new ArrayList<>();
    collectDeadlockSuspects(suspects);
    DeviceCounters c = counters();
    return new HmmProtocol.DeviceInfo(reqId, deviceId, entries(), c.faults(), c.driverIterations(),
        c.driverIterationsMax(), c.driverTimeouts(), c.cancels(), c.invalidations(), c.replays(), c.faultsHandled(),
        List.copyOf(suspects));
  }

  int faultBufferSize() { return faultBuffer.size(); }

  boolean faultWorkerIdle() { return faultBuffer.workerIdle(); }

  /** Invalidate callbacks blocked on a driver mutex, each with the holder it waits for. */
  void collectDeadlockSuspects(List<String> out) { drivers.collectDeadlockSuspects(out); }
}
