package hmmemu.node.link;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.ChunkCodec;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A pause point on the wire: once a message matching a predicate is sent on a direction (from node -> to node),
 * that message and every later one on the same direction are held, in order, until {@link #release}. Holding the
 * whole direction keeps the link FIFO, so the sender is paused "right after" its last delivered message. Tests and
 * scenarios use it to make an interleaving (C06, C11, C12...) exact.
 *
 * <p>With lanes ({@code hmm-emu.link.lanes = per-thread}, {@link Lanes}) a gate holds only the lane of the message
 * that closed it: the sending kernel thread is paused right after its last delivered message, and the other
 * threads' messages on the direction pass (docs/PROTOCOL.md §5.8; case C12's ENOMEM branch).
 */
public final class GateLink extends ForwardingLink {
  private record Held(ActorRef<Envelope> to, Envelope envelope) {}

  private static final class Gate {
    final Predicate<HmmProtocol.Msg> trigger;
    final ArrayDeque<Held> held = new ArrayDeque<>();
    final CompletableFuture<HmmProtocol.Msg> closed = new CompletableFuture<>();
    /** The lane the gate holds once closed (0: the whole direction, lanes off). */
    long lane;

    Gate(Predicate<HmmProtocol.Msg> trigger) { this.trigger = trigger; }

    Predicate<HmmProtocol.Msg> trigger() { return trigger; }

    ArrayDeque<Held> held() { return held; }

    CompletableFuture<HmmProtocol.Msg> closed() { return closed; }

    /** Whether a closed gate holds {@code envelope}. */
    boolean holds(Envelope envelope) { return lane == 0 || envelope.getLinkLane() == lane; }
  }

  private final Map<Long, Gate> gates = new HashMap<>();
  private final ReplayFilter firstCopies = new ReplayFilter();

  public GateLink(Link next) { super(next); }

  private static long key(int from, int to) { return ((long) from << 32) | (to & 0xffffffffL); }

  /**
   * Arms a gate on direction from -> to; the returned future completes with the first matching message when the
   * gate closes (that message is held).
   */
  public synchronized CompletableFuture<HmmProtocol.Msg> holdWhen(int fromNode, int toNode,
      Predicate<HmmProtocol.Msg> trigger) {
    Gate g = new Gate(trigger);
    Gate old = gates.put(key(fromNode, toNode), g);
    if (old != null && !old.held().isEmpty()) throw new IllegalStateException("a closed gate is still holding messages");
    return g.closed();
  }

  /** Opens the gate on direction from -> to and delivers everything it held, in order. */
  public void release(int fromNode, int toNode) {
    List<Held> out;
    synchronized (this) {
      Gate g = gates.remove(key(fromNode, toNode));
      if (g == null) return;
      out = new ArrayList<>(g.held());
      g.held().clear();
      for (Held h : out) next.send(fromNode, toNode, h.to(), h.envelope());
    }
  }

  /**
   * Closes the gate on direction from -> to and drops what it held: the sender crashed while paused, so the held
   * messages (which it had not sent yet, see the class comment) never leave it. Returns how many were dropped.
   */
  public synchronized int drop(int fromNode, int toNode) {
    Gate g = gates.remove(key(fromNode, toNode));
    if (g == null) return 0;
    int n = g.held().size();
    g.held().clear();
    return n;
  }

  @Override
  public synchronized void send(int fromNode, int toNode, ActorRef<Envelope> to, Envelope envelope) {
    Gate g = gates.get(key(fromNode, toNode));
    if (g == null) {
      next.send(fromNode, toNode, to, envelope);
      return;
    }
    if (!g.held().isEmpty()) {
      if (g.holds(envelope)) {
        g.held().add(new Held(to, envelope));
      } else {
        next.send(fromNode, toNode, to, envelope); // another kernel thread's lane
      }
      return;
    }
    if (WireCodec.isLinkAck(envelope) || ChunkCodec.isChunk(envelope) || !firstCopies.first(fromNode, to, envelope)) {
      next.send(fromNode, toNode, to, envelope); // link ACKs, chunks of large messages and replays never close a gate
      return;
    }
    HmmProtocol.Msg m = WireCodec.decode(envelope);
    if (g.trigger().test(m)) {
      g.lane = envelope.getLinkLane();
      g.held().add(new Held(to, envelope));
      g.closed().complete(m);
    } else {
      next.send(fromNode, toNode, to, envelope);
    }
  }
}
