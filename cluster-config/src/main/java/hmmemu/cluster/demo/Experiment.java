package hmmemu.cluster.demo;

import com.typesafe.config.Config;
import hmmemu.checker.Violation;
import hmmemu.cluster.ClusterHandle;
import hmmemu.cluster.ControlClient;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.check.CheckerActor;
import hmmemu.node.Link;
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
      List<String> violations, long wallMillis, long eventsChecked, boolean checkerCaughtUp) {
    public boolean ok() { return violations.isEmpty() && finalValue == expectedValue && checkerCaughtUp; }
  }

  private Experiment() {}

  /** Virtual address of counter c: counters are spread round-robin over the pages, 8 bytes apart within a page. */
  public static long counterVa(int c, int pages) {
    return BASE + (long) (c % pages) * Page.SIZE + (long) (c / pages) * Long.BYTES;
  }

  /** Runs one arm on a fresh embedded cluster of 1 CPU node and {@code demo.gpuNodes()} GPU nodes. */
  public static RunResult runArm(String name, HmmEmuSettings settings, ModelSwitches switches, Link link) {
    ModelClock clock = ModelClock.scaledWall(settings.timeScale);
    Config base = settings.config;
    long started = System.nanoTime();
    try (EmbeddedCluster cluster = EmbeddedCluster.start(base, settings.demo.gpuNodes(), switches, clock, link,
        Duration.ofSeconds(30))) {
      return run(name, settings, cluster, started);
    }
  }

  /** Runs the workload on a cluster that is already Up (embedded or of separate processes). */
  public static RunResult run(String name, HmmEmuSettings settings, ClusterHandle cluster, long startedNanos) {
    HmmEmuSettings.Demo d = settings.demo;
    long started = startedNanos;
    {
      ControlClient client = new ControlClient(cluster.controlSystem(), d.runTimeout());
      ActorRef<?> cpu = cluster.cpu();
      List<Integer> devices = new ArrayList<>();
      for (int k = 1; k <= d.gpuNodes(); k++) {
        int dev = k * 16;
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
      Histogram latency = new Histogram(3_600_000_000L, 3);
      List<CompletableFuture<Void>> lanes = new ArrayList<>();
      for (int t = 0; t < d.cpuThreads(); t++) {
        SplittableRandom rng = new SplittableRandom(d.seed() * 1_000_003L + t);
        int thread = t + 1;
        lanes.add(lane(d.opsPerThread(), () -> client.ask(cpu, new HmmProtocol.CpuAccess(client.nextReqId(), thread,
            MM, counterVa(rng.nextInt(d.counters()), d.counterPages()), Access.ATOMIC, 1)).thenAccept(r -> {
              HmmProtocol.CpuAccessDone done = expect(r, HmmProtocol.CpuAccessDone.class);
              if (done.errno() != Errno.OK) throw new IllegalStateException("CPU thread " + thread + ": " + done);
              cpuDone.incrementAndGet();
            })));
      }
      for (int k = 0; k < devices.size(); k++) {
        int dev = devices.get(k);
        ActorRef<?> gpu = cluster.gpu(k + 1);
        for (int w = 0; w < d.warpsPerDevice(); w++) {
          SplittableRandom rng = new SplittableRandom(d.seed() * 7_000_003L + dev * 4096L + w);
          lanes.add(lane(d.opsPerWarp(), () -> client.ask(gpu, new HmmProtocol.DeviceAccess(client.nextReqId(), dev,
              MM, counterVa(rng.nextInt(d.counters()), d.counterPages()), Access.ATOMIC, 1)).thenAccept(r -> {
                HmmProtocol.DeviceAccessDone done = expect(r, HmmProtocol.DeviceAccessDone.class);
                if (done.errno() == Errno.OK) {
                  gpuDone.incrementAndGet();
                  faultRounds.addAndGet(done.faultRounds());
                  synchronized (latency) {
                    latency.recordValue(Math.max(0, done.latencyMicros()));
                  }
                } else {
                  gpuCancelled.incrementAndGet();
                }
              })));
        }
      }
      try {
        CompletableFuture.allOf(lanes.toArray(new CompletableFuture[0]))
            .get(d.runTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
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
      for (int k = 0; k < devices.size(); k++) {
        HmmProtocol.DeviceInfo info = expect(client.call(cluster.gpu(k + 1),
            new HmmProtocol.InspectDevice(client.nextReqId(), devices.get(k))), HmmProtocol.DeviceInfo.class);
        iterations += info.driverIterations();
        iterMax = Math.max(iterMax, info.driverIterationsMax());
        timeouts += info.driverTimeouts();
        invalidations += info.invalidations();
        handled += info.faultsHandled();
      }
      CheckerActor.VerdictReply verdict = verdict(cluster, client.clock());
      List<String> violations = new ArrayList<>();
      for (Violation v : verdict.violations()) violations.add(v.toString());
      long expected = cpuDone.get() + gpuDone.get();
      return new RunResult(name, cpuDone.get(), gpuDone.get(), gpuCancelled.get(), finalValue, expected,
          gpuDone.get() == 0 ? 0 : (double) faultRounds.get() / gpuDone.get(),
          handled == 0 ? 0 : (double) iterations / handled, iterMax, timeouts, invalidations,
          latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(50),
          latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(99),
          violations, (System.nanoTime() - started) / 1_000_000, verdict.delivered(), verdict.caughtUp());
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

  /** Runs {@code ops} operations one after another (each starts when the previous completed). */
  static CompletableFuture<Void> lane(int ops, java.util.function.Supplier<java.util.concurrent.CompletionStage<Void>> op) {
    CompletableFuture<Void> f = CompletableFuture.completedFuture(null);
    if (ops == 0) return f;
    return runFrom(0, ops, op);
  }

  private static CompletableFuture<Void> runFrom(int i, int ops,
      java.util.function.Supplier<java.util.concurrent.CompletionStage<Void>> op) {
    if (i == ops) return CompletableFuture.completedFuture(null);
    return op.get().toCompletableFuture().thenCompose(v -> runFrom(i + 1, ops, op));
  }

  static <T> T expect(HmmProtocol.Msg m, Class<T> type) {
    if (!type.isInstance(m)) throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + m);
    return type.cast(m);
  }
}
