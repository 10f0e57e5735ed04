package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.D1;
import static hmmemu.cpu.core.Harness.MM;
import static hmmemu.cpu.core.Harness.P;
import static hmmemu.cpu.core.Harness.S0;
import static hmmemu.cpu.core.Harness.S1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DevicePrivate;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.InvalidateStart;
import hmmemu.protocol.msg.HmmProtocol.MigrateToRam;
import hmmemu.protocol.msg.HmmProtocol.MigrateVmaReply;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Device-private pages on the CPU node: migrate_vma_setup/pages/finalize (mm/migrate_device.c) with
 * MMU_NOTIFY_MIGRATE carrying the pgmap owner, the device-private branch of do_swap_page (mm/memory.c) with and
 * without the trylock of commit 1afaeb8293c9, and hmm_vma_handle_pte's dev_private_owner test (mm/hmm.c). The test
 * plays the drivers (lib/test_hmm.c dmirror_migrate_to_device, dmirror_devmem_fault).
 */
class MigrateDeviceTest {
  static final long OWN0 = Ids.dmirrorPgmapOwner(D0);
  static final long OWN1 = Ids.dmirrorPgmapOwner(D1);

  private final List<Long> devicePagesUsed = new ArrayList<>();

  private MigrateVmaReply call(Harness h, int device, HmmProtocol.Msg m, long reqId) {
    h.step(device, m);
    return h.reply(MigrateVmaReply.class, r -> r.reqId() == reqId);
  }

  private MigrateVmaReply setup(Harness h, int device, long start, int npages, int flags, long owner, long faultPfn) {
    long id = Ids.reqId(device, h.req());
    return call(h, device, new HmmProtocol.MigrateVmaSetup(id, device, MM, start, npages, flags, owner, faultPfn), id);
  }

  private MigrateVmaReply pages(Harness h, int device, long migrateId, List<Long> dst, List<Long> contents) {
    long id = Ids.reqId(device, h.req());
    return call(h, device, new HmmProtocol.MigrateVmaPages(id, device, migrateId, dst, contents), id);
  }

  private MigrateVmaReply finalizeMigration(Harness h, int device, long migrateId) {
    long id = Ids.reqId(device, h.req());
    return call(h, device, new HmmProtocol.MigrateVmaFinalize(id, device, migrateId), id);
  }

  /** dmirror_migrate_to_device(): every collected page gets a device page of {@code device}. */
  private List<Long> toDevice(Harness h, int device, long start, int npages) {
    MigrateVmaReply s = setup(h, device, start, npages, DevicePrivate.SELECT_SYSTEM, Ids.dmirrorPgmapOwner(device), 0);
    assertEquals(Errno.OK, s.errno());
    List<Long> dst = new ArrayList<>();
    for (long src : s.src()) {
      if (!DevicePrivate.migrating(src)) {
        dst.add(0L);
        continue;
      }
      long pfn = DevicePrivate.pfn(device, devicePagesUsed.size());
      devicePagesUsed.add(pfn);
      dst.add(DevicePrivate.migratePfn(pfn, DevicePrivate.MIGRATE_PFN_WRITE));
    }
    pages(h, device, s.migrateId(), dst, List.of());
    MigrateVmaReply f = finalizeMigration(h, device, s.migrateId());
    assertEquals(Errno.OK, f.errno());
    return f.src();
  }

  /** dmirror_devmem_fault() for one MigrateToRam: setup with fault_page, a new system page holding {@code word0}. */
  private void serveMigrateToRam(Harness h, MigrateToRam m, long word0) {
    MigrateVmaReply s = setup(h, m.deviceId(), m.va(), 1, DevicePrivate.SELECT_DEVICE_PRIVATE,
        Ids.dmirrorPgmapOwner(m.deviceId()), m.pfn());
    assertEquals(Errno.OK, s.errno());
    boolean migrate = DevicePrivate.migrating(s.src().get(0)) && DevicePrivate.pfnOf(s.src().get(0)) != 0;
    pages(h, m.deviceId(), s.migrateId(), List.of(migrate ? DevicePrivate.MIGRATE_PFN_VALID : 0L),
        migrate ? List.of(0L, 0L, word0) : List.of());
    finalizeMigration(h, m.deviceId(), s.migrateId());
    h.step(m.deviceId(), new HmmProtocol.MigrateToRamDone(m.faultId(), m.deviceId(), Errno.OK));
  }

  private static List<MigrateToRam> migrateToRams(Harness h) {
    List<MigrateToRam> out = new ArrayList<>();
    for (Outbound o : h.sent) if (o.msg() instanceof MigrateToRam m) out.add(m);
    return out;
  }

  @Test
  void migrateVmaSetupRaisesMigrateWithThePgmapOwnerAndInstallsMigrationEntries() {
    Harness h = new Harness();
    h.mmapRw(B, 2);
    h.cpu(B, Access.WRITE, 7);
    h.cpu(B + P, Access.WRITE, 8);
    long old = h.pte(B).pfn();
    h.insertInterval(S0, D0);
    h.insertInterval(S1, D1);
    MigrateVmaReply s = setup(h, D0, B, 2, DevicePrivate.SELECT_SYSTEM, OWN0, 0);
    List<InvalidateStart> migrates = new ArrayList<>();
    for (Outbound o : h.sent) if (o.msg() instanceof InvalidateStart i && i.event() == NotifyEvent.MIGRATE) migrates.add(i);
    assertEquals(2, migrates.size(), "one MIGRATE callback per subscription");
    for (InvalidateStart i : migrates) {
      assertEquals(OWN0, i.owner(), "migrate_vma_collect: mmu_notifier_range_init_owner(MIGRATE, pgmap_owner)");
      assertEquals(B, i.start());
      assertEquals(B + 2 * P, i.end());
    }
    assertEquals(2, s.cpages());
    assertEquals(old, DevicePrivate.pfnOf(s.src().get(0)));
    assertTrue(DevicePrivate.writable(s.src().get(0)));
    assertEquals(List.of(0L, 0L, 7L, 1L, 0L, 8L), s.contents(), "the driver copies the collected system pages");
    assertEquals(PteState.MIGRATION, h.pte(B).state());
    assertTrue(h.folio(old).locked(), "collected pages are locked until finalize");
    assertEquals(0, h.folio(old).mapcount(), "folio_remove_rmap_pte at collect");
    assertEquals(1, h.folio(old).refcount(), "only the collect's reference");
  }

  @Test
  void migrateToDeviceAndBackKeepsTheData() {
    Harness h = new Harness();
    h.mmapRw(B, 3);
    h.cpu(B, Access.WRITE, 7);
    h.cpu(B + P, Access.WRITE, 8); // page 2 stays a hole of an anonymous VMA
    long old = h.pte(B).pfn();
    List<Long> src = toDevice(h, D0, B, 3);
    assertEquals(3, src.stream().filter(DevicePrivate::migrating).count(), "two pages and a hole");
    for (int i = 0; i < 3; i++) {
      Pte p = h.pte(B + i * P);
      assertEquals(PteState.DEVICE_PRIVATE, p.state(), "page " + i);
      assertTrue(p.write());
      assertEquals(DevicePrivate.pfn(D0, i), p.pfn());
      FolioView f = h.folio(p.pfn());
      assertEquals(1, f.refcount());
      assertEquals(1, f.mapcount());
      assertFalse(f.locked());
    }
    assertTrue(h.folio(old).freed(), "the system page is freed after migrate_vma_finalize");
    // dmirror_migrate_to_system: SELECT_DEVICE_PRIVATE of its own pgmap owner, new system pages.
    MigrateVmaReply s = setup(h, D0, B, 3, DevicePrivate.SELECT_DEVICE_PRIVATE, OWN0, 0);
    assertEquals(3, s.cpages());
    pages(h, D0, s.migrateId(), List.of(DevicePrivate.MIGRATE_PFN_VALID, DevicePrivate.MIGRATE_PFN_VALID,
        DevicePrivate.MIGRATE_PFN_VALID), List.of(0L, 0L, 7L, 1L, 0L, 8L));
    finalizeMigration(h, D0, s.migrateId());
    assertEquals(7, h.cpu(B, Access.READ, 0).value());
    assertEquals(8, h.cpu(B + P, Access.READ, 0).value());
    assertEquals(PteState.PRESENT, h.pte(B).state());
    assertTrue(h.folio(DevicePrivate.pfn(D0, 0)).freed(), "the device page went back to the driver");
    assertEquals(0, h.cpu.migrationsInFlight());
  }

  @Test
  void anotherDevicesPagesAreNotCollected() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 7);
    toDevice(h, D0, B, 1);
    MigrateVmaReply s = setup(h, D1, B, 1, DevicePrivate.SELECT_DEVICE_PRIVATE, OWN1, 0);
    assertEquals(0, s.cpages(), "migrate_vma_collect_pmd: page_pgmap(page)->owner != migrate->pgmap_owner");
    assertEquals(PteState.DEVICE_PRIVATE, h.pte(B).state());
    finalizeMigration(h, D1, s.migrateId());
  }

  @Test
  void cpuFaultOnADevicePrivatePageMigratesItBackThroughTheOwner() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 7);
    toDevice(h, D0, B, 1);
    long dev = h.pte(B).pfn();
    long id = h.cpuSend(MM, 1, B, Access.READ, 0);
    List<MigrateToRam> calls = migrateToRams(h);
    assertEquals(1, calls.size(), "do_swap_page -> pgmap->ops->migrate_to_ram");
    assertEquals(D0, calls.get(0).deviceId());
    assertEquals(dev, calls.get(0).pfn());
    assertTrue(h.folio(dev).locked(), "6.15+: do_swap_page trylocks the device page (1afaeb8293c9)");
    assertEquals(2, h.folio(dev).refcount(), "the mapping and the fault's get_page");
    serveMigrateToRam(h, calls.get(0), 7);
    HmmProtocol.CpuAccessDone d = h.cpuDone(id);
    assertNotNull(d);
    assertEquals(Errno.OK, d.errno());
    assertEquals(7, d.value());
    assertEquals(PteState.PRESENT, h.pte(B).state());
    assertTrue(h.folio(dev).freed());
    assertEquals(1, h.cpuFaults("devpriv"));
  }

  /** N threads fault one device page; the driver serves every migrate_to_ram as dmirror_devmem_fault does. */
  private Harness concurrentFaults(KernelProfile profile, int threads) {
    Harness h = new Harness(ModelSwitches.kernel().withKernelProfile(profile));
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 7);
    toDevice(h, D0, B, 1);
    h.clear();
    for (int t = 1; t <= threads; t++) h.cpuSend(MM, t, B, Access.READ, 0);
    int served = 0;
    for (int round = 0; round < 10 * MigrateDevice.LIVELOCK_BOUND; round++) {
      List<MigrateToRam> calls = migrateToRams(h);
      if (served == calls.size()) break;
      serveMigrateToRam(h, calls.get(served++), 7);
    }
    return h;
  }

  @Test
  void withoutTheTrylockConcurrentFaultsLivelockAndAreReported() {
    Harness h = concurrentFaults(KernelProfile.V5_14, 2);
    List<HmmProtocol.CpuAccessDone> done = new ArrayList<>();
    for (Outbound o : h.sent) if (o.msg() instanceof HmmProtocol.CpuAccessDone d) done.add(d);
    assertEquals(2, done.size(), "both accesses end (bounded run, never a hang)");
    for (HmmProtocol.CpuAccessDone d : done) assertEquals(Errno.LIVELOCK, d.errno());
    List<Trace.Livelock> reports = h.events(Trace.Livelock.class);
    assertEquals(1, reports.size());
    assertEquals(2, reports.get(0).threads());
    assertEquals(MigrateDevice.LIVELOCK_BOUND, reports.get(0).rounds());
    assertTrue(migrateToRams(h).size() >= MigrateDevice.LIVELOCK_BOUND, "each round a migrate_to_ram without progress");
    int report = -1;
    int firstMigration = -1;
    for (int i = 0; i < h.events.size(); i++) {
      Trace.Event e = h.events.get(i);
      if (e instanceof Trace.Livelock && report < 0) report = i;
      if (e instanceof Trace.PteChanged p && p.state() == PteState.PRESENT && firstMigration < 0) firstMigration = i;
    }
    assertTrue(firstMigration < 0 || firstMigration > report, "no migration succeeded before the livelock report");
    assertEquals(0, h.cpu.migrateToRamInFlight());
  }

  @Test
  void withTheTrylockConcurrentFaultsMakeProgress() {
    Harness h = concurrentFaults(KernelProfile.V6_15, 4);
    List<HmmProtocol.CpuAccessDone> done = new ArrayList<>();
    for (Outbound o : h.sent) if (o.msg() instanceof HmmProtocol.CpuAccessDone d) done.add(d);
    assertEquals(4, done.size());
    for (HmmProtocol.CpuAccessDone d : done) {
      assertEquals(Errno.OK, d.errno());
      assertEquals(7, d.value());
    }
    assertEquals(1, migrateToRams(h).size(), "the trylock winner migrates; the others wait and find the PTE present");
    assertTrue(h.events(Trace.Livelock.class).isEmpty());
    assertEquals(PteState.PRESENT, h.pte(B).state());
  }

  @Test
  void oneFaultingThreadMigratesInBothProfiles() {
    Harness h = concurrentFaults(KernelProfile.V5_14, 1);
    assertEquals(Errno.OK, h.reply(HmmProtocol.CpuAccessDone.class, d -> true).errno());
    assertEquals(1, migrateToRams(h).size());
  }

  @Test
  void hmmRangeFaultReturnsTheCallersDevicePagesAndFaultsBackAnotherDevices() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 7);
    h.insertInterval(S0, D0);
    toDevice(h, D0, B, 1);
    long seq = h.cpu.subscriptionSeq(S0).orElseThrow(); // read_begin after the migration
    long dev = h.pte(B).pfn();
    h.clear();
    long id = h.req();
    h.step(D0, new HmmProtocol.HmmRangeFault(id, D0, S0, seq, MM, B, List.of(HmmPfn.REQ_FAULT | HmmPfn.REQ_WRITE),
        OWN0));
    HmmProtocol.HmmRangeFaultReply own = h.reply(HmmProtocol.HmmRangeFaultReply.class, r -> r.reqId() == id);
    assertNotNull(own, "no fault for a page of range->dev_private_owner");
    assertEquals(HmmPfn.VALID | HmmPfn.WRITE | dev, own.hmmPfns().get(0));
    assertTrue(migrateToRams(h).isEmpty());
    // D1's hmm_range_fault (another owner): the page is faulted back through D0's migrate_to_ram.
    long id1 = h.req();
    h.step(D1, new HmmProtocol.HmmRangeFault(id1, D1, 0, 0, MM, B, List.of(HmmPfn.REQ_FAULT), OWN1));
    assertNull(h.reply(HmmProtocol.HmmRangeFaultReply.class, r -> r.reqId() == id1), "waits for migrate_to_ram");
    List<MigrateToRam> calls = migrateToRams(h);
    assertEquals(1, calls.size());
    assertEquals(D0, calls.get(0).deviceId());
    serveMigrateToRam(h, calls.get(0), 7);
    HmmProtocol.HmmRangeFaultReply other = h.reply(HmmProtocol.HmmRangeFaultReply.class, r -> r.reqId() == id1);
    assertNotNull(other);
    assertEquals(Errno.OK, other.errno());
    long word = other.hmmPfns().get(0);
    assertTrue((word & HmmPfn.VALID) != 0);
    assertFalse(DevicePrivate.isDevicePrivate(word & HmmPfn.PFN_MASK), "a system page now");
    assertEquals(PteState.PRESENT, h.pte(B).state());
    // A snapshot (no fault flags) of a device page of another owner: 0.
    toDevice(h, D0, B, 1);
    long id2 = h.req();
    h.step(D1, new HmmProtocol.HmmRangeFault(id2, D1, 0, 0, MM, B, List.of(0), OWN1));
    HmmProtocol.HmmRangeFaultReply snap = h.reply(HmmProtocol.HmmRangeFaultReply.class, r -> r.reqId() == id2);
    assertEquals(Errno.OK, snap.errno(), snap.toString());
    assertEquals(0L, snap.hmmPfns().get(0));
  }

  @Test
  void setupRefusesARangeWithoutAVma() {
    Harness h = new Harness();
    MigrateVmaReply s = setup(h, D0, B, 1, DevicePrivate.SELECT_SYSTEM, OWN0, 0);
    assertEquals(Errno.EINVAL, s.errno(), "migrate_vma_setup: no VMA");
  }

  @Test
  void munmapDropsTheDevicePrivateEntry() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 7);
    toDevice(h, D0, B, 1);
    long dev = h.pte(B).pfn();
    h.syscall(HmmProtocol.SyscallKind.MUNMAP, B, P, 0, null, 0);
    assertEquals(PteState.NONE, h.pte(B).state());
    assertTrue(h.folio(dev).freed(), "zap_nonpresent_ptes: folio_remove_rmap_pte + folio_put of a device page");
  }

  @Test
  void aMigrationOfAGoneNodeIsFinalizedWithNothingMigrated() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 7);
    long old = h.pte(B).pfn();
    setup(h, D0, B, 1, DevicePrivate.SELECT_SYSTEM, OWN0, 0);
    assertEquals(PteState.MIGRATION, h.pte(B).state());
    h.nodeGone(Ids.nodeOfDevice(D0));
    assertEquals(PteState.PRESENT, h.pte(B).state(), "remove_migration_ptes(src, src)");
    assertEquals(old, h.pte(B).pfn());
    assertFalse(h.folio(old).locked());
    assertEquals(1, h.folio(old).refcount());
    assertEquals(0, h.cpu.migrationsInFlight());
    assertEquals(7, h.cpu(B, Access.READ, 0).value(), "mmap_lock was released");
  }

  /** A THP-backed 2 MiB at B (madvise(MADV_HUGEPAGE), one write fault: one PMD-mapped 512-page folio), word 0 = i. */
  private static Harness thp(KernelProfile profile) {
    Harness h = new Harness(ModelSwitches.kernel().withKernelProfile(profile));
    h.mmapRw(B, 512);
    assertEquals(Errno.OK, h.syscall(HmmProtocol.SyscallKind.MADV_HUGEPAGE, B, 512 * P, 9,
        hmmemu.protocol.model.VmaKind.ANON_PRIVATE, 0).errno());
    for (int i = 0; i < 512; i++) h.cpu(B + i * P, Access.WRITE, i);
    assertTrue(h.cpu.hugePmd(MM, B));
    return h;
  }

  /**
   * migrate_vma_collect_pmd() on a huge PMD (mm/migrate_device.c, 6.15 and 5.14 alike): folio_trylock + split_folio()
   * (unmap_folio: __split_huge_pmd's CLEAR over 2 MiB and try_to_migrate_one's CLEAR; __split_huge_page: 512 order-0
   * folios), then every page is collected as an order-0 page: a 64-page chunk (dmirror's) migrates all 64, the
   * other 448 stay PRESENT and are migrated by later chunks the same way; the data goes with them.
   */
  @Test
  void migrateVmaSplitsAPmdMappedThpAndMigratesItsPages() {
    for (KernelProfile profile : KernelProfile.values()) {
      Harness h = thp(profile);
      long pfn0 = h.pte(B).pfn();
      h.insertInterval(S1, D1);
      h.clear();
      List<Long> src = new ArrayList<>();
      for (int c = 0; c < 8; c++) src.addAll(toDevice(h, D0, B + c * 64 * P, 64));
      assertFalse(h.cpu.hugePmd(MM, B), profile.toString());
      assertEquals(2, h.callbacks(S1, NotifyEvent.CLEAR), profile + ": the PMD split's and try_to_migrate_one's, once");
      for (int i = 0; i < 512; i++) {
        assertTrue(DevicePrivate.migrating(src.get(i)), profile + " page " + i);
        assertEquals(pfn0 + i, DevicePrivate.pfnOf(src.get(i)));
        assertEquals(PteState.DEVICE_PRIVATE, h.pte(B + i * P).state());
        FolioView f = h.folio(pfn0 + i);
        assertEquals(0, f.refcount(), "the old order-0 pages are freed");
        assertFalse(f.locked());
      }
    }
  }

  /**
   * "FIXME support THP" in migrate_vma_collect_pmd(): a PTE-mapped page of a large folio (PageTransCompound) is not
   * collected (mpfn 0): after make_device_exclusive's GUP split the PMD, no page of the folio migrates.
   */
  @Test
  void aPteMappedLargeFolioIsNotCollected() {
    Harness h = thp(KernelProfile.V6_15);
    h.insertInterval(S0, D0);
    h.exclusive(D0, B + 100 * P, 0); // FOLL_SPLIT_PMD: the PMD is split, the folio stays large
    assertFalse(h.cpu.hugePmd(MM, B));
    MigrateVmaReply s = setup(h, D1, B, 64, DevicePrivate.SELECT_SYSTEM, OWN1, 0);
    assertEquals(Errno.OK, s.errno());
    assertEquals(0, s.cpages());
    for (long w : s.src()) assertEquals(0L, w);
    finalizeMigration(h, D1, s.migrateId());
    assertEquals(PteState.PRESENT, h.pte(B).state());
    assertFalse(h.folio(h.pte(B).pfn()).locked());
  }

  /** split_folio() fails while the THP is locked by someone else (folio_trylock): the PMD's pages are skipped. */
  @Test
  void aLockedThpIsSkipped() {
    Harness h = thp(KernelProfile.V6_15);
    long pfn0 = h.pte(B).pfn();
    h.cpu.folioForTest(pfn0).locked = true; // as a driver's folio lock would
    MigrateVmaReply s = setup(h, D0, B, 64, DevicePrivate.SELECT_SYSTEM, OWN0, 0);
    assertEquals(0, s.cpages());
    assertTrue(h.cpu.hugePmd(MM, B), "not split");
  }

  /**
   * The GPU node of the device holding a device-private page dies while a CPU fault waits in its migrate_to_ram():
   * the call returns VM_FAULT_SIGBUS (the driver cannot copy from device memory that is gone: nouveau_dmem_fault_copy_one
   * returns VM_FAULT_SIGBUS on a failed copy), do_swap_page drops its lock (6.15) and reference, and the access ends with
   * SIGBUS instead of waiting forever. The PTE stays DEVICE_PRIVATE; a later access takes SIGBUS without calling the
   * driver; another device's hmm_range_fault asking for the page gets -EFAULT (hmm_vma_fault: VM_FAULT_ERROR).
   */
  @Test
  void aCpuFaultInMigrateToRamEndsWithSigbusWhenTheDevicesNodeDies() {
    for (KernelProfile profile : KernelProfile.values()) {
      Harness h = new Harness(ModelSwitches.kernel().withKernelProfile(profile));
      h.mmapRw(B, 1);
      h.cpu(B, Access.WRITE, 7);
      toDevice(h, D0, B, 1);
      long dev = h.pte(B).pfn();
      long id = h.cpuSend(MM, 1, B, Access.READ, 0);
      assertEquals(1, migrateToRams(h).size());
      assertNull(h.cpuDone(id), profile + ": waits for migrate_to_ram");
      h.nodeGone(Ids.nodeOfDevice(D0));
      HmmProtocol.CpuAccessDone d = h.cpuDone(id);
      assertNotNull(d, profile + ": the fault completes");
      assertEquals(Errno.SIGBUS, d.errno());
      assertEquals(PteState.DEVICE_PRIVATE, h.pte(B).state());
      assertFalse(h.folio(dev).locked());
      assertEquals(1, h.folio(dev).refcount(), "only the mapping's reference is left");
      h.clear();
      assertEquals(Errno.SIGBUS, h.cpu(B, Access.WRITE, 1).errno(), "a later access: SIGBUS at once");
      assertEquals(0, migrateToRams(h).size(), "the dead driver is not called");
      long seq = h.insertInterval(S1, D1);
      HmmProtocol.HmmRangeFaultReply r = h.rangeFault(D1, S1, seq, B, List.of(HmmPfn.REQ_FAULT));
      assertEquals(Errno.EFAULT, r.errno());
    }
  }
}
