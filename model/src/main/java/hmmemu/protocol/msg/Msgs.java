package hmmemu.protocol.msg;

import hmmemu.protocol.msg.HmmProtocol.*;

/**
 * Routing facts about messages that shells need: which request a reply answers, which device a message concerns,
 * which way it travels. Direction and kind are the types of {@link HmmProtocol} (DriverToHost, HostToDriver, ...,
 * Request, Reply); these helpers read them.
 */
public final class Msgs {
  private Msgs() {}

  /** The reqId a request or reply carries, or -1 when the message has none. */
  public static long reqIdOf(HmmProtocol.Msg m) {
    return m instanceof HasReqId r ? r.reqId() : -1;
  }

  /** The device a driver-to-CPU (or CPU-to-driver) message concerns, or -1 for local/controller messages. */
  public static int deviceIdOf(HmmProtocol.Msg m) {
    if (m instanceof NotifierInsert x) return x.deviceId();
    if (m instanceof NotifierRemove x) return Ids.deviceOfSub(x.subId());
    if (m instanceof MakeDeviceExclusive x) return x.deviceId();
    if (m instanceof MakeDeviceExclusiveRange x) return x.deviceId();
    if (m instanceof FolioUnlockPut x) return x.deviceId();
    if (m instanceof HmmRangeFault x) return x.deviceId();
    if (m instanceof DeviceMemoryAccess x) return x.deviceId();
    if (m instanceof UnlockFence x) return x.deviceId();
    if (m instanceof InvalidateAck x) return Ids.deviceOfSub(x.subId());
    if (m instanceof NotifierInserted x) return Ids.deviceOfSub(x.subId());
    if (m instanceof NotifierRemoved x) return Ids.deviceOfSub(x.subId());
    if (m instanceof InvalidateStart x) return Ids.deviceOfSub(x.subId());
    if (m instanceof InvalidateEnd x) return Ids.deviceOfSub(x.subId());
    if (m instanceof MigrateVmaSetup x) return x.deviceId();
    if (m instanceof MigrateVmaPages x) return x.deviceId();
    if (m instanceof MigrateVmaFinalize x) return x.deviceId();
    if (m instanceof MigrateVmaReply x) return Ids.deviceOfReq(x.reqId());
    if (m instanceof MigrateToRam x) return x.deviceId();
    if (m instanceof MigrateToRamDone x) return x.deviceId();
    return -1;
  }

  /** True for the messages a driver sends to the CPU node (as opposed to controller requests): {@link DriverToHost}. */
  public static boolean isFromDriver(HmmProtocol.Msg m) {
    return m instanceof DriverToHost;
  }

  /** True for the messages the CPU node sends to a driver: {@link HostToDriver}. */
  public static boolean isToDriver(HmmProtocol.Msg m) {
    return m instanceof HostToDriver;
  }
}
