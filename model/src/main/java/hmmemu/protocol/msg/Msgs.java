package hmmemu.protocol.msg;

import hmmemu.protocol.msg.HmmProtocol.*;

/** Routing facts about messages that shells need: which request a reply answers, which device a message concerns. */
public final class Msgs {
  private Msgs() {}

  /** The reqId a request or reply carries, or -1 when the message has none. */
  public static long reqIdOf(HmmProtocol.Msg m) {
    if (m instanceof MakeDeviceExclusive x) return x.reqId();
    if (m instanceof MakeDeviceExclusiveReply x) return x.reqId();
    if (m instanceof FolioUnlockPut x) return x.reqId();
    if (m instanceof HmmRangeFault x) return x.reqId();
    if (m instanceof HmmRangeFaultReply x) return x.reqId();
    if (m instanceof DeviceMemoryAccess x) return x.reqId();
    if (m instanceof DeviceMemoryAccessReply x) return x.reqId();
    if (m instanceof CpuAccess x) return x.reqId();
    if (m instanceof CpuAccessDone x) return x.reqId();
    if (m instanceof Syscall x) return x.reqId();
    if (m instanceof SyscallDone x) return x.reqId();
    if (m instanceof InspectPage x) return x.reqId();
    if (m instanceof PageInfo x) return x.reqId();
    if (m instanceof DeviceAccess x) return x.reqId();
    if (m instanceof DeviceAccessDone x) return x.reqId();
    if (m instanceof BindMm x) return x.reqId();
    if (m instanceof MmBound x) return x.reqId();
    if (m instanceof DmirrorCmd x) return x.reqId();
    if (m instanceof DmirrorReply x) return x.reqId();
    if (m instanceof InspectDevice x) return x.reqId();
    if (m instanceof DeviceInfo x) return x.reqId();
    if (m instanceof ResetNode x) return x.reqId();
    if (m instanceof ResetDone x) return x.reqId();
    return -1;
  }

  /** The device a driver-to-CPU (or CPU-to-driver) message concerns, or -1 for local/controller messages. */
  public static int deviceIdOf(HmmProtocol.Msg m) {
    if (m instanceof NotifierInsert x) return x.deviceId();
    if (m instanceof NotifierRemove x) return (int) (x.subId() >>> 32);
    if (m instanceof MakeDeviceExclusive x) return x.deviceId();
    if (m instanceof FolioUnlockPut x) return x.deviceId();
    if (m instanceof HmmRangeFault x) return x.deviceId();
    if (m instanceof DeviceMemoryAccess x) return x.deviceId();
    if (m instanceof InvalidateAck x) return (int) (x.subId() >>> 32);
    if (m instanceof NotifierInserted x) return (int) (x.subId() >>> 32);
    if (m instanceof NotifierRemoved x) return (int) (x.subId() >>> 32);
    if (m instanceof InvalidateStart x) return (int) (x.subId() >>> 32);
    if (m instanceof InvalidateEnd x) return (int) (x.subId() >>> 32);
    return -1;
  }

  /** True for the messages a driver sends to the CPU node (as opposed to controller requests). */
  public static boolean isFromDriver(HmmProtocol.Msg m) {
    return m instanceof NotifierInsert || m instanceof NotifierRemove || m instanceof MakeDeviceExclusive
        || m instanceof FolioUnlockPut || m instanceof HmmRangeFault || m instanceof DeviceMemoryAccess
        || m instanceof InvalidateAck;
  }
}
