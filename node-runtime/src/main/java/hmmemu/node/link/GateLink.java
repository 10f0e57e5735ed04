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
 *
 * <p>An <b>order gate</b> ({@link #order}) holds every message on its direction until it has a permit
 * ({@link #permit}: its type, device and ordinal among the messages of that type and device on the direction since
 * the gate was armed), a lane's messages leaving in their order: a scenario file's {@code order} lets each message go
 * once its predecessor among the receiving node's inputs was delivered (docs/SCENARIOS.md "Pinning every order").
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
  private final Map<Long, Order> orders = new HashMap<>();

  /** An order gate: what each message type and device has sent so far, the permits, what waits for one. */
  private static final class Order {
    final Map<String, Integer> sent = new HashMap<>();
    final java.util.Set<String> permits = new java.util.HashSet<>();
    /** Held messages in sending order, each with its key ("Type device ordinal"). */
    final List<Object[]> held = new ArrayList<>();
  }

  /** Arms an order gate on direction from -> to: from now on every message waits for its {@link #permit}. */
  public synchronized void order(int fromNode, int toNode) { orders.putIfAbsent(key(fromNode, toNode), new Order()); }

  /**
   * Permits the {@code ordinal}-th (from 0) message of type {@code message} concerning device {@code deviceId} on
   * direction from -> to of its order gate: it leaves now if it is held at the head of its lane, or when it is sent.
   */
  public synchronized void permit(int fromNode, int toNode, String message, int deviceId, int ordinal) {
    Order o = orders.get(key(fromNode, toNode));
    if (o == null) return;
    o.permits.add(message + " " + deviceId + " " + ordinal);
    drain(fromNode, toNode, o);
  }

  /** Sends every held message that has its permit and no held predecessor in its lane (lanes off: the direction). */
  private void drain(int fromNode, int toNode, Order o) {
    java.util.Set<Long> blocked = new java.util.HashSet<>();
    for (java.util.Iterator<Object[]> it = o.held.iterator(); it.hasNext(); ) {
      Object[] h = it.next();
      Held held = (Held) h[0];
      long lane = held.envelope().getLinkLane();
      if (!blocked.contains(lane) && o.permits.contains((String) h[1])) {
        it.remove();
        sendOn(fromNode, toNode, held.to(), held.envelope());
      } else {
        blocked.add(lane);
      }
    }
  }

  /** Past the order gate: the pause gate of the direction, if any. */
  private void sendOn(int fromNode, int toNode, ActorRef<Envelope> to, Envelope envelope) {
    if (gates.containsKey(key(fromNode, toNode))) gated(fromNode, toNode, to, envelope);
    else next.send(fromNode, toNode, to, envelope);
  }
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
      Order o = orders.remove(key(fromNode, toNode));
      if (o != null) { // an order gate: opened, what it held leaves in sending order
        for (Object[] h : o.held) sendOn(fromNode, toNode, ((Held) h[0]).to(), ((Held) h[0]).envelope());
        o.held.clear();
        return;
      }
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
    Order o = orders.remove(key(fromNode, toNode));
    int dropped = o == null ? 0 : o.held.size();
    Gate g = gates.remove(key(fromNode, toNode));
    if (g == null) return dropped;
    int n = dropped + g.held().size();
    g.held().clear();
    return n;
  }

  @Override
  public synchronized void send(int fromNode, int toNode, ActorRef<Envelope> to, Envelope envelope) {
    Order o = orders.isEmpty() ? null : orders.get(key(fromNode, toNode));
    if (o != null && !WireCodec.isLinkAck(envelope) && !ChunkCodec.isChunk(envelope)
        && firstCopies.first(fromNode, to, envelope)) {
      HmmProtocol.Msg m = WireCodec.decode(envelope);
      String k = m.getClass().getSimpleName() + " " + RemoteGate.deviceOf(m);
      o.held.add(new Object[] {new Held(to, envelope), k + " " + (o.sent.merge(k, 1, Integer::sum) - 1)});
      drain(fromNode, toNode, o);
      return;
    }
    gated(fromNode, toNode, to, envelope);
  }

  /** The pause gate's part of {@link #send}. */
  private void gated(int fromNode, int toNode, ActorRef<Envelope> to, Envelope envelope) {
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
