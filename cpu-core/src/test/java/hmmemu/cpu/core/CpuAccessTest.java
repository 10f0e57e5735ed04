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
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CPU accesses: the fault paths of mm/memory.c, and device accesses to host memory by pfn. */
class CpuAccessTest {

  /** do_anonymous_page(): a read maps the shared zero page read-only; a write allocates PRESENT W D A, refcount 1. */
  @Test
  void anonymousFaultsMapZeroPageThenAllocate() {
    Harness h = new Harness();
    h.mmapRw(B, 2);
    HmmProtocol.CpuAccessDone r = h.cpu(B, Access.READ, 0);
    assertEquals(0, r.value());
    assertEquals(1, r.faults());
    assertEquals(CpuMm.ZERO_PFN, h.pte(B).pfn());
    HmmProtocol.CpuAccessDone w = h.cpu(B + P + 8, Access.WRITE, 42);
    assertEquals(1, w.faults());
    Pte pte = h.pte(B + P);
    assertTrue(pte.write() && pte.dirty() && pte.young());
    FolioView f = h.folio(pte.pfn());
    assertEquals(1, f.refcount());
    assertEquals(1, f.mapcount());
    assertTrue(f.anonExclusive());
    assertEquals(42, h.cpu.word(pte.pfn(), 1));
    assertEquals(0, h.cpu(B + P + 8, Access.ATOMIC, 3).faults());
    assertEquals(45, h.cpu(B + P + 8, Access.READ, 0).value());
  }

  /** do_wp_page(): a write to the zero page copies (wp_page_copy raises CLEAR, owner NULL). */
  @Test
  void writeToZeroPageCopiesWithClear() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.insertInterval(S0, D0);
    h.cpu(B, Access.READ, 0);
    HmmProtocol.CpuAccessDone w = h.cpu(B, Access.WRITE, 9);
    assertEquals(1, w.faults());
    assertEquals(1, h.callbacks(S0, NotifyEvent.CLEAR));
    assertEquals(1, h.cpuFaults("wp"));
    assertTrue(h.pte(B).write());
  }

  /** C01 (hmm.exclusive) for a handful of pages: one CLEAR per page on the first CPU touch, PRESENT(W,D), folio dirty. */
  @Test
  void exclusiveThenCpuIncrementsEveryPage() {
    Harness h = new Harness();
    int n = 8;
    h.mmapRw(B, n);
    for (int i = 0; i < n; i++) h.cpu(B + i * P, Access.WRITE, i);
    h.insertInterval(S0, D0);
    List<Long> pfns = new ArrayList<>();
    for (int i = 0; i < n; i++) pfns.add(h.exclusive(D0, B + i * P, 0));
    assertEquals(n, h.callbacks(S0, NotifyEvent.EXCLUSIVE));
    for (int i = 0; i < n; i++) {
      assertEquals(PteState.DEVEXCL, h.pte(B + i * P).state());
      FolioView f = h.folio(pfns.get(i));
      assertTrue(f.dirty());
      assertFalse(f.locked());
      assertEquals(1, f.refcount());
      assertEquals(1, f.mapcount());
    }
    long before = h.cpuFaults("devexcl");
    for (int i = 0; i < n; i++) {
      HmmProtocol.CpuAccessDone d = h.cpu(B + i * P, Access.ATOMIC, 1);
      assertEquals(i, d.value());
      assertEquals(1, d.faults(), "the restored PTE is writable: the store does not fault again");
    }
    assertEquals(n, h.cpuFaults("devexcl") - before);
    assertEquals(n, h.callbacks(S0, NotifyEvent.CLEAR));
    for (int i = 0; i < n; i++) {
      Pte p = h.pte(B + i * P);
      assertEquals(PteState.PRESENT, p.state());
      assertTrue(p.write() && p.dirty() && p.young());
      assertEquals(pfns.get(i), p.pfn());
      assertEquals(i + 1, h.cpu.word(p.pfn(), 0));
    }
  }

  /** restore_exclusive_pte() (6.15): the restored PTE is old, writable for an anon-exclusive page, dirty iff the folio is. */
  @Test
  void restoreRecomputesWritableAndDirty() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    long pfn = h.exclusive(D0, B, 0);
    h.cpu(B, Access.READ, 0);
    Pte p = h.pte(B);
    assertTrue(p.write());
    assertTrue(p.dirty(), "folio was dirty");
    assertTrue(p.young(), "young again after the access itself");
    List<Trace.PteChanged> restores = h.events(Trace.PteChanged.class).stream()
        .filter(e -> e.cause().equals("restore_exclusive_pte:fault")).toList();
    assertEquals(1, restores.size());
    assertFalse(restores.get(0).young());
    assertEquals(pfn, restores.get(0).pfn());
  }

  /** §3.3 step 1: the VMA permission check comes first: a write to a read-only VMA is SIGSEGV, the entry is untouched. */
  @Test
  void writeToReadOnlyVmaIsSigsegvAndLeavesDevexcl() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.exclusive(D0, B, 0);
    h.syscall(HmmProtocol.SyscallKind.MPROTECT, B, P, Prot.READ, null, 0);
    HmmProtocol.CpuAccessDone d = h.cpu(B, Access.WRITE, 2);
    assertEquals(Errno.SIGSEGV, d.errno());
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    assertEquals(1, h.cpuFaults("sigsegv"));
    assertEquals(Errno.SIGSEGV, h.cpu(B + 5 * P, Access.READ, 0).errno(), "no VMA");
  }

  /** C15: after mprotect(PROT_READ) a CPU read restores read-only; mprotect(RW) upgrades the exclusive anon PTE. */
  @Test
  void readAfterMprotectRestoresReadOnly() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.exclusive(D0, B, 0);
    h.syscall(HmmProtocol.SyscallKind.MPROTECT, B, P, Prot.READ, null, 0);
    HmmProtocol.CpuAccessDone r = h.cpu(B, Access.READ, 0);
    assertEquals(1, r.faults());
    assertEquals(1, r.value());
    assertFalse(h.pte(B).write());
    h.syscall(HmmProtocol.SyscallKind.MPROTECT, B, P, Prot.RW, null, 0);
    // mprotect's MM_CP_TRY_CHANGE_WRITABLE makes an anon-exclusive PTE writable at once (can_change_pte_writable).
    assertTrue(h.pte(B).write());
    assertEquals(0, h.cpu(B, Access.WRITE, 3).faults());
  }

  /** A device's access by pfn reads/writes the same physical page; writes mark the folio dirty. */
  @Test
  void deviceMemoryAccessSharesThePage() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B + 16, Access.WRITE, 10);
    long pfn = h.pte(B).pfn();
    long id = h.req();
    h.step(D0, new HmmProtocol.DeviceMemoryAccess(id, D0, pfn, 2, Access.ATOMIC, 5));
    assertEquals(10, h.reply(HmmProtocol.DeviceMemoryAccessReply.class, x -> x.reqId() == id).value());
    assertEquals(15, h.cpu(B + 16, Access.READ, 0).value());
    assertTrue(h.folio(pfn).dirty());
    Trace.HostMemoryAccessed a = h.events(Trace.HostMemoryAccessed.class).stream().filter(e -> e.deviceId() == D0)
        .findFirst().orElseThrow();
    assertEquals(-1, a.threadId());
    assertEquals(15, a.newValue());
  }

  /** Freed folios keep their data: a late device access is answered (the checker flags it), the node does not crash. */
  @Test
  void deviceAccessToFreedFolioDoesNotCrash() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 77);
    long pfn = h.pte(B).pfn();
    h.syscall(HmmProtocol.SyscallKind.MUNMAP, B, P, 0, null, 0);
    assertTrue(h.folio(pfn).freed());
    long id = h.req();
    h.step(D0, new HmmProtocol.DeviceMemoryAccess(id, D0, pfn, 0, Access.WRITE, 1));
    assertEquals(77, h.reply(HmmProtocol.DeviceMemoryAccessReply.class, x -> x.reqId() == id).value());
    long id2 = h.req();
    h.step(D0, new HmmProtocol.DeviceMemoryAccess(id2, D0, 0x9999_9999L, 0, Access.READ, 0));
    assertEquals(0, h.reply(HmmProtocol.DeviceMemoryAccessReply.class, x -> x.reqId() == id2).value());
    assertEquals(1, h.cpu.unknownPfnAccesses());
  }

  /** MAP_SHARED anonymous (shmem): pages come from the shared page cache, mapped writable. */
  @Test
  void sharedMappingFaultsFromPageCache() {
    Harness h = new Harness();
    h.mmap(B, P, Prot.RW, VmaKind.ANON_SHARED);
    h.cpu(B, Access.READ, 0);
    FolioView f = h.folio(h.pte(B).pfn());
    assertFalse(f.anon());
    assertEquals(2, f.refcount());
    assertTrue(h.pte(B).write());
  }

  /** mmap(): an overlapping request is refused with -EINVAL; mmap(NULL) picks a free range. */
  @Test
  void mmapRefusesOverlap() {
    Harness h = new Harness();
    assertEquals(Errno.OK, h.mmapRw(B, 4).errno());
    assertEquals(Errno.EINVAL, h.mmapRw(B + 2 * P, 4).errno());
    HmmProtocol.SyscallDone any = h.mmap(0, 3 * P, Prot.RW, VmaKind.ANON_PRIVATE);
    assertEquals(Errno.OK, any.errno());
    assertEquals(CpuMm.MMAP_BASE, any.value());
    assertEquals(2, h.cpu.vmas(MM).size());
  }
}
