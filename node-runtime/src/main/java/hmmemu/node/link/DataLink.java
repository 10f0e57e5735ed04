package hmmemu.node.link;

import hmmemu.node.link.LinkReliability.Event;
import hmmemu.protocol.wire.ChunkCodec;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * Both ends of the host-device data link layer of one node, without actors and without a clock (models the PCIe
 * Data Link Layer, PCIe Base Spec ch. 3; docs/FAULTS.md): on the sending side sequence numbers, the replay buffer
 * and the REPLAY_TIMER with its backoff (adaptive: raised to the measured ACK round trip, {@link #replayTimeoutNanos});
 * on the receiving side NEXT_RCV_SEQ, in-order exactly-once delivery with a
 * reorder buffer, and cumulative ACKs (piggybacked, or pure after the AckNak_LATENCY_TIMER). With the layer off
 * (raw link) it delivers as frames come, acknowledges each one selectively and reports a message never
 * acknowledged within the replay timeout as lost. Messages larger than {@link #CHUNK_BYTES} travel as chunk frames
 * (chunk.proto) joined back by the receiver.
 *
 * <p>Lanes ({@link Lanes}, {@code hmm-emu.link.lanes = per-thread}): a frame's {@code link_lane} names its
 * sending kernel thread; sequence numbers, the replay buffer, ACKs and in-order delivery are then per (peer,
 * lane), so a frame held or delayed in one lane does not hold the others (docs/PROTOCOL.md §5.8). Lane 0 (lanes
 * off) is one lane per peer, as before.
 *
 * <p>Peers are named by strings (the ActorRef serialization format) and node indexes; time is a parameter (wall
 * nanoseconds, as the shell reads them; {@link LinkReliability#realNanos} converts model time). Every method that
 * may need a timer returns the instant at which {@link #onTimer} must run, or {@link #NO_WAKE}: the caller keeps one
 * timer and re-arms it only for an earlier instant. Not thread-safe: one actor owns it.
 */
public final class DataLink {
  /** Where the data link layer's frames and reports go; the node shell implements it with its actor and link. */
  public interface Port {
    /** Hands {@code frame} to the link stage (modelled host-device traffic) towards {@code to} on node {@code toNode}. */
    void transmit(int toNode, String to, Envelope frame);

    /** Tells {@code frame} to {@code to} directly, not through the link stage (the raw link's selective ACKs). */
    void tellDirect(String to, Envelope frame);

    /** Counts a data-link-layer event of direction from -> to in the link's stats. */
    void count(int fromNode, int toNode, Event event, long n);

    /** Raw link: message {@code seq} of direction from -> to was never acknowledged ({@code what} names it). */
    void lost(int fromNode, int toNode, long seq, String what);

    /** A warning for the node's log. */
    void warn(String message);

    /** An error for the node's log. */
    void error(String message);
  }

  /** Returned when no timer is needed (or the one armed is early enough). */
  public static final long NO_WAKE = Long.MAX_VALUE;

  /**
   * Encoded size above which a message is split into chunk frames: a quarter of Pekko Artery's default
   * maximum-frame-size (256 KiB), leaving room for the envelope around the chunk and other traffic on the lane.
   */
  public static final int CHUNK_BYTES = 64 * 1024;

  /** Data link layer off: sequence numbers remembered ahead of a gap before the gap is given up. */
  public static final int RAW_WINDOW = 4096;

  /** Data link layer off: chunked messages a receiver assembles at once; the oldest is given up beyond it. */
  public static final int RAW_CHUNK_GROUPS = 64;

  private record Unacked(long seq, Envelope frame, long sentNanos) {}

  /** Sending side of one direction: this node incarnation -> one receiver actor (models the replay buffer). */
  private static final class Tx {
    final int toNode;
    final String to;
    final long lane;
    long nextSeq = 1;
    final ArrayDeque<Unacked> unacked = new ArrayDeque<>();
    /** Frames waiting, unsequenced and unsent, while the replay buffer is full. */
    final ArrayDeque<Envelope> stalled = new ArrayDeque<>();
    long lastProgressNanos;
    int backoff = 1;
    /** Smoothed ACK round trip and its mean deviation (RFC 6298 SRTT, RTTVAR), wall nanos; -1 before a sample. */
    long srttNanos = -1;
    long rttvarNanos;
    /** Frames up to this sequence number were replayed: their ACK is no round-trip sample (Karn's rule). */
    long replayedUpTo;

    Tx(int toNode, String to, long lane) {
      this.toNode = toNode;
      this.to = to;
      this.lane = lane;
    }
  }

  /** Receiving side of one direction: one sender actor incarnation -> this node (models NEXT_RCV_SEQ). */
  private static final class Rx {
    final String from;
    final long lane;
    int fromNode = -1;
    long expected = 1;
    final TreeMap<Long, Envelope> ahead = new TreeMap<>();
    boolean ackOwed;
    long ackOwedSinceNanos;
    boolean warnedBeyondWindow;
    /** Chunks of the message being joined, in order (data link layer on). */
    final List<Envelope> joining = new ArrayList<>();
    /** Data link layer off: chunks by the sequence number of their message's first chunk. */
    final TreeMap<Long, ChunkCodec.Parts> rawGroups = new TreeMap<>();

    Rx(String from, long lane) {
      this.from = from;
      this.lane = lane;
    }
  }

  private final int nodeIndex;
  private final String self;
  private final LinkReliability rel;
  private final int chunkBytes;
  private final Port port;
  private final Map<String, Tx> tx = new HashMap<>();
  private final Map<String, Rx> rx = new HashMap<>();
  private long timerDueNanos = NO_WAKE;
  /** Timer instants armed and not yet returned to the caller (calls nest: a delivery may send). */
  private long wake = NO_WAKE;

  /** The data link layer of node {@code nodeIndex}, whose actor is {@code self}, with the default chunk size. */
  public DataLink(int nodeIndex, String self, LinkReliability rel, Port port) {
    this(nodeIndex, self, rel, CHUNK_BYTES, port);
  }

  public DataLink(int nodeIndex, String self, LinkReliability rel, int chunkBytes, Port port) {
    if (chunkBytes <= 0) throw new IllegalArgumentException("chunk size must be > 0, got " + chunkBytes);
    this.nodeIndex = nodeIndex;
    this.self = self;
    this.rel = rel;
    this.chunkBytes = chunkBytes;
    this.port = port;
  }

  public LinkReliability reliability() { return rel; }

  /** The key of a peer's state in one lane: the peer's name alone in lane 0 (lanes off). */
  private static String key(String peer, long lane) { return lane == 0 ? peer : peer + "#" + Long.toHexString(lane); }

  /** {@code frame} marked with {@code lane} (unchanged in lane 0). */
  private static Envelope inLane(Envelope frame, long lane) {
    return lane == 0 ? frame : frame.toBuilder().setLinkLane(lane).build();
  }

  // ------------------------------------------------------------------------------------------------ sending

  /**
   * Sends {@code envelope} (an encoded protocol message, no link fields) to {@code to} on node {@code toNode}:
   * chunks it if it is large, sequences each frame, keeps it in the replay buffer and hands it to the link; with
   * the replay buffer full, the frame waits (the sender stalls) until an ACK frees room.
   *
   * @return when {@link #onTimer} must run, or {@link #NO_WAKE}
   */
  public long send(int toNode, String to, Envelope envelope, long nowNanos) {
    long lane = envelope.getLinkLane();
    Tx t = tx.computeIfAbsent(key(to, lane), k -> new Tx(toNode, to, lane));
    List<Envelope> frames;
    if (envelope.getSerializedSize() > chunkBytes) {
      frames = ChunkCodec.split(envelope, chunkBytes, self);
      port.count(nodeIndex, toNode, Event.CHUNKED, 1);
    } else {
      frames = List.of(envelope);
    }
    for (Envelope f : frames) {
      if (rel.on() && (!t.stalled.isEmpty() || t.unacked.size() >= rel.replayBuffer())) {
        if (t.stalled.isEmpty()) {
          port.warn("link " + nodeIndex + " -> node " + toNode + ": replay buffer full (" + rel.replayBuffer()
              + " unacknowledged), the sender stalls until an ACK frees room");
        }
        t.stalled.add(f);
        port.count(nodeIndex, toNode, Event.REPLAY_BUFFER_FULL, 1);
      } else {
        transmitNew(t, f, nowNanos);
      }
    }
    return takeWake();
  }

  private void transmitNew(Tx t, Envelope frame, long nowNanos) {
    Envelope.Builder b = frame.toBuilder().setLinkSeq(t.nextSeq++).setLinkNode(nodeIndex);
    if (t.lane != 0) b.setLinkLane(t.lane); // chunk frames too
    Rx r = rx.get(key(t.to, t.lane));
    if (rel.on() && r != null && r.expected > 1) {
      b.setLinkAck(r.expected - 1); // piggybacked ACK
      r.ackOwed = false;
    }
    Envelope seqd = b.build();
    if (t.unacked.isEmpty()) t.lastProgressNanos = nowNanos;
    t.unacked.add(new Unacked(seqd.getLinkSeq(), seqd, nowNanos));
    arm(t.lastProgressNanos + replayTimeoutNanos(t));
    port.transmit(t.toNode, t.to, seqd);
  }

  /** A cumulative ACK from the receiver {@code from}: frees the replay buffer up to {@code cumulative}. */
  private void onAck(String from, long lane, long cumulative, long nowNanos) {
    Tx t = tx.get(key(from, lane));
    if (t == null) return;
    if (!rel.on()) { // selective ACK of one message
      for (var it = t.unacked.iterator(); it.hasNext();) {
        Unacked u = it.next();
        if (u.seq() == cumulative) {
          it.remove();
          sampleRoundTrip(t, nowNanos - u.sentNanos());
          break;
        }
      }
      return;
    }
    Unacked newest = null;
    while (!t.unacked.isEmpty() && t.unacked.peekFirst().seq() <= cumulative) newest = t.unacked.pollFirst();
    if (newest != null) {
      t.lastProgressNanos = nowNanos;
      // The REPLAY_TIMER restarts when an ACK makes progress (PCIe). Its backoff is kept until an ACK of a frame
      // that was never replayed gives a round-trip sample (Karn's algorithm): an ACK of a replayed frame may answer
      // the first copy, so it neither measures the round trip nor proves the shorter timer enough.
      if (newest.seq() > t.replayedUpTo) {
        sampleRoundTrip(t, nowNanos - newest.sentNanos());
        t.backoff = 1;
      }
      while (!t.stalled.isEmpty() && t.unacked.size() < rel.replayBuffer()) transmitNew(t, t.stalled.poll(), nowNanos);
    }
  }

  /** One ACK round-trip sample (send to ACK, wall nanos) into the direction's estimate (RFC 6298 section 2). */
  private static void sampleRoundTrip(Tx t, long rttNanos) {
    long r = Math.max(0, rttNanos);
    if (t.srttNanos < 0) {
      t.srttNanos = r;
      t.rttvarNanos = r / 2;
    } else {
      t.rttvarNanos = (3 * t.rttvarNanos + Math.abs(t.srttNanos - r)) / 4;
      t.srttNanos = (7 * t.srttNanos + r) / 8;
    }
  }

  /**
   * The direction's replay timeout now, backoff included: the configured {@code replay-timeout}, raised to the
   * ACK round trip measured on this link (SRTT + 4 RTTVAR, RFC 6298) when that is longer; with the backoff never
   * beyond {@link LinkReliability#MAX_BACKOFF} times the configured value. PCIe sizes REPLAY_TIMER to cover the link's round
   * trip and the receiver's ACK latency; the emulator's round trip also holds the host's transport and scheduling,
   * which the model did not ask for, and a timer shorter than it replays the whole buffer for nothing, again and
   * again (a replay storm that filled Artery's send queue in LargeReplyTest under load, issue 16).
   */
  private long replayTimeoutNanos(Tx t) {
    long configured = rel.realNanos(rel.replayTimeoutMicros());
    long ceiling = configured * LinkReliability.MAX_BACKOFF;
    long timeout = configured;
    if (t.srttNanos >= 0) timeout = Math.max(configured, Math.min(t.srttNanos + 4 * t.rttvarNanos, ceiling));
    // The backoff doubles it, never beyond the fixed timer's own ceiling: a link that heals after a partition is
    // replayed to within MAX_BACKOFF x replay-timeout, as before the timer learnt round trips.
    return Math.min(timeout * t.backoff, ceiling);
  }

  /** The replay timeout of the direction towards {@code to} in {@code lane} now, wall nanos (tests, status). */
  public long replayTimeoutNanos(String to, long lane) {
    Tx t = tx.get(key(to, lane));
    return t == null ? rel.realNanos(rel.replayTimeoutMicros()) : replayTimeoutNanos(t);
  }

  // ------------------------------------------------------------------------------------------------ receiving

  /**
   * Takes a frame from the link: its ACK, then (if it carries a message) the receive side. A sequenced message is
   * delivered exactly once and in sequence order (models the PCIe receiver's NEXT_RCV_SEQ check, which discards
   * duplicate TLPs); {@code deliver} gets each message now deliverable, in order, with the sender's name (chunked
   * messages joined). Frames without a sequence number are delivered as they are.
   *
   * @return when {@link #onTimer} must run, or {@link #NO_WAKE}
   */
  public long receive(Envelope frame, long nowNanos, BiConsumer<Envelope, String> deliver) {
    String from = WireCodec.replyTo(frame);
    long lane = frame.getLinkLane();
    if (frame.getLinkAck() != 0 && from != null) onAck(from, lane, frame.getLinkAck(), nowNanos);
    if (WireCodec.isLinkAck(frame)) return takeWake();
    long seq = frame.getLinkSeq();
    if (seq == 0 || from == null) {
      deliver.accept(frame, from);
      return takeWake();
    }
    Rx r = rx.computeIfAbsent(key(from, lane), k -> new Rx(from, lane));
    r.fromNode = frame.getLinkNode();
    if (!rel.on()) {
      receiveRaw(r, seq, frame, deliver);
      return takeWake();
    }
    if (seq < r.expected || r.ahead.containsKey(seq)) {
      port.count(r.fromNode, nodeIndex, Event.DUPLICATE_DROPPED, 1);
      owe(r, nowNanos); // the sender replays because it missed our ACK: ACK again
      return takeWake();
    }
    if (seq > r.expected) {
      if (seq - r.expected >= rel.receiveWindow()) {
        port.count(r.fromNode, nodeIndex, Event.BEYOND_WINDOW_DROPPED, 1);
        if (!r.warnedBeyondWindow) {
          r.warnedBeyondWindow = true;
          port.warn("link node " + r.fromNode + " -> " + nodeIndex + ": seq " + seq + " is beyond the receive window ("
              + rel.receiveWindow() + " after seq " + r.expected + "), dropped; the sender's replay repairs it"
              + " (further drops are counted in the link stats)");
        }
        return takeWake();
      }
      r.ahead.put(seq, frame);
      return takeWake();
    }
    r.expected++;
    owe(r, nowNanos);
    inOrder(r, frame, deliver);
    for (Envelope next; (next = r.ahead.remove(r.expected)) != null;) {
      r.expected++;
      port.count(r.fromNode, nodeIndex, Event.RESEQUENCED, 1);
      inOrder(r, next, deliver);
    }
    return takeWake();
  }

  /** Data link layer on: the next frame in sequence; joins chunks, delivers messages. */
  private void inOrder(Rx r, Envelope frame, BiConsumer<Envelope, String> deliver) {
    if (!ChunkCodec.isChunk(frame)) {
      deliver.accept(frame, r.from);
      return;
    }
    int index = frame.getLinkChunk().getIndex();
    if (index == 0) r.joining.clear();
    r.joining.add(frame);
    if (index == frame.getLinkChunk().getCount() - 1) {
      List<Envelope> parts = List.copyOf(r.joining);
      r.joining.clear();
      join(r, parts, deliver);
    }
  }

  private void join(Rx r, List<Envelope> parts, BiConsumer<Envelope, String> deliver) {
    Envelope whole;
    try {
      whole = ChunkCodec.join(parts);
    } catch (IllegalArgumentException e) {
      port.count(r.fromNode, nodeIndex, Event.OVERSIZE_DROPPED, 1);
      port.error("link node " + r.fromNode + " -> " + nodeIndex + ": a chunked message did not join, dropped: "
          + e.getMessage());
      return;
    }
    deliver.accept(whole, r.from);
  }

  /**
   * Raw link: delivers as frames come (duplicates and reordering reach the protocol), but keeps acknowledging what
   * arrived so that the sender can name what never did.
   */
  private void receiveRaw(Rx r, long seq, Envelope frame, BiConsumer<Envelope, String> deliver) {
    boolean duplicate = seq < r.expected || r.ahead.containsKey(seq);
    if (duplicate) {
      port.count(r.fromNode, nodeIndex, Event.RAW_DUPLICATE, 1);
      port.warn("raw link: duplicate of seq " + seq + " from node " + r.fromNode + " delivered");
    } else {
      if (seq > r.expected) {
        port.count(r.fromNode, nodeIndex, Event.RAW_OUT_OF_ORDER, 1);
        port.warn("raw link: seq " + seq + " from node " + r.fromNode + " delivered before seq " + r.expected);
      }
      r.ahead.put(seq, frame);
      while (r.ahead.remove(r.expected) != null) r.expected++;
      if (r.ahead.size() > RAW_WINDOW) r.expected = r.ahead.pollFirstEntry().getKey() + 1; // a gap that stays
    }
    // Selective ACK of this one message, told directly: with the link layer off the ACK is the loss detector's
    // instrument, not modelled traffic, so the link can neither lose nor delay it.
    port.tellDirect(r.from, inLane(WireCodec.linkAck(seq, self), r.lane));
    if (!ChunkCodec.isChunk(frame)) {
      deliver.accept(frame, r.from);
      return;
    }
    int index = frame.getLinkChunk().getIndex();
    int count = frame.getLinkChunk().getCount();
    long first = seq - index;
    if (duplicate && !r.rawGroups.containsKey(first)) return; // its message was joined (or given up) already
    ChunkCodec.Parts parts = r.rawGroups.computeIfAbsent(first, k -> ChunkCodec.Parts.of(frame));
    try {
      parts.add(frame);
    } catch (IllegalArgumentException e) {
      port.count(r.fromNode, nodeIndex, Event.OVERSIZE_DROPPED, 1);
      port.error("raw link: chunk " + index + "/" + count + " of seq " + first + " from node " + r.fromNode
          + " does not match its message, dropped");
      return;
    }
    if (!parts.complete()) {
      if (r.rawGroups.size() > RAW_CHUNK_GROUPS) {
        var gone = r.rawGroups.pollFirstEntry();
        port.count(r.fromNode, nodeIndex, Event.CHUNKS_LOST, 1);
        port.error("raw link: chunked message at seq " + gone.getKey() + " from node " + r.fromNode
            + " given up: " + gone.getValue().describeMissing());
      }
      return;
    }
    r.rawGroups.remove(first);
    Envelope whole;
    try {
      whole = parts.join();
    } catch (IllegalArgumentException e) {
      port.count(r.fromNode, nodeIndex, Event.OVERSIZE_DROPPED, 1);
      port.error("link node " + r.fromNode + " -> " + nodeIndex + ": a chunked message did not join, dropped: "
          + e.getMessage());
      return;
    }
    deliver.accept(whole, r.from);
  }

  private void owe(Rx r, long nowNanos) {
    if (!r.ackOwed) {
      r.ackOwed = true;
      r.ackOwedSinceNanos = nowNanos;
      arm(r.ackOwedSinceNanos + rel.realNanos(rel.ackDelayMicros()));
    }
  }

  // ------------------------------------------------------------------------------------------------ timers

  private long takeWake() {
    long w = wake;
    wake = NO_WAKE;
    return w;
  }

  private void arm(long dueNanos) {
    if (dueNanos >= timerDueNanos) return;
    timerDueNanos = dueNanos;
    wake = Math.min(wake, dueNanos);
  }

  /**
   * The link timer fired: sends the pure ACKs owed for longer than the ACK delay (AckNak_LATENCY_TIMER), replays
   * every unacknowledged message of a direction whose replay timer expired (REPLAY_TIMER: the whole replay
   * buffer, oldest first, as PCIe does), doubling that direction's timer until an ACK makes progress. Raw link:
   * reports each message unacknowledged for a replay timeout as lost.
   *
   * @return when {@link #onTimer} must run next, or {@link #NO_WAKE}
   */
  public long onTimer(long now) {
    timerDueNanos = NO_WAKE;
    long next = NO_WAKE;
    long ackDelay = rel.realNanos(rel.ackDelayMicros());
    for (Rx r : rx.values()) {
      if (!r.ackOwed) continue;
      long due = r.ackOwedSinceNanos + ackDelay;
      if (now - due >= 0) {
        r.ackOwed = false;
        port.transmit(r.fromNode, r.from, inLane(WireCodec.linkAck(r.expected - 1, self), r.lane));
      } else {
        next = Math.min(next, due);
      }
    }
    for (Tx t : tx.values()) {
      if (t.unacked.isEmpty()) continue;
      long due = t.lastProgressNanos + replayTimeoutNanos(t);
      if (!rel.on()) {
        // Raw link: no replay. A message still unacknowledged a replay timeout after it was sent is reported lost,
        // by name.
        long timeout = replayTimeoutNanos(t);
        for (var it = t.unacked.iterator(); it.hasNext();) {
          Unacked u = it.next();
          if (now - (u.sentNanos() + timeout) < 0) {
            next = Math.min(next, u.sentNanos() + timeout);
            continue;
          }
          it.remove();
          String what = describe(u.frame());
          port.error("link loss detected: " + nodeIndex + " -> node " + t.toNode + " seq " + u.seq()
              + " never acknowledged: " + what);
          port.lost(nodeIndex, t.toNode, u.seq(), what);
        }
        continue;
      }
      if (now - due >= 0) {
        for (Unacked u : t.unacked) port.transmit(t.toNode, t.to, u.frame());
        port.count(nodeIndex, t.toNode, Event.REPLAYED, t.unacked.size());
        t.replayedUpTo = t.unacked.peekLast().seq();
        t.lastProgressNanos = now;
        t.backoff = Math.min(t.backoff * 2, LinkReliability.MAX_BACKOFF);
        due = now + replayTimeoutNanos(t);
      }
      next = Math.min(next, due);
    }
    if (next != NO_WAKE) arm(next);
    return takeWake();
  }

  private static String describe(Envelope e) {
    if (ChunkCodec.isChunk(e)) {
      return "chunk " + e.getLinkChunk().getIndex() + " of " + e.getLinkChunk().getCount() + " of a large message";
    }
    try {
      return WireCodec.decode(e).toString();
    } catch (RuntimeException ex) {
      return e.getBodyCase().toString();
    }
  }

  // ------------------------------------------------------------------------------------------------ peers

  /**
   * Forgets the link state towards and from every peer {@code gone} accepts (a member that is down): their replay,
   * stall and reorder buffers (models the PCIe link going to DL_Down on Surprise Down: the replay buffer is purged).
   * A restarted node has another address or actor uid, so its state is new and untouched.
   */
  public void purge(Predicate<String> gone) {
    tx.values().removeIf(t -> gone.test(t.to));
    rx.values().removeIf(r -> gone.test(r.from));
  }

  /** Messages sent on the link and not yet acknowledged (all directions). */
  public int unacknowledged() {
    int n = 0;
    for (Tx t : tx.values()) n += t.unacked.size();
    return n;
  }

  /** Messages waiting, unsent, because their direction's replay buffer is full (all directions). */
  public int stalled() {
    int n = 0;
    for (Tx t : tx.values()) n += t.stalled.size();
    return n;
  }

  /** Messages held behind a gap by the receive side (all directions). */
  public int reordering() {
    int n = 0;
    for (Rx r : rx.values()) n += r.ahead.size();
    return n;
  }
}
