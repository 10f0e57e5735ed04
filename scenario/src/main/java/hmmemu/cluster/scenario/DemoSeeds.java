package hmmemu.cluster.scenario;

import hmmemu.sim.SimExperiment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * Not a kernel structure: the headline demo workload x N seeds in the simulator ({@code hmm-emu demo --sim --seeds N},
 * the demo-seeds test of issue 12). Each seed runs every selected arm on fresh simulators ({@link SimDemoArm#run}, what
 * {@code demo --sim --seed S} runs) and is judged as the single-seed demo judges its arms: no violation, every lane
 * finished, the checker caught up, the counters hold every increment ({@link SimExperiment.Result#ok}). A seed's result
 * depends on the seed alone: seeds run on several threads and come back in seed order, so the figures do not depend
 * on the thread count.
 */
public final class DemoSeeds {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private DemoSeeds() {}

  /** Runs one arm ("kernel", "early-unlock") with one seed. */
  @FunctionalInterface
  public interface ArmRunner {
    /** Arm {@code arm} of the workload with {@code seed}, on a fresh simulator. */
    SimExperiment.Result run(String arm, long seed);
  }

  /**
   * One arm of one seed, judged, reduced to the figures a summary adds up (the run's histograms and trace are not
   * kept: a thousand seeds would hold them all). {@code violations}: the checker's, plus the liveness verdict of an
   * unfinished run or the exception a run threw.
   */
  public record Arm(String arm, boolean ok, List<String> violations, long cpuAtomics, long gpuAtomics,
      long gpuCancelled, long finalValue, long expectedValue, long faultsHandled, long driverTimeouts,
      long driverIterations, long traceEvents, long modelMicros, long traceHash, long[] gpuLatencies) {
    /** The arm's figures from a finished (or unfinished) run. */
    static Arm of(String arm, SimExperiment.Result r) {
      List<String> v = new ArrayList<>(r.violations());
      if (!r.finished()) {
        v.add(r.liveness() != null ? r.liveness()
            : "the workload did not finish within the model-time or event bound (at " + r.modelMicros() + " model µs)");
      }
      if (!r.checkerCaughtUp()) v.add("the checker did not judge every event");
      if (r.finalValue() != r.expectedValue()) {
        v.add("lost increment: final " + r.finalValue() + " / expected " + r.expectedValue());
      }
      return new Arm(arm, r.ok(), List.copyOf(v), r.cpuAtomics(), r.gpuAtomics(), r.gpuCancelled(), r.finalValue(),
          r.expectedValue(), r.faultsHandled(), r.driverTimeouts(), r.driverIterations(), r.traceEvents(), r.modelMicros(), r.traceHash(),
          latencies(r.gpuLatency()));
    }

    /** An arm whose run threw: a failure with the exception as its violation. */
    static Arm threw(String arm, RuntimeException e) {
      return new Arm(arm, false, List.of("the run threw " + e), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, new long[0]);
    }
  }

  /** One seed's arms in the order selected; {@code cpuNanos}: the CPU time of the thread that ran them (not a result). */
  public record Seed(long seed, List<Arm> arms, long cpuNanos) {
    /** Every arm ok. */
    public boolean ok() { return arms.stream().allMatch(Arm::ok); }

    /** What failed, one line ("" when ok). */
    public String why() {
      StringBuilder b = new StringBuilder();
      for (Arm a : arms) {
        if (a.ok()) continue;
        b.append(b.length() > 0 ? "; " : "").append(a.arm()).append(": final ").append(a.finalValue()).append(" / expected ")
            .append(a.expectedValue()).append(", ").append(a.violations().size()).append(" problem(s)");
        if (!a.violations().isEmpty()) b.append(", first: ").append(a.violations().get(0).lines().findFirst().orElse(""));
      }
      return b.toString();
    }
  }

  /** Runs {@code arms} with {@code seed} through {@code runner} and judges them. */
  public static Seed runSeed(List<String> arms, long seed, ArmRunner runner) {
    long cpu0 = THREADS.getCurrentThreadCpuTime();
    List<Arm> out = new ArrayList<>(arms.size());
    for (String a : arms) {
      try {
        out.add(Arm.of(a, runner.run(a, seed)));
      } catch (RuntimeException e) {
        out.add(Arm.threw(a, e));
      }
    }
    return new Seed(seed, List.copyOf(out), THREADS.getCurrentThreadCpuTime() - cpu0);
  }

  /**
   * Runs seeds {@code first..first+n-1} ({@link #runSeed}) on {@code threads} threads (each with a 64 MB stack: the
   * cores recurse) and hands each seed to {@code inOrder} in seed order on the calling thread, a few seeds per thread
   * in flight at once.
   */
  public static void run(List<String> arms, long first, int n, int threads, ArmRunner runner, Consumer<Seed> inOrder) {
    if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(null, r, "demo-seeds", 64L << 20);
      t.setDaemon(true);
      return t;
    });
    try {
      ArrayDeque<Future<Seed>> window = new ArrayDeque<>();
      int next = 0;
      for (int i = 0; i < n; i++) {
        while (next < n && window.size() < 4 * threads) {
          long seed = first + next++;
          window.add(pool.submit(() -> runSeed(arms, seed, runner)));
        }
        Seed s;
        try {
          s = window.poll().get();
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RuntimeException re) throw re;
          if (e.getCause() instanceof Error er) throw er;
          throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while seeds ran", e);
        }
        inOrder.accept(s);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** The line that replays {@code seed}: {@code hmm-emu demo --sim --seed S --arms A} and {@code flags} (leading space). */
  public static String replayLine(long seed, List<String> arms, String flags) {
    return "hmm-emu demo --sim --seed " + seed + " --arms " + String.join(",", arms) + flags;
  }

  /** One arm's figures added up over the seeds (in seed order; every figure but the pooled latencies is a sum). */
  public static final class ArmTotals {
    public final String arm;
    public long seeds, failedSeeds, cpuAtomics, gpuAtomics, gpuCancelled, seedsWithCancel, faultsHandled,
        driverTimeouts, seedsWithTimeout, driverIterations, traceEvents, modelMicros, modelMicrosMax;
    /** GPU atomic latencies of every seed pooled (model µs). */
    public final Histogram gpuLatency = new Histogram(3_600_000_000L, 3);

    ArmTotals(String arm) { this.arm = arm; }

    /** Adds one seed's run of this arm. */
    void add(Arm a) {
      seeds++;
      if (!a.ok()) failedSeeds++;
      cpuAtomics += a.cpuAtomics();
      gpuAtomics += a.gpuAtomics();
      gpuCancelled += a.gpuCancelled();
      if (a.gpuCancelled() > 0) seedsWithCancel++;
      faultsHandled += a.faultsHandled();
      driverTimeouts += a.driverTimeouts();
      if (a.driverTimeouts() > 0) seedsWithTimeout++;
      driverIterations += a.driverIterations();
      traceEvents += a.traceEvents();
      modelMicros += a.modelMicros();
      modelMicrosMax = Math.max(modelMicrosMax, a.modelMicros());
      for (long v : a.gpuLatencies()) gpuLatency.recordValue(Math.min(v, gpuLatency.getHighestTrackableValue()));
    }

    /** Pooled GPU atomic latency percentile {@code q} (model µs; 0 with no GPU atomic). */
    public long gpuLatencyPercentile(double q) {
      return gpuLatency.getTotalCount() == 0 ? 0 : gpuLatency.getValueAtPercentile(q);
    }
  }

  /**
   * The seeds' results added up in seed order: per arm ({@link ArmTotals}), the failing seeds, the trace events, a
   * hash over every arm's trace hash in seed order (the same seeds give the same hash on any thread count) and the
   * CPU time the seeds took (a time: not part of the result).
   */
  public static final class Summary implements Consumer<Seed> {
    public final Map<String, ArmTotals> arms = new LinkedHashMap<>();
    public final List<Seed> failing = new ArrayList<>();
    public long seeds, traceEvents, cpuNanos;
    private long hash = 0x1234_5678_9abc_def0L;

    /** Totals for {@code arms}, in that order. */
    public Summary(List<String> arms) {
      for (String a : arms) this.arms.put(a, new ArmTotals(a));
    }

    /** Adds one seed (call in seed order: the hash depends on it). */
    @Override
    public void accept(Seed s) {
      seeds++;
      cpuNanos += s.cpuNanos();
      if (!s.ok()) failing.add(s);
      for (Arm a : s.arms()) {
        arms.get(a.arm()).add(a);
        traceEvents += a.traceEvents();
        hash = Long.rotateLeft(hash ^ a.traceHash(), 31) * 0x9E3779B97F4A7C15L;
      }
    }

    /** The hash over every arm's trace hash in seed order. */
    public long traceHash() { return hash; }
  }

  /** The GPU atomic latencies a run recorded (model µs; the histogram's values, 3 significant digits). */
  static long[] latencies(Histogram h) {
    long[] out = new long[(int) h.getTotalCount()];
    int i = 0;
    for (HistogramIterationValue v : h.recordedValues()) {
      for (long c = 0; c < v.getCountAtValueIteratedTo(); c++) out[i++] = h.highestEquivalentValue(v.getValueIteratedTo());
    }
    return out;
  }
}
