package hmmemu.sim;

import hmmemu.checker.InvariantChecker;
import hmmemu.checker.Violation;
import hmmemu.cpu.core.CpuMm;
import hmmemu.gpu.core.GpuNode;
import hmmemu.node.cost.HostCost;
import hmmemu.node.link.FaultSchedule;
import hmmemu.node.link.SplitMix64;
import hmmemu.node.link.ModeledLink.PartitionMode;
import hmmemu.node.route.Router;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.msg.Msgs;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.trace.VectorClock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The deterministic discrete-event simulator: the CPU core ({@link CpuMm}), one {@link GpuNode} per GPU node with
 * every driver, and the {@link InvariantChecker}, unchanged, on one thread, in virtual time (model nanoseconds; the
 * cores see model microseconds), with one seed for every choice: link draws (the link model's per-direction streams
 * derive from it) and the controller's hop delays, drawn from the one {@link SplitMix64} (SplittableRandom's
 * algorithm with its state in the open), and the order of events due at the same instant ({@link TieRule}: a per-seed
 * fixed priority of the event's stable identity, then first scheduled first; it draws nothing).
 *
 * <p>What a node does with a message is what its actor shell does (CpuNodeActor, GpuNodeActor): merge the vector
 * clock the message carries, step the core once, stamp the step's trace events (one clock tick each, with the
 * step's model time) and hand them to the checker, then send the outbound messages where the pure {@link Router}
 * says: over the {@link LinkStage} to another node, or back to the requester. The checker is offered events in the
 * order they are made, which is a causal order.
 *
 * <p>Every delivered trace event is folded into a 64-bit {@link TraceHash}: replaying a seed gives the same hash.
 *
 * <p>Host-side cost ({@link HostCost}, {@link SimConfig#hostCost}): a step's cost advances the node's local time; its
 * trace events carry the step's start, its outbound messages leave when the cost has elapsed, and the node takes
 * its next message (from the link or the controller, in arrival order) only then: each node is one server, as each
 * actor shell is. Off (the default of {@link SimConfig#of}), a step takes no model time.
 *
 * <p>Faults ({@link #faults(FaultSchedule)}, docs/FAULTS.md syntax, instants and durations in model time from the
 * call): the link actions go to the {@link LinkStage} (added delay and jitter, probability overrides, one-way and
 * two-way partitions); a paused node processes nothing (messages to it queue, in arrival order, and are taken on
 * resume); crash and restart of a GPU node are {@link #crashGpuNode} and {@link #restartGpuNode}.
 */
public final class Sim implements LinkStage.Host {

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

  /** Hears each message a node's core has just stepped on (a link message, or a controller request). */
  public interface DeliveryListener {
    /** Node {@code node} (simulator index) stepped on {@code msg}; {@code fromController}: a controller request. */
    void delivered(int node, HmmProtocol.Msg msg, boolean fromController);
  }

  private static final class Node {
    final int index;
    final VectorClock clock;
    final CpuMm cpu;
    final GpuNode gpu;
    final Router<Requester> router = new Router<>();
    boolean crashed;
    long leaseTickAt = Long.MAX_VALUE;
    /** Paused by a fault: takes nothing from its inbox until resumed. */
    boolean paused;
    /** Local time: the node is busy with a step's host-side cost until then. */
    long busyUntil;
    /** Messages (and lease ticks) that arrived while the node was paused or busy, in arrival order. */
    ArrayDeque<Inbound> inbox;
    /** The node's input so far, in order (every message and lease tick its core stepped on): its state's key. */
    final TraceHash inputs = new TraceHash();

    Node(int index, CpuMm cpu, GpuNode gpu) {
      this.index = index;
      this.clock = new VectorClock(index);
      this.cpu = cpu;
      this.gpu = gpu;
    }
  }

  /** A message waiting in a node's inbox (msg null: a lease tick). */
  private record Inbound(HmmProtocol.Msg msg, long[] vc, Requester requester) {}

  private static final Inbound LEASE_TICK = new Inbound(null, null, null);

  private final SimConfig config;
  private final HostCost cost;
  private final SplitMix64 rng;
  private final EventQueue agenda = new EventQueue();
  private Node[] nodes;
  private LinkStage link;
  private final InvariantChecker checker;
  private final TraceHash hash = new TraceHash();
  /** Whether {@link #hash} folds each trace event (off: {@link #traceHash} stays at its start value). */
  private boolean hashTrace = true;
  private final List<Violation> violations = new ArrayList<>();
  private final List<Consumer<Stamped>> traceListeners = new ArrayList<>();
  private LinkTap tap;
  private final List<DeliveryListener> deliveryListeners = new ArrayList<>();
  private long[] controllerVc = new long[0];
  private long now;
  private long fired;
  private long lastFiredAt;
  private long traceEvents;
  private long messages;
  private long droppedReplies;
  private long nextReq;
  /** Null: the seeded order (the agenda's minimum), with no choice point asked. */
  private Scheduler scheduler;
  private boolean chooseAll = true;
  private final TraceHash controllerInputs = new TraceHash();
  /** Whether every node's and the controller's input is folded into {@link #stateKey}'s hashes (see keepStateKey). */
  private boolean keepStateKey = true;
  private boolean foldInputs = true; // keepStateKey, and not paused (pauseInputs until resumeInputs)
  private long scheduled;
  /** The order of events due at the same instant ({@link TieRule}: draws nothing). */
  private final TieRule ties;
  private final Choices choices = new Choices();
  /** The fast-forward of deadline spins, or null (off). */
  private FastForward ff;

  public Sim(SimConfig config) {
    this.config = config;
    this.cost = config.hostCost();
    this.rng = new SplitMix64(config.seed());
    this.ties = new TieRule(config.seed());
    this.nodes = new Node[config.gpuNodes() + 1];
    nodes[0] = new Node(0, new CpuMm(config.switches(), config.folioLockLeaseMicros()), null);
    for (int k = 1; k <= config.gpuNodes(); k++) nodes[k] = newGpuNode(k);
    this.link = new ModeledLinkStage(config.link(), config.seed(), this, null);
    this.checker = new InvariantChecker(config.switches().kernelProfile());
    if (fastForwardByDefault()) ff = new FastForward(this);
  }

  /**
   * Whether a new simulator fast-forwards: only with {@code -Dhmm-emu.sim.fast-forward=true} (--fast-forward). Off by
   * default: exact, but slower than simulating every round where it jumps today (docs/RESULTS.md "Fast-forward").
   */
  public static boolean fastForwardByDefault() { return "true".equals(System.getProperty("hmm-emu.sim.fast-forward")); }
  /** Turns the fast-forward off (every round simulated); call before anything runs. */
  public void noFastForward() { ff = null; }

  private Node newGpuNode(int k) {
    GpuNode g = new GpuNode(k, config.switches());
    for (int i = 0; i < config.devicesPerNode(); i++) g.addDevice(Ids.deviceId(k, i));
    return new Node(k, null, g);
  }

  /**
   * The fast-forward of deadline spins whose state repeats ({@link FastForward}: it detects a periodic state and
   * jumps over whole periods; {@link FastForward#jumps} says where), turned on if it was off. Call before anything runs.
   */
  public FastForward fastForward() {
    if (ff == null) ff = new FastForward(this);
    return ff;
  }

  /** The fast-forward, or null when it is off. */
  public FastForward fastForwardOrNull() { return ff; }
  EventQueue agenda() { return agenda; }
  /** Folds a record of a jump ({@link FastForward.Jump}) into the trace hash. */
  void foldJump(Object record) { if (hashTrace) hash.add(0, new long[0], nowMicros(), record); }
  /** Replaces the link stage (e.g. the pure DataLink); call before anything runs. */
  public void linkStage(LinkStage stage) { this.link = stage; }
  public LinkStage linkStage() { return link; }
  public SimConfig config() { return config; }

  /**
   * The one random source of the run (workloads draw their own choices from it, or from seeds derived from it): a
   * {@link SplitMix64}, which draws what {@code new SplittableRandom(seed)} draws.
   */
  public SplitMix64 random() { return rng; }
  public void tap(LinkTap t) { this.tap = t; }
  public void onTrace(Consumer<Stamped> listener) { traceListeners.add(listener); }
  /** Adds a listener that hears every message a core stepped on, right after the step (as Link#delivered). */
  public void onDelivered(DeliveryListener listener) { deliveryListeners.add(listener); }

  // ------------------------------------------------------------------------------------------------ time, agenda

  @Override
  public long nowNanos() { return now; }
  public long nowMicros() { return now / 1000; }

  @Override
  public void at(long atNanos, Runnable r) { at(atNanos, r, TieRule.OTHER); }

  /** {@link #at(long, Runnable)} with the event's tie identity ({@link TieRule}). */
  private void at(long atNanos, Runnable r, long identity) {
    EventQueue.Event e = new EventQueue.Event() {
      @Override
      void fire() { r.run(); }
    };
    schedule(e, atNanos, identity);
  }

  @Override
  public void at(long atNanos, Runnable r, long lane, Scheduler.LinkEvent what) {
    EventQueue.Event e = new EventQueue.Event() {
      @Override
      void fire() { r.run(); }
    };
    e.source = lane;
    e.link = what;
    schedule(e, atNanos, what == null ? TieRule.OTHER : TieRule.link(what.from(), what.to(), what.lane()));
  }

  /**
   * As {@link #at(long, Runnable, long, Scheduler.LinkEvent)} for an event that is its own action (the link stage's
   * arrivals, {@link EventQueue.Event#link} built when asked): no wrapper per message. Emulator-only host mechanism.
   */
  void at(long atNanos, EventQueue.Event e, long lane, long identity) {
    e.source = lane;
    schedule(e, atNanos, identity);
  }

  /**
   * Lets {@code s} pick the next event at every choice point (null: the seeded order, the agenda's minimum, which a
   * scheduler answering 0 reproduces exactly). See {@link Scheduler}.
   */
  public void scheduler(Scheduler s) { this.scheduler = s; }

  /**
   * With {@code true} (the default) every source is offered at a choice point; with {@code false} only link
   * arrivals are: an event that is not a link arrival (a controller hop or reply, a timer, a fault) fires when it is
   * the earliest, as in the seeded order, and is never offered to be taken early. The scheduler then reorders only
   * what a pause point can hold: messages on the links, across lanes.
   */
  public void schedulerChoosesAll(boolean all) { this.chooseAll = all; }
  public Scheduler scheduler() { return scheduler; }
  /**
   * Choice points met so far (only counted while a scheduler is set): the agenda's, and those a host offered the
   * scheduler itself ({@link #offered}: a concurrent block's draws).
   */
  public long choicePoints() { return choices.points + offered; }

  /** Choice points a host offered the scheduler itself (a concurrent block's draws); exploring side (ScheduledJump). */
  private long offered;

  /** A host asks the scheduler at a choice point of its own (a concurrent block's draw): {@link #choicePoints} counts it. */
  public void offered() { offered++; }

  /** A jump skipped {@code n} of the agenda's choice points, each decided as one it repeats ({@link ScheduledJump}). */
  void skippedChoicePoints(long n) { choices.points += n; }

  /**
   * A 64-bit key of the simulated system's logical state: each node's input sequence (every message and lease tick
   * its core stepped on, in order) and the controller's (every reply it received, in order). The cores are
   * deterministic functions of their input sequences and so is everything in flight (what a node sent is fixed by
   * what it received), so two runs with equal keys are in equal states up to virtual time and up to the order in
   * which independent nodes took their inputs: the key merges the interleavings of one Mazurkiewicz trace. Virtual
   * time is left out (the cores read it only for leases of dead drivers' folio locks and the driver's 1000 ms
   * deadline, so equal keys at different instants may still differ there).
   */
  public long stateKey() {
    if (!keepStateKey) throw new IllegalStateException("stateKey: this simulator was told not to keep it (keepStateKey(false))");
    if (!foldInputs) throw new IllegalStateException("stateKey: folding is paused (pauseInputs)");
    if (ff != null && ff.keysIncomparable) throw new ScheduledJump.KeyAfterJump(choicePoints());
    long h = controllerInputs.value();
    for (Node n : nodes) h = Long.rotateLeft(h * 0x9E3779B97F4A7C15L, 31) ^ (n.crashed ? ~n.inputs.value() : n.inputs.value());
    return h;
  }

  /**
   * Whether {@link #stateKey} is kept (the default): it folds every input of every node into a hash, a cost a run that
   * never asks for the key (a workload or a scenario, as opposed to a schedule exploration) need not pay. Set it
   * before anything runs; with {@code false}, {@link #stateKey} throws. The trace hash is unaffected.
   */
  public void keepStateKey(boolean keep) {
    if (fired > 0 || messages > 0) throw new IllegalStateException("keepStateKey: call it before anything runs");
    this.keepStateKey = keep;
    this.foldInputs = keep;
  }

  /** The hashes {@link #stateKey} combines: the controller's inputs, then each node's (for {@link #resumeInputs}). */
  public long[] inputHashes() {
    long[] out = new long[nodes.length + 1];
    out[0] = controllerInputs.value();
    for (int i = 0; i < nodes.length; i++) out[i + 1] = nodes[i].inputs.value();
    return out;
  }

  /** Stops folding inputs (stateKey throws) until {@link #resumeInputs}: a search replaying a prefix it keyed before. */
  public void pauseInputs() { foldInputs = false; }

  /** Sets the hashes to {@link #inputHashes} of an earlier run at this point of this prefix, and folds again. */
  public void resumeInputs(long[] h) {
    if (!keepStateKey || h.length != nodes.length + 1) throw new IllegalStateException("resumeInputs: no state key kept, or " + h.length + " hashes");
    controllerInputs.set(h[0]);
    for (int i = 0; i < nodes.length; i++) nodes[i].inputs.set(h[i + 1]);
    foldInputs = true;
  }

  private void schedule(EventQueue.Event e, long atNanos, long identity) {
    if (atNanos < now) throw new IllegalStateException("event scheduled in the past: " + atNanos + " < " + now);
    e.atNanos = atNanos;
    e.tie = ties.key(identity);
    if (e.source == 0) e.source = -(++scheduled); // a source of its own (negative: never a lane's key)
    agenda.add(e);
  }

  /**
   * Fires events in (time, tie key) order until {@code done} holds (true), the agenda is empty (false: nothing can
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
      if (scheduler == null) {
        agenda.poll();
        if (ff != null) ff.polled(e, agenda.peek());
      } else {
        e = choices.pick(this, agenda, untilNanos, scheduler, chooseAll);
        agenda.remove(e);
        if (ff != null) ff.polled(e, agenda.peek()); // ties, as without a scheduler (ScheduledJump)
      }
      now = Math.max(now, e.atNanos);
      lastFiredAt = now;
      fired++;
      e.fire();
      if (ff != null && ff.due) ff.boundary(untilNanos, limit);
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
    at(now + hopNanos(), () -> deliver(node, req, vc, requester), TieRule.ASK | node);
  }

  /** {@link #ask} and run until the reply (bounded); null when none came. */
  public HmmProtocol.Msg call(int node, HmmProtocol.Msg req, long boundNanos) {
    HmmProtocol.Msg[] got = new HmmProtocol.Msg[1];
    ask(node, req, r -> got[0] = r);
    runUntil(() -> got[0] != null, now + boundNanos, Long.MAX_VALUE);
    return got[0];
  }

  private void replyToController(int from, Requester r, HmmProtocol.Msg reply, long[] vc) {
    at(now + hopNanos(), () -> {
      if (foldInputs) controllerInputs.addInput(0, reply);
      mergeController(vc);
      r.onReply(reply);
    }, TieRule.REPLY | from);
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
    if (n.paused || n.busyUntil > now || (n.inbox != null && !n.inbox.isEmpty())) {
      if (n.inbox == null) n.inbox = new ArrayDeque<>();
      n.inbox.add(new Inbound(msg, vc, requester));
      return;
    }
    process(n, msg, vc, requester);
  }

  /** One step of node {@code n}'s core on {@code msg}, as its actor shell does it. */
  private void process(Node n, HmmProtocol.Msg msg, long[] vc, Requester requester) {
    messages++;
    if (foldInputs) n.inputs.addInput(1, msg);
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
    finishStep(n, msg, ready);
    // Listeners are only ever added; one added while this loop runs hears the next delivery, not this one (the
    // size is read once), without copying the list on every delivered message.
    for (int i = 0, count = deliveryListeners.size(); i < count; i++) {
      deliveryListeners.get(i).delivered(n.index, msg, requester != null);
    }
  }

  /**
   * The step's trace events now; its outbound messages now, or, with a host-side cost, when the cost has elapsed
   * (the node is busy until then, and then takes what waits in its inbox).
   */
  private void finishStep(Node n, HmmProtocol.Msg in, Ready ready) {
    long c = cost.isOff() ? 0 : n.cpu != null ? cost.cpuStepNanos(in, ready) : cost.gpuStepNanos(in, ready);
    if (c == 0) {
      carryOut(n, ready);
      return;
    }
    judge(n, ready);
    n.busyUntil = now + c;
    schedule(new StepDone(n, ready), n.busyUntil, TieRule.STEP_DONE | n.index);
  }

  /**
   * The end of a step's host-side cost, as its own agenda event (emulator-only host mechanism: no lambda and no
   * wrapping event per step): the step's messages go out, then the node takes what waits in its inbox.
   */
  private final class StepDone extends EventQueue.Event {
    private final Node n;
    private final Ready ready;

    StepDone(Node n, Ready ready) {
      this.n = n;
      this.ready = ready;
    }

    @Override
    void fire() {
      if (nodes[n.index] != n || n.crashed) return; // the incarnation is gone
      send(n, ready);
      drain(n);
    }
  }

  /** Takes what waits in node {@code n}'s inbox while it is neither paused nor busy. */
  private void drain(Node n) {
    while (n.inbox != null && !n.inbox.isEmpty() && !n.paused && !n.crashed && n.busyUntil <= now) {
      Inbound i = n.inbox.poll();
      if (i.msg() == null) tickLease(n);
      else process(n, i.msg(), i.vc(), i.requester());
    }
  }

  private void carryOut(Node n, Ready ready) {
    judge(n, ready);
    send(n, ready);
  }

  /** Stamps the step's trace events (one clock tick each, the step's model time) and offers them to the checker. */
  private void judge(Node n, Ready ready) {
    long at = nowMicros();
    List<Trace.Event> events = ready.events; // by index: an iterator per step showed in the allocation profile
    for (int i = 0, count = events.size(); i < count; i++) {
      Trace.Event e = events.get(i);
      Stamped s = new Stamped(n.index, n.clock.tick(), e, at);
      traceEvents++;
      if (ff != null) ff.onEvent(e);
      if (hashTrace) hash.add(s.node(), s.vc(), at, e);
      if (config.check()) {
        List<Violation> v = checker.offer(s);
        if (!v.isEmpty()) violations.addAll(v);
      }
      for (int k = 0; k < traceListeners.size(); k++) traceListeners.get(k).accept(s);
    }
  }

  /** Sends the step's outbound messages where the {@link Router} says. */
  private void send(Node n, Ready ready) {
    // One snapshot for every message of the step: the clock does not move while the step's messages go out (nothing
    // is delivered synchronously), and no receiver writes the vector a message carries (merge only reads it).
    long[] vc = null;
    List<Outbound> out = ready.out;
    for (int i = 0, count = out.size(); i < count; i++) {
      Outbound o = out.get(i);
      // the CPU core's nodeIsGone only once a GPU node is gone (null: none is), so no method reference per message
      Router.Hop hop = Router.route(n.index, o, n.cpu != null && n.cpu.anyNodeGone() ? n.cpu::nodeIsGone : null);
      switch (hop.kind()) {
        case LINK -> {
          if (vc == null) vc = n.clock.snapshot();
          if (hop.toNode() >= nodes.length) throw new IllegalStateException("no GPU node " + hop.toNode() + " for " + o);
          if (tap == null || tap.onSend(n.index, hop.toNode(), o.msg(), vc)) link.send(n.index, hop.toNode(), o.msg(), vc);
        }
        case REPLY -> {
          Requester r = n.router.takeRequester(hop.reqId());
          if (r == null) droppedReplies++;
          else replyToController(n.index, r, o.msg(), vc != null ? vc : (vc = n.clock.snapshot()));
        }
        case DROP -> { }
      }
    }
    if (n.cpu != null) armLeaseTick(n);
  }

  /** Lets model time reach the CPU core's next lease deadline or thread wake-up (CpuNodeActor's LeaseTick, ThreadWake). */
  private void armLeaseTick(Node n) {
    long dueMicros = n.cpu.nextTick();
    if (dueMicros == Long.MAX_VALUE) return;
    long due = dueMicros * 1000;
    if (due >= n.leaseTickAt) return;
    n.leaseTickAt = due;
    at(Math.max(now, due), () -> {
      n.leaseTickAt = Long.MAX_VALUE;
      if (n.crashed) return;
      if (n.paused || n.busyUntil > now || (n.inbox != null && !n.inbox.isEmpty())) {
        if (n.inbox == null) n.inbox = new ArrayDeque<>();
        n.inbox.add(LEASE_TICK);
        return;
      }
      tickLease(n);
    }, TieRule.LEASE | n.index);
  }

  private void tickLease(Node n) {
    if (foldInputs) n.inputs.addInput(2, null);
    finishStep(n, null, n.cpu.tick(nowMicros()));
  }

  /**
   * GPU node {@code k} is gone (crashed): its core stops, the links to and from it forget their state, and the CPU
   * core is told (CpuMm.nodeGone), as Pekko Cluster's downing tells CpuNodeActor.
   */
  public void crashGpuNode(int k, String reason) {
    if (k < 1 || k >= nodes.length) throw new IllegalArgumentException("no GPU node " + k);
    Node n = nodes[k];
    if (n.crashed) return;
    n.crashed = true;
    n.paused = false;
    if (n.inbox != null) n.inbox.clear();
    link.nodeDown(k);
    Node cpu = nodes[0];
    carryOut(cpu, cpu.cpu.nodeGone(k, reason, nowMicros()));
  }

  /** Restarts crashed GPU node {@code k} with fresh devices (a new incarnation). */
  public void restartGpuNode(int k) {
    if (k < 1 || k >= nodes.length) throw new IllegalArgumentException("no GPU node " + k);
    if (!nodes[k].crashed) throw new IllegalStateException("gpu" + k + " is not crashed: crash it before a restart");
    Node fresh = newGpuNode(k);
    // the vector clock of the new incarnation continues the old one's entry, so stamps stay unique
    fresh.clock.merge(nodes[k].clock.snapshot());
    nodes[k] = fresh;
  }

  // ------------------------------------------------------------------------------------------------ faults

  /** Pauses node {@code k} (0 = the CPU node): it processes nothing; messages to it queue until {@link #resumeNode}. */
  public void pauseNode(int k) {
    Node n = node(k);
    if (!n.crashed) n.paused = true;
  }

  /** Resumes node {@code k}: it takes what queued, in arrival order. */
  public void resumeNode(int k) {
    Node n = node(k);
    if (!n.paused) return;
    n.paused = false;
    drain(n);
  }

  public boolean paused(int k) { return node(k).paused; }

  private Node node(int k) {
    if (k < 0 || k >= nodes.length) throw new IllegalArgumentException("no node " + k + " (cpu0, gpu1..gpu" + gpuNodes() + ")");
    return nodes[k];
  }

  /** What the fault schedules did so far, one line per step: model µs and what ("start: ...", "end: ...", "failed: ..."). */
  public List<String> faultLog() { return List.copyOf(faultLog); }

  private final List<String> faultLog = new ArrayList<>();

  void logFault(String line) { faultLog.add(nowMicros() + " µs: " + line); }

  /**
   * Starts {@code schedule} now: each entry's instant and {@code for} duration are model time from this call
   * ({@link SimFaults} carries the steps out, in the order FaultScheduleRunner gives them on the cluster). A step that
   * cannot be carried out (crash of cpu0, a node that does not exist) is logged as failed and the schedule goes on.
   * A restart is a new node index (the highest so far + 1), as on the cluster; the log names it.
   */
  public void faults(FaultSchedule schedule) { SimFaults.start(this, schedule, null); }

  /**
   * {@link #faults(FaultSchedule)}, with the schedule's crash and restart lines carried out by {@code hooks} (the
   * scenario host's crash bookkeeping: incarnations, await-gone, steps ending with ENODEV, devices bound again), as
   * ScenarioCluster hands FaultSchedule.Callbacks to the cluster's schedule runner. Each hook runs inside one agenda
   * event at the line's instant and must not run the event loop itself.
   */
  public void faults(FaultSchedule schedule, FaultSchedule.Callbacks hooks) { SimFaults.start(this, schedule, hooks); }

  /**
   * Restarts crashed GPU node {@code k} as a new member under a new node index (the highest so far + 1), with fresh
   * devices, as the cluster does (docs/FAULTS.md "Restart": the CPU node keeps the old index gone). Returns the new
   * index; at most 15 GPU node indexes exist in all.
   */
  public int restartGpuNodeAsNew(int k) {
    if (k < 1 || k >= nodes.length) throw new IllegalArgumentException("no GPU node " + k);
    if (!nodes[k].crashed) throw new IllegalStateException("gpu" + k + " is not crashed: crash it before a restart");
    int index = nodes.length;
    if (index > 15) throw new IllegalStateException("no GPU node index left for a restart of gpu" + k + " (at most 15)");
    nodes = java.util.Arrays.copyOf(nodes, index + 1);
    nodes[index] = newGpuNode(index);
    return index;
  }

  /** The same as {@link #restartGpuNodeAsNew} (the scenario host's name for it). */
  public int restartGpuNodeAsNewMember(int k) { return restartGpuNodeAsNew(k); }

  // ------------------------------------------------------------------------------------------------ views

  public CpuMm cpu() { return nodes[0].cpu; }
  public GpuNode gpu(int k) { return nodes[k].gpu; }
  public int gpuNodes() { return nodes.length - 1; }
  public boolean crashed(int k) { return nodes[k].crashed; }
  public InvariantChecker checker() { return checker; }
  public List<Violation> violations() { return violations; }
  public long traceHash() { return hash.value(); }

  /**
   * Whether every trace event is folded into {@link #traceHash} (true, the default). Schedule exploration turns it
   * off for the runs whose trace hash nobody reads (it costs a recursive walk of each event record); nothing else
   * changes: the checker, the trace listeners and {@link #stateKey} (the nodes' inputs) see the same events.
   */
  public void hashTrace(boolean on) { this.hashTrace = on; }
  /** Trace events the cores made (each judged by the checker). */
  public long traceEvents() { return traceEvents; }
  /** Protocol messages delivered to cores (link and controller). */
  public long messages() { return messages; }
  /** Agenda events fired. */
  public long fired() { return fired; }
  /** Model time of the last agenda event fired (0 before the first). */
  public long lastFiredNanos() { return lastFiredAt; }

  /** Per-node trace event counts (the checker's caughtUp argument). */
  public long[] eventCounts() {
    long[] out = new long[nodes.length];
    for (int i = 0; i < nodes.length; i++) out[i] = nodes[i].clock.own();
    return out;
  }

  public long droppedReplies() { return droppedReplies; }
}
