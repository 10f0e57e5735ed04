package hmmemu.cpu.core;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.Mutant;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.HmmRangeFault;
import java.util.ArrayList;
import java.util.List;

/**
 * Models hmm_range_fault() of mm/hmm.c (docs/PROTOCOL.md §3.10): the page-table walk (walk_page_range with
 * hmm_walk_ops: hmm_vma_walk_test, hmm_vma_walk_hole, hmm_vma_walk_pmd, hmm_vma_handle_pte), the faults it
 * takes (hmm_vma_fault) and the snapshot.
 *
 * <p>As in the kernel, one pass of the walk faults every page from the first page that needs a fault to the end
 * of the walk's PMD chunk (pmd_addr_end bounded by the VMA and the range), or the whole chunk when it has no
 * page table (pmd_none: hmm_vma_walk_hole), then returns -EBUSY to hmm_range_fault(), which checks
 * mmu_interval_check_retry() and walks again from hmm_vma_walk.last. N faulting pages in one PMD chunk cost
 * one fault pass and one clean walk, not N walks.
 *
 * <p>A huge PMD (pmd_trans_huge) goes to hmm_vma_handle_pmd(): pmd_to_hmm_pfn_flags() gives every page of the chunk
 * VALID, WRITE for a writable PMD, and the map order 9 (hmm_pfn_flags_order(PMD_SHIFT - PAGE_SHIFT)), read by the
 * driver with hmm_pfn_to_map_order(); a page that needs a fault faults the whole chunk (hmm_vma_fault), as for PTEs.
 */
final class RangeFault {
  /** PMD_SIZE on x86-64: 2 MiB, the span of one page-table page. */
  static final long PMD_SIZE = 512 * Page.SIZE;

  private final Kernel k;
  private final Folios folios;
  private final MmapLock mmapLock;
  private final MmuNotifier notifier;
  private final PageFault faults;

  RangeFault(Kernel k, Folios folios, MmapLock mmapLock, MmuNotifier notifier, PageFault faults) {
    this.k = k;
    this.folios = folios;
    this.mmapLock = mmapLock;
    this.notifier = notifier;
    this.faults = faults;
  }

  /** struct hmm_range + struct hmm_vma_walk of one call. */
  private static final class RangeFaultOp {
    final HmmRangeFault m;
    final Mm mm;
    final long start;
    final long end;
    /** range->hmm_pfns: the words filled so far (kept across the -EBUSY re-walks, as the kernel's array is). */
    final long[] words;
    /** hmm_vma_walk.last: where the next walk starts. */
    long last;

    RangeFaultOp(HmmRangeFault m, Mm mm) {
      this.m = m;
      this.mm = mm;
      this.start = Page.alignDown(m.start());
      this.end = start + m.reqFlags().size() * Page.SIZE;
      this.words = new long[m.reqFlags().size()];
      this.last = start;
    }

    int index(long va) { return (int) ((va - start) / Page.SIZE); }

    int req(long va) { return m.reqFlags().get(index(va)); }
  }

  /** Models hmm_range_fault() (mm/hmm.c, docs/PROTOCOL.md §3.10); the caller holds mmap_lock for read. */
  void onHmmRangeFault(HmmRangeFault m) {
    RangeFaultOp op = new RangeFaultOp(m, k.mmFor(m.mmId()));
    mmapLock.readLock(op.mm, () -> hmmRangeFault(op));
  }

  /**
   * The loop of hmm_range_fault(): {@code do { if (mmu_interval_check_retry()) return -EBUSY; ret =
   * walk_page_range(mm, hmm_vma_walk.last, range->end, ...); } while (ret == -EBUSY);}
   */
  private void hmmRangeFault(RangeFaultOp op) {
    Subscription sub = notifier.subscriptions.get(op.m.subId());
    if (sub != null && sub.mmId == op.mm.id && notifier.checkRetry(sub, op.m.seq())
        && !k.mutant(Mutant.RANGE_FAULT_SKIP_CHECK_RETRY)) {
      rangeFaultDone(op, Errno.EBUSY, List.of());
      return;
    }
    walkPageRange(op);
  }

  /** HMM_NEED_FAULT / HMM_NEED_WRITE_FAULT of hmm_pte_need_fault(). */
  private static final int NEED_FAULT = 1;
  private static final int NEED_WRITE_FAULT = 2;

  /** Models hmm_pte_need_fault(): what the request asks of an entry with these cpu flags. */
  private static int pteNeedFault(int req, boolean valid, boolean write) {
    if ((req & HmmPfn.REQ_FAULT) == 0) return 0;
    if ((req & HmmPfn.REQ_WRITE) != 0 && !write) return NEED_FAULT | NEED_WRITE_FAULT;
    return valid ? 0 : NEED_FAULT;
  }

  /** One walk_page_range() from hmm_vma_walk.last to range->end. */
  private void walkPageRange(RangeFaultOp op) {
    Mm mm = op.mm;
    long va = op.last;
    while (va < op.end) {
      Vma vma = mm.findVma(va);
      if (vma == null || !vma.canAccess()) { // hmm_vma_walk_hole without a VMA / hmm_vma_walk_test
        if ((op.req(va) & HmmPfn.REQ_FAULT) != 0) {
          rangeFaultDone(op, Errno.EFAULT, List.of());
          return;
        }
        op.words[op.index(va)] = HmmPfn.ERROR;
        va += Page.SIZE;
        continue;
      }
      // walk_pmd_range: [va, pmd_addr_end(va, end)), end bounded by the VMA and the range.
      long chunkEnd = Math.min(Math.min(vma.end, op.end), (va & ~(PMD_SIZE - 1)) + PMD_SIZE);
      if (!mm.hasPteTable(va)) { // hmm_vma_walk_pmd: pmd_none -> hmm_vma_walk_hole(start, end)
        int required = 0;
        for (long p = va; p < chunkEnd; p += Page.SIZE) required |= pteNeedFault(op.req(p), false, false);
        if (required != 0) {
          hmmVmaFault(op, vma, va, chunkEnd, required);
          return;
        }
        for (long p = va; p < chunkEnd; p += Page.SIZE) op.words[op.index(p)] = 0;
        va = chunkEnd;
        continue;
      }
      if (mm.pmdMapped(va)) { // hmm_vma_walk_pmd: pmd_trans_huge -> hmm_vma_handle_pmd
        Pte pmd = mm.pte(va & ~(PMD_SIZE - 1)); // the 512 PTE views of a huge PMD share its W bit
        int required = 0;
        for (long p = va; p < chunkEnd; p += Page.SIZE) required |= pteNeedFault(op.req(p), true, pmd.write());
        if (required != 0) {
          hmmVmaFault(op, vma, va, chunkEnd, required);
          return;
        }
        long flags = HmmPfn.VALID | (pmd.write() ? HmmPfn.WRITE : 0) | HmmPfn.orderFlags(HugeMemory.PMD_ORDER);
        for (long p = va; p < chunkEnd; p += Page.SIZE) op.words[op.index(p)] = mm.pte(p).pfn() | flags;
        va = chunkEnd;
        continue;
      }
      for (; va < chunkEnd; va += Page.SIZE) { // hmm_vma_handle_pte for each entry of the PTE table
        Pte pte = mm.pte(va);
        if (pte.state() == PteState.DEVICE_PRIVATE && op.m.devPrivateOwner() != 0
            && folios.pgmapOwner(folios.folioOf(pte.pfn())) == op.m.devPrivateOwner()) {
          // Device-private pages owned by range->dev_private_owner are reported as they are (VALID, WRITE for a
          // writable entry), never faulted; any other device-private page is faulted back to system memory below.
          op.words[op.index(va)] = HmmPfn.VALID | pte.pfn() | (pte.write() ? HmmPfn.WRITE : 0);
          continue;
        }
        if (pte.isDeviceExclusive() && k.mutant(Mutant.RANGE_FAULT_IGNORES_DEVEXCL)) { // mutant: as if present
          pte = new Pte(PteState.PRESENT, pte.pfn(), true, pte.dirty(), pte.young(), pte.softDirty());
        }
        int required = pteNeedFault(op.req(va), pte.isPresent(), pte.isPresent() && pte.write());
        if (required != 0) {
          hmmVmaFault(op, vma, va, chunkEnd, required);
          return;
        }
        op.words[op.index(va)] = snapshotWord(pte);
      }
    }
    List<Long> out = new ArrayList<>(op.words.length);
    for (long w : op.words) out.add(w);
    rangeFaultDone(op, Errno.OK, out);
  }

  /**
   * Models hmm_vma_fault(): hmm_vma_walk->last = addr; -EPERM for a write fault on a VMA without VM_WRITE; then
   * handle_mm_fault(FAULT_FLAG_REMOTE [| FAULT_FLAG_WRITE]) on every page of [addr, end), then -EBUSY (the walk
   * ends and hmm_range_fault() loops).
   */
  private void hmmVmaFault(RangeFaultOp op, Vma vma, long addr, long end, int required) {
    op.last = addr;
    boolean write = (required & NEED_WRITE_FAULT) != 0;
    if (write && !vma.canWrite()) {
      rangeFaultDone(op, Errno.EPERM, List.of());
      return;
    }
    faultNext(op, vma, addr, end, write);
  }

  /** The handle_mm_fault() loop of hmm_vma_fault(); iterative while the faults complete within the step. */
  private void faultNext(RangeFaultOp op, Vma vma, long from, long end, boolean write) {
    for (long va = from; va < end; va += Page.SIZE) {
      long cur = va;
      Pte pte = op.mm.pte(cur);
      if (pte.state() == PteState.DEVICE_PRIVATE && faults.migrate != null && faults.migrate.deviceGone(pte.pfn())) {
        rangeFaultDone(op, Errno.EFAULT, List.of()); // handle_mm_fault: VM_FAULT_SIGBUS (VM_FAULT_ERROR) -> -EFAULT
        return;
      }
      boolean[] parked = {true};
      boolean[] inline = {true};
      faults.handleMmFault(op.mm, vma, cur, write, PageFault.FaultMode.KERNEL, -1, retry -> {
        if (inline[0]) parked[0] = false;
        else faultNext(op, vma, cur + Page.SIZE, end, write); // resumed by a later step
      });
      inline[0] = false;
      if (parked[0]) return;
    }
    hmmRangeFault(op); // -EBUSY from the walk: check_retry, then walk again from last
  }

  private long snapshotWord(Pte pte) {
    switch (pte.state()) {
      case PRESENT:
        return HmmPfn.VALID | pte.pfn() | (pte.write() ? HmmPfn.WRITE : 0);
      case DEVEXCL:
        if (k.switches.hmmPfnExclusive()) {
          long holder = folios.exclusiveHolder.getOrDefault(pte.pfn(), 0) & 0xffffL;
          return HmmPfn.EXCLUSIVE | (holder << HmmPfn.HOLDER_SHIFT) | pte.pfn();
        }
        return 0;
      default:
        return 0;
    }
  }

  private void rangeFaultDone(RangeFaultOp op, Errno errno, List<Long> words) {
    mmapLock.readUnlock(op.mm);
    k.reply(new HmmProtocol.HmmRangeFaultReply(op.m.reqId(), errno, List.copyOf(words)));
  }
}
