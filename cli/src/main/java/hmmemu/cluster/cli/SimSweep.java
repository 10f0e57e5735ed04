package hmmemu.cluster.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.SettingsException;
import hmmemu.cluster.demo.SimDemo;
import hmmemu.cluster.demo.SimRuns;
import hmmemu.node.link.LinkSettings;
import hmmemu.report.RunRecorder;
import hmmemu.sim.SimExperiment;
import hmmemu.sim.TraceHash;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.HdrHistogram.HistogramIterationValue;

/**
 * {@code hmm-emu sweep --sim}: the sweep's rows (one-way hop x arm) in the deterministic simulator, N seeds per row.
 * Each run is {@link SimDemo#runArm} (what {@code demo --sim --seed S --one-way L --arms A} runs), so a failing run
 * prints a line that replays it exactly. Per row: cancels (per GPU atomic issued) and deadline spins (driver loops
 * that spun to the deadline, per GPU fault handled) as proportions with 95% Wilson intervals, the share of seeds
 * with at least one of each (Wilson too; seeds are independent, the atomics of one run are not), and p50/p99 GPU
 * atomic latency with 95% bootstrap intervals (seeds resampled with replacement, a PRNG seeded from the row, so
 * the intervals are deterministic). The JSON carries no wall-clock figure: one seed gives the same JSON twice. A row
 * shows its first seed's trace hash; its other seeds' runs fold none ({@link SimRuns#withoutTraceHash}).
 */
final class SimSweep {
  /** A workload variant of the sweep (GPU node count, CPU spin): its settings and the flags its replay line adds. */
  record Variant(HmmEmuSettings settings, String flags) {}

  /** Bootstrap resamples per latency interval. */
  static final int BOOTSTRAP = 1000;

  private SimSweep() {}

  /** The 95% Wilson score interval of {@code k} successes in {@code n} trials: {lo, hi}. */
  static double[] wilson(long k, long n) {
    double[] w = SweepCommand.wilson(k, n);
    if (n == 0) return w;
    // The interval always holds k/n; rounding can put a bound a hair past it (1e-17 above 0 for k = 0).
    double p = (double) k / n;
    return new double[] {Math.min(w[0], p), Math.max(w[1], p)};
  }

  /** Nearest-rank percentile {@code q} (0..100) of sorted {@code v}; 0 when empty. */
  static long percentile(long[] v, double q) {
    if (v.length == 0) return 0;
    int rank = (int) Math.ceil(q / 100.0 * v.length);
    return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
  }

  /**
   * The 95% percentile-bootstrap interval of percentile {@code q} of the pooled values: {@code runs} (one array per
   * seed) resampled with replacement {@link #BOOTSTRAP} times with {@code rng}: {lo, hi}. A resample's percentile is
   * read from counts of the row's distinct values (the same nearest rank as {@link #percentile} of the resample
   * sorted, without pooling and sorting its values: at 1,000 seeds a row's resamples hold ~10^4 values each).
   */
  static long[] bootstrap(List<long[]> runs, double q, SplittableRandom rng) {
    int n = runs.size();
    if (n == 0) return new long[] {0, 0};
    long[] distinct = runs.stream().flatMapToLong(Arrays::stream).sorted().distinct().toArray();
    // Each run as (index of a distinct value, how often) pairs.
    int[][] at = new int[n][], times = new int[n][];
    int[] size = new int[n];
    for (int i = 0; i < n; i++) {
      long[] r = runs.get(i).clone();
      Arrays.sort(r);
      int pairs = 0;
      for (int j = 0; j < r.length; j++) if (j == 0 || r[j] != r[j - 1]) pairs++;
      at[i] = new int[pairs];
      times[i] = new int[pairs];
      size[i] = r.length;
      for (int j = 0, p = -1; j < r.length; j++) {
        if (j == 0 || r[j] != r[j - 1]) at[i][++p] = Arrays.binarySearch(distinct, r[j]);
        times[i][p]++;
      }
    }
    long[] est = new long[BOOTSTRAP];
    long[] count = new long[distinct.length];
    for (int b = 0; b < BOOTSTRAP; b++) {
      Arrays.fill(count, 0);
      int len = 0;
      for (int i = 0; i < n; i++) {
        int k = rng.nextInt(n);
        int[] a = at[k], t = times[k];
        for (int j = 0; j < a.length; j++) count[a[j]] += t[j];
        len += size[k];
      }
      est[b] = percentileOfCounts(distinct, count, len, q);
    }
    Arrays.sort(est);
    return new long[] {est[(int) Math.floor(0.025 * (BOOTSTRAP - 1))], est[(int) Math.ceil(0.975 * (BOOTSTRAP - 1))]};
  }

  /**
   * {@link #percentile} of the {@code len} values that hold {@code count[d]} times {@code distinct[d]} (ascending).
   */
  static long percentileOfCounts(long[] distinct, long[] count, int len, double q) {
    if (len == 0) return 0;
    int rank = (int) Math.ceil(q / 100.0 * len);
    long index = Math.max(0, Math.min(len - 1, rank - 1));
    long seen = 0;
    for (int d = 0; d < distinct.length; d++) {
      seen += count[d];
      if (seen > index) return distinct[d];
    }
    throw new IllegalStateException("counts hold fewer than " + len + " values");
  }

  /** The GPU atomic latencies one run recorded (model µs; the histogram's values, 3 significant digits). */
  static long[] latencies(SimExperiment.Result r) {
    long[] out = new long[(int) r.gpuLatency().getTotalCount()];
    int i = 0;
    for (HistogramIterationValue v : r.gpuLatency().recordedValues()) {
      for (long c = 0; c < v.getCountAtValueIteratedTo(); c++) {
        out[i++] = r.gpuLatency().highestEquivalentValue(v.getValueIteratedTo());
      }
    }
    return out;
  }

  /**
   * A one-way hop given on the command line as a HOCON duration, in model µs (fractions allowed: 500ns, 0.5us);
   * refused when negative or longer than the driver deadline (not even one round trip would fit in a fault).
   */
  static double oneWayMicros(String option, String lat, HmmEmuSettings base) {
    Duration d = FlagDurations.parse(option, lat);
    if (d.isNegative()) throw new SettingsException(option + ": negative duration '" + lat + "'");
    Duration deadline = Duration.ofNanos(base.switches.driverDeadlineMicros() * 1000);
    if (d.compareTo(deadline) > 0) {
      throw new SettingsException(option + ": '" + lat + "' is longer than the driver deadline ("
          + deadline.toMillis() + " ms, hmm-emu.model.driver-deadline)");
    }
    return d.toNanos() / 1000.0;
  }

  /** Not a kernel structure: what one row's runs are made of (its variant's settings, hop, arm). */
  private record RowRuns(HmmEmuSettings settings, LinkSettings link, String lat, String arm) {}

  /** One row's runs pooled. */
  private static final class Row {
    long gpuOk, cancelled, handled, spins, cpuOk, finalValue, expected, events, runsWithCancel, runsWithSpin;
    int violations;
    final List<long[]> lat = new ArrayList<>();
    final List<Long> failing = new ArrayList<>();
    String firstHash;

    void add(SimExperiment.Result r, long seed) {
      gpuOk += r.gpuAtomics();
      cancelled += r.gpuCancelled();
      handled += r.faultsHandled();
      spins += r.driverTimeouts();
      cpuOk += r.cpuAtomics();
      finalValue += r.finalValue();
      expected += r.expectedValue();
      events += r.traceEvents();
      violations += r.violations().size() + (r.finished() ? 0 : 1);
      if (r.gpuCancelled() > 0) runsWithCancel++;
      if (r.driverTimeouts() > 0) runsWithSpin++;
      lat.add(latencies(r));
      if (!r.ok()) failing.add(seed);
      if (firstHash == null) firstHash = TraceHash.hex(r.traceHash());
    }
  }

  /**
   * Runs the sweep and prints the table (and with {@code json} one JSON line last); {@code replayFlags} are the
   * workload and config flags a replay line repeats. Returns the exit code (0 ok, 1 a failed run).
   */
  static int run(PrintStream out, HmmEmuSettings base, List<String> arms, List<String> latencies, int repeats,
      boolean json, String replayFlags, RecordOptions record, boolean writeRecord) {
    return run(out, base, arms, latencies, repeats, json, replayFlags, record, writeRecord,
        List.of(new Variant(base, replayFlags)), 1);
  }

  /**
   * The sweep over {@code variants} x latencies x arms, each row's seeds simulated on {@code threads} threads at
   * once (pooled in seed order: the output does not depend on the thread count).
   */
  static int run(PrintStream out, HmmEmuSettings base, List<String> arms, List<String> latencies, int repeats,
      boolean json, String replayFlags, RecordOptions record, boolean writeRecord, List<Variant> variants,
      int threads) {
    return run(out, base, arms, latencies, repeats, json, replayFlags, record, writeRecord, variants, threads, false,
        hmmemu.cluster.demo.SimRuns.byDefault());
  }

  /**
   * {@link #run} that also prints the rows as docs/RESULTS.md's Markdown table when {@code markdown}, its runs the
   * command's {@code runs} (their fast-forward flag and figures, the events the progress line shows).
   */
  static int run(PrintStream out, HmmEmuSettings base, List<String> arms, List<String> latencies, int repeats,
      boolean json, String replayFlags, RecordOptions record, boolean writeRecord, List<Variant> variants,
      int threads, boolean markdown, hmmemu.cluster.demo.SimRuns runs) {
    double[] hops = new double[latencies.size()];
    for (int i = 0; i < hops.length; i++) hops[i] = oneWayMicros("--latencies", latencies.get(i), base);
    HmmEmuSettings.Demo w = base.demo;
    long seed0 = w.seed();
    boolean grid = variants.size() > 1;
    out.printf(Locale.ROOT, "hmm-emu sweep --sim: %d CPU threads x %d ops, %s GPU node(s) x %d warps x %d ops,"
            + " %d counters on %d pages, seeds %d..%d per row%s; the deterministic simulator (model time, %s)%n",
        w.cpuThreads(), w.opsPerThread(), grid ? "1 and 2" : String.valueOf(w.gpuNodes()), w.warpsPerDevice(),
        w.opsPerWarp(), w.counters(), w.counterPages(), seed0, seed0 + repeats - 1,
        (grid ? ", CPU threads spinning and not" : w.cpuSpin() ? ", CPU threads spinning" : "")
            + ", CPU think " + w.cpuThinkMicros() + " µs",
        SimDemo.hostCost(base).isOff() ? "host-side cost off" : "host-side cost on");
    String fmt = "%-4s %-5s %-7s %-23s %6s %-22s %-22s %-22s %-22s %-19s %-25s %5s %-16s%n";
    out.printf(Locale.ROOT, fmt, "gpus", "spin", "one-way", "arm", "seeds", "cancel/atomic [95%]",
        "seeds w/ cancel [95%]", "spin/fault [95%]", "seeds w/ spin [95%]", "gpu p50 µs [95%]", "gpu p99 µs [95%]",
        "viol", "trace hash s0");
    int cap = record.cap();
    int totalRuns = variants.size() * hops.length * arms.size() * repeats;
    int capPerRun = Math.max(Math.min(1000, cap), cap / Math.max(1, totalRuns));
    List<RunRecorder> recorders = new ArrayList<>();
    ArrayNode rows = JsonNodeFactory.instance.arrayNode();
    List<String> replays = new ArrayList<>();
    Progress progress = new Progress("runs", totalRuns, record.quiet).events(runs::events);
    long wall0 = System.nanoTime(), events = 0;
    boolean ok = true;
    java.util.concurrent.ExecutorService pool = threads > 1
        ? java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(null, r, "sim-sweep", 64L << 20); // the cores recurse: -Xss4m's stack, and more
            t.setDaemon(true);
            return t;
          })
        : null;
    // Every row's runs, in the order they are pooled: the window below runs ahead across a row's end, so that no
    // thread waits for a row's last run (or its intervals) before the next row's runs start.
    List<RowRuns> rowRuns = new ArrayList<>();
    java.util.ArrayDeque<java.util.concurrent.Future<Object[]>> window = new java.util.ArrayDeque<>();
    int next = 0;
    SimRuns unhashed = runs.withoutTraceHash();
    try {
      for (Variant variant : variants) {
        for (int li = 0; li < hops.length; li++) {
          LinkSettings link = SimDemo.link(variant.settings(), hops[li]);
          for (String arm : arms) rowRuns.add(new RowRuns(variant.settings(), link, latencies.get(li), arm));
        }
      }
      for (int vi = 0; vi < variants.size(); vi++) {
        Variant variant = variants.get(vi);
        HmmEmuSettings vs = variant.settings();
        String gpus = String.valueOf(vs.demo.gpuNodes()), spin = vs.demo.cpuSpin() ? "on" : "off";
      for (int li = 0; li < hops.length; li++) {
        String lat = latencies.get(li);
        for (int ai = 0; ai < arms.size(); ai++) {
          String arm = arms.get(ai);
          String name = SimDemo.armName(arm);
          Row row = new Row();
          progress.stage((grid ? gpus + " GPU, spin " + spin + ", " : "") + lat + ", " + name);
          int rowIndex = (vi * hops.length + li) * arms.size() + ai;
          // Runs go out in windows of a few per thread and are pooled in seed order as they come back.
          for (int i = 0; i < repeats; i++) {
            int g = rowIndex * repeats + i;
            while (next < totalRuns && (pool == null ? next <= g : window.size() < 4 * threads)) {
              RowRuns rr = rowRuns.get(next / repeats);
              long seed = seed0 + next % repeats;
              next++;
              RunRecorder rec = writeRecord
                  ? new RunRecorder(rr.lat() + " " + SimDemo.armName(rr.arm()) + " seed " + seed, capPerRun) : null;
              // Only a row's first seed shows its trace hash: the other seeds' runs fold none (Sim#hashTrace).
              SimRuns as = seed == seed0 ? runs : unhashed;
              java.util.function.Supplier<Object[]> job = () -> new Object[] {
                  SimDemo.runArm(rr.settings(), rr.link(), rr.arm(), seed, rec == null ? null : rec::onEvent, as), rec};
              window.add(pool != null ? pool.submit(job::get) : java.util.concurrent.CompletableFuture.completedFuture(job.get()));
            }
            Object[] got;
            try {
              got = window.poll().get();
            } catch (java.util.concurrent.ExecutionException e) {
              throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
            }
            long seed = seed0 + i;
            SimExperiment.Result r = (SimExperiment.Result) got[0];
            if (got[1] != null) recorders.add((RunRecorder) got[1]);
            row.add(r, seed);
            progress.one();
            if (!r.ok()) {
              String replay = "hmm-emu demo --sim --seed " + seed + " --one-way " + lat + " --arms " + arm
                  + variant.flags();
              replays.add(replay);
              out.println("  FAILED (" + (grid ? gpus + " GPU, spin " + spin + ", " : "") + lat + ", " + name
                  + ", seed " + seed + "): final " + r.finalValue() + " / expected " + r.expectedValue() + ", "
                  + r.violations().size() + " violation(s)" + (r.finished() ? "" : ", " + r.liveness()));
              for (String v : r.violations()) out.println("  VIOLATION: " + v);
              out.println("  replay: " + replay);
            }
          }
          events += row.events;
          ok &= row.failing.isEmpty();
          long issued = row.gpuOk + row.cancelled;
          double[] c = wilson(row.cancelled, issued), rc = wilson(row.runsWithCancel, repeats);
          double[] s = wilson(row.spins, row.handled), rs = wilson(row.runsWithSpin, repeats);
          long[] all = row.lat.stream().flatMapToLong(Arrays::stream).sorted().toArray();
          SplittableRandom rng = new SplittableRandom(seed0 * 1_000_003L + li * 31L + ai + vi * 1_000_033L);
          long p50 = percentile(all, 50), p99 = percentile(all, 99);
          long[] b50 = bootstrap(row.lat, 50, rng), b99 = bootstrap(row.lat, 99, rng);
          out.printf(Locale.ROOT, fmt, gpus, spin, lat, name, repeats,
              prop(row.cancelled, issued, c), prop(row.runsWithCancel, repeats, rc), prop(row.spins, row.handled, s),
              prop(row.runsWithSpin, repeats, rs), p50 + " [" + b50[0] + "," + b50[1] + "]",
              p99 + " [" + b99[0] + "," + b99[1] + "]", row.violations, row.firstHash);
          ObjectNode o = rows.addObject();
          o.put("gpuNodes", vs.demo.gpuNodes()).put("cpuSpin", vs.demo.cpuSpin())
              .put("cpuThinkMicros", vs.demo.cpuThinkMicros());
          o.put("oneWay", lat).put("hopMicros", hops[li]).put("arm", name).put("armKey", arm).put("runs", repeats)
              .put("seeds", repeats)
              .put("firstSeed", seed0).put("gpuAtomics", row.gpuOk).put("gpuCancelled", row.cancelled)
              .put("cancelRate", rate(row.cancelled, issued)).put("cancelLo", c[0]).put("cancelHi", c[1])
              .put("seedsWithCancel", row.runsWithCancel).put("seedsWithCancelRate", rate(row.runsWithCancel, repeats))
              .put("seedsWithCancelLo", rc[0]).put("seedsWithCancelHi", rc[1])
              .put("faultsHandled", row.handled).put("deadlineSpins", row.spins)
              .put("deadlineSpinRate", rate(row.spins, row.handled)).put("deadlineSpinLo", s[0])
              .put("deadlineSpinHi", s[1]).put("seedsWithDeadlineSpin", row.runsWithSpin)
              .put("seedsWithDeadlineSpinRate", rate(row.runsWithSpin, repeats))
              .put("seedsWithDeadlineSpinLo", rs[0]).put("seedsWithDeadlineSpinHi", rs[1])
              .put("gpuAtomicLatencyP50Micros", p50).put("gpuAtomicLatencyP50Lo", b50[0])
              .put("gpuAtomicLatencyP50Hi", b50[1]).put("gpuAtomicLatencyP99Micros", p99)
              .put("gpuAtomicLatencyP99Lo", b99[0]).put("gpuAtomicLatencyP99Hi", b99[1])
              .put("cpuAtomics", row.cpuOk).put("finalValue", row.finalValue).put("expectedValue", row.expected)
              .put("violations", row.violations).put("traceEvents", row.events).put("traceHash", row.firstHash);
          ArrayNode f = o.putArray("failingSeeds");
          row.failing.forEach(f::add);
        }
      }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } finally {
      if (pool != null) pool.shutdownNow();
      progress.close();
    }
    double wall = (System.nanoTime() - wall0) / 1e9;
    out.println("cancel/atomic: GPU atomics cancelled (their fault timed out with -EBUSY) per GPU atomic issued;"
        + " spin/fault: driver loops that spun to the deadline per GPU fault handled (PROTOCOL.md §8 R7);");
    out.println("seeds w/ ...: seeds with at least one; [95%]: Wilson score intervals (the per-atomic and per-fault"
        + " ones treat the events of one run as independent, which they are not: read the per-seed ones first);");
    out.println("gpu p50/p99: GPU atomic latency (model µs, issue to completion) pooled over the seeds, [95%]: "
        + BOOTSTRAP + " bootstrap resamples of the seeds; trace hash s0: the first seed's trace (per row).");
    PrintStream say = json ? System.err : out;
    say.printf(Locale.ROOT, "simulated %d runs (%d trace events, each judged by the invariant checker) in %.1f s"
        + " wall on %d thread(s): %.0f events/s%n", totalRuns, events, wall, threads, wall == 0 ? 0 : events / wall);
    say.println(runs.totalsLine());
    ObjectNode result = JsonNodeFactory.instance.objectNode();
    ObjectNode fastForward = result.putObject("fastForward");
    try {
      fastForward.setAll((ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper()
          .readTree("{" + runs.totalsJson() + "}").get("fastForward"));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    result.put("ok", ok).put("simulated", true).put("seeds", repeats).put("firstSeed", seed0)
        .put("bootstrapResamples", BOOTSTRAP);
    result.set("rows", rows);
    ArrayNode rp = result.putArray("replays");
    replays.forEach(rp::add);
    if (markdown) out.print(markdown(rows));
    if (json) out.println(result.toString());
    if (writeRecord) {
      ObjectNode shown = DemoCommand.settingsNode(base, arms, true);
      shown.put("latencies", String.join(", ", latencies));
      shown.put("repeats", repeats);
      shown.put("simulated", true);
      record.write("sweep", result.toString(), shown, recorders, rows, say);
    }
    return ok ? 0 : 1;
  }

  /** The rows as the Markdown table of docs/RESULTS.md "R9 in the simulator". */
  static String markdown(ArrayNode rows) {
    StringBuilder b = new StringBuilder();
    b.append("| GPU nodes | CPU spin | one-way | arm | cancel / GPU atomic [95% Wilson] | seeds with a cancel |"
        + " deadline spins / GPU fault | seeds with a spin | GPU p50 µs [95% bootstrap] | GPU p99 µs [95% bootstrap] |"
        + " viol |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (com.fasterxml.jackson.databind.JsonNode r : rows) {
      b.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %s | %s | %s | %d [%d, %d] | %d [%d, %d] | %d |%n",
          r.path("gpuNodes").asInt(), r.path("cpuSpin").asBoolean() ? "on" : "off", r.path("oneWay").asText(),
          r.path("armKey").asText().equals("kernel") ? "folio-lock (kernel)" : "early-unlock",
          md(r, "cancelRate", "cancelLo", "cancelHi"),
          md(r, "seedsWithCancelRate", "seedsWithCancelLo", "seedsWithCancelHi"),
          md(r, "deadlineSpinRate", "deadlineSpinLo", "deadlineSpinHi"),
          md(r, "seedsWithDeadlineSpinRate", "seedsWithDeadlineSpinLo", "seedsWithDeadlineSpinHi"),
          r.path("gpuAtomicLatencyP50Micros").asLong(), r.path("gpuAtomicLatencyP50Lo").asLong(),
          r.path("gpuAtomicLatencyP50Hi").asLong(), r.path("gpuAtomicLatencyP99Micros").asLong(),
          r.path("gpuAtomicLatencyP99Lo").asLong(), r.path("gpuAtomicLatencyP99Hi").asLong(),
          r.path("violations").asInt()));
    }
    return b.toString();
  }

  private static String md(com.fasterxml.jackson.databind.JsonNode r, String rate, String lo, String hi) {
    return String.format(Locale.ROOT, "%.3f [%.3f, %.3f]", r.path(rate).asDouble(), r.path(lo).asDouble(),
        r.path(hi).asDouble());
  }

  private static double rate(long k, long n) { return n == 0 ? 0 : (double) k / n; }

  private static String prop(long k, long n, double[] ci) {
    return String.format(Locale.ROOT, "%.3f [%.3f,%.3f]", rate(k, n), ci[0], ci[1]);
  }
}
