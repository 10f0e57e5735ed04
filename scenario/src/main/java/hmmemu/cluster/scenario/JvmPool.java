package hmmemu.cluster.scenario;

import hmmemu.cluster.ProcessCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Node JVMs that consecutive scenario files reuse ({@code hmm-emu cluster --scenario} over several files; docs/
 * SCENARIOS.md "Across separate JVMs"): a file that {@link #reusable may reuse them} runs on the cluster the file
 * before left, moved to a new node incarnation ({@link ProcessCluster#reincarnate}: new node actors, checker, links,
 * keys, with the file's kernel profile, time scale, lanes and devices), when it needs as many GPU node JVMs with the
 * same child arguments and every child is as it was started; otherwise the pool's cluster is closed and a fresh one
 * started. A file that crashes, restarts or freezes a node, or has a faults block, always gets a fresh cluster of
 * its own, closed after it. An emulator-only host mechanism.
 */
public final class JvmPool implements AutoCloseable {
  /** What node JVMs must share to be reused: the GPU node JVMs and the children's arguments. */
  private record Key(int gpus, List<String> childArgs) {}

  private ProcessCluster cluster;
  private Key key;
  private long epoch;
  private int starts;
  private int reuses;
  /** Runs on reused node JVMs by every pool of this JVM (a test reads it around a CLI run made in its own JVM). */
  private static final java.util.concurrent.atomic.AtomicLong REUSES_IN_THIS_JVM = new java.util.concurrent.atomic.AtomicLong();
  /** Whether a run holds the pool's cluster (from {@link #acquire} to {@link #release}). */
  private boolean leased;

  /**
   * Whether {@code s} may run on reused node JVMs: it has no faults block (its link faults and process signals act
   * on the JVMs) and no crash or restart step (they change the cluster's members).
   */
  public static boolean reusable(Scenario s) {
    if (!s.faults().entries().isEmpty()) return false;
    for (Scenario.Step step : s.steps()) if (changesMembers(step)) return false;
    return true;
  }

  private static boolean changesMembers(Scenario.Step s) {
    if (s.action() instanceof Scenario.ConcurrentOp c) {
      for (Scenario.Step inner : c.steps()) if (changesMembers(inner)) return true;
      return false;
    }
    return s.action() instanceof Scenario.CrashOp || s.action() instanceof Scenario.RestartOp;
  }

  /** A cluster for one run and the node incarnation it is in. */
  record Lease(ProcessCluster cluster, long epoch) {}

  /** {@code pool}'s cluster for {@code scenario} ({@link #acquire}), or (pool null) a fresh one of its own. */
  static Lease lease(JvmPool pool, Scenario scenario, ScenarioRunner.Options options, int gpus,
      Map<Integer, Integer> devicesPerNode) {
    if (pool != null) return pool.acquire(scenario, options, gpus, devicesPerNode);
    return new Lease(JvmLinkTap.startCluster(scenario, options, gpus, devicesPerNode), 0);
  }

  /**
   * The cluster {@code scenario} runs on: the pool's, moved to a new incarnation, if it fits; else a fresh one
   * (which becomes the pool's). Throws when no cluster could be started.
   */
  synchronized Lease acquire(Scenario scenario, ScenarioRunner.Options options, int gpus,
      Map<Integer, Integer> devicesPerNode) {
    Key k = new Key(gpus, options.jvms().childArgs());
    if (leased) { // a run started while another holds the pool's JVMs (a start ahead): JVMs of its own
      starts++;
      return new Lease(JvmLinkTap.startCluster(scenario, options, gpus, devicesPerNode), 0);
    }
    if (cluster != null && k.equals(key) && cluster.reusable()) {
      try {
        cluster.reincarnate(epoch + 1, scenario.switches().kernelProfile(), JvmLinkTap.sets(scenario, options),
            devicesPerNode, bound(options));
        epoch++;
        reuses++;
        REUSES_IN_THIS_JVM.incrementAndGet();
        leased = true;
        return new Lease(cluster, epoch);
      } catch (RuntimeException e) {
        System.err.println(scenario.file() + ": the node JVMs could not be reused, starting new ones: " + e.getMessage());
      }
    }
    closeCluster();
    cluster = JvmLinkTap.startCluster(scenario, options, gpus, devicesPerNode);
    key = k;
    epoch = 0;
    starts++;
    leased = true;
    return new Lease(cluster, 0);
  }

  private static Duration bound(ScenarioRunner.Options options) {
    return options.clusterUpTimeout().compareTo(Duration.ofSeconds(30)) > 0 ? options.clusterUpTimeout() : Duration.ofSeconds(30);
  }

  /** The run on {@code c} is over: it stays for the next file, unless it is not the pool's or not reusable. */
  synchronized void release(ProcessCluster c) {
    if (c != cluster) {
      c.close();
      return;
    }
    leased = false;
    if (!c.reusable()) closeCluster();
  }

  private void closeCluster() {
    if (cluster != null) cluster.close();
    cluster = null;
    key = null;
  }

  /** Clusters this pool started (each one start of its node JVMs). */
  public synchronized int clusterStarts() { return starts; }

  /** Runs that reused the node JVMs of the run before. */
  public synchronized int reuses() { return reuses; }

  /** Runs on reused node JVMs by every pool of this JVM so far. */
  public static long reusesInThisJvm() { return REUSES_IN_THIS_JVM.get(); }

  /** Stops the pool's node JVMs. */
  @Override
  public synchronized void close() { closeCluster(); }
}
