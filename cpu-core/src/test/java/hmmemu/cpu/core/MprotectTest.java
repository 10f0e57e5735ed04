package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.MM;
import static hmmemu.cpu.core.Harness.P;
import static hmmemu.cpu.core.Harness.S0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol.InvalidateStart;
import hmmemu.protocol.msg.HmmProtocol.SyscallKind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** mprotect() (mm/mprotect.c) and soft-dirty tracking (fs/proc/task_mmu.c clear_refs, mm/memory.c restore). */
class MprotectTest {
  private static Errno mprotect(Harness h, long start, long len, int prot) {
    return h.syscall(SyscallKind.MPROTECT, start, len, prot, null, 0).errno();
  }

  private static List<InvalidateStart> protectionCallbacks(Harness h) {
    return h.sent.stream().filter(o -> o.msg() instanceof InvalidateStart s && s.event() == NotifyEvent.PROTECTION_VMA)
        .map(o -> (InvalidateStart) o.msg()).toList();
  }

  /** mm/mprotect.c mprotect_fixup: newflags == oldflags returns at once: no split, no notifier, mappings kept. */
  @Test
  void unchangedFlagsRaiseNoNotifierAndDoNotSplit() {
    Harness h = new Harness();
    h.mmapRw(B, 4);
    h.cpu(B, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    h.clear();
    assertEquals(Errno.OK, mprotect(h, B + P, 2 * P, Prot.RW));
    assertEquals(0, h.callbacks(S0), "no PROTECTION_VMA for a VMA whose flags do not change");
    assertEquals(1, h.cpu.vmas(MM).size(), "no split");
  }

  /**
   * mm/mprotect.c change_pud_range (6.15): the notifier starts at the first PUD that is not pud_none and runs to the
   * end of the P4D chunk: a VMA whose first GiB has no page tables gets a range starting at the next PUD.
   */
  @Test
  void notifierStartsAtTheFirstPopulatedPud() {
    Harness h = new Harness();
    long gib = 1L << 30;
    long base = 0x7e00_0000_0000L; // 1 GiB aligned
    h.mmap(base, 2 * gib, Prot.RW, hmmemu.protocol.model.VmaKind.ANON_PRIVATE);
    h.cpu(base + gib + 5 * P, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    h.clear();
    assertEquals(Errno.OK, mprotect(h, base, 2 * gib, Prot.READ));
    List<InvalidateStart> cbs = protectionCallbacks(h);
    assertEquals(1, cbs.size());
    assertEquals(base + gib, cbs.get(0).start(), "lazily from the populated PUD");
    assertEquals(base + 2 * gib, cbs.get(0).end());
  }

  /** 5.14 change_pmd_range: one notifier per PUD chunk with a populated PMD, from that PMD to the chunk's end. */
  @Test
  void v514NotifierPerPudChunkFromTheFirstPopulatedPmd() {
    Harness h = new Harness(ModelSwitches.kernel().withKernelProfile(KernelProfile.V5_14));
    long gib = 1L << 30;
    long base = 0x7e00_0000_0000L;
    h.mmap(base, 2 * gib, Prot.RW, hmmemu.protocol.model.VmaKind.ANON_PRIVATE);
    h.cpu(base + 4 * RangeFault.PMD_SIZE, Access.WRITE, 1);
    h.cpu(base + gib + P, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    h.clear();
    assertEquals(Errno.OK, mprotect(h, base, 2 * gib, Prot.READ));
    List<InvalidateStart> cbs = protectionCallbacks(h);
    assertEquals(2, cbs.size());
    assertEquals(base + 4 * RangeFault.PMD_SIZE, cbs.get(0).start());
    assertEquals(base + gib, cbs.get(0).end());
    assertEquals(base + gib, cbs.get(1).start());
    assertEquals(base + 2 * gib, cbs.get(1).end());
  }

  /**
   * The notifier follows page tables, not present PTEs: after MADV_DONTNEED the PTE table stays and mprotect still
   * raises PROTECTION_VMA (mm/mprotect.c change_pud_range tests pud_none only).
   */
  @Test
  void emptyPteTableStillRaisesTheNotifier() {
    Harness h = new Harness();
    h.mmapRw(B, 2);
    h.cpu(B, Access.WRITE, 1);
    assertEquals(Errno.OK, h.syscall(SyscallKind.MADV_DONTNEED, B, 2 * P, 0, null, 0).errno());
    h.insertInterval(S0, D0);
    h.clear();
    assertEquals(Errno.OK, mprotect(h, B, 2 * P, Prot.READ));
    assertEquals(1, h.callbacks(S0, NotifyEvent.PROTECTION_VMA));
  }

  /** MM_CP_TRY_CHANGE_WRITABLE / can_change_pte_writable exist since 6.2: 5.14 leaves the PTE read-only. */
  @Test
  void v514MprotectDoesNotUpgradeWritability() {
    Harness h = new Harness(ModelSwitches.kernel().withKernelProfile(KernelProfile.V5_14));
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    assertEquals(Errno.OK, mprotect(h, B, P, Prot.READ));
    assertEquals(Errno.OK, mprotect(h, B, P, Prot.RW));
    assertFalse(h.pte(B).write(), "5.14 change_pte_range: no writable upgrade for a private mapping");
    h.clear();
    assertEquals(1, h.cpu(B, Access.WRITE, 2).faults(), "the write takes the write-protect fault (reuse)");
    assertEquals(1, h.cpuFaults("wp"));
  }

  /** 6.15 can_change_pte_writable: pte_needs_soft_dirty_wp blocks the upgrade after clear_refs soft-dirty. */
  @Test
  void softDirtyTrackingBlocksTheMprotectUpgrade() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    assertEquals(Errno.OK, h.syscall(SyscallKind.SOFT_DIRTY_RESET, 0, 0, 0, null, 0).errno());
    assertEquals(Errno.OK, mprotect(h, B, P, Prot.READ));
    assertEquals(Errno.OK, mprotect(h, B, P, Prot.RW));
    assertFalse(h.pte(B).write(), "the PTE is not soft-dirty: the write must fault");
    assertEquals(1, h.cpu(B, Access.WRITE, 2).faults());
    assertTrue(h.pte(B).softDirty(), "the write-protect fault marks it soft-dirty");
    assertEquals(Errno.OK, mprotect(h, B, P, Prot.READ));
    assertEquals(Errno.OK, mprotect(h, B, P, Prot.RW));
    assertTrue(h.pte(B).write(), "soft-dirty now: upgraded");
  }

  /** mm/memory.c restore_exclusive_pte: can_change_pte_writable() includes pte_needs_soft_dirty_wp. */
  @Test
  void softDirtyTrackingBlocksTheWritableRestore() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    h.exclusive(D0, B, 0);
    assertEquals(Errno.OK, h.syscall(SyscallKind.SOFT_DIRTY_RESET, 0, 0, 0, null, 0).errno());
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    assertEquals(0, h.cpu(B, Access.READ, 0).value() - 1);
    assertEquals(PteState.PRESENT, h.pte(B).state());
    assertFalse(h.pte(B).write(), "restored read-only: soft-dirty tracking needs the write fault");
  }

  /** fs/proc/task_mmu.c clear_refs_write: the SOFT_DIRTY range is the whole mm, whatever the caller's range. */
  @Test
  void clearRefsCoversTheWholeMm() {
    Harness h = new Harness();
    h.mmapRw(B, 4);
    h.cpu(B + 3 * P, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    h.clear();
    assertEquals(Errno.OK, h.syscall(SyscallKind.SOFT_DIRTY_RESET, B, P, 0, null, 0).errno());
    InvalidateStart cb = protectionOrSoftDirty(h);
    assertEquals(0, cb.start());
    assertEquals(hmmemu.protocol.model.Page.TASK_SIZE, cb.end());
    assertFalse(h.pte(B + 3 * P).write(), "a PTE outside the caller's range is write-protected too");
  }

  private static InvalidateStart protectionOrSoftDirty(Harness h) {
    return h.sent.stream().filter(o -> o.msg() instanceof InvalidateStart s && s.event() == NotifyEvent.SOFT_DIRTY)
        .map(o -> (InvalidateStart) o.msg()).findFirst().orElseThrow();
  }
}
