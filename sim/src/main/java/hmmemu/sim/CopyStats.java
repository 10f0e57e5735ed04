package hmmemu.sim;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * {@link SimCopy}'s own cost, for measurement only: with {@code -Dhmm-emu.copy.stats=true} every 1,000 copies print one
 * line to standard error (the thread CPU per copy, the objects copied per copy, the CPU per object), and the copies
 * since the last line at exit; off, nothing is read. Emulator-only host mechanism, not a kernel structure.
 */
final class CopyStats {
  /** Whether copies are counted and timed ({@code -Dhmm-emu.copy.stats=true}). */
  static final boolean ON = Boolean.getBoolean("hmm-emu.copy.stats");
  private static final ThreadMXBean THREADS = ON ? ManagementFactory.getThreadMXBean() : null;
  private static final int EVERY = 1_000;
  private static long copies;
  private static long objects;
  private static long nanos;

  private CopyStats() {}

  static {
    if (ON) Runtime.getRuntime().addShutdownHook(new Thread(CopyStats::print, "copy-stats"));
  }

  /** The current thread's CPU time (ns) when {@link #ON}, else 0. */
  static long start() { return ON ? THREADS.getCurrentThreadCpuTime() : 0; }

  /** Counts one copy of {@code copied} objects that started at {@code t0} ({@link #start}). */
  static synchronized void end(long t0, long copied) {
    nanos += THREADS.getCurrentThreadCpuTime() - t0;
    objects += copied;
    if (++copies % EVERY == 0) print();
  }

  /** Prints the copies since the last line (if any) and starts the next line's count. */
  private static synchronized void print() {
    long n = copies % EVERY == 0 && copies > 0 ? EVERY : copies % EVERY;
    if (n == 0 || nanos == 0) return;
    System.err.printf(java.util.Locale.ROOT, "SimCopy stats: copies %d-%d: %.1f us CPU a copy, %.0f objects a copy,"
        + " %.0f ns an object%n", copies - n + 1, copies, nanos / 1e3 / n, (double) objects / n,
        objects == 0 ? 0.0 : (double) nanos / objects);
    nanos = 0;
    objects = 0;
  }
}
