package hmmemu.cpu.core;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol.Syscall;
import hmmemu.protocol.msg.HmmProtocol.SyscallDone;
import java.util.List;

/**
 * Models reclaim of the folios behind a range, as madvise(MADV_PAGEOUT) drives it (mm/madvise.c
 * madvise_cold_or_pageout_pte_range -> reclaim_pages -> shrink_folio_list in mm/vmscan.c): folio_trylock, then
 * try_to_unmap() (mm/rmap.c try_to_unmap_one, with TTU_SPLIT_HUGE_PMD for a PMD-mapped THP), pageout to swap and
 * __remove_mapping(), which frees the folio only if its reference count can be frozen at the expected value.
 *
 * <p>6.15 (commit "mm/rmap: handle device-exclusive entries correctly in try_to_unmap_one()"): the walk returns
 * DEVEXCL entries like present PTEs; the CLEAR notifier revokes the device's access and the entry becomes a swap
 * entry; the folio is freed and a later CPU access swaps the data in (do_swap_page). 5.14-6.14: a DEVEXCL entry is
 * not counted in the mapcount, so folio_mapped() is false and shrink_page_list() skips try_to_unmap(); the entry
 * still holds a reference, so page_ref_freeze() in __remove_mapping() fails (cannot_free): the page is never freed
 * and the entry stays DEVEXCL, no notifier raised.
 *
 * <p>Simplified: a folio with references beyond its mappings (a GUP reference, a 5.14 DEVEXCL entry) is skipped
 * before unmapping; the kernel would unmap its present PTEs and then keep it in the swap cache, which is not
 * modelled.
 */
final class Vmscan {
  private final Kernel k;
  private final Folios folios;
  private final MmapLock mmapLock;
  private final HugeMemory huge;
  private final Rmap rmap;

  Vmscan(Kernel k, Folios folios, MmapLock mmapLock, HugeMemory huge, Rmap rmap) {
    this.k = k;
    this.folios = folios;
    this.mmapLock = mmapLock;
    this.huge = huge;
    this.rmap = rmap;
  }

  /** madvise(MADV_PAGEOUT) over [start, end) (mmap_lock held for read): the reply's value is the pages freed. */
  void madvPageout(Mm mm, Syscall m, long start, long end) {
    List<Folio> heads = rmap.anonFoliosIn(mm, start, end);
    long[] freed = {0};
    Rmap.forEach(heads, 0, (head, next) -> shrinkFolio(head, freed, next), () -> {
      mmapLock.readUnlock(mm);
      k.reply(new SyscallDone(m.reqId(), Errno.OK, freed[0]));
    });
  }

  /** shrink_folio_list() for one folio. */
  private void shrinkFolio(Folio head, long[] freed, Runnable next) {
    if (head.freed || head.locked()) { // folio_trylock failed: keep
      next.run();
      return;
    }
    List<Folio> pages = folios.pagesOf(head);
    for (Folio p : pages) { // only the mappings' references (a 5.14 DEVEXCL entry holds one with no mapcount)
      if (p.refcount != p.mapcount) {
        next.run();
        return;
      }
    }
    folios.lockWholeFolio(head);
    for (Folio p : pages) p.refcount++; // folio_isolate_lru()'s reference
    List<Rmap.Mapping> all = rmap.mappingsOf(head, !k.v5());
    Runnable unmapped = () -> {
      folios.unlockFolio(head);
      boolean mapped = false;
      for (Folio p : pages) mapped |= p.mapcount > 0;
      for (Folio p : pages) { // __remove_mapping() + folio_put(): the isolation reference goes
        p.refcount--;
        folios.settleRefcount(p);
        folios.emitFolio(p);
      }
      if (!mapped && head.freed) freed[0] += pages.size();
      next.run();
    };
    if (k.v5()) {
      // 5.14: try_to_unmap_one() starts with split_huge_pmd_address() (__split_huge_pmd: a CLEAR over the 2 MiB of
      // its own), then raises the CLEAR over [address, vma_address_end) for the PTEs.
      huge.splitMappings(all, () -> rmap.perMm(rmap.mappingsOf(head, false), NotifyEvent.CLEAR, group -> {
        for (Rmap.Mapping mp : group) tryToUnmapOne(mp);
      }, unmapped));
    } else {
      // 6.15 (since "mm/rmap: integrate PMD-mapped folio splitting into pagewalk loop"): one CLEAR over
      // [address, vma_address_end), the folio's extent in the VMA; the walk meets the huge PMD under it and splits it
      // with split_huge_pmd_locked() (no notifier of its own), restarts and unmaps the PTEs.
      rmap.perMm(all, NotifyEvent.CLEAR, group -> {
        for (Rmap.Mapping mp : group) huge.splitHugePmdLocked(mp.mm(), mp.va()); // a no-op once split
        for (Rmap.Mapping mp : group) tryToUnmapOne(mp);
      }, unmapped);
    }
  }

  /**
   * try_to_unmap_one() for one PTE under the CLEAR notifier: PRESENT or (6.15) DEVEXCL becomes a swap entry
   * (the model's swap slot carries the pfn whose contents were written out; soft-dirty kept as
   * pte_swp_mksoft_dirty); a dirty PTE dirties the folio first; rss and mapcount fall, the mapping's reference goes.
   */
  private void tryToUnmapOne(Rmap.Mapping mp) {
    Pte pte = mp.mm().pte(mp.va());
    if (pte.state() != PteState.PRESENT && pte.state() != PteState.DEVEXCL) return;
    Folio p = folios.folioOf(pte.pfn());
    if (pte.dirty()) p.dirty = true;
    k.setPte(mp.mm(), mp.va(), new Pte(PteState.SWAP, pte.pfn(), false, false, false, pte.softDirty()), "try_to_unmap_one");
    p.mapcount--;
    p.refcount--;
    folios.emitFolio(p);
  }
}
