package hmmemu.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.node.link.Link;
import hmmemu.node.ModelClock;
import java.io.PrintStream;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * {@code hmm-emu bench}: issue 11's figures in one run (docs/PERFORMANCE.md says what each measures). Every figure
 * is the median of several repetitions after a warm-up, with min and max; a missed target is printed as MISSED and
 * never changes the exit code. The caller supplies gpuNodes8Ok (the demo's experiment lives in the cli module).
 */
public final class Bench {
  /** What the bench cannot measure by itself. */
  @FunctionalInterface
  public interface Hooks {
    /** Runs the demo's experiment with 8 GPU nodes in this JVM and says whether it was correct. */
    boolean gpuNodes8Ok(boolean quick);
  }

  /** The keys of the JSON object, in order (gpuNodes8Ok is a boolean, the others {median,min,max}). */
  public static final List<String> KEYS = List.of("rawRoundTripsPerSecond", "gpuFaultsPerSecond", "faultToRawRatio",
      "pipelinedFaultToRawRatio", "heapBytesPerPage", "retainedBytesPerCycle", "invalidate1GiBMillis",
      "coreStepsPerSecond", "checkerEventsPerSecond", "gpuNodes8Ok");

  private final Sizes sizes;
  private final Hooks hooks;
  private final PrintStream log;
  private final Map<String, Figure> figures = new LinkedHashMap<>();
  private final Map<String, Map<String, Figure>> nested = new LinkedHashMap<>();
  private Boolean gpuNodes8Ok;
  private String gpuNodes8Note = "";
  /** The steps to run ({@link #STEPS}); empty: all. */
  private final Set<String> only;

  /** The steps {@code --only} may name, in the order the bench runs them, and the figures each takes. */
  public static final Map<String, List<String>> STEPS = stepsInOrder();

  private static Map<String, List<String>> stepsInOrder() {
    Map<String, List<String>> m = new LinkedHashMap<>();
    m.put("cluster", List.of("rawRoundTripsPerSecond", "gpuFaultsPerSecond", "faultToRawRatio",
        "pipelinedFaultToRawRatio"));
    m.put("invalidation", List.of("invalidate1GiBMillis"));
    m.put("heap", List.of("heapBytesPerPage"));
    m.put("retained", List.of("retainedBytesPerCycle"));
    m.put("checker", List.of("checkerEventsPerSecond"));
    m.put("core", List.of("coreStepsPerSecond"));
    m.put("gpu8", List.of("gpuNodes8Ok"));
    return java.util.Collections.unmodifiableMap(m);
  }

  private Bench(Sizes sizes, Hooks hooks, PrintStream log, Set<String> only) {
    this.sizes = sizes;
    this.hooks = hooks;
    this.log = log;
    this.only = only;
  }

  /** Runs the bench with {@code hmm-emu bench}'s sizes; progress goes to {@code log} unless json. Returns 0. */
  public static int run(boolean quick, boolean json, Hooks hooks, PrintStream out) {
    return run(quick, json, Set.of(), hooks, out);
  }

  /**
   * As {@link #run(boolean, boolean, Hooks, PrintStream)}, running only the steps named in {@code only} (keys of
   * {@link #STEPS}; empty: all). The figures of the other steps are printed as not run.
   *
   * @throws IllegalArgumentException naming an unknown step
   */
  public static int run(boolean quick, boolean json, Set<String> only, Hooks hooks, PrintStream out) {
    for (String step : only) {
      if (!STEPS.containsKey(step)) {
        throw new IllegalArgumentException("unknown bench step '" + step + "' (steps: "
            + String.join(", ", STEPS.keySet()) + ")");
      }
    }
    return run(quick ? Sizes.QUICK : Sizes.FULL, json, only, hooks, out);
  }

  /** The smoke configuration (tests): seconds, not a measurement. */
  public static int runSmoke(Hooks hooks, PrintStream out) { return run(Sizes.SMOKE, true, Set.of(), hooks, out); }

  static int run(Sizes sizes, boolean json, Set<String> only, Hooks hooks, PrintStream out) {
    PrintStream log = json ? new PrintStream(java.io.OutputStream.nullOutputStream()) : out;
    Bench b = new Bench(sizes, hooks, log, only);
    long t0 = System.nanoTime();
    log.println("hmm-emu bench (" + sizes.name() + "), " + DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(
        LocalDateTime.now().withNano(0)) + ", " + Runtime.getRuntime().availableProcessors() + " CPUs, -Xmx "
        + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB, Java " + System.getProperty("java.version"));
    b.all();
    double seconds = (System.nanoTime() - t0) / 1e9;
    Report.table(out, sizes, b.figures, b.nested, b.gpuNodes8Ok, b.gpuNodes8Note, seconds);
    if (json) out.println(Report.json(sizes, b.figures, b.nested, b.gpuNodes8Ok, b.gpuNodes8Note));
    out.flush();
    return 0;
  }

  private void all() {
    Config base = ConfigFactory.parseMap(Map.of("pekko.actor.provider", "cluster"))
        .withFallback(HmmEmuSettings.load(null, Map.of()).config);
    HmmEmuSettings settings = HmmEmuSettings.fromConfig(base);
    if (runs("cluster")) step("transport and GPU faults", () -> cluster(settings));
    if (runs("invalidation")) step("invalidation", () -> invalidation(settings));
    if (runs("heap")) {
      step("heap per page", () -> put(MemoryProbes.heapBytesPerPage(sizes.heapPages(), Math.min(3, sizes.repetitions()))));
    }
    if (runs("retained")) {
      step("retained per cycle", () -> put(MemoryProbes.retainedBytesPerCycle(sizes.retainedCycles(), sizes.repetitions())));
    }
    if (runs("checker")) step("checker", this::checker);
    if (runs("core")) step("core steps (JMH)", this::coreSteps);
    if (runs("gpu8")) step("8 GPU nodes", () -> {
      try {
        gpuNodes8Ok = hooks.gpuNodes8Ok(sizes != Sizes.FULL);
      } catch (RuntimeException e) {
        gpuNodes8Ok = false;
        gpuNodes8Note = oneLine(e);
      }
    });
  }

  private boolean runs(String step) { return only.isEmpty() || only.contains(step); }

  private void step(String what, Runnable r) {
    long t0 = System.nanoTime();
    log.print("  " + what + "... ");
    log.flush();
    try {
      r.run();
      log.printf(Locale.ROOT, "%.1f s%n", (System.nanoTime() - t0) / 1e9);
    } catch (RuntimeException | OutOfMemoryError e) {
      log.println("failed: " + oneLine(e));
      failed(what, oneLine(e));
    }
  }

  /** Every figure of a failed step that is still missing is reported missing with the reason. */
  private void failed(String what, String why) {
    Map<String, List<String>> byStep = Map.of(
        "transport and GPU faults", List.of("rawRoundTripsPerSecond", "gpuFaultsPerSecond", "faultToRawRatio",
            "pipelinedFaultToRawRatio"),
        "invalidation", List.of("invalidate1GiBMillis"),
        "heap per page", List.of("heapBytesPerPage"),
        "retained per cycle", List.of("retainedBytesPerCycle"),
        "checker", List.of("checkerEventsPerSecond"),
        "core steps (JMH)", List.of("coreStepsPerSecond"));
    for (String k : byStep.getOrDefault(what, List.of())) {
      if (!figures.containsKey(k)) figures.put(k, Figure.missing(k, "", what + " failed: " + why));
    }
  }

  static String oneLine(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.replace('\n', ' ');
  }

  private void put(Figure f) { figures.put(f.key(), f); }

  private static Duration timeout(long ms) { return Duration.ofMillis(ms); }

  // ------------------------------------------------------------------ the cluster figures

  private void cluster(HmmEmuSettings s) {
    long callMs = 30_000;
    try (EmbeddedCluster c = EmbeddedCluster.start(s.config, 1, s.switches, ModelClock.scaledWall(s.timeScale),
        Link.DIRECT, Duration.ofSeconds(60))) {
      ClusterProbes.Raw raw = new ClusterProbes.Raw(c);
      int faultPages = (sizes.repetitions() + 1) * (sizes.sequentialFaults() + sizes.pipelinedFaults()) + 16;
      ClusterProbes.Faults faults = new ClusterProbes.Faults(c, faultPages, timeout(callMs));
      List<Double> rawS = new ArrayList<>();
      List<Double> faultS = new ArrayList<>();
      List<Double> ratio = new ArrayList<>();
      List<Double> pRaw = new ArrayList<>();
      List<Double> pFault = new ArrayList<>();
      List<Double> pRatio = new ArrayList<>();
      for (int rep = 0; rep <= sizes.repetitions(); rep++) {
        double r = raw.roundTripsPerSecond(sizes.rawRoundTrips(), 1, 60_000);
        double f = faults.faultsPerSecond(sizes.sequentialFaults(), 1, 120_000);
        double pr = raw.roundTripsPerSecond(sizes.pipelinedRaw(), 64, 60_000);
        double pf = faults.faultsPerSecond(sizes.pipelinedFaults(), sizes.pipelinedWarps(), 120_000);
        if (rep == 0) continue; // warm-up
        rawS.add(r);
        faultS.add(f);
        ratio.add(f / r);
        pRaw.add(pr);
        pFault.add(pf);
        pRatio.add(pf / pr);
      }
      String size = raw.requestBytes() + "-byte Envelope";
      put(Figure.of("rawRoundTripsPerSecond", "1/s", rawS, "one " + size + " request-reply in flight, CPU node's"
          + " system <-> GPU node 1's system"));
      put(Figure.of("gpuFaultsPerSecond", "1/s", faultS, "one warp, sequential GPU atomics, each on a fresh page"));
      put(Figure.of("faultToRawRatio", "", ratio, "per repetition: faults/s over raw round trips/s"));
      put(Figure.of("pipelinedFaultToRawRatio", "", pRatio, sizes.pipelinedWarps() + " warps on distinct pages vs 64 raw"
          + " requests in flight"));
      nested.put("pipelinedFaultToRawRatio", Map.of(
          "rawRoundTripsPerSecond", Figure.of("pipelinedRaw", "1/s", pRaw, "64 in flight"),
          "gpuFaultsPerSecond", Figure.of("pipelinedFaults", "1/s", pFault, sizes.pipelinedWarps() + " warps")));
    }
  }

  private void invalidation(HmmEmuSettings s) {
    long deadline = System.nanoTime() + sizes.invalidateBudgetSeconds() * 1_000_000_000L;
    StringBuilder note = new StringBuilder();
    List<Double> ms;
    try (EmbeddedCluster c = EmbeddedCluster.start(s.config, 2, s.switches, ModelClock.scaledWall(s.timeScale),
        Link.DIRECT, Duration.ofSeconds(60))) {
      ms = ClusterProbes.invalidateMillis(c, sizes.invalidatePages(), sizes.invalidateChunk(),
          Math.min(3, sizes.repetitions()), deadline, timeout(Math.max(30_000, sizes.invalidateBudgetSeconds() * 1000)),
          note);
    }
    String what = "MADV_DONTNEED of " + sizes.invalidatePages() + " pages ("
        + sizes.invalidatePages() / 256 + " MiB) mapped by 2 GPU nodes (dmirror), call to reply";
    put(Figure.of("invalidate1GiBMillis", "ms", ms, note.length() == 0 ? what : what + "; " + note
        + " (budget " + sizes.invalidateBudgetSeconds() + " s)"));
  }

  // ------------------------------------------------------------------ the pure figures

  private void checker() {
    CheckerProbe.Stream stream = CheckerProbe.record(sizes.checkerFaultsPerChunk(), sizes.checkerChunks());
    long budget = sizes.checkerPrefixBudgetSeconds() * 1_000_000_000L;
    CheckerProbe.Replay small = CheckerProbe.replay(stream, 0, budget);
    CheckerProbe.Replay big = CheckerProbe.replay(stream, sizes.checkerBigPages() - sizes.checkerSmallPages(), budget);
    int bigPages = big.prefixPages() + sizes.checkerSmallPages();
    String common = stream.chunkSize() + " events per repetition (" + sizes.checkerFaultsPerChunk()
        + " GPU atomic faults + CPU writes)";
    String bigNote = "at " + bigPages + " pages" + (bigPages < sizes.checkerBigPages()
        ? " (the prefix of " + sizes.checkerBigPages() + " pages stopped after "
        + String.format(Locale.ROOT, "%.0f s", big.prefixSeconds()) + ")" : "")
        + ", " + common + (big.violations() > 0 ? "; " + big.violations() + " violations" : "");
    Figure at1k = Figure.of("checkerEventsPerSecondAt1KPages", "1/s", small.rates(), "at "
        + sizes.checkerSmallPages() + " pages, " + common + (small.violations() > 0 ? "; " + small.violations()
        + " violations" : ""));
    put(Figure.of("checkerEventsPerSecond", "1/s", big.rates(), bigNote));
    Map<String, Figure> more = new LinkedHashMap<>();
    more.put("at1KPages", at1k);
    // Not the figure: the same chunks rated per second of the replaying thread's CPU time (what a loaded machine
    // takes away from the wall-clock rate).
    if (!big.cpuRates().isEmpty() && !small.cpuRates().isEmpty()) {
      more.put("perCpuSecond", Figure.of("checkerEventsPerCpuSecond", "1/s", big.cpuRates(), "at " + bigPages
          + " pages, per second of the replaying thread's CPU time (not the figure)"));
      more.put("at1KPagesPerCpuSecond", Figure.of("checkerEventsPerCpuSecondAt1KPages", "1/s", small.cpuRates(),
          "at " + sizes.checkerSmallPages() + " pages, per second of the replaying thread's CPU time (not the figure)"));
    }
    nested.put("checkerEventsPerSecond", more);
  }

  private void coreSteps() {
    CpuLoop probe = new CpuLoop(1);
    probe.cycle();
    long stepsPerCycle = probe.cycle();
    Options opt = new OptionsBuilder().include(CoreStepsBenchmark.class.getName() + ".*")
        .warmupIterations(sizes.jmhWarmups()).warmupTime(TimeValue.milliseconds(sizes.jmhMillis()))
        .measurementIterations(sizes.jmhIterations()).measurementTime(TimeValue.milliseconds(sizes.jmhMillis()))
        .forks(sizes.jmhForks()).threads(1).shouldFailOnError(true).verbosity(VerboseMode.SILENT).build();
    List<Double> samples = new ArrayList<>();
    try {
      for (RunResult r : new Runner(opt).run()) {
        for (var br : r.getBenchmarkResults()) {
          for (IterationResult ir : br.getIterationResults()) {
            samples.add(ir.getPrimaryResult().getScore() * stepsPerCycle);
          }
        }
      }
    } catch (org.openjdk.jmh.runner.RunnerException e) {
      throw new IllegalStateException("JMH: " + e.getMessage(), e);
    }
    put(Figure.of("coreStepsPerSecond", "1/s", samples, "JMH " + CoreStepsBenchmark.class.getSimpleName()
        + ": conversion + restore on one page, " + stepsPerCycle + " CpuMm steps per cycle, " + sizes.jmhIterations()
        + " x " + sizes.jmhMillis() + " ms iterations, " + sizes.jmhForks() + " fork(s)"));
  }

}
