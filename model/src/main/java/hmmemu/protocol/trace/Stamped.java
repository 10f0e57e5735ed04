package hmmemu.protocol.trace;

/**
 * A trace event with its causal position: node {@code node}'s {@code vc[node]}-th event, after
 * {@code vc[j]} events of every other node j (a vector clock counting trace events).
 */
public record Stamped(int node, long[] vc, Trace.Event event) {
  public long seq() { return vc[node]; }
}
