package hmmemu.cpu.core;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol.Syscall;
import hmmemu.protocol.msg.HmmProtocol.SyscallDone;
import java.util.ArrayList;
import java.util.List;

/**
 * Models one khugepaged pass (mm/khugepaged.c) over the PMD ranges of [start, end) that lie in a VM_HUGEPAGE
 * anonymous VMA and are still PTE-mapped: hpage_collapse_scan_pmd() then collapse_huge_page().
 *
 * <p>The scan counts every non-present, non-none PTE as a swap PTE (is_swap_pte() is true for a DEVEXCL entry):
 * more than khugepaged_max_ptes_swap ({@value #MAX_PTES_SWAP}) gives SCAN_EXCEED_SWAP_PTE; with any of them and
 * fewer than HPAGE_PMD_NR / 2 young PTEs, SCAN_LACK_REFERENCED_PAGE. Otherwise __collapse_huge_page_swapin() runs
 * do_swap_page() on each: a DEVEXCL entry goes through remove_device_exclusive_entry(), which revokes the device's
 * access (CLEAR on 6.15, EXCLUSIVE with owner NULL on 5.14) and restores the PTE, and the collapse then proceeds:
 * one CLEAR over the 2 MiB (collapse_huge_page), the pages copied into a new PMD-mapped THP, the old ones freed.
 * So khugepaged does not skip a range because of a device-exclusive entry; it ends the exclusivity, as a CPU
 * access would. A folio locked by a driver (between make_device_exclusive and its unlock) stops the collapse
 * (do_swap_page returns VM_FAULT_RETRY under FAULT_FLAG_ALLOW_RETRY; the model reports SCAN_PAGE_LOCK).
 * Simplified: the scan takes mmap_lock for write throughout (the kernel scans under the read lock and collapses
 * under the write lock); shared and non-anonymous pages are not collapsed.
 */
final class Khugepaged {
  /** khugepaged_max_ptes_swap default: HPAGE_PMD_NR / 8. */
  static final int MAX_PTES_SWAP = 64;
  /** khugepaged_max_ptes_none default: HPAGE_PMD_NR - 1. */
  static final int MAX_PTES_NONE = 511;
  private static final int PMD_NR = 512;

  private final Kernel k;
  private final Folios folios;
  private final MmapLock mmapLock;
  private final MmuNotifier notifier;
  private final PageFault faults;

  Khugepaged(Kernel k, Folios folios, MmapLock mmapLock, MmuNotifier notifier, PageFault faults) {
    this.k = k;
    this.folios = folios;
    this.mmapLock = mmapLock;
    this.notifier = notifier;
    this.faults = faults;
  }

  /** One pass (mmap_lock held for write): the reply's value is the PMDs collapsed. */
  void scan(Mm mm, Syscall m, long start, long end) {
    List<Long> pmds = new ArrayList<>();
    for (long h = (start + RangeFault.PMD_SIZE - 1) & ~(RangeFault.PMD_SIZE - 1); h + RangeFault.PMD_SIZE <= end;
        h += RangeFault.PMD_SIZE) {
      Vma v = mm.findVma(h);
      if (v == null || v.thpOrder != HugeMemory.PMD_ORDER || v.end < h + RangeFault.PMD_SIZE || mm.pmdMapped(h)) continue;
      pmds.add(h);
    }
    long[] collapsed = {0};
    Rmap.forEach(pmds, 0, (h, next) -> scanPmd(mm, mm.findVma(h), h, collapsed, next), () -> {
      mmapLock.writeUnlock(mm);
      k.reply(new SyscallDone(m.reqId(), Errno.OK, collapsed[0]));
    });
  }

  /** hpage_collapse_scan_pmd(): the result name is reported in a KernelWarning-free trace via the PTE causes. */
  private void scanPmd(Mm mm, Vma vma, long h, long[] collapsed, Runnable next) {
    int none = 0;
    int unmapped = 0;
    int referenced = 0;
    List<Long> swapIns = new ArrayList<>();
    for (long va = h; va < h + RangeFault.PMD_SIZE; va += Page.SIZE) {
      Pte p = mm.pte(va);
      if (p.state() == PteState.NONE || (p.isPresent() && p.pfn() == CpuMm.ZERO_PFN)) {
        none++;
      } else if (p.state() == PteState.SWAP || p.state() == PteState.DEVEXCL) {
        unmapped++;
        swapIns.add(va);
      } else if (p.isPresent()) {
        Folio f = folios.folioOf(p.pfn());
        if (!f.anon || f.mapcount != 1) {
          next.run(); // SCAN_PAGE_ANON / SCAN_EXCEED_SHARED_PTE (simplified)
          return;
        }
        if (p.young()) referenced++;
      } else {
        next.run(); // a migration entry: SCAN_PTE_NON_PRESENT
        return;
      }
    }
    if (none > MAX_PTES_NONE || unmapped > MAX_PTES_SWAP || referenced == 0
        || (unmapped > 0 && referenced < PMD_NR / 2)) {
      next.run(); // SCAN_EXCEED_NONE_PTE / SCAN_EXCEED_SWAP_PTE / SCAN_LACK_REFERENCED_PAGE
      return;
    }
    swapIn(mm, vma, swapIns, 0, ok -> {
      if (ok) collapse(mm, vma, h, collapsed, next);
      else next.run();
    });
  }

  /** __collapse_huge_page_swapin(): do_swap_page() on each unmapped PTE; false on a locked folio (RETRY). */
  private void swapIn(Mm mm, Vma vma, List<Long> vas, int i, java.util.function.Consumer<Boolean> done) {
    if (i == vas.size()) {
      done.accept(true);
      return;
    }
    long va = vas.get(i);
    Pte p = mm.pte(va);
    if (p.isDeviceExclusive() && folios.folioOf(p.pfn()).locked()) {
      done.accept(false); // folio_lock_or_retry: VM_FAULT_RETRY -> SCAN_PAGE_LOCK
      return;
    }
    if (p.state() != PteState.SWAP && !p.isDeviceExclusive()) {
      swapIn(mm, vma, vas, i + 1, done);
      return;
    }
    boolean[] inline = {true};
    boolean[] finished = {false};
    faults.handleMmFault(mm, vma, va, false, PageFault.FaultMode.KERNEL, -1, retry -> {
      finished[0] = true;
      if (!inline[0]) swapIn(mm, vma, vas, i + 1, done);
    });
    inline[0] = false;
    if (finished[0]) swapIn(mm, vma, vas, i + 1, done);
  }

  /**
   * collapse_huge_page(): __collapse_huge_page_isolate (every PTE present or none, folios unlocked, no extra
   * references), one CLEAR over [h, h + HPAGE_PMD_SIZE), the copy into a new THP, and the PMD set writable and
   * dirty (maybe_pmd_mkwrite(pmd_mkdirty())); the old pages are freed.
   */
  private void collapse(Mm mm, Vma vma, long h, long[] collapsed, Runnable next) {
    for (long va = h; va < h + RangeFault.PMD_SIZE; va += Page.SIZE) {
      Pte p = mm.pte(va);
      if (p.state() == PteState.NONE || (p.isPresent() && p.pfn() == CpuMm.ZERO_PFN)) continue;
      if (!p.isPresent()) {
        next.run(); // SCAN_PTE_NON_PRESENT
        return;
      }
      Folio f = folios.folioOf(p.pfn());
      if (f.locked() || f.refcount != f.mapcount) {
        next.run(); // SCAN_PAGE_LOCK / SCAN_PAGE_COUNT
        return;
      }
    }
    notifier.startInvalidation(mm, h, h + RangeFault.PMD_SIZE, NotifyEvent.CLEAR, 0, true, inv -> {
      Folio head = folios.allocLargeFolio(true, HugeMemory.PMD_ORDER);
      List<Folio> pages = folios.pagesOf(head);
      boolean write = vma.canWrite();
      for (int i = 0; i < PMD_NR; i++) {
        long va = h + (long) i * Page.SIZE;
        Pte old = mm.pte(va);
        Folio d = pages.get(i);
        if (old.isPresent() && old.pfn() != CpuMm.ZERO_PFN) {
          Folio s = folios.folioOf(old.pfn());
          d.copyContentsFrom(s);
          s.mapcount--;
          s.refcount--;
          folios.settleRefcount(s);
          folios.emitFolio(s);
        }
        d.mapcount = 1;
        d.anonExclusive = true;
        d.dirty = true;
        folios.emitFolio(d);
        k.setPte(mm, va, new Pte(PteState.PRESENT, d.pfn, write, true, true, old.softDirty() || old.state() == PteState.NONE),
            "collapse_huge_page");
      }
      mm.pmdMapped.add(h / RangeFault.PMD_SIZE);
      collapsed[0]++;
      notifier.endInvalidation(inv);
      next.run();
    }, null);
  }
}
