package hmmemu.checker;

import static hmmemu.checker.Scenario.B;
import static hmmemu.checker.Scenario.G;
import static hmmemu.checker.Scenario.GPU1;
import static hmmemu.checker.Scenario.MM;
import static hmmemu.checker.Scenario.P;
import static hmmemu.checker.Scenario.SEQ;
import static hmmemu.checker.Scenario.SUB_GC;
import static hmmemu.checker.Scenario.SUB_GT;
import static hmmemu.checker.Scenario.atomicEntry;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Issue 16 item 4: a crashed GPU node's last batch never arrives; a malformed stamp must not stop the checker. */
class LostNodeTest {

  /** GPU node 1 maps X and crashes; the batch with its ReadRetryChecked + install never reaches the checker. */
  private static List<Stamped> crashWithLostBatch() {
    TraceBuilder b = Scenario.setup(true);
    Scenario.convert(b, true);
    b.on(GPU1, new Trace.ReadRetryChecked(G, SUB_GT, SEQ, SEQ, false), atomicEntry(G, SUB_GT, SEQ));
    b.send(GPU1, TraceBuilder.CPU); // the CPU node saw them (its clock depends on them)
    b.cpu(new Trace.NodeGone(1, "MemberRemoved(downed)"),
        new Trace.NotifierRegistered(SUB_GC, G, MM, NotifierKind.CLASSIC, 0, Page.TASK_SIZE, true),
        new Trace.NotifierRegistered(SUB_GT, G, MM, NotifierKind.INTERVAL, B, B + P, true));
    return b.inOrder().stream()
        .filter(s -> !(s.event() instanceof Trace.ReadRetryChecked || s.event() instanceof Trace.DeviceEntryInstalled))
        .toList();
  }

  @Test
  void aLostNodesMissingEventsReleaseTheirDependantsAndAreReported() {
    InvariantChecker c = new InvariantChecker();
    List<Stamped> arrived = crashWithLostBatch();
    c.offerAll(arrived);
    assertEquals(3, c.pending(), "NodeGone and what follows wait for node 1's lost batch");
    assertEquals(Set.of(1), c.declaredGoneNotLost());

    c.nodeLost(1);
    c.finish();
    assertEquals(0, c.pending(), c::describePending);
    assertEquals(arrived.size(), c.delivered());
    assertEquals(Set.of(1), c.goneNodes(), "the CPU node's NodeGone was delivered");
    assertEquals(Set.of(), c.declaredGoneNotLost());
    assertEquals(2, c.lostEventCount());
    CausalDelivery.Skip skip = c.lostEvents().get(0);
    assertEquals(1, skip.node());
    assertEquals(2, skip.count());
    assertTrue(c.describeLost().contains("2 event(s) of node 1 lost") && c.describeLost().contains("NodeGone"),
        c.describeLost());
    assertEquals(List.of(), c.violations());
  }

  /**
   * GPU node 1's install is lost, but its atomic reached X on the CPU node before the crash: with node 1's page
   * table unknown, the access is not judged for I10 (it would be a false "no entry" violation), only counted.
   */
  @Test
  void anAccessOfALostNodeIsNotJudgedAgainstThePageTableTheCheckerNeverSaw() {
    TraceBuilder b = Scenario.setup(true);
    Scenario.convert(b, true);
    b.on(GPU1, new Trace.ReadRetryChecked(G, SUB_GT, SEQ, SEQ, false), atomicEntry(G, SUB_GT, SEQ));
    b.send(GPU1, TraceBuilder.CPU);
    b.cpu(new Trace.HostMemoryAccessed(G, -1, Scenario.X, 0, hmmemu.protocol.model.Access.ATOMIC, 0, 1));
    b.cpu(new Trace.NodeGone(1, "MemberRemoved(downed)"));
    List<Stamped> arrived = b.inOrder().stream()
        .filter(s -> !(s.event() instanceof Trace.ReadRetryChecked || s.event() instanceof Trace.DeviceEntryInstalled))
        .toList();
    InvariantChecker c = new InvariantChecker();
    c.offerAll(arrived);
    c.nodeLost(1);
    c.finish();
    assertEquals(0, c.pending(), c::describePending);
    assertEquals(List.of(), c.violations(), "no I10 from a page table the checker never saw");
    assertEquals(1, c.accessesOfLostNodesNotJudged());
  }

  /**
   * C05 up to the CPU restore, where GPU node 1's zap and CLEAR ack are in a batch that never reaches the checker (the
   * node was SIGKILLed right after sending the ack; ProcessClusterCrashTest, issue 16 clean-clone run): the restore
   * depends on the lost ack, so I6 is not judged for it (a false "restored before ... acked" otherwise), only counted.
   */
  @Test
  void aRestoreThatDependsOnALostAckIsNotJudgedForThatAck() {
    TraceBuilder b = Scenario.c05Until(Scenario.Stage.ACCESSED);
    Scenario.restoreStart(b, false);
    Scenario.zapAndAck(b);
    Scenario.restoreFinish(b);
    b.cpu(new Trace.NodeGone(1, "MemberRemoved(downed)"));
    List<Stamped> arrived = b.inOrder().stream()
        .filter(s -> !(s.node() == 1 && (s.event() instanceof Trace.DeviceEntryZapped
            || (s.event() instanceof Trace.InvalidateAcked a && a.invId() == Scenario.INV_RESTORE))))
        .toList();
    InvariantChecker c = new InvariantChecker();
    c.offerAll(arrived);
    c.nodeLost(1);
    c.finish();
    assertEquals(0, c.pending(), c::describePending);
    assertEquals(2, c.lostEventCount(), c::describeLost);
    assertEquals(List.of(), c.violations(), "the ack was received by the CPU node; only its trace event was lost");
    assertEquals(1, c.restoresWithLostAcks());
    assertTrue(c.entriesOfLostNodesNotJudged() >= 1, "G's lost zap: its entry is not judged against the restore");
  }

  /** The same restore without the ack ever sent (node 1 alive, nothing lost) is still an I6 violation. */
  @Test
  void aRestoreWithoutTheAckIsStillCaughtWhenNothingWasLost() {
    TraceBuilder b = Scenario.c05Until(Scenario.Stage.ACCESSED);
    Scenario.restoreStart(b, false);
    Scenario.restoreFinish(b);
    InvariantChecker c = new InvariantChecker();
    c.offerAll(b.inOrder());
    c.finish();
    assertTrue(c.violations().stream().anyMatch(v -> v.invariant().equals("I6")), c.violations()::toString);
    assertEquals(0, c.restoresWithLostAcks());
  }

  /** A skipped event that arrives after all is dropped and counted, not applied out of causal order. */
  @Test
  void aSkippedEventArrivingLateIsDroppedAndCounted() {
    CausalDelivery d = new CausalDelivery();
    Stamped gpu1 = new Stamped(1, new long[] {0, 1}, new Trace.CpuFaulted(1, 1, 0, "anon"));
    Stamped cpu1 = new Stamped(0, new long[] {1, 1}, new Trace.NodeGone(1, "downed"));
    assertTrue(d.offer(cpu1).isEmpty());
    assertEquals(List.of(cpu1), d.nodeLost(1));
    assertTrue(d.offer(gpu1).isEmpty());
    assertEquals(1, d.late());
    assertEquals(0, d.duplicates());
  }

  /** A malformed stamp is rejected, counted and described; the checker goes on with the next events. */
  @Test
  void aMalformedStampIsRejectedAndTheCheckerGoesOn() {
    InvariantChecker c = new InvariantChecker();
    Stamped bad = new Stamped(2, new long[] {1}, new Trace.CpuFaulted(1, 1, 0, "anon"));
    assertDoesNotThrow(() -> c.offer(bad));
    List<Stamped> good = Scenario.c05().inOrder();
    c.offerAll(good);
    c.finish();
    assertEquals(1, c.rejected());
    assertTrue(c.describeRejected().contains("malformed stamp"), c.describeRejected());
    assertEquals(good.size(), c.delivered());
    assertEquals(List.of(), c.violations());
  }
}
