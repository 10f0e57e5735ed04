package hmmemu.protocol.wire;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.*;
import hmmemu.protocol.trace.Trace;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One sample per record of HmmProtocol.Msg and Trace.Event, every field set to a non-default value (no 0, false,
 * null, empty string or list; enums are never the wire default since X_UNSPECIFIED = 0 has no Java twin).
 * Adding a record to either sealed interface without a sample here fails WireCodecTest.
 */
final class Samples {
  private Samples() {}

  static final long BIG = 0x7fff_dead_b000L;          // a user va
  static final long HI = 0xc000_0000_0000_1234L;      // negative long (HMM_PFN flags set)

  static Map<Class<?>, HmmProtocol.Msg> messages() {
    Map<Class<?>, HmmProtocol.Msg> m = new LinkedHashMap<>();
    put(m, new NotifierInsert((17L << 32) | 3, 17, 5, NotifierKind.CLASSIC, 0x10000, BIG));
    put(m, new NotifierRemove((18L << 32) | 9));
    put(m, new MakeDeviceExclusive((17L << 40) | 1, 17, 6, BIG + 0x1000, 0x4e56_0011L));
    put(m, new MakeDeviceExclusiveRange((17L << 40) | 8, 17, 6, BIG, 0x4e56_0011L,
        List.of((17L << 40) | 9, (17L << 40) | 10, (17L << 40) | 11)));
    put(m, new FolioUnlockPut((17L << 40) | 2, 33, 0x1234, (33L << 32) | 5));
    put(m, new HmmRangeFault((17L << 40) | 3, 17, (17L << 32) | 1, 7, 8, BIG, List.of(1, 3, 2, 0), 0x444d_0011L));
    put(m, new MigrateVmaSetup((17L << 40) | 4, 17, 8, BIG, 64, 3, 0x444d_0011L, (1L << 39) | (17L << 20) | 5));
    put(m, new MigrateVmaPages((17L << 40) | 5, 17, 12, List.of(HI, 1L, 0x1043L), List.of(0L, 511L, -7L)));
    put(m, new MigrateVmaFinalize((17L << 40) | 6, 17, 13));
    put(m, new MigrateVmaReply((17L << 40) | 7, Errno.EINVAL, 14, List.of(0x40002L, HI), 2, List.of(1L, 2L, 3L)));
    put(m, new MigrateToRam(124, 18, 9, BIG, (1L << 39) | (18L << 20) | 7, 3));
    put(m, new MigrateToRamDone(124, 18, Errno.EFAULT));
    put(m, new DeviceMemoryAccess(99, 18, 0x1001, 511, Access.ATOMIC, -5));
    put(m, new InvalidateAck(44, (19L << 32) | 2, true, true));
    put(m, new NotifierInserted((17L << 32) | 4, 3, 3));
    put(m, new NotifierRemoved((17L << 32) | 4));
    put(m, new InvalidateStart(45, (17L << 32) | 5, 9, 0x20000, 0x30000, NotifyEvent.EXCLUSIVE, 0x4e56_0012L, true,
        7));
    put(m, new InvalidateEnd((17L << 32) | 6, 8));
    put(m, new MakeDeviceExclusiveReply(100, Errno.EBUSY, 0x1002));
    put(m, new MakeDeviceExclusiveRangeReply(109, Errno.EFAULT, 2, List.of(0x1005L, 0L, 0x1006L)));
    put(m, new HmmRangeFaultReply(101, Errno.EFAULT, List.of(HI, 0L, -1L, 0x1003L)));
    put(m, new DeviceMemoryAccessReply(102, Long.MIN_VALUE));
    put(m, new UnlockFence((17L << 40) | 9, 17));
    put(m, new UnlockFenceReply((17L << 40) | 9));
    put(m, new CpuAccess(103, 4, 10, BIG, Access.WRITE, 0x55, true));
    put(m, new CpuAccessDone(104, 5, Errno.SIGSEGV, 66, 2, 4321));
    // rounds and forMicros: a scenario's spin loop (repeat / for); the reply's last value and total model µs.
    put(m, new CpuThreadRun(1L << 62 | 9, 6, 10, List.of(BIG, HI, 0x1000L), Access.ATOMIC, 1, true, 250, 20000,
        1_500_000));
    put(m, new CpuThreadDone(1L << 62 | 9, 6, Errno.SIGBUS, 2, 7, List.of(0L, 1500L), BIG, 1_499_999));
    put(m, new Syscall(105, 11, SyscallKind.FORK, 0x40000, 0x8000, 3, VmaKind.HUGETLB, 12, 7));
    put(m, new SyscallDone(106, Errno.ENOMEM, 12, 5432));
    put(m, new InspectPage(107, 13, BIG));
    put(m, new PageInfo(108, PteState.DEVEXCL, 0x1004, true, true, true, true, 3, 2, true, true, 0x77,
        List.of(1L, 2L, Long.MAX_VALUE)));
    put(m, new InspectNotifier(119, 38, 19));
    put(m, new NotifierInfo(120, 5, 2, List.of(
        new NotifierState((38L << 32) | 1, NotifierKind.INTERVAL, 0x10000, BIG, 5, true, true, true),
        new NotifierState((38L << 32) | 2, NotifierKind.CLASSIC, 1, HI, 3, true, true, true))));
    put(m, new InspectFolio(121, 0x1007));
    put(m, new KthreadFolioLock(125, "kcompactd0 \u00e9", 20, BIG));
    put(m, new KthreadFolioUnlock(126, "khugepaged"));
    put(m, new KthreadFolioDone(127, Errno.EINVAL, 0x1008));
    put(m, new DeviceAccess(109, 34, 14, BIG, Access.ATOMIC, 9));
    put(m, new DeviceAccessDone(110, 34, Errno.CANCELLED, 10, 3, 1500));
    put(m, new WarpRun(1L << 62 | 11, 34, 3, 14, List.of(BIG, HI, 0x1008L), Access.ATOMIC, 1));
    put(m, new WarpDone(1L << 62 | 11, 34, 3, List.of(Errno.OK, Errno.CANCELLED, Errno.ENODEV),
        List.of(0L, 1_000_000L, 7L), 4));
    put(m, new BindMm(111, 35, 15, DriverFlavour.DMIRROR));
    put(m, new MmBound(112, 35, 0x4e56_0023L));
    put(m, new DmirrorCmd(113, 36, 16, DmirrorOp.SNAPSHOT, BIG, 4, List.of(5L, -6L)));
    put(m, new DmirrorReply(114, Errno.EINVAL, 7, 8, List.of(9L, 10L, 11L), 12));
    put(m, new InspectDevice(115, 37));
    put(m, new DeviceInfo(116, 37, List.of(new DeviceEntry(17, BIG, 0x1005, true, true, true),
        new DeviceEntry(18, BIG + 0x1000, 0x1006, true, true, true)), 1, 2, 3, 4, 5, 6, 7, 8,
        List.of("callback for inv 3 waits for svmm mutex", "second \u00e9")));
    put(m, new ResetNode(117, "run-a/ablation \u00e9", new ModelSwitches(KernelProfile.V5_14, true, true, true, true,
        true, true, 123_456L, true).withMutant(hmmemu.protocol.model.Mutant.SKIP_READ_RETRY)
        .withMutant(hmmemu.protocol.model.Mutant.ACK_BEFORE_TLB_FLUSH)));
    put(m, new ResetDone(118, 2));
    return m;
  }

  static Map<Class<?>, Trace.Event> events() {
    Map<Class<?>, Trace.Event> m = new LinkedHashMap<>();
    putE(m, new Trace.PteChanged(3, BIG, PteState.MIGRATION, 0x1007, true, true, true, "restore_exclusive_pte"));
    putE(m, new Trace.FolioChanged(0x1008, true, 4, 3, true, true, true));
    putE(m, new Trace.VmaChanged(4, 0x10000, 0x20000, 3, VmaKind.FILE_PRIVATE, true));
    putE(m, new Trace.NotifierRegistered((17L << 32) | 7, 17, 5, NotifierKind.CLASSIC, 0x1000, BIG, true));
    putE(m, new Trace.InvalidateStarted(46, 6, 0x3000, 0x5000, NotifyEvent.MIGRATE, 0x4e56_0011L, true,
        List.of((17L << 32) | 1, (18L << 32) | 2)));
    putE(m, new Trace.InvalidateEnded(47, true));
    putE(m, new Trace.HostMemoryAccessed(-1, 7, 0x1009, 12, Access.ATOMIC, 41, 42));
    putE(m, new Trace.ExclusiveReturned(119, 17, 0x100a, Errno.EOPNOTSUPP, true));
    putE(m, new Trace.FolioUnlockPutDone(120, 18, 0x100b));
    putE(m, new Trace.CpuFaulted(8, 9, BIG, "devexcl"));
    putE(m, new Trace.DriverBound(19, 10, 0x4e56_0013L, "NOUVEAU"));
    putE(m, new Trace.DeviceEntryInstalled(20, 11, BIG, 0x100c, true, true, true, (20L << 32) | 1, -1));
    putE(m, new Trace.DeviceEntryZapped(21, 12, BIG, 0x100d));
    putE(m, new Trace.InvalidateAcked(48, (21L << 32) | 3, 21, true, true));
    putE(m, new Trace.DeviceAccessIssued(22, 13, BIG, 0x100e, Access.WRITE));
    putE(m, new Trace.DeviceFaulted(23, 14, BIG, Access.ATOMIC));
    putE(m, new Trace.DriverFaultHandled(24, 15, BIG, Access.WRITE, 17, Errno.EAGAIN));
    putE(m, new Trace.ReadRetryChecked(25, (25L << 32) | 1, 9, 11, true));
    putE(m, new Trace.DeviceAccessCompleted(26, 121, Errno.ENODEV, 4, 2500));
    putE(m, new Trace.NodeGone(3, "MemberRemoved(downed) \u00e9"));
    putE(m, new Trace.FolioLockLeaseExpired(122, 27, 0x100f, true));
    putE(m, new Trace.DriverLockHeldAcross(28, 16, BIG, "svmm mutex", "make_device_exclusive", 123));
    putE(m, new Trace.KernelWarning("zap_nonpresent_ptes", "!vma_is_anonymous(vma)", 17, BIG));
    putE(m, new Trace.Livelock(18, BIG, (1L << 39) | 7, "migrate_to_ram", 200, 4));
    return m;
  }

  private static void put(Map<Class<?>, HmmProtocol.Msg> m, HmmProtocol.Msg msg) {
    if (m.put(msg.getClass(), msg) != null) throw new IllegalStateException("two samples of " + msg.getClass());
  }

  private static void putE(Map<Class<?>, Trace.Event> m, Trace.Event e) {
    if (m.put(e.getClass(), e) != null) throw new IllegalStateException("two samples of " + e.getClass());
  }
}
