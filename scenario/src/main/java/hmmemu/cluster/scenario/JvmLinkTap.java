package hmmemu.cluster.scenario;

import hmmemu.node.link.RemoteGate;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Delivered;
import hmmemu.protocol.wire.pb.DeliveryWatch;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.GateArm;
import hmmemu.protocol.wire.pb.GateClosed;
import hmmemu.protocol.wire.pb.GateDirection;
import hmmemu.protocol.wire.pb.GateReply;
import hmmemu.protocol.wire.pb.GateRequest;
import hmmemu.protocol.wire.pb.LinkObserved;
import hmmemu.protocol.wire.pb.ObserveStart;
import hmmemu.protocol.wire.pb.ObserveSync;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The controller's end of the nodes' scenario link stages across JVMs ({@link RemoteGate}, gate.proto): arms, releases
 * and drops pause points on the node that sends on their direction, completes a pause point's future when its node
 * reports it closed, and feeds the link observations the nodes stream (numbered per node, applied in order) to one
 * {@link InvalidateObserver}. {@link #sync} waits (bounded) until every observation a node had streamed when asked
 * has been applied, so an expectation after {@link ScenarioCluster#barrier} counts what the embedded runner would.
 * An {@code until} arms a {@link DeliveryWatch} on its receiving node ({@link #watch}); the {@link Delivered} notices
 * the node sends back go to the host's delivery sink, as an embedded node's {@code Link.delivered} does.
 * A scenario's node numbers name the current incarnation of each GPU node ({@code clusterNode}): a crash
 * ({@link #crashing}, {@link #crashed}) forgets the dead JVM's gate and drops what the CPU node's gate held toward
 * it, a restart ({@link #restarted}) finds the new JVM's gate and starts its observation stream (docs/SCENARIOS.md
 * "Crash and restart"). Not a kernel structure.
 */
final class JvmLinkTap {
  /** The bound on one request to a node's gate and on one observation sync. */
  static final Duration BOUND = Duration.ofSeconds(10);

  private final ActorSystem<?> system;
  private final InvalidateObserver observer;
  private final ActorRefResolver resolver;
  /** The gate of every live node, by cluster node index (a crash removes one, a restart adds one). */
  private final Map<Integer, ActorRef<GateRequest>> gates = new ConcurrentHashMap<>();
  /** Scenario node -> cluster node index of its current incarnation (0 stays 0). */
  private final java.util.function.IntUnaryOperator clusterNode;
  private final Map<Long, CompletableFuture<HmmProtocol.Msg>> closed = new ConcurrentHashMap<>();
  private final AtomicLong gateIds = new AtomicLong();
  /** Per node: observations applied (1..n in order) and those that arrived early; guarded by this. */
  private final Map<Integer, Long> applied = new HashMap<>();
  private final Map<Integer, TreeMap<Long, Envelope>> early = new HashMap<>();
  private String listener;
  /** Where the nodes' Delivered notices go: (receiving scenario node, message), in the order each node sent them. */
  private final java.util.function.BiConsumer<Integer, HmmProtocol.Msg> delivered;

  /** The node incarnation this tap serves (reused node JVMs): its gates' keys and its actors' names carry it. */
  private final long epoch;
  private ActorRef<Object> listenerRef;

  /** The sentinel that stops the listener ({@link #close}): what a node's old gate still says is dropped. */
  private enum Stop implements org.apache.pekko.actor.NoSerializationVerificationNeeded { INSTANCE }

  JvmLinkTap(ActorSystem<?> system, InvalidateObserver observer,
      java.util.function.BiConsumer<Integer, HmmProtocol.Msg> delivered, java.util.function.IntUnaryOperator clusterNode) {
    this(system, observer, delivered, clusterNode, 0);
  }

  /** A tap of node incarnation {@code epoch} ({@code ProcessCluster.reincarnate}). */
  JvmLinkTap(ActorSystem<?> system, InvalidateObserver observer,
      java.util.function.BiConsumer<Integer, HmmProtocol.Msg> delivered, java.util.function.IntUnaryOperator clusterNode,
      long epoch) {
    this.epoch = epoch;
    this.system = system;
    this.clusterNode = clusterNode;
    this.delivered = delivered;
    this.observer = observer;
    this.resolver = ActorRefResolver.get(system);
  }

  InvalidateObserver observer() { return observer; }

  /** Stops the listener: the run is over, and what the nodes' gates of this incarnation still send is dropped. */
  void close() {
    if (listenerRef != null) listenerRef.tell(Stop.INSTANCE);
  }

  /**
   * Starts the controller and one child JVM per node ({@code hmm-emu node --pause-points}), with the scenario's
   * kernel profile (the checker's too), time scale and lanes; GPU node k gets its declared devices.
   */
  static hmmemu.cluster.ProcessCluster startCluster(Scenario scenario, ScenarioRunner.Options options, int gpus,
      Map<Integer, Integer> devicesPerNode) {
    Map<String, String> sets = sets(scenario, options);
    java.util.List<String> args = new java.util.ArrayList<>(options.jvms().childArgs());
    args.add("--pause-points");
    return hmmemu.cluster.ProcessCluster.start(options.base(), gpus, devicesPerNode, sets, args,
        options.clusterUpTimeout());
  }

  /**
   * The node JVMs' start-up settings a scenario sets: its kernel profile, time scale and lanes (a reused node JVM's
   * next incarnation takes them: {@code ProcessCluster.reincarnate}).
   */
  static Map<String, String> sets(Scenario scenario, ScenarioRunner.Options options) {
    Map<String, String> sets = new HashMap<>();
    sets.put("hmm-emu.model.kernel-profile",
        scenario.switches().kernelProfile() == hmmemu.protocol.model.KernelProfile.V5_14 ? "v5.14" : "v6.15");
    sets.put("hmm-emu.time-scale", Double.toString(scenario.timeScaleOr(options.timeScale())));
    // the file's link { lanes = per-thread }: every node's data link layer and gate order per (direction, lane)
    if (scenario.lanes()) sets.put("hmm-emu.link.lanes", "per-thread");
    return sets;
  }

  /** Finds the gate of nodes 0..gpuNodes (bounded) and starts their observation streams. */
  void start(int gpuNodes) {
    ActorRef<Object> l = system.systemActorOf(Behaviors.receive(Object.class)
        .onMessage(Object.class, m -> {
          if (m == Stop.INSTANCE) return Behaviors.stopped();
          heard(m);
          return Behaviors.same();
        }).build(), "scenario-link-listener" + hmmemu.node.ServiceKeys.nameSuffix(epoch), Props.empty());
    listenerRef = l;
    listener = resolver.toSerializationFormat(l);
    for (int node = 0; node <= gpuNodes; node++) gates.put(node, find(node));
    for (int node = 0; node <= gpuNodes; node++) {
      call(node, "start its observation stream", b -> b.setObserve(ObserveStart.newBuilder().setListener(listener)));
    }
  }

  private void heard(Object m) {
    if (m instanceof GateClosed c) {
      CompletableFuture<HmmProtocol.Msg> f = closed.get(c.getGateId());
      if (f != null) f.complete(WireCodec.decode(c.getMessage()));
    } else if (m instanceof Delivered d) {
      HmmProtocol.Msg msg;
      try {
        msg = WireCodec.decode(d.getMessage());
      } catch (RuntimeException ex) {
        return; // not a protocol message (the node encoded it, so this does not happen)
      }
      delivered.accept(d.getNode(), msg);
    } else if (m instanceof LinkObserved o) {
      synchronized (this) {
        TreeMap<Long, Envelope> waiting = early.computeIfAbsent(o.getNode(), k -> new TreeMap<>());
        waiting.put(o.getSeq(), o.getEnvelope());
        long next = applied.getOrDefault(o.getNode(), 0L) + 1;
        while (!waiting.isEmpty() && waiting.firstKey() == next) {
          Envelope e = waiting.pollFirstEntry().getValue();
          try {
            observer.observe(WireCodec.decode(e));
          } catch (RuntimeException ex) {
            // not a protocol message: nothing to count (the node decoded it, so this does not happen)
          }
          applied.put(o.getNode(), next++);
        }
        notifyAll();
      }
    }
  }

  /**
   * Cluster node {@code k} (an incarnation) is about to be killed: its gate is forgotten first, so that a sync or a
   * release racing the kill neither waits for it nor fails on it.
   */
  void crashing(int k) { gates.remove(k); }

  /**
   * Cluster node {@code k} is dead: the CPU node's pause point toward it is closed and what it held dropped (the
   * dead node's own gates died with it), as the embedded runner drops both directions ({@code GateLink.drop}).
   */
  void crashed(int k) {
    if (gates.containsKey(0)) call(0, "drop what it held toward " + hmmemu.node.link.Direction.nodeName(k),
        b -> b.setDrop(direction(0, k)));
  }

  /** Cluster node {@code k} is a restarted incarnation: finds its gate (bounded) and starts its observation stream. */
  void restarted(int k) {
    gates.put(k, find(k));
    call(k, "start its observation stream", b -> b.setObserve(ObserveStart.newBuilder().setListener(listener)));
  }

  /** The gate actor of {@code node}, once the receptionist lists it (bounded by {@link #BOUND}). */
  private ActorRef<GateRequest> find(int node) {
    ServiceKey<GateRequest> key = RemoteGate.key(node, epoch);
    CompletableFuture<ActorRef<GateRequest>> found = new CompletableFuture<>();
    Behavior<Receptionist.Listing> watcher = Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(key, ctx.getSelf()));
      return Behaviors.receive(Receptionist.Listing.class).onMessage(Receptionist.Listing.class, l -> {
        var instances = l.getServiceInstances(key);
        if (instances.isEmpty()) return Behaviors.same();
        found.complete(instances.iterator().next());
        return Behaviors.stopped();
      }).build();
    });
    // it stops itself once it saw the gate; otherwise the control system's end stops it
    system.systemActorOf(watcher, "scenario-gate-watch-" + node + hmmemu.node.ServiceKeys.nameSuffix(epoch), Props.empty());
    try {
      return found.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      throw new IllegalStateException(hmmemu.node.link.Direction.nodeName(node) + " registered no link gate within "
          + BOUND.toMillis() + " ms (was it started with --pause-points?)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  /** One request to node's gate and its reply (bounded); an error reply or no reply throws, naming {@code what}. */
  private GateReply call(int node, String what, Consumer<GateRequest.Builder> body) {
    ActorRef<GateRequest> gate = gates.get(node);
    if (gate == null) throw new IllegalStateException("no link gate of " + hmmemu.node.link.Direction.nodeName(node));
    GateReply r;
    try {
      r = AskPattern.<GateRequest, GateReply>ask(gate, replyTo -> {
        GateRequest.Builder b = GateRequest.newBuilder().setReplyTo(resolver.toSerializationFormat(replyTo));
        body.accept(b);
        return b.build();
      }, BOUND, system.scheduler()).toCompletableFuture().get(BOUND.toMillis() + 5000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(hmmemu.node.link.Direction.nodeName(node) + " did not " + what + " within "
          + BOUND.toMillis() + " ms");
    }
    if (!r.getOk()) throw new IllegalStateException("could not " + what + ": " + r.getError());
    return r;
  }

  /**
   * Starts the faults block across the JVMs (ProcessCluster.runFaults: link lines go to every node's link control,
   * the node numbers they name being the scenario's current incarnations); {@code nodes} carries out crash,
   * restart, pause and resume (the runner's own, which keep its bookkeeping: a crash is a SIGKILL of the node's JVM,
   * a restart a new JVM, a pause SIGSTOP and SIGCONT); {@code applied} hears each step's start and end. Null when
   * the block is empty.
   */
  CompletableFuture<Void> runFaults(hmmemu.cluster.ProcessCluster cluster, hmmemu.node.link.FaultSchedule faults,
      java.util.function.BiConsumer<hmmemu.node.link.FaultSchedule.Entry, String> applied,
      hmmemu.node.link.FaultSchedule.Callbacks nodes) {
    if (faults.entries().isEmpty()) return null;
    return cluster.runFaults(faults, line -> { }, (e, end, began) -> applied.accept(e, end ? "end" : "start"), nodes,
        clusterNode);
  }

  /** After the faults block: clears every node's link faults, so the checks see a quiet link (bounded). */
  void clearFaults() {
    try {
      hmmemu.node.link.LinkControl.broadcast(system, "clear", BOUND).toCompletableFuture()
          .get(BOUND.toMillis() + 5000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("the nodes' link faults were not cleared within " + BOUND.toMillis() + " ms");
    }
  }

  /** Arms pause point {@code p} on the node that sends on its direction; completes when that node reports it closed. */
  CompletableFuture<HmmProtocol.Msg> holdWhen(Scenario.PauseOp p, int deviceId) {
    long id = gateIds.incrementAndGet();
    CompletableFuture<HmmProtocol.Msg> f = new CompletableFuture<>();
    closed.put(id, f);
    int from = clusterNode.applyAsInt(p.fromNode());
    int to = clusterNode.applyAsInt(p.toNode());
    call(from, "arm pause point '" + p.pauseId() + "'", b -> b.setArm(GateArm.newBuilder().setGateId(id)
        .setFromNode(from).setToNode(to).setMessage(p.message()).setDeviceId(deviceId)
        .setEvent(p.event() == null ? "" : p.event().name()).setKind(p.kind() == null ? "" : p.kind().name())
        .setSkip(p.skip()).setListener(listener)));
    return f;
  }

  /**
   * Asks node {@code toNode} to report, from now on, every {@code message} its core steps on that came from
   * {@code fromNode} (-1: a controller request): an {@code until}'s deliveries. Answered once armed (bounded).
   */
  void watch(int fromNode, int toNode, String message) {
    int from = fromNode <= 0 ? fromNode : clusterNode.applyAsInt(fromNode);
    call(clusterNode.applyAsInt(toNode), "watch for a delivered " + message, b -> b.setWatch(DeliveryWatch.newBuilder()
        .setFromNode(from).setMessage(message).setListener(listener)));
  }

  /**
   * Opens the pause point on from -> to (scenario nodes); its node delivers what it held, in order, before it
   * answers. A crashed sender has no gate any more and held nothing that could leave it: nothing to do.
   */
  void release(int fromNode, int toNode) {
    int from = clusterNode.applyAsInt(fromNode);
    int to = clusterNode.applyAsInt(toNode);
    if (!gates.containsKey(from)) return;
    call(from, "release the pause point on " + hmmemu.node.link.Direction.nodeName(fromNode) + " -> "
        + hmmemu.node.link.Direction.nodeName(toNode), b -> b.setRelease(direction(from, to)));
  }

  /** Arms an order gate on from -> to (scenario nodes) at its sending node ({@link hmmemu.node.link.GateLink#order}). */
  void order(int fromNode, int toNode) {
    int from = clusterNode.applyAsInt(fromNode);
    int to = clusterNode.applyAsInt(toNode);
    call(from, "arm an order gate", b -> b.setOrder(direction(from, to)));
  }

  /** One daemon thread that sends an order's permits (each a round trip to the sending node's gate); lazily made. */
  private java.util.concurrent.Executor permits;

  /** Where an order's permits are sent from: not the thread that hears the nodes' delivery reports. */
  synchronized java.util.concurrent.Executor permits() {
    if (permits == null) {
      permits = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "hmm-emu-order-permits");
        t.setDaemon(true);
        return t;
      });
    }
    return permits;
  }

  /** Permits one message through the order gate on from -> to ({@link hmmemu.node.link.GateLink#permit}). */
  void permit(int fromNode, int toNode, String message, int deviceId, int ordinal) {
    int from = clusterNode.applyAsInt(fromNode);
    int to = clusterNode.applyAsInt(toNode);
    if (!gates.containsKey(from)) return;
    call(from, "permit " + message + " " + ordinal, b -> b.setPermit(GateArm.newBuilder().setFromNode(from)
        .setToNode(to).setMessage(message).setDeviceId(deviceId).setSkip(ordinal)));
  }

  private static GateDirection direction(int from, int to) {
    return GateDirection.newBuilder().setFromNode(from).setToNode(to).build();
  }

  /**
   * Waits (bounded) until every observation each node had streamed when asked has been applied to the observer.
   * Called after a barrier: what the nodes sent for earlier requests has been handed to their link stages.
   */
  void sync() {
    for (int node : new java.util.TreeSet<>(gates.keySet())) {
      long n;
      try {
        n = call(node, "say how many link observations it sent", b -> b.setSync(ObserveSync.getDefaultInstance()))
            .getObserved();
      } catch (IllegalStateException e) {
        if (!gates.containsKey(node)) continue; // crashed meanwhile (a faults block's crash): nothing more comes
        throw e;
      }
      long deadline = System.nanoTime() + BOUND.toNanos();
      synchronized (this) {
        while (applied.getOrDefault(node, 0L) < n) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new IllegalStateException(hmmemu.node.link.Direction.nodeName(node) + " streamed " + n
                + " link observations; " + applied.getOrDefault(node, 0L) + " reached the controller within "
                + BOUND.toMillis() + " ms");
          }
          try {
            wait(Math.max(1, left / 1_000_000));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
          }
        }
      }
    }
  }
}
