package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.D1;
import static hmmemu.cpu.core.Harness.MM;
import static hmmemu.cpu.core.Harness.P;
import static hmmemu.cpu.core.Harness.S0;
import static hmmemu.cpu.core.Harness.S1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.InvalidateStart;
import hmmemu.protocol.msg.HmmProtocol.SyscallKind;
import org.junit.jupiter.api.Test;

/** Non-blockable ranges (the OOM reaper): mm/mmu_notifier.c __mmu_notifier_invalidate_range_start's -EAGAIN paths. */
class NonBlockableInvalidationTest {
  private static Harness mapped() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 7);
    return h;
  }

  private static long reap(Harness h) {
    long id = h.req();
    h.step(-1, new HmmProtocol.Syscall(id, MM, SyscallKind.OOM_REAP, 0, 0, 0, null, 0));
    return id;
  }

  /**
   * mm/mmu_notifier.c mn_itree_invalidate: the interval callbacks are called one after the other and the loop stops
   * at the first that returns false on a non-blockable range (goto out_would_block): the next one is never called.
   */
  @Test
  void intervalCallbacksStopAtTheFirstFailure() {
    Harness h = mapped();
    h.insertInterval(S0, D0);
    h.insertInterval(S1, D1);
    long seqBefore = h.cpu.globalSeq(MM);
    h.clear();
    h.autoAck = false;
    long id = reap(h);
    assertEquals(1, h.pendingCallbacks.size(), "one interval callback at a time");
    InvalidateStart first = h.pendingCallbacks.poll();
    h.ack(first, false);
    assertEquals(Errno.EAGAIN, h.reply(HmmProtocol.SyscallDone.class, x -> x.reqId() == id).errno());
    long other = first.subId() == S0 ? S1 : S0;
    assertEquals(0, h.callbacks(other), "the callback after the failed one is not called");
    assertEquals(seqBefore + 2, h.cpu.globalSeq(MM), "out_would_block: mn_itree_inv_end() ended the period");
    assertEquals(0, h.cpu.activeInvalidations(MM));
  }

  /** Every interval callback succeeds: they are still all called, one after the other, and the range is reaped. */
  @Test
  void intervalCallbacksAllCalledWhenTheySucceed() {
    Harness h = mapped();
    h.insertInterval(S0, D0);
    h.insertInterval(S1, D1);
    assertEquals(Errno.OK, h.syscall(SyscallKind.OOM_REAP, 0, 0, 0, null, 0).errno());
    assertEquals(1, h.callbacks(S0));
    assertEquals(1, h.callbacks(S1));
    assertEquals(PteState.NONE, h.pte(B).state());
  }

  /**
   * mm/mmu_notifier.c: mn_itree_invalidate() succeeded, then mn_hlist_invalidate_range_start() got -EAGAIN from a
   * classic notifier (nouveau_svmm_invalidate_range_start does for every non-blockable range): it calls the classic
   * ops' invalidate_range_end and returns -EAGAIN, and __mmu_notifier_invalidate_range_start() returns it without
   * mn_itree_inv_end(); __oom_reap_task_mm() does not call invalidate_range_end. active_invalidate_ranges keeps the
   * range and invalidate_seq stays odd for good.
   */
  @Test
  void classicEagainAfterIntervalSuccessLeavesThePeriodOpen() {
    Harness h = mapped();
    h.insertInterval(S0, D0);
    long classic = ((long) D1 << 32) | 2;
    h.insert(classic, D1, NotifierKind.CLASSIC, 0, Page.TASK_SIZE);
    long seqBefore = h.cpu.globalSeq(MM);
    h.clear();
    h.autoAck = false;
    long id = reap(h);
    h.ack(h.pendingCallbacks.poll(), true); // S0
    InvalidateStart gc = h.pendingCallbacks.poll();
    assertEquals(classic, gc.subId());
    h.ack(gc, false);
    assertEquals(Errno.EAGAIN, h.reply(HmmProtocol.SyscallDone.class, x -> x.reqId() == id).errno());
    assertEquals(PteState.PRESENT, h.pte(B).state());
    assertEquals(seqBefore + 1, h.cpu.globalSeq(MM), "seq stays odd: mn_itree_inv_end() is never called");
    assertEquals(1, h.cpu.activeInvalidations(MM), "active_invalidate_ranges keeps the abandoned range");
    assertFalse(h.sent.stream().anyMatch(o -> o.msg() instanceof HmmProtocol.InvalidateEnd), "S0 never sees the end");
    // A later blockable range starts and ends, but the count never returns to 0: the seq stays odd.
    h.autoAck = true;
    h.ackAll();
    assertEquals(Errno.OK, h.syscall(SyscallKind.MUNMAP, B, P, 0, null, 0).errno());
    assertEquals(seqBefore + 1, h.cpu.globalSeq(MM));
    assertTrue(h.cpu.activeInvalidations(MM) >= 1);
  }
}
