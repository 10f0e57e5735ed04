package hmmemu.checker;

import java.util.function.Consumer;

/**
 * A hash table from primitive {@code long} keys to non-null values: open addressing with linear probing and
 * backward-shift deletion, so there is no boxed key and no node object per entry, and a removal leaves no tombstone.
 * The shadows use it to find their dense chunks (512 pages or pfns each), so a lookup costs the same at a thousand
 * pages and at a million. Iteration order is unspecified: callers that report must not depend on it.
 */
final class LongTable<V> {
  private long[] keys;
  private Object[] values;
  private int mask;
  private int size;

  LongTable() {
    keys = new long[16];
    values = new Object[16];
    mask = 15;
  }

  private static int slot(long key, int mask) {
    long h = key * 0x9E37_79B9_7F4A_7C15L;
    return (int) (h ^ (h >>> 32)) & mask;
  }

  int size() { return size; }

  boolean isEmpty() { return size == 0; }

  @SuppressWarnings("unchecked")
  V get(long key) {
    for (int i = slot(key, mask);; i = (i + 1) & mask) {
      Object v = values[i];
      if (v == null) return null;
      if (keys[i] == key) return (V) v;
    }
  }

  /** Maps key to value (non-null); returns the previous value or null. */
  @SuppressWarnings("unchecked")
  V put(long key, V value) {
    if (value == null) throw new NullPointerException("value");
    int i = slot(key, mask);
    for (;; i = (i + 1) & mask) {
      Object v = values[i];
      if (v == null) break;
      if (keys[i] == key) {
        values[i] = value;
        return (V) v;
      }
    }
    keys[i] = key;
    values[i] = value;
    if (++size * 2 > values.length) grow();
    return null;
  }

  /** Removes key; returns its value or null. */
  @SuppressWarnings("unchecked")
  V remove(long key) {
    int i = slot(key, mask);
    for (;; i = (i + 1) & mask) {
      Object v = values[i];
      if (v == null) return null;
      if (keys[i] == key) break;
    }
    Object old = values[i];
    // backward-shift deletion: move up every later entry of the run whose home slot is not in (i, j]
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      if (values[j] == null) break;
      int home = slot(keys[j], mask);
      boolean stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      keys[i] = keys[j];
      values[i] = values[j];
      i = j;
    }
    values[i] = null;
    keys[i] = 0;
    size--;
    return (V) old;
  }

  /** Every value, in table order (unspecified). */
  @SuppressWarnings("unchecked")
  void forEachValue(Consumer<V> action) {
    for (Object v : values.clone()) if (v != null) action.accept((V) v);
  }

  /** Every key, in table order (unspecified). */
  long[] keys() {
    long[] out = new long[size];
    int n = 0;
    for (int i = 0; i < values.length; i++) if (values[i] != null) out[n++] = keys[i];
    return out;
  }

  boolean containsKey(long key) { return get(key) != null; }

  /**
   * Removes every entry, keeping the capacity: the same table as removing each key (emulator-only: the fast-forward's
   * ring refill, which empties a ring's table of up to 4,096 entries at once instead of by backward shifts).
   */
  void clear() {
    java.util.Arrays.fill(keys, 0L);
    java.util.Arrays.fill(values, null);
    size = 0;
  }

  /** A copy with the same layout (arrays copied, values shared; emulator-only: the ring refill's copies). */
  LongTable<V> copy() {
    LongTable<V> c = new LongTable<>();
    c.keys = keys.clone();
    c.values = values.clone();
    c.mask = mask;
    c.size = size;
    return c;
  }

  private void grow() {
    long[] oldKeys = keys;
    Object[] oldValues = values;
    keys = new long[oldKeys.length * 2];
    values = new Object[oldValues.length * 2];
    mask = keys.length - 1;
    for (int k = 0; k < oldKeys.length; k++) {
      if (oldValues[k] == null) continue;
      int i = slot(oldKeys[k], mask);
      while (values[i] != null) i = (i + 1) & mask;
      keys[i] = oldKeys[k];
      values[i] = oldValues[k];
    }
  }
}
