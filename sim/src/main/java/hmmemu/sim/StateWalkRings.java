package hmmemu.sim;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * The checker's rings and tables of ids in a {@link StateWalk} picture (split from StateWalk, sessions 21 and 24): the
 * checker's LongTable as its entries sorted by key, a ring's window of newest entries folded into one hash leaf, each
 * entry folded on its own and its fold reused from the last picture where {@link RingFolds} allows. An emulator-only
 * host mechanism, not a kernel structure.
 */
final class StateWalkRings {
  private StateWalkRings() {}

  /**
   * The checker's hmmemu.checker.LongTable (open addressing: its slot layout depends on the keys and the history of
   * growths) as its entries sorted by key.
   */
  static void longTable(StateWalk w, Object t, StateWalk.P path) {
    try {
      Field kf = t.getClass().getDeclaredField("keys"), vf = t.getClass().getDeclaredField("values");
      kf.setAccessible(true);
      vf.setAccessible(true);
      long[] keys = (long[]) kf.get(t);
      Object[] values = (Object[]) vf.get(t);
      List<Integer> slots = new ArrayList<>();
      for (int i = 0; i < values.length; i++) if (values[i] != null) slots.add(i);
      slots.sort((a, b) -> Long.compare(keys[a], keys[b]));
      w.leaf(path, ".size", slots.size(), null, null);
      boolean fold = !w.folding && StateWalkClasses.FOLDED.containsKey(w.site);
      if (fold) {
        w.foldHash = 0x5EED;
        w.foldSite = w.site;
      }
      int i = 0;
      for (int sl : slots) {
        w.leaf(w.p(path, '{', i, ".k"), "", keys[sl], null, null);
        if (fold) {
          w.folding = true;
          w.foldKey = keys[sl];
        }
        w.walk(values[sl], w.p(path, '{', i++, ".v"), null, null);
        if (fold) w.folding = false;
      }
      if (fold) foldedRing(w, path);
    } catch (ReflectiveOperationException | RuntimeException e) {
      if (w.opaque == null) w.opaque = "cannot open the checker's LongTable: " + e;
    }
  }

  /**
   * A checker ring in a windowed picture: its newest {@link StateWalk#RING_WINDOW} ids oldest first, each with its
   * entry folded on its own ({@link #entryFold}) into the ring's hash leaf as in {@link StateWalkClasses#FOLDED} (the
   * ring's methods NAMENewestFirst and NAMEOf).
   */
  static void window(StateWalk w, Object shadow, String ring, StateWalk.P path) {
    try {
      java.lang.reflect.Method[] m = StateWalkClasses.RING_METHODS.get(shadow.getClass());
      java.lang.reflect.Method ids = m[0], of = m[1];
      long[] newest = (long[]) ids.invoke(shadow, StateWalk.RING_WINDOW); // the newest RING_WINDOW only (session 23, ringcost)
      int n = Math.min(newest.length, StateWalk.RING_WINDOW);
      w.leaf(path, ".window", n, null, null);
      w.foldSite = w.site;
      StateWalk.P entry = w.p(path, ".v"); // every entry folded under one path (its place is in the ring's hash)
      long ringHash = 0x5EED;
      for (int i = 0; i < n; i++) {
        long key = newest[n - 1 - i];
        w.leaf(w.p(path, '{', i, ".k"), "", key, null, null);
        w.entryPlace = i;
        long h = entryFold(w, of.invoke(shadow, key), key, entry);
        ringHash = Long.rotateLeft((ringHash ^ h) * 0x9E3779B97F4A7C15L, 29);
      }
      w.foldHash = ringHash;
      foldedRing(w, path);
    } catch (ReflectiveOperationException | RuntimeException e) {
      if (w.opaque == null) w.opaque = "cannot open the checker's ring " + ring + ": " + e;
    }
  }

  /**
   * A ring entry's fold, on its own (as if the entry were the ring's only one; its back references to its own objects
   * as offsets from its first leaf): the one {@link RingFolds} kept from the last picture when the entry's change count
   * ({@link hmmemu.checker.ChangeCounted}) and id are as then and none of the objects it met then was met before it in
   * this picture (those are registered where the walk would have met them, and its leaves counted), else the entry
   * walked (and its fold kept when it vouches for its count, met no object met before it and left no leaf out of the
   * fold).
   */
  private static long entryFold(StateWalk w, Object value, long key, StateWalk.P path) {
    long count = w.folds != null && value instanceof hmmemu.checker.ChangeCounted c ? c.changeCount() : -1;
    RingFolds.Fold f = count >= 0 ? w.folds.reusable(value, count, key) : null;
    if (f != null && reuse(w, f)) {
      w.folds.keep(value, f);
      w.folds.hits++;
      return f.hash();
    }
    boolean keep = count >= 0;
    w.entryStart = w.counted;
    w.entryOpen = false;
    w.entryKept = keep;
    if (keep && w.entryAt == null) {
      w.entryObjects = new Object[32];
      w.entryAt = new int[32];
    }
    w.entryMet = 0;
    w.foldHash = 0x5EED;
    w.folding = true;
    w.foldKey = key;
    w.walk(value, path, null, null);
    w.folding = false;
    if (keep && !w.entryOpen && w.opaque == null) {
      w.folds.keep(value, new RingFolds.Fold(count, key, w.foldHash, w.counted - w.entryStart,
          java.util.Arrays.copyOf(w.entryObjects, w.entryMet), java.util.Arrays.copyOf(w.entryAt, w.entryMet)));
    }
    if (w.folds != null) w.folds.walks++;
    w.entryStart = -1;
    if (keep) java.util.Arrays.fill(w.entryObjects, 0, w.entryMet, null); // hold no object past the picture
    w.entryKept = false;
    return w.foldHash;
  }

  /**
   * Registers a kept fold's objects where its walk would (false, and nothing left registered, if one was met already:
   * the entry is then walked).
   */
  private static boolean reuse(StateWalk w, RingFolds.Fold f) {
    Object[] os = f.objects();
    int[] at = f.at();
    for (int k = 0; k < os.length; k++) {
      Integer before = w.seen.put(os[k], w.counted + at[k]);
      if (before != null) { // met already (rare): undo, and walk the entry
        w.seen.put(os[k], before);
        for (int j = 0; j < k; j++) w.seen.remove(os[j]);
        return false;
      }
    }
    if (w.fresh != null) java.util.Collections.addAll(w.fresh, os);
    w.counted += f.leaves();
    return true;
  }

  /** The leaf holding a folded ring's hash (see {@link StateWalkClasses#FOLDED}). */
  static void foldedRing(StateWalk w, StateWalk.P path) {
    String before = w.site;
    w.site = StateWalkClasses.FOLDED.get(before);
    StateWalk.P q = w.p(path, ".entries");
    w.add(q.hash(), w.foldHash, null, null, -1, q.text(), false);
    w.site = before;
  }
}
