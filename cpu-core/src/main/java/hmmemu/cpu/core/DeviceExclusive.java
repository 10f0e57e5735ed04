package hmmemu.cpu.core;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.Mutant;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol.CpuAccess;
import hmmemu.protocol.msg.HmmProtocol.FolioUnlockPut;
import hmmemu.protocol.msg.HmmProtocol.MakeDeviceExclusive;
import hmmemu.protocol.msg.HmmProtocol.MakeDeviceExclusiveReply;
import hmmemu.protocol.msg.HmmProtocol.NotifierRemove;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Models make_device_exclusive() of mm/rmap.c (6.15) and the 5.14 range API for one page, the grants its
 * callers hold until folio_unlock() + folio_put(), and the leases on grants of drivers whose node went away.
 */
final class DeviceExclusive {
  private final Kernel k;
  private final Folios folios;
  private final MmapLock mmapLock;
  private final MmuNotifier notifier;
  private final PageFault faults;
  private final UserAccess access;
  private final HugeMemory huge;
  /** Successful make_device_exclusive calls whose FolioUnlockPut has not arrived yet, by reqId. */
  final Map<Long, Grant> grants = new LinkedHashMap<>();
  /** Grants of drivers on gone nodes, by reqId, with the model time at which their lease expires. */
  final Map<Long, Long> leaseDeadlines = new LinkedHashMap<>();
  long duplicateUnlockPuts;
  long mismatchedUnlockPuts;

  DeviceExclusive(Kernel k, Folios folios, MmapLock mmapLock, MmuNotifier notifier, PageFault faults, UserAccess access,
      HugeMemory huge) {
    this.k = k;
    this.huge = huge;
    this.folios = folios;
    this.mmapLock = mmapLock;
    this.notifier = notifier;
    this.faults = faults;
    this.access = access;
  }

  /** One successful make_device_exclusive() whose caller still owes folio_unlock() + folio_put(). */
  static final class Grant {
    final long reqId;
    final int deviceId;
    final long pfn;
    /** The call still holds the folio lock (false after the early-unlock ablation). */
    boolean lockHeld;

    Grant(long reqId, int deviceId, long pfn, boolean lockHeld) {
      this.reqId = reqId;
      this.deviceId = deviceId;
      this.pfn = pfn;
      this.lockHeld = lockHeld;
    }
  }

  /** A grant whose caller's node went away: its folio lock and reference are released when the lease runs out. */
  void startLease(Grant g) {
    leaseDeadlines.putIfAbsent(g.reqId, k.nowMicros + k.folioLockLeaseMicros);
  }

  /**
   * Releases every grant whose lease ran out: the dead caller's folio_unlock() (when it still held the lock) +
   * folio_put(), done by the CPU node on its behalf; waiters on the folio lock proceed.
   */
  void expireLeases() {
    if (leaseDeadlines.isEmpty()) return;
    for (Map.Entry<Long, Long> e : new ArrayList<>(leaseDeadlines.entrySet())) {
      if (e.getValue() > k.nowMicros) continue;
      leaseDeadlines.remove(e.getKey());
      Grant g = grants.remove(e.getKey());
      if (g == null) continue;
      k.leasesExpired++;
      Folio f = folios.folioOf(g.pfn);
      k.emit(new Trace.FolioLockLeaseExpired(g.reqId, g.deviceId, g.pfn, g.lockHeld));
      if (g.lockHeld) folios.unlockFolio(f);
      folios.putFolio(f);
    }
  }

  private static final class ExclusiveOp {
    final MakeDeviceExclusive m;
    final Mm mm;
    final long va;

    ExclusiveOp(MakeDeviceExclusive m, Mm mm) {
      this.m = m;
      this.mm = mm;
      this.va = Page.alignDown(m.va());
    }
  }

  /** Models make_device_exclusive() (6.15, docs/PROTOCOL.md §3.1) or the 5.14 range API for one page (§3.2). */
  void onMakeDeviceExclusive(MakeDeviceExclusive m) {
    ExclusiveOp op = new ExclusiveOp(m, k.mmFor(m.mmId()));
    mmapLock.readLock(op.mm, () -> exclusiveGup(op)); // the caller holds mmap_lock for read
  }

  /** get_user_page_vma_remote(FOLL_GET | FOLL_WRITE | FOLL_SPLIT_PMD), then the folio checks. */
  private void exclusiveGup(ExclusiveOp op) {
    Mm mm = op.mm;
    Vma vma = mm.findVma(op.va);
    if (vma == null) {
      exclusiveFail(op, Errno.EFAULT);
      return;
    }
    if (vma.kind == VmaKind.HUGETLB) { // check_vma_flags: FOLL_SPLIT_PMD on hugetlb
      exclusiveFail(op, Errno.EOPNOTSUPP);
      return;
    }
    if (!vma.canWrite()) {
      exclusiveFail(op, Errno.EFAULT);
      return;
    }
    if (mm.pmdMapped(op.va)) { // follow_pmd_mask(): FOLL_SPLIT_PMD splits a huge PMD (CLEAR over 2 MiB), then follows
      huge.splitHugePmd(mm, op.va, () -> exclusiveGup(op));
      return;
    }
    Pte pte = mm.pte(op.va);
    if (pte.isPresent() && pte.write()) {
      Folio f = folios.folioOf(pte.pfn());
      if (!k.mutant(Mutant.EXCLUSIVE_SKIP_GUP_REFERENCE)) folios.getFolio(f);
      followPageTouch(pte, f);
      if (!f.anon || f.hugetlb) {
        folios.putFolio(f);
        exclusiveFail(op, Errno.EOPNOTSUPP);
        return;
      }
      exclusiveLockFolio(op, f);
      return;
    }
    if (pte.state() == PteState.DEVICE_PRIVATE && faults.migrate != null && faults.migrate.deviceGone(pte.pfn())) {
      exclusiveFail(op, Errno.EFAULT); // faultin_page: VM_FAULT_SIGBUS -> -EFAULT (the device is gone)
      return;
    }
    if (k.v5() && op.m.owner() == 0 && pte.isDeviceExclusive() && heldByCallersChunk(op, pte.pfn())) {
      // 5.14 make_device_exclusive_range() pins the whole chunk with one get_user_pages_remote() before it converts
      // any page; dmirror_exclusive() keeps the converted pages locked until dmirror_atomic_map() is done. A page of
      // a large folio whose head the same chunk already converted (page_make_device_exclusive walks the whole
      // compound page) was pinned while still present, and its trylock_page() now fails: pages[i] = NULL. The
      // model asks page by page, so it answers that outcome here instead of faulting on the entry it would not
      // have met (the fault would wait for the caller's own lock). Only dmirror (owner NULL) converts a chunk of
      // several pages in one call; nouveau's one-page calls re-pin after a retry and do deadlock on their own lock
      // (C17).
      exclusiveFail(op, Errno.EBUSY);
      return;
    }
    // faultin_page(): write fault without FAULT_FLAG_ALLOW_RETRY, then follow the page again.
    faults.handleMmFault(mm, vma, op.va, true, PageFault.FaultMode.KERNEL, -1, retry -> exclusiveGup(op));
  }

  /** A grant of the calling device still holds the lock of pfn's folio (its dmirror chunk is not mapped yet). */
  private boolean heldByCallersChunk(ExclusiveOp op, long pfn) {
    Folio head = folios.folioOf(pfn).head;
    if (!head.locked) return false;
    for (Grant g : grants.values()) {
      if (g.deviceId == op.m.deviceId() && g.lockHeld && folios.folioOf(g.pfn).head == head) return true;
    }
    return false;
  }

  /**
   * Models follow_page_pte()'s FOLL_TOUCH (mm/gup.c), which get_user_pages_remote() adds to every call
   * (is_valid_gup_args(..., FOLL_TOUCH | FOLL_REMOTE)): with FOLL_WRITE a clean PTE's folio is marked dirty
   * (folio_mark_dirty), and the folio is marked accessed (folio_mark_accessed, not pte_mkyoung).
   */
  private void followPageTouch(Pte pte, Folio f) {
    boolean changed = false;
    if (!pte.dirty() && !f.dirty) {
      f.dirty = true;
      changed = true;
    }
    f.referenced = true;
    if (changed) folios.emitFolio(f);
  }

  private void exclusiveLockFolio(ExclusiveOp op, Folio f) {
    boolean lock = !k.mutant(Mutant.EXCLUSIVE_SKIP_FOLIO_LOCK); // mutant: no folio_lock_killable(), no unlock owed
    if (lock && f.locked) {
      if (k.v5()) { // folio_trylock failed: the page is reported NULL, dmirror answers -EBUSY
        folios.putFolio(f);
        exclusiveFail(op, Errno.EBUSY);
      } else { // folio_lock_killable(): sleep (holding mmap_lock) until unlocked
        f.park(() -> exclusiveLockFolio(op, f));
      }
      return;
    }
    if (lock) folios.lockFolio(f);
    if (k.v5() && f.large()) {
      pageMakeDeviceExclusive514(op, f);
      return;
    }
    if (k.mutant(Mutant.EXCLUSIVE_NO_NOTIFIER)) { // mutant: no mmu_notifier_invalidate_range_start(EXCLUSIVE)
      exclusiveConvert(op, f, null);
      return;
    }
    notifier.startInvalidation(op.mm, op.va, op.va + Page.SIZE, NotifyEvent.EXCLUSIVE, op.m.owner(), true,
        inv -> exclusiveConvert(op, f, inv), null);
  }

  /**
   * 5.14-6.14 page_make_device_exclusive() (mm/rmap.c) on a page of a large folio: "tail pages shouldn't be passed
   * to rmap_walk so skip those" ({@code if (!PageAnon(page) || PageTail(page)) return false}): a tail page is
   * reported NULL, which dmirror answers with -EBUSY. The head page is walked as the whole compound page
   * [derived from page_make_device_exclusive_one()'s page_vma_mapped_walk]: one EXCLUSIVE notifier over the
   * folio's span in the VMA, and every present PTE of the folio becomes a DEVEXCL entry (the walk stops at the first
   * non-present one); the call succeeds if the PTE at addr was writable and the head's mapcount reached 0.
   */
  private void pageMakeDeviceExclusive514(ExclusiveOp op, Folio f) {
    if (f.tail()) {
      folios.unlockFolio(f);
      folios.putFolio(f);
      exclusiveFail(op, Errno.EBUSY);
      return;
    }
    Mm mm = op.mm;
    Vma vma = mm.findVma(op.va);
    long end = Math.min(vma.end, op.va + (long) f.nrPages * Page.SIZE);
    notifier.startInvalidation(mm, op.va, end, NotifyEvent.EXCLUSIVE, op.m.owner(), true, inv -> {
      boolean valid = false;
      for (long va = op.va; va < end; va += Page.SIZE) {
        Pte cur = mm.pte(va);
        if (!cur.isPresent() || cur.pfn() < f.pfn || cur.pfn() >= f.pfn + f.nrPages) break;
        Folio page = folios.folioOf(cur.pfn());
        if (va == op.va && cur.pfn() == f.pfn && cur.write()) valid = true;
        if (cur.dirty()) page.dirty = true;
        page.mapcount--; // page_remove_rmap(subpage)
        folios.emitFolio(page);
        k.setPte(mm, va, new Pte(PteState.DEVEXCL, cur.pfn(), cur.write(), false, false, cur.softDirty()),
            "make_device_exclusive");
      }
      notifier.endInvalidation(inv);
      if (!valid || f.mapcount != 0) {
        folios.unlockFolio(f);
        folios.putFolio(f);
        exclusiveFail(op, Errno.EBUSY);
        return;
      }
      grant(op, f);
    }, null);
  }

  /** The re-walk under the PTE lock, then PRESENT -> DEVEXCL. */
  private void exclusiveConvert(ExclusiveOp op, Folio f, Invalidation inv) {
    Mm mm = op.mm;
    Pte cur = mm.pte(op.va);
    if ((!cur.isPresent() || cur.pfn() != f.pfn || !cur.write()) && !k.mutant(Mutant.EXCLUSIVE_SKIP_REWALK)) {
      if (inv != null) notifier.endInvalidation(inv); // null only under the EXCLUSIVE_NO_NOTIFIER mutant
      if (f.locked) folios.unlockFolio(f); // unlocked only under the EXCLUSIVE_SKIP_FOLIO_LOCK mutant
      folios.putFolio(f);
      if (k.v5()) exclusiveFail(op, Errno.EBUSY);
      else exclusiveGup(op); // 6.15: goto retry
      return;
    }
    boolean folioChanged = false;
    if (cur.dirty() && !f.dirty) { // ptep_clear_flush yields the final dirty bit
      f.dirty = true;
      folioChanged = true;
    }
    if (k.v5()) { // page_remove_rmap: 5.14 entries are not counted in mapcount
      f.mapcount--;
      folioChanged = true;
    }
    if (folioChanged) folios.emitFolio(f);
    k.setPte(mm, op.va, new Pte(PteState.DEVEXCL, f.pfn, k.v5() && cur.write(), false, false, cur.softDirty()),
        "make_device_exclusive");
    folios.exclusiveHolder.put(f.pfn, op.m.deviceId());
    if (inv != null) notifier.endInvalidation(inv);
    grant(op, f);
  }

  /** make_device_exclusive() returns the locked, referenced page to its caller. */
  private void grant(ExclusiveOp op, Folio f) {
    Mm mm = op.mm;
    folios.exclusiveHolder.put(f.pfn, op.m.deviceId());
    if (grants.containsKey(op.m.reqId())) {
      throw new IllegalStateException("I8: make_device_exclusive reqId " + op.m.reqId() + " granted twice");
    }
    Grant g = new Grant(op.m.reqId(), op.m.deviceId(), f.pfn, !k.mutant(Mutant.EXCLUSIVE_SKIP_FOLIO_LOCK));
    grants.put(g.reqId, g);
    // The ablation (C08) or the mutant: unlock right after conversion.
    if (g.lockHeld && (!k.switches.folioLockUntilMapped() || k.mutant(Mutant.EXCLUSIVE_UNLOCK_BEFORE_RETURN))) {
      folios.unlockFolio(f);
      g.lockHeld = false;
    }
    // A call parked while its node went away: nobody will unlock/put, so the lease starts now.
    if (k.goneNodes.contains(Kernel.nodeOfDevice(g.deviceId))) startLease(g);
    mmapLock.readUnlock(mm);
    // A thread spinning on the page touches it before the caller returns (CpuAccess.spin): its fault, and with
    // the folio unlocked (the ablation) its restore's invalidation, start first.
    boolean lockHeld = g.lockHeld;
    Runnable returned = () -> {
      k.emit(new Trace.ExclusiveReturned(op.m.reqId(), op.m.deviceId(), f.pfn, Errno.OK, lockHeld));
      k.reply(new MakeDeviceExclusiveReply(op.m.reqId(), Errno.OK, f.pfn));
    };
    if (access.wakeSpinners(mm, op.va)) k.runQueue.add(returned);
    else returned.run();
  }

  private void exclusiveFail(ExclusiveOp op, Errno errno) {
    mmapLock.readUnlock(op.mm);
    k.emit(new Trace.ExclusiveReturned(op.m.reqId(), op.m.deviceId(), 0, errno, false));
    k.reply(new MakeDeviceExclusiveReply(op.m.reqId(), errno, 0));
  }

  /** The caller's folio_unlock() + folio_put() after a successful make_device_exclusive(). */
  void onFolioUnlockPut(FolioUnlockPut m) {
    Grant g = grants.get(m.reqId());
    if (g == null) {
      duplicateUnlockPuts++;
      return;
    }
    if (g.pfn != m.pfn()) {
      mismatchedUnlockPuts++;
      return;
    }
    grants.remove(m.reqId());
    leaseDeadlines.remove(m.reqId());
    Folio f = folios.folioOf(g.pfn);
    // Reported first so that a checker counting outstanding references never sees fewer refs than owed.
    k.emit(new Trace.FolioUnlockPutDone(m.reqId(), g.deviceId, g.pfn));
    if (g.lockHeld) folios.unlockFolio(f);
    if (!k.mutant(Mutant.UNLOCK_PUT_LEAKS_REFERENCE)) folios.putFolio(f);
    // The caller's next call, before any thread the unlock woke runs (those wait in the run queue).
    if (m.thenRemoveSubId() != 0) notifier.onNotifierRemove(new NotifierRemove(m.thenRemoveSubId()));
  }
}
