package hmmemu.checker;

import hmmemu.protocol.trace.Stamped;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Causal-order delivery of stamped trace events (the Birman-Schiper-Stephenson rule over vector clocks that
 * count trace events). Event e of node i is deliverable when {@code e.vc[i] == delivered[i] + 1} and
 * {@code e.vc[j] <= delivered[j]} for every other node j; delivering events in that order yields a linear
 * extension of happens-before, so every prefix is a consistent cut.
 *
 * <p>Events may arrive in any order, across nodes and within a node. An event whose own sequence number was
 * already delivered or is already buffered is a duplicate: it is dropped and counted. Among several
 * deliverable events the one of the lowest node index goes first, so a given arrival sequence always yields
 * the same delivered order. Different arrival sequences may yield different linear extensions (concurrent
 * events are released as they come); each is a valid causal order.
 *
 * <p>Implementation note: one buffer per node, sorted by the node's sequence number; only a buffer's head
 * can be deliverable, so each release scans at most one event per node.
 */
public final class CausalDelivery {
  /** delivered[i] = how many events of node i were released (they are exactly node i's events 1..delivered[i]). */
  private long[] delivered = new long[0];
  private final List<TreeMap<Long, Stamped>> buffers = new ArrayList<>();
  private int pending;
  private long duplicates;
  private long deliveredTotal;

  /**
   * Offers one event and returns the events that became deliverable, in delivery order (possibly empty,
   * possibly including events offered earlier).
   *
   * @throws IllegalArgumentException if the stamp is malformed (negative node, missing own entry, seq &lt; 1)
   */
  public List<Stamped> offer(Stamped event) {
    Objects.requireNonNull(event, "event");
    int node = event.node();
    long[] vc = event.vc();
    if (node < 0 || vc == null || vc.length <= node || vc[node] < 1 || event.event() == null) {
      throw new IllegalArgumentException("malformed stamp: node=" + node + " vc=" + Arrays.toString(vc)
          + " event=" + event.event());
    }
    ensureNode(node);
    long seq = vc[node];
    TreeMap<Long, Stamped> buffer = buffers.get(node);
    if (seq <= delivered[node] || buffer.containsKey(seq)) {
      duplicates++;
      return List.of();
    }
    buffer.put(seq, event);
    pending++;
    List<Stamped> released = new ArrayList<>();
    release(released);
    return released;
  }

  /** Events buffered because something they depend on has not arrived yet. */
  public int pending() { return pending; }

  /** How many events of {@code node} were delivered (node's events 1..n). */
  public long delivered(int node) { return node >= 0 && node < delivered.length ? delivered[node] : 0; }

  /** Total events delivered over all nodes. */
  public long deliveredTotal() { return deliveredTotal; }

  /** Offered events dropped as duplicates (own sequence number already delivered or buffered). */
  public long duplicates() { return duplicates; }

  /** Number of nodes seen so far (highest node index + 1). */
  public int nodes() { return delivered.length; }

  /** True when at least {@code perNodeCounts[i]} events of every node i were delivered. */
  public boolean caughtUp(long[] perNodeCounts) {
    for (int i = 0; i < perNodeCounts.length; i++) {
      if (delivered(i) < perNodeCounts[i]) return false;
    }
    return true;
  }

  /** For diagnosing a stall: per node, the first buffered event and what it still waits for. */
  public String describePending() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < buffers.size(); i++) {
      TreeMap<Long, Stamped> buffer = buffers.get(i);
      if (buffer.isEmpty()) continue;
      Map.Entry<Long, Stamped> head = buffer.firstEntry();
      Stamped e = head.getValue();
      sb.append("node ").append(i).append(": ").append(buffer.size()).append(" buffered, head #").append(head.getKey());
      if (head.getKey() != delivered[i] + 1) {
        sb.append(" waits for own #").append(delivered[i] + 1);
      }
      for (int j = 0; j < e.vc().length; j++) {
        if (j != i && e.vc()[j] > delivered(j)) {
          sb.append(" waits for node ").append(j).append(" #").append(e.vc()[j]);
        }
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private void release(List<Stamped> out) {
    boolean progress = true;
    while (progress) {
      progress = false;
      for (int i = 0; i < buffers.size(); i++) {
        TreeMap<Long, Stamped> buffer = buffers.get(i);
        if (buffer.isEmpty()) continue;
        Stamped head = buffer.firstEntry().getValue();
        if (deliverable(i, head)) {
          buffer.pollFirstEntry();
          pending--;
          delivered[i]++;
          deliveredTotal++;
          out.add(head);
          progress = true;
          break; // restart at node 0: lowest node index first
        }
      }
    }
  }

  private boolean deliverable(int node, Stamped e) {
    long[] vc = e.vc();
    if (vc[node] != delivered[node] + 1) return false;
    for (int j = 0; j < vc.length; j++) {
      if (j != node && vc[j] > delivered(j)) return false;
    }
    return true;
  }

  private void ensureNode(int node) {
    if (node < delivered.length) return;
    delivered = Arrays.copyOf(delivered, node + 1);
    while (buffers.size() <= node) buffers.add(new TreeMap<>());
  }
}
