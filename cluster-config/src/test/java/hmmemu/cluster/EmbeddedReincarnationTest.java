package hmmemu.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.node.ModelClock;
import hmmemu.node.link.Link;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.msg.HmmProtocol;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

/**
 * Reused embedded ActorSystems (EmbeddedCluster.reincarnate; docs/TESTING.md "Session 25: casesreuse"): after a
 * move to incarnation 1 the new CPU-MMU and GPU node work together (a bind crosses both: the GPU node finds the CPU
 * node of its own incarnation), a controller request of incarnation 0 is dropped by the new CPU node, and the old
 * incarnation's CPU node answers nothing (it was stopped). Fails when the stop or the envelope fence is removed.
 */
class EmbeddedReincarnationTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private static HmmProtocol.Msg call(ControlClient c, ActorRef<?> node, HmmProtocol.Msg msg) throws Exception {
    return c.ask(node, msg).toCompletableFuture().get(TIMEOUT.toMillis() + 5000, TimeUnit.MILLISECONDS);
  }

  /** {@code msg} gets no answer within 1 s (the ask's own timeout ends it). */
  private static void unanswered(ControlClient c, ActorRef<?> node, HmmProtocol.Msg msg, String why) {
    assertThrows(ExecutionException.class,
        () -> c.ask(node, msg, Duration.ofSeconds(1)).toCompletableFuture().get(10, TimeUnit.SECONDS), why);
  }

  @Test
  void aNewIncarnationWorksAndNothingOfTheOldOneAnswers() throws Exception {
    Config base = ConfigFactory.parseString("pekko.actor.provider = cluster\npekko.actor.serialize-messages = on")
        .withFallback(ConfigFactory.load());
    EmbeddedCluster c = EmbeddedCluster.start(base, 1, ModelSwitches.kernel(), ModelClock.scaledWall(1.0), Link.DIRECT,
        TIMEOUT);
    try {
      ControlClient first = new ControlClient(c.cpuSystem, TIMEOUT);
      HmmProtocol.Msg r = call(first, c.gpu(1), new HmmProtocol.BindMm(first.nextReqId(), 16, 1, DriverFlavour.DMIRROR));
      assertTrue(r instanceof HmmProtocol.MmBound, "incarnation 0's bind: " + r);
      ActorRef<?> oldCpu = c.cpu();
      assertTrue(c.reusable(), "a cluster as started is reusable");

      c.reincarnate(1, ModelSwitches.kernel(), ModelClock.scaledWall(1.0), Link.DIRECT, Map.of());
      assertEquals(1, c.epoch());
      ControlClient second = new ControlClient(c.cpuSystem, TIMEOUT).epoch(1);
      r = call(second, c.gpu(1), new HmmProtocol.BindMm(second.nextReqId(), 16, 1, DriverFlavour.DMIRROR));
      assertTrue(r instanceof HmmProtocol.MmBound, "incarnation 1's bind: " + r);
      r = call(second, c.cpu(), new HmmProtocol.InspectPage(second.nextReqId(), 1, 0x7f0000000000L));
      assertTrue(r instanceof HmmProtocol.PageInfo, "incarnation 1's InspectPage: " + r);

      unanswered(first, c.cpu(), new HmmProtocol.InspectPage(first.nextReqId(), 1, 0x7f0000000000L),
          "the new CPU node answered a request of incarnation 0");
      unanswered(first, oldCpu, new HmmProtocol.InspectPage(first.nextReqId(), 1, 0x7f0000000000L),
          "incarnation 0's CPU node answered after the move");
      assertThrows(IllegalArgumentException.class,
          () -> c.reincarnate(1, ModelSwitches.kernel(), ModelClock.scaledWall(1.0), Link.DIRECT, Map.of()),
          "an incarnation not after the current one is refused");
    } finally {
      c.close();
    }
  }
}
