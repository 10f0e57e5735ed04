package hmmemu.node.link;

import static hmmemu.node.link.Msgs.env;
import static hmmemu.node.link.Msgs.receive;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hmmemu.protocol.wire.pb.Envelope;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The link control's answer to {@link LinkControl#STATS}: a node's live link counters, on one line of JSON. */
class LinkControlStatsTest {
  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void stop() { kit.shutdownTestKit(); }

  @Test
  void theStatsRequestIsNeverAFaultSchedule() {
    assertThrows(IllegalArgumentException.class, () -> LinkControl.parse(LinkControl.STATS));
  }

  @Test
  void statsCountEveryDirectionAndShowFaultsInForce() throws Exception {
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.ideal()), 1, 1.0, Link.DIRECT)) {
      TestProbe<Envelope> p = kit.createTestProbe(Envelope.class);
      for (long i = 1; i <= 3; i++) link.send(0, 1, p.ref(), env(i));
      for (long i = 4; i <= 5; i++) link.send(0, 2, p.ref(), env(i));
      receive(p, 5);
      link.partition(2);
      link.pause(1);
      String line = LinkControl.statsJson("cpu0", "pekko://hmm-emu@127.0.0.1:1", link, 4);
      assertEquals(1, line.lines().count(), "one line: " + line);
      JsonNode s = new ObjectMapper().readTree(line);
      assertEquals("cpu0", s.path("node").asText());
      assertEquals("pekko://hmm-emu@127.0.0.1:1", s.path("address").asText());
      assertEquals(4, s.path("liveFaultActions").asInt());
      assertEquals(5, s.path("totals").path("sent").asLong(), line);
      assertEquals(5, s.path("totals").path("delivered").asLong(), line);
      assertEquals(2, s.path("links").size(), line);
      assertEquals("cpu0->gpu1", s.path("links").get(0).path("direction").asText());
      assertEquals(3, s.path("links").get(0).path("sent").asLong());
      assertEquals("gpu1", s.path("paused").get(0).asText(), line);
      assertEquals("gpu2", s.path("partitioned").get(0).asText(), line);
      assertTrue(s.path("totals").has("inFlight") && s.path("totals").has("replayed"), line);
    }
  }

  @Test
  void statsCarryTheCoresCountersAndTheClockRequestAnswersModelTime() throws Exception {
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.ideal()), 1, 1.0, Link.DIRECT)) {
      assertThrows(IllegalArgumentException.class, () -> LinkControl.parse(LinkControl.CLOCK), "never a schedule");
      JsonNode s = new ObjectMapper().readTree(LinkControl.statsJson("cpu0", "a", link, 0,
          java.util.Map.of("conversions", 1024L, "restores", 1024L)));
      assertEquals(1024, s.path("cores").path("conversions").asLong(), s.toString());
      assertEquals(0, new ObjectMapper().readTree(LinkControl.statsJson("cpu0", "a", link, 0)).path("cores").size());

      var control = kit.spawn(LinkControl.create("gpu1", link, () -> 4242L, () -> java.util.Map.of("deviceFaults", 7L)));
      var resolver = org.apache.pekko.actor.typed.ActorRefResolver.get(kit.system());
      TestProbe<String> reply = kit.createTestProbe(String.class);
      control.tell(resolver.toSerializationFormat(reply.ref()) + "\n" + LinkControl.CLOCK);
      assertEquals("clock gpu1 4242", reply.receiveMessage());
      control.tell(resolver.toSerializationFormat(reply.ref()) + "\n" + LinkControl.STATS);
      String stats = reply.receiveMessage();
      assertTrue(stats.startsWith("stats "), stats);
      assertEquals(7, new ObjectMapper().readTree(stats.substring(6)).path("cores").path("deviceFaults").asLong(), stats);
      var noClock = kit.spawn(LinkControl.create("gpu2", link));
      noClock.tell(resolver.toSerializationFormat(reply.ref()) + "\n" + LinkControl.CLOCK);
      assertTrue(reply.receiveMessage().startsWith("error gpu2"), "no clock: an error line");
    }
  }
}
