package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.node.link.LinkControl;
import hmmemu.cluster.NodeConfig;
import hmmemu.cluster.cli.Main;
import hmmemu.node.link.Link;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code hmm-emu inject} through Pekko Management HTTP: a fault line posted to one node reaches the link stage of
 * every node of the cluster (three ActorSystems: cpu0, gpu1, gpu2, each with its own {@link ModeledLink}).
 */
class InjectTest {
  private final List<ActorSystem<Void>> systems = new ArrayList<>();
  private final List<ModeledLink> links = new ArrayList<>();

  @AfterEach
  void stop() {
    for (ActorSystem<Void> s : systems) s.terminate();
    for (ActorSystem<Void> s : systems) {
      try {
        s.getWhenTerminated().toCompletableFuture().get(15, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // abandoned
      }
    }
    links.forEach(ModeledLink::close);
  }

  private ActorSystem<Void> node(String name, String role, List<String> seeds, boolean management) {
    Config base = ConfigFactory.parseMap(Map.of("hmm-emu.management.enabled", management))
        .withFallback(ConfigFactory.load("application-test"));
    Config c = NodeConfig.withManagement(NodeConfig.of(base, role, "127.0.0.1", 0, "", seeds));
    ActorSystem<Void> s = ActorSystem.create(Behaviors.empty(), EmbeddedCluster.SYSTEM_NAME, c);
    systems.add(s);
    ModeledLink link = new ModeledLink(LinkSettings.fromConfig(c), 1, 1.0, Link.DIRECT);
    links.add(link);
    s.systemActorOf(LinkControl.create(name, link), "link-control", Props.empty());
    return s;
  }

  private static void await(BooleanSupplier cond, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!cond.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "not within 30 s: " + what);
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  @Test
  void aLinePostedToOneNodeReachesEveryNodesLink() throws Exception {
    ActorSystem<Void> cpu = node("cpu0", "cpu", List.of(), true);
    Address seed = Cluster.get(cpu).selfMember().address();
    Cluster.get(cpu).manager().tell(Join.create(seed));
    String seedArg = seed.host().get() + ":" + seed.port().get();
    node("gpu1", "gpu", List.of(seedArg), false);
    node("gpu2", "gpu", List.of(seedArg), false);
    String uri = NodeConfig.startManagement(cpu);
    String hostPort = uri.replaceFirst("^http://", "").replaceFirst("/$", "");
    assertTrue(hostPort.startsWith("127.0.0.1:"), "management binds the loopback address by default: " + uri);
    // Every node's link control is registered once the receptionist listing has reached the seed.
    await(() -> {
      try {
        return LinkControl.broadcast(cpu, "clear", java.time.Duration.ofSeconds(3)).toCompletableFuture()
            .get(5, TimeUnit.SECONDS).size() == 3;
      } catch (Exception e) {
        return false;
      }
    }, "three link controls registered");

    assertEquals(0, Main.run("inject", "--node", hostPort, "partition gpu1 for 60s"));
    await(() -> links.stream().allMatch(l -> l.partitions().containsKey(1)), "gpu1 partitioned on every node's link");
    assertEquals(0, Main.run("inject", "--node", hostPort, "heal gpu1; pause gpu2"));
    await(() -> links.stream().allMatch(l -> l.partitions().isEmpty() && l.pausedNodes().contains(2)),
        "gpu1 healed and gpu2 paused on every node's link");
    assertEquals(0, Main.run("inject", "--node", hostPort, "at 100ms resume gpu2"));
    await(() -> links.stream().allMatch(l -> l.pausedNodes().isEmpty()), "gpu2 resumed on every node's link");
  }
}
