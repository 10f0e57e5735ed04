package hmmemu.it;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.ControlClient;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.cluster.check.CheckerActor;
import hmmemu.node.link.GateLink;
import hmmemu.node.link.Link;
import hmmemu.node.ModelClock;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.msg.HmmProtocol;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * A 1 CPU + N GPU node cluster in one JVM, each node an ActorTestKit-made ActorSystem with serialize-messages on,
 * wired through a {@link GateLink} so a test can pause a direction at an exact message.
 */
final class ClusterFixture implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(20);

  final List<ActorTestKit> kits = new ArrayList<>();
  final GateLink gate = new GateLink(Link.DIRECT);
  final EmbeddedCluster cluster;
  final ControlClient client;

  ClusterFixture(int gpuNodes, ModelSwitches switches) {
    Config base = ConfigFactory.load("application-test");
    cluster = EmbeddedCluster.start(base, gpuNodes, switches, ModelClock.scaledWall(1.0), gate, TIMEOUT,
        (name, config) -> {
          ActorTestKit kit = ActorTestKit.create(name, config);
          kits.add(kit);
          return kit.system();
        });
    client = new ControlClient(cluster.cpuSystem, TIMEOUT);
  }

  ActorRef<Object> cpu() { return cluster.cpuRefs.cpu(); }

  ActorRef<Object> gpu(int k) { return cluster.gpuNodes.get(k - 1); }

  /** Sends a request and waits (bounded) for its reply of the expected type. */
  <T> T call(ActorRef<Object> node, HmmProtocol.Msg msg, Class<T> type) {
    HmmProtocol.Msg r = client.call(node, msg);
    if (!type.isInstance(r)) throw new AssertionError("expected " + type.getSimpleName() + " for " + msg + ", got " + r);
    return type.cast(r);
  }

  <T> T await(CompletionStage<T> stage, String what) {
    try {
      return stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("timed out after " + TIMEOUT.toSeconds() + " s waiting for " + what + ": " + e);
    }
  }

  /** The checker's verdict once it delivered every event the controller has seen. */
  CheckerActor.VerdictReply verdict() {
    long[] until = client.clock();
    return await(AskPattern.<Object, CheckerActor.VerdictReply>ask(cluster.cpuRefs.checker(),
        replyTo -> new CheckerActor.Verdict(until, replyTo), TIMEOUT, cluster.cpuSystem.scheduler()),
        "the invariant checker's verdict");
  }

  @Override
  public void close() {
    cluster.close();
  }
}
