package hmmemu.cluster.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hmmemu.report.RunRecorder;

import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.SettingsException;
import hmmemu.cluster.demo.Experiment;
import hmmemu.node.link.Link;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import java.io.File;
import org.HdrHistogram.Histogram;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code hmm-emu sweep}: the headline experiment as the modelled host-device one-way latency grows, with the
 * kernel's folio lock and with it released early (docs/PROTOCOL.md §8 R9: can the folio lock be dropped?).
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
    description = {"Runs the headline experiment for each one-way host-device latency and both arms.",
        "Each run gets a fresh embedded cluster; latencies are model time. Prints GPU fault rounds per atomic, "
            + "driver timeouts and p99 GPU atomic latency. A first row with 0 us measures the emulator's own share "
            + "(transport + scheduling)."})
final class SweepCommand implements Callable<Integer> {
  @Option(names = "--latencies", split = ",", defaultValue = "1us,10us,100us,1ms",
      description = "One-way latencies, each with a unit (a bare number other than 0 is refused; "
          + "default ${DEFAULT-VALUE}).")
  List<String> latencies;
  @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file that overrides reference.conf.")
  File config;
  @Mixin WorkloadOptions workload;
  @Option(names = "--arms", split = ",", description = "Arms to run: kernel, early-unlock (default both).")
  List<String> arms;
  @Option(names = "--repeats", description = "Runs per row, seeds seed..seed+N-1, pooled "
      + "(sums and merged latency histograms; default 1, with --sim " + SIM_REPEATS + "). Contended runs are bimodal"
      + " (docs/PROTOCOL.md §8 R7: a fault that fails once spins to its deadline), so one run per row says little.")
  Integer repeats;
  @picocli.CommandLine.Mixin FastForwardOptions fastForward;

  @Option(names = "--sim", description = "Run every row in the deterministic simulator (model time, one thread):"
      + " proportions with Wilson intervals, latency percentiles with bootstrap intervals, a replay line per failed"
      + " run and the first seed's trace hash per row; no 0us row (there is no transport to measure). A run record"
      + " is left only with --out.")
  boolean sim;
  @Option(names = "--r9", description = "With --sim: the full grid of issue 12 for docs/PROTOCOL.md §8 R9: one-way hops "
      + R9_LATENCIES + " (unless --latencies is given), both arms, CPU threads spinning and not, one and two GPU"
      + " nodes, " + R9_REPEATS + " seeds per row (unless --repeats is given). docs/RESULTS.md's table is its output.")
  boolean r9;
  @Option(names = "--threads", description = "With --sim: runs simulated at once, one per thread (each run is "
      + "single-threaded and deterministic; rows pool the seeds in seed order, so the output does not depend on it;"
      + " default: the available processors).")
  Integer threads;
  @Option(names = "--json", description = "Also print one JSON line with every row.") boolean json;
  @Option(names = "--markdown", description = "With --sim: also print the rows as docs/RESULTS.md's Markdown table "
      + "(before the JSON line, if any).") boolean markdown;
  @Mixin RecordOptions record;
  @Option(names = "--no-warm-up", description = "On the embedded cluster: measure the first row's first run on a cold "
      + "JVM (by default the first selected arm first runs once, unmeasured, at time-scale 1.0 with a short workload "
      + "and the first row's hop, as in demo: docs/RESULTS.md \"The first arm ran on a cold JVM\").")
  boolean noWarmUp;

  /** A cluster row's run settings: the base run's with a constant one-way hop {@code d} and seed {@code seed}. */
  static HmmEmuSettings rowSettings(HmmEmuSettings base, Duration d, long seed) {
    return HmmEmuSettings.fromConfig(ConfigFactory.parseMap(Map.of(
            "hmm-emu.link.default.delay", Map.of("dist", "constant", "value", (d.toNanos() / 1000) + "us"),
            "hmm-emu.demo.seed", seed))
        .withFallback(base.config));
  }

  /** Seeds per row with --sim when --repeats is not given. */
  static final int SIM_REPEATS = 100;
  /** Seeds per row of the full R9 grid (--r9) when --repeats is not given. */
  static final int R9_REPEATS = 1000;
  /** One-way hops of the full R9 grid (issue 12 item 6). */
  static final String R9_LATENCIES = "0.5us,1us,2us,5us,10us,100us,1ms";

  /** The 95% Wilson score interval of {@code k} successes in {@code n} trials: {lo, hi}. */
  static double[] wilson(long k, long n) {
    if (n == 0) return new double[] {0, 1};
    double z = 1.959963984540054, p = (double) k / n, z2 = z * z;
    double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = z * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
    return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
  }

  /** Several runs of one row pooled: sums, and the latency histograms merged. */
  private static final class Pool {
    long gpuOk, cancelled, timeouts, cpuOk, cpuFaults, finalValue, expected, rounds, iterations, handled;
    int violations;
    final Histogram gpu = new Histogram(3_600_000_000L, 3);
    final Histogram cpu = new Histogram(3_600_000_000L, 3);

    void add(Experiment.RunResult r) {
      gpuOk += r.gpuAtomics();
      cancelled += r.gpuCancelled();
      timeouts += r.driverTimeouts();
      cpuOk += r.cpuAtomics();
      cpuFaults += r.cpuFaults();
      finalValue += r.finalValue();
      expected += r.expectedValue();
      violations += r.violations().size();
      rounds += r.totals().faultRounds();
      iterations += r.totals().driverIterations();
      handled += r.totals().faultsHandled();
      gpu.add(r.totals().gpuLatency());
      cpu.add(r.totals().cpuLatency());
    }

    double roundsPerAtomic() { return gpuOk == 0 ? 0 : (double) rounds / gpuOk; }

    double iterationsMean() { return handled == 0 ? 0 : (double) iterations / handled; }

    double gpuP(double q) { return gpu.getTotalCount() == 0 ? 0 : gpu.getValueAtPercentile(q); }

    double cpuP(double q) { return cpu.getTotalCount() == 0 ? 0 : cpu.getValueAtPercentile(q); }
  }

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  private boolean latenciesGiven() {
    return spec != null && spec.commandLine().getParseResult().hasMatchedOption("--latencies");
  }

  @Override
  public Integer call() {
    record.check();
    Map<String, Object> o = new HashMap<>();
    workload.putInto(o);
    if (r9 && !sim) throw new SettingsException("--r9: only with --sim");
    if (threads != null && !sim) throw new SettingsException("--threads: only with --sim");
    if (markdown && !sim) throw new SettingsException("--markdown: only with --sim");
    if (threads != null && threads < 1) throw new SettingsException("--threads: must be at least 1, got " + threads);
    int repeats = this.repeats != null ? this.repeats : r9 ? R9_REPEATS : sim ? SIM_REPEATS : 1;
    if (repeats < 1) throw new SettingsException("--repeats: must be at least 1, got " + repeats);
    HmmEmuSettings base = HmmEmuSettings.load(config, o);
    List<String> selected = WorkloadOptions.arms(arms);
    if (sim) {
      String flags = workload.flags() + (config != null ? " --config " + config.getPath() : "");
      int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
      if (!r9) {
        return SimSweep.run(System.out, base, selected, latencies, repeats, json, flags, record, record.out != null,
            List.of(new SimSweep.Variant(base, flags)), nThreads, markdown, fastForward.runs());
      }
      if (workload.gpuNodes != null || workload.cpuSpin != null) {
        throw new SettingsException("--r9: runs both GPU node counts and both spin settings; drop --gpu-nodes/--cpu-spin");
      }
      List<String> lats = latenciesGiven() ? latencies : List.of(R9_LATENCIES.split(","));
      List<SimSweep.Variant> variants = new ArrayList<>();
      for (boolean spin : new boolean[] {false, true}) {
        for (int g : new int[] {1, 2}) {
          Map<String, Object> v = new HashMap<>(o);
          v.put("hmm-emu.demo.gpu-nodes", g);
          v.put("hmm-emu.demo.cpu-spin", spin);
          variants.add(new SimSweep.Variant(HmmEmuSettings.load(config, v),
              flags + " --gpu-nodes " + g + (spin ? " --cpu-spin" : "")));
        }
      }
      return SimSweep.run(System.out, base, selected, lats, repeats, json, flags, record, record.out != null,
          variants, nThreads, markdown, fastForward.runs());
    }
    List<String> points = new ArrayList<>();
    points.add("0us");
    points.addAll(latencies);
    Map<String, Duration> parsed = new HashMap<>();
    for (String lat : points) {
      Duration d = FlagDurations.parse("--latencies", lat);
      if (d.isNegative()) throw new SettingsException("--latencies: negative duration '" + lat + "'");
      // Longer than the driver's fault deadline, not even one round trip fits in a fault: every GPU fault times out.
      Duration deadline = Duration.ofNanos(base.switches.driverDeadlineMicros() * 1000);
      if (d.compareTo(deadline) > 0) {
        throw new SettingsException("--latencies: '" + lat + "' is longer than the driver deadline ("
            + deadline.toMillis() + " ms, hmm-emu.model.driver-deadline)");
      }
      parsed.put(lat, d);
    }
    HmmEmuSettings.Demo w = base.demo;
    System.out.printf(Locale.ROOT, "hmm-emu sweep: %d CPU threads x %d ops, %d GPU node(s) x %d warps x %d ops,"
            + " %d counters on %d pages, seeds %d..%d pooled per row, time-scale %.1f%s; a fresh embedded cluster per"
            + " run%n",
        w.cpuThreads(), w.opsPerThread(), w.gpuNodes(), w.warpsPerDevice(), w.opsPerWarp(), w.counters(),
        w.counterPages(), w.seed(), w.seed() + repeats - 1, base.timeScale,
        (w.cpuSpin() ? ", CPU threads spinning" : "") + ", CPU think " + w.cpuThinkMicros() + " µs");
    List<String> rows = new ArrayList<>();
    String fmt = "%-8s %-24s %7s %6s %11s %10s %9s %11s %11s %10s %11s %5s%n";
    System.out.printf(Locale.ROOT, fmt, "one-way", "arm", "gpu ok", "cancl", "rounds/atom", "iters mean", "timeouts",
        "gpu p50 µs", "gpu p99 µs", "cpu faults", "cpu p99 µs", "viol");
    boolean ok = true;
    int totalRuns = points.size() * selected.size() * repeats;
    int capPerRun = Math.max(Math.min(1000, record.cap()), record.cap() / totalRuns);
    List<RunRecorder> recorders = new ArrayList<>();
    ArrayNode sweepRows = JsonNodeFactory.instance.arrayNode();
    // the first run (the 0us row) would otherwise pay the cold JVM in model time, as demo's first arm did
    hmmemu.cluster.demo.WarmUp.Summary warm = hmmemu.cluster.demo.WarmUp.unless(noWarmUp,
        rowSettings(base, parsed.get(points.get(0)), base.demo.seed()), selected, true, json);
    Progress progress = new Progress("operations", Experiment.operations(base.demo) * totalRuns, record.quiet);
    try {
    for (String lat : points) {
      Duration d = parsed.get(lat);
      for (String arm : selected) {
        boolean kernel = arm.equals("kernel");
        String name = kernel ? "folio-lock (kernel)" : "early-unlock (ablation)";
        Pool p = new Pool();
        for (int i = 0; i < repeats; i++) {
          long runSeed = base.demo.seed() + i;
          HmmEmuSettings s = rowSettings(base, d, runSeed);
          Experiment.RunResult r;
          RunRecorder recorder = new RunRecorder(lat + " " + name + (repeats > 1 ? " seed " + runSeed : ""), capPerRun);
          progress.stage(lat + ", " + name + (repeats > 1 ? ", seed " + runSeed : ""));
          try (ModeledLink link = new ModeledLink(LinkSettings.fromConfig(s.config), runSeed, s.timeScale,
              Link.DIRECT)) {
            r = Experiment.runArm(name, s, s.switches.withFolioLockUntilMapped(kernel), link,
                new Experiment.Hooks(recorder, progress::one));
            hmmemu.cluster.check.Recording.linkStats(recorder, link);
          }
          recorders.add(recorder);
          ok &= r.ok();
          p.add(r);
          if (!r.ok()) {
            System.out.println("  FAILED (" + lat + ", " + name + ", seed " + runSeed + "): final " + r.finalValue()
                + " / expected " + r.expectedValue() + ", " + r.violations().size() + " violation(s)"
                + (r.checkerCaughtUp() ? "" : ", checker did not catch up"));
            for (String v : r.violations()) System.out.println("  VIOLATION: " + v);
          }
        }
        double[] ci = wilson(p.cancelled, p.gpuOk + p.cancelled);
        sweepRows.addObject().put("arm", name).put("oneWay", lat).put("hopMicros", d.toNanos() / 1000.0)
            .put("runs", repeats).put("gpuAtomics", p.gpuOk).put("gpuCancelled", p.cancelled)
            .put("cancelRate", p.gpuOk + p.cancelled == 0 ? 0 : (double) p.cancelled / (p.gpuOk + p.cancelled))
            .put("cancelLo", ci[0]).put("cancelHi", ci[1]).put("driverTimeouts", p.timeouts)
            .put("gpuAtomicLatencyP99Micros", p.gpuP(99));
        System.out.printf(Locale.ROOT, fmt, lat, name, p.gpuOk, p.cancelled,
            String.format(Locale.ROOT, "%.2f", p.roundsPerAtomic()),
            String.format(Locale.ROOT, "%.1f", p.iterationsMean()), p.timeouts,
            String.format(Locale.ROOT, "%.0f", p.gpuP(50)), String.format(Locale.ROOT, "%.0f", p.gpuP(99)),
            p.cpuFaults, String.format(Locale.ROOT, "%.0f", p.cpuP(99)), p.violations);
        rows.add(String.format(Locale.ROOT, "{\"oneWay\": \"%s\", \"name\": \"%s\", \"runs\": %d, "
                + "\"gpuAtomics\": %d, \"gpuCancelled\": %d, \"faultRoundsPerGpuAtomic\": %.4f, "
                + "\"driverIterationsMean\": %.4f, \"driverTimeouts\": %d, \"gpuAtomicLatencyP50Micros\": %.1f, "
                + "\"gpuAtomicLatencyP99Micros\": %.1f, \"cpuAtomics\": %d, \"cpuFaults\": %d, "
                + "\"cpuAtomicLatencyP99Micros\": %.1f, \"finalValue\": %d, \"expectedValue\": %d, "
                + "\"violations\": %d}", lat, name, repeats, p.gpuOk, p.cancelled, p.roundsPerAtomic(),
            p.iterationsMean(), p.timeouts, p.gpuP(50), p.gpuP(99), p.cpuOk, p.cpuFaults, p.cpuP(99), p.finalValue,
            p.expected, p.violations));
      }
    }
    } finally {
      progress.close();
    }
    System.out.println("gpu ok/cancl: GPU atomics completed / cancelled (their fault timed out with -EBUSY); rounds/atom:"
        + " GPU fault rounds per completed atomic; iters mean: nouveau atomic-loop iterations per handled fault;");
    System.out.println("gpu p50/p99: GPU atomic latency (model µs, issue to completion, faults included); cpu faults:"
        + " CPU faults taken by the CPU threads' atomics; cpu p99: CPU atomic latency (model µs, on the CPU"
        + " node, issue to completion: a CPU thread's loop runs there, HmmProtocol.CpuThreadRun).");
    System.out.println("The 0us rows are the emulator's own share (Artery transport ~0.3 ms per round trip and"
        + " scheduling) at time-scale " + base.timeScale + "; subtract them to read the modelled link's effect.");
    String result = "{\"ok\": " + ok + ", \"rows\": [" + String.join(", ", rows) + "]}";
    if (json) System.out.println(result);
    ObjectNode shown = DemoCommand.settingsNode(base, selected, true);
    shown.put("latencies", String.join(", ", points));
    shown.put("repeats", repeats);
    shown.put("warmUp", warm == null ? "none (--no-warm-up): the first run was on a cold JVM" : warm.toString());
    record.write("sweep", result, shown, recorders, sweepRows, json ? System.err : System.out);
    return ok ? 0 : 1;
  }
}
