package hmmemu.checker;

import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.VectorClock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Collectors;

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
 * <p>A node declared lost ({@link #nodeLost}: membership says it is gone) may never send its last events. Events
 * that depend on its missing ones would wait forever, so once nothing else is deliverable the missing events of a
 * lost node that a buffered event waits for are skipped (counted as delivered, recorded as {@link Skip}s); a
 * skipped event that arrives after all is dropped and counted as late.
 *
 * <p>Implementation note: one buffer per node, sorted by the node's sequence number; only a buffer's head
 * can be deliverable, so each release scans at most one event per node. An event that is deliverable on arrival
 * (the common case) is released without being buffered.
 */
public final class CausalDelivery {
  /** delivered[i] = how many events of node i were released (they are exactly node i's events 1..delivered[i]). */
  private long[] delivered = new long[0];
  private final List<TreeMap<Long, Stamped>> buffers = new ArrayList<>();
  private int pending;
  private long duplicates;
  private long deliveredTotal;
  private boolean[] lost = new boolean[0];
  private final List<Skip> skips = new ArrayList<>();
  private long lostTotal;
  private long late;

  /**
   * Events {@code fromSeq..toSeq} of a lost {@code node} that never arrived and were skipped so that
   * {@code neededBy} (the first buffered event waiting for them, e.g. {@code "n0#42 NodeGone"}) could be delivered.
   */
  public record Skip(int node, long fromSeq, long toSeq, String neededBy) {
    public long count() { return toSeq - fromSeq + 1; }

    @Override
    public String toString() {
      return count() + " event(s) of node " + node + " lost: vector-clock entry " + node + " skipped from " + fromSeq
          + " to " + toSeq + " (needed by " + neededBy + ")";
    }
  }

  /** Why the stamp cannot be delivered at all (negative node, missing own entry, seq &lt; 1, ...), or null. */
  public static String malformed(Stamped event) {
    if (event == null) return "null stamp";
    int node = event.node();
    long[] vc = event.vc();
    if (node < 0 || vc == null || vc.length <= node || vc[node] < 1 || event.event() == null) {
      return "malformed stamp: node=" + node + " vc=" + Arrays.toString(vc) + " event=" + event.event();
    }
    for (long v : vc) {
      if (v < 0) return "malformed stamp: negative vector-clock entry in " + Arrays.toString(vc) + " of node " + node;
    }
    return null;
  }

  /**
   * Offers one event and returns the events that became deliverable, in delivery order (possibly empty,
   * possibly including events offered earlier).
   *
   * @throws IllegalArgumentException if the stamp is malformed (negative node, missing own entry, seq &lt; 1)
   */
  public List<Stamped> offer(Stamped event) {
    Objects.requireNonNull(event, "event");
    String bad = malformed(event);
    if (bad != null) throw new IllegalArgumentException(bad);
    int node = event.node();
    ensureNode(node);
    long seq = event.vc()[node];
    TreeMap<Long, Stamped> buffer = buffers.get(node);
    if (seq <= delivered[node] || (!buffer.isEmpty() && buffer.containsKey(seq))) {
      if (seq <= delivered[node] && wasSkipped(node, seq)) late++;
      else duplicates++;
      return List.of();
    }
    List<Stamped> released = new ArrayList<>(1);
    if (buffer.isEmpty() && deliverable(node, event)) {
      // Nothing buffered was deliverable before this event (each offer releases all it can), so it goes first.
      deliver(node, event, released);
    } else {
      buffer.put(seq, event);
      pending++;
    }
    release(released);
    return released;
  }

  /**
   * The common case of {@link #offer} without its allocations, for a stamp {@link #malformed} accepted: when nothing
   * is buffered and {@code event} is its node's next event and deliverable, it is delivered (counted) and true is
   * returned, exactly as {@code offer} would deliver it (and release nothing else); otherwise nothing changes and false
   * is returned (call {@code offer}).
   */
  public boolean deliverDirect(Stamped event) {
    if (pending != 0) return false; // pending == 0: every buffer is empty
    int node = event.node();
    if (node >= delivered.length || event.vc()[node] != delivered[node] + 1 || !deliverable(node, event)) return false;
    delivered[node]++;
    deliveredTotal++;
    return true;
  }

  /**
   * Membership says {@code node} is gone: its events that never arrive must not hold back the events depending on
   * them. Returns the events this releases (the missing events that buffered ones wait for are skipped).
   */
  public List<Stamped> nodeLost(int node) {
    if (node < 0) return List.of();
    ensureNode(node);
    lost[node] = true;
    List<Stamped> released = new ArrayList<>();
    release(released);
    return released;
  }

  /**
   * Whether an event stamped {@code vc} depends on a skipped (lost) event of {@code node}: its entry for the node
   * reaches into a skipped range. Such an event's effects on the node's state (an ack it received, say) are real, but
   * the checker never saw the node's own event for them.
   */
  public boolean dependsOnSkipped(int node, long[] vc) {
    if (!isLost(node) || node >= vc.length) return false;
    for (Skip k : skips) if (k.node() == node && vc[node] >= k.fromSeq()) return true;
    return false;
  }

  /** True once {@link #nodeLost} was called for the node. */
  public boolean isLost(int node) { return node >= 0 && node < lost.length && lost[node]; }

  /** The missing events of lost nodes that were skipped, in the order skipped. */
  public List<Skip> skips() { return List.copyOf(skips); }

  /** Events of lost nodes skipped in all. */
  public long lostTotal() { return lostTotal; }

  /** Skipped events that arrived after all (dropped). */
  public long late() { return late; }

  /** One line per skip, or "" when nothing was lost. */
  public String describeLost() {
    return skips.stream().map(Skip::toString).collect(Collectors.joining("\n"));
  }

  private boolean wasSkipped(int node, long seq) {
    if (!lost[node]) return false;
    for (Skip k : skips) {
      if (k.node() == node && k.fromSeq() <= seq && seq <= k.toSeq()) return true;
    }
    return false;
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
    if (pending == 0) return;
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
          deliver(i, head, out);
          progress = true;
          break; // restart at node 0: lowest node index first
        }
      }
      if (!progress && pending > 0) progress = skipForLostNodes();
    }
  }

  private void deliver(int node, Stamped e, List<Stamped> out) {
    delivered[node]++;
    deliveredTotal++;
    out.add(e);
  }

  /**
   * Nothing is deliverable: finds the first buffered head (lowest node) whose every missing dependency is a missing
   * event of a lost node, and skips those events. False when there is none.
   */
  private boolean skipForLostNodes() {
    boolean anyLost = false;
    for (boolean l : lost) anyLost |= l;
    if (!anyLost) return false;
    for (int i = 0; i < buffers.size(); i++) {
      TreeMap<Long, Stamped> buffer = buffers.get(i);
      if (buffer.isEmpty()) continue;
      Stamped head = buffer.firstEntry().getValue();
      long[] vc = head.vc();
      long[] skipTo = new long[delivered.length];
      boolean skippable = true;
      boolean any = false;
      for (int j = 0; j < Math.max(vc.length, delivered.length); j++) {
        long need = j == i ? vc[i] - 1 : VectorClock.at(vc, j);
        if (need <= delivered(j)) continue;
        if (j >= delivered.length) {
          skippable = false; // a node never seen, so never declared lost
          break;
        }
        TreeMap<Long, Stamped> bj = buffers.get(j);
        long next = delivered[j] + 1;
        if (!bj.isEmpty() && bj.firstKey() == next) continue; // present, only waiting itself
        if (!lost[j]) {
          skippable = false;
          break;
        }
        skipTo[j] = bj.isEmpty() ? need : Math.min(need, bj.firstKey() - 1);
        any = true;
      }
      if (!skippable || !any) continue;
      String neededBy = "n" + i + "#" + vc[i] + " " + head.event().getClass().getSimpleName();
      for (int j = 0; j < delivered.length; j++) {
        if (skipTo[j] <= delivered[j]) continue;
        skips.add(new Skip(j, delivered[j] + 1, skipTo[j], neededBy));
        lostTotal += skipTo[j] - delivered[j];
        delivered[j] = skipTo[j];
      }
      return true;
    }
    return false;
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
    lost = Arrays.copyOf(lost, node + 1);
    while (buffers.size() <= node) buffers.add(new TreeMap<>());
  }
}
