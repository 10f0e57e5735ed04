package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import hmmemu.cluster.check.CheckerActor;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The checker catches a deliberately broken driver on a real cluster (the invariants can fail end to end). */
class BrokenDriverCaughtTest {
  static final int MM = 1;
  static final long X = 0x7f20_0000_0000L;

  /** A nouveau driver that programs the GPU PTE before read_retry, and keeps it when the check fails, is reported. */
  @Test
  @DisplayName("a driver that maps before read_retry is caught by the invariant checker")
  void mapBeforeReadRetryIsCaught() {
    ModelSwitches broken = ModelSwitches.kernel().withBrokenMapBeforeRetry(true).withDriverDeadlineMicros(200_000);
    try (ClusterFixture f = new ClusterFixture(2, broken)) {
      f.call(f.gpu(1), new HmmProtocol.BindMm(f.client.nextReqId(), 16, MM, DriverFlavour.NOUVEAU),
          HmmProtocol.MmBound.class);
      f.call(f.gpu(2), new HmmProtocol.BindMm(f.client.nextReqId(), 32, MM, DriverFlavour.NOUVEAU),
          HmmProtocol.MmBound.class);
      assertEquals(Errno.OK, f.call(f.cpu(), new HmmProtocol.Syscall(f.client.nextReqId(), MM,
          HmmProtocol.SyscallKind.MMAP, X, Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, 0),
          HmmProtocol.SyscallDone.class).errno());
      f.call(f.cpu(), new HmmProtocol.CpuAccess(f.client.nextReqId(), 1, MM, X, Access.WRITE, 0),
          HmmProtocol.CpuAccessDone.class);
      // GPU 2 takes X device-exclusive; GPU 1's conversion then restores it (CLEAR on GPU 1's own notifier after
      // read_begin), so GPU 1's read_retry fails: the broken driver has already mapped.
      f.call(f.gpu(2), new HmmProtocol.DeviceAccess(f.client.nextReqId(), 32, MM, X, Access.ATOMIC, 1),
          HmmProtocol.DeviceAccessDone.class);
      f.call(f.gpu(1), new HmmProtocol.DeviceAccess(f.client.nextReqId(), 16, MM, X, Access.ATOMIC, 1),
          HmmProtocol.DeviceAccessDone.class);
      CheckerActor.VerdictReply v = f.verdict();
      assertFalse(v.violations().isEmpty(), "the broken driver must be reported; recent events:\n" + v.recent());
    }
  }
}
