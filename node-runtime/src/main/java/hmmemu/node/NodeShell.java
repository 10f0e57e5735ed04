package hmmemu.node;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.trace.VectorClock;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * What every actor shell shares: the node's vector clock, the encoding of outgoing messages (stamped with the
 * clock), ActorRef <-> string resolution, and forwarding of trace events to the invariant checker (buffered
 * until the checker is known). It holds no protocol logic.
 */
public final class NodeShell {
  private final int nodeIndex;
  private final VectorClock clock;
  private final ActorRefResolver resolver;
  private final String selfString;
  private final Link link;
  private ActorRef<Envelope> checker;
  private final List<Stamped> pendingTrace = new ArrayList<>();
  private long eventsEmitted;

  public NodeShell(ActorContext<?> ctx, int nodeIndex, ActorRef<Envelope> self, Link link) {
    this.nodeIndex = nodeIndex;
    this.clock = new VectorClock(nodeIndex);
    this.resolver = ActorRefResolver.get(ctx.getSystem());
    this.selfString = resolver.toSerializationFormat(self);
    this.link = link;
  }

  public int nodeIndex() { return nodeIndex; }

  public long eventsEmitted() { return eventsEmitted; }

  public long[] clockSnapshot() { return clock.snapshot(); }

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

  /** Sends a protocol message to another node through the link stage, stamped with this node's clock. */
  public void send(int toNode, ActorRef<Envelope> to, HmmProtocol.Msg msg) {
    link.send(nodeIndex, toNode, to, WireCodec.encode(msg, clock.snapshot(), selfString));
  }

  /** Sends a reply to a controller/requester directly (not through the link stage: it is not host-device traffic). */
  public void reply(ActorRef<Envelope> to, HmmProtocol.Msg msg) {
    to.tell(WireCodec.encode(msg, clock.snapshot(), selfString));
  }
}
