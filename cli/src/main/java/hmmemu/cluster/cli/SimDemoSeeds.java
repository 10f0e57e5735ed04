package hmmemu.cluster.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.demo.SimDemo;
import hmmemu.cluster.demo.SimRuns;
import hmmemu.cluster.scenario.DemoSeeds;
import hmmemu.node.link.LinkSettings;
import hmmemu.sim.TraceHash;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * Not a kernel structure: {@code hmm-emu demo --sim --seeds N [--first-seed S] [--threads T]}, the headline demo
 * workload x N seeds in the simulator ({@link DemoSeeds}). Each seed runs the selected arms, as
 * {@code demo --sim --seed S} runs them, and is judged as that command judges them (no violation, no lost increment,
 * every lane finished, the checker caught up). Prints the seeds run, each failing seed with the line that replays it,
 * per arm the cancels and driver deadline spins as proportions (95% Wilson intervals) over the seeds' atomics and
 * faults and over the seeds, the pooled GPU atomic latency, model time, then the trace events, events per CPU
 * second and the fast-forward totals. Everything but the times depends on the seeds alone, not on the thread count.
 */
final class SimDemoSeeds {
  private SimDemoSeeds() {}

  /**
   * Runs seeds {@code first..first+n-1} of {@code arms} on {@code threads} threads and prints the summary (with
   * {@code json}, one JSON object last); {@code replayFlags}: what a replay line adds after {@code --arms A} (leading
   * space). Returns the exit code: 0 every seed ok, 1 a seed failed.
   */
  static int run(PrintStream out, HmmEmuSettings settings, List<String> arms, double oneWayMicros, long first, int n,
      int threads, boolean json, boolean quiet, String replayFlags, SimRuns runs) {
    LinkSettings link = SimDemo.link(settings, oneWayMicros);
    SimDemo.hostCost(settings); // a bad value is refused before anything runs
    SimDemo.controllerHopMicros(settings);
    HmmEmuSettings.Demo d = settings.demo;
    if (!json) {
      out.printf(Locale.ROOT, "simulating the demo workload x %d seed(s) (seeds %d..%d, arms %s; 1 CPU node, %d GPU"
              + " node(s), link %s) on %d thread(s)...%n", n, first, first + n - 1, String.join(", ", arms),
          d.gpuNodes(), link.defaults().delay(), threads);
    }
    DemoSeeds.Summary summary = new DemoSeeds.Summary(arms);
    long wall0 = System.nanoTime();
    try (Progress progress = new Progress("seeds", n, quiet).events(runs::events)) {
      DemoSeeds.run(arms, first, n, threads, (arm, seed) -> SimDemo.runArm(settings, link, arm, seed, null, runs),
          s -> {
            summary.accept(s);
            progress.one();
            progress.stage("seed " + s.seed() + (summary.failing.isEmpty() ? "" : ", " + summary.failing.size()
                + " failed"));
          });
    }
    double wall = (System.nanoTime() - wall0) / 1e9, cpu = summary.cpuNanos / 1e9;
    double epcs = cpu <= 0 ? 0 : summary.traceEvents / cpu;
    boolean ok = summary.failing.isEmpty();
    if (!json) {
      String fmt = "%-24s %6s %6s  %-28s %-22s %-30s %-22s %-16s %s%n";
      out.printf(Locale.ROOT, fmt, "arm", "seeds", "failed", "cancel/GPU atomic [95%]", "seeds w/ cancel [95%]",
          "deadline spin/fault [95%]", "seeds w/ spin [95%]", "gpu p50/p99 µs", "model ms mean/max");
      for (DemoSeeds.ArmTotals t : summary.arms.values()) {
        long issued = t.gpuAtomics + t.gpuCancelled;
        out.printf(Locale.ROOT, fmt, SimDemo.armName(t.arm), t.seeds, t.failedSeeds,
            prop(t.gpuCancelled, issued), prop(t.seedsWithCancel, t.seeds), prop(t.driverTimeouts, t.faultsHandled),
            prop(t.seedsWithTimeout, t.seeds), t.gpuLatencyPercentile(50) + " / " + t.gpuLatencyPercentile(99),
            String.format(Locale.ROOT, "%.1f / %.1f", t.modelMicros / 1e3 / Math.max(1, t.seeds),
                t.modelMicrosMax / 1e3));
      }
      out.println(summary.seeds + " seed(s) run, " + summary.failing.size() + " failed"
          + (ok ? ": no violation, no lost increment" : ":"));
      for (DemoSeeds.Seed s : summary.failing) {
        out.println("  seed " + s.seed() + " FAILED: " + s.why());
        out.println("  replay: " + DemoSeeds.replayLine(s.seed(), arms, replayFlags));
      }
      out.printf(Locale.ROOT, "simulator: %d trace events, each judged by the invariant checker; %.0f per CPU second"
              + " of the simulating threads (%.1f s CPU, %.1f s wall on %d thread(s)); trace hash over the seeds %s%n",
          summary.traceEvents, epcs, cpu, wall, threads, TraceHash.hex(summary.traceHash()));
      out.println(runs.totalsLine());
    } else {
      out.println(toJson(summary, arms, first, replayFlags, epcs, cpu, runs));
    }
    return ok ? 0 : 1;
  }

  /** {@code k/n = p [lo, hi]} with the 95% Wilson interval. */
  private static String prop(long k, long n) {
    double[] w = SimSweep.wilson(k, n);
    return String.format(Locale.ROOT, "%d/%d=%.3f [%.3f,%.3f]", k, n, n == 0 ? 0.0 : (double) k / n, w[0], w[1]);
  }

  /** The last line with --json; every member but eventsPerCpuSecond and cpuSeconds depends on the seeds alone. */
  static String toJson(DemoSeeds.Summary summary, List<String> arms, long first, String replayFlags, double epcs,
      double cpu, SimRuns runs) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode o = f.objectNode();
    o.put("ok", summary.failing.isEmpty()).put("simulated", true).put("seeds", summary.seeds).put("firstSeed", first)
        .put("failed", summary.failing.size());
    ArrayNode failing = o.putArray("failingSeeds");
    ArrayNode replays = o.putArray("replays");
    for (DemoSeeds.Seed s : summary.failing) {
      failing.add(s.seed());
      replays.add(DemoSeeds.replayLine(s.seed(), arms, replayFlags));
    }
    ArrayNode as = o.putArray("arms");
    for (DemoSeeds.ArmTotals t : summary.arms.values()) {
      long issued = t.gpuAtomics + t.gpuCancelled;
      double[] c = SimSweep.wilson(t.gpuCancelled, issued), rc = SimSweep.wilson(t.seedsWithCancel, t.seeds);
      double[] s = SimSweep.wilson(t.driverTimeouts, t.faultsHandled), rs = SimSweep.wilson(t.seedsWithTimeout, t.seeds);
      ObjectNode a = as.addObject();
      a.put("arm", t.arm).put("name", SimDemo.armName(t.arm)).put("seeds", t.seeds).put("failedSeeds", t.failedSeeds)
          .put("cpuAtomics", t.cpuAtomics).put("gpuAtomics", t.gpuAtomics).put("gpuCancelled", t.gpuCancelled)
          .put("cancelPerGpuAtomic", rate(t.gpuCancelled, issued)).put("cancelLo", c[0]).put("cancelHi", c[1])
          .put("seedsWithCancel", t.seedsWithCancel).put("seedsWithCancelRate", rate(t.seedsWithCancel, t.seeds))
          .put("seedsWithCancelLo", rc[0]).put("seedsWithCancelHi", rc[1])
          .put("faultsHandled", t.faultsHandled).put("driverTimeouts", t.driverTimeouts)
          .put("driverTimeoutPerFault", rate(t.driverTimeouts, t.faultsHandled)).put("driverTimeoutLo", s[0])
          .put("driverTimeoutHi", s[1]).put("seedsWithDriverTimeout", t.seedsWithTimeout)
          .put("seedsWithDriverTimeoutRate", rate(t.seedsWithTimeout, t.seeds))
          .put("seedsWithDriverTimeoutLo", rs[0]).put("seedsWithDriverTimeoutHi", rs[1])
          .put("driverIterations", t.driverIterations)
          .put("gpuAtomicLatencyP50Micros", t.gpuLatencyPercentile(50))
          .put("gpuAtomicLatencyP99Micros", t.gpuLatencyPercentile(99))
          .put("modelMicrosMean", t.seeds == 0 ? 0 : t.modelMicros / t.seeds).put("modelMicrosMax", t.modelMicrosMax)
          .put("traceEvents", t.traceEvents);
    }
    o.put("traceEvents", summary.traceEvents).put("traceHash", TraceHash.hex(summary.traceHash()));
    o.put("eventsPerCpuSecond", Math.round(epcs)).put("cpuSeconds", Math.round(cpu * 10) / 10.0);
    String base = o.toString();
    return base.substring(0, base.length() - 1) + ", " + runs.totalsJson() + "}"; // as every simulator command
  }

  private static double rate(long k, long n) { return n == 0 ? 0 : (double) k / n; }
}
