package hmmemu.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.node.link.Link;
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
 * 127.0.0.1 and a free port, roles "cpu" and "gpu", joined through the CPU node as seed. The one start-up path of
 * the demo, {@code run} (scenarios, with several devices per GPU node) and the it-tests; every host-device
 * message goes through the given {@link Link} (e.g. a {@code ModeledLink} for latency and faults).
 */
public final class EmbeddedCluster implements ClusterHandle {
  public static final String SYSTEM_NAME = "hmm-emu";

  public final ActorSystem<Void> cpuSystem;
  public final List<ActorSystem<Void>> gpuSystems = new java.util.concurrent.CopyOnWriteArrayList<>();
  public final NodeRoles.CpuRefs cpuRefs;
  public final List<ActorRef<Object>> gpuNodes = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** GPU node k's actor as a local ref of its own system (index k-1), for controllers that outlive the CPU node. */
  private final List<ActorRef<Object>> gpuLocalRefs = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** What a restarted GPU node is made of (kept from start). */
  private Config restartBase;
  private ModelSwitches restartSwitches;
  private ModelClock restartClock;
  private Link restartLink;
  private SystemFactory restartFactory;
  private final Map<Integer, hmmemu.node.link.Freeze> freezes = new java.util.concurrent.ConcurrentHashMap<>();
  private Address restartSeed;

  /** Creates one node's ActorSystem from its config (tests pass ActorTestKit-made systems). */
  @FunctionalInterface
  public interface SystemFactory {
    ActorSystem<Void> create(String name, Config config);

    SystemFactory PLAIN = (name, config) -> ActorSystem.create(Behaviors.empty(), name, config);
  }

  private EmbeddedCluster(Config base, int gpuNodeCount, Map<Integer, Integer> devicesPerNode, ModelSwitches switches,
      ModelClock clock, Link link, Duration upTimeout, SystemFactory factory) {
    cpuSystem = factory.create(SYSTEM_NAME, nodeConfig(base, "cpu"));
    try {
      Cluster cpuCluster = Cluster.get(cpuSystem);
      Address seed = cpuCluster.selfMember().address();
      restartBase = base;
      restartSwitches = switches;
      restartClock = clock;
      restartLink = link;
      restartFactory = factory;
      restartSeed = seed;
      cpuCluster.manager().tell(Join.create(seed));
      cpuRefs = NodeRoles.startCpu(cpuSystem, switches, clock, link);
      for (int k = 1; k <= gpuNodeCount; k++) {
        ActorSystem<Void> g = factory.create(SYSTEM_NAME, nodeConfig(base, "gpu"));
        gpuSystems.add(g);
        Cluster.get(g).manager().tell(Join.create(seed));
        hmmemu.node.link.Freeze freeze = new hmmemu.node.link.Freeze();
        freezes.put(k, freeze);
        ActorRef<Object> local = NodeRoles.startGpu(g, k, Math.max(1, devicesPerNode.getOrDefault(k, 1)), switches,
            clock, link, freeze);
        gpuLocalRefs.add(local);
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
    return new EmbeddedCluster(base, gpuNodes, Map.of(), switches, clock, link, upTimeout, SystemFactory.PLAIN);
  }

  /** As {@link #start}, creating each node's ActorSystem with {@code factory}. */
  public static EmbeddedCluster start(Config base, int gpuNodes, ModelSwitches switches, ModelClock clock, Link link,
      Duration upTimeout, SystemFactory factory) {
    return new EmbeddedCluster(base, gpuNodes, Map.of(), switches, clock, link, upTimeout, factory);
  }

  /**
   * As {@link #start}, with {@code devicesPerNode.get(k)} devices on GPU node k (device ids k*16 .. k*16+n-1;
   * 1 when absent), as scenarios declare them.
   */
  public static EmbeddedCluster start(Config base, int gpuNodes, Map<Integer, Integer> devicesPerNode,
      ModelSwitches switches, ModelClock clock, Link link, Duration upTimeout, SystemFactory factory) {
    return new EmbeddedCluster(base, gpuNodes, devicesPerNode, switches, clock, link, upTimeout, factory);
  }

  /**
   * One node's config: loopback on a free port, its role, and cluster timers for members that share one JVM. Pekko's
   * defaults (1 s gossip and leader actions, 1 s initial delay, 1 s shutdown flush) are sized for hosts on a network:
   * here they made forming a 3-node cluster take ~2.5 s and closing it ~1 s (the flush waits for peers that are
   * closing at the same time), most of a short scenario file's run. Failure detection and downing keep their settings.
   */
  static Config nodeConfig(Config base, String role) {
    return ConfigFactory.parseMap(Map.of(
            "pekko.remote.artery.canonical.port", 0,
            "pekko.remote.artery.canonical.hostname", "127.0.0.1",
            "pekko.cluster.roles", List.of(role),
            "pekko.cluster.periodic-tasks-initial-delay", "50ms",
            "pekko.cluster.gossip-interval", "100ms",
            "pekko.cluster.leader-actions-interval", "100ms",
            "pekko.remote.artery.advanced.shutdown-flush-timeout", "100ms"))
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

  // ------------------------------------------------------------------------------ crash and restart

  /**
   * A base config under which terminating a node's ActorSystem is a crash, not a graceful leave: coordinated
   * shutdown (whose cluster phases would leave the cluster) does not run on ActorSystem.terminate(), so the other
   * members see the node become unreachable and the Split Brain Resolver downs it, as after a SIGKILL (docs/FAULTS.md).
   */
  public static Config crashable(Config base) {
    return ConfigFactory.parseMap(Map.of("pekko.coordinated-shutdown.run-by-actor-system-terminate", "off"))
        .withFallback(base);
  }

  private static void requireCrashable(ActorSystem<?> system, String what) {
    if (system.settings().config().getBoolean("pekko.coordinated-shutdown.run-by-actor-system-terminate")) {
      throw new IllegalStateException("cannot crash " + what + ": its ActorSystem would leave the cluster gracefully;"
          + " start the cluster with EmbeddedCluster.crashable(config)");
    }
  }

  private static void terminateAbruptly(ActorSystem<Void> system, Duration timeout, String what) {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(what + " did not terminate within " + timeout.toMillis() + " ms: " + e);
    }
  }

  /**
   * Crashes GPU node k: its ActorSystem is terminated without leaving the cluster (no coordinated shutdown), so
   * its actors, in-flight messages and transport vanish at once. Needs a cluster started with {@link #crashable}.
   * Returns once the system is terminated; downing and removal happen later, by Pekko's failure detector and SBR.
   */
  public void crashGpu(int k, Duration timeout) {
    ActorSystem<Void> g = gpuSystems.get(k - 1);
    requireCrashable(g, "GPU node " + k);
    terminateAbruptly(g, timeout, "GPU node " + k);
  }

  /**
   * Freezes GPU node k's actor (the embedded SIGSTOP): it processes nothing (protocol, controller requests, timers)
   * until {@link #resumeGpu}. Hold its link traffic too with the link's pause ({@code ModeledLink.pause(k)}).
   */
  public void pauseGpu(int k) {
    hmmemu.node.link.Freeze f = freezes.get(k);
    if (f == null) throw new IllegalArgumentException("no GPU node " + k + " to pause");
    f.freeze();
  }

  /** Thaws GPU node k (the embedded SIGCONT): it processes what waited, in order. */
  public void resumeGpu(int k) {
    hmmemu.node.link.Freeze f = freezes.get(k);
    if (f == null) throw new IllegalArgumentException("no GPU node " + k + " to resume");
    f.thaw();
  }

  /** Crashes the CPU node (with the checker it hosts) the same way as {@link #crashGpu}. */
  public void crashCpu(Duration timeout) {
    requireCrashable(cpuSystem, "the CPU node");
    terminateAbruptly(cpuSystem, timeout, "the CPU node");
  }

  /**
   * Restarts a crashed GPU node: a new ActorSystem (new incarnation, new port) joins through the CPU node and
   * starts a GPU node with a new node index, gpuCount()+1, whose device ids are that index's (the CPU node keeps
   * the old index's devices gone, and vector clocks and request ids of the new incarnation cannot collide with the
   * old one's). Waits (bounded) until the CPU node sees the new member Up; the drivers register when bound (BindMm).
   *
   * @return the new node index
   */
  public int restartGpu(Duration upTimeout) {
    return restartGpu(1, upTimeout);
  }

  /**
   * As {@link #restartGpu(Duration)}, with {@code devices} devices on the new node (device ids k*16 ..
   * k*16+devices-1), which {@link #pauseGpu} can freeze like the original nodes.
   *
   * @return the new node index
   */
  public synchronized int restartGpu(int devices, Duration upTimeout) {
    int k = gpuNodes.size() + 1;
    ActorSystem<Void> g = restartFactory.create(SYSTEM_NAME, nodeConfig(restartBase, "gpu"));
    gpuSystems.add(g);
    Cluster.get(g).manager().tell(Join.create(restartSeed));
    hmmemu.node.link.Freeze freeze = new hmmemu.node.link.Freeze();
    freezes.put(k, freeze);
    ActorRef<Object> local = NodeRoles.startGpu(g, k, Math.max(1, devices), restartSwitches, restartClock, restartLink,
        freeze);
    gpuLocalRefs.add(local);
    gpuNodes.add(ActorRefResolver.get(cpuSystem).resolveActorRef(ActorRefResolver.get(g).toSerializationFormat(local)));
    Address self = Cluster.get(g).selfMember().address();
    long deadline = System.nanoTime() + upTimeout.toNanos();
    while (true) {
      boolean up = false;
      for (var m : Cluster.get(cpuSystem).state().getMembers()) {
        if (m.address().equals(self) && m.status() == MemberStatus.up()) up = true;
      }
      boolean selfUp = Cluster.get(g).selfMember().status() == MemberStatus.up();
      if (up && selfUp) return k;
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("restarted GPU node " + k + " not Up after " + upTimeout.toMillis() + " ms");
      }
      try {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the restarted GPU node");
      }
    }
  }

  /** GPU node k's ActorSystem. */
  public ActorSystem<Void> gpuSystem(int k) { return gpuSystems.get(k - 1); }

  /** GPU node k's actor as a ref local to its own system (usable when the CPU node's system is gone). */
  public ActorRef<Object> gpuLocal(int k) { return gpuLocalRefs.get(k - 1); }

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
