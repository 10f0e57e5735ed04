package hmmemu.cpu.core;

import hmmemu.protocol.model.Mutant;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Trace;

/**
 * Models the page-fault paths of mm/memory.c for one page: handle_mm_fault(), do_anonymous_page and the
 * file/shared/hugetlb no-page faults, do_wp_page()/wp_page_copy(), remove_device_exclusive_entry() and
 * restore_exclusive_pte().
 */
final class PageFault {
  private final Kernel k;
  private final Folios folios;
  private final MmapLock mmapLock;
  private final MmuNotifier notifier;
  private final HugeMemory huge;
  /** The device-private branch of do_swap_page (set once the paths are built). */
  MigrateDevice migrate;

  PageFault(Kernel k, Folios folios, MmapLock mmapLock, MmuNotifier notifier, HugeMemory huge) {
    this.k = k;
    this.folios = folios;
    this.mmapLock = mmapLock;
    this.notifier = notifier;
    this.huge = huge;
  }

  /** How a fault may wait for a locked folio (FAULT_FLAG_ALLOW_RETRY or not). */
  enum FaultMode {
    /** A user CPU access: drops mmap_lock, waits for the unlock, returns VM_FAULT_RETRY (folio_lock_or_retry). */
    USER,
    /** GUP or hmm_range_fault: no ALLOW_RETRY, sleeps in __folio_lock() holding mmap_lock. */
    KERNEL
  }

  /** Continuation of a fault: retry=true when the fault returned VM_FAULT_RETRY with mmap_lock dropped. */
  interface FaultDone {
    void done(boolean retry);
  }

  private void emitCpuFault(FaultMode mode, int threadId, Mm mm, long va, String kind) {
    if (mode == FaultMode.USER) k.emit(new Trace.CpuFaulted(threadId, mm.id, va, kind));
  }

  /**
   * Models handle_mm_fault() for one page (mmap_lock held for read; the VMA permits the access). Calls done once
   * the fault was handled; the caller re-walks (the fault may have lost a race and changed nothing).
   */
  void handleMmFault(Mm mm, Vma vma, long va, boolean write, FaultMode mode, int threadId, FaultDone done) {
    Pte pte = mm.pte(va);
    switch (pte.state()) {
      case NONE:
        emitCpuFault(mode, threadId, mm, va, "anon");
        faultNonePte(mm, vma, va, write);
        done.done(false);
        return;
      case PRESENT:
        if (write && !pte.write()) {
          emitCpuFault(mode, threadId, mm, va, "wp");
          if (mm.pmdMapped(va)) doHugePmdWpPage(mm, vma, va, done);
          else doWpPage(mm, vma, va, pte, done);
        } else {
          done.done(false); // spurious
        }
        return;
      case DEVEXCL:
        emitCpuFault(mode, threadId, mm, va, "devexcl");
        removeDeviceExclusiveEntry(mm, va, pte, mode, done);
        return;
      case SWAP:
        emitCpuFault(mode, threadId, mm, va, "swap");
        doSwapPage(mm, vma, va, pte, write);
        done.done(false);
        return;
      case DEVICE_PRIVATE:
        emitCpuFault(mode, threadId, mm, va, "devpriv");
        migrate.doSwapPageDevicePrivate(mm, va, pte, threadId, done);
        return;
      case MIGRATION:
        emitCpuFault(mode, threadId, mm, va, "migration");
        migrationEntryWait(pte, done);
        return;
      default:
        throw new IllegalStateException("fault on unsupported PTE state " + pte.state());
    }
  }

  /**
   * Models migration_entry_wait() (mm/migrate.c, from do_swap_page): sleep until the migrating folio is unlocked
   * (mmap_lock stays held), then return 0 so the access is retried. A migration entry exists only while its folio
   * is locked by the migration.
   */
  private void migrationEntryWait(Pte pte, FaultDone done) {
    Folio f = folios.folioOf(pte.pfn());
    if (!f.locked()) {
      throw new IllegalStateException("a migration entry at pfn " + Long.toHexString(pte.pfn()) + " whose folio is not "
          + "locked (migrate_vma_collect_pmd installs it with the folio locked)");
    }
    f.park(() -> done.done(false));
  }

  /** Models do_anonymous_page / do_read_fault / do_cow_fault / do_shared_fault / hugetlb_no_page. */
  private void faultNonePte(Mm mm, Vma vma, long va, boolean write) {
    switch (vma.kind) {
      case ANON_PRIVATE:
        if (!write) {
          k.setPte(mm, va, new Pte(PteState.PRESENT, CpuMm.ZERO_PFN, false, false, true, true), "do_anonymous_page:zero");
        } else if (!huge.faultLargeFolio(mm, vma, va)) {
          mapNewAnonFolio(mm, vma, va, null, "do_anonymous_page");
        }
        return;
      case HUGETLB: {
        Folio f = folios.allocFolio(true);
        f.hugetlb = true;
        f.mapcount = 1;
        f.anonExclusive = true;
        vma.anonVma = true;
        folios.emitFolio(f);
        k.setPte(mm, va, new Pte(PteState.PRESENT, f.pfn, write, write, true, true), "hugetlb_no_page");
        return;
      }
      case ANON_SHARED: {
        Folio f = pageCacheFolio(vma, va);
        f.mapcount++;
        f.refcount++;
        folios.emitFolio(f);
        k.setPte(mm, va, new Pte(PteState.PRESENT, f.pfn, vma.canWrite(), write, true, true), "do_shared_fault");
        return;
      }
      case FILE_PRIVATE: {
        Folio file = pageCacheFolio(vma, va);
        if (!write) {
          file.mapcount++;
          file.refcount++;
          folios.emitFolio(file);
          k.setPte(mm, va, new Pte(PteState.PRESENT, file.pfn, false, false, true, true), "do_read_fault");
        } else {
          mapNewAnonFolio(mm, vma, va, file, "do_cow_fault");
        }
        return;
      }
      default:
        throw new IllegalStateException("unknown VMA kind " + vma.kind);
    }
  }

  private Folio pageCacheFolio(Vma vma, long va) {
    long index = vma.pgoff + (va - vma.start) / Page.SIZE;
    Folio f = vma.pageCache.pages.get(index);
    if (f == null) {
      f = folios.allocFolio(false); // the page cache's reference
      vma.pageCache.pages.put(index, f);
      folios.emitFolio(f);
    }
    return f;
  }

  /** A new exclusive anonymous folio mapped PRESENT W D A (contents copied from src, or zeroed). */
  private Folio mapNewAnonFolio(Mm mm, Vma vma, long va, Folio src, String cause) {
    Folio f = folios.allocFolio(true);
    if (src != null) f.copyContentsFrom(src);
    f.mapcount = 1;
    f.anonExclusive = true;
    vma.anonVma = true;
    folios.emitFolio(f);
    k.setPte(mm, va, new Pte(PteState.PRESENT, f.pfn, true, true, true, true), cause);
    return f;
  }

  /**
   * Models do_swap_page() on a real swap entry (after reclaim, {@link Vmscan}): a new order-0 folio is read from the
   * swap slot (the model's slot is the freed folio whose pfn the entry carries: its contents are the data written
   * out), mapped anon-exclusive (the only mapping); writable and dirty on a write fault in a VM_WRITE VMA
   * (maybe_mkwrite(pte_mkdirty())), read-only otherwise; soft-dirty from the entry (pte_swp_soft_dirty).
   */
  private void doSwapPage(Mm mm, Vma vma, long va, Pte entry, boolean write) {
    Folio slot = folios.folioOf(entry.pfn());
    Folio f = folios.allocFolio(true);
    f.copyContentsFrom(slot);
    f.mapcount = 1;
    f.anonExclusive = true;
    vma.anonVma = true;
    boolean w = write && vma.canWrite();
    f.dirty = w;
    folios.emitFolio(f);
    k.setPte(mm, va, new Pte(PteState.PRESENT, f.pfn, w, w, true, entry.softDirty()), "do_swap_page");
  }

  /** Models do_wp_page(): wp_page_shared, wp_page_reuse (wp_can_reuse_anon_folio) or wp_page_copy. */
  private void doWpPage(Mm mm, Vma vma, long va, Pte pte, FaultDone done) {
    if (vma.shared()) {
      k.setPte(mm, va, new Pte(PteState.PRESENT, pte.pfn(), true, true, true, true), "wp_page_shared"); // pte_mkdirty: D + soft-dirty
      done.done(false);
      return;
    }
    if (pte.pfn() != CpuMm.ZERO_PFN) {
      Folio f = folios.folioOf(pte.pfn());
      if (f.anon) {
        boolean reuse = f.anonExclusive;
        // wp_can_reuse_anon_folio: folio_trylock, and no reference besides ours.
        if (!reuse && !f.locked() && f.refcount == 1) {
          f.anonExclusive = true;
          folios.emitFolio(f);
          reuse = true;
        }
        if (reuse) {
          k.setPte(mm, va, new Pte(PteState.PRESENT, pte.pfn(), true, true, true, true), "wp_page_reuse"); // pte_mkdirty
          done.done(false);
          return;
        }
      }
    }
    wpPageCopy(mm, vma, va, pte, done);
  }

  /**
   * Models do_huge_pmd_wp_page() (mm/huge_memory.c), a write fault on a read-only huge PMD (after fork's
   * copy_huge_pmd): the folio lock is taken (folio_lock, sleeping, then the fault is retried), then the whole PMD is
   * reused, made writable, dirty and young, when the folio is this mapping's alone (6.15: PageAnonExclusive, or
   * folio_ref_count == 1 -- here every page's refcount 1 -- which makes it anon-exclusive again; 5.14:
   * reuse_swap_page(), a mapcount of 1); otherwise the PMD is split (__split_huge_pmd: CLEAR over its 2 MiB) and
   * VM_FAULT_FALLBACK sends the fault to the PTE level (do_wp_page on the one page).
   */
  private void doHugePmdWpPage(Mm mm, Vma vma, long va, FaultDone done) {
    long haddr = va & ~(RangeFault.PMD_SIZE - 1);
    Folio head = folios.folioOf(mm.pte(haddr).pfn()).head;
    java.util.List<Folio> pages = folios.pagesOf(head);
    boolean reuse = !k.v5() && head.anonExclusive; // 6.15: the early PageAnonExclusive check, no lock
    if (!reuse) {
      if (head.locked()) { // folio_lock() sleeps; the PMD is re-checked afterwards (pmd_same): retry the fault
        head.park(() -> done.done(false));
        return;
      }
      if (k.v5()) {
        reuse = pages.stream().allMatch(p -> p.mapcount == 1); // reuse_swap_page()
      } else {
        reuse = pages.stream().allMatch(p -> p.refcount == 1);
        if (reuse) {
          for (Folio p : pages) { // folio_move_anon_rmap + SetPageAnonExclusive
            p.anonExclusive = true;
            folios.emitFolio(p);
          }
        }
      }
    }
    if (reuse) {
      for (long p = haddr; p < haddr + RangeFault.PMD_SIZE; p += Page.SIZE) {
        Pte o = mm.pte(p);
        k.setHugePmdPte(mm, p, new Pte(PteState.PRESENT, o.pfn(), vma.canWrite(), true, true, true), "do_huge_pmd_wp_page");
      }
      done.done(false);
      return;
    }
    huge.splitHugePmd(mm, haddr, () -> { // VM_FAULT_FALLBACK: the PTE level handles the write (do_wp_page)
      Pte now = mm.pte(va);
      if (now.isPresent() && !now.write()) doWpPage(mm, vma, va, now, done);
      else done.done(false);
    });
  }

  /** Models wp_page_copy(): CLEAR over the page, then replace the PTE if it is unchanged (pte_same). */
  private void wpPageCopy(Mm mm, Vma vma, long va, Pte pte, FaultDone done) {
    notifier.startInvalidation(mm, va, va + Page.SIZE, NotifyEvent.CLEAR, 0, true, inv -> {
      if (mm.pte(va).equals(pte)) {
        Folio old = folios.folioOf(pte.pfn());
        mapNewAnonFolio(mm, vma, va, old.zero ? null : old, "wp_page_copy");
        if (!old.zero) {
          old.mapcount--;
          old.refcount--;
          folios.settleRefcount(old);
          folios.emitFolio(old);
        }
      }
      notifier.endInvalidation(inv);
      done.done(false);
    }, null);
  }

  /** Models remove_device_exclusive_entry() (do_swap_page on a device-exclusive entry). */
  private void removeDeviceExclusiveEntry(Mm mm, long va, Pte orig, FaultMode mode, FaultDone done) {
    Folio f = folios.folioOf(orig.pfn());
    if (f.freed || f.refcount == 0) { // folio_try_get failed: the entry is going away; retry the access
      done.done(false);
      return;
    }
    folios.getFolio(f);
    lockForRestore(mm, va, orig, f, mode, done);
  }

  private void lockForRestore(Mm mm, long va, Pte orig, Folio f, FaultMode mode, FaultDone done) {
    boolean skipLock = f.locked() && k.mutant(Mutant.RESTORE_SKIP_FOLIO_LOCK); // mutant: restore under another's lock
    if (f.locked() && !skipLock) {
      if (mode == FaultMode.USER) {
        // folio_lock_or_retry: drop mmap_lock, wait for the unlock, VM_FAULT_RETRY; the caller puts the ref.
        mmapLock.readUnlock(mm);
        f.park(() -> {
          folios.putFolio(f);
          done.done(true);
        });
      } else {
        f.park(() -> lockForRestore(mm, va, orig, f, mode, done));
      }
      return;
    }
    if (!skipLock) folios.lockFolio(f);
    NotifyEvent event = k.v5() ? NotifyEvent.EXCLUSIVE : NotifyEvent.CLEAR;
    java.util.function.Consumer<Invalidation> restore = inv -> {
      if (mm.pte(va).equals(orig)) restoreExclusivePte(mm, va, f, orig, "restore_exclusive_pte:fault");
      if (!skipLock) folios.unlockFolio(f);
      folios.putFolio(f);
      if (inv != null) notifier.endInvalidation(inv);
      done.done(false);
    };
    if (k.mutant(Mutant.RESTORE_WITHOUT_CLEAR)) restore.accept(null); // mutant: no MMU_NOTIFY_CLEAR range
    else notifier.startInvalidation(mm, va, va + Page.SIZE, event, 0, true, restore, null);
  }

  /** Models restore_exclusive_pte() (folio locked, PTE lock held, devices already invalidated). */
  void restoreExclusivePte(Mm mm, long va, Folio f, Pte orig, String cause) {
    if (!f.locked()) throw new IllegalStateException("I6 restore ordering: restore of pfn " + f.pfn + " without the folio lock");
    Vma vma = mm.findVma(va);
    if (vma == null) throw new IllegalStateException("I11: DEVEXCL entry at " + Long.toHexString(va) + " outside any VMA");
    boolean write;
    boolean dirty;
    if (k.v5()) {
      write = orig.write() && vma.canWrite();
      dirty = orig.write();
      f.mapcount++; // page_add_anon_rmap: 5.14 entries were not counted
      folios.emitFolio(f);
    } else {
      // (vma->vm_flags & VM_WRITE) && can_change_pte_writable(): not while soft-dirty tracking needs the write
      // fault (pte_needs_soft_dirty_wp; the new PTE carries orig's soft-dirty bit), and for a private mapping only
      // an anon-exclusive page.
      write = vma.canWrite() && !vma.needsSoftDirtyWp(orig) && f.anon && f.anonExclusive;
      dirty = write && f.dirty;
    }
    k.setPte(mm, va, new Pte(PteState.PRESENT, f.pfn, write, dirty, false, orig.softDirty()), cause);
  }
}
