package hmmemu.sim;

import java.util.HashMap;
import java.util.Map;

/**
 * The fast-forward's diagnostics on state pictures: where two simulators' pictures differ (equivalence tests of a
 * jumped run against the unskipped one) and which sites a picture's leaves come from. An emulator-only host mechanism,
 * not a kernel structure; moved out of {@link FastForward} unchanged.
 */
final class FastForwardDiagnostics {
  private FastForwardDiagnostics() {}

  /**
   * Where the state pictures of two simulators differ (site -> the first path and both values), the identity families
   * and the report-only ring left out; a difference of shape is reported under "shape". For equivalence tests of a
   * fast-forwarded run against the unskipped one (emulator-only).
   */
  public static Map<String, String> differences(Sim unskipped, Sim fastForwarded) {
    StateWalk x = StateWalk.of(unskipped), y = StateWalk.of(fastForwarded);
    Map<String, String> differ = new java.util.TreeMap<>();
    StateWalk named = null;
    for (int i = 0; i < Math.min(x.leaves.size(), y.leaves.size()); i++) {
      StateWalk.Leaf p = x.leaves.get(i), q = y.leaves.get(i);
      if (p.where() != q.where()) {
        StateWalk nx = StateWalk.of(unskipped, true), ny = StateWalk.of(fastForwarded, true);
        differ.put("shape", "leaf " + i + ": " + nx.leaves.get(i).path() + " unskipped, " + ny.leaves.get(i).path()
            + " fast-forwarded");
        return differ;
      }
      if (FastForwardSites.identity(p.site()) || FastForwardSites.REPORT_ONLY.containsKey(p.site())) continue;
      if (p.value() != q.value() && !differ.containsKey(p.site())) {
        if (named == null) named = StateWalk.of(unskipped, true);
        differ.put(p.site(), named.leaves.get(i).path() + " is " + p.value() + " unskipped, " + q.value() + " fast-forwarded");
      }
    }
    if (x.leaves.size() != y.leaves.size()) differ.put("shape", x.leaves.size() + " leaves unskipped, " + y.leaves.size());
    return differ;
  }

  /** The sites with the most leaves in a picture of {@code sim}, with their counts, and the total (diagnostics). */
  public static String leavesBySite(Sim sim, int top) {
    long t0 = System.nanoTime();
    StateWalk w = StateWalk.of(sim);
    long t = System.nanoTime() - t0;
    Map<String, Integer> n = new HashMap<>();
    for (StateWalk.Leaf l : w.leaves) n.merge(l.site(), 1, Integer::sum);
    return w.leaves.size() + " leaves in " + t / 1_000_000 + " ms: " + n.entrySet().stream()
        .sorted((a, b) -> b.getValue() - a.getValue()).limit(top).map(e -> e.getKey() + "=" + e.getValue())
        .collect(java.util.stream.Collectors.joining(", "));
  }


  /** The diagnostic log of {@code -Dhmm.ff.log=FILE} (each look's outcome, each spin's end), or null. */
  static java.io.PrintStream openLog() {
    String f = System.getProperty("hmm.ff.log");
    if (f == null) return null;
    try {
      return new java.io.PrintStream(new java.io.FileOutputStream(f), true);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("hmm.ff.log: " + e, e);
    }
  }

  /** This thread's CPU time (ns), or 0 where the JVM cannot tell (diagnostics: the looks' own cost). */
  static long cpuNanos() {
    return THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : 0;
  }

  private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

  /** Throws unless {@code w} (a picture with kept ring folds) is, leaf for leaf, the picture of {@code sim} without them. */
  static void sameWithoutFolds(Sim sim, StateWalk w) {
    StateWalk x = StateWalk.window(sim, false, false, w.size(), w.objects(), null, null);
    boolean same = x.size() == w.size() && x.objects() == w.objects() && java.util.Objects.equals(x.opaque, w.opaque);
    for (int i = 0; same && i < x.size(); i++) same = x.where(i) == w.where(i) && x.value(i) == w.value(i);
    if (!same) throw new IllegalStateException("fast-forward: a picture with kept ring folds differs from the one without");
  }
}
