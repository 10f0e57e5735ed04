package hmmemu.sim;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * {@link SimCopy}'s own cost, for measurement only: with {@code -Dhmm-emu.copy.stats=true} every 1,000 copies print one
 * line to standard error (the thread CPU per copy, the objects copied per copy, the CPU per object), and the copies
 * since the last line at exit; off, nothing is read. With {@code -Dhmm-emu.copy.classes=true} as well, the objects
 * copied are also counted by class (with their shallow bytes) and the classes printed at exit, most objects first.
 * Emulator-only host mechanism, not a kernel structure.
 */
final class CopyStats {
  /** Whether copies are counted and timed ({@code -Dhmm-emu.copy.stats=true}). */
  static final boolean ON = Boolean.getBoolean("hmm-emu.copy.stats");
  /** Whether copied objects are counted by class too ({@code -Dhmm-emu.copy.classes=true}, with {@link #ON}). */
  static final boolean CLASSES = ON && Boolean.getBoolean("hmm-emu.copy.classes");
  private static final ThreadMXBean THREADS = ON ? ManagementFactory.getThreadMXBean() : null;
  private static final int EVERY = 1_000;
  private static long copies;
  private static long objects;
  private static long nanos;
  private static long allCopies;
  /** Per class copied: {objects, shallow bytes, instances shared after a per-instance check}. */
  private static final java.util.Map<Class<?>, long[]> BY_CLASS = new java.util.HashMap<>();
  /** Per "class <- holder" (the nearest plain object whose fields lead to it): {objects, shallow bytes}. */
  private static final java.util.Map<String, long[]> BY_HOLDER = new java.util.HashMap<>();

  private CopyStats() {}

  static {
    if (ON) Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      print();
      if (CLASSES) printClasses();
    }, "copy-stats"));
  }

  /** The current thread's CPU time (ns) when {@link #ON}, else 0. */
  static long start() { return ON ? THREADS.getCurrentThreadCpuTime() : 0; }

  /** Counts one copy of {@code copied} objects that started at {@code t0} ({@link #start}). */
  static synchronized void end(long t0, long copied) {
    nanos += THREADS.getCurrentThreadCpuTime() - t0;
    objects += copied;
    allCopies++;
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

  /** Counts one copied object by class, and by class and the plain object's class holding it ({@link #CLASSES}). */
  static synchronized void count(Object o, Class<?> via) {
    long[] c = BY_CLASS.computeIfAbsent(o.getClass(), k -> new long[3]);
    c[0]++;
    long bytes = shallowBytes(o);
    c[1] += bytes;
    long[] h = BY_HOLDER.computeIfAbsent(o.getClass().getName() + " <- " + (via == null ? "-" : via.getName()),
        k -> new long[2]);
    h[0]++;
    h[1] += bytes;
  }

  /** Counts one record or immutable collection shared after {@link SimCopy}'s per-instance check ({@link #CLASSES}). */
  static synchronized void checkedShared(Object o) {
    BY_CLASS.computeIfAbsent(o.getClass(), k -> new long[3])[2]++;
  }

  /**
   * {@code o}'s own size in bytes, from its fields' offsets (a record's or lambda's: their sizes summed) or its
   * array's length, 8-byte aligned.
   */
  private static long shallowBytes(Object o) {
    Class<?> c = o.getClass();
    long end;
    if (c.isArray()) {
      end = CopyPlan.U.arrayBaseOffset(c) + (long) java.lang.reflect.Array.getLength(o) * CopyPlan.U.arrayIndexScale(c);
    } else {
      end = 12;
      for (Class<?> x = c; x != null; x = x.getSuperclass()) {
        for (java.lang.reflect.Field f : x.getDeclaredFields()) {
          if (java.lang.reflect.Modifier.isStatic(f.getModifiers())) continue;
          Class<?> t = f.getType();
          int size = t == long.class || t == double.class ? 8 : t == int.class || t == float.class ? 4
              : t == short.class || t == char.class ? 2 : t == byte.class || t == boolean.class ? 1 : 4;
          end = x.isHidden() || x.isRecord() ? end + size // no offsets there: an estimate of the packed fields
              : Math.max(end, CopyPlan.U.objectFieldOffset(f) + size);
        }
      }
    }
    return (end + 7) & ~7L;
  }

  /** Prints the classes copied, most objects first: objects and bytes per copy, and their shares. */
  private static synchronized void printClasses() {
    if (allCopies == 0) return;
    long objs = 0, bytes = 0;
    for (long[] c : BY_CLASS.values()) {
      objs += c[0];
      bytes += c[1];
    }
    System.err.printf(java.util.Locale.ROOT, "SimCopy classes: %d copies, %.1f objects and %.0f bytes a copy%n",
        allCopies, (double) objs / allCopies, (double) bytes / allCopies);
    java.util.List<java.util.Map.Entry<Class<?>, long[]>> es = new java.util.ArrayList<>(BY_CLASS.entrySet());
    es.sort((a, b) -> Long.compare(b.getValue()[0] + b.getValue()[2], a.getValue()[0] + a.getValue()[2]));
    for (int i = 0; i < Math.min(40, es.size()); i++) {
      long[] c = es.get(i).getValue();
      System.err.printf(java.util.Locale.ROOT,
          "  %9.1f objects (%4.1f %%) %10.0f bytes (%4.1f %%) %8.1f shared after a check  %s%n",
          (double) c[0] / allCopies, 100.0 * c[0] / objs, (double) c[1] / allCopies, 100.0 * c[1] / bytes,
          (double) c[2] / allCopies, es.get(i).getKey().getName());
    }
    System.err.println("SimCopy classes by holder (the nearest plain object whose fields lead there):");
    java.util.List<java.util.Map.Entry<String, long[]>> hs = new java.util.ArrayList<>(BY_HOLDER.entrySet());
    hs.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
    for (int i = 0; i < Math.min(40, hs.size()); i++) {
      long[] c = hs.get(i).getValue();
      System.err.printf(java.util.Locale.ROOT, "  %9.1f objects (%4.1f %%) %10.0f bytes (%4.1f %%)  %s%n",
          (double) c[0] / allCopies, 100.0 * c[0] / objs, (double) c[1] / allCopies, 100.0 * c[1] / bytes,
          hs.get(i).getKey());
    }
  }
}
