package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.D1;
import static hmmemu.cpu.core.Harness.MM;
import static hmmemu.cpu.core.Harness.OWNER0;
import static hmmemu.cpu.core.Harness.P;
import static hmmemu.cpu.core.Harness.S0;
import static hmmemu.cpu.core.Harness.S1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.InvalidateStart;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The interval-notifier sequence protocol of mm/mmu_notifier.c (docs/PROTOCOL.md §2). */
class NotifierSeqTest {

  /** mmu_interval_notifier_insert(): an idle mm answers at once with seq = invalidate_seq - 1 (odd, never live). */
  @Test
  void insertOnIdleMmAnswersOddSeqBelowGlobal() {
    Harness h = new Harness();
    long seq = h.insertInterval(S0, D0);
    assertEquals(1, seq);
    assertEquals(2, h.cpu.globalSeq(MM));
    Outbound o = h.sent.get(0);
    assertEquals(D0, o.deviceId(), "NotifierInserted goes to the inserting device");
    assertEquals(1, h.events(Trace.NotifierRegistered.class).size());
  }

  /** mn_itree_inv_start_range(): the seq becomes odd only when an interval subscription overlaps the range. */
  @Test
  void startMakesSeqOddOnlyWhenIntervalSubOverlaps() {
    Harness h = new Harness();
    h.mmapRw(B, 4);
    h.cpu(B + 2 * P, Access.WRITE, 1);
    h.insert(S0, D0, NotifierKind.INTERVAL, B, B + P); // covers page 0 only
    h.insert(S1, D1, NotifierKind.CLASSIC, 0, Page.TASK_SIZE);
    h.autoAck = false;
    h.mdeSend(D1, B + 2 * P, 0); // EXCLUSIVE over page 2: only the classic sub overlaps
    assertEquals(1, h.cpu.activeInvalidations(MM));
    assertEquals(2, h.cpu.globalSeq(MM), "no interval subscription hit: seq stays even");
    assertEquals(1, h.pendingCallbacks.size());
    assertEquals(S1, h.pendingCallbacks.peek().subId());
    h.ackAll();
    assertEquals(0, h.cpu.activeInvalidations(MM));
    assertEquals(2, h.cpu.globalSeq(MM));

    h.cpu(B, Access.WRITE, 1);
    h.mdeSend(D1, B, 0); // page 0: the interval sub overlaps
    assertEquals(3, h.cpu.globalSeq(MM));
    InvalidateStart cb = h.pendingCallbacks.peek();
    assertEquals(S0, cb.subId());
    assertEquals(3, cb.curSeq());
  }

  /** mn_itree_inv_end(): the last end makes the seq even and InvalidateEnd reaches every sub hit in the period. */
  @Test
  void endMakesSeqEvenAndSendsInvalidateEnd() {
    Harness h = new Harness();
    h.mmapRw(B, 2);
    h.cpu(B, Access.WRITE, 1);
    h.cpu(B + P, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    h.autoAck = false;
    h.mdeSend(D0, B, OWNER0);
    h.mdeSend(D1, B + P, 0);
    assertEquals(2, h.cpu.activeInvalidations(MM));
    assertEquals(3, h.cpu.globalSeq(MM));
    InvalidateStart first = h.pendingCallbacks.poll();
    InvalidateStart second = h.pendingCallbacks.poll();
    h.ack(first, true);
    assertEquals(3, h.cpu.globalSeq(MM), "another invalidation still active");
    assertNull(h.last(HmmProtocol.InvalidateEnd.class, e -> true));
    h.ack(second, true);
    assertEquals(4, h.cpu.globalSeq(MM));
    HmmProtocol.InvalidateEnd end = h.last(HmmProtocol.InvalidateEnd.class, e -> e.subId() == S0);
    assertNotNull(end);
    assertEquals(4, end.seq());
    assertEquals(1, h.sent.stream().filter(o -> o.msg() instanceof HmmProtocol.InvalidateEnd).count(),
        "one InvalidateEnd per sub per odd period");
  }

  /**
   * mm/mmu_notifier.c __mmu_interval_notifier_insert: during an invalidation (odd seq) the insert never blocks. The
   * subscription goes on the deferred list with its seq set to the current odd invalidate_seq and is answered at once;
   * it enters the tree at mn_itree_inv_end(), and the driver's mmu_interval_read_begin() waits for the period's end
   * (the InvalidateEnd it receives).
   */
  @Test
  void insertDuringInvalidationIsAnsweredAtOnceAndDeferred() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    h.autoAck = false;
    h.mdeSend(D0, B, OWNER0);
    assertEquals(3, h.cpu.globalSeq(MM));
    long seq = h.insertInterval(S1, D1);
    assertEquals(3, seq, "answered at once with the current odd seq");
    assertFalse(h.cpu.subscriptionLive(S1), "on the deferred list, not in the tree");
    h.ackAll();
    assertEquals(4, h.cpu.globalSeq(MM));
    assertTrue(h.cpu.subscriptionLive(S1));
    assertNotNull(h.last(HmmProtocol.InvalidateEnd.class, x -> x.subId() == S1 && x.seq() == 4), "the period's end");
  }

  /**
   * __mmu_interval_notifier_insert with active ranges that hit no interval subscription (even seq): invalidate_seq
   * |= 1, the subscription enters the tree at once with that odd seq; the period ends with the last range.
   */
  @Test
  void insertWhileUnrelatedRangeIsActiveMakesTheSeqOdd() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.insert(S0, D0, NotifierKind.CLASSIC, 0, Page.TASK_SIZE);
    h.autoAck = false;
    h.mdeSend(D0, B, OWNER0); // the classic callback is pending: active_invalidate_ranges = 1, seq even
    assertEquals(2, h.cpu.globalSeq(MM));
    assertEquals(3, h.insertInterval(S1, D1));
    assertEquals(3, h.cpu.globalSeq(MM));
    assertTrue(h.cpu.subscriptionLive(S1), "interval_tree_insert at once");
    h.ackAll();
    assertEquals(4, h.cpu.globalSeq(MM));
    assertNotNull(h.last(HmmProtocol.InvalidateEnd.class, x -> x.subId() == S1 && x.seq() == 4));
  }

  /** mn_itree_invalidate() before mn_hlist_invalidate_range_start(): classic callbacks only after every interval ack. */
  @Test
  void intervalCallbacksAllAckedBeforeClassic() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    long c0 = S0 + 100;
    h.insert(c0, D0, NotifierKind.CLASSIC, 0, Page.TASK_SIZE);
    h.insertInterval(S0, D0);
    h.insertInterval(S1, D1);
    h.autoAck = false;
    h.mdeSend(D0, B, OWNER0);
    assertEquals(List.of(S0, S1), h.pendingCallbacks.stream().map(InvalidateStart::subId).toList(),
        "both interval subs at once, classic not yet");
    h.ack(h.pendingCallbacks.peek(), true);
    assertEquals(1, h.pendingCallbacks.size());
    h.ack(h.pendingCallbacks.peek(), true);
    assertEquals(1, h.pendingCallbacks.size());
    assertEquals(c0, h.pendingCallbacks.peek().subId());
    assertEquals(PteState.PRESENT, h.pte(B).state(), "no PTE change before the classic ack");
    h.ack(h.pendingCallbacks.peek(), true);
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    Trace.InvalidateStarted st = h.events(Trace.InvalidateStarted.class).get(0);
    assertEquals(List.of(S0, S1, c0), st.subIds());
  }

  /**
   * mm/mmu_notifier.c mmu_interval_notifier_remove(): called while an interval invalidation runs, the sub stays in
   * the tree (its callback is still owed and awaited) and the caller is answered only when the period ends.
   */
  @Test
  void removeDuringInvalidationWaitsForThePeriodToEnd() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    h.insertInterval(S1, D1);
    h.autoAck = false;
    long id = h.mdeSend(D0, B, OWNER0);
    h.ack(h.pendingCallbacks.poll(), true);
    assertNull(h.mdeReply(id));
    h.step(D1, new HmmProtocol.NotifierRemove(S1));
    assertNull(h.mdeReply(id), "the removed sub's callback is still awaited");
    assertTrue(h.cpu.subscriptionLive(S1), "deferred: still in the tree while the seq is odd");
    assertEquals(0, removedAnswers(h, S1), "the remover sleeps until the period ends");
    h.ack(h.pendingCallbacks.poll(), true);
    assertEquals(Errno.OK, h.mdeReply(id).errno());
    assertFalse(h.cpu.subscriptionLive(S1));
    assertEquals(1, removedAnswers(h, S1), "answered once the period ended");
  }

  /** mmu_interval_notifier_remove() with no invalidation running takes the sub out at once and returns. */
  @Test
  void removeOutsideInvalidationReturnsAtOnce() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.insertInterval(S1, D1);
    h.step(D1, new HmmProtocol.NotifierRemove(S1));
    assertFalse(h.cpu.subscriptionLive(S1));
    assertEquals(1, removedAnswers(h, S1));
    h.step(D1, new HmmProtocol.NotifierRemove(S1));
    assertEquals(2, removedAnswers(h, S1), "a duplicate remove is answered again and changes nothing");
  }

  private static long removedAnswers(Harness h, long subId) {
    return h.sent.stream().filter(o -> o.msg() instanceof HmmProtocol.NotifierRemoved r && r.subId() == subId).count();
  }

  /** Try to confuse: duplicate, late and unknown acks change nothing. */
  @Test
  void duplicateAndUnknownAcksAreIgnored() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    h.autoAck = false;
    h.mdeSend(D0, B, OWNER0);
    InvalidateStart cb = h.pendingCallbacks.poll();
    h.step(D0, new HmmProtocol.InvalidateAck(999, S0, true));
    h.step(D0, new HmmProtocol.InvalidateAck(cb.invId(), S1, true));
    assertEquals(1, h.cpu.activeInvalidations(MM));
    h.ack(cb, true);
    int events = h.events.size();
    int sent = h.sent.size();
    h.ack(cb, true);
    h.ack(cb, false);
    assertEquals(events, h.events.size());
    assertEquals(sent, h.sent.size());
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    assertEquals(4, h.cpu.globalSeq(MM));
  }

  /** mn_itree_invalidate(): ok=false from a blockable callback is a driver bug the kernel WARNs about and ignores. */
  @Test
  void failedAckOnBlockableInvalidationIsCountedAndIgnored() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 1);
    h.insertInterval(S0, D0);
    h.autoAck = false;
    long id = h.mdeSend(D0, B, OWNER0);
    h.ack(h.pendingCallbacks.poll(), false);
    assertEquals(Errno.OK, h.mdeReply(id).errno());
    assertEquals(1, h.cpu.blockableAckFailures());
  }

  /** Try to confuse: a duplicated NotifierInsert (link duplication) or a late one after the remove is ignored. */
  @Test
  void duplicateInsertIsIgnored() {
    Harness h = new Harness();
    h.insertInterval(S0, D0);
    h.clear();
    h.insertInterval(S0, D0);
    assertTrue(h.sent.isEmpty());
    h.step(D0, new HmmProtocol.NotifierRemove(S0));
    h.insertInterval(S0, D0);
    assertFalse(h.cpu.subscriptionLive(S0));
    assertEquals(2, h.cpu.duplicateInserts());
  }
}
