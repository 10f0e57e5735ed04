package hmmemu.sim;

import hmmemu.checker.InvariantChecker;
import hmmemu.checker.Violation;
import hmmemu.cpu.core.CpuMm;
import hmmemu.gpu.core.GpuNode;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.route.Router;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.msg.Msgs;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.trace.VectorClock;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The deterministic discrete-event simulator: the CPU core ({@link CpuMm}), one {@link GpuNode} per GPU node with
 * every driver, and the {@link InvariantChecker}, unchanged, on one thread, in virtual time (model nanoseconds; the
 * cores see model microseconds), with one seed for every choice: link draws (the link model's per-direction streams
 * derive from it), the controller's hop delays, and the order of events due at the same instant (a tie key drawn
 * from the one {@link SplittableRandom} when an event is scheduled).
 *
 * <p>What a node does with a message is what its actor shell does (CpuNodeActor, GpuNodeActor): merge the vector
 * clock the message carries, step the core once, stamp the step's trace events (one clock tick each, with the
 * step's model time) and hand them to the checker, then send the outbound messages where the pure {@link Router}
 * says: over the {@link LinkStage} to another node, or back to the requester. The checker is offered events in the
 * order they are made, which is a causal order.
 *
 * <p>Every delivered trace event is folded into a 64-bit {@link TraceHash}: replaying a seed gives the same hash.
 */
public final class Sim implements LinkStage.Host {

  /** What the simulated cluster looks like and how it is driven. */
  public record Config(long seed, int gpuNodes, int devicesPerNode, ModelSwitches switches, long folioLockLeaseMicros,
      LinkSettings link, double controllerHopMicros, boolean check) {
    /** The default shape: one device per GPU node, the built-in link, 1 µs controller hops. */
    public static Config of(long seed, int gpuNodes, ModelSwitches switches) {
      return new Config(seed, gpuNodes, 1, switches, CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS, LinkSettings.builtIn(), 1.0, true);
    }

    public Config withLink(LinkSettings l) {
      return new Config(seed, gpuNodes, devicesPerNode, switches, folioLockLeaseMicros, l, controllerHopMicros, check);
    }

    public Config withLease(long micros) {
      return new Config(seed, gpuNodes, devicesPerNode, switches, micros, link, controllerHopMicros, check);
    }

    public Config withControllerHop(double micros) {
      return new Config(seed, gpuNodes, devicesPerNode, switches, folioLockLeaseMicros, link, micros, check);
    }

    /** Without the invariant checker (a measurement of the simulator's own cost; never for a verdict). */
    public Config withoutChecker() {
      return new Config(seed, gpuNodes, devicesPerNode, switches, folioLockLeaseMicros, link, controllerHopMicros, false);
    }
  }

  /** Whoever sent a request to a node and waits for its reply (the controller side of a workload or scenario). */
  @FunctionalInterface
  public interface Requester {
    void onReply(HmmProtocol.Msg reply);
  }

  /** Sees every protocol message a node hands to the link, before the link stage (pause gates, observers). */
  public interface LinkTap {
    /** Return false to take the message off the wire (the tap then owns it and may {@link #resend} it later). */
    boolean onSend(int from, int to, HmmProtocol.Msg msg, long[] vc);
  }

  private static final class Node {
    final int index;
    final VectorClock clock;
    final CpuMm cpu;
    final GpuNode gpu;
    final Router<Requester> router = new Router<>();
    boolean crashed;
    long leaseTickAt = Long.MAX_VALUE;

    Node(int index, CpuMm cpu, GpuNode gpu) {
      this.index = index;
      this.clock = new VectorClock(index);
      this.cpu = cpu;
      this.gpu = gpu;
    }
  }

  private final Config config;
  private final SplittableRandom rng;
  private final EventQueue agenda = new EventQueue();
  private Node[] nodes;
  private LinkStage link;
  private final InvariantChecker checker;
  private final TraceHash hash = new TraceHash();
  private final List<Violation> violations = new ArrayList<>();
  private final List<Consumer<Stamped>> traceListeners = new ArrayList<>();
  private LinkTap tap;
  private long[] controllerVc = new long[0];
  private long now;
  private long fired;
  private long traceEvents;
  private long messages;
  private long droppedReplies;
  private long nextReq;

  public Sim(Config config) {
    this.config = config;
    this.rng = new SplittableRandom(config.seed());
    this.nodes = new Node[config.gpuNodes() + 1];
    nodes[0] = new Node(0, new CpuMm(config.switches(), config.folioLockLeaseMicros()), null);
    for (int k = 1; k <= config.gpuNodes(); k++) nodes[k] = newGpuNode(k);
    this.link = new ModeledLinkStage(config.link(), config.seed(), this, null);
    this.checker = new InvariantChecker(config.switches().kernelProfile());
  }

  private Node newGpuNode(int k) {
    GpuNode g = new GpuNode(k, config.switches());
    for (int i = 0; i < config.devicesPerNode(); i++) g.addDevice(Ids.deviceId(k, i));
    return new Node(k, null, g);
  }

  /** Replaces the link stage (e.g. the pure DataLink); call before anything runs. */
  public void linkStage(LinkStage stage) { this.link = stage; }

  public LinkStage linkStage() { return link; }

  public Config config() { return config; }

  /** The one random source of the run (workloads draw their own choices from it, or from seeds derived from it). */
  public SplittableRandom random() { return rng; }

  public void tap(LinkTap t) { this.tap = t; }

  public void onTrace(Consumer<Stamped> listener) { traceListeners.add(listener); }

  // ------------------------------------------------------------------------------------------------ time, agenda

  @Override
  public long nowNanos() { return now; }

  public long nowMicros() { return now / 1000; }

  @Override
  public void at(long atNanos, Runnable r) {
    EventQueue.Event e = new EventQueue.Event() {
      @Override
      void fire() { r.run(); }
    };
    schedule(e, atNanos);
  }

  private void schedule(EventQueue.Event e, long atNanos) {
    if (atNanos < now) throw new IllegalStateException("event scheduled in the past: " + atNanos + " < " + now);
    e.atNanos = atNanos;
    e.tie = rng.nextLong();
    agenda.add(e);
  }

  /**
   * Fires events in (time, tie) order until {@code done} holds (true), the agenda is empty (false: nothing can
   * happen any more), the next event lies past {@code untilNanos} (false; time stops at {@code untilNanos}), or
   * {@code maxEvents} more events fired (false).
   */
  public boolean runUntil(BooleanSupplier done, long untilNanos, long maxEvents) {
    long limit = maxEvents == Long.MAX_VALUE ? Long.MAX_VALUE : fired + maxEvents;
    while (!done.getAsBoolean()) {
      EventQueue.Event e = agenda.peek();
      if (e == null) return false;
      if (e.atNanos > untilNanos) {
        now = Math.max(now, untilNanos);
        return false;
      }
      if (fired >= limit) return false;
      agenda.poll();
      now = e.atNanos;
      fired++;
      e.fire();
    }
    return true;
  }

  /** Runs until nothing is left to happen (or the bounds); true if the agenda emptied. */
  public boolean runToQuiescence(long untilNanos, long maxEvents) {
    return runUntil(agenda::isEmpty, untilNanos, maxEvents);
  }

  public boolean idle() { return agenda.isEmpty(); }

  /** Time of the next event, or Long.MAX_VALUE. */
  public long nextEventNanos() {
    EventQueue.Event e = agenda.peek();
    return e == null ? Long.MAX_VALUE : e.atNanos;
  }

  // ------------------------------------------------------------------------------------------------ controller

  private long hopNanos() {
    double h = config.controllerHopMicros();
    if (h <= 0) return 0;
    return Math.round(h * 1000.0 * (0.5 + rng.nextDouble())); // uniform in [h/2, 3h/2)
  }

  /**
   * The controller sends request {@code req} to node {@code node}; {@code requester} gets the reply (through the
   * controller's hop delay). The request carries the controller's vector clock (the merge of every reply it saw,
   * as ControlClient does).
   */
  public void ask(int node, HmmProtocol.Msg req, Requester requester) {
    long[] vc = controllerVc.clone();
    at(now + hopNanos(), () -> deliver(node, req, vc, requester));
  }

  /** {@link #ask} and run until the reply (bounded); null when none came. */
  public HmmProtocol.Msg call(int node, HmmProtocol.Msg req, long boundNanos) {
    HmmProtocol.Msg[] got = new HmmProtocol.Msg[1];
    ask(node, req, r -> got[0] = r);
    runUntil(() -> got[0] != null, now + boundNanos, Long.MAX_VALUE);
    return got[0];
  }

  private void replyToController(Requester r, HmmProtocol.Msg reply, long[] vc) {
    at(now + hopNanos(), () -> {
      mergeController(vc);
      r.onReply(reply);
    });
  }

  private void mergeController(long[] vc) {
    if (vc.length > controllerVc.length) controllerVc = java.util.Arrays.copyOf(controllerVc, vc.length);
    for (int i = 0; i < vc.length; i++) if (vc[i] > controllerVc[i]) controllerVc[i] = vc[i];
  }

  /** The next controller reqId (ControlClient's range; numbered per run, so a seed replays the same ids). */
  public long nextReqId() { return Ids.controllerReqId(nextReq++); }

  /** The controller's vector clock: every node's events it has seen the effects of. */
  public long[] controllerClock() { return controllerVc.clone(); }

  // ------------------------------------------------------------------------------------------------ nodes

  @Override
  public void arrive(int from, int to, HmmProtocol.Msg msg, long[] vc) { deliver(to, msg, vc, null); }

  /** Sends a message another node's core produced over the link stage (used by taps that held it). */
  public void resend(int from, int to, HmmProtocol.Msg msg, long[] vc) {
    if (nodes[from].crashed) return;
    link.send(from, to, msg, vc);
  }

  private void deliver(int index, HmmProtocol.Msg msg, long[] vc, Requester requester) {
    Node n = nodes[index];
    if (n.crashed) return;
    messages++;
    n.clock.merge(vc);
    Ready ready;
    if (n.cpu != null) {
      if (requester != null) {
        long reqId = Msgs.reqIdOf(msg);
        if (reqId >= 0) n.router.rememberRequester(reqId, requester);
      }
      int fromDevice = Msgs.isFromDriver(msg) ? Msgs.deviceIdOf(msg) : -1;
      ready = n.cpu.step(fromDevice, msg, nowMicros());
    } else {
      if (requester != null && Router.isControllerRequest(msg)) {
        n.router.rememberRequester(Msgs.reqIdOf(msg), requester);
      }
      ready = n.gpu.step(msg, nowMicros());
    }
    carryOut(n, ready);
  }

  private void carryOut(Node n, Ready ready) {
    long at = nowMicros();
    for (Trace.Event e : ready.events) {
      Stamped s = new Stamped(n.index, n.clock.tick(), e, at);
      traceEvents++;
      hash.add(s.node(), s.vc(), at, e);
      if (config.check()) {
        List<Violation> v = checker.offer(s);
        if (!v.isEmpty()) violations.addAll(v);
      }
      for (Consumer<Stamped> l : traceListeners) l.accept(s);
    }
    for (Outbound o : ready.out) {
      Router.Hop hop = Router.route(n.index, o, n.cpu != null ? n.cpu::nodeIsGone : null);
      switch (hop.kind()) {
        case LINK -> {
          long[] vc = n.clock.snapshot();
          if (hop.toNode() >= nodes.length) throw new IllegalStateException("no GPU node " + hop.toNode() + " for " + o);
          if (tap == null || tap.onSend(n.index, hop.toNode(), o.msg(), vc)) link.send(n.index, hop.toNode(), o.msg(), vc);
        }
        case REPLY -> {
          Requester r = n.router.takeRequester(hop.reqId());
          if (r == null) droppedReplies++;
          else replyToController(r, o.msg(), n.clock.snapshot());
        }
        case DROP -> { }
      }
    }
    if (n.cpu != null) armLeaseTick(n);
  }

  /** While folio-lock leases of dead drivers run, let model time reach the next one (CpuNodeActor's LeaseTick). */
  private void armLeaseTick(Node n) {
    if (n.cpu.leasesPending() == 0) return;
    long due = n.cpu.nextLeaseDeadline() * 1000;
    if (due >= n.leaseTickAt) return;
    n.leaseTickAt = due;
    at(Math.max(now, due), () -> {
      n.leaseTickAt = Long.MAX_VALUE;
      if (!n.crashed) carryOut(n, n.cpu.tick(nowMicros()));
    });
  }

  /**
   * GPU node {@code k} is gone (crashed): its core stops, the links to and from it forget their state, and the CPU
   * core is told (CpuMm.nodeGone), as Pekko Cluster's downing tells CpuNodeActor.
   */
  public void crashGpuNode(int k, String reason) {
    Node n = nodes[k];
    n.crashed = true;
    link.nodeDown(k);
    Node cpu = nodes[0];
    carryOut(cpu, cpu.cpu.nodeGone(k, reason, nowMicros()));
  }

  /** Restarts crashed GPU node {@code k} with fresh devices (a new incarnation). */
  public void restartGpuNode(int k) {
    Node fresh = newGpuNode(k);
    // the vector clock of the new incarnation continues the old one's entry, so stamps stay unique
    fresh.clock.merge(nodes[k].clock.snapshot());
    nodes[k] = fresh;
  }

  /**
   * Restarts crashed GPU node {@code k} as a new cluster member under a new node index (the next free one), with
   * fresh devices, as EmbeddedCluster.restartGpu does: the CPU core keeps {@code k} declared gone and drops its late
   * messages. Returns the new index.
   */
  public int restartGpuNodeAsNewMember(int k) {
    if (!nodes[k].crashed) throw new IllegalStateException("gpu" + k + " is not crashed");
    int fresh = nodes.length;
    nodes = java.util.Arrays.copyOf(nodes, fresh + 1);
    nodes[fresh] = newGpuNode(fresh);
    return fresh;
  }

  // ------------------------------------------------------------------------------------------------ views

  public CpuMm cpu() { return nodes[0].cpu; }

  public GpuNode gpu(int k) { return nodes[k].gpu; }

  public int gpuNodes() { return nodes.length - 1; }

  public boolean crashed(int k) { return nodes[k].crashed; }

  public InvariantChecker checker() { return checker; }

  public List<Violation> violations() { return violations; }

  public long traceHash() { return hash.value(); }

  /** Trace events the cores made (each judged by the checker). */
  public long traceEvents() { return traceEvents; }

  /** Protocol messages delivered to cores (link and controller). */
  public long messages() { return messages; }

  /** Agenda events fired. */
  public long fired() { return fired; }

  /** Per-node trace event counts (the checker's caughtUp argument). */
  public long[] eventCounts() {
    long[] out = new long[nodes.length];
    for (int i = 0; i < nodes.length; i++) out[i] = nodes[i].clock.own();
    return out;
  }

  public long droppedReplies() { return droppedReplies; }
}
