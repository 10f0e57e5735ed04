package hmmemu.protocol.msg;

/**
 * The one place that says how ids are packed (docs/ARCHITECTURE.md "Ids"). Not kernel code: the kernel hands out
 * pointers; the emulator packs the owning device into the id so that replies and callbacks route by id alone.
 *
 * <ul>
 *   <li>deviceId = {@code node * 16 + index}: a GPU node hosts at most {@value #DEVICES_PER_NODE} devices.
 *   <li>subId (a notifier subscription) = {@code deviceId << 32 | n}, n in [0, 2^32).
 *   <li>reqId a device generates = {@code deviceId << 40 | n}, n in [0, 2^40), deviceId in [0, 2^22) so bit 62
 *       stays clear; controller reqIds are {@code 2^62 + n} ({@link #CONTROLLER_REQ_BASE}), a range no device's
 *       reqId reaches ({@link #deviceOfReq} of one is {@code 2^22}, no valid device).
 *   <li>a nouveau device's owner cookie (make_device_exclusive's {@code owner}) = {@code 0x4e56_0000 + deviceId};
 *       dmirror passes NULL = 0.
 * </ul>
 *
 * <p>Static helpers on primitives (no allocation on the hot path); the call sites still spell the shifts out and
 * will switch to these.
 */
public final class Ids {
  private Ids() {}

  /** Devices per GPU node: deviceId = node * DEVICES_PER_NODE + index. */
  public static final int DEVICES_PER_NODE = 16;
  private static final int NODE_SHIFT = 4;

  /** Bit position of the deviceId in a subId. */
  public static final int SUB_DEVICE_SHIFT = 32;
  /** Bit position of the deviceId in a device-generated reqId. */
  public static final int REQ_DEVICE_SHIFT = 40;
  /** Controller reqIds live at and above this value (ControlClient's counter starts here). */
  public static final long CONTROLLER_REQ_BASE = 1L << 62;
  /** nouveau's owner cookie for device d is NOUVEAU_OWNER_BASE + d. */
  public static final long NOUVEAU_OWNER_BASE = 0x4e56_0000L;

  private static final long SUB_SEQ_LIMIT = 1L << SUB_DEVICE_SHIFT;
  private static final long REQ_SEQ_LIMIT = 1L << REQ_DEVICE_SHIFT;
  private static final int REQ_DEVICE_LIMIT = 1 << (62 - REQ_DEVICE_SHIFT);

  // ------------------------------------------------------------------------------------------------ devices

  /** The deviceId of the {@code index}-th device of GPU node {@code node}. */
  public static int deviceId(int node, int index) {
    if (node < 0) throw new IllegalArgumentException("node " + node + " < 0");
    if (index < 0 || index >= DEVICES_PER_NODE) {
      throw new IllegalArgumentException("device index " + index + " not in [0, " + DEVICES_PER_NODE + ")");
    }
    return (node << NODE_SHIFT) | index;
  }

  /** The GPU node index hosting {@code deviceId}. */
  public static int nodeOfDevice(int deviceId) { return deviceId >> NODE_SHIFT; }

  /** The device's index on its GPU node. */
  public static int indexOnNode(int deviceId) { return deviceId & (DEVICES_PER_NODE - 1); }

  // ------------------------------------------------------------------------------------------------ subIds

  /** The {@code n}-th subscription of {@code deviceId}. */
  public static long subId(int deviceId, long n) {
    if (n < 0 || n >= SUB_SEQ_LIMIT) throw new IllegalArgumentException("subscription number " + n + " out of range");
    return ((long) deviceId << SUB_DEVICE_SHIFT) | n;
  }

  /** The device that owns subscription {@code subId}. */
  public static int deviceOfSub(long subId) { return (int) (subId >>> SUB_DEVICE_SHIFT); }

  /** The per-device number of subscription {@code subId}. */
  public static long numberOfSub(long subId) { return subId & (SUB_SEQ_LIMIT - 1); }

  // ------------------------------------------------------------------------------------------------ reqIds

  /** The {@code n}-th reqId {@code deviceId} generates. */
  public static long reqId(int deviceId, long n) {
    if (deviceId < 0 || deviceId >= REQ_DEVICE_LIMIT) {
      throw new IllegalArgumentException("deviceId " + deviceId + " does not fit a reqId");
    }
    if (n < 0 || n >= REQ_SEQ_LIMIT) throw new IllegalArgumentException("request number " + n + " out of range");
    return ((long) deviceId << REQ_DEVICE_SHIFT) | n;
  }

  /**
   * The device that generated {@code reqId} (the shells' {@code (int) (reqId >>> 40)}). Meaningless for a
   * controller reqId; check {@link #isControllerReq} first where both can occur.
   */
  public static int deviceOfReq(long reqId) { return (int) (reqId >>> REQ_DEVICE_SHIFT); }

  /** The per-device number of a device-generated {@code reqId}. */
  public static long numberOfReq(long reqId) { return reqId & (REQ_SEQ_LIMIT - 1); }

  /** The {@code n}-th controller reqId. */
  public static long controllerReqId(long n) {
    if (n < 0 || n >= CONTROLLER_REQ_BASE) throw new IllegalArgumentException("request number " + n + " out of range");
    return CONTROLLER_REQ_BASE + n;
  }

  /** True for a reqId in the controller's range. */
  public static boolean isControllerReq(long reqId) { return reqId >= CONTROLLER_REQ_BASE; }

  // ------------------------------------------------------------------------------------------------ owners

  /** The owner cookie nouveau passes to make_device_exclusive() for {@code deviceId}. */
  public static long nouveauOwner(int deviceId) { return NOUVEAU_OWNER_BASE + deviceId; }

  /** A dmirror device's pgmap owner (dmirror->mdevice) is DMIRROR_PGMAP_OWNER_BASE + deviceId. */
  public static final long DMIRROR_PGMAP_OWNER_BASE = 0x444d_0000L;

  /**
   * The pgmap owner of dmirror device {@code deviceId} (lib/test_hmm.c: {@code pgmap.owner = mdevice}): what
   * migrate_vma_setup()'s {@code pgmap_owner}, MMU_NOTIFY_MIGRATE's owner and hmm_range's dev_private_owner carry.
   */
  public static long dmirrorPgmapOwner(int deviceId) { return DMIRROR_PGMAP_OWNER_BASE + deviceId; }
}
