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
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.InvalidateStart;
import hmmemu.protocol.trace.Trace;
import org.junit.jupiter.api.Test;

/**
 * A GPU node that dies or is downed (CpuMm.nodeGone): its subscriptions are removed as at driver unbind
 * (mmu_interval_notifier_remove / mmu_notifier_unregister), pending invalidations complete without it, its folio
 * locks are released after a lease, its DEVEXCL entries are restored on the next CPU touch, later messages from it
 * are dropped, and the other GPU nodes are still served. D0 lives on GPU node 1, D1 on GPU node 2.
 */
class NodeGoneTest {
  private static final long LEASE = 2_000_000L;

  /** An invalidation waiting for the dead node's ack completes when the node goes away; the syscall proceeds. */
  @Test
  void pendingInvalidationIsCompletedByTheNodeGoingAway() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 5);
    h.insertInterval(S0, D0);
    h.insertInterval(S1, D1);
    h.autoAck = false;
    h.clear();
    long id = h.req();
    h.step(-1, new HmmProtocol.Syscall(id, MM, HmmProtocol.SyscallKind.MADV_DONTNEED, B, P, 0, null, 0));
    assertEquals(2, h.pendingCallbacks.size(), "both subscriptions called");
    InvalidateStart toD1 = h.pendingCallbacks.stream().filter(s -> s.subId() == S1).findFirst().orElseThrow();
    h.ack(toD1, true);
    assertNull(h.reply(HmmProtocol.SyscallDone.class, x -> x.reqId() == id), "still waits for node 1's ack");
    assertEquals(1, h.cpu.invalidationsInFlight());

    h.nodeGone(1);

    HmmProtocol.SyscallDone done = h.reply(HmmProtocol.SyscallDone.class, x -> x.reqId() == id);
    assertNotNull(done, "madvise proceeds once the dead node's callback counts as returned");
    assertEquals(Errno.OK, done.errno());
    assertEquals(PteState.NONE, h.pte(B).state());
    assertEquals(0, h.cpu.invalidationsInFlight());
    assertFalse(h.cpu.subscriptionLive(S0));
    assertTrue(h.cpu.subscriptionLive(S1), "the other node's subscription stays");
    assertTrue(h.events(Trace.NotifierRegistered.class).stream().anyMatch(r -> r.subId() == S0 && r.removed()));
    assertEquals(1, h.events(Trace.NodeGone.class).size());
    assertEquals(0, h.cpu.globalSeq(MM) & 1, "no invalidation active");
    assertTrue(h.sent.stream().anyMatch(o -> o.msg() instanceof HmmProtocol.InvalidateEnd e && e.subId() == S1),
        "the survivor's read_begin waiters are released");
    assertFalse(h.sent.stream().anyMatch(o -> o.msg() instanceof HmmProtocol.InvalidateEnd e && e.subId() == S0),
        "nothing is sent to the removed subscription");
  }

  /**
   * A folio lock the dead driver held (make_device_exclusive returned, no FolioUnlockPut) is released when the
   * lease runs out, measured in the model time passed to step(); the CPU fault that waited for it then restores
   * the DEVEXCL entry with no subscriber of the dead device to call, and every device atomic acknowledged before
   * the crash is in memory.
   */
  @Test
  void deadDriversFolioLockIsReleasedWhenTheLeaseRunsOutInModelTime() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 10);
    h.insertInterval(S0, D0);
    long mde = h.mdeSend(D0, B, OWNER0);
    long pfn = h.mdeReply(mde).pfn();
    // The device's atomics through its entry, acknowledged by the CPU node before the crash.
    for (int i = 0; i < 3; i++) {
      long r = h.req();
      h.step(D0, new HmmProtocol.DeviceMemoryAccess(r, D0, pfn, 0, Access.ATOMIC, 1));
      assertNotNull(h.reply(HmmProtocol.DeviceMemoryAccessReply.class, x -> x.reqId() == r));
    }
    assertTrue(h.folio(pfn).locked(), "the driver still holds the folio lock (crashed before FolioUnlockPut)");

    long goneAt = h.now();
    long callbacksBefore = h.callbacks(S0);
    h.nodeGone(1);
    assertEquals(1, h.cpu.leasesPending());
    assertEquals(goneAt + LEASE, h.cpu.nextLeaseDeadline());
    assertTrue(h.folio(pfn).locked(), "the lease keeps the lock for now");
    long cpuReq = h.cpuSend(MM, 1, B, Access.ATOMIC, 100);
    assertNull(h.cpuDone(cpuReq), "the CPU fault waits for the folio lock");

    h.advanceTo(goneAt + LEASE - 10);
    h.mmapRw(B + 16 * P, 1); // an unrelated step before the deadline releases nothing
    assertTrue(h.folio(pfn).locked());
    assertEquals(0, h.cpu.leasesExpired());

    h.advanceTo(goneAt + LEASE);
    h.mmapRw(B + 32 * P, 1); // the first step at or after the deadline expires the lease
    assertEquals(1, h.cpu.leasesExpired());
    assertEquals(0, h.cpu.leasesPending());
    assertEquals(0, h.cpu.outstandingGrants());
    Trace.FolioLockLeaseExpired ex = h.events(Trace.FolioLockLeaseExpired.class).get(0);
    assertEquals(new Trace.FolioLockLeaseExpired(mde, D0, pfn, true), ex);
    HmmProtocol.CpuAccessDone done = h.cpuDone(cpuReq);
    assertNotNull(done, "the waiting CPU fault proceeds once the lease released the lock");
    assertEquals(13, done.value(), "10 from the CPU + 3 device atomics acknowledged before the crash");
    assertEquals(113, h.cpu.word(pfn, 0));
    assertEquals(PteState.PRESENT, h.pte(B).state());
    assertEquals(pfn, h.pte(B).pfn(), "restored in place, no data copied or lost");
    assertFalse(h.folio(pfn).locked());
    assertEquals(1, h.folio(pfn).refcount(), "the dead caller's reference was dropped too");
    assertEquals(callbacksBefore, h.callbacks(S0), "no callback to the removed subscription");
    assertTrue(h.events(Trace.PteChanged.class).stream()
        .anyMatch(p -> p.va() == B && p.state() == PteState.PRESENT && p.cause().startsWith("restore_exclusive_pte")));
  }

  /** The actor's timer (tick) expires a lease as well; a grant released by FolioUnlockPut in time has no lease. */
  @Test
  void tickExpiresLeasesAndUnlockPutInTimeCancelsThem() {
    Harness h = new Harness();
    h.mmapRw(B, 2);
    h.insertInterval(S0, D0);
    long a = h.mdeSend(D0, B, OWNER0);
    long pa = h.mdeReply(a).pfn();
    long b = h.mdeSend(D0, B + P, OWNER0);
    long pb = h.mdeReply(b).pfn();
    h.unlockPut(D0, b, pb); // released before the crash
    long goneAt = h.now();
    h.nodeGone(1);
    assertEquals(1, h.cpu.leasesPending(), "only the unreleased grant is under lease");
    h.tick(goneAt + LEASE - 1);
    assertTrue(h.folio(pa).locked());
    h.tick(goneAt + LEASE);
    assertFalse(h.folio(pa).locked());
    assertEquals(1, h.cpu.leasesExpired());
    assertEquals(1, h.events(Trace.FolioLockLeaseExpired.class).size());
  }

  /** Messages still arriving from a dead node are dropped and counted; the other node keeps being served. */
  @Test
  void messagesFromTheDeadNodeAreDroppedAndTheOtherNodeIsServed() {
    Harness h = new Harness();
    h.mmapRw(B, 2);
    h.cpu(B, Access.WRITE, 1);
    long pfn = h.pte(B).pfn();
    h.insertInterval(S0, D0);
    h.insertInterval(S1, D1);
    h.nodeGone(1);
    h.clear();
    long r = h.req();
    h.step(D0, new HmmProtocol.DeviceMemoryAccess(r, D0, pfn, 0, Access.ATOMIC, 1000));
    h.step(D0, new HmmProtocol.MakeDeviceExclusive(h.req(), D0, MM, B, OWNER0));
    h.step(D0, new HmmProtocol.NotifierInsert((long) D0 << 32 | 9, D0, MM,
        hmmemu.protocol.model.NotifierKind.INTERVAL, 0, B + P));
    assertEquals(3, h.cpu.droppedFromGoneNodes());
    assertTrue(h.sent.isEmpty(), "no answer to a dead node");
    assertTrue(h.events.isEmpty(), "no state change from a dead node");
    assertEquals(1, h.cpu.word(pfn, 0), "a late device write from the dead node does not reach memory");

    HmmProtocol.MakeDeviceExclusiveReply ok = h.mde(D1, B, OWNER1);
    assertEquals(Errno.OK, ok.errno(), "the surviving node is served");
    assertEquals(1, h.callbacks(S1), "the survivor's own EXCLUSIVE callback (owner filter on its side)");
    assertEquals(0, h.callbacks(S0));
  }

  /** A make_device_exclusive parked when its node went away gets its lease when it completes. */
  @Test
  void callParkedAcrossTheNodeLossIsLeasedWhenItCompletes() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 3);
    h.insertInterval(S0, D0);
    h.insertInterval(S1, D1);
    h.autoAck = false;
    long id = h.mdeSend(D0, B, OWNER0);
    assertNull(h.mdeReply(id), "waits for the EXCLUSIVE callbacks");
    h.nodeGone(1);
    h.ackAll(); // the survivor acks
    assertNotNull(h.mdeReply(id), "the conversion completes without the dead node");
    assertEquals(1, h.cpu.leasesPending(), "nobody will unlock it: leased at once");
    h.tick(h.now() + LEASE);
    assertEquals(0, h.cpu.outstandingGrants());
    assertEquals(1, h.cpu.leasesExpired());
  }

  /** Declaring a node gone twice changes nothing the second time; the CPU node itself cannot be declared gone. */
  @Test
  void nodeGoneIsIdempotentAndOnlyForGpuNodes() {
    Harness h = new Harness();
    h.insertInterval(S0, D0);
    h.nodeGone(1);
    h.clear();
    h.nodeGone(1);
    assertTrue(h.events.isEmpty());
    assertEquals(1, h.cpu.nodesGone());
    assertTrue(h.cpu.nodeIsGone(1));
    assertFalse(h.cpu.nodeIsGone(2));
    assertThrows(IllegalArgumentException.class, () -> h.cpu.nodeGone(0, "x", 0));
  }

  /** The lease duration is configurable (0 = release at once). */
  @Test
  void zeroLeaseReleasesAtOnce() {
    Harness h = new Harness(ModelSwitches.kernel(), 0);
    h.mmapRw(B, 1);
    h.insertInterval(S0, D0);
    long pfn = h.mdeReply(h.mdeSend(D0, B, OWNER0)).pfn();
    h.nodeGone(1);
    h.tick(h.now());
    assertFalse(h.folio(pfn).locked());
    assertEquals(1, h.cpu.leasesExpired());
  }
}
