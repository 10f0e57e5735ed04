package hmmemu.gpu.actor;

import hmmemu.gpu.core.GpuNode;
import hmmemu.node.link.Link;
import hmmemu.node.ModelClock;
import hmmemu.node.NodeShell;
import hmmemu.node.Routing;
import hmmemu.node.ServiceKeys;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.node.route.Router;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Msgs;
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
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * A GPU node's actor: a thin shell around {@link GpuNode} (devices with their page tables, fault buffers and
 * drivers). Messages for the CPU node wait until the receptionist has shown where the CPU node is.
 *
 * <p>When Pekko Cluster downs or removes the CPU node's member (or this node itself), the core stops its warps
 * and fails pending work with ENODEV ({@link GpuNode#cpuGone}), so an experiment ends instead of hanging.
 */
public final class GpuNodeActor extends AbstractBehavior<Object> {
  private record WrappedListing(Receptionist.Listing listing) {}

  private record WrappedMember(ClusterEvent.MemberEvent event) {}

  private record WrappedReachability(ClusterEvent.ReachabilityEvent event) {}

  private final GpuNode core;
  private final NodeShell shell;
  private final ModelClock clock;
  private final Routing routing = new Routing();
  private ActorRef<Envelope> cpu;
  private final List<HmmProtocol.Msg> waitingForCpu = new ArrayList<>();

  public static Behavior<Object> create(int nodeIndex, List<Integer> deviceIds, ModelSwitches switches,
      ModelClock clock, Link link) {
    return create(nodeIndex, deviceIds, switches, clock, link, 0);
  }

  /**
   * A GPU node of node incarnation {@code epoch} (reused node JVMs, docs/SCENARIOS.md "Across separate JVMs"): it
   * registers and looks up the incarnation's own keys ({@link ServiceKeys#ofEpoch}) and its shell drops envelopes
   * of another incarnation.
   */
  public static Behavior<Object> create(int nodeIndex, List<Integer> deviceIds, ModelSwitches switches,
      ModelClock clock, Link link, long epoch) {
    return Behaviors.setup(ctx -> new GpuNodeActor(ctx, nodeIndex, deviceIds, switches, clock, link, epoch));
  }

  private final ServiceKey<Envelope> cpuKey;
  private final ServiceKey<Envelope> checkerKey;

  private GpuNodeActor(ActorContext<Object> ctx, int nodeIndex, List<Integer> deviceIds, ModelSwitches switches,
      ModelClock clock, Link link, long epoch) {
    super(ctx);
    this.core = new GpuNode(nodeIndex, switches);
    for (int d : deviceIds) core.addDevice(d);
    this.clock = clock;
    ActorRef<Envelope> self = ctx.getSelf().narrow();
    this.shell = new NodeShell(ctx, nodeIndex, self, link, clock);
    shell.epoch(epoch);
    this.cpuKey = ServiceKeys.ofEpoch(ServiceKeys.CPU, epoch);
    this.checkerKey = ServiceKeys.ofEpoch(ServiceKeys.CHECKER, epoch);
    ctx.getSystem().receptionist().tell(Receptionist.register(ServiceKeys.ofEpoch(ServiceKeys.GPU, epoch), self));
    ctx.getSystem().receptionist().tell(Receptionist.register(ServiceKeys.ofEpoch(ServiceKeys.gpu(nodeIndex), epoch), self));
    ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, WrappedListing::new);
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(cpuKey, adapter));
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(checkerKey, adapter));
    Cluster cluster = Cluster.get(ctx.getSystem());
    cluster.subscriptions().tell(Subscribe.create(
        ctx.messageAdapter(ClusterEvent.MemberEvent.class, WrappedMember::new), ClusterEvent.MemberEvent.class));
    cluster.subscriptions().tell(Subscribe.create(
        ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, WrappedReachability::new),
        ClusterEvent.ReachabilityEvent.class));
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Envelope.class, this::onEnvelope)
        .onMessage(NodeShell.LinkTimer.class, t -> { shell.onLinkTimer(); return this; })
        .onMessage(WrappedListing.class, this::onListing)
        .onMessage(WrappedMember.class, this::onMemberEvent)
        .onMessage(WrappedReachability.class, this::onReachability)
        .build();
  }

  private Behavior<Object> onListing(WrappedListing w) {
    Receptionist.Listing l = w.listing();
    if (l.isForKey(checkerKey)) {
      l.getServiceInstances(checkerKey).stream().findFirst().ifPresent(shell::checker);
    } else if (l.isForKey(cpuKey)) {
      l.getServiceInstances(cpuKey).stream().findFirst().ifPresent(ref -> {
        cpu = ref;
        for (HmmProtocol.Msg m : waitingForCpu) shell.send(0, cpu, m);
        waitingForCpu.clear();
      });
    }
    return this;
  }

  private Behavior<Object> onReachability(WrappedReachability w) {
    if (cpu == null || core.cpuIsGone()) return this;
    ClusterEvent.ReachabilityEvent e = w.event();
    if (e.member().address().equals(cpu.path().address())) {
      if (e instanceof ClusterEvent.UnreachableMember) {
        getContext().getLog().warn("GPU node {}: the CPU node {} is unreachable; waiting for the Split Brain Resolver",
            core.nodeIndex(), e.member().address());
      } else if (e instanceof ClusterEvent.ReachableMember) {
        getContext().getLog().warn("GPU node {}: the CPU node is reachable again", core.nodeIndex());
      }
    }
    return this;
  }

  private Behavior<Object> onMemberEvent(WrappedMember w) {
    ClusterEvent.MemberEvent e = w.event();
    String reason;
    if (e instanceof ClusterEvent.MemberDowned) reason = "MemberDowned";
    else if (e instanceof ClusterEvent.MemberRemoved r) reason = "MemberRemoved(previous " + r.previousStatus() + ")";
    else return this;
    Member m = e.member();
    boolean self = m.address().equals(Cluster.get(getContext().getSystem()).selfMember().address());
    boolean isCpu = cpu != null && m.address().equals(cpu.path().address());
    if ((!self && !isCpu) || core.cpuIsGone()) return this;
    String why = (self ? "this node " : "the CPU node ") + m.address() + " " + reason;
    long now = clock.nowMicros();
    Ready ready = core.cpuGone(why, now);
    boolean graceful = e instanceof ClusterEvent.MemberRemoved r
        && r.previousStatus() == org.apache.pekko.cluster.MemberStatus.exiting();
    String msg = "GPU node {}: {}: warps stopped, {} pending access(es) failed with ENODEV";
    if (graceful) getContext().getLog().info(msg, core.nodeIndex(), why, ready.out.size());
    else getContext().getLog().warn(msg, core.nodeIndex(), why, ready.out.size());
    carryOut(ready, now);
    return this;
  }

  private Behavior<Object> onEnvelope(Envelope envelope) {
    shell.receive(envelope, this::onInbound);
    return this;
  }

  private void onInbound(NodeShell.Inbound in) {
    HmmProtocol.Msg msg = in.msg();
    String replyTo = in.replyTo();
    long reqId = Msgs.reqIdOf(msg);
    if (replyTo != null && !replyTo.isEmpty() && reqId >= 0
        && Router.isControllerRequest(msg)) {
      routing.rememberRequester(reqId, shell.resolve(replyTo));
    }
    // A warp's loop (WarpRun) is one controller request; the accesses it issues on the device are not.
    if (Router.isControllerRequest(msg)) shell.counters().controllerRequest(msg.getClass().getSimpleName());
    long now = clock.nowMicros();
    Ready ready = core.step(msg, now);
    carryOut(ready, now);
  }

  /** Sends what the core's Ready says: to the CPU node, or back to the controller that asked. */
  private void carryOut(Ready ready, long now) {
    shell.emit(ready.events, now);
    for (Outbound o : ready.out) {
      Router.Hop hop = Router.route(shell.nodeIndex(), o, null);
      switch (hop.kind()) {
        case LINK -> {
          if (cpu == null) waitingForCpu.add(o.msg());
          else shell.send(Router.CPU_NODE, cpu, o.msg());
        }
        case REPLY -> {
          ActorRef<Envelope> to = routing.takeRequester(hop.reqId());
          if (to == null) getContext().getLog().warn("no requester for {}", o.msg());
          else shell.reply(to, o.msg());
        }
        case DROP -> getContext().getLog().error("dropped {}: {}", o, hop.why());
      }
    }
  }
}
