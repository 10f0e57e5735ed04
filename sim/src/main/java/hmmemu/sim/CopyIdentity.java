package hmmemu.sim;

/**
 * {@link SimCopy}'s table of originals to their copies: open addressing on {@link System#identityHashCode}, keys and
 * copies in one array side by side, where {@link java.util.IdentityHashMap} (the same layout) costs a second probe
 * for a miss followed by a put; {@link #slot} finds a key or the free slot it would take, {@link #putAt} fills that
 * slot. Emulator-only host mechanism, not a kernel structure.
 */
final class CopyIdentity {
  /** Key at 2i, its copy at 2i + 1. */
  private Object[] table;
  private int size;
  /** Resize past this many keys (two thirds of the slots). */
  private int limit;

  /** A table for about {@code expected} keys without resizing. */
  CopyIdentity(int expected) {
    int slots = Integer.highestOneBit(Math.max(16, expected + expected / 2)) * 2;
    table = new Object[2 * slots];
    limit = slots / 3 * 2;
  }

  /** How many originals are mapped. */
  int size() { return size; }

  /** The first slot {@code k} is looked for at (an even index). */
  private static int index(Object k, int mask) {
    int h = System.identityHashCode(k);
    return ((h << 1) - (h << 8)) & mask; // IdentityHashMap's spread: even, so a key's copy sits beside it
  }

  /**
   * The index of {@code k} in the table, or of the free slot where it would go (the complement, negative); valid until
   * the next {@link #putAt} or {@link #put} of another key.
   */
  int slot(Object k) {
    Object[] t = table;
    int mask = t.length - 1;
    int i = index(k, mask);
    while (true) {
      Object x = t[i];
      if (x == k) return i;
      if (x == null) return ~i;
      i = (i + 2) & mask;
    }
  }

  /** The copy at {@code slot} (a found key's index from {@link #slot}). */
  Object at(int slot) { return table[slot + 1]; }

  /** The copy of {@code k}, or null. */
  Object get(Object k) {
    int s = slot(k);
    return s >= 0 ? table[s + 1] : null;
  }

  /** Maps {@code k} to {@code v} at {@code free} ({@link #slot}'s complement, with no put since). */
  void putAt(int free, Object k, Object v) {
    int i = ~free;
    table[i] = k;
    table[i + 1] = v;
    if (++size > limit) grow();
  }

  /** Maps {@code k} to {@code v} (replacing any copy it had). */
  void put(Object k, Object v) {
    int s = slot(k);
    if (s >= 0) table[s + 1] = v;
    else putAt(s, k, v);
  }

  /** Doubles the table, re-inserting every key with its copy. */
  private void grow() {
    Object[] old = table;
    Object[] t = new Object[old.length * 2];
    int mask = t.length - 1;
    for (int j = 0; j < old.length; j += 2) {
      Object k = old[j];
      if (k == null) continue;
      int i = index(k, mask);
      while (t[i] != null) i = (i + 2) & mask;
      t[i] = k;
      t[i + 1] = old[j + 1];
    }
    table = t;
    limit = (t.length / 2) / 3 * 2;
  }
}
