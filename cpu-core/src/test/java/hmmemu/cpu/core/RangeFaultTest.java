package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.P;
import static hmmemu.cpu.core.Harness.S0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.SyscallKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** hmm_range_fault() of mm/hmm.c: the fault pass of hmm_vma_fault() and the -EBUSY re-walk (docs/PROTOCOL.md §3.10). */
class RangeFaultTest {
  private static final int RW = HmmPfn.REQ_FAULT | HmmPfn.REQ_WRITE;

  /**
   * mm/hmm.c hmm_vma_handle_pte -> hmm_vma_fault(addr, end): every page from the first faulting one to the end of
   * the PMD chunk is faulted in one pass; the walk then returns -EBUSY and hmm_range_fault() sees the CLEARs of the
   * restores through mmu_interval_check_retry(): one -EBUSY for N device-exclusive pages, then a clean walk.
   */
  @Test
  void oneFaultPassRestoresEveryDevexclPageOfThePmdChunk() {
    Harness h = new Harness();
    int n = 8;
    h.mmapRw(B, n);
    for (int i = 0; i < n; i++) h.cpu(B + i * P, Access.WRITE, i);
    h.insertInterval(S0, D0);
    for (int i = 0; i < n; i++) h.exclusive(D0, B + i * P, 0);
    h.clear();
    long seq = h.cpu.subscriptionSeq(S0).orElseThrow();
    HmmProtocol.HmmRangeFaultReply r = h.rangeFault(D0, S0, seq, B, Collections.nCopies(n, RW));
    assertEquals(Errno.EBUSY, r.errno());
    for (int i = 0; i < n; i++) assertEquals(PteState.PRESENT, h.pte(B + i * P).state(), "page " + i + " faulted in the same pass");
    assertEquals(n, h.callbacks(S0, NotifyEvent.CLEAR));
    r = h.rangeFault(D0, S0, h.cpu.subscriptionSeq(S0).orElseThrow(), B, Collections.nCopies(n, RW));
    assertEquals(Errno.OK, r.errno(), "the second call walks clean");
  }

  /**
   * mm/hmm.c hmm_vma_walk_pmd: pmd_none -> hmm_vma_walk_hole(start, end) -> hmm_vma_fault(start, end): the whole
   * chunk is faulted from its start, requested or not, with the OR of the requests' fault flags.
   */
  @Test
  void pmdNoneFaultsTheWholeChunkFromItsStart() {
    Harness h = new Harness();
    h.mmapRw(B, 4);
    long seq = h.insertInterval(S0, D0);
    HmmProtocol.HmmRangeFaultReply r = h.rangeFault(D0, S0, seq, B, List.of(0, 0, RW, 0));
    assertEquals(Errno.OK, r.errno());
    for (int i = 0; i < 4; i++) {
      assertEquals(PteState.PRESENT, h.pte(B + i * P).state(), "page " + i);
      assertTrue(h.pte(B + i * P).write(), "write fault for page " + i);
    }
  }

  /**
   * mm/hmm.c hmm_vma_handle_pte: with a PTE table present the fault starts at the first page that needs one
   * (hmm_vma_walk->last = addr), uses that page's fault flags for all pages to the chunk's end, and the re-walk
   * starts from last: pages before it are not faulted.
   */
  @Test
  void pteTableFaultsFromFirstFaultingPageToChunkEnd() {
    Harness h = new Harness();
    h.mmapRw(B, 4);
    h.cpu(B, Access.READ, 0); // page 0: the zero page, read-only; allocates the PTE table
    long seq = h.insertInterval(S0, D0);
    HmmProtocol.HmmRangeFaultReply r = h.rangeFault(D0, S0, seq, B, List.of(0, RW, 0, HmmPfn.REQ_FAULT));
    assertEquals(Errno.OK, r.errno());
    assertEquals(CpuMm.ZERO_PFN, h.pte(B).pfn(), "page 0 precedes the first faulting page");
    for (int i = 1; i < 4; i++) assertTrue(h.pte(B + i * P).write(), "page " + i + " took the first page's write fault");
  }

  /** The fault pass stops at the PMD boundary: two chunks, two passes (mm/pagewalk.c walk_pmd_range: pmd_addr_end). */
  @Test
  void faultPassStopsAtPmdBoundary() {
    Harness h = new Harness();
    long base = B + 512 * P - 2 * P; // two pages before the boundary, two after
    h.mmapRw(base, 4);
    for (int i = 0; i < 4; i++) h.cpu(base + i * P, Access.WRITE, i);
    h.insertInterval(S0, D0);
    for (int i = 0; i < 4; i++) h.exclusive(D0, base + i * P, 0);
    long seq = h.cpu.subscriptionSeq(S0).orElseThrow();
    assertEquals(Errno.EBUSY, h.rangeFault(D0, S0, seq, base, Collections.nCopies(4, RW)).errno());
    List<PteState> states = new ArrayList<>();
    for (int i = 0; i < 4; i++) states.add(h.pte(base + i * P).state());
    assertEquals(List.of(PteState.PRESENT, PteState.PRESENT, PteState.DEVEXCL, PteState.DEVEXCL), states);
  }

  /** free_pgtables() after munmap: a re-mapped range is pmd_none again (the whole chunk faults from its start). */
  @Test
  void munmapFreesPteTables() {
    Harness h = new Harness();
    h.mmapRw(B, 2);
    h.cpu(B, Access.WRITE, 1);
    assertEquals(Errno.OK, h.syscall(SyscallKind.MUNMAP, B, 2 * P, 0, null, 0).errno());
    h.mmapRw(B, 2);
    long seq = h.insertInterval(S0, D0);
    assertEquals(Errno.OK, h.rangeFault(D0, S0, seq, B, List.of(0, RW)).errno());
    assertEquals(PteState.PRESENT, h.pte(B).state(), "pmd_none: faulted from the chunk start");
  }
}
