package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.D1;
import static hmmemu.cpu.core.Harness.MM;
import static hmmemu.cpu.core.Harness.OWNER0;
import static hmmemu.cpu.core.Harness.OWNER1;
import static hmmemu.cpu.core.Harness.P;
import static hmmemu.cpu.core.Harness.S0;
import static hmmemu.cpu.core.Harness.S1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.msg.HmmProtocol.InvalidateStart;
import hmmemu.protocol.trace.Trace;
import org.junit.jupiter.api.Test;

/** make_device_exclusive() (mm/rmap.c, docs/PROTOCOL.md §3.1/§3.2) and the caller's folio_unlock()+folio_put(). */
class ExclusiveTest {

  /** make_device_exclusive(): a PRESENT writable page becomes DEVEXCL, same pfn, folio locked with +1 ref. */
  @Test
  void presentPageBecomesDeviceExclusiveWithFolioLocked() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 7);
    long pfn = h.pte(B).pfn();
    h.insertInterval(S0, D0);
    h.clear();
    long id = h.mdeSend(D0, B, OWNER0);
    HmmProtocol.MakeDeviceExclusiveReply r = h.mdeReply(id);
    assertEquals(Errno.OK, r.errno());
    assertEquals(pfn, r.pfn());
    assertEquals(1, h.callbacks(S0, NotifyEvent.EXCLUSIVE));
    InvalidateStart cb = h.last(InvalidateStart.class, x -> true);
    assertEquals(OWNER0, cb.owner());
    assertEquals(B, cb.start());
    assertEquals(B + P, cb.end());
    Pte pte = h.pte(B);
    assertEquals(PteState.DEVEXCL, pte.state());
    assertEquals(pfn, pte.pfn());
    assertFalse(pte.dirty() || pte.young() || pte.write(), "device-exclusive entries are clean and old");
    FolioView f = h.folio(pfn);
    assertTrue(f.locked());
    assertEquals(2, f.refcount());
    assertEquals(1, f.mapcount(), "6.15: the entry counts in mapcount");
    assertTrue(f.dirty(), "the PTE's dirty bit was pushed to the folio");
    Trace.ExclusiveReturned er = h.events(Trace.ExclusiveReturned.class).get(0);
    assertTrue(er.folioLocked());
    assertEquals(0, h.cpuFaults("devexcl") + h.cpuFaults("anon"), "no user CPU faults");

    h.unlockPut(D0, id, pfn);
    f = h.folio(pfn);
    assertFalse(f.locked());
    assertEquals(1, f.refcount());
    assertEquals(1, h.events(Trace.FolioUnlockPutDone.class).size());
    assertEquals(0, h.cpu.outstandingGrants());
  }

  /** GUP with FOLL_WRITE on pte_none faults in a zeroed anonymous page (do_anonymous_page), no extra notifier. */
  @Test
  void nonePageIsFaultedInThenConverted() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.insertInterval(S0, D0);
    HmmProtocol.MakeDeviceExclusiveReply r = h.mde(D0, B, OWNER0);
    assertEquals(Errno.OK, r.errno());
    assertEquals(1, h.callbacks(S0));
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    FolioView f = h.folio(r.pfn());
    assertTrue(f.anon() && f.anonExclusive());
    assertEquals(2, f.refcount());
    assertEquals(1, f.mapcount());
    assertTrue(f.dirty(), "the fresh write-faulted PTE was dirty");
  }

  /** wp_page_copy(): the zero page is always copied (CLEAR over the page), then converted (EXCLUSIVE). */
  @Test
  void zeroPageIsCopiedWithClearThenConverted() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.READ, 0);
    assertEquals(CpuMm.ZERO_PFN, h.pte(B).pfn());
    assertFalse(h.pte(B).write());
    h.insertInterval(S0, D0);
    HmmProtocol.MakeDeviceExclusiveReply r = h.mde(D0, B, OWNER0);
    assertEquals(Errno.OK, r.errno());
    assertNotEquals(CpuMm.ZERO_PFN, r.pfn());
    assertEquals(1, h.callbacks(S0, NotifyEvent.CLEAR));
    assertEquals(1, h.callbacks(S0, NotifyEvent.EXCLUSIVE));
    InvalidateStart clear = h.last(InvalidateStart.class, x -> x.event() == NotifyEvent.CLEAR);
    assertEquals(0, clear.owner());
  }

  /** C04: GUP meets another device's DEVEXCL entry: restore (CLEAR, owner NULL) then conversion: 3 callbacks per sub. */
  @Test
  void twoDevicesTakeTurns() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    long pfn = h.pte(B).pfn();
    h.insertInterval(S0, D0);
    h.insertInterval(S1, D1);
    assertEquals(pfn, h.exclusive(D0, B, OWNER0));
    assertEquals(1, h.callbacks(S0, NotifyEvent.EXCLUSIVE));
    assertEquals(1, h.callbacks(S1, NotifyEvent.EXCLUSIVE));
    assertEquals(pfn, h.exclusive(D1, B, OWNER1));
    for (long sub : new long[] {S0, S1}) {
      assertEquals(1, h.callbacks(sub, NotifyEvent.CLEAR));
      assertEquals(2, h.callbacks(sub, NotifyEvent.EXCLUSIVE));
      assertEquals(3, h.callbacks(sub));
    }
    InvalidateStart clear = h.last(InvalidateStart.class, x -> x.event() == NotifyEvent.CLEAR);
    assertEquals(0, clear.owner(), "the restore's owner is NULL: no driver may filter it");
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    assertEquals(pfn, h.pte(B).pfn());
    assertEquals(D1, h.cpu.exclusiveHolder(pfn));
    FolioView f = h.folio(pfn);
    assertEquals(1, f.refcount());
    assertEquals(1, f.mapcount());
    assertFalse(f.locked());
    assertEquals(0, h.cpuFaults("devexcl"), "a GUP fault is not a user CPU fault");
  }

  /** C04 variant: a second conversion while the first caller still holds the folio lock sleeps until its unlock. */
  @Test
  void secondConversionWaitsForTheFirstCallersUnlock() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    long first = h.mdeSend(D0, B, OWNER0);
    long pfn = h.mdeReply(first).pfn();
    long second = h.mdeSend(D1, B, OWNER1);
    assertNull(h.mdeReply(second), "folio_lock sleeps");
    assertEquals(1, h.callbacks(S0));
    h.unlockPut(D0, first, pfn);
    assertEquals(Errno.OK, h.mdeReply(second).errno());
    assertEquals(3, h.callbacks(S0));
  }

  /** C06: a CPU access to the page waits for the folio lock (VM_FAULT_RETRY), no notifier until the driver unlocks. */
  @Test
  void cpuAccessParksUntilFolioUnlockPut() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 5);
    h.insertInterval(S0, D0);
    long id = h.mdeSend(D0, B, OWNER0);
    long pfn = h.mdeReply(id).pfn();
    long access = h.cpuSend(MM, 1, B, Access.READ, 0);
    assertNull(h.cpuDone(access));
    assertEquals(1, h.callbacks(S0), "no notifier before the driver's unlock");
    assertEquals(3, h.folio(pfn).refcount(), "the waiting fault holds its folio_try_get reference");
    assertEquals(1, h.folio(pfn).lockWaiters());
    h.unlockPut(D0, id, pfn);
    HmmProtocol.CpuAccessDone done = h.cpuDone(access);
    assertNotNull(done);
    assertEquals(Errno.OK, done.errno());
    assertEquals(5, done.value());
    assertEquals(2, done.faults(), "the first fault returned RETRY, the second restored");
    assertEquals(1, h.cpuFaults("retry"));
    assertEquals(1, h.callbacks(S0, NotifyEvent.CLEAR));
    assertEquals(PteState.PRESENT, h.pte(B).state());
    assertEquals(1, h.folio(pfn).refcount());
    assertFalse(h.folio(pfn).locked());
  }

  /**
   * C06: the driver's folio_unlock, folio_put and mmu_interval_notifier_remove(Gt) in one FolioUnlockPut: the remove
   * runs before the thread the unlock woke, so that thread's restore (CLEAR) no longer reaches Gt, and the remove
   * is answered at once (no invalidation was running).
   */
  @Test
  void removeCarriedWithTheUnlockRunsBeforeTheWokenThread() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 5);
    h.insertInterval(S0, D0);
    long id = h.mdeSend(D0, B, OWNER0);
    long pfn = h.mdeReply(id).pfn();
    long access = h.cpuSend(MM, 1, B, Access.READ, 0);
    assertNull(h.cpuDone(access));
    h.step(D0, new HmmProtocol.FolioUnlockPut(id, D0, pfn, S0));
    assertEquals(Errno.OK, h.cpuDone(access).errno());
    assertEquals(0, h.callbacks(S0, NotifyEvent.CLEAR), "Gt was out of the tree before the woken thread's restore");
    assertFalse(h.cpu.subscriptionLive(S0));
    int removed = -1;
    int done = -1;
    for (int i = 0; i < h.sent.size(); i++) {
      if (h.sent.get(i).msg() instanceof HmmProtocol.NotifierRemoved r && r.subId() == S0) removed = i;
      if (h.sent.get(i).msg() instanceof HmmProtocol.CpuAccessDone d && d.reqId() == access) done = i;
    }
    assertTrue(removed >= 0 && removed < done, "NotifierRemoved goes out before the woken access completes");
  }

  /** C08 ablation: with folioLockUntilMapped=false the folio is unlocked before the reply; a CPU touch revokes at once. */
  @Test
  void ablationUnlocksRightAfterConversion() {
    Harness h = new Harness(ModelSwitches.kernel().withFolioLockUntilMapped(false));
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 5);
    h.insertInterval(S0, D0);
    long id = h.mdeSend(D0, B, OWNER0);
    long pfn = h.mdeReply(id).pfn();
    assertFalse(h.folio(pfn).locked());
    assertEquals(2, h.folio(pfn).refcount(), "the reference is still the caller's");
    assertFalse(h.events(Trace.ExclusiveReturned.class).get(0).folioLocked());
    HmmProtocol.CpuAccessDone done = h.cpu(B, Access.READ, 0);
    assertEquals(1, done.faults());
    assertEquals(1, h.callbacks(S0, NotifyEvent.CLEAR));
    h.unlockPut(D0, id, pfn);
    assertEquals(1, h.folio(pfn).refcount());
    assertEquals(0, h.cpu.duplicateUnlockPuts());
  }

  /**
   * docs/SCENARIOS.md C08 (ablation): a thread spinning on the page touches it right after the conversion, before
   * make_device_exclusive returns, so its restore's CLEAR reaches the caller's interval notifier ahead of the reply
   * (the caller's read_retry then fails); the touch takes its fault without a reply of its own.
   */
  @Test
  void spinningThreadRestoresBeforeTheAblationsReturn() {
    Harness h = new Harness(ModelSwitches.kernel().withFolioLockUntilMapped(false));
    h.mmapRw(B, 1);
    long spin = h.req();
    h.step(-1, new HmmProtocol.CpuAccess(spin, 1, MM, B, Access.ATOMIC, 1, true));
    assertEquals(0, h.cpuDone(spin).value(), "the spinning thread's own access completes");
    h.insertInterval(S0, D0);
    h.clear();
    long id = h.mdeSend(D0, B, OWNER0);
    int clear = -1;
    int reply = -1;
    for (int i = 0; i < h.sent.size(); i++) {
      HmmProtocol.Msg m = h.sent.get(i).msg();
      if (clear < 0 && m instanceof InvalidateStart st && st.event() == NotifyEvent.CLEAR && st.subId() == S0) clear = i;
      if (m instanceof HmmProtocol.MakeDeviceExclusiveReply r && r.reqId() == id) reply = i;
    }
    assertTrue(clear >= 0 && reply > clear, "the spinner's CLEAR goes out before the reply: " + h.sent);
    assertEquals(Errno.OK, h.mdeReply(id).errno());
    assertEquals(PteState.PRESENT, h.pte(B).state(), "the touch restored the PTE");
    assertEquals(1, h.cpu.spinTouches());
    assertEquals(0, h.sent.stream().filter(o -> o.msg() instanceof HmmProtocol.CpuAccessDone).count(),
        "a touch sends no CpuAccessDone");
  }

  /** With the kernel's folio lock the spinning thread's touch waits for the caller's folio_unlock (C07). */
  @Test
  void spinningThreadWaitsForTheFolioLock() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    long spin = h.req();
    h.step(-1, new HmmProtocol.CpuAccess(spin, 1, MM, B, Access.ATOMIC, 1, true));
    h.insertInterval(S0, D0);
    long id = h.mdeSend(D0, B, OWNER0);
    long pfn = h.mdeReply(id).pfn();
    assertEquals(PteState.DEVEXCL, h.pte(B).state(), "the touch waits on the locked folio");
    assertEquals(0, h.callbacks(S0, NotifyEvent.CLEAR));
    long next = h.cpuSend(MM, 1, B, Access.ATOMIC, 1);
    assertNull(h.cpuDone(next), "the thread's next request waits behind its running touch");
    h.unlockPut(D0, id, pfn);
    assertEquals(PteState.PRESENT, h.pte(B).state());
    assertEquals(1, h.callbacks(S0, NotifyEvent.CLEAR));
    assertEquals(1, h.cpuDone(next).value(), "then the request runs");
    assertEquals(1, h.cpu.spinTouches());
  }

  /** C16a: check_vma_flags(FOLL_WRITE) on a read-only VMA: -EFAULT, no notifier, no state change. */
  @Test
  void readOnlyVmaIsRefusedWithEfault() {
    Harness h = new Harness();
    h.mmap(B, P, Prot.READ, VmaKind.ANON_PRIVATE);
    h.insertInterval(S0, D0);
    assertEquals(Errno.EFAULT, h.mde(D0, B, OWNER0).errno());
    assertEquals(Errno.EFAULT, h.mde(D0, B + 10 * P, OWNER0).errno(), "no VMA");
    assertEquals(0, h.callbacks(S0));
    assertEquals(PteState.NONE, h.pte(B).state());
    assertEquals(Errno.EFAULT, h.events(Trace.ExclusiveReturned.class).get(0).errno());
  }

  /** C16b: shmem (MAP_SHARED|MAP_ANONYMOUS) is file-backed: the folio is not anon, -EOPNOTSUPP, ref dropped. */
  @Test
  void sharedAnonymousIsRefusedWithEopnotsupp() {
    Harness h = new Harness();
    h.mmap(B, P, Prot.RW, VmaKind.ANON_SHARED);
    h.insertInterval(S0, D0);
    HmmProtocol.MakeDeviceExclusiveReply r = h.mde(D0, B, OWNER0);
    assertEquals(Errno.EOPNOTSUPP, r.errno());
    assertEquals(0, h.callbacks(S0));
    FolioView f = h.folio(h.pte(B).pfn());
    assertEquals(2, f.refcount(), "page cache + mapping; the GUP reference was dropped");
    assertFalse(f.locked());
  }

  /** C16d: FOLL_SPLIT_PMD on a hugetlb VMA: -EOPNOTSUPP (6.15 fix). */
  @Test
  void hugetlbIsRefusedWithEopnotsupp() {
    Harness h = new Harness();
    h.mmap(B, P, Prot.RW, VmaKind.HUGETLB);
    h.cpu(B, Access.WRITE, 1);
    assertEquals(Errno.EOPNOTSUPP, h.mde(D0, B, OWNER0).errno());
    assertEquals(PteState.PRESENT, h.pte(B).state());
  }

  /** C16c: the write GUP on a MAP_PRIVATE file page COW-breaks into an anonymous folio, so conversion succeeds. */
  @Test
  void privateFileMappingConvertsTheCowCopy() {
    Harness h = new Harness();
    h.mmap(B, P, Prot.RW, VmaKind.FILE_PRIVATE);
    h.cpu(B, Access.READ, 0);
    long filePfn = h.pte(B).pfn();
    assertFalse(h.folio(filePfn).anon());
    h.insertInterval(S0, D0);
    HmmProtocol.MakeDeviceExclusiveReply r = h.mde(D0, B, OWNER0);
    assertEquals(Errno.OK, r.errno());
    assertNotEquals(filePfn, r.pfn());
    assertTrue(h.folio(r.pfn()).anon());
    assertEquals(1, h.callbacks(S0, NotifyEvent.CLEAR), "wp_page_copy");
  }

  /** The exactly-once rule of folio_unlock()+folio_put(): a second or unknown FolioUnlockPut is ignored and counted. */
  @Test
  void duplicateFolioUnlockPutIsIgnored() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    long id = h.mdeSend(D0, B, OWNER0);
    long pfn = h.mdeReply(id).pfn();
    h.unlockPut(D0, id, pfn);
    int events = h.events.size();
    h.unlockPut(D0, id, pfn);
    h.unlockPut(D0, 12345, pfn);
    assertEquals(events, h.events.size(), "nothing emitted");
    assertEquals(2, h.cpu.duplicateUnlockPuts());
    FolioView f = h.folio(pfn);
    assertEquals(1, f.refcount());
    assertFalse(f.freed());
  }

  /**
   * The emulator-only UnlockFence: answered at once with UnlockFenceReply to the device, after the unlock sent before
   * it took effect; it changes no kernel state and emits nothing.
   */
  @Test
  void unlockFenceIsAnsweredAtOnceBehindTheUnlock() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    long id = h.mdeSend(D0, B, OWNER0);
    long pfn = h.mdeReply(id).pfn();
    assertTrue(h.folio(pfn).locked());
    h.unlockPut(D0, id, pfn);
    int events = h.events.size();
    long fenceId = Ids.reqId(D0, 999);
    hmmemu.protocol.model.Ready r = h.step(D0, new HmmProtocol.UnlockFence(fenceId, D0));
    assertEquals(events, h.events.size(), "nothing emitted");
    assertEquals(1, r.out.size());
    assertEquals(new HmmProtocol.UnlockFenceReply(fenceId), r.out.get(0).msg());
    assertEquals(D0, r.out.get(0).deviceId());
    assertFalse(h.folio(pfn).locked(), "the unlock before the fence took effect");
  }

  /** 5.14 make_device_exclusive_range(): folio_trylock fails while another caller holds the lock: -EBUSY. */
  @Test
  void v514TrylockFailureIsEbusy() {
    Harness h = new Harness(ModelSwitches.kernel().withKernelProfile(KernelProfile.V5_14));
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    long first = h.mdeSend(D0, B, OWNER0);
    long pfn = h.mdeReply(first).pfn();
    assertEquals(0, h.folio(pfn).mapcount(), "5.14: the entry is not counted in mapcount");
    assertEquals(2, h.folio(pfn).refcount());
    assertTrue(h.pte(B).write(), "5.14 writable variant");
    // The second call's GUP restores the entry (EXCLUSIVE, owner NULL) only after the lock is free; trylock
    // on an already present page fails instead:
    h.unlockPut(D0, first, pfn);
    h.cpu(B, Access.READ, 0); // restore: 5.14 raises EXCLUSIVE with owner NULL
    InvalidateStart restore = h.last(InvalidateStart.class, x -> true);
    assertEquals(NotifyEvent.EXCLUSIVE, restore.event());
    assertEquals(0, restore.owner());
    assertEquals(1, h.folio(pfn).mapcount());
    assertTrue(h.pte(B).write() && h.pte(B).dirty(), "5.14 writable variant restores dirty + writable");
    // Two conversions race on the PRESENT page: the second one's folio_trylock fails while the first waits for acks.
    h.autoAck = false;
    long a = h.mdeSend(D0, B, OWNER0);
    long b = h.mdeSend(D1, B, OWNER1);
    assertEquals(Errno.EBUSY, h.mdeReply(b).errno());
    assertEquals(2, h.folio(pfn).refcount(), "the failed call dropped its GUP reference");
    h.ackAll();
    assertEquals(Errno.OK, h.mdeReply(a).errno());
  }

  /** Try to confuse: a request delivered twice by the link (same reqId) is carried out once. */
  @Test
  void duplicatedRequestsAreCarriedOutOnce() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    HmmProtocol.MakeDeviceExclusive m = new HmmProtocol.MakeDeviceExclusive(77, D0, MM, B, OWNER0);
    h.step(D0, m);
    h.step(D0, m);
    assertEquals(1, h.sent.stream().filter(o -> o.msg() instanceof HmmProtocol.MakeDeviceExclusiveReply).count());
    HmmProtocol.DeviceMemoryAccess a = new HmmProtocol.DeviceMemoryAccess(78, D0, h.pte(B).pfn(), 0, Access.ATOMIC, 1);
    h.step(D0, a);
    h.step(D0, a);
    assertEquals(2, h.cpu.word(h.pte(B).pfn(), 0), "one increment");
    assertEquals(2, h.cpu.duplicateRequests());
    assertEquals(1, h.cpu.outstandingGrants());
  }

  /**
   * mm/gup.c follow_page_pte: get_user_pages_remote() adds FOLL_TOUCH, so make_device_exclusive()'s GUP marks the
   * folio accessed (folio_mark_accessed), in both kernel profiles. A fresh folio is not referenced by the fault.
   */
  @Test
  void exclusiveGupMarksTheFolioAccessed() {
    for (hmmemu.protocol.model.KernelProfile profile : hmmemu.protocol.model.KernelProfile.values()) {
      Harness h = new Harness(hmmemu.protocol.model.ModelSwitches.kernel().withKernelProfile(profile));
      h.mmapRw(Harness.B, 1);
      h.cpu(Harness.B, hmmemu.protocol.model.Access.WRITE, 1);
      org.junit.jupiter.api.Assertions.assertFalse(h.folio(h.pte(Harness.B).pfn()).referenced());
      long pfn = h.exclusive(Harness.D0, Harness.B, 0);
      org.junit.jupiter.api.Assertions.assertTrue(h.folio(pfn).referenced(), profile + ": FOLL_TOUCH");
      org.junit.jupiter.api.Assertions.assertTrue(h.folio(pfn).dirty(), profile.name());
    }
  }
}
