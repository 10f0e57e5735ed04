package hmmemu.checker;

import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.trace.VectorClock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * A tiny DSL for hand-built multi-node traces: each node keeps a {@link VectorClock} as the shells do, ticks it
 * once per trace event and merges the sender's clock when a message arrives ({@link #send}).
 */
final class TraceBuilder {
  static final int CPU = 0;

  private final VectorClock[] clocks;
  private final List<Stamped> events = new ArrayList<>();

  TraceBuilder(int nodes) {
    clocks = new VectorClock[nodes];
    for (int i = 0; i < nodes; i++) clocks[i] = new VectorClock(i);
  }

  /** Trace events of one step of node {@code node}, in the order they happened. */
  TraceBuilder on(int node, Trace.Event... step) {
    for (Trace.Event e : step) events.add(new Stamped(node, clocks[node].tick(), e));
    return this;
  }

  TraceBuilder cpu(Trace.Event... step) { return on(CPU, step); }

  /** A message from {@code from} reaches {@code to}: the receiver merges the sender's current clock. */
  TraceBuilder send(int from, int to) {
    clocks[to].merge(clocks[from].snapshot());
    return this;
  }

  /** Events in the order they were built (one linear extension of happens-before). */
  List<Stamped> inOrder() { return List.copyOf(events); }

  /** The same events in a seeded random order (across and within nodes). */
  List<Stamped> scrambled(long seed) {
    List<Stamped> copy = new ArrayList<>(events);
    Collections.shuffle(copy, new Random(seed));
    return copy;
  }

  long[] perNodeCounts() {
    long[] counts = new long[clocks.length];
    for (int i = 0; i < clocks.length; i++) counts[i] = clocks[i].own();
    return counts;
  }
}
