package hmmemu.cpu.core;

import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import java.util.List;

/**
 * Models the transparent-huge-page paths the device-exclusive code meets: the anonymous THP fault
 * (do_huge_pmd_anonymous_page in mm/huge_memory.c) and the mTHP fault (alloc_anon_folio in mm/memory.c), and the
 * PMD split (__split_huge_pmd / __split_huge_pmd_locked in mm/huge_memory.c) that FOLL_SPLIT_PMD, reclaim and
 * migration ask for. A split keeps the folio large: only the mapping changes from one PMD to 512 PTEs.
 */
final class HugeMemory {
  /** HPAGE_PMD_ORDER on x86-64. */
  static final int PMD_ORDER = 9;

  private final Kernel k;
  private final Folios folios;
  private final MmuNotifier notifier;

  HugeMemory(Kernel k, Folios folios, MmuNotifier notifier) {
    this.k = k;
    this.folios = folios;
    this.notifier = notifier;
  }

  /**
   * Models the large-folio branch of a write fault on pte_none in a VM_HUGEPAGE anonymous VMA: order 9 is
   * do_huge_pmd_anonymous_page() (the PMD must still be pmd_none: no PTE table there yet), orders 2..8 are
   * alloc_anon_folio() (every PTE of the naturally aligned range must be pte_none). The range must lie inside the
   * VMA (thp_vma_suitable_order). Returns false to fall back to an order-0 page (do_anonymous_page). The new folio
   * is zeroed, anon-exclusive, mapped writable, dirty and young.
   */
  boolean faultLargeFolio(Mm mm, Vma vma, long va) {
    if (vma.thpOrder == 0 || vma.kind != VmaKind.ANON_PRIVATE || !vma.canWrite()) return false;
    int order = vma.thpOrder;
    long size = Page.SIZE << order;
    long base = va & ~(size - 1);
    if (base < vma.start || base + size > vma.end) return false;
    if (order == PMD_ORDER) {
      if (mm.hasPteTable(base)) return false; // !pmd_none: __handle_mm_fault goes down to the PTE level
    } else if (!mm.ptes.subMap(base, base + size).isEmpty()) {
      return false;
    }
    Folio head = folios.allocLargeFolio(true, order);
    vma.anonVma = true;
    String cause = order == PMD_ORDER ? "do_huge_pmd_anonymous_page" : "alloc_anon_folio";
    for (Folio p : folios.pagesOf(head)) {
      p.mapcount = 1;
      p.anonExclusive = true;
      folios.emitFolio(p);
      long pva = base + (p.pfn - head.pfn) * Page.SIZE;
      k.setPte(mm, pva, new Pte(PteState.PRESENT, p.pfn, true, true, true, true), cause);
    }
    if (order == PMD_ORDER) mm.pmdMapped.add(base / RangeFault.PMD_SIZE);
    return true;
  }

  /**
   * try_to_unmap()'s and try_to_migrate()'s TTU_SPLIT_HUGE_PMD: split_huge_pmd_address() for each huge PMD that maps
   * one of {@code all}, in order, then {@code then}.
   */
  void splitMappings(java.util.List<Rmap.Mapping> all, Runnable then) { splitMappings(all, 0, then); }

  private void splitMappings(java.util.List<Rmap.Mapping> all, int i, Runnable then) {
    if (i == all.size()) {
      then.run();
      return;
    }
    Rmap.Mapping mp = all.get(i);
    if (mp.mm().pmdMapped(mp.va())) splitHugePmd(mp.mm(), mp.va(), () -> splitMappings(all, i + 1, then));
    else splitMappings(all, i + 1, then);
  }

  /**
   * Models __split_huge_pmd(): mmu_notifier_range_init(MMU_NOTIFY_CLEAR, haddr, haddr + HPAGE_PMD_SIZE), then under
   * the PMD lock __split_huge_pmd_locked() writes 512 PTEs for the same pages (same pfns, write, dirty, young and
   * soft-dirty bits); the folio stays large and every page stays mapped. Every subscription overlapping any part
   * of the 2 MiB sees the CLEAR. Runs {@code then} at once when va's PMD is not a huge PMD.
   */
  void splitHugePmd(Mm mm, long va, Runnable then) {
    if (!mm.pmdMapped(va)) {
      then.run();
      return;
    }
    long haddr = va & ~(RangeFault.PMD_SIZE - 1);
    notifier.startInvalidation(mm, haddr, haddr + RangeFault.PMD_SIZE, NotifyEvent.CLEAR, 0, true, inv -> {
      splitHugePmdLocked(mm, haddr);
      notifier.endInvalidation(inv);
      then.run();
    }, null);
  }

  /**
   * Models split_huge_pmd_locked() -> __split_huge_pmd_locked(): under the PMD lock, with no notifier of its own
   * (the caller's invalidation covers it), the huge PMD at va becomes 512 PTEs for the same pages.
   */
  void splitHugePmdLocked(Mm mm, long va) {
    long haddr = va & ~(RangeFault.PMD_SIZE - 1);
    if (mm.pmdMapped.remove(haddr / RangeFault.PMD_SIZE)) {
      for (long p = haddr; p < haddr + RangeFault.PMD_SIZE; p += Page.SIZE) {
        Pte pte = mm.pte(p);
        if (pte.state() != PteState.NONE) k.setPte(mm, p, pte, "__split_huge_pmd_locked");
      }
    }
  }

  /**
   * Splits the huge PMDs that [start, end) covers only in part (zap_pmd_range's and __split_vma's
   * split_huge_pmd for a range that does not span the whole PMD; a fully covered huge PMD is zapped whole,
   * zap_huge_pmd), then runs {@code then}.
   */
  void splitPartial(Mm mm, long start, long end, Runnable then) {
    long pmd = RangeFault.PMD_SIZE;
    long first = start & ~(pmd - 1);
    long last = (end - 1) & ~(pmd - 1);
    Runnable second = () -> {
      if (last != first && (end & (pmd - 1)) != 0) splitHugePmd(mm, last, then);
      else then.run();
    };
    boolean firstPartial = (start & (pmd - 1)) != 0 || (first == last && (end & (pmd - 1)) != 0);
    if (firstPartial) splitHugePmd(mm, first, second);
    else second.run();
  }

  /**
   * Models split_folio() -> split_huge_page_to_list_to_order() (mm/huge_memory.c) on a locked anonymous large folio
   * the caller holds a reference on, whose other references are all its mappings' (can_split_folio): unmap_folio() --
   * try_to_migrate(TTU_SPLIT_HUGE_PMD) splits each huge PMD mapping it (__split_huge_pmd: CLEAR over 2 MiB) and raises
   * try_to_migrate_one's CLEAR over the folio's span in each mm -- then __split_huge_page() makes every page an order-0
   * folio (each keeps its refcount, mapcount and anon-exclusive bit), and remap_page() maps them again where they
   * were. The freeze to migration entries and back is not modelled: the PTEs keep their pfns and bits throughout.
   * The pages stay locked (the caller unlocks the head; __split_huge_page unlocks the tails). Calls {@code then} with
   * false, changing nothing, when the folio has other references (-EAGAIN).
   */
  void splitFolio(Folio head, Rmap rmap, java.util.function.Consumer<Boolean> then) {
    long refs = 0;
    long maps = 0;
    for (Folio p : folios.pagesOf(head)) {
      refs += p.refcount;
      maps += p.mapcount;
    }
    if (refs != maps + 1) { // can_split_folio(): folio_ref_count == folio_mapcount + 1 (the caller's reference)
      then.accept(false);
      return;
    }
    splitMappings(rmap.mappingsOf(head, !k.v5()), () ->
      rmap.perMm(rmap.mappingsOf(head, !k.v5()), NotifyEvent.CLEAR, group -> { }, () -> {
        List<Folio> pages = folios.pagesOf(head);
        boolean locked = head.locked(); // each new folio keeps the lock bit (Folio#locked is the head's)
        for (Folio p : pages) {
          p.locked = locked;
          p.reportedLockedPages = p.reportedLocked ? 1 : 0; // counted on each new folio's head (itself)
          p.head = p;
          p.nrPages = 1;
        }
        for (Folio p : pages) {
          if (p != head) { // __split_huge_page: unlock_page() on every tail page
            folios.unlockFolio(p);
          }
        }
        then.accept(true);
      }));
  }

  /** Splits every huge PMD intersecting [start, end), one after the other, then runs {@code then}. */
  void splitHugePmds(Mm mm, long start, long end, Runnable then) {
    for (long haddr = start & ~(RangeFault.PMD_SIZE - 1); haddr < end; haddr += RangeFault.PMD_SIZE) {
      if (mm.pmdMapped(haddr)) {
        long next = haddr;
        splitHugePmd(mm, haddr, () -> splitHugePmds(mm, next + RangeFault.PMD_SIZE, end, then));
        return;
      }
    }
    then.run();
  }
}
