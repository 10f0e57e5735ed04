package hmmemu.gpu.core;

import hmmemu.gpu.core.device.StepContext;
import hmmemu.gpu.core.driver.Drivers;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One GPU node: the devices it hosts, each with its driver (nouveau_svm.c or lib/test_hmm.c dmirror), as a pure
 * single-threaded state machine. {@link #step} takes one message and returns what to send and the trace events,
 * in the order they happened; every wait (NotifierInserted, a reply from the CPU node, InvalidateEnd, a driver
 * mutex) is parked and resumed by a later step.
 *
 * <p>Ids: a nouveau device's owner cookie is {@code 0x4e56_0000 + deviceId} (dmirror passes NULL = 0); subIds are
 * {@code deviceId << 32 | n}; reqIds the node generates are {@code deviceId << 40 | n}, so replies and callbacks
 * are routed to their device by id. Counters survive {@link HmmProtocol.ResetNode}, so a late message of an earlier
 * run never matches new state; it is ignored like a duplicate.
 */
public final class GpuNode {
  private final int nodeIndex;
  private final StepContext ctx;
  private final Map<Integer, Device> devices = new TreeMap<>();
  private boolean stepping;
  private boolean cpuGone;
  private long droppedAfterCpuGone;

  public GpuNode(int nodeIndex, ModelSwitches switches) {
    if (switches == null) throw new IllegalStateException("a GPU node needs model switches");
    this.nodeIndex = nodeIndex;
    this.ctx = new StepContext(switches);
  }

  /**
   * Hosts a device on this node.
   *
   * @throws IllegalStateException if the id is negative, too large for the id scheme, or already hosted
   */
  public void addDevice(int deviceId) {
    if (deviceId < 0 || deviceId >= (1 << 23)) {
      throw new IllegalStateException("deviceId must fit the reqId scheme (0 <= id < 2^23): " + deviceId);
    }
    if (devices.containsKey(deviceId)) throw new IllegalStateException("device " + deviceId + " already hosted");
    devices.put(deviceId, new Device(deviceId, ctx));
  }

  public int nodeIndex() { return nodeIndex; }

  public ModelSwitches switches() { return ctx.switches(); }

  /** The owner cookie a nouveau driver on {@code deviceId} passes to make_device_exclusive. */
  public static long nouveauOwner(int deviceId) { return Drivers.NOUVEAU_OWNER_BASE + deviceId; }

  /**
   * Applies one message at model time {@code nowMicros}.
   *
   * @throws IllegalStateException on a programmer error (a message a GPU node never receives, an unknown device,
   *     a reused warp reqId, a broken internal invariant), naming the invariant
   */
  public Ready step(HmmProtocol.Msg msg, long nowMicros) {
    if (stepping) throw new IllegalStateException("a core step is not re-entrant");
    stepping = true;
    ctx.begin(nowMicros);
    try {
      dispatch(msg);
      runWarps();
      return ctx.ready();
    } finally {
      stepping = false;
    }
  }

  /**
   * The CPU node is gone (Pekko Cluster downed or removed it, or this node was downed): the warps stop, every
   * pending access and ioctl fails with ENODEV, and later work is refused, so an experiment ends instead of
   * waiting for a host that will never answer. Idempotent.
   */
  public Ready cpuGone(String reason, long nowMicros) {
    if (stepping) throw new IllegalStateException("a core step is not re-entrant");
    stepping = true;
    ctx.begin(nowMicros);
    try {
      if (!cpuGone) {
        cpuGone = true;
        ctx.emit(new hmmemu.protocol.trace.Trace.NodeGone(0, reason));
        for (Device d : devices.values()) d.stop(Errno.ENODEV);
      }
      runWarps();
      return ctx.ready();
    } finally {
      stepping = false;
    }
  }

  /** The warps' loops (WarpRun) issue the accesses whose previous one completed in this step. */
  private void runWarps() {
    for (Device d : devices.values()) d.runWarps(cpuGone);
  }

  /** True once {@link #cpuGone} was called. */
  public boolean cpuIsGone() { return cpuGone; }

  /** Messages dropped because they came from (or needed) the CPU node after it was gone. */
  public long droppedAfterCpuGone() { return droppedAfterCpuGone; }

  private void dispatch(HmmProtocol.Msg msg) {
    if (cpuGone && refusedAfterCpuGone(msg)) return;
    if (msg instanceof HmmProtocol.DeviceAccess) {
      HmmProtocol.DeviceAccess m = (HmmProtocol.DeviceAccess) msg;
      device(m.deviceId()).onDeviceAccess(m);
    } else if (msg instanceof HmmProtocol.WarpRun m) {
      device(m.deviceId()).onWarpRun(m);
    } else if (msg instanceof HmmProtocol.DeviceMemoryAccessReply) {
      HmmProtocol.DeviceMemoryAccessReply m = (HmmProtocol.DeviceMemoryAccessReply) msg;
      deviceOfReq(m.reqId()).onDeviceMemoryAccessReply(m);
    } else if (msg instanceof HmmProtocol.InvalidateStart) {
      HmmProtocol.InvalidateStart m = (HmmProtocol.InvalidateStart) msg;
      Device d = devices.get(deviceOfSub(m.subId()));
      if (d == null) {
        unknownSubscriptionAck(m);
      } else {
        d.onInvalidateStart(m);
      }
    } else if (msg instanceof HmmProtocol.InvalidateEnd) {
      HmmProtocol.InvalidateEnd m = (HmmProtocol.InvalidateEnd) msg;
      Device d = devices.get(deviceOfSub(m.subId()));
      if (d != null) d.onInvalidateEnd(m);
    } else if (msg instanceof HmmProtocol.NotifierInserted) {
      HmmProtocol.NotifierInserted m = (HmmProtocol.NotifierInserted) msg;
      Device d = devices.get(deviceOfSub(m.subId()));
      if (d != null) d.onNotifierInserted(m);
    } else if (msg instanceof HmmProtocol.NotifierRemoved) {
      HmmProtocol.NotifierRemoved m = (HmmProtocol.NotifierRemoved) msg;
      Device d = devices.get(deviceOfSub(m.subId()));
      if (d != null) d.onNotifierRemoved(m);
    } else if (msg instanceof HmmProtocol.MakeDeviceExclusiveReply) {
      HmmProtocol.MakeDeviceExclusiveReply m = (HmmProtocol.MakeDeviceExclusiveReply) msg;
      deviceOfReq(m.reqId()).onMakeDeviceExclusiveReply(m);
    } else if (msg instanceof HmmProtocol.MakeDeviceExclusiveRangeReply m) {
      deviceOfReq(m.reqId()).onMakeDeviceExclusiveRangeReply(m);
    } else if (msg instanceof HmmProtocol.HmmRangeFaultReply) {
      HmmProtocol.HmmRangeFaultReply m = (HmmProtocol.HmmRangeFaultReply) msg;
      deviceOfReq(m.reqId()).onHmmRangeFaultReply(m);
    } else if (msg instanceof HmmProtocol.UnlockFenceReply m) {
      deviceOfReq(m.reqId()).onUnlockFenceReply(m);
    } else if (msg instanceof HmmProtocol.MigrateVmaReply m) {
      deviceOfReq(m.reqId()).onMigrateVmaReply(m);
    } else if (msg instanceof HmmProtocol.MigrateToRam m) {
      device(m.deviceId()).onMigrateToRam(m);
    } else if (msg instanceof HmmProtocol.BindMm) {
      HmmProtocol.BindMm m = (HmmProtocol.BindMm) msg;
      device(m.deviceId()).onBindMm(m);
    } else if (msg instanceof HmmProtocol.DmirrorCmd) {
      HmmProtocol.DmirrorCmd m = (HmmProtocol.DmirrorCmd) msg;
      device(m.deviceId()).onDmirrorCmd(m);
    } else if (msg instanceof HmmProtocol.InspectDevice) {
      HmmProtocol.InspectDevice m = (HmmProtocol.InspectDevice) msg;
      ctx.reply(device(m.deviceId()).info(m.reqId()));
    } else if (msg instanceof HmmProtocol.ResetNode) {
      HmmProtocol.ResetNode m = (HmmProtocol.ResetNode) msg;
      if (m.switches() == null) throw new IllegalStateException("ResetNode needs model switches");
      ctx.switches(m.switches());
      for (Map.Entry<Integer, Device> e : devices.entrySet()) e.setValue(e.getValue().reset());
      ctx.reply(new HmmProtocol.ResetDone(m.reqId(), nodeIndex));
    } else {
      throw new IllegalStateException("a GPU node never receives " + msg.getClass().getSimpleName());
    }
  }

  /** After the CPU node is gone: new work fails with ENODEV, messages from the CPU node are dropped. */
  private boolean refusedAfterCpuGone(HmmProtocol.Msg msg) {
    if (msg instanceof HmmProtocol.DeviceAccess m) {
      device(m.deviceId()).refuse(m, Errno.ENODEV);
      return true;
    }
    if (msg instanceof HmmProtocol.DmirrorCmd m) {
      ctx.reply(new HmmProtocol.DmirrorReply(m.reqId(), Errno.ENODEV, 0, 0, List.of()));
      return true;
    }
    if (msg instanceof HmmProtocol.InspectDevice || msg instanceof HmmProtocol.ResetNode) return false;
    if (msg instanceof HmmProtocol.WarpRun) return false; // its accesses fail one by one with ENODEV (runWarps)
    droppedAfterCpuGone++; // CPU messages still in flight, or a BindMm that needs the CPU node
    return true;
  }

  /** An invalidation for a subscription of a device this node does not host: nothing of ours to invalidate. */
  private void unknownSubscriptionAck(HmmProtocol.InvalidateStart m) {
    ctx.ackInvalidate(deviceOfSub(m.subId()), m, true, false);
  }

  private static int deviceOfSub(long subId) { return hmmemu.protocol.msg.Ids.deviceOfSub(subId); }

  private Device device(int deviceId) {
    Device d = devices.get(deviceId);
    if (d == null) throw new IllegalStateException("message for device " + deviceId + " not hosted on node " + nodeIndex);
    return d;
  }

  private Device deviceOfReq(long reqId) {
    int deviceId = hmmemu.protocol.msg.Ids.deviceOfReq(reqId);
    Device d = devices.get(deviceId);
    if (d == null) {
      throw new IllegalStateException("reply routing: reqId " + reqId + " names device " + deviceId
          + ", not hosted on node " + nodeIndex);
    }
    return d;
  }

  // ------------------------------------------------------------------------------------------- read-only views

  /** The device page table of {@code deviceId}, ordered by (mmId, va). */
  public List<HmmProtocol.DeviceEntry> entries(int deviceId) {
    return Collections.unmodifiableList(device(deviceId).entries());
  }

  /** The counters of {@code deviceId}. */
  public DeviceCounters counters(int deviceId) { return device(deviceId).counters(); }

  /** Warps of {@code deviceId} running their loop (WarpRun). */
  public int warpLoops(int deviceId) { return device(deviceId).warpLoops(); }

  /** Faults waiting in the device's fault buffer for the next batch. */
  public int faultBufferSize(int deviceId) { return device(deviceId).faultBufferSize(); }

  /** True when the device's nouveau fault worker handles no batch. */
  public boolean faultWorkerIdle(int deviceId) { return device(deviceId).faultWorkerIdle(); }

  /**
   * Invalidate callbacks that cannot run because a driver mutex is held, each naming the holder and what it waits
   * for: "callback for inv X on sub Y waits for svmm mutex ... held by fault on page Z ..., which waits for
   * MakeDeviceExclusive (req R)". With driverLockAcrossConversion this is the C10 cycle.
   */
  public List<String> deadlockSuspects() {
    List<String> out = new ArrayList<>();
    for (Device d : devices.values()) d.collectDeadlockSuspects(out);
    return out;
  }
}
