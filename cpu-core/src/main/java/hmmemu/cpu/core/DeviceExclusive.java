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
import hmmemu.protocol.msg.HmmProtocol.MakeDeviceExclusiveRange;
import hmmemu.protocol.msg.HmmProtocol.MakeDeviceExclusiveRangeReply;
import hmmemu.protocol.msg.HmmProtocol.MakeDeviceExclusiveReply;
import hmmemu.protocol.msg.HmmProtocol.NotifierRemove;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Models make_device_exclusive() of mm/rmap.c (6.15) and the 5.14 range API: make_device_exclusive_range() over a
 * range (dmirror's chunks: GUP of every page first, then trylock_page() + page_make_device_exclusive() per page) and
 * for one page (nouveau), the grants its callers hold until folio_unlock() + folio_put(), and the leases on grants of
 * drivers whose node went away.
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

  /** One page's make_device_exclusive(): the call itself (6.15, nouveau) or a page of a range call (5.14 dmirror). */
  private static final class ExclusiveOp {
    /** The call's reqId, or the page's from MakeDeviceExclusiveRange.pageReqIds: names its grant and trace. */
    final long reqId;
    final int deviceId;
    final long owner;
    final Mm mm;
    final long va;
    /** The make_device_exclusive_range() call this page belongs to, or null for make_device_exclusive(). */
    final RangeOp range;
    /** The page's index in {@link #range}. */
    final int index;

    ExclusiveOp(MakeDeviceExclusive m, Mm mm) {
      this(m.reqId(), m.deviceId(), m.owner(), mm, m.va(), null, 0);
    }

    ExclusiveOp(long reqId, int deviceId, long owner, Mm mm, long va, RangeOp range, int index) {
      this.reqId = reqId;
      this.deviceId = deviceId;
      this.owner = owner;
      this.mm = mm;
      this.va = Page.alignDown(va);
      this.range = range;
      this.index = index;
    }
  }

  /** One make_device_exclusive_range() call (5.14 mm/rmap.c): its pages[] and return value as they are built. */
  private static final class RangeOp {
    final MakeDeviceExclusiveRange m;
    final Mm mm;
    final int n;
    /** pages[] after get_user_pages_remote(): the pinned page (its folio, referenced) of each of the first npages. */
    final Folio[] pinned;
    /** pages[] as returned: the pfn of each converted page, 0 for NULL. */
    final long[] pfns;
    /** get_user_pages_remote()'s count of pinned pages. */
    int npages;
    /** get_user_pages_remote()'s error when it pinned no page (the call returns it), else OK. */
    Errno errno = Errno.OK;

    RangeOp(MakeDeviceExclusiveRange m, Mm mm) {
      this.m = m;
      this.mm = mm;
      this.n = m.pageReqIds().size();
      this.pinned = new Folio[n];
      this.pfns = new long[n];
    }

    ExclusiveOp page(int i) {
      return new ExclusiveOp(m.pageReqIds().get(i), m.deviceId(), m.owner(), mm,
          Page.alignDown(m.start()) + ((long) i << Page.SHIFT), this, i);
    }
  }

  /** Models make_device_exclusive() (6.15, docs/PROTOCOL.md §3.1) or the 5.14 range API for one page (§3.2). */
  void onMakeDeviceExclusive(MakeDeviceExclusive m) {
    ExclusiveOp op = new ExclusiveOp(m, k.mmFor(m.mmId()));
    mmapLock.readLock(op.mm, () -> exclusiveGup(op)); // the caller holds mmap_lock for read
  }

  /**
   * Models make_device_exclusive_range() (5.14 mm/rmap.c, docs/PROTOCOL.md §3.2): get_user_pages_remote() pins
   * every page of the range first, then each pinned page is trylock_page()d and page_make_device_exclusive()d in
   * turn; a page that fails either is put and reported NULL, the others are returned locked and referenced.
   */
  void onMakeDeviceExclusiveRange(MakeDeviceExclusiveRange m) {
    if (!k.v5()) { // "mm/rmap: convert make_device_exclusive_range() to make_device_exclusive()" (6.15) removed it
      throw new IllegalStateException("make_device_exclusive_range is the 5.14 API, not in profile "
          + k.switches.kernelProfile() + ": " + m);
    }
    RangeOp r = new RangeOp(m, k.mmFor(m.mmId()));
    mmapLock.readLock(r.mm, () -> rangeGup(r, 0)); // dmirror_exclusive() holds mmap_lock for read
  }

  /** make_device_exclusive()'s get_user_page_vma_remote() and folio checks, then the folio lock and conversion. */
  private void exclusiveGup(ExclusiveOp op) {
    gupPage(op, f -> {
      if (!f.anon || f.hugetlb) {
        folios.putFolio(f);
        exclusiveFail(op, Errno.EOPNOTSUPP);
        return;
      }
      exclusiveLockFolio(op, f);
    }, errno -> exclusiveFail(op, errno));
  }

  /**
   * get_user_pages_remote(mm, start, npages, FOLL_GET | FOLL_WRITE | FOLL_SPLIT_PMD, pages) (mm/gup.c
   * __get_user_pages): page by page, each as {@link #gupPage}; the first page it cannot pin ends it ("return i ? i
   * : ret"), and make_device_exclusive_range() goes on with the pages pinned so far.
   */
  private void rangeGup(RangeOp r, int i) {
    if (i == r.n) {
      r.npages = r.n;
      rangeConvert(r, 0);
      return;
    }
    ExclusiveOp op = r.page(i);
    gupPage(op, f -> {
      r.pinned[i] = f;
      rangeGup(r, i + 1);
    }, errno -> {
      // page i's outcome; the pages after it are never pinned, nor reported
      k.emit(new Trace.ExclusiveReturned(op.reqId, op.deviceId, 0, errno, false));
      r.npages = i;
      if (i == 0) r.errno = errno;
      rangeConvert(r, 0);
    });
  }

  /**
   * make_device_exclusive_range()'s loop over the pinned pages: "if (!trylock_page(pages[i])) { put_page(pages[i]);
   * pages[i] = NULL; continue; }", then page_make_device_exclusive() (unlock_page + put_page + NULL when it fails).
   * A page of a large folio whose head this call already converted is still locked by that conversion: its
   * trylock_page() (the head's lock) fails, as in the kernel.
   */
  private void rangeConvert(RangeOp r, int i) {
    if (i == r.npages) {
      rangeReturn(r);
      return;
    }
    exclusiveLockFolio(r.page(i), r.pinned[i]);
  }

  /** make_device_exclusive_range() returns npages (or GUP's error) with pages[] to dmirror_exclusive(). */
  private void rangeReturn(RangeOp r) {
    mmapLock.readUnlock(r.mm);
    List<Long> pfns = new ArrayList<>(r.n);
    for (long pfn : r.pfns) pfns.add(pfn);
    k.reply(new MakeDeviceExclusiveRangeReply(r.m.reqId(), r.errno, r.npages, Collections.unmodifiableList(pfns)));
  }

  /**
   * get_user_page_vma_remote(FOLL_GET | FOLL_WRITE | FOLL_SPLIT_PMD) of op's page: {@code pinned} gets its folio
   * (referenced, touched), or {@code failed} the errno GUP stops with.
   */
  private void gupPage(ExclusiveOp op, Consumer<Folio> pinned, Consumer<Errno> failed) {
    Mm mm = op.mm;
    Vma vma = mm.findVma(op.va);
    if (vma == null) {
      failed.accept(Errno.EFAULT);
      return;
    }
    if (vma.kind == VmaKind.HUGETLB) { // check_vma_flags: FOLL_SPLIT_PMD on hugetlb
      failed.accept(Errno.EOPNOTSUPP);
      return;
    }
    if (!vma.canWrite()) {
      failed.accept(Errno.EFAULT);
      return;
    }
    if (mm.pmdMapped(op.va)) { // follow_pmd_mask(): FOLL_SPLIT_PMD splits a huge PMD (CLEAR over 2 MiB), then follows
      huge.splitHugePmd(mm, op.va, () -> gupPage(op, pinned, failed));
      return;
    }
    Pte pte = mm.pte(op.va);
    if (pte.isPresent() && pte.write()) {
      Folio f = folios.folioOf(pte.pfn());
      if (!k.mutant(Mutant.EXCLUSIVE_SKIP_GUP_REFERENCE)) folios.getFolio(f);
      followPageTouch(pte, f);
      pinned.accept(f);
      return;
    }
    if (pte.state() == PteState.DEVICE_PRIVATE && faults.migrate != null && faults.migrate.deviceGone(pte.pfn())) {
      failed.accept(Errno.EFAULT); // faultin_page: VM_FAULT_SIGBUS -> -EFAULT (the device is gone)
      return;
    }
    // faultin_page(): write fault without FAULT_FLAG_ALLOW_RETRY, then follow the page again.
    faults.handleMmFault(mm, vma, op.va, true, PageFault.FaultMode.KERNEL, -1, retry -> gupPage(op, pinned, failed));
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
    if (lock && f.locked()) {
      if (k.v5()) { // folio_trylock failed: the page is reported NULL, dmirror answers -EBUSY
        folios.putFolio(f);
        exclusiveFail(op, Errno.EBUSY);
      } else { // folio_lock_killable(): sleep (holding mmap_lock) until unlocked
        f.park(() -> exclusiveLockFolio(op, f));
      }
      return;
    }
    if (lock) folios.lockFolio(f);
    if (op.range != null && (!f.anon || f.hugetlb)) { // page_make_device_exclusive(): "if (!PageAnon(page) ..."
      if (lock) folios.unlockFolio(f);
      folios.putFolio(f);
      exclusiveFail(op, Errno.EOPNOTSUPP);
      return;
    }
    if (k.v5() && f.large()) {
      pageMakeDeviceExclusive514(op, f);
      return;
    }
    if (k.mutant(Mutant.EXCLUSIVE_NO_NOTIFIER)) { // mutant: no mmu_notifier_invalidate_range_start(EXCLUSIVE)
      exclusiveConvert(op, f, null);
      return;
    }
    notifier.startInvalidation(op.mm, op.va, op.va + Page.SIZE, NotifyEvent.EXCLUSIVE, op.owner, true,
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
    notifier.startInvalidation(mm, op.va, end, NotifyEvent.EXCLUSIVE, op.owner, true, inv -> {
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
      if (f.locked()) folios.unlockFolio(f); // unlocked only under the EXCLUSIVE_SKIP_FOLIO_LOCK mutant
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
    folios.exclusiveHolder.put(f.pfn, op.deviceId);
    if (inv != null) notifier.endInvalidation(inv);
    grant(op, f);
  }

  /** make_device_exclusive() returns the locked, referenced page to its caller. */
  private void grant(ExclusiveOp op, Folio f) {
    Mm mm = op.mm;
    folios.exclusiveHolder.put(f.pfn, op.deviceId);
    if (grants.containsKey(op.reqId)) {
      throw new IllegalStateException("I8: make_device_exclusive reqId " + op.reqId + " granted twice");
    }
    Grant g = new Grant(op.reqId, op.deviceId, f.pfn, !k.mutant(Mutant.EXCLUSIVE_SKIP_FOLIO_LOCK));
    grants.put(g.reqId, g);
    // The ablation (C08) or the mutant: unlock right after conversion.
    if (g.lockHeld && (!k.switches.folioLockUntilMapped() || k.mutant(Mutant.EXCLUSIVE_UNLOCK_BEFORE_RETURN))) {
      folios.unlockFolio(f);
      g.lockHeld = false;
    }
    // A call parked while its node went away: nobody will unlock/put, so the lease starts now.
    if (k.goneNodes.contains(Kernel.nodeOfDevice(g.deviceId))) startLease(g);
    if (op.range == null) mmapLock.readUnlock(mm); // a range call keeps it until it returns (rangeReturn)
    // A thread spinning on the page touches it before the caller returns (CpuAccess.spin): its fault, and with
    // the folio unlocked (the ablation) its restore's invalidation, start first.
    boolean lockHeld = g.lockHeld;
    Runnable returned = () -> {
      k.emit(new Trace.ExclusiveReturned(op.reqId, op.deviceId, f.pfn, Errno.OK, lockHeld));
      if (op.range == null) {
        k.reply(new MakeDeviceExclusiveReply(op.reqId, Errno.OK, f.pfn));
      } else { // pages[i] stays set; the range call goes on with the next pinned page
        op.range.pfns[op.index] = f.pfn;
        rangeConvert(op.range, op.index + 1);
      }
    };
    if (access.wakeSpinners(mm, op.va)) k.runQueue.add(returned);
    else returned.run();
  }

  /** The call fails with errno; for a page of a range call: pages[i] = NULL and the loop goes on. */
  private void exclusiveFail(ExclusiveOp op, Errno errno) {
    if (op.range != null) {
      k.emit(new Trace.ExclusiveReturned(op.reqId, op.deviceId, 0, errno, false));
      rangeConvert(op.range, op.index + 1);
      return;
    }
    mmapLock.readUnlock(op.mm);
    k.emit(new Trace.ExclusiveReturned(op.reqId, op.deviceId, 0, errno, false));
    k.reply(new MakeDeviceExclusiveReply(op.reqId, errno, 0));
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
