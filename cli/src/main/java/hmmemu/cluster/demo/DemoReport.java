package hmmemu.cluster.demo;

import hmmemu.cluster.HmmEmuSettings;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** Prints the headline experiment's table and, with --json, the one-line JSON result. */
public final class DemoReport {
  private DemoReport() {}

  public static void print(PrintStream out, HmmEmuSettings s, List<Experiment.RunResult> runs, boolean json) {
    print(out, s, runs, json, 0);
  }

  /** As above; {@code processes} > 0 adds the number of JVMs that took part to the JSON. */
  public static void print(PrintStream out, HmmEmuSettings s, List<Experiment.RunResult> runs, boolean json,
      int processes) {
    HmmEmuSettings.Demo d = s.demo;
    if (!json) {
      out.printf(Locale.ROOT, "%nhmm-emu headline experiment: %d CPU threads x %d ops, %d GPU nodes x %d warps x %d ops,"
              + " %d counters on %d pages, seed %d, time-scale %.1f%s%n%n",
          d.cpuThreads(), d.opsPerThread(), d.gpuNodes(), d.warpsPerDevice(), d.opsPerWarp(), d.counters(),
          d.counterPages(), d.seed(), s.timeScale, (d.cpuSpin() ? ", CPU threads spinning" : "")
              + (d.cpuThinkMicros() > 0 ? ", CPU think " + d.cpuThinkMicros() + " µs" : ""));
      String fmt = "%-24s %8s %8s %9s %21s %11s %12s %8s %8s %19s %5s%n";
      out.printf(Locale.ROOT, fmt, "arm", "cpu ops", "gpu ops", "gpu cancl", "final / expected", "rounds/atom",
          "iters mean/max", "timeouts", "invals", "gpu p50/p99 (µs)", "viol");
      for (Experiment.RunResult r : runs) {
        out.printf(Locale.ROOT, fmt, r.name(), r.cpuAtomics(), r.gpuAtomics(), r.gpuCancelled(),
            r.finalValue() + " / " + r.expectedValue(), String.format(Locale.ROOT, "%.2f", r.faultRoundsPerGpuAtomic()),
            String.format(Locale.ROOT, "%.1f / %d", r.driverIterationsMean(), r.driverIterationsMax()),
            r.driverTimeouts(), r.invalidations(),
            String.format(Locale.ROOT, "%.0f / %.0f", r.gpuAtomicLatencyP50Micros(), r.gpuAtomicLatencyP99Micros()),
            r.violations().size());
      }
      out.println();
      out.println("rounds/atom: GPU fault rounds per completed GPU atomic; iters: nouveau atomic-loop iterations per"
          + " handled fault; timeouts: faults cancelled with -EBUSY at the 1000 ms (model) deadline;");
      out.println("invals: invalidate callbacks delivered to drivers; gpu cancl: GPU atomics whose fault was cancelled"
          + " (never executed, not in the expected sum).");
      for (Experiment.RunResult r : runs) {
        if (r.driverTimeouts() > 0) {
          out.println("finding (" + r.name() + "): " + r.driverTimeouts() + " driver loop(s) spun to the deadline."
              + " docs/PROTOCOL.md §8 R7: once the page is device-exclusive (held by the other GPU, by this device for a"
              + " stale fault entry of the next batch, or left by a failed iteration), make_device_exclusive's GUP"
              + " restore raises CLEAR (owner NULL) on the caller's own notifier after read_begin, so every"
              + " read_retry fails (scenarios/cases/r7-stale-fault-next-batch.conf).");
        }
        for (String v : r.violations()) out.println("VIOLATION (" + r.name() + "): " + v);
        if (r.gpuNodesLost() > 0) {
          out.println("lost nodes (" + r.name() + "): " + r.gpuNodesLost() + " GPU node(s) downed by the cluster mid-run;"
              + " " + r.gpuUnconfirmed() + " GPU atomic(s) of their warps that had not reported unconfirmed (may or may"
              + " not be in memory)");
        }
        if (r.finalValue() < r.expectedValue() || r.finalValue() > r.expectedValue() + r.gpuUnconfirmed()) {
          out.println("LOST UPDATES (" + r.name() + "): final " + r.finalValue() + " != expected " + r.expectedValue()
              + (r.gpuUnconfirmed() > 0 ? " (+ up to " + r.gpuUnconfirmed() + " unconfirmed)" : ""));
        }
        if (!r.checkerCaughtUp()) out.println("CHECKER did not catch up (" + r.name() + ")");
      }
      boolean ok = runs.stream().allMatch(Experiment.RunResult::ok);
      out.println(ok ? "result: ok (no invariant violated, no increment lost)" : "result: FAILED");
    }
    if (json) out.println(toJson(runs, processes));
  }

  public static String toJson(List<Experiment.RunResult> runs, int processes) {
    StringBuilder sb = new StringBuilder();
    int violations = runs.stream().mapToInt(r -> r.violations().size()).sum();
    boolean ok = runs.stream().allMatch(Experiment.RunResult::ok);
    sb.append("{\"ok\": ").append(ok).append(", \"violations\": ").append(violations);
    if (processes > 0) sb.append(", \"processes\": ").append(processes);
    sb.append(", \"runs\": [");
    for (int i = 0; i < runs.size(); i++) {
      Experiment.RunResult r = runs.get(i);
      if (i > 0) sb.append(", ");
      sb.append(String.format(Locale.ROOT, "{\"name\": \"%s\", \"cpuAtomics\": %d, \"gpuAtomics\": %d, "
              + "\"gpuCancelled\": %d, \"finalValue\": %d, \"expectedValue\": %d, \"faultRoundsPerGpuAtomic\": %.4f, "
              + "\"driverIterationsMean\": %.4f, \"driverIterationsMax\": %d, \"driverTimeouts\": %d, "
              + "\"invalidations\": %d, \"gpuAtomicLatencyP50Micros\": %.1f, \"gpuAtomicLatencyP99Micros\": %.1f, "
              + "\"cpuFaults\": %d, \"cpuAtomicLatencyP99Micros\": %.1f, "
              + "\"violations\": %d, \"eventsChecked\": %d, \"wallMillis\": %d}",
          r.name(), r.cpuAtomics(), r.gpuAtomics(), r.gpuCancelled(), r.finalValue(), r.expectedValue(),
          r.faultRoundsPerGpuAtomic(), r.driverIterationsMean(), r.driverIterationsMax(), r.driverTimeouts(),
          r.invalidations(), r.gpuAtomicLatencyP50Micros(), r.gpuAtomicLatencyP99Micros(), r.cpuFaults(),
          r.cpuAtomicLatencyP99Micros(), r.violations().size(),
          r.eventsChecked(), r.wallMillis()));
      if (r.gpuNodesLost() > 0) {
        sb.setLength(sb.length() - 1);
        sb.append(", \"gpuNodesLost\": ").append(r.gpuNodesLost()).append(", \"gpuUnconfirmed\": ")
            .append(r.gpuUnconfirmed()).append('}');
      }
    }
    return sb.append("]}").toString();
  }
}
