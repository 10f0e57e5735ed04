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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol.InvalidateStart;
import hmmemu.protocol.msg.HmmProtocol.SyscallKind;
import hmmemu.protocol.model.Outbound;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A PMD-mapped THP meeting mprotect and fork (docs/PROTOCOL.md §3.8): change_pmd_range() / change_huge_pmd() /
 * __split_vma's vma_adjust_trans_huge(), copy_huge_pmd() and do_huge_pmd_wp_page() (mm/huge_memory.c).
 */
class ThpPmdTest {
  static final long PMD = 512 * P;
  static final int CHILD = 2;

  /** A 4 MiB VMA at B whose first 2 MiB is one PMD-mapped THP (page i's word 0 = i); the second 2 MiB is empty. */
  private static Harness thp(KernelProfile profile) {
    Harness h = new Harness(ModelSwitches.kernel().withKernelProfile(profile));
    h.mmapRw(B, 1024);
    assertEquals(Errno.OK, h.syscall(SyscallKind.MADV_HUGEPAGE, B, 2 * PMD, 9, VmaKind.ANON_PRIVATE, 0).errno());
    for (int i = 0; i < 512; i++) h.cpu(B + i * P, Access.WRITE, i);
    assertTrue(h.cpu.hugePmd(MM, B));
    return h;
  }

  private static List<InvalidateStart> callbacks(Harness h, long subId) {
    return h.sent.stream().map(Outbound::msg).filter(m -> m instanceof InvalidateStart s && s.subId() == subId)
        .map(m -> (InvalidateStart) m).toList();
  }

  private static Errno mprotect(Harness h, long start, long len, int prot) {
    return h.syscall(SyscallKind.MPROTECT, start, len, prot, null, 0).errno();
  }

  /**
   * change_pmd_range(): a range covering the whole huge PMD goes to change_huge_pmd(); the PMD stays huge, no
   * CLEAR, one PROTECTION_VMA. 6.15: mprotect(RW) again makes it writable at once (MM_CP_TRY_CHANGE_WRITABLE ->
   * can_change_pmd_writable(), the folio is anon-exclusive); 5.14 (pmd_modify alone) leaves it read-only.
   */
  @Test
  void mprotectOverTheWholePmdKeepsItHuge() {
    for (KernelProfile profile : KernelProfile.values()) {
      Harness h = thp(profile);
      h.insert(S1, D1, NotifierKind.INTERVAL, B + 100 * P, B + 101 * P);
      h.clear();
      assertEquals(Errno.OK, mprotect(h, B, PMD, Prot.READ));
      assertTrue(h.cpu.hugePmd(MM, B), profile + ": change_huge_pmd keeps the PMD");
      assertEquals(List.of(NotifyEvent.PROTECTION_VMA), callbacks(h, S1).stream().map(InvalidateStart::event).toList());
      for (int i = 0; i < 512; i++) assertFalse(h.pte(B + i * P).write());
      assertEquals(Errno.OK, mprotect(h, B, PMD, Prot.RW));
      assertTrue(h.cpu.hugePmd(MM, B));
      boolean upgraded = profile == KernelProfile.V6_15;
      for (int i = 0; i < 512; i++) assertEquals(upgraded, h.pte(B + i * P).write(), profile + " page " + i);
      assertEquals(0, h.callbacks(S1, NotifyEvent.CLEAR), "no split");
    }
  }

  /**
   * mprotect over part of a huge PMD: __split_vma -> vma_adjust_trans_huge -> split_huge_pmd_address splits it
   * first (__split_huge_pmd: CLEAR over [haddr, haddr + 2 MiB), reaching a driver that maps a page outside the
   * mprotect range), then PROTECTION_VMA over the range; only its pages lose write; the folio stays large (same pfns).
   */
  @Test
  void partialMprotectSplitsThePmdWithClearOverTwoMiB() {
    for (KernelProfile profile : KernelProfile.values()) {
      Harness h = thp(profile);
      h.insert(S1, D1, NotifierKind.INTERVAL, B + 300 * P, B + 301 * P);
      long pfn0 = h.pte(B).pfn();
      h.clear();
      assertEquals(Errno.OK, mprotect(h, B, 256 * P, Prot.READ));
      assertFalse(h.cpu.hugePmd(MM, B), profile + ": split");
      List<InvalidateStart> cb = callbacks(h, S1);
      assertEquals(1, cb.size(), profile + ": only the split's CLEAR reaches page 300: " + cb);
      assertEquals(NotifyEvent.CLEAR, cb.get(0).event());
      assertEquals(B, cb.get(0).start());
      assertEquals(B + PMD, cb.get(0).end());
      for (int i = 0; i < 512; i++) {
        assertEquals(pfn0 + i, h.pte(B + i * P).pfn());
        assertEquals(i >= 256, h.pte(B + i * P).write(), profile + " page " + i);
      }
      assertEquals(512, h.events(hmmemu.protocol.trace.Trace.PteChanged.class).stream()
          .filter(e -> e.cause().equals("__split_huge_pmd_locked")).count());
    }
  }

  /** mprotect_fixup() returns early when the flags do not change: no split even over part of the PMD. */
  @Test
  void partialMprotectWithUnchangedFlagsDoesNotSplit() {
    Harness h = thp(KernelProfile.V6_15);
    assertEquals(Errno.OK, mprotect(h, B, 256 * P, Prot.RW));
    assertTrue(h.cpu.hugePmd(MM, B));
  }

  /**
   * copy_huge_pmd(): fork shares the huge PMD write-protected in parent and child (both stay huge; the child's is
   * old), the pages lose anon-exclusive and gain a reference and a mapping; no CLEAR, only fork's PROTECTION_PAGE.
   */
  @Test
  void forkSharesTheHugePmdWriteProtected() {
    for (KernelProfile profile : KernelProfile.values()) {
      Harness h = thp(profile);
      h.insert(S1, D1, NotifierKind.INTERVAL, B + 300 * P, B + 301 * P);
      h.clear();
      assertEquals(Errno.OK, h.syscall(SyscallKind.FORK, 0, 0, 0, null, CHILD).errno());
      assertTrue(h.cpu.hugePmd(MM, B), profile + ": parent keeps its PMD");
      assertTrue(h.cpu.hugePmd(CHILD, B), profile + ": child gets the PMD");
      assertEquals(List.of(NotifyEvent.PROTECTION_PAGE), callbacks(h, S1).stream().map(InvalidateStart::event).toList());
      for (int i = 0; i < 512; i++) {
        Pte p = h.pte(B + i * P);
        Pte c = h.cpu.pte(CHILD, B + i * P);
        assertFalse(p.write());
        assertFalse(c.write());
        assertFalse(c.young());
        assertEquals(p.pfn(), c.pfn());
        FolioView f = h.folio(p.pfn());
        assertEquals(2, f.refcount());
        assertEquals(2, f.mapcount());
        assertFalse(f.anonExclusive());
      }
    }
  }

  /**
   * do_huge_pmd_wp_page() after fork: the folio is shared (6.15 folio_ref_count > 1; 5.14 reuse_swap_page, mapcount
   * 2), so the PMD is split (CLEAR over 2 MiB) and VM_FAULT_FALLBACK copies the one page at PTE level (wp_page_copy);
   * the child keeps its huge PMD.
   */
  @Test
  void parentWriteAfterForkSplitsAndCopiesOnePage() {
    for (KernelProfile profile : KernelProfile.values()) {
      Harness h = thp(profile);
      long pfn0 = h.pte(B).pfn();
      assertEquals(Errno.OK, h.syscall(SyscallKind.FORK, 0, 0, 0, null, CHILD).errno());
      h.insert(S1, D1, NotifierKind.INTERVAL, B + 300 * P, B + 301 * P);
      h.clear();
      h.cpu(B + 7 * P, Access.WRITE, 70);
      assertFalse(h.cpu.hugePmd(MM, B), profile.toString());
      assertTrue(h.cpu.hugePmd(CHILD, B), profile.toString());
      assertEquals(1, h.callbacks(S1, NotifyEvent.CLEAR), profile + ": the split's CLEAR only (page 7's is outside S1)");
      assertNotEquals(pfn0 + 7, h.pte(B + 7 * P).pfn(), "page 7 copied");
      assertTrue(h.pte(B + 7 * P).write());
      assertEquals(pfn0 + 8, h.pte(B + 8 * P).pfn());
      assertFalse(h.pte(B + 8 * P).write(), "the rest stays shared read-only");
      assertEquals(7, h.cpu.word(h.cpu.pte(CHILD, B + 7 * P).pfn(), 0), "the child still sees the old data");
    }
  }

  /**
   * do_huge_pmd_wp_page() once the child is gone: the folio is this mapping's alone again (6.15 folio_ref_count 1,
   * made anon-exclusive; 5.14 mapcount 1): the whole PMD is reused writable, no split, no CLEAR.
   */
  @Test
  void parentWriteAfterChildExitReusesThePmd() {
    for (KernelProfile profile : KernelProfile.values()) {
      Harness h = thp(profile);
      long pfn0 = h.pte(B).pfn();
      assertEquals(Errno.OK, h.syscall(SyscallKind.FORK, 0, 0, 0, null, CHILD).errno());
      assertEquals(Errno.OK, h.syscall(CHILD, SyscallKind.EXIT, 0, 0, 0, null, 0).errno());
      h.insert(S1, D1, NotifierKind.INTERVAL, B + 300 * P, B + 301 * P);
      h.clear();
      h.cpu(B + 7 * P, Access.WRITE, 70);
      assertTrue(h.cpu.hugePmd(MM, B), profile + ": reused whole");
      assertEquals(0, h.callbacks(S1), profile.toString());
      for (int i = 0; i < 512; i++) {
        assertEquals(pfn0 + i, h.pte(B + i * P).pfn());
        assertTrue(h.pte(B + i * P).write(), profile + " page " + i);
      }
      assertEquals(70, h.cpu.word(pfn0 + 7, 0));
    }
  }

  /**
   * copy_huge_pmd() on a folio that may be DMA-pinned in an mm that has pinned (folio_needs_cow_for_dma /
   * page_needs_cow_for_dma): __split_huge_pmd (CLEAR over 2 MiB inside fork's PROTECTION_PAGE) and -EAGAIN, then
   * copy_pte_range() gives the child a copy of every page at once (copy_present_page); the parent keeps its pages
   * writable and anon-exclusive. The emulator has no FOLL_PIN path: the test sets MMF_HAS_PINNED and _pincount.
   */
  @Test
  void forkOfAMaybePinnedThpSplitsAndCopies() {
    for (KernelProfile profile : KernelProfile.values()) {
      Harness h = thp(profile);
      long pfn0 = h.pte(B).pfn();
      h.cpu.mmForTest(MM).hasPinned = true;
      h.cpu.folioForTest(pfn0).pincount = 1;
      h.insert(S1, D1, NotifierKind.INTERVAL, B + 300 * P, B + 301 * P);
      h.clear();
      assertEquals(Errno.OK, h.syscall(SyscallKind.FORK, 0, 0, 0, null, CHILD).errno());
      assertFalse(h.cpu.hugePmd(MM, B), profile + ": split");
      assertFalse(h.cpu.hugePmd(CHILD, B));
      assertEquals(List.of(NotifyEvent.PROTECTION_PAGE, NotifyEvent.CLEAR),
          callbacks(h, S1).stream().map(InvalidateStart::event).toList(), profile.toString());
      for (int i = 0; i < 512; i++) {
        Pte p = h.pte(B + i * P);
        Pte c = h.cpu.pte(CHILD, B + i * P);
        assertEquals(pfn0 + i, p.pfn());
        assertTrue(p.write(), "parent keeps write");
        assertNotEquals(p.pfn(), c.pfn(), "child has its own copy");
        assertTrue(c.write());
        assertEquals(i, h.cpu.word(c.pfn(), 0));
        assertEquals(1, h.folio(p.pfn()).refcount());
      }
    }
  }

  /**
   * hmm_vma_walk_pmd -> hmm_vma_handle_pmd (mm/hmm.c): a snapshot of a PMD-mapped THP reports every page VALID
   * (WRITE while the PMD is writable) with map order 9 (pmd_to_hmm_pfn_flags: hmm_pfn_flags_order(PMD_SHIFT -
   * PAGE_SHIFT), read by hmm_pfn_to_map_order()); a split PMD's pages are reported with order 0.
   */
  @Test
  void rangeFaultReportsThePmdOrder() {
    for (KernelProfile profile : KernelProfile.values()) {
      Harness h = thp(profile);
      long seq = h.insertInterval(S0, D0);
      long pfn0 = h.pte(B).pfn();
      HmmProtocol.HmmRangeFaultReply r = h.rangeFault(D0, S0, seq, B + 510 * P, java.util.Collections.nCopies(4, 0));
      assertEquals(Errno.OK, r.errno());
      for (int i = 0; i < 2; i++) {
        long w = r.hmmPfns().get(i);
        assertEquals(9, HmmPfn.mapOrder(w), profile + " page " + (510 + i));
        assertEquals(pfn0 + 510 + i, HmmPfn.pfn(w));
        assertTrue((w & HmmPfn.VALID) != 0 && (w & HmmPfn.WRITE) != 0);
      }
      assertEquals(0L, r.hmmPfns().get(2), "the second 2 MiB is pmd_none");
      assertEquals(Errno.OK, mprotect(h, B + 5 * P, P, Prot.READ)); // splits the PMD
      r = h.rangeFault(D0, S0, h.cpu.subscriptionSeq(S0).orElseThrow(), B + 510 * P, java.util.Collections.nCopies(2, 0));
      assertEquals(0, HmmPfn.mapOrder(r.hmmPfns().get(0)), profile + ": PTE-mapped after the split");
      assertEquals(pfn0 + 510, HmmPfn.pfn(r.hmmPfns().get(0)));
    }
  }

  /**
   * hmm_vma_handle_pmd -> hmm_range_need_fault -> hmm_vma_fault over the chunk: a write request on the read-only
   * PMD shared with a fork child faults (do_huge_pmd_wp_page: shared, so split + PTE-level copy) and returns
   * -EBUSY; the next walk reports the copied page with order 0.
   */
  @Test
  void writeRequestOnASharedPmdFaultsThroughDoHugePmdWpPage() {
    Harness h = thp(KernelProfile.V6_15);
    assertEquals(Errno.OK, h.syscall(SyscallKind.FORK, 0, 0, 0, null, CHILD).errno());
    long seq = h.insertInterval(S0, D0);
    long pfn0 = h.pte(B).pfn();
    int rw = HmmPfn.REQ_FAULT | HmmPfn.REQ_WRITE;
    HmmProtocol.HmmRangeFaultReply r = h.rangeFault(D0, S0, seq, B + 3 * P, List.of(0));
    assertEquals(9, HmmPfn.mapOrder(r.hmmPfns().get(0)));
    assertEquals(0, r.hmmPfns().get(0) & HmmPfn.WRITE);
    r = h.rangeFault(D0, S0, seq, B + 3 * P, List.of(rw));
    assertEquals(Errno.EBUSY, r.errno(), "the split's CLEAR moved the seq");
    assertFalse(h.cpu.hugePmd(MM, B));
    r = h.rangeFault(D0, S0, h.cpu.subscriptionSeq(S0).orElseThrow(), B + 3 * P, List.of(rw));
    assertEquals(Errno.OK, r.errno());
    long w = r.hmmPfns().get(0);
    assertEquals(0, HmmPfn.mapOrder(w));
    assertTrue((w & HmmPfn.WRITE) != 0);
    assertNotEquals(pfn0 + 3, HmmPfn.pfn(w), "copied away from the shared THP");
  }
}
