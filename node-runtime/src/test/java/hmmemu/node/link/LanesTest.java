package hmmemu.node.link;

import static hmmemu.node.link.Msgs.WAIT;
import static hmmemu.node.link.Msgs.env;
import static hmmemu.node.link.Msgs.id;
import static hmmemu.node.link.Msgs.receive;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.wire.pb.Envelope;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Lanes per sending kernel thread (docs/PROTOCOL.md §5.8): {@link Lanes}, and per-lane order on every link stage. */
class LanesTest {
  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void shutdown() { kit.shutdownTestKit(); }

  static final long A = Lanes.worker(Ids.deviceId(1, 0));
  static final long B = Lanes.callback(7, Ids.subId(Ids.deviceId(1, 0), 1));

  static Envelope env(long n, long lane) { return Msgs.env(n).toBuilder().setLinkLane(lane).build(); }

  // ------------------------------------------------------------------------------------------------ Lanes.of

  @Test
  void theFaultWorkerAndEachCallbackInvocationHaveTheirOwnLanes() {
    int dev = Ids.deviceId(1, 0);
    long sub = Ids.subId(dev, 1);
    long unlock = Lanes.of(new HmmProtocol.FolioUnlockPut(Ids.reqId(dev, 3), dev, 42, sub));
    assertEquals(unlock, Lanes.of(new HmmProtocol.MakeDeviceExclusive(Ids.reqId(dev, 3), dev, 1, 0x1000, 9)));
    assertEquals(unlock, Lanes.of(new HmmProtocol.NotifierInsert(sub, dev, 1, null, 0, 4096)));
    assertEquals(unlock, Lanes.of(new HmmProtocol.NotifierRemove(sub)));
    long ack1 = Lanes.of(new HmmProtocol.InvalidateAck(5, sub, true));
    long ack2 = Lanes.of(new HmmProtocol.InvalidateAck(6, sub, true));
    assertNotEquals(unlock, ack1, "a callback is not the fault worker");
    assertNotEquals(ack1, ack2, "two callback invocations are two threads");
    assertNotEquals(unlock, Lanes.of(new HmmProtocol.FolioUnlockPut(1, Ids.deviceId(1, 1), 42)),
        "two devices' workers are two threads");
    for (long l : new long[] {unlock, ack1, ack2}) assertNotEquals(0, l, "0 means lanes off");
  }

  @Test
  void notifierInsertedAndInvalidateEndOfOneSubscriptionShareALane() {
    long sub = Ids.subId(Ids.deviceId(1, 0), 2);
    long lane = Lanes.of(new HmmProtocol.NotifierInserted(sub, 3, 3));
    assertEquals(lane, Lanes.of(new HmmProtocol.InvalidateEnd(sub, 4)));
    assertEquals(lane, Lanes.of(new HmmProtocol.InvalidateStart(9, sub, 1, 0, 4096, NotifyEvent.CLEAR, 0, true, 3)));
    assertEquals(lane, Lanes.of(new HmmProtocol.NotifierRemoved(sub)));
    assertNotEquals(lane, Lanes.of(new HmmProtocol.InvalidateEnd(sub + 1, 4)));
  }

  @Test
  void settingIsOffByDefaultAndValidated() {
    assertFalse(LinkSettings.builtIn().lanes());
    assertFalse(LinkSettings.builtIn().reliability(1.0).lanes());
    LinkSettings on = LinkSettings.fromConfig(ConfigFactory.parseString("hmm-emu.link.lanes = per-thread"));
    assertTrue(on.lanes());
    assertTrue(on.reliability(1.0).lanes());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LinkSettings.fromConfig(ConfigFactory.parseString("hmm-emu.link.lanes = yes")));
    assertTrue(e.getMessage().contains("hmm-emu.link") && e.getMessage().contains("per-thread"), e.getMessage());
  }

  // ------------------------------------------------------------------------------------------------ DataLink

  @Test
  void dataLinkDeliversALaneAheadOfAnotherLanesGapAndKeepsEachLaneInOrder() {
    LinkReliability lanes = new LinkReliability(true, 3000, 1.0, 4096, 4096, true);
    DataLinkTest.End a = DataLinkTest.a(lanes), b = DataLinkTest.b(lanes);
    a.send(b, env(1, A), 0);
    a.send(b, env(2, A), 0);
    a.send(b, env(3, B), 0);
    a.send(b, env(4, B), 0);
    List<Envelope> f = a.take();
    assertEquals(A, f.get(0).getLinkLane());
    assertEquals(1, f.get(2).getLinkSeq(), "each lane has its own sequence");
    b.receive(f.get(3), 1); // lane B's second, ahead of its gap: waits
    b.receive(f.get(1), 2); // lane A's second, ahead of its gap: waits
    b.receive(f.get(2), 3); // lane B's first: B delivered in order, lane A's gap does not hold it
    assertEquals(List.of(3L, 4L), b.ids());
    b.receive(f.get(0), 4);
    assertEquals(List.of(3L, 4L, 1L, 2L), b.ids(), "lane B overtook lane A; each lane in order");
    b.tick(4 + DataLinkTest.ACK_DELAY);
    List<Envelope> acks = b.take();
    assertEquals(2, acks.size(), "one pure ACK per lane");
    DataLinkTest.deliverAll(a, acks, 5 + DataLinkTest.ACK_DELAY);
    assertEquals(0, a.dl.unacknowledged());
  }

  @Test
  void dataLinkWithLanesOffHoldsEverythingBehindAGap() {
    DataLinkTest.End a = DataLinkTest.a(DataLinkTest.ON), b = DataLinkTest.b(DataLinkTest.ON);
    a.send(b, Msgs.env(1), 0);
    a.send(b, Msgs.env(3), 0);
    List<Envelope> f = a.take();
    b.receive(f.get(1), 1);
    assertEquals(List.of(), b.ids(), "one lane per direction: 3 waits behind 1");
    assertEquals(0, f.get(1).getLinkLane());
  }

  // ------------------------------------------------------------------------------------------------ ModeledLink

  private static LinkSpec randomDelay() {
    return LinkSpec.ideal().withDelay(new Distribution.Uniform(0, 400)).withJitter(50);
  }

  /** Sends 1..n alternating lanes A and B on 0 -> 1; returns the arrival order. */
  private static List<Long> sendTwoLanes(LinkSettings settings, long seed, int n) throws Exception {
    try (ModeledLink link = new ModeledLink(settings, seed, 1.0, Link.DIRECT)) {
      TestProbe<Envelope> p = kit.createTestProbe(Envelope.class);
      for (long i = 1; i <= n; i++) link.send(0, 1, p.ref(), env(i, i % 2 == 1 ? A : B));
      List<Long> got = receive(p, n);
      assertTrue(link.awaitQuiescent(WAIT));
      return got;
    }
  }

  private static boolean inOrder(List<Long> got, long parity) {
    long last = 0;
    for (long x : got) {
      if (x % 2 != parity) continue;
      if (x < last) return false;
      last = x;
    }
    return true;
  }

  @Test
  void modeledLinkKeepsFifoPerLaneAndLetsLanesOvertake() throws Exception {
    LinkSettings lanes = LinkSettings.of(randomDelay()).withLanes(true);
    boolean overtook = false;
    for (long seed = 1; seed <= 5 && !overtook; seed++) {
      List<Long> got = sendTwoLanes(lanes, seed, 40);
      assertTrue(inOrder(got, 1) && inOrder(got, 0), "FIFO within each lane, seed " + seed + ": " + got);
      List<Long> sorted = new ArrayList<>(got);
      sorted.sort(null);
      overtook = !sorted.equals(got);
    }
    assertTrue(overtook, "some seed lets a lane overtake the other");
  }

  @Test
  void modeledLinkWithLanesOffIsFifoPerDirection() throws Exception {
    // The same envelopes, lanes marked but the setting off: ModeledLink still keys on link_lane, so off must mean
    // the shells never set it; lane 0 is one FIFO per direction whatever the delays.
    try (ModeledLink link = new ModeledLink(LinkSettings.of(randomDelay()), 1, 1.0, Link.DIRECT)) {
      TestProbe<Envelope> p = kit.createTestProbe(Envelope.class);
      for (long i = 1; i <= 40; i++) link.send(0, 1, p.ref(), Msgs.env(i));
      List<Long> got = receive(p, 40);
      List<Long> sorted = new ArrayList<>(got);
      sorted.sort(null);
      assertEquals(sorted, got);
    }
  }

  @Test
  void replayFilterTellsReplaysPerLane() {
    TestProbe<Envelope> p = kit.createTestProbe(Envelope.class);
    ReplayFilter f = new ReplayFilter();
    assertTrue(f.first(1, p.ref(), env(1, A).toBuilder().setLinkSeq(1).build()));
    assertTrue(f.first(1, p.ref(), env(2, B).toBuilder().setLinkSeq(1).build()), "seq 1 of another lane is new");
    assertFalse(f.first(1, p.ref(), env(1, A).toBuilder().setLinkSeq(1).build()), "a replay in lane A");
  }

  // ------------------------------------------------------------------------------------------------ GateLink

  @Test
  void aPausePointHoldsOnlyTheLaneOfTheMessageThatClosedIt() {
    TestProbe<Envelope> p = kit.createTestProbe(Envelope.class);
    GateLink gate = new GateLink(Link.DIRECT);
    var closed = gate.holdWhen(0, 1, m -> m instanceof HmmProtocol.DeviceMemoryAccessReply r && r.reqId() == 2);
    gate.send(0, 1, p.ref(), env(1, A));
    gate.send(0, 1, p.ref(), env(2, A)); // closes the gate on lane A
    gate.send(0, 1, p.ref(), env(3, B)); // another thread: passes
    gate.send(0, 1, p.ref(), env(4, A)); // held behind 2
    assertTrue(closed.isDone());
    assertEquals(List.of(1L, 3L), receive(p, 2));
    p.expectNoMessage(java.time.Duration.ofMillis(50));
    gate.release(0, 1);
    assertEquals(List.of(2L, 4L), receive(p, 2));
  }

  @Test
  void aPausePointWithoutLanesHoldsTheWholeDirection() {
    TestProbe<Envelope> p = kit.createTestProbe(Envelope.class);
    GateLink gate = new GateLink(Link.DIRECT);
    gate.holdWhen(0, 1, m -> m instanceof HmmProtocol.DeviceMemoryAccessReply r && r.reqId() == 2);
    gate.send(0, 1, p.ref(), Msgs.env(1));
    gate.send(0, 1, p.ref(), Msgs.env(2));
    gate.send(0, 1, p.ref(), Msgs.env(3));
    assertEquals(List.of(1L), receive(p, 1));
    p.expectNoMessage(java.time.Duration.ofMillis(50));
    gate.release(0, 1);
    assertEquals(List.of(2L, 3L), receive(p, 2));
  }
}
