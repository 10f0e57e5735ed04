package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.trace.Trace;
import org.junit.jupiter.api.Test;

/**
 * The folio-lock shadow stays bounded over a long run of make_device_exclusive rounds (a deadline spin makes one
 * per iteration), and I8 still catches a second folio_unlock()+folio_put() of a reqId it no longer remembers.
 */
class FolioLockShadowTest {
  private static final int DEV = 16;
  private static final long PFN = 0x1000;

  private static void round(LockRules rules, long reqId) {
    rules.onExclusiveReturned(new Trace.ExclusiveReturned(reqId, DEV, PFN, Errno.OK, true));
    rules.onFolioUnlockPutDone(new Trace.FolioUnlockPutDone(reqId, DEV, PFN));
  }

  @Test
  void releasedReqIdsAreBoundedAndNoViolationInAnHonestSpin() {
    Reporter out = new Reporter();
    FolioLockShadow locks = new FolioLockShadow();
    LockRules rules = new LockRules(out, locks);
    for (long r = 1; r <= 3 * FolioLockShadow.RELEASED_KEPT + 17; r++) round(rules, r);
    assertEquals(FolioLockShadow.RELEASED_KEPT, locks.released.size(), "released reqIds kept");
    assertEquals(0, locks.holds.size(), "holds");
    assertEquals(null, locks.holder(PFN), "lock holder");
    assertEquals(0, out.count(), () -> "violations in an honest spin: " + out.violations());
  }

  @Test
  void aSecondReleaseIsI8WhetherOrNotItsReqIdIsStillRemembered() {
    Reporter out = new Reporter();
    FolioLockShadow locks = new FolioLockShadow();
    LockRules rules = new LockRules(out, locks);
    for (long r = 1; r <= FolioLockShadow.RELEASED_KEPT + 10; r++) round(rules, r);
    // reqId 1 was forgotten (more than RELEASED_KEPT releases ago); the newest is still remembered.
    rules.onFolioUnlockPutDone(new Trace.FolioUnlockPutDone(1, DEV, PFN));
    rules.onFolioUnlockPutDone(new Trace.FolioUnlockPutDone(FolioLockShadow.RELEASED_KEPT + 10, DEV, PFN));
    assertEquals(2, out.count(), () -> "violations: " + out.violations());
    assertTrue(out.violations().stream().allMatch(v -> v.rule() == Invariant.I8), () -> "" + out.violations());
    assertTrue(out.violations().get(1).detail().contains("a second folio_unlock()+folio_put()"),
        () -> out.violations().get(1).detail());
  }
}
