package hmmemu.cluster.scenario;

import java.util.Arrays;

/**
 * Emulator-only host mechanism: a table from {@code long} keys (state keys, sources) to {@code int} values, open
 * addressing with linear probing, so that an exploration's million choice points cost no boxed Long, Integer or map
 * node each ({@link Explorer}'s distinct keys, its exhaustive search's visited keys and PCT's priorities). Nothing
 * iterates it: only membership, values and the size are read, so it answers exactly as a {@code HashMap<Long,
 * Integer>} would.
 */
final class KeyTable {
  /** The value slot of an empty entry (never stored: callers store values above it). */
  static final int ABSENT = Integer.MIN_VALUE;

  private long[] keys = new long[64];
  private int[] values = filled(64);
  private int mask = 63;
  private int size;

  private static int[] filled(int n) {
    int[] v = new int[n];
    Arrays.fill(v, ABSENT);
    return v;
  }

  private static int slot(long key, int mask) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 29)) & mask;
  }

  /** The number of keys. */
  int size() { return size; }

  /** The value of {@code key}, or {@link #ABSENT}. */
  int get(long key) {
    for (int i = slot(key, mask);; i = (i + 1) & mask) {
      int v = values[i];
      if (v == ABSENT || keys[i] == key) return v;
    }
  }

  /** Sets {@code key}'s value ({@code value} > {@link #ABSENT}). */
  void put(long key, int value) {
    if (value == ABSENT) throw new IllegalArgumentException("ABSENT is not a value");
    int i = slot(key, mask);
    while (values[i] != ABSENT && keys[i] != key) i = (i + 1) & mask;
    if (values[i] == ABSENT) {
      keys[i] = key;
      if (++size * 2 > mask + 1) {
        values[i] = value;
        grow();
        return;
      }
    }
    values[i] = value;
  }

  /** Adds {@code key} (value 0) when absent: whether it was absent (Set.add). */
  boolean add(long key) {
    if (get(key) != ABSENT) return false;
    put(key, 0);
    return true;
  }

  /** Sets {@code key}'s value to {@code value} or keeps a smaller one (Map.merge with Math::min). */
  void putMin(long key, int value) {
    int v = get(key);
    if (v == ABSENT || value < v) put(key, value);
  }

  private void grow() {
    long[] k = keys;
    int[] v = values;
    keys = new long[k.length * 2];
    values = filled(k.length * 2);
    mask = keys.length - 1;
    for (int j = 0; j < k.length; j++) {
      if (v[j] == ABSENT) continue;
      int i = slot(k[j], mask);
      while (values[i] != ABSENT) i = (i + 1) & mask;
      keys[i] = k[j];
      values[i] = v[j];
    }
  }
}
