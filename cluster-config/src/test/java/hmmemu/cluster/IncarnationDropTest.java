package hmmemu.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import hmmemu.cpu.actor.CpuNodeActor;
import hmmemu.node.link.Link;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Reused node JVMs (docs/SCENARIOS.md "Across separate JVMs"): a node of incarnation 2 drops, unread, an envelope an
 * earlier incarnation's run sent (a stale request, reply or link message still in flight when the next file
 * started), and takes its own incarnation's. The stale request is one the node would answer (InspectPage), so the
 * test fails if the drop in NodeShell.receive is removed.
 */
class IncarnationDropTest {
  private static final ActorTestKit kit = ActorTestKit.create("incarnation-drop", ConfigFactory.parseString(
      "pekko.actor.provider = cluster\npekko.remote.artery.canonical.port = 0").withFallback(ConfigFactory.load()));

  @AfterAll
  static void stop() { kit.shutdownTestKit(); }

  private static Envelope request(long reqId, ActorRef<Envelope> replyTo, long epoch) {
    Envelope e = WireCodec.encode(new HmmProtocol.InspectPage(reqId, 1, 0x7f0000000000L), new long[0],
        ActorRefResolver.get(kit.system()).toSerializationFormat(replyTo));
    return epoch == 0 ? e : e.toBuilder().setEpoch(epoch).build();
  }

  @Test
  void aStaleEnvelopeOfAnEarlierIncarnationIsDropped() {
    ActorRef<Object> cpu = kit.spawn(CpuNodeActor.create(ModelSwitches.kernel(), () -> 0L, Link.DIRECT, 2, 1.0));
    ActorRef<Envelope> node = cpu.unsafeUpcast().narrow();
    TestProbe<Envelope> replies = kit.createTestProbe(Envelope.class);
    node.tell(request(Ids.CONTROLLER + 1, replies.getRef(), 1)); // the earlier file's (incarnation 1)
    node.tell(request(Ids.CONTROLLER + 2, replies.getRef(), 0)); // a JVM's first incarnation's
    replies.expectNoMessage(Duration.ofMillis(300));
    node.tell(request(Ids.CONTROLLER + 3, replies.getRef(), 2)); // this incarnation's own
    Envelope reply = replies.receiveMessage(Duration.ofSeconds(10));
    HmmProtocol.Msg m = WireCodec.decode(reply);
    assertTrue(m instanceof HmmProtocol.PageInfo, "InspectPage answered " + m);
    assertEquals(Ids.CONTROLLER + 3, hmmemu.protocol.msg.Msgs.reqIdOf(m), "only this incarnation's request is answered");
    assertEquals(2, reply.getEpoch(), "the reply carries the node's incarnation");
    replies.expectNoMessage(Duration.ofMillis(200));
  }

  /** Controller reqIds (Ids.CONTROLLER_REQ_BASE). */
  private static final class Ids {
    static final long CONTROLLER = hmmemu.protocol.msg.Ids.CONTROLLER_REQ_BASE;
  }
}
