package hmmemu.cpu.core;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.Mutant;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol.Syscall;
import hmmemu.protocol.msg.HmmProtocol.SyscallDone;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Models the syscalls that change VMAs and page tables: mmap, munmap, madvise(MADV_DONTNEED), mprotect, fork
 * (dup_mmap + copy_page_range, in {@link Fork}), exit_mmap, the OOM reaper (__oom_reap_task_mm) and clear_refs soft-dirty.
 */
final class Syscalls {
  private final Kernel k;
  private final Folios folios;
  private final MmapLock mmapLock;
  private final MmuNotifier notifier;
  private final PageFault faults;
  private final Vmscan vmscan;
  private final Migrate migrate;
  private final Ksm ksm;
  private final Khugepaged khugepaged;
  private final HugeMemory huge;
  private final Fork fork;

  Syscalls(Kernel k, Folios folios, MmapLock mmapLock, MmuNotifier notifier, PageFault faults, HugeMemory huge) {
    this.k = k;
    this.folios = folios;
    this.mmapLock = mmapLock;
    this.notifier = notifier;
    this.faults = faults;
    this.huge = huge;
    Rmap rmap = new Rmap(k, folios, notifier);
    this.vmscan = new Vmscan(k, folios, mmapLock, huge, rmap);
    this.migrate = new Migrate(k, folios, rmap);
    this.ksm = new Ksm(k, folios, mmapLock, notifier);
    this.khugepaged = new Khugepaged(k, folios, mmapLock, notifier, faults);
    this.fork = new Fork(this, k, folios, notifier, faults, huge);
  }

  /** The syscall entry points: each takes mmap_lock as the kernel does (the OOM reaper only trylocks it). */
  void onSyscall(Syscall m) {
    Mm mm = k.mmFor(m.mmId());
    if (mm.exited) {
      k.reply(new SyscallDone(m.reqId(), Errno.EINVAL, 0));
      return;
    }
    switch (m.kind()) {
      case MMAP: mmapLock.writeLock(mm, unlessExited(mm, m, true, () -> doMmap(mm, m))); return;
      case MUNMAP: mmapLock.writeLock(mm, unlessExited(mm, m, true, () -> doMunmap(mm, m))); return;
      case MADV_DONTNEED: mmapLock.readLock(mm, unlessExited(mm, m, false, () -> doMadvDontneed(mm, m))); return;
      case MPROTECT: mmapLock.writeLock(mm, unlessExited(mm, m, true, () -> doMprotect(mm, m))); return;
      case FORK: mmapLock.writeLock(mm, unlessExited(mm, m, true, () -> fork.doFork(mm, m))); return;
      case EXIT: mmapLock.writeLock(mm, unlessExited(mm, m, true, () -> doExit(mm, m))); return;
      case SOFT_DIRTY_RESET: mmapLock.writeLock(mm, unlessExited(mm, m, true, () -> doSoftDirtyReset(mm, m))); return;
      case OOM_REAP: doOomReap(mm, m); return;
      case MADV_HUGEPAGE: mmapLock.writeLock(mm, unlessExited(mm, m, true, () -> doMadvHugepage(mm, m))); return;
      case MADV_PAGEOUT:
        mmapLock.readLock(mm, unlessExited(mm, m, false, () -> inRange(mm, m, false, r -> vmscan.madvPageout(mm, m, r[0], r[1]))));
        return;
      case MIGRATE_PAGES: inRange(mm, m, null, r -> migrate.migratePages(mm, m, r[0], r[1])); return;
      case OFFLINE_PAGES: inRange(mm, m, null, r -> migrate.offlinePages(mm, m, r[0], r[1])); return;
      case KSM_SCAN:
        mmapLock.readLock(mm, unlessExited(mm, m, false, () -> inRange(mm, m, false, r -> ksm.scan(mm, m, r[0], r[1]))));
        return;
      case KHUGEPAGED_SCAN:
        mmapLock.writeLock(mm, unlessExited(mm, m, true, () -> inRange(mm, m, true, r -> khugepaged.scan(mm, m, r[0], r[1]))));
        return;
      default: throw new IllegalStateException("unknown syscall " + m.kind());
    }
  }

  /** A syscall that waited for mmap_lock while the mm exited is refused (-EINVAL) once it gets the lock. */
  private Runnable unlessExited(Mm mm, Syscall m, boolean writeLocked, Runnable body) {
    return () -> {
      if (mm.exited) syscallDone(mm, m, Errno.EINVAL, 0, writeLocked);
      else body.run();
    };
  }

  void syscallDone(Mm mm, Syscall m, Errno errno, long value, boolean writeLocked) {
    if (writeLocked) mmapLock.writeUnlock(mm);
    else mmapLock.readUnlock(mm);
    k.reply(new SyscallDone(m.reqId(), errno, value));
  }

  /**
   * The page-aligned user range of m, or -EINVAL (releasing mmap_lock as held: writeLocked true/false, null when
   * none is held).
   */
  private void inRange(Mm mm, Syscall m, Boolean writeLocked, java.util.function.Consumer<long[]> body) {
    long[] r = userRange(m);
    if (r != null) {
      body.accept(r);
      return;
    }
    if (writeLocked == null) k.reply(new SyscallDone(m.reqId(), Errno.EINVAL, 0));
    else syscallDone(mm, m, Errno.EINVAL, 0, writeLocked);
  }

  /**
   * Models madvise(MADV_HUGEPAGE) (hugepage_madvise: VM_HUGEPAGE on the VMAs of the range, split at its ends) with
   * the largest anonymous folio order enabled for the mm carried in m.prot() (9: PMD-sized THP, 2..8: mTHP, as
   * /sys/kernel/mm/transparent_hugepage/hugepages-&lt;size&gt;kB/enabled = madvise); anonymous private VMAs only
   * (others keep order 0, as thp_vma_allowable_orders() does for them). Later write faults allocate large folios.
   */
  private void doMadvHugepage(Mm mm, Syscall m) {
    long[] r = userRange(m);
    int order = m.prot() == 0 ? HugeMemory.PMD_ORDER : m.prot();
    if (r == null || order < 2 || order > HugeMemory.PMD_ORDER) {
      syscallDone(mm, m, Errno.EINVAL, 0, true);
      return;
    }
    long covered = 0;
    for (Vma v : mm.vmasIn(r[0], r[1])) covered += Math.min(v.end, r[1]) - Math.max(v.start, r[0]);
    if (covered != r[1] - r[0]) {
      syscallDone(mm, m, Errno.ENOMEM, 0, true);
      return;
    }
    splitVmaAt(mm, r[0]);
    splitVmaAt(mm, r[1]);
    for (Vma v : mm.vmasIn(r[0], r[1])) if (v.kind == VmaKind.ANON_PRIVATE) v.thpOrder = order;
    syscallDone(mm, m, Errno.OK, 0, true);
  }

  private static long pageRoundUp(long len) { return (len + Page.SIZE - 1) & ~(Page.SIZE - 1); }

  /** [start, start+length) page-aligned, or null when invalid (-EINVAL). */
  private static long[] userRange(Syscall m) {
    if ((m.start() & (Page.SIZE - 1)) != 0 || m.length() <= 0) return null;
    long end = m.start() + pageRoundUp(m.length());
    if (end > Page.TASK_SIZE || end <= m.start()) return null;
    return new long[] {m.start(), end};
  }

  /** Models mmap(start, length, prot, flags) without MAP_FIXED replacement: overlap is -EINVAL. */
  private void doMmap(Mm mm, Syscall m) {
    long len = pageRoundUp(m.length());
    long start = m.start();
    if (m.vmaKind() == null || len <= 0 || (m.prot() & ~Prot.RW) != 0) {
      syscallDone(mm, m, Errno.EINVAL, 0, true);
      return;
    }
    if (start == 0) { // get_unmapped_area: first gap above CpuMm.MMAP_BASE
      start = CpuMm.MMAP_BASE;
      for (Vma v : mm.vmas.tailMap(CpuMm.MMAP_BASE, true).values()) {
        if (v.start >= start + len) break;
        start = Math.max(start, v.end);
      }
    }
    long end = start + len;
    if ((start & (Page.SIZE - 1)) != 0 || end > Page.TASK_SIZE || end <= start || !mm.vmasIn(start, end).isEmpty()) {
      syscallDone(mm, m, Errno.EINVAL, 0, true);
      return;
    }
    boolean file = m.vmaKind() == VmaKind.ANON_SHARED || m.vmaKind() == VmaKind.FILE_PRIVATE;
    Vma v = new Vma(start, end, m.prot(), m.vmaKind(), file ? new Vma.PageCache() : null, 0);
    mm.vmas.put(start, v);
    k.emitVma(mm, v, false);
    syscallDone(mm, m, Errno.OK, start, true);
  }

  /** Models __split_vma(): afterwards no VMA straddles addr. */
  private void splitVmaAt(Mm mm, long addr) {
    Vma v = mm.findVma(addr);
    if (v == null || v.start == addr) return;
    k.emitVma(mm, v, true);
    Vma hi = v.copy();
    hi.start = addr;
    hi.pgoff = v.pgoff + (addr - v.start) / Page.SIZE;
    v.end = addr;
    mm.vmas.put(hi.start, hi);
    k.emitVma(mm, v, false);
    k.emitVma(mm, hi, false);
  }

  /** Models zap_pte_range() for one entry (zap_present_ptes / zap_nonpresent_ptes). No folio lock is taken. */
  private void zapPte(Mm mm, long va, String cause) {
    Pte pte = mm.pte(va);
    if (pte.state() == PteState.NONE) return;
    k.setPte(mm, va, Pte.NONE, cause);
    if (pte.state() == PteState.SWAP) return; // free_swap_and_cache(): the slot holds no folio reference
    if (pte.state() == PteState.MIGRATION) return; // the migration holds its own reference; finalize finds no PTE
    Folio f = folios.folioOf(pte.pfn());
    if (f.zero) return;
    if (pte.state() == PteState.DEVICE_PRIVATE) {
      f.mapcount--; // zap_nonpresent_ptes: is_device_private_entry -> folio_remove_rmap_pte, folio_put
    } else if (pte.isPresent()) {
      f.mapcount--;
      if (!f.anon && pte.dirty()) f.dirty = true;
    } else if (pte.isDeviceExclusive()) {
      // 6.15 zap_nonpresent_ptes: WARN_ON_ONCE(!vma_is_anonymous(vma)) (device-exclusive entries are expected in
      // anonymous VMAs only; a MAP_PRIVATE file VMA has vm_ops). 5.14's zap_pte_range has no such warning.
      Vma vma = mm.findVma(va);
      if (!k.v5() && vma != null && vma.kind != VmaKind.ANON_PRIVATE) {
        k.warnOnce("zap_nonpresent_ptes", "!vma_is_anonymous(vma)", mm.id, va);
      }
      if (!k.v5()) f.mapcount--; // 6.15: the entry counts like a present PTE
    } else {
      throw new IllegalStateException("zap of unsupported PTE state " + pte.state());
    }
    f.refcount--;
    folios.settleRefcount(f);
    folios.emitFolio(f);
  }

  void zapRange(Mm mm, long start, long end, String cause) {
    for (Long va : new ArrayList<>(mm.ptes.subMap(start, end).keySet())) zapPte(mm, va, cause);
  }

  /** Models munmap(): split, one UNMAP notifier over the range (unmap_vmas), zap, remove the VMAs. */
  private void doMunmap(Mm mm, Syscall m) {
    long[] r = userRange(m);
    if (r == null) {
      syscallDone(mm, m, Errno.EINVAL, 0, true);
      return;
    }
    if (mm.vmasIn(r[0], r[1]).isEmpty()) {
      syscallDone(mm, m, Errno.OK, 0, true);
      return;
    }
    // __split_vma -> vma_adjust_trans_huge: a huge PMD straddling a new VMA boundary is split first (CLEAR, 2 MiB)
    huge.splitPartial(mm, r[0], r[1], () -> doMunmapSplit(mm, m, r));
  }

  private void doMunmapSplit(Mm mm, Syscall m, long[] r) {
    splitVmaAt(mm, r[0]);
    splitVmaAt(mm, r[1]);
    List<Vma> victims = mm.vmasIn(r[0], r[1]);
    notifier.startInvalidation(mm, r[0], r[1], NotifyEvent.UNMAP, 0, true, inv -> {
      zapRange(mm, r[0], r[1], "munmap");
      for (Vma v : victims) {
        mm.vmas.remove(v.start);
        k.emitVma(mm, v, true);
      }
      mm.freePgtables(r[0], r[1]);
      notifier.endInvalidation(inv);
      syscallDone(mm, m, Errno.OK, 0, true);
    }, null);
  }

  /** Models madvise(MADV_DONTNEED): per VMA a CLEAR notifier and a zap (zap_page_range_single); VMAs stay. */
  private void doMadvDontneed(Mm mm, Syscall m) {
    long[] r = userRange(m);
    if (r == null) {
      syscallDone(mm, m, Errno.EINVAL, 0, false);
      return;
    }
    List<long[]> pieces = new ArrayList<>();
    long covered = 0;
    for (Vma v : mm.vmasIn(r[0], r[1])) {
      long s = Math.max(v.start, r[0]);
      long e = Math.min(v.end, r[1]);
      pieces.add(new long[] {s, e});
      covered += e - s;
    }
    Errno errno = covered == r[1] - r[0] ? Errno.OK : Errno.ENOMEM; // unmapped holes: -ENOMEM
    dontneedNext(mm, m, pieces, 0, errno);
  }

  private void dontneedNext(Mm mm, Syscall m, List<long[]> pieces, int i, Errno errno) {
    if (i == pieces.size()) {
      syscallDone(mm, m, errno, 0, false);
      return;
    }
    long s = pieces.get(i)[0];
    long e = pieces.get(i)[1];
    java.util.function.Consumer<Invalidation> zap = inv ->
      // zap_pmd_range: a huge PMD the range covers only in part is split (__split_huge_pmd, a nested CLEAR)
      huge.splitPartial(mm, s, e, () -> {
        zapRange(mm, s, e, "madv_dontneed");
        if (inv != null) notifier.endInvalidation(inv);
        dontneedNext(mm, m, pieces, i + 1, errno);
      });
    if (k.mutant(Mutant.DONTNEED_WITHOUT_CLEAR)) zap.accept(null); // mutant: no MMU_NOTIFY_CLEAR range
    else notifier.startInvalidation(mm, s, e, NotifyEvent.CLEAR, 0, true, zap, null);
  }

  /**
   * Models mprotect() (mm/mprotect.c do_mprotect_pkey -> mprotect_fixup -> change_protection): per VMA of the range
   * whose flags change (mprotect_fixup returns early, without a split or a notifier, when newflags == oldflags),
   * split, set the new protection, then change the PTEs under PROTECTION_VMA notifiers raised lazily: 6.15
   * change_pud_range() raises one per P4D chunk from the first populated PUD to the chunk's end; 5.14
   * change_pmd_range() one per PUD chunk from the first populated PMD. 6.15 leaves DEVEXCL entries untouched; 5.14
   * turns the writable variant into the readable one.
   */
  private void doMprotect(Mm mm, Syscall m) {
    long[] r = userRange(m);
    if (r == null || (m.prot() & ~Prot.RW) != 0) {
      syscallDone(mm, m, Errno.EINVAL, 0, true);
      return;
    }
    long covered = 0;
    for (Vma v : mm.vmasIn(r[0], r[1])) covered += Math.min(v.end, r[1]) - Math.max(v.start, r[0]);
    if (covered != r[1] - r[0]) {
      syscallDone(mm, m, Errno.ENOMEM, 0, true);
      return;
    }
    mprotectNext(mm, m, r, mm.vmasIn(r[0], r[1]), 0);
  }

  /** PUD_SIZE and P4D_SIZE (= PGDIR_SIZE with 4-level paging) on x86-64. */
  static final long PUD_SIZE = 1L << 30;
  static final long P4D_SIZE = 1L << 39;

  private void mprotectNext(Mm mm, Syscall m, long[] r, List<Vma> vmas, int i) {
    if (i == vmas.size()) {
      syscallDone(mm, m, Errno.OK, 0, true);
      return;
    }
    Vma v = vmas.get(i);
    if (v.prot == m.prot()) { // mprotect_fixup: newflags == oldflags, return 0
      mprotectNext(mm, m, r, vmas, i + 1);
      return;
    }
    long s = Math.max(v.start, r[0]);
    long e = Math.min(v.end, r[1]);
    // __split_vma -> vma_adjust_trans_huge -> split_huge_pmd_if_needed: a huge PMD straddling a new VMA boundary
    // (s or e not PMD-aligned) is split first (__split_huge_pmd: CLEAR over its 2 MiB), before the PROTECTION_VMA
    // range; a huge PMD the range covers whole stays huge and is changed by change_huge_pmd().
    huge.splitPartial(mm, s, e, () -> {
      splitVmaAt(mm, s);
      splitVmaAt(mm, e);
      Vma piece = mm.findVma(s);
      piece.prot = m.prot(); // vm_flags_reset + vma_set_page_prot, before change_protection
      k.emitVma(mm, piece, false);
      changeProtectionRanges(mm, piece, notifierRanges(mm, s, e), 0, () -> mprotectNext(mm, m, r, vmas, i + 1));
    });
  }

  /**
   * The PROTECTION_VMA ranges change_protection() raises over [s,e): 6.15 change_pud_range() (per P4D chunk, from the
   * first PUD that is not pud_none to the chunk's end); 5.14 change_pmd_range() (per PUD chunk, from the first PMD
   * that has a PTE table to the chunk's end). A PUD is populated here when a PTE table exists under it.
   */
  private List<long[]> notifierRanges(Mm mm, long s, long e) {
    long outer = k.v5() ? PUD_SIZE : P4D_SIZE;
    long inner = k.v5() ? RangeFault.PMD_SIZE : PUD_SIZE;
    List<long[]> out = new ArrayList<>();
    for (long chunk = s; chunk < e; ) {
      long chunkEnd = Math.min(e, (chunk & ~(outer - 1)) + outer);
      for (long a = chunk; a < chunkEnd; a = Math.min(chunkEnd, (a & ~(inner - 1)) + inner)) {
        if (populated(mm, a, Math.min(chunkEnd, (a & ~(inner - 1)) + inner))) {
          out.add(new long[] {a, chunkEnd});
          break;
        }
      }
      chunk = chunkEnd;
    }
    return out;
  }

  /** Whether a PTE table exists for some PMD of [a,b). */
  private static boolean populated(Mm mm, long a, long b) {
    for (long idx : mm.pteTables) {
      long pmdStart = idx * RangeFault.PMD_SIZE;
      if (pmdStart < b && a < pmdStart + RangeFault.PMD_SIZE) return true;
    }
    return false;
  }

  private void changeProtectionRanges(Mm mm, Vma v, List<long[]> ranges, int i, Runnable then) {
    if (i == ranges.size()) {
      then.run();
      return;
    }
    long s = ranges.get(i)[0];
    long e = ranges.get(i)[1];
    notifier.startInvalidation(mm, s, e, NotifyEvent.PROTECTION_VMA, 0, true, inv -> {
      changePteRange(mm, v, s, e);
      notifier.endInvalidation(inv);
      changeProtectionRanges(mm, v, ranges, i + 1, then);
    }, null);
  }

  /**
   * Models change_pte_range() over [s,e) of VMA v, whose protection is already the new one, and change_huge_pmd()
   * for a huge PMD that [s,e) covers whole (change_pmd_range: next - addr == HPAGE_PMD_SIZE): the PMD stays huge;
   * its new write bit follows the same rules (6.15: MM_CP_TRY_CHANGE_WRITABLE -> can_change_pmd_writable(), which
   * like can_change_pte_writable() wants an anon-exclusive page and no soft-dirty write fault; 5.14: pmd_modify()
   * alone, no upgrade), applied to the 512 PTE views without dropping the PMD.
   */
  private void changePteRange(Mm mm, Vma v, long s, long e) {
    boolean vmaWrite = v.canWrite();
    for (Map.Entry<Long, Pte> en : new ArrayList<>(mm.ptes.subMap(s, e).entrySet())) {
      Pte p = en.getValue();
      boolean hugePmd = mm.pmdMapped(en.getKey());
      if (hugePmd) {
        long haddr = en.getKey() & ~(RangeFault.PMD_SIZE - 1);
        if (haddr < s || haddr + RangeFault.PMD_SIZE > e) {
          throw new IllegalStateException("change_pmd_range: huge PMD at " + Long.toHexString(haddr)
              + " covered in part; __split_vma should have split it");
        }
      }
      if (p.isPresent()) {
        boolean write;
        if (!vmaWrite) {
          write = false;
        } else if (p.write()) {
          write = true;
        } else if (v.shared()) {
          // A shared writable VMA without write-notify has a writable vm_page_prot, so pte_modify() makes the PTE
          // writable. shmem wants write-notify only while soft-dirty tracking is on (vma_wants_writenotify); then
          // 6.15 tries can_change_pte_writable() (MM_CP_TRY_CHANGE_WRITABLE) and 5.14 upgrades a dirty PTE
          // (MM_CP_DIRTY_ACCT): neither while the PTE needs its soft-dirty write fault.
          write = !v.softDirtyEnabled() || (!v.needsSoftDirtyWp(p) && p.dirty());
        } else if (k.v5()) {
          write = false; // 5.14: no MM_CP_TRY_CHANGE_WRITABLE (6.2+); the next write takes the write-protect fault
        } else {
          // MM_CP_TRY_CHANGE_WRITABLE -> can_change_pte_writable(): not while soft-dirty tracking needs the write
          // fault (uffd-wp is not modelled); for a private mapping only exclusive anon pages.
          Folio f = folios.folioOf(p.pfn());
          write = !v.needsSoftDirtyWp(p) && !f.zero && f.anon && f.anonExclusive;
        }
        if (write != p.write()) {
          Pte n = new Pte(p.state(), p.pfn(), write, p.dirty(), p.young(), p.softDirty());
          if (hugePmd) k.setHugePmdPte(mm, en.getKey(), n, "change_huge_pmd");
          else k.setPte(mm, en.getKey(), n, "mprotect");
        }
      } else if (p.state() == PteState.DEVICE_PRIVATE && p.write()) {
        // change_pte_range: is_writable_device_private_entry -> make_readable_device_private_entry (soft-dirty lost)
        k.setPte(mm, en.getKey(), new Pte(p.state(), p.pfn(), false, false, false, false), "mprotect");
      } else if (p.isDeviceExclusive() && k.v5() && p.write()) {
        k.setPte(mm, en.getKey(), new Pte(p.state(), p.pfn(), false, false, false, p.softDirty()), "mprotect");
      }
    }
  }

  // ========================================================================== exit, reap, dirty

  /**
   * Models exit_mmap() (mm/mmap.c): mmu_notifier_release() (RELEASE over the whole address space to interval
   * subscriptions only; classic subscriptions get only their ->release op, which nouveau lacks, and are unhooked),
   * then unmap_vmas() (UNMAP over the whole address space, reaching interval subscriptions only), zap, free_pgtables.
   */
  private void doExit(Mm mm, Syscall m) {
    notifier.mmuNotifierRelease(mm, () ->
      notifier.startInvalidation(mm, 0, Page.TASK_SIZE, NotifyEvent.UNMAP, 0, true, unmap -> {
        zapRange(mm, 0, Page.TASK_SIZE, "exit_mmap");
        for (Vma v : new ArrayList<>(mm.vmas.values())) {
          mm.vmas.remove(v.start);
          k.emitVma(mm, v, true);
        }
        mm.freeAllPgtables(); // free_pgtables over the whole address space
        notifier.endInvalidation(unmap);
        mm.exited = true;
        syscallDone(mm, m, Errno.OK, 0, true);
      }, null));
  }

  /**
   * Models __oom_reap_task_mm(): mmap_read_trylock, then per private VMA a non-blockable UNMAP notifier and a
   * zap; a VMA whose notifier fails is skipped and the reap answers -EAGAIN.
   */
  private void doOomReap(Mm mm, Syscall m) {
    if (!mmapLock.readTrylock(mm)) {
      k.reply(new SyscallDone(m.reqId(), Errno.EAGAIN, 0));
      return;
    }
    List<Vma> targets = new ArrayList<>();
    for (Vma v : mm.vmas.values()) if (v.kind != VmaKind.HUGETLB && !v.shared()) targets.add(v);
    reapNext(mm, m, targets, 0, false);
  }

  private void reapNext(Mm mm, Syscall m, List<Vma> vmas, int i, boolean skipped) {
    if (i == vmas.size()) {
      syscallDone(mm, m, skipped ? Errno.EAGAIN : Errno.OK, 0, false);
      return;
    }
    Vma v = vmas.get(i);
    notifier.startInvalidation(mm, v.start, v.end, NotifyEvent.UNMAP, 0, false, inv -> {
      zapRange(mm, v.start, v.end, "oom_reap");
      notifier.endInvalidation(inv);
      reapNext(mm, m, vmas, i + 1, skipped);
    }, abandoned -> reapNext(mm, m, vmas, i + 1, true));
  }

  /**
   * Models clear_refs_write(CLEAR_REFS_SOFT_DIRTY) (fs/proc/task_mmu.c): always the whole mm. VM_SOFTDIRTY is cleared
   * on every VMA (soft-dirty tracking on), one SOFT_DIRTY notifier over [0, TASK_SIZE), then clear_soft_dirty() per
   * PTE: present PTEs are write-protected and lose the soft-dirty bit; swap entries (DEVEXCL) only lose the bit.
   * The syscall's range, if any, is ignored, as /proc/PID/clear_refs has none.
   */
  private void doSoftDirtyReset(Mm mm, Syscall m) {
    long start = 0;
    long end = Page.TASK_SIZE;
    for (Vma v : mm.vmas.values()) v.vmSoftDirty = false;
    notifier.startInvalidation(mm, start, end, NotifyEvent.SOFT_DIRTY, 0, true, inv -> {
      for (Map.Entry<Long, Pte> e : new ArrayList<>(mm.ptes.subMap(start, end).entrySet())) {
        Pte p = e.getValue();
        Pte n = p.isPresent()
            ? new Pte(p.state(), p.pfn(), false, p.dirty(), p.young(), false)
            : new Pte(p.state(), p.pfn(), p.write(), p.dirty(), p.young(), false);
        if (!n.equals(p)) k.setPte(mm, e.getKey(), n, "clear_soft_dirty");
      }
      notifier.endInvalidation(inv);
      syscallDone(mm, m, Errno.OK, 0, true);
    }, null);
  }
}
