package hmmemu.protocol.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Emulator-only host mechanism: a table from primitive {@code long} keys to non-null values that keeps insertion
 * order exactly as {@link java.util.LinkedHashMap} does (a key put again keeps its place; a removed key put again
 * goes last), without a boxed key or a node per entry. Entries sit in arrays in insertion order; a removal leaves a
 * hole (null value) that a later append squeezes out when the arrays are full. Up to {@link #LINEAR} slots a lookup
 * scans them; past that an open-addressing index (slot -> position + 1) finds the position. Used for the tables the
 * invariant checker and the CPU core look up per event (invalidations in flight, subscriptions), whose order can
 * reach the trace. Not thread-safe; no put while iterating.
 */
public final class LinkedLongTable<V> implements Iterable<V> {
  private static final int LINEAR = 8;

  private long[] keys;
  private Object[] values;
  /** Positions used so far (entries and holes), in insertion order. */
  private int used;
  private int size;
  /** Open-addressing index over the positions (position + 1; 0 empty), null while the arrays hold at most LINEAR. */
  private int[] index;

  public LinkedLongTable() {
    keys = new long[4];
    values = new Object[4];
  }

  private static int slot(long key, int mask) {
    long h = key * 0x9E37_79B9_7F4A_7C15L;
    return (int) (h ^ (h >>> 32)) & mask;
  }

  public int size() { return size; }

  public boolean isEmpty() { return size == 0; }

  /** The position of key, or -1. */
  private int position(long key) {
    if (index == null) {
      for (int i = 0; i < used; i++) if (keys[i] == key && values[i] != null) return i;
      return -1;
    }
    int mask = index.length - 1;
    for (int s = slot(key, mask);; s = (s + 1) & mask) {
      int p = index[s];
      if (p == 0) return -1;
      if (keys[p - 1] == key) return p - 1;
    }
  }

  @SuppressWarnings("unchecked")
  public V get(long key) {
    int i = position(key);
    return i < 0 ? null : (V) values[i];
  }

  public boolean containsKey(long key) { return position(key) >= 0; }

  /** Maps key to value (non-null); a key already present keeps its place. Returns the previous value or null. */
  @SuppressWarnings("unchecked")
  public V put(long key, V value) {
    if (value == null) throw new NullPointerException("value");
    int i = position(key);
    if (i >= 0) {
      Object old = values[i];
      values[i] = value;
      return (V) old;
    }
    if (used == keys.length) makeRoom();
    keys[used] = key;
    values[used] = value;
    if (index != null) indexPut(key, used);
    used++;
    size++;
    return null;
  }

  /** Removes key; returns its value or null. */
  @SuppressWarnings("unchecked")
  public V remove(long key) {
    int i = position(key);
    if (i < 0) return null;
    Object old = values[i];
    if (index != null) indexRemove(key);
    values[i] = null;
    size--;
    if (size == 0) {
      used = 0;
    } else {
      while (used > 0 && values[used - 1] == null) used--;
    }
    return (V) old;
  }

  /** The number of positions to look at with {@link #keyAt}/{@link #valueAt} (holes included), in insertion order. */
  public int positions() { return used; }

  /** The key at position i (meaningful only where {@link #valueAt} is not null). */
  public long keyAt(int i) { return keys[i]; }

  /** The value at position i, or null for a hole. */
  @SuppressWarnings("unchecked")
  public V valueAt(int i) { return (V) values[i]; }

  /** The values in insertion order, as a new list (for a caller that changes the table while it walks them). */
  @SuppressWarnings("unchecked")
  public List<V> valuesCopy() {
    List<V> out = new ArrayList<>(size);
    for (int i = 0; i < used; i++) if (values[i] != null) out.add((V) values[i]);
    return out;
  }

  /** The values in insertion order, as a read-only view (a map's values()). */
  public java.util.Collection<V> values() {
    return new java.util.AbstractCollection<>() {
      @Override
      public Iterator<V> iterator() { return LinkedLongTable.this.iterator(); }

      @Override
      public int size() { return size; }
    };
  }

  /** The values in insertion order. */
  @Override
  public Iterator<V> iterator() {
    return new Iterator<>() {
      private int next = skip(0);

      private int skip(int i) {
        while (i < used && values[i] == null) i++;
        return i;
      }

      @Override
      public boolean hasNext() { return next < used; }

      @Override
      @SuppressWarnings("unchecked")
      public V next() {
        if (next >= used) throw new NoSuchElementException();
        V v = (V) values[next];
        next = skip(next + 1);
        return v;
      }
    };
  }

  /** The arrays are full: squeeze out the holes when they are at least half, else double. */
  private void makeRoom() {
    if (size * 2 <= used) {
      int n = 0;
      for (int i = 0; i < used; i++) {
        if (values[i] == null) continue;
        keys[n] = keys[i];
        values[n++] = values[i];
      }
      Arrays.fill(values, n, used, null);
      used = n;
    } else {
      keys = Arrays.copyOf(keys, keys.length * 2);
      values = Arrays.copyOf(values, values.length * 2);
    }
    reindex();
  }

  private void reindex() {
    if (keys.length <= LINEAR) {
      index = null;
      return;
    }
    index = new int[keys.length * 2];
    for (int i = 0; i < used; i++) if (values[i] != null) indexPut(keys[i], i);
  }

  private void indexPut(long key, int position) {
    int mask = index.length - 1;
    int s = slot(key, mask);
    while (index[s] != 0) s = (s + 1) & mask;
    index[s] = position + 1;
  }

  /** Backward-shift deletion of key's index slot: no tombstone. */
  private void indexRemove(long key) {
    int mask = index.length - 1;
    int i = slot(key, mask);
    while (keys[index[i] - 1] != key) i = (i + 1) & mask;
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      if (index[j] == 0) break;
      int home = slot(keys[index[j] - 1], mask);
      boolean stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      index[i] = index[j];
      i = j;
    }
    index[i] = 0;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("{");
    for (int i = 0; i < used; i++) {
      if (values[i] == null) continue;
      if (b.length() > 1) b.append(", ");
      b.append(keys[i]).append('=').append(values[i]);
    }
    return b.append('}').toString();
  }
}
