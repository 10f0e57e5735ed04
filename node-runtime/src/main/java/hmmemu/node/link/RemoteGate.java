package hmmemu.node.link;

import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.msg.Msgs;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Delivered;
import hmmemu.protocol.wire.pb.DeliveryWatch;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.GateArm;
import hmmemu.protocol.wire.pb.GateClosed;
import hmmemu.protocol.wire.pb.GateReply;
import hmmemu.protocol.wire.pb.GateRequest;
import hmmemu.protocol.wire.pb.LinkObserved;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * A node's scenario link stage across JVMs: the pause gate ({@link GateLink}) around an observing stage, the same
 * two stages a scenario runner puts around an embedded cluster's link, driven by a remote controller through
 * gate.proto ({@code hmm-emu cluster --scenario}; docs/SCENARIOS.md, "Across separate JVMs"). The controller arms
 * a pause point (from, to, message type, device, event, kind, skip) on the node that sends on its direction, hears
 * {@link GateClosed} when it closed, releases it; the observing stage streams the first copy of every NotifierInsert,
 * InvalidateStart and HmmRangeFaultReply this node hands to the wire ({@link LinkObserved}, numbered), from which the
 * controller counts invalidate callbacks. A trigger's event and kind filters read what this node sent and received
 * ({@link #received}): an InvalidateAck's event is its InvalidateStart's, which the GPU node received. An until-watch
 * ({@link DeliveryWatch}) makes it report each message of one type and direction that this node's core stepped on
 * ({@link #delivered}, {@link Delivered}): a pause point's or controller hold's {@code until}. An order gate
 * ({@code order}, {@code permit}: {@link GateLink#order}) holds each message until the controller permits it. Not a kernel
 * structure.
 */
public final class RemoteGate implements Link {
  private final int nodeIndex;
  private final GateLink gate;
  /** Subscription kinds (NotifierInsert) and callback events (InvalidateStart, "invId:subId") sent or received. */
  private final Map<Long, NotifierKind> kinds = new ConcurrentHashMap<>();
  private final Map<String, NotifyEvent> events = new ConcurrentHashMap<>();
  private volatile ActorRef<Object> listener;
  /** Until-watches: "fromNode:MessageName" (fromNode -1: a controller request) -> the listener that hears them. */
  private final Map<String, ActorRef<Object>> watches = new ConcurrentHashMap<>();
  private long observed;

  /** The node incarnation this gate belongs to (reused node JVMs): its actor registers under that one's key. */
  private final long epoch;

  public RemoteGate(int nodeIndex, Link next) { this(nodeIndex, next, 0); }

  /** The gate of node incarnation {@code epoch} (docs/SCENARIOS.md "Across separate JVMs", reused node JVMs). */
  public RemoteGate(int nodeIndex, Link next, long epoch) {
    this.nodeIndex = nodeIndex;
    this.epoch = epoch;
    this.gate = new GateLink(new Observing(next));
  }

  /** The service key of node {@code nodeIndex}'s gate actor ({@link #behavior}). */
  public static ServiceKey<GateRequest> key(int nodeIndex) {
    return ServiceKey.create(GateRequest.class, "hmm-emu-link-gate-" + nodeIndex);
  }

  /** The service key of node {@code nodeIndex}'s gate actor of incarnation {@code epoch}. */
  public static ServiceKey<GateRequest> key(int nodeIndex, long epoch) {
    return hmmemu.node.ServiceKeys.ofEpoch(GateRequest.class, key(nodeIndex), epoch);
  }

  @Override
  public void send(int fromNode, int toNode, ActorRef<Envelope> to, Envelope envelope) {
    gate.send(fromNode, toNode, to, envelope);
  }

  @Override
  public LinkReliability reliability() { return gate.reliability(); }

  @Override
  public void count(int fromNode, int toNode, LinkReliability.Event event, long n) { gate.count(fromNode, toNode, event, n); }

  @Override
  public void lost(int fromNode, int toNode, long seq, String what) { gate.lost(fromNode, toNode, seq, what); }

  @Override
  public void received(int toNode, HmmProtocol.Msg msg) { learn(msg); }

  /** This node's core stepped on {@code msg}: a watched type and direction goes to its listener (node actor thread). */
  @Override
  public void delivered(int node, HmmProtocol.Msg msg) {
    if (watches.isEmpty()) return;
    int from = senderOf(msg);
    ActorRef<Object> to = watches.get(from + ":" + msg.getClass().getSimpleName());
    if (to == null) return;
    to.tell(Delivered.newBuilder().setNode(nodeIndex).setFromNode(from)
        .setMessage(WireCodec.encode(msg, new long[0], "")).build());
  }

  /** The node that sent {@code msg} to this one: the CPU node, a device's GPU node, or -1 (a controller request). */
  int senderOf(HmmProtocol.Msg msg) {
    boolean link = msg instanceof HmmProtocol.DriverToHost || msg instanceof HmmProtocol.HostToDriver;
    if (!link) return -1;
    return nodeIndex != 0 ? 0 : Ids.nodeOfDevice(deviceOf(msg));
  }

  /** Arms until-watch {@code w}: from now on this node reports its deliveries of that type and direction. */
  void watch(DeliveryWatch w, ActorRef<Object> to) { watches.put(w.getFromNode() + ":" + w.getMessage(), to); }

  private void learn(HmmProtocol.Msg m) {
    if (m instanceof HmmProtocol.NotifierInsert ins) kinds.put(ins.subId(), ins.kind());
    if (m instanceof HmmProtocol.InvalidateStart inv) events.put(inv.invId() + ":" + inv.subId(), inv.event());
  }

  /** The observing stage, inside the gates: it sees a held message once it is delivered. */
  private final class Observing extends ForwardingLink {
    private final ReplayFilter firstCopies = new ReplayFilter();

    Observing(Link next) { super(next); }

    @Override
    public void send(int fromNode, int toNode, ActorRef<Envelope> to, Envelope envelope) {
      Envelope.BodyCase b = envelope.getBodyCase();
      if ((b == Envelope.BodyCase.NOTIFIER_INSERT || b == Envelope.BodyCase.INVALIDATE_START
          || b == Envelope.BodyCase.HMM_RANGE_FAULT_REPLY) && firstCopies.first(fromNode, to, envelope)) {
        observe(envelope); // a data-link replay is not a new callback
      }
      next.send(fromNode, toNode, to, envelope);
    }
  }

  private void observe(Envelope envelope) {
    try {
      learn(WireCodec.decode(envelope));
    } catch (RuntimeException e) {
      return; // not a protocol message: nothing to count
    }
    synchronized (this) { // numbered in the order told
      ActorRef<Object> l = listener;
      if (l == null) return;
      l.tell(LinkObserved.newBuilder().setNode(nodeIndex).setSeq(++observed).setEnvelope(envelope).build());
    }
  }

  private synchronized long observedSoFar() { return observed; }

  /** The trigger of an armed pause point: the StepExecutor's, with this node's view of events and kinds. */
  private Predicate<HmmProtocol.Msg> trigger(GateArm a) {
    AtomicInteger seen = new AtomicInteger();
    return m -> {
      if (!m.getClass().getSimpleName().equals(a.getMessage())) return false;
      if (deviceOf(m) != a.getDeviceId()) return false;
      if (!a.getEvent().isEmpty()) {
        NotifyEvent e = null;
        if (m instanceof HmmProtocol.InvalidateStart s) e = s.event();
        if (m instanceof HmmProtocol.InvalidateAck ack) e = events.get(ack.invId() + ":" + ack.subId());
        if (e == null || !e.name().equals(a.getEvent())) return false;
      }
      if (!a.getKind().isEmpty()) {
        long subId = -1;
        if (m instanceof HmmProtocol.InvalidateStart s) subId = s.subId();
        if (m instanceof HmmProtocol.InvalidateAck ack) subId = ack.subId();
        if (m instanceof HmmProtocol.InvalidateEnd end) subId = end.subId();
        NotifierKind k = kinds.get(subId);
        if (k == null || !k.name().equals(a.getKind())) return false;
      }
      return seen.getAndIncrement() >= a.getSkip();
    };
  }

  /** The device a link message concerns: by id, subscription, or (for replies) the device part of the reqId. */
  static int deviceOf(HmmProtocol.Msg m) {
    int d = Msgs.deviceIdOf(m);
    if (d >= 0) return d;
    long req = Msgs.reqIdOf(m);
    return req < 0 ? -1 : Ids.deviceOfReq(req);
  }

  /**
   * Arms pause point {@code a} on a direction this node sends on; completes with the message that closed it.
   *
   * @throws IllegalArgumentException when {@code a}'s direction is not this node's to send on
   */
  CompletableFuture<HmmProtocol.Msg> arm(GateArm a) {
    if (a.getFromNode() != nodeIndex) {
      throw new IllegalArgumentException("a pause point on " + Direction.nodeName(a.getFromNode()) + " -> "
          + Direction.nodeName(a.getToNode()) + " belongs to its sending node, not " + Direction.nodeName(nodeIndex));
    }
    return gate.holdWhen(a.getFromNode(), a.getToNode(), trigger(a));
  }

  /** Opens the pause point on from -> to and delivers what it held, in order ({@link GateLink#release}). */
  void release(int fromNode, int toNode) { gate.release(fromNode, toNode); }

  /** The actor serving the controller's {@link GateRequest}s, registered under {@link #key}. */
  public Behavior<GateRequest> behavior() {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(key(nodeIndex, epoch), ctx.getSelf()));
      ActorRefResolver resolver = ActorRefResolver.get(ctx.getSystem());
      return Behaviors.receive(GateRequest.class).onMessage(GateRequest.class, req -> {
        ActorRef<GateReply> replyTo = resolver.resolveActorRef(req.getReplyTo());
        GateReply.Builder r = GateReply.newBuilder().setNode(nodeIndex).setOk(true);
        try {
          switch (req.getBodyCase()) {
            case ARM -> {
              GateArm a = req.getArm();
              ActorRef<Object> to = resolver.resolveActorRef(a.getListener());
              arm(a).thenAccept(m -> to.tell(GateClosed.newBuilder().setGateId(a.getGateId()).setNode(nodeIndex)
                  .setMessage(WireCodec.encode(m, new long[0], "")).build()));
            }
            case RELEASE -> release(req.getRelease().getFromNode(), req.getRelease().getToNode());
            case DROP -> r.setDropped(gate.drop(req.getDrop().getFromNode(), req.getDrop().getToNode()));
            case OBSERVE -> listener = resolver.resolveActorRef(req.getObserve().getListener());
            case SYNC -> r.setObserved(observedSoFar());
            case WATCH -> watch(req.getWatch(), resolver.resolveActorRef(req.getWatch().getListener()));
            case ORDER -> gate.order(req.getOrder().getFromNode(), req.getOrder().getToNode());
            case PERMIT -> gate.permit(req.getPermit().getFromNode(), req.getPermit().getToNode(),
                req.getPermit().getMessage(), req.getPermit().getDeviceId(), req.getPermit().getSkip());
            default -> throw new IllegalArgumentException("an empty gate request");
          }
        } catch (RuntimeException e) {
          r.setOk(false).setError(Direction.nodeName(nodeIndex) + ": " + e.getMessage());
        }
        replyTo.tell(r.build());
        return Behaviors.same();
      }).build();
    });
  }
}
