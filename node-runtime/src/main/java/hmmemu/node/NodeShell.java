package hmmemu.node;

import hmmemu.node.link.DataLink;
import hmmemu.node.link.Lanes;
import hmmemu.node.link.Link;
import hmmemu.node.link.LinkReliability;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Msgs;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.trace.VectorClock;
import hmmemu.protocol.wire.ChunkCodec;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.FlowHalf;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * What every actor shell shares: the node's vector clock, the encoding of outgoing messages (stamped with the
 * clock), the decoding of incoming ones, ActorRef <-> string resolution, forwarding of trace events to the
 * invariant checker (buffered, bounded, until the checker is known: {@link TraceOutbox}), and the actor side of
 * the host-device data link layer, which lives in {@link DataLink} (sequence numbers, ACKs, replay buffer and
 * replay timer, in-order exactly-once delivery, chunking of large messages; docs/FAULTS.md). This class reads the
 * wall clock and schedules the link timer for it. It holds no protocol logic.
 *
 * <p>Run records (docs/OBSERVABILITY.md): each event is stamped with the model time of its step, and each protocol
 * message to another node is numbered (per receiving node); the shell reports the halves of every message (sent:
 * receiver, number, model time, type, size; received: sender, number, model time) to the checker with its next
 * trace batch, which hands them to a run recorder and does not judge them.
 */
public final class NodeShell {

  /**
   * The shell's link timer message (PCIe REPLAY_TIMER / AckNak_LATENCY_TIMER); actors route it to
   * {@link #onLinkTimer}. It never leaves the node, so it needs no serializer.
   */
  public enum LinkTimer implements org.apache.pekko.actor.NoSerializationVerificationNeeded { TICK }

  /** A decoded protocol message handed to the node, with its sender's reply-to (null when none). */
  public record Inbound(HmmProtocol.Msg msg, String replyTo, Envelope envelope) {}

  /**
   * Largest envelope Pekko Artery sends (its default {@code maximum-frame-size}, 256 KiB); a larger one is
   * discarded by the transport, so the shell reports it.
   */
  public static final int MAX_FRAME_BYTES = 256 * 1024;

  private final ActorContext<?> ctx;
  private final int nodeIndex;
  private final VectorClock clock;
  private final ActorRefResolver resolver;
  private final String selfString;
  private final DataLink dataLink;
  /** The node's outermost link stage (told what the node received: {@link Link#received}). */
  private final Link link;
  private ActorRef<Envelope> checker;
  private final TraceOutbox traceOutbox;
  private long eventsEmitted;
  private long timerDueNanos = Long.MAX_VALUE;
  /** The link timer's armed wake-up (due at {@link #timerDueNanos}), or null. */
  private java.util.concurrent.ScheduledFuture<?> armed;
  private long undecodable;
  private long oversize;
  private long repliesChunked;
  private final ModelClock modelClock;
  /** This node's live counters ({@link NodeCounters}, read by the status route). */
  private final NodeCounters counters;
  /** Message numbers per receiving node (index = node). */
  private long[] flowNumbers = new long[4];
  private final List<FlowHalf> flows = new ArrayList<>();
  private long flowsDropped;
  private boolean flowFlushArmed;
  /**
   * The node actors' incarnation (reused node JVMs, docs/SCENARIOS.md "Across separate JVMs"): stamped on every
   * envelope this shell sends; an envelope of another incarnation is dropped unread. 0 (a JVM's first) stamps nothing.
   */
  private volatile long epoch;
  private long staleDropped;
  /** Flow halves wait at most this long (real time) for a trace batch to ride on. */
  static final Duration FLOW_FLUSH = Duration.ofMillis(20);
  /** Flow halves held while no checker is known; older ones are dropped (counted). */
  static final int FLOW_PENDING_LIMIT = 65536;

  public NodeShell(ActorContext<?> ctx, int nodeIndex, ActorRef<Envelope> self, Link link) {
    this(ctx, nodeIndex, self, link, TraceOutbox.DEFAULT_PENDING_LIMIT);
  }

  public NodeShell(ActorContext<?> ctx, int nodeIndex, ActorRef<Envelope> self, Link link, int pendingTraceLimit) {
    this(ctx, nodeIndex, self, link, pendingTraceLimit, () -> -1);
  }

  /** As above, reading {@code modelClock} for the model time of message receipts (run records). */
  public NodeShell(ActorContext<?> ctx, int nodeIndex, ActorRef<Envelope> self, Link link, ModelClock modelClock) {
    this(ctx, nodeIndex, self, link, TraceOutbox.DEFAULT_PENDING_LIMIT, modelClock);
  }

  public NodeShell(ActorContext<?> ctx, int nodeIndex, ActorRef<Envelope> self, Link link, int pendingTraceLimit,
      ModelClock modelClock) {
    this.ctx = ctx;
    this.modelClock = modelClock;
    this.nodeIndex = nodeIndex;
    this.clock = new VectorClock(nodeIndex);
    this.resolver = ActorRefResolver.get(ctx.getSystem());
    this.selfString = resolver.toSerializationFormat(self);
    this.traceOutbox = new TraceOutbox(pendingTraceLimit);
    this.counters = countersOf(ctx, nodeIndex);
    this.link = link;
    this.dataLink = new DataLink(nodeIndex, selfString, link.reliability(), new DataLink.Port() {
      @Override public void transmit(int toNode, String to, Envelope frame) {
        link.send(nodeIndex, toNode, resolve(to), stamped(frame));
      }

      @Override public void tellDirect(String to, Envelope frame) { resolve(to).tell(stamped(frame)); }

      @Override public void count(int fromNode, int toNode, LinkReliability.Event event, long n) {
        link.count(fromNode, toNode, event, n);
      }

      @Override public void lost(int fromNode, int toNode, long seq, String what) { link.lost(fromNode, toNode, seq, what); }

      @Override public void warn(String message) { ctx.getLog().warn(message); }

      @Override public void error(String message) { ctx.getLog().error(message); }
    });
  }

  public int nodeIndex() { return nodeIndex; }

  /** Sets this shell's incarnation ({@link #epoch}); before the node sends or receives anything. */
  public void epoch(long epoch) { this.epoch = epoch; }

  /** This shell's incarnation. */
  public long epoch() { return epoch; }

  /** Envelopes of another incarnation this shell dropped unread (stale messages of an earlier run). */
  public long staleDropped() { return staleDropped; }

  /** {@code env} stamped with this shell's incarnation (unchanged for the first). */
  private Envelope stamped(Envelope env) {
    long e = epoch;
    return e == 0 || env.getEpoch() == e ? env : env.toBuilder().setEpoch(e).build();
  }

  /** The node's counters in its system's registry (a private set where the system has no extensions: test kits). */
  private static NodeCounters countersOf(ActorContext<?> ctx, int nodeIndex) {
    try {
      return NodeCounters.of(ctx.getSystem()).node(nodeIndex);
    } catch (RuntimeException e) {
      return new NodeCounters();
    }
  }

  /** This node's live protocol counters (docs/OBSERVABILITY.md, "A running cluster, live"). */
  public NodeCounters counters() { return counters; }

  public long eventsEmitted() { return eventsEmitted; }

  public long[] clockSnapshot() { return clock.snapshot(); }

  /** Envelopes dropped because they did not decode. */
  public long undecodable() { return undecodable; }

  /** Envelopes larger than {@link #MAX_FRAME_BYTES} this shell had to tell (reported, see {@link #checkFrame}). */
  public long oversize() { return oversize; }

  /** Merges the vector clock a received envelope carries; call before stepping the core. */
  public void received(Envelope envelope) { clock.merge(WireCodec.vc(envelope)); }

  public ActorRef<Envelope> resolve(String serialized) { return resolver.resolveActorRef(serialized); }

  /**
   * Sets (or replaces) the checker; flushes events buffered before it was known, telling it how many older ones
   * were dropped because the buffer was full (the checker reports them lost).
   */
  public void checker(ActorRef<Envelope> checkerRef) {
    this.checker = checkerRef;
    if (checkerRef != null && (traceOutbox.pending() > 0 || traceOutbox.lost() > 0)) {
      long lost = traceOutbox.lost();
      tellTrace(traceOutbox.takeAll(), lost);
    }
  }

  /** As {@link #emit(List, long)} with the model time unknown (-1). */
  public void emit(List<Trace.Event> events) { emit(events, -1); }

  /**
   * Stamps the step's events (one clock tick each, and {@code atMicros}, the model time the step was taken at) and
   * forwards them to the checker as one batch (or several), with the flow halves pending.
   */
  public void emit(List<Trace.Event> events, long atMicros) {
    if (events.isEmpty()) return;
    List<Stamped> batch = new ArrayList<>(events.size());
    for (Trace.Event e : events) batch.add(new Stamped(nodeIndex, clock.tick(), e, atMicros));
    eventsEmitted += events.size();
    counters.count(events);
    if (checker == null) {
      long dropped = traceOutbox.hold(batch);
      if (dropped > 0 && traceOutbox.lost() == dropped) {
        ctx.getLog().error("no checker known and {} trace events pending: dropping the oldest (the checker will be"
            + " told how many, CHECKER-LOST)", traceOutbox.limit());
      }
    } else {
      tellTrace(batch, 0);
    }
  }

  /** Tells the checker {@code events} in batches that fit a frame; the first carries {@code lostBefore}. */
  private void tellTrace(List<Stamped> events, long lostBefore) {
    List<List<Stamped>> parts = TraceOutbox.split(events, DataLink.CHUNK_BYTES);
    if (parts.isEmpty()) parts = List.of(List.of());
    for (List<Stamped> part : parts) {
      Envelope env = WireCodec.encodeTraceEnvelope(nodeIndex, part, clock.snapshot());
      if (lostBefore > 0) {
        env = env.toBuilder().setTraceBatch(env.getTraceBatch().toBuilder().setLostBefore(lostBefore)).build();
        lostBefore = 0;
      }
      if (!flows.isEmpty() && env.getSerializedSize() < DataLink.CHUNK_BYTES) env = withFlows(env);
      checkFrame(env, "trace batch");
      checker.tell(env);
    }
  }

  /** Adds the pending flow halves (as many as fit a chunk) to a trace batch envelope. */
  private Envelope withFlows(Envelope env) {
    var b = env.getTraceBatch().toBuilder();
    int room = DataLink.CHUNK_BYTES - env.getSerializedSize();
    int n = 0;
    for (FlowHalf f : flows) {
      room -= f.getSerializedSize() + 4;
      if (room < 0) break;
      b.addFlows(f);
      n++;
    }
    flows.subList(0, n).clear();
    return env.toBuilder().setTraceBatch(b).build();
  }

  /** Records one half of a message's flow; it rides on the next trace batch (or a timer sends it alone). */
  private void flow(FlowHalf half) {
    if (flows.size() >= FLOW_PENDING_LIMIT) {
      flows.remove(0);
      flowsDropped++;
    }
    flows.add(half);
    if (!flowFlushArmed) {
      flowFlushArmed = true;
      @SuppressWarnings("unchecked")
      ActorRef<Object> self = (ActorRef<Object>) (ActorRef<?>) ctx.getSelf();
      ctx.scheduleOnce(FLOW_FLUSH, self, LinkTimer.TICK);
    }
  }

  /** Sends the pending flow halves in trace batches of no events (when a checker is known). */
  private void flushFlows() {
    flowFlushArmed = false;
    if (checker == null || flows.isEmpty()) return;
    while (!flows.isEmpty()) {
      Envelope env = withFlows(WireCodec.encodeTraceEnvelope(nodeIndex, List.of(), clock.snapshot()));
      checker.tell(env);
    }
  }

  /** Flow halves dropped because no checker was known for long (run records only). */
  public long flowsDropped() { return flowsDropped; }

  /** Reports (error log and counter) an envelope the transport will discard as larger than a frame. */
  private void checkFrame(Envelope env, String what) {
    int size = env.getSerializedSize();
    if (size <= MAX_FRAME_BYTES) return;
    oversize++;
    ctx.getLog().error("{} of {} bytes exceeds the {}-byte frame limit: a remote receiver will never get it ({})",
        what, size, MAX_FRAME_BYTES, describe(env));
  }

  private static String describe(Envelope e) {
    if (WireCodec.isTrace(e)) return e.getTraceBatch().getEventsCount() + " events";
    try {
      String s = WireCodec.decode(e).toString();
      return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    } catch (RuntimeException ex) {
      return e.getBodyCase().toString();
    }
  }

  // ------------------------------------------------------------------------------------------------ receiving

  /**
   * Everything an actor does with an incoming envelope before its core steps: ignores trace batches, runs the
   * receive side of the data link layer ({@link DataLink#receive}: ACKs, exactly-once in-order delivery, chunk
   * joining), decodes, merges the vector clock, and calls {@code handler} once per message now deliverable, in
   * order.
   */
  public void receive(Envelope envelope, Consumer<Inbound> handler) {
    if (WireCodec.isTrace(envelope)) return;
    if (envelope.getEpoch() != epoch) { // a message of an earlier incarnation's run: it never reaches this one's core
      staleDropped++;
      return;
    }
    wake(dataLink.receive(envelope, System.nanoTime(), (env, from) -> deliver(env, from, handler)));
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
    link.received(nodeIndex, msg);
    if (envelope.getFlowNo() != 0) {
      flow(FlowHalf.newBuilder().setSent(false).setPeer(envelope.getFlowNode()).setMsgNo(envelope.getFlowNo())
          .setAtMicros(modelClock.nowMicros()).build());
    }
    handler.accept(new Inbound(msg, from, envelope));
    link.delivered(nodeIndex, msg); // the core stepped on it (Link#delivered)
  }

  // ------------------------------------------------------------------------------------------------ sending

  /** Sends a protocol message to another node through the link stage, stamped with this node's clock. */
  public void send(int toNode, ActorRef<Envelope> to, HmmProtocol.Msg msg) {
    Envelope env = WireCodec.encode(msg, clock.snapshot(), selfString);
    if (toNode >= 0) {
      if (toNode >= flowNumbers.length) flowNumbers = java.util.Arrays.copyOf(flowNumbers, Math.max(toNode + 1, flowNumbers.length * 2));
      long no = ++flowNumbers[toNode];
      env = env.toBuilder().setFlowNode(nodeIndex).setFlowNo(no).build();
      flow(FlowHalf.newBuilder().setSent(true).setPeer(toNode).setMsgNo(no).setAtMicros(modelClock.nowMicros())
          .setType(msg.getClass().getSimpleName()).setBytes(env.getSerializedSize()).build());
    }
    if (dataLink.reliability().lanes()) env = env.toBuilder().setLinkLane(Lanes.of(msg)).build(); // §5.8
    wake(dataLink.send(toNode, resolver.toSerializationFormat(to), env, System.nanoTime()));
  }

  /**
   * Sends a reply to a controller/requester directly (not through the link stage: it is not host-device traffic).
   * A reply larger than {@link DataLink#CHUNK_BYTES} travels in parts (chunk.proto, each carrying the request's
   * reqId), told in order; the controller ({@code hmmemu.cluster.ControlClient}) gathers them.
   */
  public void reply(ActorRef<Envelope> to, HmmProtocol.Msg msg) {
    Envelope env = stamped(WireCodec.encode(msg, clock.snapshot(), selfString));
    if (env.getSerializedSize() <= DataLink.CHUNK_BYTES) {
      checkFrame(env, "reply");
      to.tell(env);
      return;
    }
    List<Envelope> parts = ChunkCodec.split(env, DataLink.CHUNK_BYTES, selfString, Msgs.reqIdOf(msg));
    repliesChunked++;
    for (Envelope part : parts) {
      checkFrame(part, "reply part");
      to.tell(part);
    }
  }

  /** Replies this shell sent in parts because they were larger than {@link DataLink#CHUNK_BYTES}. */
  public long repliesChunked() { return repliesChunked; }

  /**
   * Forgets the link state towards and from the actors at {@code address} (a member that is down): their replay
   * and reorder buffers (models the PCIe link going to DL_Down on Surprise Down: the replay buffer is purged). A
   * restarted node has another address or actor uid, so its state is new and untouched.
   */
  public void linkDown(org.apache.pekko.actor.Address address) {
    dataLink.purge(peer -> resolve(peer).path().address().equals(address));
  }

  // ------------------------------------------------------------------------------------------------ timers

  private void wake(long dueNanos) {
    if (dueNanos == DataLink.NO_WAKE || dueNanos >= timerDueNanos) return;
    timerDueNanos = dueNanos;
    long delay = Math.max(0, dueNanos - System.nanoTime());
    @SuppressWarnings("unchecked")
    ActorRef<Object> self = (ActorRef<Object>) (ActorRef<?>) ctx.getSelf();
    if (armed != null) armed.cancel(false); // superseded by an earlier one: one wake-up armed at a time
    armed = WakeTimer.tell(self, LinkTimer.TICK, delay); // not Pekko's 10 ms tick (a late ACK or replay)
  }

  /**
   * The link timer fired: runs {@link DataLink#onTimer} (pure ACKs owed, replays, raw-link loss reports). A tick
   * that comes before the armed wake-up's instant (the flow flush's, or a superseded wake-up that fired before its
   * cancel) runs nothing of the link: the armed wake-up still comes, and {@link DataLink#onTimer} acts only on what
   * is due. Before, every such tick re-armed a wake-up of its own, so superseded wake-ups kept firing in parallel
   * chains (millions of ticks in a scenario suite; docs/TESTING.md "Session 19: itcut2").
   */
  public void onLinkTimer() {
    if (flowFlushArmed) flushFlows();
    long now = System.nanoTime();
    if (timerDueNanos != Long.MAX_VALUE && now - timerDueNanos < 0) return;
    timerDueNanos = Long.MAX_VALUE;
    armed = null;
    wake(dataLink.onTimer(now));
  }

  /** Messages sent on the link and not yet acknowledged (all directions). */
  public int unacknowledged() { return dataLink.unacknowledged(); }
}
