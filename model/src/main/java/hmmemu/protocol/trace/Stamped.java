package hmmemu.protocol.trace;

/**
 * A trace event with its causal position: node {@code node}'s {@code vc[node]}-th event, after
 * {@code vc[j]} events of every other node j (a vector clock counting trace events), and the model time
 * {@code atMicros} of the step that made it (-1 when unknown). The checker orders by the vector clock only;
 * model time is for timelines and metrics (docs/OBSERVABILITY.md).
 */
public record Stamped(int node, long[] vc, Trace.Event event, long atMicros) {
  /** An event whose model time is unknown. */
  public Stamped(int node, long[] vc, Trace.Event event) { this(node, vc, event, -1); }

  public long seq() { return vc[node]; }
}
