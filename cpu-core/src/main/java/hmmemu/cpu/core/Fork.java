package hmmemu.cpu.core;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.Mutant;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol.Syscall;
import java.util.ArrayList;
import java.util.List;

/**
 * Models fork()'s copy of the address space (kernel/fork.c dup_mmap, mm/memory.c copy_page_range: copy_pmd_range,
 * copy_pte_range, copy_present_page; mm/huge_memory.c copy_huge_pmd), docs/PROTOCOL.md §3.5 and §3.8. Runs under the
 * parent's mmap_lock taken for write by {@link Syscalls}, which answers the syscall.
 */
final class Fork {
  private final Syscalls sys;
  private final Kernel k;
  private final Folios folios;
  private final MmuNotifier notifier;
  private final PageFault faults;
  private final HugeMemory huge;

  Fork(Syscalls sys, Kernel k, Folios folios, MmuNotifier notifier, PageFault faults, HugeMemory huge) {
    this.sys = sys;
    this.k = k;
    this.folios = folios;
    this.notifier = notifier;
    this.faults = faults;
    this.huge = huge;
  }

  /** Models dup_mmap() + copy_page_range() (docs/PROTOCOL.md §3.5). */
  void doFork(Mm parent, Syscall m) {
    Mm existing = k.mms.get(m.childMmId());
    if (m.childMmId() == parent.id || (existing != null && (!existing.vmas.isEmpty() || existing.exited))) {
      sys.syscallDone(parent, m, Errno.EINVAL, 0, true);
      return;
    }
    Mm child = k.mmFor(m.childMmId());
    forkNextVma(parent, child, m, new ArrayList<>(parent.vmas.values()), 0);
  }

  private void forkNextVma(Mm parent, Mm child, Syscall m, List<Vma> vmas, int i) {
    if (i == vmas.size()) {
      sys.syscallDone(parent, m, Errno.OK, child.id, true);
      return;
    }
    Vma pv = vmas.get(i);
    Vma cv = pv.copy();
    child.vmas.put(cv.start, cv);
    k.emitVma(child, cv, false);
    // copy_page_range: shared mappings and VMAs without anon_vma are refaulted by the child, not copied.
    boolean copy = !pv.shared() && (pv.anonVma || pv.kind == VmaKind.HUGETLB);
    if (!copy) {
      forkNextVma(parent, child, m, vmas, i + 1);
      return;
    }
    NotifyEvent event = pv.kind == VmaKind.HUGETLB ? NotifyEvent.CLEAR : NotifyEvent.PROTECTION_PAGE;
    java.util.function.Consumer<Invalidation> copyRange = inv -> copyPmdRange(parent, child, pv, cv, pv.start, ok -> {
      if (inv != null) notifier.endInvalidation(inv);
      if (!ok) {
        forkAbort(parent, child, m);
        return;
      }
      forkNextVma(parent, child, m, vmas, i + 1);
    });
    if (k.mutant(Mutant.FORK_SKIP_PROTECTION_PAGE)) copyRange.accept(null); // mutant: no PROTECTION_PAGE range
    else notifier.startInvalidation(parent, pv.start, pv.end, event, 0, true, copyRange, null);
  }

  /**
   * Models copy_pmd_range() over [from, pv.end) of a COW VMA, PMD by PMD: a huge PMD goes to copy_huge_pmd(), which
   * shares it write-protected, or, when the folio may be DMA-pinned, splits it (__split_huge_pmd, a CLEAR over its
   * 2 MiB nested in the fork's PROTECTION_PAGE range) and returns -EAGAIN, so that copy_pte_range() copies its 512
   * PTEs; every other PMD goes to copy_pte_range(). Calls {@code done} with false when a device-exclusive folio could
   * not be trylocked (-EBUSY, fork fails).
   */
  private void copyPmdRange(Mm parent, Mm child, Vma pv, Vma cv, long from, java.util.function.Consumer<Boolean> done) {
    long pmd = RangeFault.PMD_SIZE;
    for (long addr = from; addr < pv.end; addr = (addr & ~(pmd - 1)) + pmd) {
      long next = Math.min(pv.end, (addr & ~(pmd - 1)) + pmd);
      if (parent.pmdMapped(addr)) {
        if (copyHugePmd(parent, child, cv, addr)) continue;
        long resume = addr;
        huge.splitHugePmd(parent, addr, () -> { // -EAGAIN: fall through to copy_pte_range on the split PMD
          if (!copyPteRange(parent, child, cv, resume, next)) done.accept(false);
          else copyPmdRange(parent, child, pv, cv, next, done);
        });
        return;
      }
      if (!copyPteRange(parent, child, cv, addr, next)) {
        done.accept(false);
        return;
      }
    }
    done.accept(true);
  }

  /**
   * Models copy_huge_pmd() (mm/huge_memory.c) for a huge PMD of an anonymous VMA: folio_get and the PMD's rmap
   * duplicated (6.15 folio_try_dup_anon_rmap_pmd, which clears PageAnonExclusive; 5.14 page_dup_rmap(compound)),
   * then pmdp_set_wrprotect() in the parent and the same PMD, write-protected and old (pmd_mkold), in the child:
   * parent and child share the THP read-only, each still one huge PMD. Returns false, changing nothing, when the
   * folio may be DMA-pinned (6.15 folio_needs_cow_for_dma via __folio_try_dup_anon_rmap returning -EBUSY for an
   * anon-exclusive page; 5.14 page_needs_cow_for_dma): the caller splits the PMD and copies PTEs (-EAGAIN).
   * Per-page refcounts and mapcounts move by one each, the model's form of one more PMD mapping (docs/PROTOCOL.md
   * §3.8: the folio's counts are the sums over its pages).
   */
  private boolean copyHugePmd(Mm parent, Mm child, Vma cv, long addr) {
    long haddr = addr & ~(RangeFault.PMD_SIZE - 1);
    Folio head = folios.folioOf(parent.pte(haddr).pfn()).head;
    boolean exclusive = k.v5() || head.anonExclusive; // 5.14 has no PageAnonExclusive: page_needs_cow_for_dma alone
    if (exclusive && needsCowForDma(parent, head)) return false;
    for (long va = haddr; va < haddr + RangeFault.PMD_SIZE; va += Page.SIZE) {
      Pte p = parent.pte(va);
      Folio f = folios.folioOf(p.pfn());
      f.anonExclusive = false;
      f.mapcount++;
      f.refcount++;
      folios.emitFolio(f);
      if (p.write()) {
        p = new Pte(PteState.PRESENT, p.pfn(), false, p.dirty(), p.young(), p.softDirty());
        k.setHugePmdPte(parent, va, p, "copy_huge_pmd:wrprotect");
      }
      k.setPte(child, va, new Pte(PteState.PRESENT, p.pfn(), false, p.dirty(), false, p.softDirty()), "copy_huge_pmd");
    }
    child.pmdMapped.add(haddr / RangeFault.PMD_SIZE);
    cv.anonVma = true;
    return true;
  }

  /**
   * folio_needs_cow_for_dma() (6.15) / page_needs_cow_for_dma() (5.14): a COW mapping of an mm that has pinned
   * (MMF_HAS_PINNED) and a folio that may be DMA-pinned.
   */
  private static boolean needsCowForDma(Mm mm, Folio f) { return mm.hasPinned && f.maybeDmaPinned(); }

  /**
   * copy_pte_range() over [s, e) of a COW VMA; false when a device-exclusive folio could not be trylocked (-EBUSY).
   * An anon-exclusive page that may be DMA-pinned is copied for the child at once (copy_present_page), the parent
   * keeping its writable PTE.
   */
  private boolean copyPteRange(Mm parent, Mm child, Vma cv, long s, long e) {
    for (Long va : new ArrayList<>(parent.ptes.subMap(s, e).keySet())) {
      Pte p = parent.pte(va);
      if (p.isDeviceExclusive()) { // copy_nonpresent_pte -> try_restore_exclusive_pte
        Folio f = folios.folioOf(p.pfn());
        boolean ignoreLock = f.locked() && k.mutant(Mutant.FORK_IGNORES_FOLIO_LOCK); // mutant: no folio_trylock
        if (f.locked() && !ignoreLock) return false;
        if (!ignoreLock) folios.lockFolio(f);
        faults.restoreExclusivePte(parent, va, f, p, "restore_exclusive_pte:fork");
        if (!ignoreLock) folios.unlockFolio(f);
        p = parent.pte(va);
      }
      if (p.state() == PteState.SWAP) { // copy_nonpresent_pte: swap_duplicate(), the child shares the slot
        k.setPte(child, va, p, "fork:copy");
        continue;
      }
      if (p.state() == PteState.DEVICE_PRIVATE) { // copy_nonpresent_pte: is_device_private_entry
        Folio f = folios.folioOf(p.pfn());
        f.mapcount++; // folio_try_dup_anon_rmap_pte
        f.refcount++;
        f.anonExclusive = false;
        folios.emitFolio(f);
        cv.anonVma = true;
        if (p.write()) { // COW: make_readable_device_private_entry in the parent, and the child's copy
          p = new Pte(PteState.DEVICE_PRIVATE, p.pfn(), false, false, false, p.softDirty());
          k.setPte(parent, va, p, "fork:wrprotect");
        }
        k.setPte(child, va, new Pte(PteState.DEVICE_PRIVATE, p.pfn(), false, false, false, p.softDirty()), "fork:copy");
        continue;
      }
      if (!p.isPresent()) throw new IllegalStateException("fork: cannot copy PTE state " + p.state());
      Folio f = folios.folioOf(p.pfn());
      if (!f.zero && f.anon && (k.v5() || f.anonExclusive) && needsCowForDma(parent, f)) {
        copyPresentPage(child, cv, va, p, f);
        continue;
      }
      if (!f.zero) {
        if (f.anon) f.anonExclusive = false; // folio_try_dup_anon_rmap_pte
        f.mapcount++;
        f.refcount++;
        folios.emitFolio(f);
        cv.anonVma = cv.anonVma || f.anon;
      }
      if (p.write()) { // COW: write-protect both
        p = new Pte(PteState.PRESENT, p.pfn(), false, p.dirty(), p.young(), p.softDirty());
        k.setPte(parent, va, p, "fork:wrprotect");
      }
      k.setPte(child, va, new Pte(PteState.PRESENT, p.pfn(), false, p.dirty(), false, p.softDirty()), "fork:copy");
    }
    return true;
  }

  /**
   * Models copy_present_page(): the child gets a new anonymous page with the parent's data, mapped writable (as the
   * VMA allows: maybe_mkwrite), dirty and soft-dirty (pte_mkdirty), young (vm_page_prot); the parent's PTE and page
   * are left as they are.
   */
  private void copyPresentPage(Mm child, Vma cv, long va, Pte p, Folio src) {
    Folio nf = folios.allocFolio(true);
    nf.copyContentsFrom(src);
    nf.mapcount = 1;
    nf.anonExclusive = true;
    nf.dirty = true;
    folios.emitFolio(nf);
    cv.anonVma = true;
    k.setPte(child, va, new Pte(PteState.PRESENT, nf.pfn, cv.canWrite(), true, true, true), "copy_present_page");
  }

  /** fork() failed (-ENOMEM): the child is torn down, the parent keeps what was done to it. */
  private void forkAbort(Mm parent, Mm child, Syscall m) {
    sys.zapRange(child, 0, Page.TASK_SIZE, "fork:abort");
    for (Vma v : new ArrayList<>(child.vmas.values())) {
      child.vmas.remove(v.start);
      k.emitVma(child, v, true);
    }
    k.mms.remove(child.id);
    sys.syscallDone(parent, m, Errno.ENOMEM, 0, true);
  }
}
