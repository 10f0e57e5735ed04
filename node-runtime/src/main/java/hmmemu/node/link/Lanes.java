package hmmemu.node.link;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;

/**
 * The lane of a protocol message: which kernel thread sends it (docs/PROTOCOL.md §5.8). With
 * {@code hmm-emu.link.lanes = per-thread} the link is FIFO only within a lane, draws each lane's delays
 * independently, and lets messages of different lanes overtake each other, as the kernel orders only the events of
 * one thread. The one place that derives the lane, from message fields only (the cores are unchanged).
 *
 * <p>Lanes (never 0, which means "lanes off"):
 * <ul>
 *   <li>GPU node: {@link #worker} - the driver's fault worker of one device (nouveau's fault buffer work, one
 *       dmirror ioctl): NotifierInsert, MakeDeviceExclusive(Range), HmmRangeFault, FolioUnlockPut, NotifierRemove,
 *       migrate_vma_*, the device's own accesses and the emulator-only UnlockFence (FIFO behind the unlocks); {@link #callback} - one notifier callback invocation
 *       (InvalidateAck of one invId for one subscription).
 *   <li>CPU node: {@link #subscription} - the invalidating threads as seen by one subscription: InvalidateStart,
 *       InvalidateEnd, and NotifierInserted/NotifierRemoved of that subscription, so that NotifierInserted stays
 *       before the InvalidateEnd of the period it was inserted in (§5.8: an order hmm-emu's encoding needs); the
 *       returns of the worker's calls (MakeDeviceExclusiveReply, HmmRangeFaultReply, MigrateVmaReply,
 *       DeviceMemoryAccessReply, UnlockFenceReply) ride the worker's lane of the calling device; MigrateToRam rides the faulting
 *       user thread's lane ({@link #thread}).
 *   <li>Controller traffic: the user thread's lane for CPU accesses, else one control lane.
 * </ul>
 * Merging two threads into one lane only adds order, so a collision of the {@link #callback} hash is safe.
 */
public final class Lanes {
  private Lanes() {}

  private static final long MASK = (1L << 56) - 1;
  private static final long WORKER = 1L << 56;
  private static final long CALLBACK = 2L << 56;
  private static final long SUBSCRIPTION = 3L << 56;
  private static final long THREAD = 4L << 56;
  private static final long CONTROL = 5L << 56;

  /** The lane of the driver's fault worker of device {@code deviceId} (and of the returns of its calls). */
  public static long worker(int deviceId) { return WORKER | (deviceId & 0xffff_ffffL); }

  /** The lane of one notifier callback invocation: invalidation {@code invId} calling subscription {@code subId}. */
  public static long callback(long invId, long subId) {
    long h = invId * 0x9E37_79B9_7F4A_7C15L ^ Long.rotateLeft(subId * 0xC2B2_AE3D_27D4_EB4FL, 31);
    return CALLBACK | (h & MASK);
  }

  /** The lane of subscription {@code subId}'s invalidation periods (InvalidateStart/End, insert/remove returns). */
  public static long subscription(long subId) { return SUBSCRIPTION | (subId & MASK); }

  /** The lane of CPU user thread {@code threadId}. */
  public static long thread(int threadId) { return THREAD | (threadId & 0xffff_ffffL); }

  /** The lane of {@code m}'s sending kernel thread (see the class comment). */
  public static long of(HmmProtocol.Msg m) {
    // GPU node -> CPU node
    if (m instanceof HmmProtocol.InvalidateAck a) return callback(a.invId(), a.subId());
    if (m instanceof HmmProtocol.NotifierInsert n) return worker(n.deviceId());
    if (m instanceof HmmProtocol.NotifierRemove n) return worker(Ids.deviceOfSub(n.subId()));
    if (m instanceof HmmProtocol.MakeDeviceExclusive x) return worker(x.deviceId());
    if (m instanceof HmmProtocol.MakeDeviceExclusiveRange x) return worker(x.deviceId());
    if (m instanceof HmmProtocol.FolioUnlockPut u) return worker(u.deviceId());
    if (m instanceof HmmProtocol.HmmRangeFault f) return worker(f.deviceId());
    if (m instanceof HmmProtocol.MigrateVmaSetup s) return worker(s.deviceId());
    if (m instanceof HmmProtocol.MigrateVmaPages s) return worker(s.deviceId());
    if (m instanceof HmmProtocol.MigrateVmaFinalize s) return worker(s.deviceId());
    if (m instanceof HmmProtocol.MigrateToRamDone d) return worker(d.deviceId());
    if (m instanceof HmmProtocol.DeviceMemoryAccess d) return worker(d.deviceId());
    if (m instanceof HmmProtocol.UnlockFence f) return worker(f.deviceId());
    // CPU node -> GPU node
    if (m instanceof HmmProtocol.InvalidateStart s) return subscription(s.subId());
    if (m instanceof HmmProtocol.InvalidateEnd e) return subscription(e.subId());
    if (m instanceof HmmProtocol.NotifierInserted n) return subscription(n.subId());
    if (m instanceof HmmProtocol.NotifierRemoved n) return subscription(n.subId());
    if (m instanceof HmmProtocol.MigrateToRam r) return thread(r.threadId());
    if (m instanceof HmmProtocol.CpuAccess c) return thread(c.threadId());
    if (m instanceof HmmProtocol.CpuAccessDone c) return thread(c.threadId());
    if (m instanceof HmmProtocol.CpuThreadRun c) return thread(c.threadId());
    if (m instanceof HmmProtocol.CpuThreadDone c) return thread(c.threadId());
    if (m instanceof HmmProtocol.HasReqId r && !Ids.isControllerReq(r.reqId())) {
      return worker(Ids.deviceOfReq(r.reqId())); // replies to the worker's calls
    }
    return CONTROL;
  }
}
