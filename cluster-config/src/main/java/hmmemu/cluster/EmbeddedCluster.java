package hmmemu.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
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
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * A cluster of one CPU node and N GPU nodes in one JVM: each node its own ActorSystem with Artery TCP on
 * 127.0.0.1 and a free port, roles "cpu" and "gpu", joined through the CPU node as seed.
 */
public final class EmbeddedCluster implements ClusterHandle {
  public static final String SYSTEM_NAME = "hmm-emu";

  public final ActorSystem<Void> cpuSystem;
  public final List<ActorSystem<Void>> gpuSystems = new ArrayList<>();
  public final NodeRoles.CpuRefs cpuRefs;
  public final List<ActorRef<Object>> gpuNodes = new ArrayList<>();

  /** Creates one node's ActorSystem from its config (tests pass ActorTestKit-made systems). */
  @FunctionalInterface
  public interface SystemFactory {
    ActorSystem<Void> create(String name, Config config);

    SystemFactory PLAIN = (name, config) -> ActorSystem.create(Behaviors.empty(), name, config);
  }

  private EmbeddedCluster(Config base, int gpuNodeCount, ModelSwitches switches, ModelClock clock, Link link,
      Duration upTimeout, SystemFactory factory) {
    cpuSystem = factory.create(SYSTEM_NAME, nodeConfig(base, "cpu"));
    try {
      Cluster cpuCluster = Cluster.get(cpuSystem);
      Address seed = cpuCluster.selfMember().address();
      cpuCluster.manager().tell(Join.create(seed));
      cpuRefs = NodeRoles.startCpu(cpuSystem, switches, clock, link);
      for (int k = 1; k <= gpuNodeCount; k++) {
        ActorSystem<Void> g = factory.create(SYSTEM_NAME, nodeConfig(base, "gpu"));
        gpuSystems.add(g);
        Cluster.get(g).manager().tell(Join.create(seed));
        ActorRef<Object> local = NodeRoles.startGpu(g, k, 1, switches, clock, link);
        // Seen from the CPU node's system (a remote ref), so asks from the controller go over Artery and their
        // temporary reply actors live in the controller's system.
        gpuNodes.add(ActorRefResolver.get(cpuSystem).resolveActorRef(ActorRefResolver.get(g).toSerializationFormat(local)));
      }
      awaitUp(1 + gpuNodeCount, upTimeout);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Starts the cluster and waits (bounded) until every member is Up. */
  public static EmbeddedCluster start(Config base, int gpuNodes, ModelSwitches switches, ModelClock clock, Link link,
      Duration upTimeout) {
    return new EmbeddedCluster(base, gpuNodes, switches, clock, link, upTimeout, SystemFactory.PLAIN);
  }

  /** As {@link #start}, creating each node's ActorSystem with {@code factory}. */
  public static EmbeddedCluster start(Config base, int gpuNodes, ModelSwitches switches, ModelClock clock, Link link,
      Duration upTimeout, SystemFactory factory) {
    return new EmbeddedCluster(base, gpuNodes, switches, clock, link, upTimeout, factory);
  }

  static Config nodeConfig(Config base, String role) {
    return ConfigFactory.parseMap(Map.of(
            "pekko.remote.artery.canonical.port", 0,
            "pekko.remote.artery.canonical.hostname", "127.0.0.1",
            "pekko.cluster.roles", List.of(role)))
        .withFallback(base);
  }

  private void awaitUp(int members, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long up = 0;
      for (var m : Cluster.get(cpuSystem).state().getMembers()) if (m.status() == MemberStatus.up()) up++;
      boolean allSee = up == members;
      for (ActorSystem<Void> g : gpuSystems) {
        long upG = 0;
        for (var m : Cluster.get(g).state().getMembers()) if (m.status() == MemberStatus.up()) upG++;
        allSee &= upG == members;
      }
      if (allSee) return;
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("cluster not formed: " + up + " of " + members
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
