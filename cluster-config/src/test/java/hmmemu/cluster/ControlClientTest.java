package hmmemu.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.ChunkCodec;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * ControlClient gathers the parts of a large reply by reqId: in order, out of order, interleaved with another
 * ask's reply; a part that never comes fails the ask naming the request and the missing parts.
 */
class ControlClientTest {
  private static final ActorTestKit kit = ActorTestKit.create();
  static final int ENTRIES = 20_000;
  static final int PART = 64 * 1024;

  @AfterAll
  static void down() { kit.shutdownTestKit(); }

  static HmmProtocol.DeviceInfo info(long reqId, int deviceId) {
    List<HmmProtocol.DeviceEntry> e = new ArrayList<>(ENTRIES);
    for (int i = 0; i < ENTRIES; i++) e.add(new HmmProtocol.DeviceEntry(1, 0x7f00_0000_0000L + i * 4096L, 1000 + i, true, true, i % 2 == 0));
    return new HmmProtocol.DeviceInfo(reqId, deviceId, e, 1, 2, 3, 4, 5, 6, 7, 8, List.of());
  }

  /** A node that answers InspectDevice with a large DeviceInfo, its parts passed through {@code parts} first. */
  static ActorRef<Envelope> node(String name, UnaryOperator<List<Envelope>> parts) {
    ActorRefResolver resolver = ActorRefResolver.get(kit.system());
    return kit.spawn(Behaviors.<Envelope>receiveMessage(env -> {
      HmmProtocol.InspectDevice req = (HmmProtocol.InspectDevice) WireCodec.decode(env);
      ActorRef<Envelope> to = resolver.resolveActorRef(env.getReplyTo());
      Envelope reply = WireCodec.encode(info(req.reqId(), req.deviceId()), new long[] {0, 5}, "");
      for (Envelope p : parts.apply(ChunkCodec.split(reply, PART, "", req.reqId()))) to.tell(p);
      return Behaviors.same();
    }), name);
  }

  static HmmProtocol.DeviceInfo ask(ControlClient c, ActorRef<Envelope> node, int deviceId) throws Exception {
    return (HmmProtocol.DeviceInfo) c.ask(node, new HmmProtocol.InspectDevice(c.nextReqId(), deviceId))
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @Test
  void aReplyInPartsIsGatheredAndDecoded() throws Exception {
    ControlClient c = new ControlClient(kit.system(), Duration.ofSeconds(10));
    HmmProtocol.DeviceInfo r = ask(c, node("in-order", p -> p), 16);
    assertEquals(ENTRIES, r.entries().size());
    assertEquals(info(r.reqId(), 16), r);
    assertEquals(1, c.chunkedReplies());
    assertEquals(5, c.clock()[1], "the reply's vector clock is merged");
  }

  @Test
  void partsOutOfOrderAndDuplicatedAreGathered() throws Exception {
    ControlClient c = new ControlClient(kit.system(), Duration.ofSeconds(10));
    HmmProtocol.DeviceInfo r = ask(c, node("reversed", p -> {
      List<Envelope> out = new ArrayList<>(p);
      Collections.reverse(out);
      out.add(2, p.get(1));
      return out;
    }), 17);
    assertEquals(info(r.reqId(), 17), r);
  }

  @Test
  void twoAsksInFlightGetTheirOwnReplies() throws Exception {
    ControlClient c = new ControlClient(kit.system(), Duration.ofSeconds(10));
    ActorRef<Envelope> node = node("two", p -> p);
    var a = c.ask(node, new HmmProtocol.InspectDevice(c.nextReqId(), 20)).toCompletableFuture();
    var b = c.ask(node, new HmmProtocol.InspectDevice(c.nextReqId(), 21)).toCompletableFuture();
    assertEquals(20, ((HmmProtocol.DeviceInfo) a.get(20, TimeUnit.SECONDS)).deviceId());
    assertEquals(21, ((HmmProtocol.DeviceInfo) b.get(20, TimeUnit.SECONDS)).deviceId());
  }

  @Test
  void aMissingPartFailsTheAskNamingTheRequestAndThePart() {
    ControlClient c = new ControlClient(kit.system(), Duration.ofMinutes(10));
    ActorRef<Envelope> node = node("drops-part-3", p -> {
      List<Envelope> out = new ArrayList<>(p);
      out.remove(3);
      return out;
    });
    long reqId = c.nextReqId();
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> c.ask(node, new HmmProtocol.InspectDevice(reqId, 18), Duration.ofMillis(1500)).toCompletableFuture()
            .get(20, TimeUnit.SECONDS));
    assertInstanceOf(TimeoutException.class, e.getCause());
    String m = e.getCause().getMessage();
    assertTrue(m.contains("InspectDevice (reqId " + reqId + ")"), m);
    assertTrue(m.contains("within 1500 ms"), "the ask's own timeout: " + m);
    assertTrue(m.matches(".*; part 3 of \\d+ missing \\(\\d+ arrived\\).*"), m);
    assertEquals(0, c.chunkedReplies());
  }

  @Test
  void partsThatDoNotFitTheirMessageFailTheAskAtOnce() {
    ControlClient c = new ControlClient(kit.system(), Duration.ofSeconds(30));
    ActorRef<Envelope> node = node("mixed-sizes", p -> {
      Envelope whole = ChunkCodec.join(p);
      List<Envelope> out = new ArrayList<>(p.subList(0, 1));
      out.addAll(ChunkCodec.split(whole, PART / 2, "", ChunkCodec.reqIdOf(p.get(0))));
      return out;
    });
    long start = System.nanoTime();
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> c.ask(node, new HmmProtocol.InspectDevice(c.nextReqId(), 19)).toCompletableFuture().get(20, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("came in parts that do not fit"), e.getCause().getMessage());
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "failed before the ask's 30 s timeout");
  }
}
