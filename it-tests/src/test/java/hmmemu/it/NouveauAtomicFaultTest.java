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
import hmmemu.protocol.msg.HmmProtocol.DeviceAccessDone;
import hmmemu.protocol.msg.HmmProtocol.DeviceInfo;
import hmmemu.protocol.msg.HmmProtocol.PageInfo;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** docs/SCENARIOS.md C05 and C06 on a 1 CPU + 2 GPU node cluster (nouveau_atomic_range_fault against make_device_exclusive). */
class NouveauAtomicFaultTest {
  static final int MM = 1;
  static final long X = 0x7f00_0000_0000L;
  static final int DEV = 16;

  ClusterFixture f;

  @BeforeEach
  void start() {
    f = new ClusterFixture(2, ModelSwitches.kernel());
    f.call(f.gpu(1), new HmmProtocol.BindMm(f.client.nextReqId(), DEV, MM, DriverFlavour.NOUVEAU),
        HmmProtocol.MmBound.class);
    f.call(f.gpu(2), new HmmProtocol.BindMm(f.client.nextReqId(), 32, MM, DriverFlavour.NOUVEAU),
        HmmProtocol.MmBound.class);
    HmmProtocol.SyscallDone mmap = f.call(f.cpu(), new HmmProtocol.Syscall(f.client.nextReqId(), MM,
        HmmProtocol.SyscallKind.MMAP, X, Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, 0), HmmProtocol.SyscallDone.class);
    assertEquals(Errno.OK, mmap.errno());
    CpuAccessDone w = f.call(f.cpu(), new HmmProtocol.CpuAccess(f.client.nextReqId(), 1, MM, X, Access.WRITE, 5),
        CpuAccessDone.class);
    assertEquals(Errno.OK, w.errno());
  }

  @AfterEach
  void stop() { f.close(); }

  private PageInfo page() {
    return f.call(f.cpu(), new HmmProtocol.InspectPage(f.client.nextReqId(), MM, X), PageInfo.class);
  }

  private DeviceInfo device() {
    return f.call(f.gpu(1), new HmmProtocol.InspectDevice(f.client.nextReqId(), DEV), DeviceInfo.class);
  }

  /** C05: an uncontended GPU atomic fault converts the page in one loop iteration and the atomic executes once. */
  @Test
  @DisplayName("C05: uncontended atomic fault takes one iteration and leaves the PTE device-exclusive")
  void uncontendedAtomicFaultTakesOneIteration() {
    DeviceAccessDone done = f.call(f.gpu(1), new HmmProtocol.DeviceAccess(f.client.nextReqId(), DEV, MM, X,
        Access.ATOMIC, 1), DeviceAccessDone.class);
    assertEquals(Errno.OK, done.errno());
    assertEquals(5, done.value(), "fetch-add returns the CPU's value");
    assertEquals(1, done.faultRounds(), "one fault, one replay");
    PageInfo p = page();
    assertEquals(PteState.DEVEXCL, p.pte());
    assertFalse(p.folioLocked(), "the driver unlocked the folio");
    assertEquals(1, p.refcount(), "the GUP reference was put exactly once");
    assertEquals(1, p.mapcount(), "V6.15: DEVEXCL counts as a mapping");
    assertEquals(6, p.word0());
    DeviceInfo d = device();
    assertEquals(1, d.faultsHandled());
    assertEquals(1, d.driverIterations(), "the own EXCLUSIVE notification is filtered: no retry");
    assertEquals(0, d.driverTimeouts());
    assertTrue(d.entries().stream().anyMatch(e -> e.va() == X && e.atomic() && e.write() && e.read()),
        "V|W|A mapping programmed: " + d.entries());
    assertTrue(f.verdict().violations().isEmpty(), "no invariant violated");
  }

  /** C06: a CPU read inside the driver window waits for the folio lock; after it the CLEAR revokes the GPU mapping. */
  @Test
  @DisplayName("C06: CPU touch inside the driver window waits for the folio unlock, then restores the PTE")
  void cpuTouchInsideDriverWindowWaitsForFolioUnlock() {
    CompletableFuture<HmmProtocol.Msg> held = f.gate.holdWhen(1, 0, m -> m instanceof HmmProtocol.FolioUnlockPut);
    CompletableFuture<DeviceAccessDone> gpu = f.client.ask(f.gpu(1), new HmmProtocol.DeviceAccess(
        f.client.nextReqId(), DEV, MM, X, Access.ATOMIC, 1)).thenApply(DeviceAccessDone.class::cast).toCompletableFuture();
    f.await(held, "the driver's folio_unlock+folio_put (t3)");
    PageInfo during = page();
    assertEquals(PteState.DEVEXCL, during.pte());
    assertTrue(during.folioLocked(), "between conversion and the driver's unlock the folio is locked");

    CompletableFuture<CpuAccessDone> cpu = f.client.ask(f.cpu(), new HmmProtocol.CpuAccess(f.client.nextReqId(), 1,
        MM, X, Access.READ, 0)).thenApply(CpuAccessDone.class::cast).toCompletableFuture();
    PageInfo parked = page(); // processed after the CpuAccess (FIFO from the controller): the fault is parked
    assertEquals(PteState.DEVEXCL, parked.pte(), "the CPU fault cannot restore while the folio is locked");
    assertFalse(cpu.isDone(), "T1's fault waits for the folio lock");

    f.gate.release(1, 0);
    DeviceAccessDone g = f.await(gpu, "the GPU atomic");
    CpuAccessDone c = f.await(cpu, "T1's read");
    assertEquals(Errno.OK, g.errno());
    assertEquals(Errno.OK, c.errno());
    assertTrue(c.faults() >= 1, "T1 took the device-exclusive fault");
    PageInfo after = page();
    assertEquals(PteState.PRESENT, after.pte(), "restore_exclusive_pte made the PTE present again");
    assertFalse(after.folioLocked());
    DeviceInfo d = device();
    assertEquals(1, d.driverIterations(), "no notifier hit the driver's window: its seq check passed first time");
    assertTrue(d.entries().stream().noneMatch(e -> e.va() == X && e.atomic()), "CLEAR revoked the atomic mapping");
    assertEquals(6, after.word0(), "the GPU increment executed before the revocation");
    assertTrue(f.verdict().violations().isEmpty(), "no invariant violated");
  }
}
