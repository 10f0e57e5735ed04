package hmmemu.sim;

import java.util.HashMap;
import java.util.Map;

/**
 * Diagnostics ({@code -Dhmm.ff.wakeDump=FILE}): what a foreign event (a CPU thread's wake) between two jumps of one
 * spin did to the state: the leaves of the next look's first picture that differ from the last jump's picture
 * advanced by the periods between them. Never enters the run. Not a kernel structure.
 */
final class FastForwardWakeProbe {
  private FastForwardWakeProbe() {}

  static final java.io.PrintStream OUT = open();

  private static java.io.PrintStream open() {
    String f = System.getProperty("hmm.ff.wakeDump");
    if (f == null) return null;
    try {
      return new java.io.PrintStream(new java.io.FileOutputStream(f, true), true);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final Map<Sim, Object[]> LAST = new java.util.WeakHashMap<>();
  private static int pieces;

  /** Before a jump: the named picture, the deltas, the instant and P. */
  static synchronized void beforeJump(Sim sim, StateWalk last, long[] delta, byte[] kind, long pNanos, long n) {
    if (OUT == null || pieces > 60) return;
    StateWalk w = StateWalk.window(sim, true);
    Map<String, long[]> m = new HashMap<>();
    for (int i = 0; i < Math.min(w.size(), delta.length); i++) {
      m.put(w.leaves.get(i).path(), new long[] {w.value(i), delta[i], kind[i]});
    }
    LAST.put(sim, new Object[] {m, sim.nowNanos(), pNanos, n});
  }

  /** At the next look's first picture. */
  static synchronized void firstPicture(Sim sim) {
    if (OUT == null || pieces > 60) return;
    Object[] x = LAST.remove(sim);
    if (x == null) return;
    pieces++;
    @SuppressWarnings("unchecked") Map<String, long[]> before = (Map<String, long[]>) x[0];
    long t0 = (Long) x[1], p = (Long) x[2], n = (Long) x[3];
    long t1 = sim.nowNanos();
    long periods = (t1 - t0) / p;
    StateWalk w = StateWalk.window(sim, true);
    OUT.println("PIECE sim " + System.identityHashCode(sim) + " t0 " + t0 + " t1 " + t1 + " P " + p + " periods "
        + periods + " (rem " + (t1 - t0) % p + ") jumped n " + n + " leaves " + before.size() + " -> " + w.size());
    int shown = 0;
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < w.size(); i++) {
      StateWalk.Leaf l = w.leaves.get(i);
      long[] b = before.get(l.path());
      seen.add(l.path());
      if (b == null) {
        if (shown++ < 150) OUT.println("  new " + l.path() + " = " + l.value() + " (" + l.site() + ")");
        continue;
      }
      long pred = b[0] + periods * b[1];
      if (pred != l.value() && shown++ < 150) {
        OUT.println("  diff " + l.path() + " kind " + b[2] + " before " + b[0] + " delta " + b[1] + " now " + l.value()
            + " off " + (l.value() - pred) + " (" + l.site() + ")");
      }
    }
    for (String k : before.keySet()) if (!seen.contains(k) && shown++ < 150) OUT.println("  gone " + k);
    OUT.println("  shown " + shown);
  }
}
