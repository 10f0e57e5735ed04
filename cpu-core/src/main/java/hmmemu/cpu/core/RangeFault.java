package hmmemu.cpu.core;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.HmmRangeFault;
import java.util.ArrayList;
import java.util.List;

/** Models hmm_range_fault() of mm/hmm.c (PROTOCOL.md §3.10): the walk, the faults it takes and the snapshot. */
final class RangeFault {
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

  private static final class RangeFaultOp {
    final HmmRangeFault m;
    final Mm mm;
    final long start;

    RangeFaultOp(HmmRangeFault m, Mm mm) {
      this.m = m;
      this.mm = mm;
      this.start = Page.alignDown(m.start());
    }
  }

  /** Models hmm_range_fault() (mm/hmm.c, PROTOCOL.md §3.10). */
  void onHmmRangeFault(HmmRangeFault m) {
    RangeFaultOp op = new RangeFaultOp(m, k.mmFor(m.mmId()));
    mmapLock.readLock(op.mm, () -> rangeFaultWalk(op));
  }

  private void rangeFaultWalk(RangeFaultOp op) {
    Mm mm = op.mm;
    Subscription sub = notifier.subscriptions.get(op.m.subId());
    if (sub != null && sub.mmId == mm.id && notifier.checkRetry(sub, op.m.seq())) {
      rangeFaultDone(op, Errno.EBUSY, List.of());
      return;
    }
    List<Integer> flags = op.m.reqFlags();
    List<Long> words = new ArrayList<>(flags.size());
    for (int i = 0; i < flags.size(); i++) {
      long va = op.start + i * Page.SIZE;
      int req = flags.get(i);
      boolean fault = (req & HmmPfn.REQ_FAULT) != 0;
      boolean writeFault = fault && (req & HmmPfn.REQ_WRITE) != 0;
      Vma vma = mm.findVma(va);
      if (vma == null || !vma.canAccess()) { // hmm_vma_walk_hole / hmm_vma_walk_test
        if (fault) {
          rangeFaultDone(op, Errno.EFAULT, List.of());
          return;
        }
        words.add(HmmPfn.ERROR);
        continue;
      }
      Pte pte = mm.pte(va);
      boolean needFault = fault && (!pte.isPresent() || (writeFault && !pte.write()));
      if (needFault) {
        if (writeFault && !vma.canWrite()) { // hmm_vma_fault
          rangeFaultDone(op, Errno.EPERM, List.of());
          return;
        }
        // handle_mm_fault(), then the walk restarts (-EBUSY inside the walk) with check_retry first.
        faults.handleMmFault(mm, vma, va, writeFault, PageFault.FaultMode.KERNEL, -1, retry -> rangeFaultWalk(op));
        return;
      }
      words.add(snapshotWord(pte));
    }
    rangeFaultDone(op, Errno.OK, words);
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
