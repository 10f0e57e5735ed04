package hmmemu.node;

import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.wire.WireCodec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's trace events on their way to the invariant checker, without actors: the bounded buffer of events
 * emitted before the checker is known (the oldest are dropped beyond {@link #limit} and counted, so that the
 * checker reports them lost instead of never hearing of them), and the split of a batch into frames small enough
 * for the wire. Not thread-safe: one actor owns it.
 */
public final class TraceOutbox {
  /** Events a node keeps while no checker is known (about 100 bytes each encoded: a few MiB). */
  public static final int DEFAULT_PENDING_LIMIT = 65536;

  private final int limit;
  private final ArrayDeque<Stamped> pending = new ArrayDeque<>();
  private long lost;

  public TraceOutbox(int limit) {
    if (limit < 1) throw new IllegalArgumentException("pending trace limit must be >= 1, got " + limit);
    this.limit = limit;
  }

  public int limit() { return limit; }

  /**
   * Keeps {@code batch} until a checker is known, dropping the oldest events beyond the limit.
   *
   * @return how many events this call dropped (0 when none)
   */
  public long hold(List<Stamped> batch) {
    long before = lost;
    for (Stamped s : batch) {
      if (pending.size() == limit) {
        pending.poll();
        lost++;
      }
      pending.add(s);
    }
    return lost - before;
  }

  /** Events held. */
  public int pending() { return pending.size(); }

  /** Events dropped since the last {@link #takeAll}. */
  public long lost() { return lost; }

  /** The events held, in emission order; empties the buffer and the lost count (the caller reports it). */
  public List<Stamped> takeAll() {
    List<Stamped> out = new ArrayList<>(pending);
    pending.clear();
    lost = 0;
    return out;
  }

  /**
   * Splits {@code events} into consecutive batches whose encoded events add up to at most {@code maxBytes} each
   * (an event larger than that travels alone), in order: a large batch then fits in frames the wire accepts.
   */
  public static List<List<Stamped>> split(List<Stamped> events, int maxBytes) {
    List<List<Stamped>> out = new ArrayList<>();
    List<Stamped> cur = new ArrayList<>();
    long bytes = 0;
    for (Stamped s : events) {
      int size = WireCodec.encodeStamped(s).getSerializedSize() + 4; // + tag and length of the repeated field
      if (!cur.isEmpty() && bytes + size > maxBytes) {
        out.add(cur);
        cur = new ArrayList<>();
        bytes = 0;
      }
      cur.add(s);
      bytes += size;
    }
    if (!cur.isEmpty()) out.add(cur);
    return out;
  }
}
