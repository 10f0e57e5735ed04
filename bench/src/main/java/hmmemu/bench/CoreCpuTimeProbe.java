package hmmemu.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;

/**
 * A profiling aid, not a bench figure: the same conversion + restore cycles as {@link CoreStepsBenchmark}, rated per
 * second of this thread's CPU time as well as per second of wall time, one line per CPU second. On a loaded machine
 * the wall rate mostly measures the share of a CPU the thread gets (and how soon the JIT compilers got theirs); the
 * CPU-time rate compares code changes. Usage: {@code java -cp <bench and core classes> hmmemu.bench.CoreCpuTimeProbe
 * [cpu-seconds]} (docs/PERFORMANCE.md, "coreStepsPerSecond").
 */
public final class CoreCpuTimeProbe {
  private CoreCpuTimeProbe() {}

  public static void main(String[] args) {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 12;
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    CpuLoop loop = new CpuLoop(1);
    double[] perCpuSecond = new double[seconds];
    for (int s = 0; s < seconds; s++) {
      long t0 = System.nanoTime();
      long c0 = mx.getCurrentThreadCpuTime();
      long s0 = loop.steps;
      while (mx.getCurrentThreadCpuTime() - c0 < 1_000_000_000L) for (int i = 0; i < 1000; i++) loop.cycle();
      long steps = loop.steps - s0;
      double wall = steps / ((System.nanoTime() - t0) / 1e9);
      perCpuSecond[s] = steps / ((mx.getCurrentThreadCpuTime() - c0) / 1e9);
      System.out.printf(Locale.ROOT, "cpu second %d: %,.0f steps per wall second, %,.0f steps per CPU second%n", s,
          wall, perCpuSecond[s]);
    }
    Arrays.sort(perCpuSecond);
    System.out.printf(Locale.ROOT, "median: %,.0f steps per CPU second (%d CPU seconds)%n", perCpuSecond[seconds / 2],
        seconds);
  }
}
