package hmmemu.cpu.actor;

import hmmemu.cpu.core.CpuMm;
import hmmemu.node.link.Link;
import hmmemu.node.ModelClock;
import hmmemu.node.NodeShell;
import hmmemu.node.Routing;
import hmmemu.node.ServiceKeys;
import hmmemu.node.WakeTimer;
import hmmemu.node.route.Router;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Msgs;
import hmmemu.protocol.wire.pb.Envelope;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ScheduledFuture;

/**
 * The CPU node's actor: a thin shell around {@link CpuMm} (the mm, page tables, folios and notifier
 * subscriptions of the host). It decodes each envelope, steps the core once, and carries out the Ready.
 *
 * <p>Node loss is Pekko Cluster's: the actor subscribes to membership and reachability events; when a member
 * hosting GPU devices is downed (by the Split Brain Resolver after the failure detector marked it unreachable)
 * or removed, the core is told those GPU nodes are gone ({@link CpuMm#nodeGone}), and the wake-up timer steps the
 * core ({@link CpuMm#tick}) when a folio-lock lease of their dead drivers runs out, as when a thinking user thread
 * is due.
 */
public final class CpuNodeActor extends AbstractBehavior<Object> {
  public static final int NODE_INDEX = 0;

  private record WrappedListing(Receptionist.Listing listing) {}

  private record WrappedMember(ClusterEvent.MemberEvent event) {}

  private record WrappedReachability(ClusterEvent.ReachabilityEvent event) {}

  /**
   * A user thread's think time is over (CpuMm.nextThreadWake) or a dead driver's folio-lock lease ran out
   * (CpuMm.nextLeaseDeadline): step the core (CpuMm.tick).
   */
  private enum ThreadWake implements org.apache.pekko.actor.NoSerializationVerificationNeeded { INSTANCE }

  /**
   * A wake-up closer than this (real time) is polled through the mailbox; a later one is armed on
   * {@link WakeTimer}, whose precision (a parked thread's wake-up, ~0.1 ms) is about this.
   */
  private static final long POLL_BELOW_NANOS = 200_000;

  /** Config key of the lease on a dead driver's folio lock (model time); reference.conf documents it. */
  public static final String LEASE_KEY = "hmm-emu.faults.folio-lock-lease";

  private final CpuMm core;
  private final NodeShell shell;
  private final ModelClock clock;
  private final Routing routing = new Routing();

  /** Real nanoseconds per model microsecond (hmm-emu.time-scale * 1000), to turn a model wake-up into a delay. */
  private final double nanosPerModelMicro;
  /** The model time the thread wake-up is armed for (Long.MAX_VALUE: none armed). */
  private long wakeArmedAt = Long.MAX_VALUE;
  /**
   * The wake-up armed on {@link WakeTimer} (one daemon thread per JVM; not a Pekko timer: Pekko's scheduler fires
   * on its 10 ms ticks, so a think ended 10-20 ms of real time late, ThreadWakeLatenessTest), or null.
   */
  private ScheduledFuture<?> wakePending;

  public static Behavior<Object> create(ModelSwitches switches, ModelClock clock, Link link) {
    return Behaviors.setup(ctx -> new CpuNodeActor(ctx, switches, clock, link, 0, Double.NaN));
  }

  /**
   * A CPU node of node incarnation {@code epoch} (reused node JVMs, docs/SCENARIOS.md "Across separate JVMs"): it
   * registers and looks up the incarnation's own keys ({@link ServiceKeys#ofEpoch}), its shell drops envelopes of
   * another incarnation, and {@code timeScale} is the incarnation's (NaN: hmm-emu.time-scale of the system).
   */
  public static Behavior<Object> create(ModelSwitches switches, ModelClock clock, Link link, long epoch,
      double timeScale) {
    return Behaviors.setup(ctx -> new CpuNodeActor(ctx, switches, clock, link, epoch, timeScale));
  }

  private final long epoch;

  private CpuNodeActor(ActorContext<Object> ctx, ModelSwitches switches,
      ModelClock clock, Link link, long epoch, double timeScale) {
    super(ctx);
    this.core = new CpuMm(switches, leaseMicros(ctx));
    this.clock = clock;
    this.epoch = epoch;
    var config = ctx.getSystem().settings().config();
    this.nanosPerModelMicro = 1000 * (!Double.isNaN(timeScale) ? timeScale
        : config.hasPath("hmm-emu.time-scale") ? config.getDouble("hmm-emu.time-scale") : 1.0);
    ActorRef<Envelope> self = ctx.getSelf().narrow();
    this.shell = new NodeShell(ctx, NODE_INDEX, self, link, clock);
    shell.epoch(epoch);
    ctx.getSystem().receptionist().tell(Receptionist.register(ServiceKeys.ofEpoch(ServiceKeys.CPU, epoch), self));
    ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, WrappedListing::new);
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(ServiceKeys.ofEpoch(ServiceKeys.CHECKER, epoch), adapter));
    Cluster cluster = Cluster.get(ctx.getSystem());
    cluster.subscriptions().tell(Subscribe.create(
        ctx.messageAdapter(ClusterEvent.MemberEvent.class, WrappedMember::new), ClusterEvent.MemberEvent.class));
    cluster.subscriptions().tell(Subscribe.create(
        ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, WrappedReachability::new),
        ClusterEvent.ReachabilityEvent.class));
  }

  private static long leaseMicros(ActorContext<Object> ctx) {
    var config = ctx.getSystem().settings().config();
    if (!config.hasPath(LEASE_KEY)) return CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS;
    return config.getDuration(LEASE_KEY).toNanos() / 1000;
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Envelope.class, this::onEnvelope)
        .onMessage(NodeShell.LinkTimer.class, t -> { shell.onLinkTimer(); return this; })
        .onMessage(WrappedListing.class, this::onCheckerListing)
        .onMessage(WrappedMember.class, this::onMemberEvent)
        .onMessage(WrappedReachability.class, this::onReachability)
        .onMessage(ThreadWake.class, t -> onThreadWake())
        .onSignal(PostStop.class, s -> { cancelWake(); return this; })
        .onSignal(PreRestart.class, s -> { cancelWake(); return this; })
        .build();
  }

  private Behavior<Object> onCheckerListing(WrappedListing w) {
    w.listing().getServiceInstances(ServiceKeys.ofEpoch(ServiceKeys.CHECKER, epoch)).stream().findFirst()
        .ifPresent(shell::checker);
    return this;
  }

  // ------------------------------------------------------------------------------------ membership

  private Behavior<Object> onReachability(WrappedReachability w) {
    ClusterEvent.ReachabilityEvent e = w.event();
    if (e instanceof ClusterEvent.UnreachableMember u) {
      getContext().getLog().warn("member {} {} is unreachable (GPU nodes {}); waiting for the Split Brain Resolver",
          u.member().address(), u.member().getRoles(), gpuNodesAt(u.member()));
    } else if (e instanceof ClusterEvent.ReachableMember r) {
      getContext().getLog().warn("member {} is reachable again", r.member().address());
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
    if (m.address().equals(Cluster.get(getContext().getSystem()).selfMember().address())) return this;
    for (int node : gpuNodesAt(m)) {
      if (core.nodeIsGone(node)) continue;
      String msg = "GPU node {} at {} is gone ({}): its subscriptions are removed, pending invalidations complete"
          + " without it, its folio locks are released after the lease";
      if (graceful(e)) getContext().getLog().info(msg, node, m.address(), reason);
      else getContext().getLog().warn(msg, node, m.address(), reason);
      long now = clock.nowMicros();
      carryOut(core.nodeGone(node, reason + " " + m.address(), now), now);
      shell.linkDown(m.address());
    }
    scheduleWake();
    return this;
  }

  /** A member that left on its own (Leave, SIGTERM): removed after Exiting, never downed. */
  private static boolean graceful(ClusterEvent.MemberEvent e) {
    return e instanceof ClusterEvent.MemberRemoved r && r.previousStatus() == org.apache.pekko.cluster.MemberStatus.exiting();
  }

  /** GPU node indexes whose devices' driver messages came from actors at the member's address. */
  private TreeSet<Integer> gpuNodesAt(Member m) {
    TreeSet<Integer> nodes = new TreeSet<>();
    for (Map.Entry<Integer, ActorRef<Envelope>> d : routing.devices().entrySet()) {
      if (d.getValue().path().address().equals(m.address())) nodes.add(Routing.nodeOfDevice(d.getKey()));
    }
    return nodes;
  }

  /**
   * Arms the wake-up at the core's next timed step (a thinking user thread of CpuThreads, a dead driver's folio-lock
   * lease), unless one as early is armed.
   */
  private void scheduleWake() {
    long due = core.nextTick();
    if (due == Long.MAX_VALUE || due >= wakeArmedAt) return;
    wakeArmedAt = due;
    long delayNanos = (long) (Math.max(0, due - clock.nowMicros()) * nanosPerModelMicro);
    cancelWake();
    ActorRef<Object> self = getContext().getSelf();
    if (delayNanos < POLL_BELOW_NANOS) {
      self.tell(ThreadWake.INSTANCE);
    } else {
      wakePending = WakeTimer.tell(self, ThreadWake.INSTANCE, delayNanos);
    }
  }

  /** Cancels the armed wake-up; one already told is harmless (onThreadWake re-checks the core's next wake). */
  private void cancelWake() {
    if (wakePending != null) {
      wakePending.cancel(false);
      wakePending = null;
    }
  }

  private Behavior<Object> onThreadWake() {
    wakeArmedAt = Long.MAX_VALUE;
    cancelWake(); // the one that fired, or one armed after this message was told (polled): re-armed below
    long now = clock.nowMicros();
    if (core.nextTick() <= now) {
      long before = core.leasesExpired();
      carryOut(core.tick(now), now);
      if (core.leasesExpired() > before) {
        getContext().getLog().warn("{} folio-lock lease(s) of dead drivers expired: locks released (fault events)",
            core.leasesExpired() - before);
      }
    }
    scheduleWake(); // the next sleeper or lease, or this one again when the wake-up came early (polled)
    return this;
  }

  // ------------------------------------------------------------------------------------ protocol

  private Behavior<Object> onEnvelope(Envelope envelope) {
    shell.receive(envelope, this::onInbound);
    return this;
  }

  private void onInbound(NodeShell.Inbound in) {
    HmmProtocol.Msg msg = in.msg();
    String replyTo = in.replyTo();
    int fromDevice = Msgs.isFromDriver(msg) ? Msgs.deviceIdOf(msg) : -1;
    if (replyTo != null && !replyTo.isEmpty()) {
      ActorRef<Envelope> sender = shell.resolve(replyTo);
      if (fromDevice >= 0) routing.rememberDevice(fromDevice, sender);
      long reqId = Msgs.reqIdOf(msg);
      // Only a controller's request is answered to its sender; a driver's is answered to its device.
      if (reqId >= 0 && Router.isControllerRequest(msg)) {
        routing.rememberRequester(reqId, sender);
      }
    }
    if (Router.isControllerRequest(msg)) shell.counters().controllerRequest(msg.getClass().getSimpleName());
    long droppedBefore = core.droppedFromGoneNodes();
    long now = clock.nowMicros();
    Ready ready = core.step(fromDevice, msg, now);
    if (core.droppedFromGoneNodes() > droppedBefore) {
      getContext().getLog().info("dropped {} from device {} of a GPU node that is gone ({} so far)",
          msg.getClass().getSimpleName(), fromDevice, core.droppedFromGoneNodes());
    }
    carryOut(ready, now);
    scheduleWake();
  }

  /** Sends what the core's Ready (of a step taken at model time {@code now}) says, each message where the core said. */
  private void carryOut(Ready ready, long now) {
    shell.emit(ready.events, now);
    for (Outbound o : ready.out) {
      Router.Hop hop = Router.route(Router.CPU_NODE, o, core::nodeIsGone);
      switch (hop.kind()) {
        case REPLY -> {
          ActorRef<Envelope> to = routing.takeRequester(hop.reqId());
          if (to == null) getContext().getLog().warn("no requester for reply {}", o.msg());
          else shell.reply(to, o.msg());
        }
        case LINK -> {
          ActorRef<Envelope> to = routing.device(o.deviceId());
          if (to == null) getContext().getLog().warn("message for unknown device {}: {}", o.deviceId(), o.msg());
          else shell.send(hop.toNode(), to, o.msg());
        }
        case DROP -> { } // a gone GPU node: nobody left to receive it
      }
    }
  }

}
