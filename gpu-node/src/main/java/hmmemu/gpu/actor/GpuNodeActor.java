package hmmemu.gpu.actor;

import hmmemu.gpu.core.GpuNode;
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
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * A GPU node's actor: a thin shell around {@link GpuNode} (devices with their page tables, fault buffers and
 * drivers). Messages for the CPU node wait until the receptionist has shown where the CPU node is.
 */
public final class GpuNodeActor extends AbstractBehavior<Object> {
  private record WrappedListing(Receptionist.Listing listing) {}

  private final GpuNode core;
  private final NodeShell shell;
  private final ModelClock clock;
  private final Routing routing = new Routing();
  private ActorRef<Envelope> cpu;
  private final List<HmmProtocol.Msg> waitingForCpu = new ArrayList<>();

  public static Behavior<Object> create(int nodeIndex, List<Integer> deviceIds, ModelSwitches switches,
      ModelClock clock, Link link) {
    return Behaviors.setup(ctx -> new GpuNodeActor(ctx, nodeIndex, deviceIds, switches, clock, link));
  }

  private GpuNodeActor(ActorContext<Object> ctx, int nodeIndex, List<Integer> deviceIds, ModelSwitches switches,
      ModelClock clock, Link link) {
    super(ctx);
    this.core = new GpuNode(nodeIndex, switches);
    for (int d : deviceIds) core.addDevice(d);
    this.clock = clock;
    ActorRef<Envelope> self = ctx.getSelf().narrow();
    this.shell = new NodeShell(ctx, nodeIndex, self, link);
    ctx.getSystem().receptionist().tell(Receptionist.register(ServiceKeys.GPU, self));
    ctx.getSystem().receptionist().tell(Receptionist.register(ServiceKeys.gpu(nodeIndex), self));
    ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, WrappedListing::new);
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(ServiceKeys.CPU, adapter));
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(ServiceKeys.CHECKER, adapter));
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Envelope.class, this::onEnvelope)
        .onMessage(WrappedListing.class, this::onListing)
        .build();
  }

  private Behavior<Object> onListing(WrappedListing w) {
    Receptionist.Listing l = w.listing();
    if (l.isForKey(ServiceKeys.CHECKER)) {
      l.getServiceInstances(ServiceKeys.CHECKER).stream().findFirst().ifPresent(shell::checker);
    } else if (l.isForKey(ServiceKeys.CPU)) {
      l.getServiceInstances(ServiceKeys.CPU).stream().findFirst().ifPresent(ref -> {
        cpu = ref;
        for (HmmProtocol.Msg m : waitingForCpu) shell.send(0, cpu, m);
        waitingForCpu.clear();
      });
    }
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
    long reqId = Msgs.reqIdOf(msg);
    if (replyTo != null && !replyTo.isEmpty() && reqId >= 0 && isLocalRequest(msg)) {
      routing.rememberRequester(reqId, shell.resolve(replyTo));
    }
    Ready ready = core.step(msg, clock.nowMicros());
    shell.emit(ready.events);
    for (Outbound o : ready.out) {
      if (o.deviceId() == Outbound.TO_CPU) {
        if (cpu == null) waitingForCpu.add(o.msg());
        else shell.send(0, cpu, o.msg());
      } else {
        ActorRef<Envelope> to = routing.takeRequester(Msgs.reqIdOf(o.msg()));
        if (to == null) getContext().getLog().warn("no requester for {}", o.msg());
        else shell.reply(to, o.msg());
      }
    }
    return this;
  }

  /** Requests from a controller or workload (answered with Outbound.reply). */
  private static boolean isLocalRequest(HmmProtocol.Msg m) {
    return m instanceof HmmProtocol.DeviceAccess || m instanceof HmmProtocol.BindMm
        || m instanceof HmmProtocol.DmirrorCmd || m instanceof HmmProtocol.InspectDevice
        || m instanceof HmmProtocol.ResetNode;
  }
}
