package hmmemu.protocol.msg;

import hmmemu.protocol.model.ClassCache;
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
    return (families(m) & HAS_REQ_ID) != 0 ? ((HasReqId) m).reqId() : -1;
  }

  /** {@link #families} bits: {@link DriverToHost}, {@link HostToDriver}, a controller request, {@link HasReqId}. */
  static final int FROM_DRIVER = 1, TO_DRIVER = 2, CONTROLLER_REQUEST = 4, HAS_REQ_ID = 8;

  /**
   * The families of each message class, as the class's interfaces say (the answer an instanceof would give), through
   * a direct-mapped cache by class ({@link ClassCache}).
   */
  private static final ClassCache.OfInt FAMILIES = new ClassCache.OfInt(256, Msgs::familiesOf);

  /** The {@link #families} bits of message class {@code c}, from its interfaces. */
  static int familiesOf(Class<?> c) {
    return (DriverToHost.class.isAssignableFrom(c) ? FROM_DRIVER : 0)
        | (HostToDriver.class.isAssignableFrom(c) ? TO_DRIVER : 0)
        | (ControllerToCpu.class.isAssignableFrom(c) || ControllerToGpu.class.isAssignableFrom(c)
            || ControllerToNode.class.isAssignableFrom(c) ? CONTROLLER_REQUEST : 0)
        | (HasReqId.class.isAssignableFrom(c) ? HAS_REQ_ID : 0);
  }

  /**
   * Emulator-only host mechanism: the families of {@code m}'s class as bits, looked up by the class. The same answers
   * as {@code instanceof} of each family interface, without its cost: HotSpot 17 tests an interface by scanning the
   * class's secondary supers (a failed test always scans them; a passed one caches one interface per class), which
   * cost ~10 ns a test on the simulator's path of every message (session 17).
   */
  static int families(HmmProtocol.Msg m) {
    return FAMILIES.get(m.getClass());
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
    return (families(m) & FROM_DRIVER) != 0;
  }

  /** True for the messages the CPU node sends to a driver: {@link HostToDriver}. */
  public static boolean isToDriver(HmmProtocol.Msg m) {
    return (families(m) & TO_DRIVER) != 0;
  }

  /**
   * True for the requests a node answers to the controller (or a workload) rather than to a driver: {@link
   * ControllerToCpu}, {@link ControllerToGpu}, {@link ControllerToNode}.
   */
  public static boolean isControllerRequest(HmmProtocol.Msg m) {
    return (families(m) & CONTROLLER_REQUEST) != 0;
  }
}
