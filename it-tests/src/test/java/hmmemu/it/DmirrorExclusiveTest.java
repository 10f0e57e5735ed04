package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.CpuAccessDone;
import hmmemu.protocol.msg.HmmProtocol.DeviceInfo;
import hmmemu.protocol.msg.HmmProtocol.DmirrorReply;
import hmmemu.protocol.msg.HmmProtocol.PageInfo;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** docs/SCENARIOS.md C01 (hmm-tests hmm.exclusive) on a 1 CPU + 2 GPU node cluster, the dmirror device on GPU node 1. */
class DmirrorExclusiveTest {
  static final int MM = 1;
  static final long B = 0x7f10_0000_0000L;
  static final int NPAGES = 1024;
  static final int D0 = 16;

  /** C01: EXCLUSIVE converts all 1024 pages; the CPU's first touch of each page faults once, raises one CLEAR and restores PRESENT(W,D). */
  @Test
  @DisplayName("C01 hmm.exclusive: 1024 conversions, 1024 CPU faults, 1024 CLEARs, values i+1")
  void exclusiveThenCpuTouchRestoresEveryPage() {
    try (ClusterFixture f = new ClusterFixture(2, ModelSwitches.kernel())) {
      f.call(f.gpu(1), new HmmProtocol.BindMm(f.client.nextReqId(), D0, MM, DriverFlavour.DMIRROR),
          HmmProtocol.MmBound.class);
      assertEquals(Errno.OK, f.call(f.cpu(), new HmmProtocol.Syscall(f.client.nextReqId(), MM,
          HmmProtocol.SyscallKind.MMAP, B, NPAGES * Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, 0),
          HmmProtocol.SyscallDone.class).errno());
      for (int i = 0; i < NPAGES; i++) {
        assertEquals(Errno.OK, f.call(f.cpu(), new HmmProtocol.CpuAccess(f.client.nextReqId(), 1, MM,
            B + i * Page.SIZE, Access.WRITE, i), CpuAccessDone.class).errno());
      }
      long invalidationsBefore = device(f).invalidations();

      DmirrorReply ex = f.call(f.gpu(1), new HmmProtocol.DmirrorCmd(f.client.nextReqId(), D0, MM,
          HmmProtocol.DmirrorOp.EXCLUSIVE, B, NPAGES, List.of()), DmirrorReply.class);
      assertEquals(Errno.OK, ex.errno());
      assertEquals(NPAGES, ex.cpages(), "cpages");
      assertEquals(NPAGES, ex.data().size());
      for (int i = 0; i < NPAGES; i++) assertEquals(i, ex.data().get(i), "mirror[" + i + "]");
      for (int i = 0; i < NPAGES; i += 97) {
        PageInfo p = page(f, i);
        assertEquals(PteState.DEVEXCL, p.pte(), "page " + i);
        assertTrue(p.folioDirty(), "dirty pushed to the folio at conversion");
        assertFalse(p.folioLocked(), "unlocked by the driver");
        assertEquals(1, p.refcount());
        assertEquals(1, p.mapcount(), "V6.15: DEVEXCL counted in mapcount");
      }
      DeviceInfo afterEx = device(f);
      assertEquals(NPAGES, afterEx.entries().stream().filter(HmmProtocol.DeviceEntry::atomic).count(), "ATOMIC entries");
      assertEquals(NPAGES, afterEx.invalidations() - invalidationsBefore, "inv(S0) = 1024 EXCLUSIVE (owner NULL)");
      assertEquals(Errno.EPERM, check(f), "CHECK_EXCLUSIVE sees atomic entries");

      CompletableFuture<?>[] touches = new CompletableFuture<?>[NPAGES];
      int[] faults = new int[NPAGES];
      for (int i = 0; i < NPAGES; i++) {
        int idx = i;
        touches[i] = f.client.ask(f.cpu(), new HmmProtocol.CpuAccess(f.client.nextReqId(), 1, MM, B + i * Page.SIZE,
            Access.ATOMIC, 1)).thenAccept(r -> faults[idx] = ((CpuAccessDone) r).faults()).toCompletableFuture();
      }
      f.await(CompletableFuture.allOf(touches), "1024 CPU increments");
      for (int i = 0; i < NPAGES; i++) assertEquals(1, faults[i], "exactly one fault on page " + i);
      DeviceInfo afterTouch = device(f);
      assertEquals(NPAGES, afterTouch.invalidations() - afterEx.invalidations(), "inv(S0) = 1024 CLEAR");
      assertEquals(0, afterTouch.entries().stream().filter(HmmProtocol.DeviceEntry::atomic).count());
      for (int i = 0; i < NPAGES; i += 97) {
        PageInfo p = page(f, i);
        assertEquals(PteState.PRESENT, p.pte());
        assertTrue(p.write() && p.dirty(), "restored PRESENT(W,D): the store does not fault again");
        assertEquals(i + 1, p.word0());
      }
      assertEquals(Errno.OK, check(f), "CHECK_EXCLUSIVE returns 0 after the CPU took every page back");
      assertTrue(f.verdict().violations().isEmpty(), "no invariant violated");
    }
  }

  private static PageInfo page(ClusterFixture f, int i) {
    return f.call(f.cpu(), new HmmProtocol.InspectPage(f.client.nextReqId(), MM, B + i * Page.SIZE), PageInfo.class);
  }

  private static DeviceInfo device(ClusterFixture f) {
    return f.call(f.gpu(1), new HmmProtocol.InspectDevice(f.client.nextReqId(), D0), DeviceInfo.class);
  }

  private static Errno check(ClusterFixture f) {
    return f.call(f.gpu(1), new HmmProtocol.DmirrorCmd(f.client.nextReqId(), D0, MM,
        HmmProtocol.DmirrorOp.CHECK_EXCLUSIVE, B, NPAGES, List.of()), DmirrorReply.class).errno();
  }
}
