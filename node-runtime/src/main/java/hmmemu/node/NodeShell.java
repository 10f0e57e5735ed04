package hmmemu.node;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.trace.VectorClock;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * What every actor shell shares: the node's vector clock, the encoding of outgoing messages (stamped with the
 * clock), the decoding of incoming ones, ActorRef <-> string resolution, forwarding of trace events to the
 * invariant checker (buffered until the checker is known), and both ends of the host-device data link layer
 * (models the PCIe Data Link Layer: sequence numbers, ACKs, replay buffer and replay timer on the sending side;
 * in-order, exactly-once delivery with a reorder buffer on the receiving side; docs/FAULTS.md). It holds no
 * protocol logic.
 */
public final class NodeShell {

  /**
   * The shell's link timer message (PCIe REPLAY_TIMER / AckNak_LATENCY_TIMER); actors route it to
   * {@link #onLinkTimer}. It never leaves the node, so it needs no serializer.
   */
  public enum LinkTimer implements org.apache.pekko.actor.NoSerializationVerificationNeeded { TICK }

  /** A decoded protocol message handed to the node, with its sender's reply-to (null when none). */
  public record Inbound(HmmProtocol.Msg msg, String replyTo, Envelope envelope) {}

  private record Unacked(long seq, Envelope envelope, long sentNanos) {}

  /** Sending side of one direction: this node incarnation -> one receiver actor (models the replay buffer). */
  private static final class Tx {
    final int toNode;
    final ActorRef<Envelope> to;
    final String toString;
    long nextSeq = 1;
    final ArrayDeque<Unacked> unacked = new ArrayDeque<>();
    long lastProgressNanos;
    int backoff = 1;

    Tx(int toNode, ActorRef<Envelope> to, String toString) {
      this.toNode = toNode;
      this.to = to;
      this.toString = toString;
    }
  }

  /** Receiving side of one direction: one sender actor incarnation -> this node (models NEXT_RCV_SEQ). */
  private static final class Rx {
    final String from;
    int fromNode = -1;
    long expected = 1;
    final TreeMap<Long, Envelope> ahead = new TreeMap<>();
    boolean ackOwed;
    long ackOwedSinceNanos;
    ActorRef<Envelope> ref;

    Rx(String from) { this.from = from; }
  }

  /** Data link layer off: sequence numbers remembered ahead of a gap before the gap is given up. */
  private static final int RAW_WINDOW = 4096;

  private final ActorContext<?> ctx;
  private final int nodeIndex;
  private final VectorClock clock;
  private final ActorRefResolver resolver;
  private final String selfString;
  private final Link link;
  private final LinkReliability rel;
  private final Map<ActorRef<Envelope>, Tx> txByRef = new HashMap<>();
  private final Map<String, Tx> txByString = new HashMap<>();
  private final Map<String, Rx> rx = new HashMap<>();
  private ActorRef<Envelope> checker;
  private final List<Stamped> pendingTrace = new ArrayList<>();
  private long eventsEmitted;
  private long timerDueNanos = Long.MAX_VALUE;
  private long undecodable;

  public NodeShell(ActorContext<?> ctx, int nodeIndex, ActorRef<Envelope> self, Link link) {
    this.ctx = ctx;
    this.nodeIndex = nodeIndex;
    this.clock = new VectorClock(nodeIndex);
    this.resolver = ActorRefResolver.get(ctx.getSystem());
    this.selfString = resolver.toSerializationFormat(self);
    this.link = link;
    this.rel = link.reliability();
  }

  public int nodeIndex() { return nodeIndex; }

  public long eventsEmitted() { return eventsEmitted; }

  public long[] clockSnapshot() { return clock.snapshot(); }

  /** Envelopes dropped because they did not decode. */
  public long undecodable() { return undecodable; }

  /** Merges the vector clock a received envelope carries; call before stepping the core. */
  public void received(Envelope envelope) { clock.merge(WireCodec.vc(envelope)); }

  public ActorRef<Envelope> resolve(String serialized) { return resolver.resolveActorRef(serialized); }

  /** Sets (or replaces) the checker; flushes events buffered before it was known. */
  public void checker(ActorRef<Envelope> checkerRef) {
    this.checker = checkerRef;
    if (checkerRef != null && !pendingTrace.isEmpty()) {
      checkerRef.tell(WireCodec.encodeTraceEnvelope(nodeIndex, List.copyOf(pendingTrace), clock.snapshot()));
      pendingTrace.clear();
    }
  }

  /** Stamps the step's events (one clock tick each) and forwards them to the checker as one batch. */
  public void emit(List<Trace.Event> events) {
    if (events.isEmpty()) return;
    List<Stamped> batch = new ArrayList<>(events.size());
    for (Trace.Event e : events) batch.add(new Stamped(nodeIndex, clock.tick(), e));
    eventsEmitted += events.size();
    if (checker == null) {
      pendingTrace.addAll(batch);
    } else {
      checker.tell(WireCodec.encodeTraceEnvelope(nodeIndex, batch, clock.snapshot()));
    }
  }

  // ------------------------------------------------------------------------------------------------ receiving

  /**
   * Everything an actor does with an incoming envelope before its core steps: ignores trace batches, takes link
   * ACKs, runs the receive side of the data link layer (a sequenced message is delivered exactly once and in
   * sequence order; models the PCIe receiver's NEXT_RCV_SEQ check, which discards duplicate TLPs), decodes,
   * merges the vector clock, and calls {@code handler} once per message now deliverable, in order.
   */
  public void receive(Envelope envelope, Consumer<Inbound> handler) {
    if (WireCodec.isTrace(envelope)) return;
    String from = WireCodec.replyTo(envelope);
    if (envelope.getLinkAck() != 0 && from != null) onAck(from, envelope.getLinkAck());
    if (WireCodec.isLinkAck(envelope)) return;
    long seq = envelope.getLinkSeq();
    if (seq == 0 || from == null) {
      deliver(envelope, from, handler);
      return;
    }
    Rx r = rx.computeIfAbsent(from, Rx::new);
    r.fromNode = envelope.getLinkNode();
    if (!rel.on()) {
      // Raw link: deliver as it comes (duplicates and reordering reach the protocol), but keep acknowledging what
      // arrived so that the sender can name what never did.
      if (seq < r.expected || r.ahead.containsKey(seq)) {
        link.count(r.fromNode, nodeIndex, LinkReliability.Event.RAW_DUPLICATE, 1);
        ctx.getLog().warn("raw link: duplicate of seq {} from node {} delivered", seq, r.fromNode);
      } else {
        if (seq > r.expected) {
          link.count(r.fromNode, nodeIndex, LinkReliability.Event.RAW_OUT_OF_ORDER, 1);
          ctx.getLog().warn("raw link: seq {} from node {} delivered before seq {}", seq, r.fromNode, r.expected);
        }
        r.ahead.put(seq, envelope);
        while (r.ahead.remove(r.expected) != null) r.expected++;
        if (r.ahead.size() > RAW_WINDOW) r.expected = r.ahead.pollFirstEntry().getKey() + 1; // a gap that stays
      }
      // Selective ACK of this one message, told directly: with the link layer off the ACK is the loss
      // detector's instrument, not modelled traffic, so the link can neither lose nor delay it.
      if (r.ref == null) r.ref = resolve(from);
      r.ref.tell(WireCodec.linkAck(seq, selfString));
      deliver(envelope, from, handler);
      return;
    }
    if (seq < r.expected || r.ahead.containsKey(seq)) {
      link.count(r.fromNode, nodeIndex, LinkReliability.Event.DUPLICATE_DROPPED, 1);
      owe(r); // the sender replays because it missed our ACK: ACK again
      return;
    }
    if (seq > r.expected) {
      r.ahead.put(seq, envelope);
      return;
    }
    r.expected++;
    owe(r);
    deliver(envelope, from, handler);
    for (Envelope next; (next = r.ahead.remove(r.expected)) != null;) {
      r.expected++;
      link.count(r.fromNode, nodeIndex, LinkReliability.Event.RESEQUENCED, 1);
      deliver(next, from, handler);
    }
  }

  private void deliver(Envelope envelope, String from, Consumer<Inbound> handler) {
    HmmProtocol.Msg msg;
    try {
      msg = WireCodec.decode(envelope);
    } catch (IllegalArgumentException e) {
      undecodable++;
      ctx.getLog().warn("dropped an undecodable envelope: {}", e.getMessage());
      return;
    }
    received(envelope);
    handler.accept(new Inbound(msg, from, envelope));
  }

  private void owe(Rx r) {
    if (!r.ackOwed) {
      r.ackOwed = true;
      r.ackOwedSinceNanos = System.nanoTime();
      armTimer(r.ackOwedSinceNanos + rel.realNanos(rel.ackDelayMicros()));
    }
  }

  /** A cumulative ACK from the receiver {@code from}: frees the replay buffer up to {@code cumulative}. */
  private void onAck(String from, long cumulative) {
    Tx t = txByString.get(from);
    if (t == null) return;
    if (!rel.on()) { // selective ACK of one message
      t.unacked.removeIf(u -> u.seq() == cumulative);
      return;
    }
    boolean progress = false;
    while (!t.unacked.isEmpty() && t.unacked.peekFirst().seq() <= cumulative) {
      t.unacked.pollFirst();
      progress = true;
    }
    if (progress) {
      t.lastProgressNanos = System.nanoTime();
      t.backoff = 1; // the PCIe REPLAY_NUM and REPLAY_TIMER reset when an ACK makes progress
    }
  }

  // ------------------------------------------------------------------------------------------------ sending

  /** Sends a protocol message to another node through the link stage, stamped with this node's clock. */
  public void send(int toNode, ActorRef<Envelope> to, HmmProtocol.Msg msg) {
    Envelope env = WireCodec.encode(msg, clock.snapshot(), selfString);
    Tx t = txByRef.get(to);
    if (t == null) {
      t = new Tx(toNode, to, resolver.toSerializationFormat(to));
      txByRef.put(to, t);
      txByString.put(t.toString, t);
    }
    Envelope.Builder b = env.toBuilder().setLinkSeq(t.nextSeq++).setLinkNode(nodeIndex);
    Rx r = rx.get(t.toString);
    if (rel.on() && r != null && r.expected > 1) {
      b.setLinkAck(r.expected - 1); // piggybacked ACK
      r.ackOwed = false;
    }
    Envelope seqd = b.build();
    if (t.unacked.isEmpty()) t.lastProgressNanos = System.nanoTime();
    t.unacked.add(new Unacked(seqd.getLinkSeq(), seqd, System.nanoTime()));
    armTimer(t.lastProgressNanos + rel.realNanos(rel.replayTimeoutMicros() * t.backoff));
    link.send(nodeIndex, toNode, to, seqd);
  }

  /** Sends a reply to a controller/requester directly (not through the link stage: it is not host-device traffic). */
  public void reply(ActorRef<Envelope> to, HmmProtocol.Msg msg) {
    to.tell(WireCodec.encode(msg, clock.snapshot(), selfString));
  }

  /**
   * Forgets the link state towards and from the actors at {@code address} (a member that is down): their replay
   * and reorder buffers (models the PCIe link going to DL_Down on Surprise Down: the replay buffer is purged). A
   * restarted node has another address or actor uid, so its state is new and untouched.
   */
  public void linkDown(org.apache.pekko.actor.Address address) {
    txByRef.values().removeIf(t -> t.to.path().address().equals(address));
    txByString.values().removeIf(t -> t.to.path().address().equals(address));
    rx.values().removeIf(r -> resolve(r.from).path().address().equals(address));
  }

  // ------------------------------------------------------------------------------------------------ timers

  private void armTimer(long dueNanos) {
    if (dueNanos >= timerDueNanos) return;
    timerDueNanos = dueNanos;
    long delay = Math.max(0, dueNanos - System.nanoTime());
    @SuppressWarnings("unchecked")
    ActorRef<Object> self = (ActorRef<Object>) (ActorRef<?>) ctx.getSelf();
    ctx.scheduleOnce(Duration.ofNanos(delay), self, LinkTimer.TICK);
  }

  /**
   * The link timer fired: sends the pure ACKs owed for longer than the ACK delay (AckNak_LATENCY_TIMER), replays
   * every unacknowledged message of a direction whose replay timer expired (REPLAY_TIMER: the whole replay
   * buffer, oldest first, as PCIe does), doubling that direction's timer until an ACK makes progress.
   */
  public void onLinkTimer() {
    long now = System.nanoTime();
    timerDueNanos = Long.MAX_VALUE;
    long next = Long.MAX_VALUE;
    long ackDelay = rel.realNanos(rel.ackDelayMicros());
    for (Rx r : rx.values()) {
      if (!r.ackOwed) continue;
      long due = r.ackOwedSinceNanos + ackDelay;
      if (now - due >= 0) {
        r.ackOwed = false;
        ActorRef<Envelope> sender = resolve(r.from);
        link.send(nodeIndex, r.fromNode, sender, WireCodec.linkAck(r.expected - 1, selfString));
      } else {
        next = Math.min(next, due);
      }
    }
    for (Tx t : txByRef.values()) {
      if (t.unacked.isEmpty()) continue;
      long due = t.lastProgressNanos + rel.realNanos(rel.replayTimeoutMicros() * t.backoff);
      if (!rel.on()) {
        // Raw link: no replay. A message still unacknowledged a replay timeout after it was sent is reported lost,
        // by name.
        long timeout = rel.realNanos(rel.replayTimeoutMicros());
        for (var it = t.unacked.iterator(); it.hasNext();) {
          Unacked u = it.next();
          if (now - (u.sentNanos() + timeout) < 0) {
            next = Math.min(next, u.sentNanos() + timeout);
            continue;
          }
          it.remove();
          String what = describe(u.envelope());
          ctx.getLog().error("link loss detected: {} -> node {} seq {} never acknowledged: {}", nodeIndex, t.toNode,
              u.seq(), what);
          link.lost(nodeIndex, t.toNode, u.seq(), what);
        }
        continue;
      }
      if (now - due >= 0) {
        for (Unacked u : t.unacked) link.send(nodeIndex, t.toNode, t.to, u.envelope());
        link.count(nodeIndex, t.toNode, LinkReliability.Event.REPLAYED, t.unacked.size());
        t.lastProgressNanos = now;
        t.backoff = Math.min(t.backoff * 2, LinkReliability.MAX_BACKOFF);
        due = now + rel.realNanos(rel.replayTimeoutMicros() * t.backoff);
      }
      next = Math.min(next, due);
    }
    if (next != Long.MAX_VALUE) armTimer(next);
  }

  private static String describe(Envelope e) {
    try {
      return WireCodec.decode(e).toString();
    } catch (RuntimeException ex) {
      return e.getBodyCase().toString();
    }
  }

  /** Messages sent on the link and not yet acknowledged (all directions). */
  public int unacknowledged() {
    int n = 0;
    for (Tx t : txByRef.values()) n += t.unacked.size();
    return n;
  }
}
