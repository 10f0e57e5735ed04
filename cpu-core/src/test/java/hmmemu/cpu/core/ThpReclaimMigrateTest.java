package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.D1;
import static hmmemu.cpu.core.Harness.MM;
import static hmmemu.cpu.core.Harness.OWNER0;
import static hmmemu.cpu.core.Harness.P;
import static hmmemu.cpu.core.Harness.S0;
import static hmmemu.cpu.core.Harness.S1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.InvalidateStart;
import hmmemu.protocol.msg.HmmProtocol.SyscallKind;
import hmmemu.protocol.model.Outbound;
import java.util.List;
import org.junit.jupiter.api.Test;

/** THP/mTHP, reclaim, migration, memory offline, KSM and khugepaged meeting device-exclusive entries (§3.8). */
class ThpReclaimMigrateTest {
  static final long PMD = 512 * P;

  private static Harness harness(KernelProfile profile) {
    return new Harness(ModelSwitches.kernel().withKernelProfile(profile));
  }

  /** A 2 MiB THP-backed VMA at B (madvise(MADV_HUGEPAGE) with PMD order), page i's word 0 = i after the fill. */
  private static Harness thp(KernelProfile profile, int order) {
    Harness h = harness(profile);
    h.mmapRw(B, 512);
    assertEquals(Errno.OK, h.syscall(SyscallKind.MADV_HUGEPAGE, B, PMD, order, VmaKind.ANON_PRIVATE, 0).errno());
    for (int i = 0; i < 512; i++) h.cpu(B + i * P, Access.WRITE, i);
    return h;
  }

  private static List<InvalidateStart> callbacks(Harness h, long subId) {
    return h.sent.stream().map(Outbound::msg).filter(m -> m instanceof InvalidateStart s && s.subId() == subId)
        .map(m -> (InvalidateStart) m).toList();
  }

  /** do_huge_pmd_anonymous_page: one write fault maps a 512-page folio (consecutive pfns) through one PMD. */
  @Test
  void thpFaultMapsOneLargeFolio() {
    Harness h = thp(KernelProfile.V6_15, 9);
    assertEquals(1, h.cpuFaults("anon"), "one fault for the whole 2 MiB");
    long pfn0 = h.pte(B).pfn();
    for (int i = 0; i < 512; i++) {
      Pte p = h.pte(B + i * P);
      assertEquals(PteState.PRESENT, p.state());
      assertEquals(pfn0 + i, p.pfn());
      assertTrue(p.write());
    }
    assertEquals(1, h.events(hmmemu.protocol.trace.Trace.PteChanged.class).stream()
        .filter(e -> e.cause().equals("do_huge_pmd_anonymous_page") && e.va() == B).count());
  }

  /**
   * make_device_exclusive's GUP (FOLL_SPLIT_PMD, follow_pmd_mask -> __split_huge_pmd) raises CLEAR over the whole
   * 2 MiB first, seen by a driver that holds only another page of it; then EXCLUSIVE over the one page. The folio
   * stays large (the other PTEs keep their pfns).
   */
  @Test
  void makeDeviceExclusiveSplitsThePmdWithClearOverTwoMiB() {
    Harness h = thp(KernelProfile.V6_15, 9);
    h.insertInterval(S0, D0);
    h.insert(S1, D1, NotifierKind.INTERVAL, B + 100 * P, B + 101 * P);
    long pfn0 = h.pte(B).pfn();
    long pfn = h.exclusive(D0, B + 5 * P, OWNER0);
    assertEquals(pfn0 + 5, pfn, "the tail page itself, no copy");
    List<InvalidateStart> d0 = callbacks(h, S0);
    assertEquals(NotifyEvent.CLEAR, d0.get(0).event());
    assertEquals(B, d0.get(0).start());
    assertEquals(B + PMD, d0.get(0).end());
    assertEquals(NotifyEvent.EXCLUSIVE, d0.get(1).event());
    assertEquals(B + 5 * P, d0.get(1).start());
    List<InvalidateStart> d1 = callbacks(h, S1);
    assertEquals(1, d1.size(), "the other driver sees the split's CLEAR, not the page's EXCLUSIVE");
    assertEquals(NotifyEvent.CLEAR, d1.get(0).event());
    assertEquals(PteState.DEVEXCL, h.pte(B + 5 * P).state());
    assertEquals(PteState.PRESENT, h.pte(B + 6 * P).state());
    assertEquals(pfn0 + 6, h.pte(B + 6 * P).pfn());
    // A second conversion in the same (now PTE-mapped) folio splits nothing.
    h.clear();
    h.exclusive(D0, B + 7 * P, OWNER0);
    assertEquals(List.of(NotifyEvent.EXCLUSIVE), callbacks(h, S0).stream().map(InvalidateStart::event).toList());
  }

  /** 5.14 page_make_device_exclusive: if (!PageAnon(page) || PageTail(page)) return false -> NULL -> -EBUSY. */
  @Test
  void v514RefusesTailPages() {
    Harness h = thp(KernelProfile.V5_14, 9);
    HmmProtocol.MakeDeviceExclusiveReply r = h.mde(D0, B + 5 * P, OWNER0);
    assertEquals(Errno.EBUSY, r.errno());
    assertEquals(PteState.PRESENT, h.pte(B + 5 * P).state());
    assertFalse(h.folio(h.pte(B + 5 * P).pfn()).locked(), "the folio lock was given back");
  }

  /** mTHP (order 4, 64 KiB): PTE-mapped, no split; 6.15 converts a tail page, 5.14 refuses it. */
  @Test
  void mthpTailPage() {
    Harness h = thp(KernelProfile.V6_15, 4);
    assertEquals(32, h.cpuFaults("anon"), "512 pages in 16-page folios");
    h.insertInterval(S0, D0);
    h.exclusive(D0, B + 3 * P, OWNER0);
    assertEquals(List.of(NotifyEvent.EXCLUSIVE), callbacks(h, S0).stream().map(InvalidateStart::event).toList());
    Harness v5 = thp(KernelProfile.V5_14, 4);
    assertEquals(Errno.EBUSY, v5.mde(D0, B + 3 * P, OWNER0).errno());
  }

  /** A device-exclusive order-0 page at B, word 0 = 42, device D0 holds it (interval notifier S0). */
  private static Harness exclusivePage(KernelProfile profile) {
    Harness h = harness(profile);
    h.mmapRw(B, 4);
    h.cpu(B, Access.WRITE, 42);
    h.insertInterval(S0, D0);
    h.exclusive(D0, B, OWNER0);
    h.clear();
    return h;
  }

  /**
   * 6.15 try_to_unmap_one (mm/rmap.c, "handle device-exclusive entries correctly"): CLEAR, DEVEXCL -> swap entry,
   * the folio is freed; a later CPU access swaps the data in (do_swap_page).
   */
  @Test
  void reclaimV615SwapsOutAndIn() {
    Harness h = exclusivePage(KernelProfile.V6_15);
    long pfn = h.pte(B).pfn();
    assertEquals(List.of(1L, 0L), java.util.Arrays.stream(h.cpu.rss(MM)).boxed().toList());
    HmmProtocol.SyscallDone d = h.syscall(SyscallKind.MADV_PAGEOUT, B, P, 0, VmaKind.ANON_PRIVATE, 0);
    assertEquals(1, d.value(), "one page freed");
    assertEquals(List.of(0L, 1L), java.util.Arrays.stream(h.cpu.rss(MM)).boxed().toList(), "MM_ANONPAGES falls");
    assertEquals(List.of(NotifyEvent.CLEAR), callbacks(h, S0).stream().map(InvalidateStart::event).toList());
    assertEquals(PteState.SWAP, h.pte(B).state());
    assertTrue(h.folio(pfn).freed());
    assertEquals(42, h.cpu(B, Access.READ, 0).value(), "data kept");
    assertEquals(1, h.cpuFaults("swap"));
    assertNotEquals(pfn, h.pte(B).pfn());
  }

  /**
   * 5.14: the DEVEXCL entry is not in the mapcount (folio_mapped false: no try_to_unmap) but holds a reference, so
   * page_ref_freeze() in __remove_mapping() fails: never freed, no notifier, the device keeps its access.
   */
  @Test
  void reclaimV514NeverFrees() {
    Harness h = exclusivePage(KernelProfile.V5_14);
    long pfn = h.pte(B).pfn();
    assertEquals(0, h.syscall(SyscallKind.MADV_PAGEOUT, B, P, 0, VmaKind.ANON_PRIVATE, 0).value());
    assertEquals(List.of(1L, 0L), java.util.Arrays.stream(h.cpu.rss(MM)).boxed().toList(), "rss unchanged");
    assertEquals(0, callbacks(h, S0).size());
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    assertFalse(h.folio(pfn).freed());
  }

  /** 6.15 try_to_migrate_one: CLEAR, DEVEXCL -> migration entry -> PRESENT (read-only) on a new pfn, data kept. */
  @Test
  void migrateV615MovesTheEntry() {
    Harness h = exclusivePage(KernelProfile.V6_15);
    long pfn = h.pte(B).pfn();
    HmmProtocol.SyscallDone d = h.syscall(SyscallKind.MIGRATE_PAGES, B, P, 0, VmaKind.ANON_PRIVATE, 0);
    assertEquals(Errno.OK, d.errno());
    assertEquals(List.of(NotifyEvent.CLEAR), callbacks(h, S0).stream().map(InvalidateStart::event).toList());
    Pte p = h.pte(B);
    assertEquals(PteState.PRESENT, p.state());
    assertNotEquals(pfn, p.pfn());
    assertFalse(p.write(), "a readable-exclusive migration entry restores read-only");
    assertTrue(h.folio(pfn).freed());
    assertTrue(h.folio(p.pfn()).anonExclusive());
    assertEquals(List.of(PteState.MIGRATION, PteState.PRESENT), h.events(hmmemu.protocol.trace.Trace.PteChanged.class)
        .stream().filter(e -> e.va() == B).map(e -> e.state()).toList());
    assertEquals(42, h.cpu(B, Access.READ, 0).value());
  }

  /** 5.14: migrate_page_move_mapping() sees the entry's extra reference: -EAGAIN on all 10 passes; offline loops. */
  @Test
  void migrateAndOfflineV514Fail() {
    Harness h = exclusivePage(KernelProfile.V5_14);
    long pfn = h.pte(B).pfn();
    assertEquals(Errno.EBUSY, h.syscall(SyscallKind.MIGRATE_PAGES, B, P, 0, VmaKind.ANON_PRIVATE, 0).errno());
    HmmProtocol.SyscallDone off = h.syscall(SyscallKind.OFFLINE_PAGES, B, P, 0, VmaKind.ANON_PRIVATE, 0);
    assertEquals(Errno.EBUSY, off.errno());
    assertEquals(Migrate.OFFLINE_ROUNDS, off.value(), "bounded rounds, reported");
    assertEquals(0, callbacks(h, S0).size());
    assertEquals(new Pte(PteState.DEVEXCL, pfn, true, false, false, true).state(), h.pte(B).state());
    assertEquals(pfn, h.pte(B).pfn());
    // offline of a present page works under 5.14 too
    h.cpu(B + P, Access.WRITE, 7);
    assertEquals(Errno.OK, h.syscall(SyscallKind.OFFLINE_PAGES, B + P, P, 0, VmaKind.ANON_PRIVATE, 0).errno());
  }

  /** Migration waits for the driver's folio lock (MIGRATE_SYNC folio_lock), then moves the page. */
  @Test
  void migrateWaitsForTheDriversFolioLock() {
    Harness h = harness(KernelProfile.V6_15);
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    long id = h.mdeSend(D0, B, OWNER0);
    long pfn = h.mdeReply(id).pfn();
    long mig = h.req();
    h.step(-1, new HmmProtocol.Syscall(mig, MM, SyscallKind.MIGRATE_PAGES, B, P, 0, VmaKind.ANON_PRIVATE, 0));
    assertEquals(null, h.reply(HmmProtocol.SyscallDone.class, x -> x.reqId() == mig), "parked on the folio lock");
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    h.unlockPut(D0, id, pfn);
    assertEquals(Errno.OK, h.reply(HmmProtocol.SyscallDone.class, x -> x.reqId() == mig).errno());
    assertEquals(PteState.PRESENT, h.pte(B).state());
  }

  /** ksm: identical present pages merge (write_protect_page + replace_page); a DEVEXCL one is never merged. */
  @Test
  void ksmSkipsDeviceExclusive() {
    for (KernelProfile profile : KernelProfile.values()) {
      Harness h = harness(profile);
      h.mmapRw(B, 3);
      for (int i = 0; i < 3; i++) h.cpu(B + i * P, Access.WRITE, 9);
      h.insertInterval(S0, D0);
      h.exclusive(D0, B + 2 * P, OWNER0);
      HmmProtocol.SyscallDone d = h.syscall(SyscallKind.KSM_SCAN, B, 3 * P, 0, VmaKind.ANON_PRIVATE, 0);
      assertEquals(1, d.value(), profile + ": pages 0 and 1 merge");
      assertEquals(h.pte(B).pfn(), h.pte(B + P).pfn());
      assertEquals(PteState.DEVEXCL, h.pte(B + 2 * P).state(), profile + ": the DEVEXCL page is left alone");
    }
  }

  /**
   * khugepaged: hpage_collapse_scan_pmd counts the DEVEXCL entry as a swap PTE; __collapse_huge_page_swapin's
   * do_swap_page restores it (CLEAR on 6.15), then collapse_huge_page raises CLEAR over 2 MiB and maps a THP.
   */
  @Test
  void khugepagedRevokesThenCollapses() {
    Harness h = harness(KernelProfile.V6_15);
    h.mmapRw(B, 512);
    for (int i = 0; i < 512; i++) h.cpu(B + i * P, Access.WRITE, i);
    h.syscall(SyscallKind.MADV_HUGEPAGE, B, PMD, 9, VmaKind.ANON_PRIVATE, 0);
    h.insertInterval(S0, D0);
    h.exclusive(D0, B + 3 * P, OWNER0);
    h.clear();
    assertEquals(1, h.syscall(SyscallKind.KHUGEPAGED_SCAN, B, PMD, 0, VmaKind.ANON_PRIVATE, 0).value());
    List<InvalidateStart> cb = callbacks(h, S0);
    assertEquals(List.of(NotifyEvent.CLEAR, NotifyEvent.CLEAR), cb.stream().map(InvalidateStart::event).toList());
    assertEquals(B + 3 * P, cb.get(0).start());
    assertEquals(B + PMD, cb.get(1).end());
    long pfn0 = h.pte(B).pfn();
    for (int i = 0; i < 512; i++) assertEquals(pfn0 + i, h.pte(B + i * P).pfn());
    assertEquals(3, h.cpu(B + 3 * P, Access.READ, 0).value());
    // A folio still locked by its driver stops the collapse (do_swap_page: VM_FAULT_RETRY).
    Harness l = harness(KernelProfile.V6_15);
    l.mmapRw(B, 512);
    for (int i = 0; i < 512; i++) l.cpu(B + i * P, Access.WRITE, i);
    l.syscall(SyscallKind.MADV_HUGEPAGE, B, PMD, 9, VmaKind.ANON_PRIVATE, 0);
    l.mde(D0, B + 3 * P, OWNER0);
    assertEquals(0, l.syscall(SyscallKind.KHUGEPAGED_SCAN, B, PMD, 0, VmaKind.ANON_PRIVATE, 0).value());
    assertEquals(PteState.DEVEXCL, l.pte(B + 3 * P).state());
  }

  /**
   * zap_pmd_range: MADV_DONTNEED over part of a huge PMD splits it first (nested CLEAR over 2 MiB inside the
   * madvise's CLEAR); over all of it, zap_huge_pmd zaps it whole (no split). munmap of part: __split_vma's split.
   */
  @Test
  void partialZapSplitsTheHugePmd() {
    Harness h = thp(KernelProfile.V6_15, 9);
    h.insertInterval(S0, D0);
    h.syscall(SyscallKind.MADV_DONTNEED, B + 2 * P, P, 0, VmaKind.ANON_PRIVATE, 0);
    List<InvalidateStart> cb = callbacks(h, S0);
    assertEquals(List.of(NotifyEvent.CLEAR, NotifyEvent.CLEAR), cb.stream().map(InvalidateStart::event).toList());
    assertEquals(B + PMD, cb.get(1).end(), "the split's CLEAR covers the 2 MiB");
    assertEquals(PteState.NONE, h.pte(B + 2 * P).state());
    assertEquals(PteState.PRESENT, h.pte(B + 3 * P).state());
    h.clear();
    h.syscall(SyscallKind.MUNMAP, B + 8 * P, P, 0, VmaKind.ANON_PRIVATE, 0);
    assertEquals(List.of(NotifyEvent.UNMAP), callbacks(h, S0).stream().map(InvalidateStart::event).toList(),
        "already PTE-mapped: no second split");
    Harness w = thp(KernelProfile.V6_15, 9);
    w.insertInterval(S0, D0);
    w.syscall(SyscallKind.MADV_DONTNEED, B, PMD, 0, VmaKind.ANON_PRIVATE, 0);
    assertEquals(List.of(NotifyEvent.CLEAR), callbacks(w, S0).stream().map(InvalidateStart::event).toList());
    Harness u = thp(KernelProfile.V6_15, 9);
    u.insertInterval(S0, D0);
    u.syscall(SyscallKind.MUNMAP, B + PMD - P, P, 0, VmaKind.ANON_PRIVATE, 0);
    assertEquals(List.of(NotifyEvent.CLEAR, NotifyEvent.UNMAP), callbacks(u, S0).stream().map(InvalidateStart::event).toList());
  }

  /** Reclaim of a PMD-mapped THP with one DEVEXCL page (6.15): split CLEAR, then CLEAR over the folio; all swapped. */
  @Test
  void reclaimThpWithOneExclusivePage() {
    Harness h = thp(KernelProfile.V6_15, 9);
    h.insertInterval(S0, D0);
    h.exclusive(D0, B + 5 * P, OWNER0);
    long pfn0 = h.pte(B).pfn();
    h.clear();
    assertEquals(512, h.syscall(SyscallKind.MADV_PAGEOUT, B, PMD, 0, VmaKind.ANON_PRIVATE, 0).value());
    assertEquals(List.of(NotifyEvent.CLEAR), callbacks(h, S0).stream().map(InvalidateStart::event).toList());
    for (int i = 0; i < 512; i++) assertEquals(PteState.SWAP, h.pte(B + i * P).state());
    assertTrue(h.folio(pfn0 + 511).freed());
    assertEquals(5, h.cpu(B + 5 * P, Access.READ, 0).value());
  }
}
