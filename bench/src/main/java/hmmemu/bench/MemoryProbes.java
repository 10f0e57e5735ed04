package hmmemu.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;

/**
 * heapBytesPerPage and retainedBytesPerCycle: used heap after a full GC (System.gc() several times until it
 * settles, read through the MemoryMXBean) before and after populating pages or running cycles of the pure CPU core.
 */
final class MemoryProbes {
  private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

  private MemoryProbes() {}

  /** Used heap after full GCs: the minimum of a few collections, so a collection that raced allocation is ignored. */
  static long usedAfterGc() {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      best = Math.min(best, MEMORY.getHeapMemoryUsage().getUsed());
    }
    return best;
  }

  private static long heapMax() {
    long max = MEMORY.getHeapMemoryUsage().getMax();
    return max > 0 ? max : Runtime.getRuntime().maxMemory();
  }

  /**
   * Heap per page of a fresh CPU core with {@code pages} pages each populated by one CPU write of one word.
   * Stops early (and says so) when the heap would run out, giving the figure at the pages reached.
   */
  static Figure heapBytesPerPage(int pages, int repetitions) {
    List<Double> samples = new ArrayList<>();
    String note = "at " + pages + " pages, one CPU write of one word each, after full GC";
    for (int rep = 0; rep < repetitions; rep++) {
      long before = usedAfterGc();
      CpuLoop core = new CpuLoop(pages);
      int done = 1; // CpuLoop already wrote page 0
      long limit = (long) (heapMax() * 0.80);
      for (long p = 1; p < pages; p++) {
        core.write(CoupledCores.va(p), p);
        done++;
        if ((p & 0x3fff) == 0 && MEMORY.getHeapMemoryUsage().getUsed() > limit
            && usedAfterGc() > limit) {
          note = "heap limit: stopped at " + done + " of " + pages + " pages (80% of -Xmx "
              + heapMax() / (1 << 20) + " MiB)";
          break;
        }
      }
      long after = usedAfterGc();
      samples.add((double) (after - before) / done);
      java.lang.ref.Reference.reachabilityFence(core); // the core is what is measured
      if (done < pages) break;
    }
    return Figure.of("heapBytesPerPage", "B/page", samples, note);
  }

  /**
   * Heap the CPU core retains per conversion + restore cycle on one page: a warm-up, then {@code repetitions}
   * segments of {@code cycles / repetitions} cycles, each measured from full GC to full GC.
   */
  static Figure retainedBytesPerCycle(long cycles, int repetitions) {
    CpuLoop core = new CpuLoop(1);
    long warm = Math.min(20_000, Math.max(1, cycles / 5));
    for (long i = 0; i < warm; i++) core.cycle();
    List<Double> samples = new ArrayList<>();
    long per = Math.max(1, cycles / repetitions);
    long before = usedAfterGc();
    for (int rep = 0; rep < repetitions; rep++) {
      for (long i = 0; i < per; i++) core.cycle();
      long after = usedAfterGc();
      samples.add((double) (after - before) / per);
      before = after;
    }
    java.lang.ref.Reference.reachabilityFence(core);
    return Figure.of("retainedBytesPerCycle", "B/cycle", samples,
        per * repetitions + " cycles in " + repetitions + " segments after " + warm + " warm-up cycles");
  }
}
