package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The trace of one 5.14 make_device_exclusive_range() call (MakeDeviceExclusiveRange, dmirror's V2021 chunk): every
 * page pinned first, then each converted and returned locked under its own page reqId, so several folio locks of
 * one call are held at once until dmirror_atomic_map() is done; a NULL page holds nothing.
 */
class ExclusiveRangeCheckerTest {
  static final int MM = 1;
  static final long B = 0x1000_0000L;
  static final long P = Page.SIZE;
  static final long X0 = 0x1000;
  static final long X1 = 0x1001;
  static final long X2 = 0x1002;
  static final int D = 16;
  static final long S = ((long) D << 32) | 1;
  /** The range call's pages: page i's grant is named by PAGE[i] (MakeDeviceExclusiveRange.pageReqIds). */
  static final long[] PAGE = {((long) D << 40) | 2, ((long) D << 40) | 3, ((long) D << 40) | 4};

  static Trace.FolioChanged folio(long pfn, boolean locked, int refcount, int mapcount) {
    return new Trace.FolioChanged(pfn, locked, refcount, mapcount, true, true, false);
  }

  static Trace.PteChanged pte(int i, PteState state, long pfn, boolean write, boolean dirty, String cause) {
    return new Trace.PteChanged(MM, B + i * P, state, pfn, write, dirty, false, cause);
  }

  /**
   * Three pages; a kernel thread holds page 1's lock (so its trylock_page fails); pages 0 and 2 are converted and
   * both stay locked until the driver's two unlock+puts. {@code releaseNullPage}: the driver also "releases" page 1.
   */
  static TraceBuilder chunk(boolean releaseNullPage) {
    TraceBuilder b = new TraceBuilder(2);
    long[] x = {X0, X1, X2};
    b.cpu(new Trace.VmaChanged(MM, B, B + 16 * P, Prot.RW, VmaKind.ANON_PRIVATE, false));
    for (int i = 0; i < 3; i++) b.cpu(pte(i, PteState.PRESENT, x[i], true, true, "anon"), folio(x[i], false, 1, 1));
    b.cpu(new Trace.NotifierRegistered(S, D, MM, NotifierKind.INTERVAL, 0, Page.TASK_SIZE, false),
        folio(X1, true, 2, 1)); // kcompactd0's folio_lock + reference
    b.send(0, 1).on(1, new Trace.DriverBound(D, MM, 0, "DMIRROR"));
    // get_user_pages_remote() pins the three pages
    b.send(1, 0).cpu(folio(X0, false, 2, 1), folio(X1, true, 3, 1), folio(X2, false, 2, 1));
    // page 0: trylock_page, EXCLUSIVE (owner NULL), DEVEXCL (5.14: write kept, out of mapcount)
    b.cpu(folio(X0, true, 2, 1), new Trace.InvalidateStarted(1, MM, B, B + P, NotifyEvent.EXCLUSIVE, 0, true,
        List.of(S)));
    b.send(0, 1).on(1, new Trace.InvalidateAcked(1, S, D, true, false)).send(1, 0);
    b.cpu(pte(0, PteState.DEVEXCL, X0, true, false, "make_device_exclusive"), folio(X0, true, 2, 0),
        new Trace.InvalidateEnded(1, true), new Trace.ExclusiveReturned(PAGE[0], D, X0, Errno.OK, true));
    // page 1: trylock_page fails: put_page, pages[1] = NULL
    b.cpu(folio(X1, true, 2, 1), new Trace.ExclusiveReturned(PAGE[1], D, 0, Errno.EBUSY, false));
    // page 2
    b.cpu(folio(X2, true, 2, 1), new Trace.InvalidateStarted(2, MM, B + 2 * P, B + 3 * P, NotifyEvent.EXCLUSIVE, 0,
        true, List.of(S)));
    b.send(0, 1).on(1, new Trace.InvalidateAcked(2, S, D, true, false)).send(1, 0);
    b.cpu(pte(2, PteState.DEVEXCL, X2, true, false, "make_device_exclusive"), folio(X2, true, 2, 0),
        new Trace.InvalidateEnded(2, true), new Trace.ExclusiveReturned(PAGE[2], D, X2, Errno.OK, true));
    // the reply: dmirror_atomic_map() under the mutex, then unlock_page + put_page of each converted page
    b.send(0, 1).on(1, new Trace.DeviceEntryInstalled(D, MM, B, X0, true, false, true, S, -1),
        new Trace.DeviceEntryInstalled(D, MM, B + 2 * P, X2, true, false, true, S, -1));
    b.send(1, 0).cpu(folio(X0, false, 1, 0), new Trace.FolioUnlockPutDone(PAGE[0], D, X0),
        folio(X2, false, 1, 0), new Trace.FolioUnlockPutDone(PAGE[2], D, X2));
    if (releaseNullPage) b.cpu(new Trace.FolioUnlockPutDone(PAGE[1], D, X1));
    return b;
  }

  @Test
  void aRangeCallHoldingTwoPagesLockedAtOnceHasNoViolation() {
    TraceBuilder b = chunk(false);
    assertEquals(List.of(), InvariantCheckerTest.run(b.inOrder(), KernelProfile.V5_14).violations());
    for (long seed = 1; seed <= 30; seed++) {
      assertEquals(List.of(), InvariantCheckerTest.run(b.scrambled(seed), KernelProfile.V5_14).violations(),
          "seed=" + seed);
    }
  }

  @Test
  void releasingTheNullPageIsAnI8() {
    var violations = InvariantCheckerTest.run(chunk(true).inOrder(), KernelProfile.V5_14).violations();
    assertEquals(1, violations.size(), () -> "" + violations);
    assertTrue(violations.get(0).toString().contains("I8"), () -> "" + violations);
  }
}
