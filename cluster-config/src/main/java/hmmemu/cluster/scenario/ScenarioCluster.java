package hmmemu.cluster.scenario;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.ClusterHandle;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.cluster.NodeRoles;
import hmmemu.node.Link;
import hmmemu.node.ModelClock;
import hmmemu.protocol.model.ModelSwitches;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * The embedded cluster a scenario runs on: as {@link EmbeddedCluster} (one CPU node and N GPU nodes, each its own
 * ActorSystem, joined through the CPU node), except that GPU node k hosts as many devices as the scenario declares
 * on it (device ids k*16 .. k*16+n-1).
 */
final class ScenarioCluster implements ClusterHandle {
  private final ActorSystem<Void> cpuSystem;
  private final List<ActorSystem<Void>> gpuSystems = new ArrayList<>();
  private final NodeRoles.CpuRefs cpuRefs;
  private final List<ActorRef<Object>> gpuNodes = new ArrayList<>();

  /**
   * Starts the nodes and waits (bounded) until every member is Up.
   *
   * @param devicesPerNode devices on GPU node k (k = 1..gpuNodes; at least 1 each)
   */
  ScenarioCluster(Config base, int gpuNodes, Map<Integer, Integer> devicesPerNode, ModelSwitches switches,
      ModelClock clock, Link link, Duration upTimeout, EmbeddedCluster.SystemFactory factory) {
    cpuSystem = factory.create(EmbeddedCluster.SYSTEM_NAME, nodeConfig(base, "cpu"));
    try {
      Cluster cpuCluster = Cluster.get(cpuSystem);
      Address seed = cpuCluster.selfMember().address();
      cpuCluster.manager().tell(Join.create(seed));
      cpuRefs = NodeRoles.startCpu(cpuSystem, switches, clock, link);
      for (int k = 1; k <= gpuNodes; k++) {
        ActorSystem<Void> g = factory.create(EmbeddedCluster.SYSTEM_NAME, nodeConfig(base, "gpu"));
        gpuSystems.add(g);
        Cluster.get(g).manager().tell(Join.create(seed));
        ActorRef<Object> local = NodeRoles.startGpu(g, k, Math.max(1, devicesPerNode.getOrDefault(k, 1)), switches,
            clock, link);
        // Seen from the CPU node's system (a remote ref), so asks from the controller go over Artery and their
        // temporary reply actors live in the controller's system (as EmbeddedCluster does).
        this.gpuNodes.add(ActorRefResolver.get(cpuSystem).resolveActorRef(
            ActorRefResolver.get(g).toSerializationFormat(local)));
      }
      awaitUp(1 + gpuNodes, upTimeout);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private static Config nodeConfig(Config base, String role) {
    return ConfigFactory.parseMap(Map.of(
            "pekko.remote.artery.canonical.port", 0,
            "pekko.remote.artery.canonical.hostname", "127.0.0.1",
            "pekko.cluster.roles", List.of(role)))
        .withFallback(base);
  }

  private void awaitUp(int members, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      boolean allSee = countUp(cpuSystem) == members;
      for (ActorSystem<Void> g : gpuSystems) allSee &= countUp(g) == members;
      if (allSee) return;
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("cluster not formed: " + countUp(cpuSystem) + " of " + members
            + " members Up after " + timeout.toMillis() + " ms");
      }
      try {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the cluster to form");
      }
    }
  }

  private static long countUp(ActorSystem<?> s) {
    long up = 0;
    for (var m : Cluster.get(s).state().getMembers()) if (m.status() == MemberStatus.up()) up++;
    return up;
  }

  @Override
  public ActorSystem<?> controlSystem() { return cpuSystem; }

  @Override
  public ActorRef<?> cpu() { return cpuRefs.cpu(); }

  @Override
  public ActorRef<?> gpu(int k) { return gpuNodes.get(k - 1); }

  @Override
  public int gpuCount() { return gpuNodes.size(); }

  @Override
  public ActorRef<Object> checker() { return cpuRefs.checker(); }

  @Override
  public int processes() { return 1; }

  @Override
  public void close() {
    List<ActorSystem<Void>> all = new ArrayList<>(gpuSystems);
    if (cpuSystem != null) all.add(cpuSystem);
    for (ActorSystem<Void> s : all) s.terminate();
    for (ActorSystem<Void> s : all) {
      try {
        s.getWhenTerminated().toCompletableFuture().get(15, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // a system that does not stop in time is abandoned; the JVM exit takes it down
      }
    }
  }
}
