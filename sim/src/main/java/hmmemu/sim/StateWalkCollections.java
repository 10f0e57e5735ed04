package hmmemu.sim;

import hmmemu.protocol.model.LinkedLongTable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * {@link StateWalk}'s collections: maps, sets and lists in a fixed order (hashed ones sorted by their keys' values), a
 * model LinkedLongTable as the LinkedHashMap it replaces. Moved out of StateWalk unchanged (session 23, ffpic: it would
 * otherwise have gone over 700 lines). Not a kernel structure.
 */
final class StateWalkCollections {
  private StateWalkCollections() {}

  /** Only the values (no paths, no writers), of a small object: a key of a hashed map or set. */
  static long[] valuesOf(Object o, StateWalk parent) {
    StateWalk w = StateWalk.small();
    w.walk(o, new StateWalk.P(null, 0), null, null);
    if (w.opaque != null && parent.opaque == null) parent.opaque = w.opaque;
    return w.valuesSoFar();
  }

  static void map(StateWalk w, Map<?, ?> m, StateWalk.P path) {
    w.leaf(path, ".size", m.size(), null, null);
    List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
    if (!(m instanceof SortedMap || m instanceof LinkedHashMap || m instanceof java.util.EnumMap)) {
      entries = canonical(w, entries, e -> e.getKey());
    }
    int i = 0;
    for (Map.Entry<?, ?> e : entries) {
      w.walk(e.getKey(), w.p(path, '{', i, ".k"), null, null);
      w.walk(e.getValue(), w.p(path, '{', i, ".v"), null, null);
      i++;
    }
  }

  /**
   * A model LinkedLongTable (an insertion-ordered long-keyed table; holes and slot layout depend on its history) as the
   * LinkedHashMap it replaces: its size, then each entry's key and value in insertion order, leaf for leaf.
   */
  static void linkedLongTable(StateWalk w, LinkedLongTable<?> t, StateWalk.P path) {
    w.leaf(path, ".size", t.size(), null, null);
    int i = 0;
    for (int at = 0, n = t.positions(); at < n; at++) {
      Object v = t.valueAt(at);
      if (v == null) continue;
      w.leaf(w.p(path, '{', i, ".k"), "", t.keyAt(at), null, null);
      w.walk(v, w.p(path, '{', i, ".v"), null, null);
      i++;
    }
  }

  static void collection(StateWalk w, Collection<?> col, StateWalk.P path) {
    w.leaf(path, ".size", col.size(), null, null);
    List<Object> items = new ArrayList<>(col);
    if (col instanceof java.util.Set && !(col instanceof SortedSet || col instanceof LinkedHashSet
        || col instanceof java.util.EnumSet)) {
      items = canonical(w, items, x -> x);
    }
    int i = 0;
    for (Object x : items) w.walk(x, w.p(path, '[', i++, ""), null, null);
  }

  /** Items of a hashed collection sorted by the values of their keys; equal keys make the picture opaque. */
  static <T> List<T> canonical(StateWalk w, List<T> items, java.util.function.Function<T, Object> key) {
    List<Map.Entry<long[], T>> keyed = new ArrayList<>();
    for (T t : items) keyed.add(Map.entry(valuesOf(key.apply(t), w), t));
    keyed.sort((a, b) -> java.util.Arrays.compare(a.getKey(), b.getKey()));
    List<T> out = new ArrayList<>();
    for (int i = 0; i < keyed.size(); i++) {
      if (i > 0 && java.util.Arrays.equals(keyed.get(i - 1).getKey(), keyed.get(i).getKey()) && w.opaque == null) {
        w.opaque = "two keys of a hashed collection look alike";
      }
      out.add(keyed.get(i).getValue());
    }
    return out;
  }
}
