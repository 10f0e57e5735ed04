package hmmemu.gpu.core;

import static hmmemu.gpu.core.CpuScript.DEV;
import static hmmemu.gpu.core.CpuScript.MM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.DevicePrivate;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.DmirrorOp;
import hmmemu.protocol.msg.Ids;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * dmirror's device-private memory (lib/test_hmm.c): dmirror_migrate_to_device with dmirror_migrate_alloc_and_copy
 * and dmirror_migrate_finalize_and_map, dmirror_migrate_to_system and dmirror_devmem_fault with
 * dmirror_devmem_fault_alloc_and_copy, and dmirror_interval_invalidate's MIGRATE owner check. The CPU node's
 * migrate_vma_setup/pages/finalize are played by hand.
 */
class DmirrorMigrateTest {
  static final long B = 0x40_0000L;
  static final long OWNER = Ids.dmirrorPgmapOwner(DEV);

  private CpuScript script;
  private long sub;

  private void boot() {
    script = new CpuScript(ModelSwitches.kernel());
    sub = script.bind(DriverFlavour.DMIRROR).subId();
  }

  private static long page(int i) { return B + ((long) i << Page.SHIFT); }

  /** MIGRATE_TO_DEV of two written pages (7, 8); returns the device pfns the driver chose. */
  private List<Long> migrateTwoToDevice() {
    script.step(new HmmProtocol.DmirrorCmd(60, DEV, MM, DmirrorOp.MIGRATE_TO_DEV, B, 2, List.of()));
    HmmProtocol.MigrateVmaSetup setup = script.take(HmmProtocol.MigrateVmaSetup.class);
    assertEquals(DevicePrivate.SELECT_SYSTEM, setup.flags(), "dmirror_migrate_to_device: MIGRATE_VMA_SELECT_SYSTEM");
    assertEquals(OWNER, setup.pgmapOwner(), "args.pgmap_owner = dmirror->mdevice");
    assertEquals(0, setup.faultPfn());
    assertEquals(2, setup.npages());
    long w = DevicePrivate.MIGRATE_PFN_MIGRATE | DevicePrivate.MIGRATE_PFN_WRITE;
    List<Long> src = List.of(DevicePrivate.migratePfn(0x1000, w), DevicePrivate.migratePfn(0x1001, w));
    script.step(new HmmProtocol.MigrateVmaReply(setup.reqId(), Errno.OK, 9, src, 2, List.of(0L, 0L, 7L, 1L, 0L, 8L)));
    HmmProtocol.MigrateVmaPages pages = script.take(HmmProtocol.MigrateVmaPages.class);
    assertEquals(9, pages.migrateId());
    List<Long> dev = pages.dst().stream().map(DevicePrivate::pfnOf).toList();
    for (int i = 0; i < 2; i++) {
      assertTrue(DevicePrivate.isDevicePrivate(dev.get(i)), "dmirror_devmem_alloc_page");
      assertEquals(DEV, DevicePrivate.deviceOf(dev.get(i)));
      assertTrue(DevicePrivate.writable(pages.dst().get(i)), "MIGRATE_PFN_WRITE follows the source");
    }
    assertTrue(script.node.entries(DEV).isEmpty(), "mapped only after migrate_vma_pages");
    script.step(new HmmProtocol.MigrateVmaReply(pages.reqId(), Errno.OK, 9, src, 2, List.of()));
    List<HmmProtocol.DeviceEntry> entries = script.node.entries(DEV);
    assertEquals(2, entries.size(), "dmirror_migrate_finalize_and_map before migrate_vma_finalize");
    assertEquals(dev.get(0), entries.get(0).pfn());
    assertTrue(entries.get(0).write());
    HmmProtocol.MigrateVmaFinalize fin = script.take(HmmProtocol.MigrateVmaFinalize.class);
    script.step(new HmmProtocol.MigrateVmaReply(fin.reqId(), Errno.OK, 9, src, 2, List.of()));
    return dev;
  }

  @Test
  void migrateToDeviceCopiesIntoDeviceMemoryAndReadsItBack() {
    boot();
    migrateTwoToDevice();
    script.assertNone(HmmProtocol.DeviceMemoryAccess.class); // the read-back reads device memory, not the host
    HmmProtocol.DmirrorReply reply = script.take(HmmProtocol.DmirrorReply.class);
    assertEquals(Errno.OK, reply.errno());
    assertEquals(2, reply.cpages(), "cmd->cpages = bounce.cpages of the read-back");
    assertEquals(List.of(7L, 8L), reply.data());
  }

  /**
   * dmirror_migrate_alloc_and_copy(): "(*src & MIGRATE_PFN_WRITE) || (!spage && args->vma->vm_flags & VM_WRITE)": a
   * hole (no source page) gets a writable device page only in a VM_WRITE VMA (hmm-tests migrate_anon_huge_empty maps
   * its buffer PROT_READ); dmirror_migrate_finalize_and_map then maps it without the WRITE tag.
   */
  @Test
  void aHoleOfAReadOnlyVmaGetsAReadOnlyDevicePage() {
    boot();
    for (boolean vmaWrite : new boolean[] {false, true}) {
      script.step(new HmmProtocol.DmirrorCmd(vmaWrite ? 71 : 70, DEV, MM, DmirrorOp.MIGRATE_TO_DEV, B, 1, List.of()));
      HmmProtocol.MigrateVmaSetup setup = script.take(HmmProtocol.MigrateVmaSetup.class);
      List<Long> src = List.of(DevicePrivate.MIGRATE_PFN_MIGRATE); // a hole: MIGRATE, no page
      script.step(new HmmProtocol.MigrateVmaReply(setup.reqId(), Errno.OK, 9, src, 1, List.of(), vmaWrite));
      HmmProtocol.MigrateVmaPages pages = script.take(HmmProtocol.MigrateVmaPages.class);
      assertEquals(vmaWrite, DevicePrivate.writable(pages.dst().get(0)), "VM_WRITE " + vmaWrite);
      script.step(new HmmProtocol.MigrateVmaReply(pages.reqId(), Errno.OK, 9, src, 1, List.of()));
      assertEquals(vmaWrite, script.node.entries(DEV).get(0).write());
      HmmProtocol.MigrateVmaFinalize fin = script.take(HmmProtocol.MigrateVmaFinalize.class);
      script.step(new HmmProtocol.MigrateVmaReply(fin.reqId(), Errno.OK, 9, src, 1, List.of()));
      script.take(HmmProtocol.DmirrorReply.class);
    }
  }

  @Test
  void ownMigrateIsSkippedWithoutSetSeqAnotherOwnersZaps() {
    boot();
    migrateTwoToDevice();
    script.take(HmmProtocol.DmirrorReply.class);
    long own = script.invalidate(sub, B, page(2), NotifyEvent.MIGRATE, OWNER, true, script.nextOddSeq());
    HmmProtocol.InvalidateAck ack = script.ackOf(own);
    assertTrue(ack.ok());
    assertFalse(ack.seqSet(), "dmirror_interval_invalidate returns true before mmu_interval_set_seq");
    assertEquals(2, script.node.entries(DEV).size());
    long other = script.invalidate(sub, B, page(1), NotifyEvent.MIGRATE, Ids.dmirrorPgmapOwner(DEV + 1), true,
        script.nextOddSeq());
    assertTrue(script.ackOf(other).seqSet());
    assertEquals(0, script.node.entries(DEV).size(), "entries of page 0 and (inclusive end) page 1 erased");
  }

  @Test
  void devmemFaultMigratesThePageBackWithTheFaultPage() {
    boot();
    List<Long> dev = migrateTwoToDevice();
    script.take(HmmProtocol.DmirrorReply.class);
    script.step(new HmmProtocol.MigrateToRam(5, DEV, MM, page(1) + 8, dev.get(1), 3));
    HmmProtocol.MigrateVmaSetup setup = script.take(HmmProtocol.MigrateVmaSetup.class);
    assertEquals(page(1), setup.start());
    assertEquals(1, setup.npages());
    assertEquals(DevicePrivate.SELECT_DEVICE_PRIVATE, setup.flags());
    assertEquals(dev.get(1), setup.faultPfn(), "args.fault_page = vmf->page");
    long w = DevicePrivate.MIGRATE_PFN_MIGRATE | DevicePrivate.MIGRATE_PFN_WRITE;
    List<Long> src = List.of(DevicePrivate.migratePfn(dev.get(1), w));
    script.step(new HmmProtocol.MigrateVmaReply(setup.reqId(), Errno.OK, 11, src, 1, List.of()));
    HmmProtocol.MigrateVmaPages pages = script.take(HmmProtocol.MigrateVmaPages.class);
    assertEquals(List.of(DevicePrivate.MIGRATE_PFN_VALID | DevicePrivate.MIGRATE_PFN_WRITE), pages.dst(),
        "a new system page (alloc_page_vma), writable like the source");
    assertEquals(List.of(0L, 0L, 8L), pages.contents(), "copy_highpage from the device page");
    assertEquals(1, script.node.entries(DEV).size(), "xa_erase of the faulting page's entry");
    script.step(new HmmProtocol.MigrateVmaReply(pages.reqId(), Errno.OK, 11, src, 1, List.of()));
    HmmProtocol.MigrateVmaFinalize fin = script.take(HmmProtocol.MigrateVmaFinalize.class);
    script.assertNone(HmmProtocol.MigrateToRamDone.class);
    script.step(new HmmProtocol.MigrateVmaReply(fin.reqId(), Errno.OK, 11, src, 1, List.of()));
    HmmProtocol.MigrateToRamDone done = script.take(HmmProtocol.MigrateToRamDone.class);
    assertEquals(5, done.faultId());
    assertEquals(Errno.OK, done.errno());
  }

  @Test
  void migrateToSystemCountsTheMigratedPages() {
    boot();
    List<Long> dev = migrateTwoToDevice();
    script.take(HmmProtocol.DmirrorReply.class);
    script.step(new HmmProtocol.DmirrorCmd(61, DEV, MM, DmirrorOp.MIGRATE_TO_SYS, B, 2, List.of()));
    HmmProtocol.MigrateVmaSetup setup = script.take(HmmProtocol.MigrateVmaSetup.class);
    assertEquals(DevicePrivate.SELECT_DEVICE_PRIVATE, setup.flags());
    long w = DevicePrivate.MIGRATE_PFN_MIGRATE | DevicePrivate.MIGRATE_PFN_WRITE;
    List<Long> src = List.of(DevicePrivate.migratePfn(dev.get(0), w), DevicePrivate.migratePfn(dev.get(1), 0));
    script.step(new HmmProtocol.MigrateVmaReply(setup.reqId(), Errno.OK, 12, src, 1, List.of()));
    HmmProtocol.MigrateVmaPages pages = script.take(HmmProtocol.MigrateVmaPages.class);
    assertEquals(List.of(DevicePrivate.MIGRATE_PFN_VALID | DevicePrivate.MIGRATE_PFN_WRITE, 0L), pages.dst(),
        "only pages still MIGRATE get a destination");
    script.step(new HmmProtocol.MigrateVmaReply(pages.reqId(), Errno.OK, 12, src, 1, List.of()));
    HmmProtocol.MigrateVmaFinalize fin = script.take(HmmProtocol.MigrateVmaFinalize.class);
    script.step(new HmmProtocol.MigrateVmaReply(fin.reqId(), Errno.OK, 12, src, 1, List.of()));
    HmmProtocol.DmirrorReply reply = script.take(HmmProtocol.DmirrorReply.class);
    assertEquals(Errno.OK, reply.errno());
    assertEquals(1, reply.cpages(), "dmirror_successful_migrated_pages");
  }

  @Test
  void readFaultPassesThePgmapOwnerAsDevPrivateOwner() {
    boot();
    script.step(new HmmProtocol.DmirrorCmd(62, DEV, MM, DmirrorOp.READ, B, 1, List.of()));
    HmmProtocol.HmmRangeFault f = script.take(HmmProtocol.HmmRangeFault.class);
    assertEquals(OWNER, f.devPrivateOwner(), "dmirror_range_fault: range.dev_private_owner = dmirror->mdevice");
  }
}
