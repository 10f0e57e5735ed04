package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.MM;
import static hmmemu.cpu.core.Harness.P;
import static hmmemu.cpu.core.Harness.S0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.SyscallKind;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * 5.14 make_device_exclusive_range() (mm/rmap.c), as dmirror_exclusive() calls it per chunk: get_user_pages_remote()
 * pins every page of the range first, then each page is trylock_page()d and page_make_device_exclusive()d; a page
 * that fails is put and reported NULL, the others are returned locked and referenced (docs/PROTOCOL.md §3.2).
 */
class MakeDeviceExclusiveRangeTest {
  static final long PMD = 512 * P;

  /** A sent MakeDeviceExclusiveRange: the call's reqId and its pages' reqIds. */
  record Call(long reqId, List<Long> pageReqIds) {}

  private static Call send(Harness h, long start, int n) {
    long id = ((long) D0 << 40) | h.req();
    List<Long> pages = new ArrayList<>();
    for (int i = 0; i < n; i++) pages.add(((long) D0 << 40) | h.req());
    h.step(D0, new HmmProtocol.MakeDeviceExclusiveRange(id, D0, MM, start, 0, pages));
    return new Call(id, pages);
  }

  private static HmmProtocol.MakeDeviceExclusiveRangeReply reply(Harness h, Call c) {
    return h.reply(HmmProtocol.MakeDeviceExclusiveRangeReply.class, x -> x.reqId() == c.reqId());
  }

  private static Harness v514() { return new Harness(ModelSwitches.kernel().withKernelProfile(KernelProfile.V5_14)); }

  /** A 5.14 harness with a PMD-mapped THP at B, each of its 512 pages written once (word 0 = the page's index). */
  private static Harness v514WithThp() {
    Harness h = v514();
    h.mmapRw(B, 512);
    assertEquals(Errno.OK, h.syscall(SyscallKind.MADV_HUGEPAGE, B, PMD, 9, VmaKind.ANON_PRIVATE, 0).errno());
    for (int i = 0; i < 512; i++) h.cpu(B + i * P, Access.WRITE, i);
    return h;
  }

  private static Errno returned(Harness h, long pageReqId) {
    return h.events(Trace.ExclusiveReturned.class).stream().filter(x -> x.reqId() == pageReqId).findFirst()
        .orElseThrow(() -> new AssertionError("no ExclusiveReturned for page req " + pageReqId)).errno();
  }

  /** Index in the trace of the first event matching the predicate. */
  private static int firstIndex(Harness h, java.util.function.Predicate<Trace.Event> p) {
    for (int i = 0; i < h.events.size(); i++) if (p.test(h.events.get(i))) return i;
    throw new AssertionError("no such event");
  }

  private static int firstDevexcl(Harness h) {
    return firstIndex(h, e -> e instanceof Trace.PteChanged c && c.state() == PteState.DEVEXCL);
  }

  /** The GUP reference of pfn: a FolioChanged of that page with refcount above its mapping's. */
  private static int pinOf(Harness h, long pfn, int refcountBefore) {
    return firstIndex(h, e -> e instanceof Trace.FolioChanged f && f.pfn() == pfn && f.refcount() > refcountBefore);
  }

  /**
   * A 64-page chunk of a PMD-mapped THP: GUP splits the PMD and pins all 64 pages while they are still present;
   * page 0 (the head) is converted with the whole folio and stays locked; pages 1..63 are tails of that folio, whose
   * lock (the head's) the call itself holds now: their trylock_page() fails, pages[i] = NULL. No special case: the
   * call's own pin and trylock answer them.
   */
  @Test
  void aChunkOfAThpConvertsTheHeadAndItsOwnLockMakesTheTailsNull() {
    Harness h = v514WithThp();
    assertTrue(h.cpu.hugePmd(MM, B));
    h.insertInterval(S0, D0);
    long head = h.pte(B).pfn();
    long tail63 = h.pte(B + 63 * P).pfn();
    int tailRefs = h.folio(tail63).refcount();
    h.clear();

    Call c = send(h, B, 64);
    HmmProtocol.MakeDeviceExclusiveRangeReply r = reply(h, c);
    assertNotNull(r, "make_device_exclusive_range returned");
    assertEquals(Errno.OK, r.errno());
    assertEquals(64, r.npages(), "GUP pinned the whole chunk");
    assertEquals(head, r.pfns().get(0));
    for (int i = 1; i < 64; i++) {
      assertEquals(0L, r.pfns().get(i), "page " + i + " is NULL");
      assertEquals(Errno.EBUSY, returned(h, c.pageReqIds().get(i)), "page " + i + ": trylock_page failed");
    }
    assertEquals(Errno.OK, returned(h, c.pageReqIds().get(0)));
    assertTrue(pinOf(h, tail63, tailRefs) < firstDevexcl(h), "page 63 was pinned before page 0 was converted");
    for (int i = 0; i < 512; i++) assertEquals(PteState.DEVEXCL, h.pte(B + i * P).state(), "page " + i);
    assertTrue(h.folio(head).locked(), "the head's lock is the caller's until dmirror_atomic_map is done");
    assertEquals(tailRefs, h.folio(tail63).refcount(), "each NULL page's GUP reference was put");
    assertEquals(0, h.cpuFaults("devexcl"), "no page of the chunk was faulted back");

    h.unlockPut(D0, c.pageReqIds().get(0), head);
    assertFalse(h.folio(head).locked());
  }

  /**
   * Removed with heldByCallersChunk: a one-page call (owner NULL) meeting a DEVEXCL entry whose folio a grant of
   * the same device still holds locked is not answered -EBUSY on the spot; its GUP faults, and the restore waits
   * for that folio lock as in the kernel (do_swap_page -> remove_device_exclusive_entry -> lock).
   */
  @Test
  void aOnePageCallOnAHeldFolioWaitsForItsLock() {
    Harness h = v514WithThp();
    h.insertInterval(S0, D0);
    long head = h.pte(B).pfn();
    Call c = send(h, B, 1);
    assertEquals(head, reply(h, c).pfns().get(0));
    assertEquals(PteState.DEVEXCL, h.pte(B + P).state());

    long one = h.mdeSend(D0, B + P, 0);
    assertNull(h.mdeReply(one), "the GUP's fault waits for the folio lock the range call's page 0 holds");
    h.unlockPut(D0, c.pageReqIds().get(0), head);
    HmmProtocol.MakeDeviceExclusiveReply r = h.mdeReply(one);
    assertNotNull(r, "the unlock woke the fault");
    assertEquals(Errno.EBUSY, r.errno(), "then page_make_device_exclusive refuses the tail page");
  }

  /**
   * A kernel thread holds the middle page's folio lock: all three pages are pinned first, page 1's trylock_page()
   * fails (put, NULL), pages 0 and 2 are converted and returned locked.
   */
  @Test
  void aPageAKthreadHoldsIsSkippedAfterTheWholeRangeWasPinned() {
    Harness h = v514();
    h.mmapRw(B, 3);
    for (int i = 0; i < 3; i++) h.cpu(B + i * P, Access.WRITE, i);
    h.insertInterval(S0, D0);
    long[] pfn = {h.pte(B).pfn(), h.pte(B + P).pfn(), h.pte(B + 2 * P).pfn()};
    long lock = h.req();
    h.step(-1, new HmmProtocol.KthreadFolioLock(lock, "kcompactd0", MM, B + P));
    assertEquals(Errno.OK, h.reply(HmmProtocol.KthreadFolioDone.class, x -> x.reqId() == lock).errno());
    h.clear();

    Call c = send(h, B, 3);
    HmmProtocol.MakeDeviceExclusiveRangeReply r = reply(h, c);
    assertEquals(new HmmProtocol.MakeDeviceExclusiveRangeReply(c.reqId(), Errno.OK, 3, List.of(pfn[0], 0L, pfn[2])),
        r);
    assertEquals(Errno.EBUSY, returned(h, c.pageReqIds().get(1)));
    assertTrue(pinOf(h, pfn[2], 1) < firstDevexcl(h), "page 2 was pinned before page 0 was converted");
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    assertEquals(PteState.PRESENT, h.pte(B + P).state());
    assertEquals(PteState.DEVEXCL, h.pte(B + 2 * P).state());
    assertEquals(2, h.folio(pfn[1]).refcount(), "the mapping + the kthread's reference; GUP's was put");
    assertTrue(h.folio(pfn[0]).locked() && h.folio(pfn[2]).locked());
    h.unlockPut(D0, c.pageReqIds().get(0), pfn[0]);
    h.unlockPut(D0, c.pageReqIds().get(2), pfn[2]);
    assertFalse(h.folio(pfn[0]).locked() || h.folio(pfn[2]).locked());
  }

  /**
   * get_user_pages_remote() stops at the first page it cannot pin ("return i ? i : ret"): the pages before it are
   * converted and returned, the rest are NULL; with no page pinned the call returns GUP's error.
   */
  @Test
  void gupStopsAtTheEndOfTheVmaAndAnEmptyPinIsItsError() {
    Harness h = v514();
    h.mmapRw(B, 2);
    for (int i = 0; i < 2; i++) h.cpu(B + i * P, Access.WRITE, i);
    h.insertInterval(S0, D0);
    long p0 = h.pte(B).pfn();
    long p1 = h.pte(B + P).pfn();
    Call c = send(h, B, 3);
    assertEquals(new HmmProtocol.MakeDeviceExclusiveRangeReply(c.reqId(), Errno.OK, 2, List.of(p0, p1, 0L)),
        reply(h, c));
    assertEquals(Errno.EFAULT, returned(h, c.pageReqIds().get(2)));
    h.unlockPut(D0, c.pageReqIds().get(0), p0);
    h.unlockPut(D0, c.pageReqIds().get(1), p1);

    Call outside = send(h, B + 2 * P, 2);
    assertEquals(new HmmProtocol.MakeDeviceExclusiveRangeReply(outside.reqId(), Errno.EFAULT, 0, List.of(0L, 0L)),
        reply(h, outside));
    assertEquals(Errno.OK, h.syscall(SyscallKind.MUNMAP, B, 2 * P, 0, null, 0).errno(),
        "both calls released mmap_lock (munmap takes it for write)");
  }
}
