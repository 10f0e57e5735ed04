package hmmemu.cpu.actor;

import hmmemu.cpu.core.CpuMm;
import hmmemu.node.Link;
import hmmemu.node.ModelClock;
import hmmemu.node.NodeShell;
import hmmemu.node.Routing;
import hmmemu.node.ServiceKeys;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Msgs;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The CPU node's actor: a thin shell around {@link CpuMm} (the mm, page tables, folios and notifier
 * subscriptions of the host). It decodes each envelope, steps the core once, and carries out the Ready.
 */
public final class CpuNodeActor extends AbstractBehavior<Object> {
  public static final int NODE_INDEX = 0;

  private record WrappedListing(Receptionist.Listing listing) {}

  private final CpuMm core;
  private final NodeShell shell;
  private final ModelClock clock;
  private final Routing routing = new Routing();

  public static Behavior<Object> create(ModelSwitches switches, ModelClock clock, Link link) {
    return Behaviors.setup(ctx -> new CpuNodeActor(ctx, switches, clock, link));
  }

  private CpuNodeActor(ActorContext<Object> ctx, ModelSwitches switches, ModelClock clock, Link link) {
    super(ctx);
    this.core = new CpuMm(switches);
    this.clock = clock;
    ActorRef<Envelope> self = ctx.getSelf().narrow();
    this.shell = new NodeShell(ctx, NODE_INDEX, self, link);
    ctx.getSystem().receptionist().tell(Receptionist.register(ServiceKeys.CPU, self));
    ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, WrappedListing::new);
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(ServiceKeys.CHECKER, adapter));
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Envelope.class, this::onEnvelope)
        .onMessage(WrappedListing.class, this::onCheckerListing)
        .build();
  }

  private Behavior<Object> onCheckerListing(WrappedListing w) {
    w.listing().getServiceInstances(ServiceKeys.CHECKER).stream().findFirst().ifPresent(shell::checker);
    return this;
  }

  private Behavior<Object> onEnvelope(Envelope envelope) {
    if (WireCodec.isTrace(envelope)) return this;
    HmmProtocol.Msg msg;
    try {
      msg = WireCodec.decode(envelope);
    } catch (IllegalArgumentException e) {
      getContext().getLog().warn("dropped an undecodable envelope: {}", e.getMessage());
      return this;
    }
    shell.received(envelope);
    String replyTo = WireCodec.replyTo(envelope);
    int fromDevice = Msgs.isFromDriver(msg) ? Msgs.deviceIdOf(msg) : -1;
    if (replyTo != null && !replyTo.isEmpty()) {
      ActorRef<Envelope> sender = shell.resolve(replyTo);
      if (fromDevice >= 0) routing.rememberDevice(fromDevice, sender);
      long reqId = Msgs.reqIdOf(msg);
      if (reqId >= 0) routing.rememberRequester(reqId, sender);
    }
    Ready ready = core.step(fromDevice, msg, clock.nowMicros());
    carryOut(ready);
    return this;
  }

  private void carryOut(Ready ready) {
    shell.emit(ready.events);
    for (Outbound o : ready.out) {
      if (o.deviceId() == Outbound.TO_REQUESTER) {
        long reqId = Msgs.reqIdOf(o.msg());
        ActorRef<Envelope> to = routing.takeRequester(reqId);
        int device = Msgs.deviceIdOf(o.msg());
        if (to == null && device >= 0) to = routing.device(device);
        if (to == null) {
          getContext().getLog().warn("no requester for reply {}", o.msg());
          continue;
        }
        if (isToDriver(o.msg())) shell.send(Routing.nodeOfDevice(deviceOfReply(o.msg(), reqId)), to, o.msg());
        else shell.reply(to, o.msg());
      } else {
        ActorRef<Envelope> to = routing.device(o.deviceId());
        if (to == null) {
          getContext().getLog().warn("message for unknown device {}: {}", o.deviceId(), o.msg());
          continue;
        }
        shell.send(Routing.nodeOfDevice(o.deviceId()), to, o.msg());
      }
    }
  }

  /** Replies that answer a driver (host-device traffic that goes through the link stage). */
  private static boolean isToDriver(HmmProtocol.Msg m) {
    return m instanceof HmmProtocol.MakeDeviceExclusiveReply || m instanceof HmmProtocol.HmmRangeFaultReply
        || m instanceof HmmProtocol.DeviceMemoryAccessReply || m instanceof HmmProtocol.NotifierInserted;
  }

  private static int deviceOfReply(HmmProtocol.Msg m, long reqId) {
    int d = Msgs.deviceIdOf(m);
    return d >= 0 ? d : (int) (reqId >>> 40);
  }
}
