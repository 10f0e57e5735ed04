package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.D1;
import static hmmemu.cpu.core.Harness.MM;
import static hmmemu.cpu.core.Harness.OWNER0;
import static hmmemu.cpu.core.Harness.P;
import static hmmemu.cpu.core.Harness.S0;
import static hmmemu.cpu.core.Harness.S1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.InvalidateStart;
import hmmemu.protocol.msg.HmmProtocol.SyscallKind;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** munmap, madvise, mprotect, fork, exit, clear_refs, the OOM reaper and hmm_range_fault (docs/PROTOCOL.md §3.5-§3.10). */
class SyscallTest {
  static final int CHILD = 2;
  static final List<Integer> FAULT_WRITE = List.of(HmmPfn.REQ_FAULT | HmmPfn.REQ_WRITE);

  private static Harness exclusivePages(int n) {
    Harness h = new Harness();
    h.mmapRw(B, n);
    for (int i = 0; i < n; i++) h.cpu(B + i * P, Access.WRITE, i);
    h.insertInterval(S0, D0);
    for (int i = 0; i < n; i++) h.exclusive(D0, B + i * P, 0);
    h.clear();
    return h;
  }

  /** C02 (hmm.exclusive_mprotect): PROTECTION_VMA once, entries stay DEVEXCL; a write hmm_range_fault is -EPERM. */
  @Test
  void mprotectKeepsDevexclAndWriteFaultIsEperm() {
    Harness h = exclusivePages(4);
    h.syscall(SyscallKind.MPROTECT, B, 4 * P, Prot.READ, null, 0);
    assertEquals(1, h.callbacks(S0));
    assertEquals(1, h.callbacks(S0, NotifyEvent.PROTECTION_VMA));
    InvalidateStart cb = h.last(InvalidateStart.class, x -> true);
    assertEquals(B, cb.start());
    assertEquals(B + 4 * P, cb.end());
    for (int i = 0; i < 4; i++) assertEquals(PteState.DEVEXCL, h.pte(B + i * P).state());
    long seq = h.cpu.subscriptionSeq(S0).orElseThrow();
    HmmProtocol.HmmRangeFaultReply r = h.rangeFault(D0, S0, seq, B, Collections.nCopies(4, HmmPfn.REQ_FAULT | HmmPfn.REQ_WRITE));
    assertEquals(Errno.EPERM, r.errno());
    assertEquals(PteState.DEVEXCL, h.pte(B).state(), "no restore");
    assertEquals(0, h.cpuFaults("devexcl"));
    // step 4: munmap frees every folio (zap without the folio lock).
    List<Long> pfns = new ArrayList<>();
    for (int i = 0; i < 4; i++) pfns.add(h.pte(B + i * P).pfn());
    h.syscall(SyscallKind.MUNMAP, B, 4 * P, 0, null, 0);
    assertEquals(1, h.callbacks(S0, NotifyEvent.UNMAP));
    for (long pfn : pfns) assertTrue(h.folio(pfn).freed());
  }

  /** C03 (hmm.exclusive_cow): fork restores under trylock and COW-shares: PROTECTION_PAGE only, mapcount 2, refcount 2. */
  @Test
  void forkRestoresThenCowShares() {
    Harness h = exclusivePages(3);
    HmmProtocol.SyscallDone d = h.syscall(SyscallKind.FORK, 0, 0, 0, null, CHILD);
    assertEquals(Errno.OK, d.errno());
    assertEquals(CHILD, d.value());
    assertEquals(1, h.callbacks(S0));
    assertEquals(1, h.callbacks(S0, NotifyEvent.PROTECTION_PAGE));
    assertEquals(0, h.cpuFaults("devexcl") + h.cpuFaults("wp"), "no user faults during fork");
    for (int i = 0; i < 3; i++) {
      Pte p = h.pte(B + i * P);
      Pte c = h.cpu.pte(CHILD, B + i * P);
      assertEquals(PteState.PRESENT, p.state());
      assertFalse(p.write());
      assertEquals(PteState.PRESENT, c.state());
      assertFalse(c.write());
      assertEquals(p.pfn(), c.pfn());
      FolioView f = h.folio(p.pfn());
      assertEquals(2, f.mapcount());
      assertEquals(2, f.refcount());
      assertFalse(f.anonExclusive());
    }
    // Child writes first: it copies; the parent then reuses (refcount back to 1).
    for (int i = 0; i < 3; i++) {
      long old = h.pte(B + i * P).pfn();
      HmmProtocol.CpuAccessDone c = h.step(-1, new HmmProtocol.CpuAccess(9000 + i, 2, CHILD, B + i * P, Access.ATOMIC, 1))
          .out.stream().map(o -> (HmmProtocol.CpuAccessDone) o.msg()).findFirst().orElseThrow();
      assertEquals(i, c.value());
      assertEquals(1, c.faults());
      assertNotEquals(old, h.cpu.pte(CHILD, B + i * P).pfn());
      HmmProtocol.CpuAccessDone p = h.cpu(B + i * P, Access.ATOMIC, 1);
      assertEquals(1, p.faults());
      assertEquals(old, h.pte(B + i * P).pfn(), "the last mapper reuses the page");
      assertEquals(i + 1, h.cpu.word(old, 0), "never i+2");
      assertEquals(i + 1, h.cpu.word(h.cpu.pte(CHILD, B + i * P).pfn(), 0));
    }
    assertEquals(0, h.cpuFaults("devexcl"));
    assertEquals(6, h.cpuFaults("wp"));
  }

  /** C12 / R6: copy_nonpresent_pte meets a DEVEXCL entry whose folio a driver holds: fork() fails with -ENOMEM. */
  @Test
  void forkFailsWithEnomemWhileDriverHoldsFolioLock() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    long id = h.mdeSend(D0, B, OWNER0);
    long pfn = h.mdeReply(id).pfn();
    HmmProtocol.SyscallDone d = h.syscall(SyscallKind.FORK, 0, 0, 0, null, CHILD);
    assertEquals(Errno.ENOMEM, d.errno());
    assertFalse(h.cpu.hasMm(CHILD), "the child is discarded");
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    assertEquals(1, h.callbacks(S0, NotifyEvent.PROTECTION_PAGE), "devices were invalidated anyway");
    h.unlockPut(D0, id, pfn);
    assertEquals(Errno.OK, h.syscall(SyscallKind.FORK, 0, 0, 0, null, CHILD).errno(), "after the unlock fork succeeds");
    assertEquals(PteState.PRESENT, h.pte(B).state());
  }

  /** C11 case A: MADV_DONTNEED zaps a DEVEXCL entry without the folio lock; the driver's ref keeps the folio until its put. */
  @Test
  void dontneedZapKeepsDriverReferenceUntilPut() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    long id = h.mdeSend(D0, B, OWNER0);
    long pfn = h.mdeReply(id).pfn();
    HmmProtocol.SyscallDone d = h.syscall(SyscallKind.MADV_DONTNEED, B, P, 0, null, 0);
    assertEquals(Errno.OK, d.errno(), "MADV_DONTNEED does not need the folio lock");
    assertEquals(1, h.callbacks(S0, NotifyEvent.CLEAR));
    assertEquals(PteState.NONE, h.pte(B).state());
    FolioView f = h.folio(pfn);
    assertEquals(1, f.refcount());
    assertEquals(0, f.mapcount());
    assertTrue(f.locked());
    assertFalse(f.freed());
    assertTrue(h.cpu.vma(MM, B).isPresent(), "the VMA stays");
    h.unlockPut(D0, id, pfn);
    assertTrue(h.folio(pfn).freed());
    // Iteration 2 of the driver loop: a fresh zeroed page.
    HmmProtocol.MakeDeviceExclusiveReply again = h.mde(D0, B, OWNER0);
    assertEquals(Errno.OK, again.errno());
    assertNotEquals(pfn, again.pfn());
    assertEquals(0, h.cpu.word(again.pfn(), 0));
  }

  /** C14: munmap of a DEVEXCL page: one UNMAP, mapcount 1->0, refcount 1->0, freed; a later conversion gets -EFAULT. */
  @Test
  void munmapFreesDevexclFolio() {
    Harness h = exclusivePages(1);
    long pfn = h.pte(B).pfn();
    h.syscall(SyscallKind.MUNMAP, B, P, 0, null, 0);
    assertEquals(1, h.callbacks(S0, NotifyEvent.UNMAP));
    FolioView f = h.folio(pfn);
    assertTrue(f.freed());
    assertEquals(0, f.mapcount());
    assertEquals(Errno.EFAULT, h.mde(D0, B, OWNER0).errno());
    assertTrue(h.cpu.vmas(MM).isEmpty());
  }

  /** munmap of part of a VMA splits it (__split_vma) and leaves the rest mapped. */
  @Test
  void partialMunmapSplitsVma() {
    Harness h = new Harness();
    h.mmapRw(B, 4);
    for (int i = 0; i < 4; i++) h.cpu(B + i * P, Access.WRITE, i);
    h.syscall(SyscallKind.MUNMAP, B + P, 2 * P, 0, null, 0);
    assertEquals(List.of(new VmaView(B, B + P, Prot.RW, hmmemu.protocol.model.VmaKind.ANON_PRIVATE),
        new VmaView(B + 3 * P, B + 4 * P, Prot.RW, hmmemu.protocol.model.VmaKind.ANON_PRIVATE)), h.cpu.vmas(MM));
    assertEquals(PteState.PRESENT, h.pte(B).state());
    assertEquals(PteState.NONE, h.pte(B + P).state());
    assertEquals(3, h.cpu(B + 3 * P, Access.READ, 0).value());
  }

  /**
   * C18: exit_mmap: mmu_notifier_release() sends RELEASE over the whole address space to interval subs only
   * (mm/mmu_notifier.c mn_itree_release); classic subs get only their ->release op (mn_hlist_release; nouveau has
   * none, so no callback) and are unhooked; then UNMAP (unmap_vmas) to interval subs, zap, free.
   */
  @Test
  void exitSendsReleaseThenFreesEverything() {
    Harness h = exclusivePages(1);
    long pfn = h.pte(B).pfn();
    long classic = S1;
    h.insert(classic, D1, NotifierKind.CLASSIC, 0, Page.TASK_SIZE);
    h.clear();
    h.autoAck = false;
    long id = h.req();
    h.step(-1, new HmmProtocol.Syscall(id, MM, SyscallKind.EXIT, 0, 0, 0, null, 0));
    InvalidateStart rel = h.pendingCallbacks.peek();
    assertEquals(S0, rel.subId());
    assertEquals(NotifyEvent.RELEASE, rel.event());
    assertEquals(0, rel.start());
    assertEquals(Page.TASK_SIZE, rel.end());
    assertEquals(1, h.pendingCallbacks.size());
    h.ack(h.pendingCallbacks.poll(), true);
    assertEquals(S0, h.pendingCallbacks.peek().subId());
    assertEquals(NotifyEvent.UNMAP, h.pendingCallbacks.peek().event());
    h.autoAck = true;
    h.ackAll();
    assertEquals(Errno.OK, h.reply(HmmProtocol.SyscallDone.class, x -> x.reqId() == id).errno());
    assertEquals(1, h.callbacks(S0, NotifyEvent.UNMAP), "unmap_vmas still calls interval subs");
    assertEquals(0, h.callbacks(classic), "mn_hlist_release: no invalidation callback for a classic sub, then unhooked");
    assertTrue(h.events(Trace.NotifierRegistered.class).stream().anyMatch(r -> r.subId() == classic && r.removed()));
    assertTrue(h.folio(pfn).freed());
    assertTrue(h.cpu.vmas(MM).isEmpty());
    assertEquals(Errno.SIGSEGV, h.cpu(B, Access.READ, 0).errno());
  }

  /** C20: a non-blockable (OOM reaper) callback that cannot lock returns false: no PTE change, applied=false, -EAGAIN. */
  @Test
  void nonBlockableFailureSkipsRangeWithEagain() {
    Harness h = exclusivePages(1);
    long seqBefore = h.cpu.globalSeq(MM);
    h.autoAck = false;
    long id = h.req();
    h.step(-1, new HmmProtocol.Syscall(id, MM, SyscallKind.OOM_REAP, 0, 0, 0, null, 0));
    InvalidateStart cb = h.pendingCallbacks.poll();
    assertFalse(cb.blockable());
    assertEquals(seqBefore + 1, cb.curSeq());
    h.ack(cb, false);
    assertEquals(Errno.EAGAIN, h.reply(HmmProtocol.SyscallDone.class, x -> x.reqId() == id).errno());
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    Trace.InvalidateEnded end = h.events(Trace.InvalidateEnded.class).get(0);
    assertFalse(end.applied());
    assertEquals(seqBefore + 2, h.cpu.globalSeq(MM), "the odd period ended");
    assertEquals(0, h.cpu.activeInvalidations(MM));
    // Retried later with a callback that can lock: the range is reaped.
    h.autoAck = true;
    assertEquals(Errno.OK, h.syscall(SyscallKind.OOM_REAP, 0, 0, 0, null, 0).errno());
    assertEquals(PteState.NONE, h.pte(B).state());
  }

  /** clear_refs soft-dirty: one SOFT_DIRTY notifier, present PTEs write-protected, DEVEXCL kept. */
  @Test
  void softDirtyResetNotifiesAndWriteProtects() {
    Harness h = exclusivePages(1);
    h.cpu(B + P * 0, Access.READ, 0); // restore page 0
    h.mmapRw(B + 8 * P, 1);
    h.cpu(B + 8 * P, Access.WRITE, 1);
    h.exclusive(D0, B + 8 * P, 0);
    h.clear();
    assertEquals(Errno.OK, h.syscall(SyscallKind.SOFT_DIRTY_RESET, B, 9 * P, 0, null, 0).errno());
    assertEquals(1, h.callbacks(S0, NotifyEvent.SOFT_DIRTY));
    assertFalse(h.pte(B).write());
    assertEquals(PteState.DEVEXCL, h.pte(B + 8 * P).state());
    assertEquals(1, h.cpu(B, Access.WRITE, 5).faults(), "write-protect fault, page reused");
    assertEquals(0, h.callbacks(S0, NotifyEvent.CLEAR));
  }

  /** hmm_range_fault() snapshot: PRESENT -> VALID[|WRITE]|pfn, DEVEXCL -> 0, none -> 0, no VMA -> ERROR. */
  @Test
  void rangeFaultSnapshotWords() {
    Harness h = new Harness();
    h.mmapRw(B, 3);
    h.cpu(B, Access.WRITE, 1);
    h.cpu(B + P, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    long pfn0 = h.pte(B).pfn();
    long pfn1 = h.exclusive(D0, B + P, 0);
    long seq = h.cpu.subscriptionSeq(S0).orElseThrow();
    HmmProtocol.HmmRangeFaultReply r = h.rangeFault(D0, S0, seq, B, List.of(0, 0, 0, 0));
    assertEquals(Errno.OK, r.errno());
    assertEquals(List.of(HmmPfn.VALID | HmmPfn.WRITE | pfn0, 0L, 0L, HmmPfn.ERROR), r.hmmPfns());
    Harness x = new Harness(ModelSwitches.kernel().withHmmPfnExclusive(true));
    x.mmapRw(B, 1);
    x.cpu(B, Access.WRITE, 1);
    long p = x.exclusive(D1, B, 0);
    long w = x.rangeFault(D1, 0, 0, B, List.of(0)).hmmPfns().get(0);
    assertEquals(HmmPfn.EXCLUSIVE | ((long) D1 << HmmPfn.HOLDER_SHIFT) | p, w);
    assertEquals(D1, HmmPfn.holder(w));
    assertEquals(pfn1, h.pte(B + P).pfn());
  }

  /** §3.10: faulting a DEVEXCL page restores it (CLEAR) which hits the caller's sub: -EBUSY; the next read_begin succeeds. */
  @Test
  void rangeFaultOnDevexclRestoresThenEbusy() {
    Harness h = exclusivePages(1);
    long seq = h.cpu.subscriptionSeq(S0).orElseThrow();
    HmmProtocol.HmmRangeFaultReply r = h.rangeFault(D0, S0, seq, B, FAULT_WRITE);
    assertEquals(Errno.EBUSY, r.errno());
    assertEquals(PteState.PRESENT, h.pte(B).state());
    assertEquals(1, h.callbacks(S0, NotifyEvent.CLEAR));
    long seq2 = h.cpu.subscriptionSeq(S0).orElseThrow();
    HmmProtocol.HmmRangeFaultReply r2 = h.rangeFault(D0, S0, seq2, B, FAULT_WRITE);
    assertEquals(Errno.OK, r2.errno());
    assertEquals(HmmPfn.VALID | HmmPfn.WRITE | h.pte(B).pfn(), (long) r2.hmmPfns().get(0));
  }

  /** hmm_range_fault(): a stale seq is -EBUSY at once; REQ_FAULT on no VMA is -EFAULT; a none page is faulted in. */
  @Test
  void rangeFaultChecksRetryFaultsInAndRefusesHoles() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    long seq = h.insertInterval(S0, D0);
    assertEquals(Errno.EBUSY, h.rangeFault(D0, S0, seq + 2, B, FAULT_WRITE).errno());
    assertEquals(Errno.EFAULT, h.rangeFault(D0, S0, seq, B + 4 * P, List.of(HmmPfn.REQ_FAULT)).errno());
    HmmProtocol.HmmRangeFaultReply r = h.rangeFault(D0, S0, seq, B, List.of(HmmPfn.REQ_FAULT));
    assertEquals(Errno.OK, r.errno());
    assertEquals(HmmPfn.VALID | CpuMm.ZERO_PFN, (long) r.hmmPfns().get(0), "a read fault maps the zero page");
    r = h.rangeFault(D0, S0, seq, B, FAULT_WRITE);
    assertEquals(Errno.EBUSY, r.errno(), "the zero-page COW raised CLEAR on the caller's sub");
    assertTrue(h.pte(B).write());
  }

  /** While an invalidation that hit the sub is in flight, mmu_interval_check_retry() fails even with the fresh seq. */
  @Test
  void rangeFaultIsBusyDuringInvalidationThatHitTheSub() {
    Harness h = new Harness();
    h.mmapRw(B, 2);
    h.cpu(B, Access.WRITE, 1);
    h.cpu(B + P, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    h.autoAck = false;
    h.mdeSend(D1, B + P, 0);
    long cur = h.pendingCallbacks.peek().curSeq();
    assertEquals(Errno.EBUSY, h.rangeFault(D0, S0, cur, B, List.of(0)).errno());
    h.ackAll();
    assertNull(h.last(HmmProtocol.HmmRangeFaultReply.class, x -> x.errno() == Errno.OK));
  }

  /** 5.14 change_pte_range(): mprotect turns a writable device-exclusive entry into the readable variant for good. */
  @Test
  void v514MprotectDowngradesEntryToReadableVariant() {
    Harness h = new Harness(ModelSwitches.kernel().withKernelProfile(hmmemu.protocol.model.KernelProfile.V5_14));
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    long pfn = h.exclusive(D0, B, 0);
    assertTrue(h.pte(B).write());
    h.syscall(SyscallKind.MPROTECT, B, P, Prot.READ, null, 0);
    h.syscall(SyscallKind.MPROTECT, B, P, Prot.RW, null, 0);
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    assertFalse(h.pte(B).write(), "readable variant");
    h.cpu(B, Access.READ, 0);
    assertFalse(h.pte(B).write(), "the readable variant restores read-only even in a writable VMA");
    assertEquals(1, h.folio(pfn).mapcount(), "restore re-added the rmap");
    assertEquals(1, h.cpu(B, Access.WRITE, 2).faults(), "write-protect fault, page reused");
    assertEquals(pfn, h.pte(B).pfn());
  }

  /**
   * mm/memory.c zap_nonpresent_ptes (6.15): zapping a device-exclusive entry in a VMA that is not anonymous (a
   * MAP_PRIVATE file VMA, whose COW folio is anonymous) hits WARN_ON_ONCE(!vma_is_anonymous(vma)): reported once as a
   * kernel warning, and the zap goes on. 5.14's zap_pte_range has no such warning.
   */
  @Test
  void zapOfDevexclInFileVmaWarnsOnce() {
    for (hmmemu.protocol.model.KernelProfile profile : hmmemu.protocol.model.KernelProfile.values()) {
      Harness h = new Harness(ModelSwitches.kernel().withKernelProfile(profile));
      h.mmap(B, 2 * P, Prot.RW, hmmemu.protocol.model.VmaKind.FILE_PRIVATE);
      h.cpu(B, Access.WRITE, 1);
      h.cpu(B + P, Access.WRITE, 2);
      h.exclusive(D0, B, 0);
      h.exclusive(D0, B + P, 0);
      assertEquals(Errno.OK, h.syscall(SyscallKind.MUNMAP, B, 2 * P, 0, null, 0).errno());
      assertEquals(PteState.NONE, h.pte(B).state());
      List<Trace.KernelWarning> w = h.events(Trace.KernelWarning.class);
      if (profile == hmmemu.protocol.model.KernelProfile.V5_14) {
        assertTrue(w.isEmpty(), "5.14: no warning");
      } else {
        assertEquals(List.of(new Trace.KernelWarning("zap_nonpresent_ptes", "!vma_is_anonymous(vma)", MM, B)), w,
            "WARN_ON_ONCE: one report for two entries");
      }
    }
  }
}
