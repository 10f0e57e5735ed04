package hmmemu.cluster.demo;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.node.cost.HostCost;
import hmmemu.node.link.LinkSettings;
import hmmemu.protocol.trace.Stamped;
import hmmemu.report.RunRecorder;
import hmmemu.sim.SimExperiment;
import hmmemu.sim.TraceHash;
import hmmemu.cluster.scenario.SimDemoArm;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.function.Consumer;
import java.util.List;
import java.util.Locale;

/**
 * {@code hmm-emu demo --sim}: the headline experiment in the deterministic simulator (module sim) instead of an
 * embedded cluster. The same workload and figures ({@link Experiment.RunResult}, printed by {@link DemoReport}), plus
 * the simulator's events per second (trace events, each judged by the invariant checker, per second of wall time)
 * and the trace hash (the same seed gives the same hash).
 */
public final class SimDemo {
  private SimDemo() {}

  /** The arm's display name ("kernel" or "early-unlock"). */
  public static String armName(String arm) { return SimDemoArm.armName(arm); }

  /**
   * The link of hmm-emu.link; with {@code oneWayMicros} >= 0, every host-device direction (the default and each
   * override) gets a constant one-way delay of that many model µs, the rest of its spec unchanged.
   */
  public static LinkSettings link(HmmEmuSettings settings, double oneWayMicros) {
    return SimDemoArm.link(settings, oneWayMicros);
  }

  /**
   * The simulator's controller hop in model µs (hmm-emu.sim.controller-hop; 1 µs when absent): each hop of a
   * workload request and its reply is drawn uniformly in [h/2, 3h/2): the set-up, each CPU thread's start and end
   * (HmmProtocol.CpuThreadRun) and each GPU warp's (HmmProtocol.WarpRun); their accesses take no hop. The
   * cluster's controller talks over its transport (~150 µs one way at time-scale 1.0). A bad value is a settings
   * error.
   */
  public static double controllerHopMicros(HmmEmuSettings settings) { return SimDemoArm.controllerHopMicros(settings); }

  /** The host-side cost model of hmm-emu.host-cost (docs/LATENCY.md); a bad value is a settings error. */
  public static HostCost hostCost(HmmEmuSettings settings) { return SimDemoArm.hostCost(settings); }

  /**
   * One arm of the workload of {@code settings} (hmm-emu.demo, its seed replaced by {@code seed}) on a fresh
   * simulator whose seed is {@code seed}; {@code onTrace} (or null) sees every trace event the checker judges.
   * The sweep and {@code demo --sim} both run arms here, so a sweep run and its replay line are the same run.
   */
  public static SimExperiment.Result runArm(HmmEmuSettings settings, LinkSettings link, String arm, long seed,
      Consumer<Stamped> onTrace) {
    return runArm(settings, link, arm, seed, onTrace, null);
  }

  /**
   * {@link #runArm(HmmEmuSettings, LinkSettings, String, long, Consumer)} as one of a command's {@code runs} (its
   * fast-forward flag, its figures and its progress; null: the simulator's default).
   */
  public static SimExperiment.Result runArm(HmmEmuSettings settings, LinkSettings link, String arm, long seed,
      Consumer<Stamped> onTrace, SimRuns runs) {
    if (runs == null) return SimDemoArm.run(settings, link, arm, seed, onTrace, null);
    return runs.run(onSim -> SimDemoArm.run(settings, link, arm, seed, onTrace, onSim));
  }

  /** Not a kernel structure: what a command shows while the arms run (progress on stderr, lines on stdout). */
  public interface Watch {
    /** Arm {@code name} starts with {@code seed}. */
    void arm(String name, long seed);

    /** The arm that started last is done. */
    void armDone();

    /** Prints {@code line} on stdout (without garbling a progress bar). */
    void say(String line);

    /** Every arm is done: the report follows on stdout. */
    void allDone();
  }

  /** Runs the arms ("kernel", "early-unlock") and prints; returns the exit code (0 ok, 1 a failed arm). */
  public static int run(PrintStream out, HmmEmuSettings settings, List<String> arms, boolean json) {
    return run(out, settings, arms, json, -1, null, 0, null, SimRuns.byDefault(), null);
  }

  /**
   * {@link #run(PrintStream, HmmEmuSettings, List, boolean)} with a constant one-way hop on every host-device
   * direction ({@code oneWayMicros} >= 0; -1 keeps hmm-emu.link), and, when {@code recorders} is not null, one
   * {@link RunRecorder} per arm (keeping at most {@code cap} timeline records) fed every checked trace event;
   * {@code replay} is the command line a failed run prints to replay itself (null: the seed alone).
   */
  public static int run(PrintStream out, HmmEmuSettings settings, List<String> arms, boolean json,
      double oneWayMicros, List<RunRecorder> recorders, int cap, String replay) {
    return run(out, settings, arms, json, oneWayMicros, recorders, cap, replay, SimRuns.byDefault(), null);
  }

  /**
   * {@link #run(PrintStream, HmmEmuSettings, List, boolean, double, List, int, String)} as a command's {@code runs}
   * (its fast-forward flag; the figures printed are its runs' only), shown to {@code watch} (or null) as they go.
   */
  public static int run(PrintStream out, HmmEmuSettings settings, List<String> arms, boolean json,
      double oneWayMicros, List<RunRecorder> recorders, int cap, String replay, SimRuns runs, Watch watch) {
    HmmEmuSettings.Demo d = settings.demo;
    LinkSettings link = link(settings, oneWayMicros);
    hostCost(settings); // a bad value is refused before anything is printed or run
    controllerHopMicros(settings);
    long maxModelMicros = d.runTimeout().toNanos() / 1000;
    if (!json) {
      out.println("simulating (1 CPU node, " + d.gpuNodes() + " GPU nodes, seed " + d.seed() + ", link "
          + link.defaults().delay() + ") per arm...");
    }
    List<Experiment.RunResult> results = new ArrayList<>();
    long events = 0, wallNanos = 0, cpuNanos = 0, hash = 0x1234_5678_9abc_def0L;
    java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
    List<String> hashes = new ArrayList<>();
    for (String a : arms) {
      String name = armName(a);
      RunRecorder recorder = recorders == null ? null : new RunRecorder(name, cap);
      if (recorder != null) recorders.add(recorder);
      long cpu0 = threads.getCurrentThreadCpuTime();
      if (watch != null) watch.arm(name, d.seed());
      SimExperiment.Result r = runArm(settings, link, a, d.seed(), recorder == null ? null : recorder::onEvent, runs);
      if (watch != null) watch.armDone();
      cpuNanos += threads.getCurrentThreadCpuTime() - cpu0;
      events += r.traceEvents();
      wallNanos += r.wallNanos();
      hash = Long.rotateLeft(hash ^ r.traceHash(), 31) * 0x9E3779B97F4A7C15L;
      hashes.add(TraceHash.hex(r.traceHash()));
      results.add(toRunResult(r));
      if (!json) {
        String line = String.format(Locale.ROOT, "  arm '%s' done: %d model µs, %d trace events, trace hash %s%s", name,
            r.modelMicros(), r.traceEvents(), TraceHash.hex(r.traceHash()),
            r.finished() ? "" : " (NOT FINISHED within " + maxModelMicros + " model µs)");
        if (watch != null) watch.say(line);
        else out.println(line);
      }
    }
    if (watch != null) watch.allDone();
    double eps = wallNanos == 0 ? 0 : events / (wallNanos / 1e9);
    // Per second of this thread's CPU time: on a loaded machine the wall-clock figure measures the other processes.
    double epcs = cpuNanos <= 0 ? 0 : events / (cpuNanos / 1e9);
    boolean ok = results.stream().allMatch(Experiment.RunResult::ok);
    if (!json) {
      DemoReport.print(out, settings, results, false);
      out.printf(Locale.ROOT, "simulator: %d trace events, each judged by the invariant checker, in %.2f s wall:"
          + " %.0f events/s (%.0f per CPU second of the simulating thread); trace hash %s%n", events, wallNanos / 1e9,
          eps, epcs, TraceHash.hex(hash));
      if (!ok) out.println("replay: " + (replay != null ? replay : "hmm-emu demo --sim --seed " + d.seed()));
      out.println(runs.totalsLine());
    } else {
      String base = DemoReport.toJson(results, 0);
      StringBuilder sb = new StringBuilder(base.substring(0, base.length() - 1));
      sb.append(String.format(Locale.ROOT, ", \"simulated\": true, \"seed\": %d, \"eventsPerSecond\": %.0f,"
          + " \"eventsPerCpuSecond\": %.0f, \"traceHash\": \"%s\", \"armTraceHashes\": [", d.seed(), eps, epcs,
          TraceHash.hex(hash)));
      for (int i = 0; i < hashes.size(); i++) sb.append(i > 0 ? ", " : "").append('"').append(hashes.get(i)).append('"');
      out.println(sb.append("], ").append(runs.totalsJson()).append("}"));
    }
    return ok ? 0 : 1;
  }

  /** The simulator's figures as the cluster experiment's record; an unfinished run carries that as a violation. */
  static Experiment.RunResult toRunResult(SimExperiment.Result r) {
    List<String> violations = new ArrayList<>(r.violations());
    if (!r.finished()) {
      violations.add(r.liveness() != null ? r.liveness()
          : "the workload did not finish within the model-time or event bound (at " + r.modelMicros() + " model µs)");
    }
    long gpu = r.gpuAtomics();
    return new Experiment.RunResult(r.name(), r.cpuAtomics(), gpu, r.gpuCancelled(), r.finalValue(),
        r.expectedValue(), gpu == 0 ? 0 : (double) r.faultRounds() / gpu,
        r.faultsHandled() == 0 ? 0 : (double) r.driverIterations() / r.faultsHandled(), r.driverIterationsMax(),
        r.driverTimeouts(), r.invalidations(), p(r.gpuLatency(), 50), p(r.gpuLatency(), 99), violations,
        r.wallNanos() / 1_000_000, r.eventsChecked(), r.checkerCaughtUp(), 0, 0, r.cpuFaults(),
        p(r.cpuLatency(), 50), p(r.cpuLatency(), 99),
        new Experiment.Totals(r.faultRounds(), r.driverIterations(), r.faultsHandled(), r.gpuLatency(),
            r.cpuLatency()));
  }

  private static double p(org.HdrHistogram.Histogram h, double q) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(q);
  }
}
