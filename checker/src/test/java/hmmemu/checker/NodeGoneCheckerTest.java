package hmmemu.checker;

import static hmmemu.checker.Scenario.B;
import static hmmemu.checker.Scenario.G;
import static hmmemu.checker.Scenario.GPU1;
import static hmmemu.checker.Scenario.GPU2;
import static hmmemu.checker.Scenario.H;
import static hmmemu.checker.Scenario.INV_RESTORE;
import static hmmemu.checker.Scenario.MM;
import static hmmemu.checker.Scenario.P;
import static hmmemu.checker.Scenario.REQ1;
import static hmmemu.checker.Scenario.SEQ;
import static hmmemu.checker.Scenario.SUB_GC;
import static hmmemu.checker.Scenario.SUB_GT;
import static hmmemu.checker.Scenario.SUB_HC;
import static hmmemu.checker.Scenario.X;
import static hmmemu.checker.Scenario.ack;
import static hmmemu.checker.Scenario.atomicEntry;
import static hmmemu.checker.Scenario.folio;
import static hmmemu.checker.Scenario.pte;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * GPU node 1 (device G) dies holding X device-exclusive with the folio locked (mapped, no FolioUnlockPut yet);
 * the CPU node declares it gone (NodeGone + its subscriptions removed), releases the folio lock when the lease
 * runs out (FolioLockLeaseExpired) and a CPU touch restores X with only the survivor H to call.
 */
class NodeGoneCheckerTest {

  /** The crash, up to (and including) the CPU node declaring node 1 gone. */
  private static TraceBuilder crashAfterMapping() {
    TraceBuilder b = Scenario.setup(true);
    Scenario.convert(b, true);
    b.on(GPU1, new Trace.ReadRetryChecked(G, SUB_GT, SEQ, SEQ, false), atomicEntry(G, SUB_GT, SEQ));
    b.send(GPU1, TraceBuilder.CPU);
    b.cpu(new Trace.HostMemoryAccessed(G, -1, X, 0, Access.ATOMIC, 0, 1));
    // G's last step before the crash, concurrent with everything the CPU does next (never reached the CPU).
    b.on(GPU1, new Trace.DeviceEntryZapped(G, MM, B, X), atomicEntry(G, SUB_GT, SEQ));
    return b.cpu(new Trace.NodeGone(1, "MemberRemoved(downed)"),
        new Trace.NotifierRegistered(SUB_GC, G, MM, NotifierKind.CLASSIC, 0, Page.TASK_SIZE, true),
        new Trace.NotifierRegistered(SUB_GT, G, MM, NotifierKind.INTERVAL, B, B + P, true));
  }

  /** The CPU touch after the lease: fault, lock, CLEAR to H only, H acks, restore. */
  private static void restoreWithSurvivor(TraceBuilder b) {
    b.cpu(new Trace.CpuFaulted(1, MM, B, "devexcl"), folio(true, 2, 1),
        new Trace.InvalidateStarted(INV_RESTORE, MM, B, B + P, NotifyEvent.CLEAR, 0, true, List.of(SUB_HC)));
    b.send(TraceBuilder.CPU, GPU2).on(GPU2, ack(INV_RESTORE, SUB_HC, H, false)).send(GPU2, TraceBuilder.CPU);
    b.cpu(pte(PteState.PRESENT, true, true, "restore_exclusive_pte:fault"), folio(false, 1, 1),
        new Trace.InvalidateEnded(INV_RESTORE, true), new Trace.HostMemoryAccessed(-1, 1, X, 0, Access.ATOMIC, 1, 2));
  }

  /** Lease expiry, then restore: no violation in any arrival order, no hold left (liveness L3). */
  @Test
  void deadDriversPageIsRestoredAfterTheLeaseWithoutViolations() {
    TraceBuilder b = crashAfterMapping();
    b.cpu(new Trace.FolioLockLeaseExpired(REQ1, G, X, true), folio(false, 1, 1));
    restoreWithSurvivor(b);
    assertEquals(Map.of(), InvariantCheckerTest.verdict(b));
    InvariantChecker c = InvariantCheckerTest.run(b.inOrder());
    assertTrue(c.outstandingExclusiveHolds().isEmpty(), "the lease ended the dead caller's hold");
  }

  /** Restoring while the dead driver's make_device_exclusive still holds the folio lock breaks I7. */
  @Test
  void restoreBeforeTheLeaseReleasedTheLockIsCaught() {
    TraceBuilder b = crashAfterMapping();
    b.cpu(new Trace.CpuFaulted(1, MM, B, "devexcl"),
        new Trace.InvalidateStarted(INV_RESTORE, MM, B, B + P, NotifyEvent.CLEAR, 0, true, List.of(SUB_HC)));
    b.send(TraceBuilder.CPU, GPU2).on(GPU2, ack(INV_RESTORE, SUB_HC, H, false)).send(GPU2, TraceBuilder.CPU);
    b.cpu(pte(PteState.PRESENT, true, true, "restore_exclusive_pte:fault"), new Trace.InvalidateEnded(INV_RESTORE, true));
    InvariantCheckerTest.assertCaught(b, "I7");
  }

  /** A lease that expires twice (or after the driver's own FolioUnlockPut) releases one hold twice: I8. */
  @Test
  void leaseExpiryAfterUnlockPutIsCaught() {
    TraceBuilder b = crashAfterMapping();
    b.cpu(new Trace.FolioLockLeaseExpired(REQ1, G, X, true), folio(false, 1, 1),
        new Trace.FolioLockLeaseExpired(REQ1, G, X, true));
    InvariantCheckerTest.assertOnly(b, "I8");
  }

  /** Without NodeGone the dead device's atomic entry would stand against the restored PTE (I2): the rule matters. */
  @Test
  void withoutNodeGoneTheDeadEntryConflictsWithTheRestore() {
    TraceBuilder b = Scenario.setup(true);
    Scenario.convert(b, true);
    b.on(GPU1, new Trace.ReadRetryChecked(G, SUB_GT, SEQ, SEQ, false), atomicEntry(G, SUB_GT, SEQ));
    b.send(GPU1, TraceBuilder.CPU);
    b.cpu(new Trace.NotifierRegistered(SUB_GC, G, MM, NotifierKind.CLASSIC, 0, Page.TASK_SIZE, true),
        new Trace.NotifierRegistered(SUB_GT, G, MM, NotifierKind.INTERVAL, B, B + P, true),
        new Trace.FolioLockLeaseExpired(REQ1, G, X, true), folio(false, 1, 1));
    restoreWithSurvivor(b);
    assertTrue(!InvariantCheckerTest.verdict(b).isEmpty(), "a live device's entry over a restored PTE is a violation");
  }
}
