package hmmemu.cluster.demo;

import hmmemu.protocol.msg.Ids;

import com.typesafe.config.Config;
import hmmemu.checker.Violation;
import hmmemu.cluster.ClusterHandle;
import hmmemu.cluster.ControlClient;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.check.CheckerActor;
import hmmemu.node.link.Link;
import hmmemu.node.ModelClock;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The headline experiment (issue 2): CPU threads and GPU warps on two GPU nodes all atomically increment the same
 * few 64-bit counters in shared anonymous pages; one arm per model switch set, each on a fresh embedded cluster.
 */
public final class Experiment {
  /** The process whose pages the counters live in. */
  public static final int MM = 1;
  /** Where the counter pages are mapped. */
  public static final long BASE = 0x7f00_0000_0000L;

  /** One arm's figures (the JSON "runs" entries). */
  public record RunResult(String name, long cpuAtomics, long gpuAtomics, long gpuCancelled, long finalValue,
      long expectedValue, double faultRoundsPerGpuAtomic, double driverIterationsMean, long driverIterationsMax,
      long driverTimeouts, long invalidations, double gpuAtomicLatencyP50Micros, double gpuAtomicLatencyP99Micros,
      List<String> violations, long wallMillis, long eventsChecked, boolean checkerCaughtUp, int gpuNodesLost,
      long gpuUnconfirmed, long cpuFaults, double cpuAtomicLatencyP50Micros, double cpuAtomicLatencyP99Micros,
      Totals totals) {
    /**
     * No violation, the checker caught up, and the counters hold every acknowledged increment: exactly, unless GPU
     * nodes were lost; then the accesses of a lost node's warps that had not reported (no WarpDone) are unconfirmed
     * (any of them may have reached the CPU node's folio, as DeviceMemoryAccess, before the node died), so the sum
     * lies in [expected, expected + gpuUnconfirmed].
     */
    public boolean ok() {
      return violations.isEmpty() && checkerCaughtUp && finalValue >= expectedValue
          && finalValue <= expectedValue + gpuUnconfirmed;
    }

    /** The figures without a lost node (the shape of issue 2's runs). */
    public RunResult(String name, long cpuAtomics, long gpuAtomics, long gpuCancelled, long finalValue,
        long expectedValue, double faultRoundsPerGpuAtomic, double driverIterationsMean, long driverIterationsMax,
        long driverTimeouts, long invalidations, double gpuAtomicLatencyP50Micros, double gpuAtomicLatencyP99Micros,
        List<String> violations, long wallMillis, long eventsChecked, boolean checkerCaughtUp) {
      this(name, cpuAtomics, gpuAtomics, gpuCancelled, finalValue, expectedValue, faultRoundsPerGpuAtomic,
          driverIterationsMean, driverIterationsMax, driverTimeouts, invalidations, gpuAtomicLatencyP50Micros,
          gpuAtomicLatencyP99Micros, violations, wallMillis, eventsChecked, checkerCaughtUp, 0, 0, 0, 0, 0,
          Totals.NONE);
    }
  }

  /**
   * The raw sums and latency histograms behind an arm's figures, so that several runs (seeds) can be pooled
   * ({@code hmm-emu sweep --repeats}): GPU fault rounds, driver-loop iterations and handled faults summed over the
   * devices; GPU and CPU atomic latency in model µs.
   */
  public record Totals(long faultRounds, long driverIterations, long faultsHandled, Histogram gpuLatency,
      Histogram cpuLatency) {
    static final Totals NONE = new Totals(0, 0, 0, new Histogram(3), new Histogram(3));
  }

  private Experiment() {}

  /**
   * What a run reports besides its figures (docs/OBSERVABILITY.md): {@code recorder} is attached to the checker for
   * the run (null: none) and {@code onOpDone} is called as each CPU or GPU operation completes (progress).
   */
  public record Hooks(hmmemu.report.RunRecorder recorder, Runnable onOpDone) {
    public static final Hooks NONE = new Hooks(null, () -> {});
  }

  /** Operations one arm issues: CPU threads x ops, GPU nodes x warps x ops. */
  public static long operations(HmmEmuSettings.Demo d) {
    return (long) d.cpuThreads() * d.opsPerThread() + (long) d.gpuNodes() * d.warpsPerDevice() * d.opsPerWarp();
  }

  /** Virtual address of counter c: counters are spread round-robin over the pages, 8 bytes apart within a page. */
  public static long counterVa(int c, int pages) {
    return BASE + (long) (c % pages) * Page.SIZE + (long) (c / pages) * Long.BYTES;
  }

  /** Runs one arm on a fresh embedded cluster of 1 CPU node and {@code demo.gpuNodes()} GPU nodes. */
  public static RunResult runArm(String name, HmmEmuSettings settings, ModelSwitches switches, Link link) {
    return runArm(name, settings, switches, link, Hooks.NONE);
  }

  /** As above, with a recorder attached to the checker for the run and a progress callback. */
  public static RunResult runArm(String name, HmmEmuSettings settings, ModelSwitches switches, Link link, Hooks hooks) {
    ModelClock clock = ModelClock.scaledWall(settings.timeScale);
    Config base = settings.config;
    long started = System.nanoTime();
    try (EmbeddedCluster cluster = EmbeddedCluster.start(base, settings.demo.gpuNodes(), switches, clock, link,
        Duration.ofSeconds(30))) {
      if (hooks.recorder() != null) hooks.recorder().origin(clock.nowMicros());
      hmmemu.cluster.check.Recording.attach(cluster, hooks.recorder());
      RunResult r = run(name, settings, cluster, started, () -> {}, hooks.onOpDone());
      if (hooks.recorder() != null) hmmemu.cluster.check.Recording.detach(cluster);
      return r;
    }
  }

  /** Runs the workload on a cluster that is already Up (embedded or of separate processes). */
  public static RunResult run(String name, HmmEmuSettings settings, ClusterHandle cluster, long startedNanos) {
    return run(name, settings, cluster, startedNanos, () -> {});
  }

  /**
   * As {@link #run(String, HmmEmuSettings, ClusterHandle, long)}, calling {@code onWorkloadStart} once the devices
   * are bound and the counters mapped, right before the first increment is issued (a fault schedule starts there).
   */
  public static RunResult run(String name, HmmEmuSettings settings, ClusterHandle cluster, long startedNanos,
      Runnable onWorkloadStart) {
    return run(name, settings, cluster, startedNanos, onWorkloadStart, () -> {});
  }

  /** As above, calling {@code onOpDone} as each CPU or GPU operation completes (progress). */
  public static RunResult run(String name, HmmEmuSettings settings, ClusterHandle cluster, long startedNanos,
      Runnable onWorkloadStart, Runnable onOpDone) {
    HmmEmuSettings.Demo d = settings.demo;
    long started = startedNanos;
    {
      ControlClient client = new ControlClient(cluster.controlSystem(), d.runTimeout());
      ActorRef<?> cpu = cluster.cpu();
      List<Integer> devices = new ArrayList<>();
      for (int k = 1; k <= d.gpuNodes(); k++) {
        int dev = Ids.deviceId(k, 0);
        devices.add(dev);
        expect(client.call(cluster.gpu(k),
            new HmmProtocol.BindMm(client.nextReqId(), dev, MM, DriverFlavour.NOUVEAU)), HmmProtocol.MmBound.class);
      }
      HmmProtocol.Msg mm = client.call(cpu, new HmmProtocol.Syscall(client.nextReqId(), MM,
          HmmProtocol.SyscallKind.MMAP, BASE, d.counterPages() * Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, 0));
      if (!(mm instanceof HmmProtocol.SyscallDone sd) || sd.errno() != Errno.OK) {
        throw new IllegalStateException("mmap of the counter pages failed: " + mm);
      }
      for (int c = 0; c < d.counters(); c++) {
        expect(client.call(cpu, new HmmProtocol.CpuAccess(client.nextReqId(), 0, MM, counterVa(c, d.counterPages()),
            Access.WRITE, 0)), HmmProtocol.CpuAccessDone.class);
      }

      AtomicLong cpuDone = new AtomicLong();
      AtomicLong gpuDone = new AtomicLong();
      AtomicLong gpuCancelled = new AtomicLong();
      AtomicLong faultRounds = new AtomicLong();
      AtomicLong gpuUnconfirmed = new AtomicLong();
      AtomicLong cpuFaults = new AtomicLong();
      // CPU atomic latency on the CPU node (issue to completion, model µs; CpuThreadDone.latencyMicros).
      Histogram cpuLatency = new Histogram(3_600_000_000L, 3);
      NodeWatch watch = NodeWatch.start(cluster);
      onWorkloadStart.run();
      // The GPU nodes the workload runs on (a node restarted mid-run is a new member the workload does not use).
      List<ActorRef<?>> gpuRefs = new ArrayList<>();
      Histogram latency = new Histogram(3_600_000_000L, 3);
      List<CompletableFuture<Void>> lanes = new ArrayList<>();
      for (int t = 0; t < d.cpuThreads(); t++) {
        SplittableRandom rng = new SplittableRandom(d.seed() * 1_000_003L + t);
        int thread = t + 1;
        if (d.opsPerThread() == 0) continue;
        // The thread's loop runs on the CPU node (HmmProtocol.CpuThreadRun), as a user thread runs on its CPU: one
        // controller message starts it, one reports it done; no transport round trip between two of its accesses.
        // With cpu-spin the thread spins on its counter between increments; after the last one it stops. With
        // cpu-think it works that long (model time, a CPU node timer) between an increment and the next.
        List<Long> vas = new ArrayList<>(d.opsPerThread());
        for (int i = 0; i < d.opsPerThread(); i++) vas.add(counterVa(rng.nextInt(d.counters()), d.counterPages()));
        lanes.add(client.ask(cpu, new HmmProtocol.CpuThreadRun(client.nextReqId(), thread, MM, vas, Access.ATOMIC, 1,
            d.cpuSpin(), d.cpuThinkMicros())).thenAccept(r -> {
              HmmProtocol.CpuThreadDone done = expect(r, HmmProtocol.CpuThreadDone.class);
              if (done.errno() != Errno.OK) throw new IllegalStateException("CPU thread " + thread + ": " + done);
              cpuDone.addAndGet(done.ops());
              for (int i = 0; i < done.ops(); i++) onOpDone.run();
              cpuFaults.addAndGet(done.faults());
              synchronized (cpuLatency) {
                for (long micros : done.latencyMicros()) {
                  cpuLatency.recordValue(Math.min(Math.max(0, micros), cpuLatency.getHighestTrackableValue()));
                }
              }
            }).toCompletableFuture());
      }
      for (int k = 0; k < devices.size(); k++) {
        int dev = devices.get(k);
        ActorRef<?> gpu = cluster.gpu(k + 1);
        gpuRefs.add(gpu);
        CompletableFuture<Void> gone = watch.gone(gpu);
        for (int w = 0; w < d.warpsPerDevice(); w++) {
          SplittableRandom rng = new SplittableRandom(d.seed() * 7_000_003L + dev * 4096L + w);
          if (d.opsPerWarp() == 0) continue;
          int warp = w;
          // The warp's loop runs on the GPU node (HmmProtocol.WarpRun), as a warp runs on its device: one controller
          // message starts it, one reports it done; each access is issued when the previous one completed or was
          // cancelled, with no transport round trip in between.
          List<Long> vas = new ArrayList<>(d.opsPerWarp());
          for (int i = 0; i < d.opsPerWarp(); i++) vas.add(counterVa(rng.nextInt(d.counters()), d.counterPages()));
          lanes.add(warpLane(d.opsPerWarp(), gone, gpuUnconfirmed, client.ask(gpu, new HmmProtocol.WarpRun(
              client.nextReqId(), dev, warp, MM, vas, Access.ATOMIC, 1)).thenAccept(r -> {
                HmmProtocol.WarpDone done = expect(r, HmmProtocol.WarpDone.class);
                for (int i = 0; i < done.errnos().size(); i++) onOpDone.run();
                gpuDone.addAndGet(done.completed());
                gpuCancelled.addAndGet(done.cancelled());
                faultRounds.addAndGet(done.faultRounds());
                synchronized (latency) {
                  for (int i = 0; i < done.errnos().size(); i++) {
                    if (done.errnos().get(i) == Errno.OK) latency.recordValue(Math.max(0, done.latencyMicros().get(i)));
                  }
                }
              })));
        }
      }
      try {
        CompletableFuture.allOf(lanes.toArray(new CompletableFuture[0]))
            .get(d.runTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        watch.stop();
        throw new IllegalStateException("arm '" + name + "' did not finish within " + d.runTimeout().toSeconds()
            + " s: " + e);
      }

      long finalValue = 0;
      for (int c = 0; c < d.counters(); c++) {
        long va = counterVa(c, d.counterPages());
        HmmProtocol.PageInfo p = expect(client.call(cpu, new HmmProtocol.InspectPage(client.nextReqId(), MM, va)),
            HmmProtocol.PageInfo.class);
        int w = Page.wordIndex(va);
        finalValue += w < p.words().size() ? p.words().get(w) : (w == 0 ? p.word0() : 0);
      }
      long iterations = 0, iterMax = 0, timeouts = 0, invalidations = 0, handled = 0;
      int lost = 0;
      for (int k = 0; k < devices.size(); k++) {
        if (watch.gone(gpuRefs.get(k)).isDone()) {
          lost++; // a removed node answers nothing; its counters died with it
          continue;
        }
        HmmProtocol.DeviceInfo info = expect(client.call(gpuRefs.get(k),
            new HmmProtocol.InspectDevice(client.nextReqId(), devices.get(k))), HmmProtocol.DeviceInfo.class);
        iterations += info.driverIterations();
        iterMax = Math.max(iterMax, info.driverIterationsMax());
        timeouts += info.driverTimeouts();
        invalidations += info.invalidations();
        handled += info.faultsHandled();
      }
      watch.stop();
      CheckerActor.VerdictReply verdict = verdict(cluster, client.clock());
      List<String> violations = new ArrayList<>();
      for (Violation v : verdict.violations()) violations.add(v.toString());
      long expected = cpuDone.get() + gpuDone.get();
      return new RunResult(name, cpuDone.get(), gpuDone.get(), gpuCancelled.get(), finalValue, expected,
          gpuDone.get() == 0 ? 0 : (double) faultRounds.get() / gpuDone.get(),
          handled == 0 ? 0 : (double) iterations / handled, iterMax, timeouts, invalidations,
          latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(50),
          latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(99),
          violations, (System.nanoTime() - started) / 1_000_000, verdict.delivered(), verdict.caughtUp(), lost,
          gpuUnconfirmed.get(), cpuFaults.get(),
          cpuLatency.getTotalCount() == 0 ? 0 : cpuLatency.getValueAtPercentile(50),
          cpuLatency.getTotalCount() == 0 ? 0 : cpuLatency.getValueAtPercentile(99),
          new Totals(faultRounds.get(), iterations, handled, latency, cpuLatency));
    }
  }

  /** Waits (bounded) until the checker has delivered every event the controller has seen, then takes its verdict. */
  static CheckerActor.VerdictReply verdict(ClusterHandle cluster, long[] until) {
    try {
      return AskPattern.<Object, CheckerActor.VerdictReply>ask(cluster.checker(),
              replyTo -> new CheckerActor.Verdict(until, replyTo), Duration.ofSeconds(30),
              cluster.controlSystem().scheduler())
          .toCompletableFuture().get(31, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the invariant checker did not catch up within 30 s: " + e);
    }
  }

  /**
   * A warp's loop (WarpRun) on a GPU node, ending early when Pekko Cluster removes the node ({@code gone}) before
   * its WarpDone came: then none of its {@code ops} accesses is confirmed (any of them may have reached the CPU
   * node's folio before the node died) and all count in {@code unconfirmed}.
   */
  static CompletableFuture<Void> warpLane(int ops, CompletableFuture<Void> gone, AtomicLong unconfirmed,
      java.util.concurrent.CompletionStage<Void> run) {
    CompletableFuture<Void> one = run.toCompletableFuture();
    CompletableFuture<Void> either = new CompletableFuture<>();
    one.whenComplete((v, e) -> {
      if (e == null) either.complete(null); else if (!gone.isDone()) either.completeExceptionally(e);
    });
    gone.whenComplete((v, e) -> {
      if (!one.isDone() && either.complete(null)) unconfirmed.addAndGet(ops);
      else if (one.isCompletedExceptionally()) either.complete(null);
    });
    return either;
  }

  /**
   * Which GPU nodes Pekko Cluster has downed or removed, as the controller's system (a cluster member in both the
   * embedded and the multi-process cluster) sees its membership: the Split Brain Resolver's decision, not a
   * timeout of ours. The membership state is read every 100 ms (no messages, so nothing to serialize).
   */
  static final class NodeWatch {
    private final java.util.Map<org.apache.pekko.actor.Address, CompletableFuture<Void>> gone =
        new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Set<org.apache.pekko.actor.Address> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private java.util.concurrent.ScheduledExecutorService poller;

    static NodeWatch start(ClusterHandle cluster) {
      NodeWatch w = new NodeWatch();
      org.apache.pekko.cluster.typed.Cluster c = org.apache.pekko.cluster.typed.Cluster.get(cluster.controlSystem());
      w.poller = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "experiment-node-watch");
        t.setDaemon(true);
        return t;
      });
      w.poller.scheduleWithFixedDelay(() -> {
        java.util.Map<org.apache.pekko.actor.Address, org.apache.pekko.cluster.MemberStatus> now = new java.util.HashMap<>();
        for (org.apache.pekko.cluster.Member m : c.state().getMembers()) now.put(m.address(), m.status());
        for (var e : w.gone.entrySet()) {
          org.apache.pekko.cluster.MemberStatus st = now.get(e.getKey());
          if (st != null) w.seen.add(e.getKey());
          boolean down = st == org.apache.pekko.cluster.MemberStatus.down()
              || st == org.apache.pekko.cluster.MemberStatus.removed()
              || (st == null && w.seen.contains(e.getKey()));
          if (down) e.getValue().complete(null);
        }
      }, 0, 100, TimeUnit.MILLISECONDS);
      return w;
    }

    /** Completes when the node hosting {@code node} is downed or removed (after it was seen as a member). */
    CompletableFuture<Void> gone(ActorRef<?> node) {
      return gone.computeIfAbsent(node.path().address(), x -> new CompletableFuture<>());
    }

    void stop() { poller.shutdownNow(); }
  }

  static <T> T expect(HmmProtocol.Msg m, Class<T> type) {
    if (!type.isInstance(m)) throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + m);
    return type.cast(m);
  }
}
