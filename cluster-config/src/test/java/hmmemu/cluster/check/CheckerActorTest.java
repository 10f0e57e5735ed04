package hmmemu.cluster.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.wire.WireCodec;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Issue 16 item 4: the checker actor survives a malformed stamp and a GPU node whose last batch never arrives. */
class CheckerActorTest {
  private static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void stop() { kit.shutdownTestKit(); }

  private static Stamped at(int node, long[] vc, Trace.Event e) { return new Stamped(node, vc, e); }

  private static CheckerActor.VerdictReply verdict(ActorRef<Object> checker, long... until) {
    TestProbe<CheckerActor.VerdictReply> probe = kit.createTestProbe();
    checker.tell(new CheckerActor.Verdict(until, probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  /** A stamp without its own vector-clock entry is rejected and reported; the next batch is still judged. */
  @Test
  void aMalformedStampIsRejectedAndTheActorGoesOn() {
    ActorRef<Object> checker = kit.spawn(CheckerActor.create());
    Stamped bad = at(3, new long[] {1}, new Trace.CpuFaulted(1, 1, 0, "anon"));
    checker.tell(WireCodec.encodeTraceEnvelope(3, List.of(bad), new long[] {1}));
    Stamped good = at(0, new long[] {1}, new Trace.CpuFaulted(1, 1, 0, "anon"));
    checker.tell(WireCodec.encodeTraceEnvelope(0, List.of(good), new long[] {1}));
    CheckerActor.VerdictReply v = verdict(checker, 1);
    assertTrue(v.caughtUp());
    assertEquals(1, v.delivered());
    assertEquals(1, v.rejected());
    assertTrue(v.rejectedWhy().contains("malformed stamp"), v.rejectedWhy());
  }

  /** The CPU node's NodeGone depends on a GPU event that never arrives: after the grace it is delivered anyway. */
  @Test
  void aGoneNodesLostEventsNoLongerHoldBackTheCpuNodesNodeGone() {
    ActorRef<Object> checker = kit.spawn(CheckerActor.create());
    Stamped gone = at(0, new long[] {1, 2}, new Trace.NodeGone(1, "MemberRemoved(downed)"));
    checker.tell(WireCodec.encodeTraceEnvelope(0, List.of(gone), new long[] {1, 2}));
    TestProbe<Integer> goneProbe = kit.createTestProbe();
    checker.tell(new CheckerActor.WhenNodeGone(1, goneProbe.getRef()));
    assertEquals(1, goneProbe.receiveMessage(Duration.ofSeconds(10)));
    CheckerActor.VerdictReply v = verdict(checker, 1, 0);
    assertEquals(0, v.pending());
    assertEquals(2, v.lost());
    assertTrue(v.lostWhy().contains("2 event(s) of node 1 lost"), v.lostWhy());
  }

  /** A watcher hears every event the checker applies, in causal order with its stamp; without one nothing is handed. */
  @Test
  void aWatcherHearsEveryAppliedEventWithItsModelTime() {
    ActorRef<Object> checker = kit.spawn(CheckerActor.create());
    List<Stamped> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
    checker.tell(new CheckerActor.Watch(heard::add));
    Stamped second = new Stamped(0, new long[] {2}, new Trace.CpuFaulted(1, 1, 0, "anon"), 20);
    Stamped first = new Stamped(0, new long[] {1}, new Trace.CpuFaulted(1, 1, 0, "anon"), 10);
    checker.tell(WireCodec.encodeTraceEnvelope(0, List.of(second), new long[] {2}));
    checker.tell(WireCodec.encodeTraceEnvelope(0, List.of(first), new long[] {1}));
    assertTrue(verdict(checker, 2).caughtUp());
    assertEquals(List.of(10L, 20L), heard.stream().map(Stamped::atMicros).toList());
  }
}
