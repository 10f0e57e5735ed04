package hmmemu.cpu.core;

import hmmemu.protocol.model.Errno;
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
 * (dup_mmap + copy_page_range), exit_mmap, the OOM reaper (__oom_reap_task_mm) and clear_refs soft-dirty.
 */
final class Syscalls {
  private final Kernel k;
  private final Folios folios;
  private final MmapLock mmapLock;
  private final MmuNotifier notifier;
  private final PageFault faults;

  Syscalls(Kernel k, Folios folios, MmapLock mmapLock, MmuNotifier notifier, PageFault faults) {
    this.k = k;
    this.folios = folios;
    this.mmapLock = mmapLock;
    this.notifier = notifier;
    this.faults = faults;
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
      case FORK: mmapLock.writeLock(mm, unlessExited(mm, m, true, () -> doFork(mm, m))); return;
      case EXIT: mmapLock.writeLock(mm, unlessExited(mm, m, true, () -> doExit(mm, m))); return;
      case SOFT_DIRTY_RESET: mmapLock.writeLock(mm, unlessExited(mm, m, true, () -> doSoftDirtyReset(mm, m))); return;
      case OOM_REAP: doOomReap(mm, m); return;
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

  private void syscallDone(Mm mm, Syscall m, Errno errno, long value, boolean writeLocked) {
    if (writeLocked) mmapLock.writeUnlock(mm);
    else mmapLock.readUnlock(mm);
    k.reply(new SyscallDone(m.reqId(), errno, value));
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
    Folio f = folios.folioOf(pte.pfn());
    if (f.zero) return;
    if (pte.isPresent()) {
      f.mapcount--;
      if (!f.anon && pte.dirty()) f.dirty = true;
    } else if (pte.isDeviceExclusive()) {
      if (!k.v5()) f.mapcount--; // 6.15: the entry counts like a present PTE
    } else {
      throw new IllegalStateException("zap of unsupported PTE state " + pte.state());
    }
    f.refcount--;
    folios.settleRefcount(f);
    folios.emitFolio(f);
  }

  private void zapRange(Mm mm, long start, long end, String cause) {
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
    notifier.startInvalidation(mm, s, e, NotifyEvent.CLEAR, 0, true, inv -> {
      zapRange(mm, s, e, "madv_dontneed");
      notifier.endInvalidation(inv);
      dontneedNext(mm, m, pieces, i + 1, errno);
    }, null);
  }

  /**
   * Models mprotect(): per VMA (mprotect_fixup -> change_protection) a PROTECTION_VMA notifier when the VMA has
   * page-table entries, then the new VMA protection and PTE updates. 6.15 leaves DEVEXCL entries untouched;
   * 5.14 turns the writable variant into the readable one.
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
    splitVmaAt(mm, r[0]);
    splitVmaAt(mm, r[1]);
    mprotectNext(mm, m, mm.vmasIn(r[0], r[1]), 0);
  }

  private void mprotectNext(Mm mm, Syscall m, List<Vma> vmas, int i) {
    if (i == vmas.size()) {
      syscallDone(mm, m, Errno.OK, 0, true);
      return;
    }
    Vma v = vmas.get(i);
    if (mm.ptes.subMap(v.start, v.end).isEmpty()) { // change_pmd_range raises the notifier lazily
      changeVmaProtection(mm, v, m.prot());
      mprotectNext(mm, m, vmas, i + 1);
      return;
    }
    notifier.startInvalidation(mm, v.start, v.end, NotifyEvent.PROTECTION_VMA, 0, true, inv -> {
      changeVmaProtection(mm, v, m.prot());
      notifier.endInvalidation(inv);
      mprotectNext(mm, m, vmas, i + 1);
    }, null);
  }

  private void changeVmaProtection(Mm mm, Vma v, int prot) {
    if (v.prot != prot) {
      v.prot = prot;
      k.emitVma(mm, v, false);
    }
    boolean vmaWrite = v.canWrite();
    for (Map.Entry<Long, Pte> e : new ArrayList<>(mm.ptes.subMap(v.start, v.end).entrySet())) {
      Pte p = e.getValue();
      if (p.isPresent()) {
        boolean write;
        if (!vmaWrite) {
          write = false;
        } else if (p.write()) {
          write = true;
        } else if (v.shared()) {
          write = p.dirty(); // can_change_pte_writable for a shared mapping
        } else {
          Folio f = folios.folioOf(p.pfn()); // MM_CP_TRY_CHANGE_WRITABLE: only exclusive anon pages
          write = !f.zero && f.anon && f.anonExclusive;
        }
        if (write != p.write()) {
          k.setPte(mm, e.getKey(), new Pte(p.state(), p.pfn(), write, p.dirty(), p.young(), p.softDirty()), "mprotect");
        }
      } else if (p.isDeviceExclusive() && k.v5() && p.write()) {
        k.setPte(mm, e.getKey(), new Pte(p.state(), p.pfn(), false, false, false, p.softDirty()), "mprotect");
      }
    }
  }

  // ========================================================================================= fork

  /** Models dup_mmap() + copy_page_range() (PROTOCOL.md §3.5). */
  private void doFork(Mm parent, Syscall m) {
    Mm existing = k.mms.get(m.childMmId());
    if (m.childMmId() == parent.id || (existing != null && (!existing.vmas.isEmpty() || existing.exited))) {
      syscallDone(parent, m, Errno.EINVAL, 0, true);
      return;
    }
    Mm child = k.mmFor(m.childMmId());
    forkNextVma(parent, child, m, new ArrayList<>(parent.vmas.values()), 0);
  }

  private void forkNextVma(Mm parent, Mm child, Syscall m, List<Vma> vmas, int i) {
    if (i == vmas.size()) {
      syscallDone(parent, m, Errno.OK, child.id, true);
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
    notifier.startInvalidation(parent, pv.start, pv.end, event, 0, true, inv -> {
      boolean ok = copyPteRange(parent, child, pv, cv);
      notifier.endInvalidation(inv);
      if (!ok) {
        forkAbort(parent, child, m);
        return;
      }
      forkNextVma(parent, child, m, vmas, i + 1);
    }, null);
  }

  /** copy_pte_range() for a COW VMA; false when a device-exclusive folio could not be trylocked (-EBUSY). */
  private boolean copyPteRange(Mm parent, Mm child, Vma pv, Vma cv) {
    for (Long va : new ArrayList<>(parent.ptes.subMap(pv.start, pv.end).keySet())) {
      Pte p = parent.pte(va);
      if (p.isDeviceExclusive()) { // copy_nonpresent_pte -> try_restore_exclusive_pte
        Folio f = folios.folioOf(p.pfn());
        if (f.locked) return false;
        folios.lockFolio(f);
        faults.restoreExclusivePte(parent, va, f, p, "restore_exclusive_pte:fork");
        folios.unlockFolio(f);
        p = parent.pte(va);
      }
      if (!p.isPresent()) throw new IllegalStateException("fork: cannot copy PTE state " + p.state());
      Folio f = folios.folioOf(p.pfn());
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

  /** fork() failed (-ENOMEM): the child is torn down, the parent keeps what was done to it. */
  private void forkAbort(Mm parent, Mm child, Syscall m) {
    zapRange(child, 0, Page.TASK_SIZE, "fork:abort");
    for (Vma v : new ArrayList<>(child.vmas.values())) {
      child.vmas.remove(v.start);
      k.emitVma(child, v, true);
    }
    k.mms.remove(child.id);
    syscallDone(parent, m, Errno.ENOMEM, 0, true);
  }

  // ========================================================================== exit, reap, dirty

  /**
   * Models exit_mmap(): mmu_notifier_release() (RELEASE over the whole address space to interval
   * subscriptions, then classic release callbacks, after which classic subscriptions are unhooked), then
   * unmap_vmas() (UNMAP over the whole address space), zap, free.
   */
  private void doExit(Mm mm, Syscall m) {
    notifier.startInvalidation(mm, 0, Page.TASK_SIZE, NotifyEvent.RELEASE, 0, true, release -> {
      for (Subscription s : new ArrayList<>(notifier.subscriptions.values())) {
        if (s.mmId == mm.id && s.kind == NotifierKind.CLASSIC) {
          notifier.subscriptions.remove(s.subId);
          s.live = false;
          k.emit(new Trace.NotifierRegistered(s.subId, s.deviceId, s.mmId, s.kind, s.start, s.end, true));
        }
      }
      notifier.endInvalidation(release);
      notifier.startInvalidation(mm, 0, Page.TASK_SIZE, NotifyEvent.UNMAP, 0, true, unmap -> {
        zapRange(mm, 0, Page.TASK_SIZE, "exit_mmap");
        for (Vma v : new ArrayList<>(mm.vmas.values())) {
          mm.vmas.remove(v.start);
          k.emitVma(mm, v, true);
        }
        mm.pteTables.clear(); // free_pgtables over the whole address space
        notifier.endInvalidation(unmap);
        mm.exited = true;
        syscallDone(mm, m, Errno.OK, 0, true);
      }, null);
    }, null);
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

  /** Models clear_refs_write(CLEAR_REFS_SOFT_DIRTY): SOFT_DIRTY notifier, then clear_soft_dirty per PTE. */
  private void doSoftDirtyReset(Mm mm, Syscall m) {
    long start = m.length() == 0 ? 0 : m.start();
    long end = m.length() == 0 ? Page.TASK_SIZE : m.start() + pageRoundUp(m.length());
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
