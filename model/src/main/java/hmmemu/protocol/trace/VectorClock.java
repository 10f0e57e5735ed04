package hmmemu.protocol.trace;

import java.util.Arrays;

/**
 * A vector clock over trace events (Fidge/Mattern). Node i ticks its own entry for each trace event it
 * emits, stamps outgoing messages with the whole vector and merges the vector of every message it
 * receives. Not thread-safe: it belongs to one actor.
 */
public final class VectorClock {
  private final int self;
  private long[] v;

  public VectorClock(int self) {
    this.self = self;
    this.v = new long[Math.max(self + 1, 4)];
  }

  public int self() { return self; }

  /** Ticks this node's entry for one trace event and returns the stamp of that event. */
  public long[] tick() {
    v[self]++;
    return snapshot();
  }

  public long[] snapshot() { return v.clone(); }

  public long own() { return v[self]; }

  /** Merges the vector a received message carried (entry-wise maximum). */
  public void merge(long[] other) {
    if (other == null) return;
    if (other.length > v.length) v = Arrays.copyOf(v, other.length);
    for (int i = 0; i < other.length; i++) v[i] = Math.max(v[i], other[i]);
  }

  /** Entry i of a vector (0 when the vector is shorter). */
  public static long at(long[] vc, int i) { return i < vc.length ? vc[i] : 0; }
}
