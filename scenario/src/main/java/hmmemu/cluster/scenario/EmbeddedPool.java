package hmmemu.cluster.scenario;

import com.typesafe.config.Config;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.node.ModelClock;
import hmmemu.node.link.Link;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The embedded cluster's ActorSystems that consecutive scenario files reuse (it-tests ScenarioCasesTest; docs/
 * TESTING.md "Session 25: casesreuse"), as {@link JvmPool} keeps node JVMs: a file that {@link #reusable may reuse
 * them} runs on the systems a file before left idle, moved to a new node incarnation ({@link
 * EmbeddedCluster#reincarnate}: new node actors, checker, keys, with the file's kernel profile, devices, clock and its
 * own link stages), when it needs as many GPU nodes and its ActorSystems take the same settings at start (the same
 * base config) and every node is as it was started; otherwise it gets a fresh cluster. A run's cluster goes back to
 * the pool idle (its incarnation's actors stopped, {@link EmbeddedCluster#retire}), replacing the idle one. A file
 * that crashes, restarts or freezes a node, or has a faults block, never takes or leaves one. An emulator-only host
 * mechanism.
 */
public final class EmbeddedPool implements AutoCloseable {
  /** What ActorSystems must share to be reused: the GPU nodes and the config they were started with. */
  private record Key(int gpus, Config base) {}

  private final Executor closer;
  /** The idle cluster (no run on it), its key and the last incarnation it was in; null when none. */
  private EmbeddedCluster idle;
  private Key idleKey;
  /** The key each cluster this pool handed out was made for (a cluster goes back idle under it). */
  private final Map<EmbeddedCluster, Key> keys = new java.util.IdentityHashMap<>();
  private int starts;
  private int reuses;

  /** {@code closer} closes the clusters the pool does not keep (e.g. a thread that closes while the next file runs). */
  public EmbeddedPool(Executor closer) { this.closer = closer; }

  /** Whether {@code s} may run on reused ActorSystems: {@link JvmPool#reusable} (no faults block, crash or restart). */
  public static boolean reusable(Scenario s) { return JvmPool.reusable(s) && !s.crashes(); }

  /** Whether {@code b}'s run may reuse the ActorSystems {@code a}'s run leaves (both with these base configs). */
  public static boolean shares(Scenario a, Config baseA, Scenario b, Config baseB) {
    return reusable(a) && reusable(b) && new Key(a.gpuNodes(), baseA).equals(new Key(b.gpuNodes(), baseB));
  }

  /**
   * The cluster {@code scenario} runs on: the idle one moved to a new incarnation, if it fits; else a fresh one
   * (started as {@link EmbeddedCluster#start} does). Throws when no cluster could be started.
   */
  EmbeddedCluster acquire(Scenario scenario, Config base, Map<Integer, Integer> devicesPerNode, ModelClock clock,
      Link link, ScenarioRunner.Options options) {
    Key k = new Key(scenario.gpuNodes(), base);
    EmbeddedCluster mine = null;
    long epoch = 0;
    synchronized (this) {
      if (idle != null && k.equals(idleKey) && idle.reusable()) {
        mine = idle;
        epoch = idle.epoch() + 1;
        idle = null;
        idleKey = null;
      }
    }
    if (mine != null) {
      try {
        mine.reincarnate(epoch, scenario.switches(), clock, link, devicesPerNode);
        synchronized (this) {
          reuses++;
          keys.put(mine, k);
        }
        return mine;
      } catch (RuntimeException e) {
        System.err.println(scenario.file() + ": the ActorSystems could not be reused, starting new ones: " + e.getMessage());
        closer.execute(mine::close);
      }
    }
    EmbeddedCluster fresh = EmbeddedCluster.start(base, scenario.gpuNodes(), devicesPerNode, scenario.switches(), clock,
        link, options.clusterUpTimeout(), options.factory());
    synchronized (this) {
      starts++;
      keys.put(fresh, k);
    }
    return fresh;
  }

  /**
   * The run on {@code c} (from {@link #acquire}) is over: it becomes the idle cluster if it is {@link
   * EmbeddedCluster#reusable} (the idle one before it is closed on the closer: the next file most likely shares the
   * last one's), else it is closed on the closer.
   */
  void release(EmbeddedCluster c) {
    EmbeddedCluster closed = c;
    synchronized (this) {
      Key k = keys.remove(c);
      if (k != null && c.reusable()) {
        c.retire(); // what the run left running ends now, not when the next file takes the systems
        closed = idle;
        idle = c;
        idleKey = k;
      }
    }
    if (closed != null) closer.execute(closed::close);
  }

  /** Clusters this pool started (each one start of every node's ActorSystem). */
  public synchronized int clusterStarts() { return starts; }

  /** Runs that reused the ActorSystems of a run before. */
  public synchronized int reuses() { return reuses; }

  /** Closes the idle cluster (now, on this thread). */
  @Override
  public void close() {
    EmbeddedCluster c;
    synchronized (this) {
      c = idle;
      idle = null;
      idleKey = null;
    }
    if (c != null) c.close();
  }
}
