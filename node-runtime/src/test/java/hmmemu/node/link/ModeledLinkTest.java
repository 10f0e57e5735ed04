package hmmemu.node.link;

import static hmmemu.node.link.Msgs.WAIT;
import static hmmemu.node.link.Msgs.env;
import static hmmemu.node.link.Msgs.id;
import static hmmemu.node.link.Msgs.receive;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.wire.pb.Envelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * ModeledLink against real actors. No sleeps: zero-delay messages are handed over synchronously by send(), and
 * delayed ones are awaited with bounded receives or {@link ModeledLink#awaitQuiescent}.
 */
class ModeledLinkTest {
  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void shutdown() { kit.shutdownTestKit(); }

  private static TestProbe<Envelope> probe() { return kit.createTestProbe(Envelope.class); }

  private static List<Long> range(long from, long toInclusive) {
    return LongStream.rangeClosed(from, toInclusive).boxed().collect(Collectors.toList());
  }

  @Test
  void fifoIsPreservedUnderRandomDelay() throws Exception {
    LinkSpec spec = LinkSpec.ideal().withDelay(new Distribution.Exponential(300)).withJitter(200)
        .withTail(new LinkSpec.Tail(0.05, 2, 500)).withBandwidth(16000);
    try (ModeledLink link = new ModeledLink(LinkSettings.of(spec), 7, 1.0, Link.DIRECT)) {
      TestProbe<Envelope> p = probe();
      for (long i = 1; i <= 300; i++) link.send(0, 1, p.ref(), env(i));
      assertEquals(range(1, 300), receive(p, 300));
      assertTrue(link.awaitQuiescent(WAIT));
      ModeledLink.DirectionStats s = link.stats(0, 1);
      assertEquals(300, s.sent());
      assertEquals(300, s.delivered());
      assertEquals(0, s.dropped());
      assertEquals(0, s.inFlight());
      assertTrue(s.addedDelayMicros() > 300 * 100, "delays were applied: " + s);
    }
  }

  @Test
  void scheduledDelayIsRealTimeTimesScale() throws Exception {
    // 5 ms of model delay at time scale 10 is 50 ms of real time
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.ideal()), 1, 10.0, Link.DIRECT)) {
      TestProbe<Envelope> p = probe();
      long id = link.addDelay(0, 1, 5_000, null);
      long t0 = System.nanoTime();
      link.send(0, 1, p.ref(), env(1));
      assertEquals(1, id(p.receiveMessage(WAIT)));
      long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(elapsedMs >= 50, "delivered after " + elapsedMs + " ms");
      assertTrue(link.removeDelay(id));
      assertEquals(5_000, link.stats(0, 1).addedDelayMicros(), 1e-6);
      link.send(0, 1, p.ref(), env(2)); // no delay any more: handed over at once
      assertEquals(2, link.stats(0, 1).delivered());
      assertEquals(2, id(p.receiveMessage(WAIT)));
    }
  }

  @Test
  void addedDelayExpires() {
    AtomicLong clock = new AtomicLong(1_000_000_000L);
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.ideal()), 1, 1.0, Link.DIRECT, clock::get)) {
      TestProbe<Envelope> p = probe();
      link.addDelay(0, 1, 1e9, Duration.ofSeconds(1));
      clock.addAndGet(2_000_000_000L);
      link.send(0, 1, p.ref(), env(1));
      assertEquals(1, link.stats(0, 1).delivered(), "expired delay not applied: delivered at once");
      assertEquals(0, link.stats(0, 1).addedDelayMicros());
      assertEquals(1, id(p.receiveMessage(WAIT)));
    }
  }

  @Test
  void bandwidthQueuesBackToBackMessages() throws Exception {
    AtomicLong clock = new AtomicLong(0); // frozen: both messages are sent at the same instant
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.ideal().withBandwidth(1)), 1, 1.0,
        Link.DIRECT, clock::get)) {
      TestProbe<Envelope> p = probe();
      int size = env(1).getSerializedSize();
      link.send(0, 1, p.ref(), env(1));
      link.send(0, 1, p.ref(), env(2));
      ModeledLink.DirectionStats s = link.stats(0, 1);
      assertEquals(2.0 * size, s.maxDelayMicros(), 1e-6, "second waits for the first: " + s);
      assertEquals(3.0 * size, s.addedDelayMicros(), 1e-6);
      assertEquals(List.of(1L, 2L), receive(p, 2));
    }
  }

  private static List<Long> runLossy(long seed, LinkSpec spec, int n, TestProbe<Envelope> p) throws Exception {
    try (ModeledLink link = new ModeledLink(LinkSettings.of(spec), seed, 1.0, Link.DIRECT)) {
      for (long i = 1; i <= n; i++) link.send(1, 0, p.ref(), env(i));
      ModeledLink.DirectionStats s = link.stats(1, 0);
      assertEquals(n, s.sent());
      List<Long> got = receive(p, (int) (n - s.dropped()));
      assertTrue(link.awaitQuiescent(WAIT));
      assertEquals(n - s.dropped(), link.stats(1, 0).delivered());
      return got;
    }
  }

  @Test
  void lossDropsExactlyWhatTheSeededRandomSays() throws Exception {
    for (LinkSpec spec : List.of(LinkSpec.ideal().withLoss(0.3), LinkSpec.constant(50).withLoss(0.3))) {
      int n = 2000;
      List<Long> a = runLossy(42, spec, n, probe());
      List<Long> b = runLossy(42, spec, n, probe());
      assertEquals(a, b, "same seed, same losses");
      // a second instance of the direction's random source predicts the survivors
      LinkRandom r = new LinkRandom(42, Direction.of(1, 0));
      List<Long> expected = new ArrayList<>();
      for (long i = 1; i <= n; i++) if (!spec.draw(r.nextMessage()).lost()) expected.add(i);
      assertEquals(expected, a);
      assertTrue(a.size() > n * 0.6 && a.size() < n * 0.8, "about 30% lost: " + (n - a.size()));
      assertNotEquals(a, runLossy(43, spec, n, probe()), "another seed loses other messages");
    }
  }

  @Test
  void duplicationDeliversTwice() throws Exception {
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.constant(20).withDuplication(1)), 3, 1.0,
        Link.DIRECT)) {
      TestProbe<Envelope> p = probe();
      for (long i = 1; i <= 10; i++) link.send(0, 2, p.ref(), env(i));
      List<Long> expected = new ArrayList<>();
      for (long i = 1; i <= 10; i++) {
        expected.add(i);
        expected.add(i);
      }
      assertEquals(expected, receive(p, 20));
      assertTrue(link.awaitQuiescent(WAIT));
      ModeledLink.DirectionStats s = link.stats(0, 2);
      assertEquals(10, s.sent());
      assertEquals(10, s.duplicated());
      assertEquals(20, s.delivered());
    }
    // probability 0.5 duplicates exactly the messages the seeded random says
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.ideal()), 4, 1.0, Link.DIRECT)) {
      link.setDuplication(0, 1, 0.5);
      TestProbe<Envelope> p = probe();
      LinkRandom r = new LinkRandom(4, Direction.of(0, 1));
      List<Long> expected = new ArrayList<>();
      for (long i = 1; i <= 200; i++) {
        link.send(0, 1, p.ref(), env(i));
        expected.add(i);
        if (LinkSpec.ideal().draw(r.nextMessage(), 0, 0.5, 0).duplicated()) expected.add(i);
      }
      assertEquals(expected, receive(p, expected.size()));
      assertEquals(expected.size() - 200, link.stats(0, 1).duplicated());
    }
  }

  @Test
  void reorderedMessageIsOvertaken() throws Exception {
    LinkSpec spec = LinkSpec.constant(100).withReorderExtra(new Distribution.Constant(300_000)); // 300 ms extra
    try (ModeledLink link = new ModeledLink(LinkSettings.of(spec), 5, 1.0, Link.DIRECT)) {
      TestProbe<Envelope> p = probe();
      link.setReordering(0, 1, 1.0);
      link.send(0, 1, p.ref(), env(1));
      link.setReordering(0, 1, 0.0);
      link.send(0, 1, p.ref(), env(2));
      link.send(0, 1, p.ref(), env(3));
      assertEquals(List.of(2L, 3L, 1L), receive(p, 3));
      assertEquals(1, link.stats(0, 1).reordered());
    }
  }

  @Test
  void partitionDropsAndHealRestores() throws Exception {
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.ideal()), 6, 1.0, Link.DIRECT)) {
      TestProbe<Envelope> cpu = probe();
      TestProbe<Envelope> gpu1 = probe();
      TestProbe<Envelope> gpu2 = probe();
      link.partition(1, ModeledLink.PartitionMode.BOTH);
      for (long i = 1; i <= 5; i++) {
        link.send(0, 1, gpu1.ref(), env(i));
        link.send(1, 0, cpu.ref(), env(100 + i));
      }
      link.send(0, 2, gpu2.ref(), env(7)); // other nodes are not affected
      assertEquals(7, id(gpu2.receiveMessage(WAIT)));
      assertEquals(5, link.stats(0, 1).dropped());
      assertEquals(5, link.stats(1, 0).dropped());
      assertEquals(0, link.stats(0, 1).delivered() + link.stats(1, 0).delivered());
      link.heal(1);
      link.send(0, 1, gpu1.ref(), env(6));
      link.send(1, 0, cpu.ref(), env(106));
      // FIFO per direction: had anything dropped leaked, it would arrive before these
      assertEquals(6, id(gpu1.receiveMessage(WAIT)));
      assertEquals(106, id(cpu.receiveMessage(WAIT)));

      // one-way (outgoing): gpu1 hears but is not heard
      link.partition(1, ModeledLink.PartitionMode.OUTGOING);
      link.send(1, 0, cpu.ref(), env(107));
      link.send(0, 1, gpu1.ref(), env(8));
      assertEquals(8, id(gpu1.receiveMessage(WAIT)));
      assertEquals(6, link.stats(1, 0).dropped());
      link.partition(1, ModeledLink.PartitionMode.INCOMING);
      link.send(0, 1, gpu1.ref(), env(9));
      link.send(1, 0, cpu.ref(), env(108));
      assertEquals(108, id(cpu.receiveMessage(WAIT)));
      assertEquals(6, link.stats(0, 1).dropped());
      link.heal(1);
      link.send(0, 1, gpu1.ref(), env(10));
      assertEquals(10, id(gpu1.receiveMessage(WAIT)));
    }
  }

  @Test
  void partitionDropsMessagesInFlight() throws Exception {
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.constant(200_000)), 6, 1.0, Link.DIRECT)) {
      TestProbe<Envelope> p = probe();
      link.send(0, 1, p.ref(), env(1)); // due in 200 ms
      link.partition(1);
      assertTrue(link.awaitQuiescent(WAIT));
      assertEquals(1, link.stats(0, 1).dropped());
      assertEquals(0, link.stats(0, 1).delivered());
    }
  }

  @Test
  void pauseHoldsThenDeliversInOrderOnResume() throws Exception {
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.ideal()), 8, 1.0, Link.DIRECT)) {
      TestProbe<Envelope> cpu = probe();
      TestProbe<Envelope> gpu1 = probe();
      TestProbe<Envelope> gpu2 = probe();
      link.pause(1);
      for (long i = 1; i <= 5; i++) link.send(0, 1, gpu1.ref(), env(i));
      for (long i = 101; i <= 103; i++) link.send(1, 0, cpu.ref(), env(i));
      link.send(0, 2, gpu2.ref(), env(7));
      assertEquals(7, id(gpu2.receiveMessage(WAIT)));
      assertEquals(5, link.stats(0, 1).heldNow());
      assertEquals(3, link.stats(1, 0).heldNow());
      assertEquals(0, link.stats(0, 1).delivered() + link.stats(1, 0).delivered());
      link.resume(1);
      link.send(0, 1, gpu1.ref(), env(6));
      assertEquals(range(1, 6), receive(gpu1, 6));
      assertEquals(range(101, 103), receive(cpu, 3));
      assertEquals(5, link.stats(0, 1).held());
      assertEquals(0, link.stats(0, 1).heldNow());
    }
  }

  @Test
  void pauseHoldsMessagesThatWereInFlight() throws Exception {
    LinkSpec spec = LinkSpec.ideal().withDelay(new Distribution.Uniform(1_000, 20_000));
    try (ModeledLink link = new ModeledLink(LinkSettings.of(spec), 9, 1.0, Link.DIRECT)) {
      TestProbe<Envelope> gpu1 = probe();
      for (long i = 1; i <= 20; i++) link.send(0, 1, gpu1.ref(), env(i));
      link.pause(1);
      for (long i = 21; i <= 40; i++) link.send(0, 1, gpu1.ref(), env(i));
      assertTrue(link.awaitQuiescent(WAIT));
      ModeledLink.DirectionStats s = link.stats(0, 1);
      assertEquals(40, s.delivered() + s.heldNow(), s.toString());
      assertTrue(s.heldNow() >= 20, s.toString());
      List<Long> before = receive(gpu1, (int) s.delivered());
      link.resume(1);
      List<Long> all = new ArrayList<>(before);
      all.addAll(receive(gpu1, (int) s.heldNow()));
      assertEquals(range(1, 40), all);
    }
  }

  @Test
  void clearFaultsRemovesEverything() throws Exception {
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.ideal()), 10, 1.0, Link.DIRECT)) {
      TestProbe<Envelope> p = probe();
      link.pause(2);
      link.send(0, 2, p.ref(), env(1));
      link.partition(1);
      link.setLoss(0, 2, 1.0);
      link.addDelay(0, 2, 1e9, null);
      link.clearFaults();
      assertEquals(1, id(p.receiveMessage(WAIT)), "held message released");
      link.send(0, 2, p.ref(), env(2));
      assertEquals(2, id(p.receiveMessage(WAIT)));
      assertEquals(0, link.stats(0, 2).dropped());
      assertTrue(link.partitions().isEmpty());
      assertTrue(link.pausedNodes().isEmpty());
    }
  }

  @Test
  void sendAfterCloseIsDropped() {
    ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.ideal()), 11, 1.0, Link.DIRECT);
    link.close();
    link.send(0, 1, probe().ref(), env(1));
    assertEquals(1, link.stats(0, 1).dropped());
  }
}
