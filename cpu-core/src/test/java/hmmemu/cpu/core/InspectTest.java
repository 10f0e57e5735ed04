package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.D1;
import static hmmemu.cpu.core.Harness.MM;
import static hmmemu.cpu.core.Harness.OWNER0;
import static hmmemu.cpu.core.Harness.S0;
import static hmmemu.cpu.core.Harness.S1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import org.junit.jupiter.api.Test;

/**
 * The CPU node's introspection of notifier subscriptions (InspectNotifier) and of unmapped folios (InspectFolio), and
 * syscalls attributed to a user thread (Syscall.threadId).
 */
class InspectTest {

  private static HmmProtocol.NotifierInfo notifiers(Harness h, int device) {
    long req = h.req();
    h.step(0, new HmmProtocol.InspectNotifier(req, device, MM));
    return h.last(HmmProtocol.NotifierInfo.class, x -> x.reqId() == req);
  }

  /** __mmu_interval_notifier_insert during an invalidation: the new subscription sits on the deferred_list. */
  @Test
  void deferredInsertIsSeenWithItsOddSeqUntilThePeriodEnds() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    h.autoAck = false;
    h.mdeSend(D0, B, OWNER0);
    h.insertInterval(S1, D1);
    HmmProtocol.NotifierInfo during = notifiers(h, D1);
    assertEquals(3, during.mmSeq());
    assertEquals(1, during.activeRanges());
    assertEquals(1, during.subscriptions().size());
    HmmProtocol.NotifierState s = during.subscriptions().get(0);
    assertEquals(S1, s.subId());
    assertEquals(3, s.seq());
    assertFalse(s.live());
    assertTrue(s.deferredInsert());
    assertFalse(s.deferredRemove());
    h.ackAll();
    HmmProtocol.NotifierInfo after = notifiers(h, D1);
    assertEquals(4, after.mmSeq());
    assertTrue(after.subscriptions().get(0).live());
    assertFalse(after.subscriptions().get(0).deferredInsert());
    assertEquals(1, notifiers(h, D0).subscriptions().size(), "only the asking device's subscriptions");
  }

  /** A folio kept by a reference after munmap is still visible by pfn; an unknown pfn answers zeroes. */
  @Test
  void folioIsInspectedByPfn() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 7);
    long req = h.req();
    h.step(0, new HmmProtocol.InspectPage(req, MM, B));
    long pfn = h.last(HmmProtocol.PageInfo.class, x -> x.reqId() == req).pfn();
    long req2 = h.req();
    h.step(0, new HmmProtocol.InspectFolio(req2, pfn));
    HmmProtocol.PageInfo f = h.last(HmmProtocol.PageInfo.class, x -> x.reqId() == req2);
    assertEquals(PteState.NONE, f.pte());
    assertEquals(pfn, f.pfn());
    assertEquals(1, f.mapcount());
    assertEquals(7, f.word0());
    long req3 = h.req();
    h.step(0, new HmmProtocol.InspectFolio(req3, 0x7fff_ffffL));
    assertEquals(0, h.last(HmmProtocol.PageInfo.class, x -> x.reqId() == req3).refcount());
  }

  /** A syscall by a spinning thread ends its tight loop: a later conversion of its page wakes no touch. */
  @Test
  void syscallByASpinningThreadEndsItsSpin() {
    for (int thread : new int[] {1, 2}) {
      Harness h = new Harness(hmmemu.protocol.model.ModelSwitches.kernel().withFolioLockUntilMapped(false));
      h.mmapRw(B, 2);
      h.step(-1, new HmmProtocol.CpuAccess(h.req(), 1, MM, B, Access.ATOMIC, 1, true));
      long req = h.req();
      h.step(-1, new HmmProtocol.Syscall(req, MM, HmmProtocol.SyscallKind.MADV_DONTNEED, B + Harness.P, Harness.P, 0,
          null, 0, thread));
      assertEquals(hmmemu.protocol.model.Errno.OK,
          h.last(HmmProtocol.SyscallDone.class, x -> x.reqId() == req).errno());
      h.insertInterval(S0, D0);
      h.mdeReply(h.mdeSend(D0, B, OWNER0));
      assertEquals(thread == 1 ? 0 : 1, h.cpu.spinTouches(),
          "T1's own syscall ends its spin; T2's syscall does not touch T1's loop");
    }
  }
}
