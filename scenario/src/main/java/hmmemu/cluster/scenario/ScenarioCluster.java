package hmmemu.cluster.scenario;

import hmmemu.protocol.msg.Ids;
import com.typesafe.config.Config;
import hmmemu.cluster.ControlClient;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.cluster.check.CheckerActor;
import hmmemu.node.link.GateLink;
import hmmemu.node.link.Link;
import hmmemu.node.ModelClock;
import hmmemu.node.link.FaultSchedule;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.msg.HmmProtocol;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The cluster a scenario runs on: starts it (an embedded cluster whose link is a pause gate around an invalidate
 * observer, around the modelled link when there is a faults block), sets it up (binds, mmaps, fills), runs the faults
 * block, crashes and restarts GPU nodes (a scenario node names its current incarnation), inspects pages, devices and
 * the checker's verdict with bounded waits, and stops everything. Across separate JVMs ({@link JvmLinkTap}) the same
 * bookkeeping holds: a crash is a SIGKILL of the node's JVM, a restart a new JVM under a new node index. Over 600
 * lines: the crash and restart bookkeeping of both hosts is one piece, kept in one place.
 */
final class ScenarioCluster implements ScenarioHost {
  /** The asks' own timeout is long: the runner bounds every wait itself and names what it waited for. */
  static final Duration ASK_TIMEOUT = Duration.ofMinutes(10);
  /** The bound on one introspection (InspectPage, InspectDevice) or set-up request. */
  static final long INSPECT_MILLIS = 10_000;

  private final Scenario scenario;
  private final ScenarioRunner.Options options;
  private GateLink gate;
  private ObservingLink observer;
  /** The cluster: {@link #embedded}, or a ProcessCluster when the options ask for separate JVMs. */
  private hmmemu.cluster.ClusterHandle cluster;
  private EmbeddedCluster embedded;
  /** Across separate JVMs: the controller's end of the nodes' pause gates and observing stages; null embedded. */
  private JvmLinkTap jvm;
  /** Across JVMs: the pool whose node JVMs this run reuses (they stay after it), or null (closed after it). */
  private JvmPool pool;
  /** Across separate JVMs: the faults block's run (ProcessCluster.runFaults), or null. */
  private CompletableFuture<Void> jvmFaults;
  private ControlClient client;
  /** The modelled link (hmm-emu.link) when the scenario has a faults block; null otherwise (direct). */
  private ModeledLink modeled;
  private java.util.concurrent.ScheduledExecutorService faultExecutor;
  private FaultSchedule.Running faultsRunning;
  /** The run record's recorder (docs/OBSERVABILITY.md), or null; attached to the checker from the first step. */
  private hmmemu.report.RunRecorder recorder;
  private ModelClock clock;
  private final Map<FaultSchedule.Entry, Long> faultStarts = new java.util.concurrent.ConcurrentHashMap<>();
  /** With {@code liveness}: the busy-loop watch on the checker's stream; else null. */
  private volatile CheckerLivelockWatch livelock;

  // Crash and restart (docs/SCENARIOS.md "Crash and restart"): a scenario's GPU node K names its current
  // incarnation; a restart is a new cluster member with a new node index (EmbeddedCluster.restartGpu).
  /** How long await-gone, await-restarted and a restart wait by default: the failure detector and SBR take seconds. */
  static final Duration NODE_WAIT = Duration.ofSeconds(60);
  /** Scenario GPU node -> cluster node index of its current incarnation (absent: the same index). */
  private final Map<Integer, Integer> incarnation = new java.util.concurrent.ConcurrentHashMap<>();
  /** Cluster node index of every incarnation -> scenario GPU node. */
  private final Map<Integer, Integer> scenarioNodeOf = new java.util.concurrent.ConcurrentHashMap<>();
  /** Scenario GPU nodes crashed and not restarted. */
  private final java.util.Set<Integer> crashedNodes = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Per scenario node: the futures of its 1st, 2nd... NodeGone (completed with the cluster index) and restart. */
  private final Map<Integer, List<CompletableFuture<Integer>>> goneFutures = new HashMap<>();
  private final Map<Integer, List<CompletableFuture<Integer>>> restartFutures = new HashMap<>();
  private final Map<Integer, Integer> crashCount = new HashMap<>();
  private final Map<Integer, Integer> restartCount = new HashMap<>();
  /** Devices per scenario GPU node (a restart starts the same number). */
  private final Map<Integer, Integer> devicesPerNode = new HashMap<>();
  /** The mms each device's driver is bound to (set-up binds and bind steps), rebound after a restart. */
  private final Map<String, java.util.LinkedHashSet<Integer>> boundMms = new java.util.concurrent.ConcurrentHashMap<>();

  /** Called with a scenario GPU node right after it crashed (the step executor ends the steps on its devices). */
  private java.util.function.IntConsumer onCrash = node -> { };

  ScenarioCluster(Scenario scenario, ScenarioRunner.Options options) {
    this.scenario = scenario;
    this.options = options;
  }

  /** Sets what happens right after a crash (before that: nothing). */
  void onCrash(java.util.function.IntConsumer onCrash) { this.onCrash = onCrash; }

  /** The controller's client (after {@link #start}). */
  ControlClient client() { return client; }

  /** The CPU node. */
  ActorRef<?> cpu() { return cluster.cpu(); }

  /** The pause gate on the link (after {@link #start}; null before). */
  GateLink gate() { return gate; }

  /** The observer of invalidate callbacks on the link. */
  @Override
  public InvalidateObserver observer() { return jvm != null ? jvm.observer() : observer.observer(); }

  @Override
  public long nextReqId() { return client.nextReqId(); }

  @Override
  public CompletableFuture<HmmProtocol.Msg> ask(int node, HmmProtocol.Msg msg) {
    return client.ask(node == 0 ? cluster.cpu() : cluster.gpu(clusterNode(node)), msg).toCompletableFuture();
  }

  /**
   * A bounded wall-time wait; a non-completion is reported as a deadlock (the cluster cannot tell a deadlock from a
   * livelock by waiting), except the busy-loop livelock of a file with {@code liveness { livelock-span }}: the wait
   * also ends when the checker's stream made {@link BusyLoopWatch} find one, with the simulator's kind and message.
   */
  @Override
  public Waited await(CompletableFuture<?> f, Duration limit) {
    CheckerLivelockWatch watch = livelock;
    boolean watched = watch != null && watch.armed();
    CompletableFuture<?> until = watched ? watch.orFound(f) : f;
    try {
      until.get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return new Waited(Ending.TIMEOUT, "deadlock", "within " + limit.toMillis() + " ms", "");
    } catch (ExecutionException e) {
      // done: the caller reads the failure from the future
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Waited(Ending.TIMEOUT, "deadlock", "within " + limit.toMillis() + " ms (interrupted)", "");
    }
    Waited found = watched ? watch.afterWait(f, cluster, client, INSPECT_MILLIS) : null;
    return found != null ? found : Waited.DONE;
  }

  @Override
  public long clockNanos() { return System.nanoTime(); }

  /**
   * A concurrent block: one thread per step, all released at once by one latch, so the steps' first requests leave
   * together with no fixed order; returns (bounded by the step timeout) once every thread has sent its request.
   */
  @Override
  public void startConcurrently(List<Runnable> starts) {
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < starts.size(); i++) {
      Runnable start = starts.get(i);
      Thread t = new Thread(() -> {
        try {
          go.await();
          start.run();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "hmm-emu-concurrent-" + i);
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
    go.countDown();
    long deadline = System.nanoTime() + scenario.stepTimeout().toNanos();
    try {
      for (Thread t : threads) t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Thread t : threads) {
      if (t.isAlive()) throw new IllegalStateException("a concurrent block's step did not start within the step timeout");
    }
  }

  @Override
  public long nowMicros() { return clock.nowMicros(); }

  /**
   * Completes once {@code micros} of model time passed: {@code micros x time-scale} of wall time on
   * {@link hmmemu.node.WakeTimer} (the model clock is the scaled wall clock), never a sleep; completed on the control
   * ActorSystem's dispatcher. Not Pekko's scheduler, whose 10 ms tick made it 10-20 ms late (ScenarioWaitLatenessTest).
   */
  @Override
  public CompletableFuture<Void> afterModelTime(long micros) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    long wallMicros = (long) Math.ceil(micros * scenario.timeScaleOr(options.timeScale()));
    java.util.concurrent.Executor dispatcher = cluster.controlSystem().executionContext();
    hmmemu.node.WakeTimer.schedule(wallMicros * 1000, () -> dispatcher.execute(() -> f.complete(null)));
    return f;
  }

  /** The default bound of crash-related waits: the step timeout, at least {@link #NODE_WAIT}. */
  @Override
  public Duration nodeWait() {
    return scenario.stepTimeout().compareTo(NODE_WAIT) > 0 ? scenario.stepTimeout() : NODE_WAIT;
  }

  @Override
  public CompletableFuture<HmmProtocol.Msg> holdWhen(int fromNode, int toNode,
      java.util.function.Predicate<HmmProtocol.Msg> trigger) {
    return gate.holdWhen(fromNode, toNode, trigger);
  }

  /** Across JVMs the pause point travels to the node that sends on its direction (gate.proto). */
  @Override
  public CompletableFuture<HmmProtocol.Msg> pausePoint(Scenario.PauseOp p,
      java.util.function.Predicate<HmmProtocol.Msg> trigger) {
    if (jvm != null) return jvm.holdWhen(p, currentDeviceId(p.deviceId()));
    return holdWhen(p.fromNode(), p.toNode(), trigger);
  }

  @Override
  public void release(int fromNode, int toNode) {
    if (jvm != null) jvm.release(fromNode, toNode);
    if (gate != null) gate.release(fromNode, toNode);
  }

  @Override
  public void order(int fromNode, int toNode) {
    if (jvm != null) jvm.order(fromNode, toNode);
    else gate.order(fromNode, toNode);
  }

  @Override
  public void permit(int fromNode, int toNode, String message, int deviceId, int ordinal) {
    if (jvm != null) jvm.permit(fromNode, toNode, message, deviceId, ordinal);
    else gate.permit(fromNode, toNode, message, deviceId, ordinal);
  }

  @Override
  public void reportDeliveries(int fromNode, int toNode, String message) {
    if (jvm != null) jvm.watch(fromNode, toNode, message);
  }

  /** Across JVMs the permits leave from the tap's own thread ({@link JvmLinkTap#permits}). */
  @Override
  public java.util.concurrent.Executor permits() { return jvm != null ? jvm.permits() : Runnable::run; }

  /** A {@link #whenDelivered} watcher. */
  private record DeliveryWatch(int from, int to, java.util.function.Predicate<HmmProtocol.Msg> trigger,
      CompletableFuture<HmmProtocol.Msg> done) {}

  /** Armed watchers; offered each message a node's core stepped on (IncarnationLink#delivered, node actor threads). */
  private final List<DeliveryWatch> deliveryWatches = new java.util.concurrent.CopyOnWriteArrayList<>();

  @Override
  public CompletableFuture<HmmProtocol.Msg> whenDelivered(int fromNode, int toNode,
      java.util.function.Predicate<HmmProtocol.Msg> trigger) {
    DeliveryWatch w = new DeliveryWatch(fromNode, toNode, trigger, new CompletableFuture<>());
    deliveryWatches.add(w);
    return w.done();
  }

  /**
   * Across JVMs the receiving node reports the deliveries of {@code u}'s type and direction (gate.proto
   * DeliveryWatch), which {@link JvmLinkTap} feeds to {@link #delivered} as the embedded link stage does.
   */
  @Override
  public CompletableFuture<HmmProtocol.Msg> whenDelivered(Scenario.PauseOp u,
      java.util.function.Predicate<HmmProtocol.Msg> trigger) {
    CompletableFuture<HmmProtocol.Msg> f = whenDelivered(u.fromNode(), u.toNode(), trigger); // before the node reports
    if (jvm != null) jvm.watch(u.fromNode(), u.toNode(), u.message());
    return f;
  }

  /** Scenario node {@code to}'s core stepped on {@code msg}: the watchers of its direction are offered it. */
  private void delivered(int to, HmmProtocol.Msg msg) {
    if (deliveryWatches.isEmpty()) return;
    boolean link = msg instanceof HmmProtocol.DriverToHost || msg instanceof HmmProtocol.HostToDriver;
    int from = !link ? -1 : to != 0 ? 0 : scenarioNodeOf.getOrDefault(Ids.nodeOfDevice(StepExecutor.deviceOf(msg)),
        Ids.nodeOfDevice(StepExecutor.deviceOf(msg))); // -1: a controller's request
    for (DeliveryWatch w : deliveryWatches) {
      if (w.from() != from || w.to() != to || w.done().isDone()) continue;
      boolean hit;
      synchronized (w) { // one direction's messages come from one node's actor; the lock only orders the count
        hit = !w.done().isDone() && w.trigger().test(msg);
      }
      if (hit) {
        deliveryWatches.remove(w);
        w.done().complete(msg);
      }
    }
  }

  /** Whether scenario GPU node {@code node} is crashed and not restarted. */
  public boolean crashed(int node) { return crashedNodes.contains(node); }

  /** How many times scenario GPU node {@code node} crashed so far. */
  public int crashes(int node) { return crashCount.getOrDefault(node, 0); }

  /** Completes with the cluster index when the CPU node declared crash {@code n} of GPU node {@code node} gone. */
  public CompletableFuture<Integer> gone(int node, int n) { return nth(goneFutures, node, n); }

  /** Completes with the new cluster index when restart {@code n} of GPU node {@code node} completed. */
  public CompletableFuture<Integer> restarted(int node, int n) { return nth(restartFutures, node, n); }

  /** Records that device {@code d}'s driver is bound to {@code mm} (rebound after a restart). */
  public void bound(Scenario.Device d, int mm) {
    boundMms.computeIfAbsent(d.name(), k -> new java.util.LinkedHashSet<>()).add(mm);
  }

  /** A set-up problem: its message is the whole failure line. */
  static final class SetupFailure extends RuntimeException {
    SetupFailure(String message) { super(message); }
  }

  // ------------------------------------------------------------------------------------------------ set-up

  void start() {
    if (options.jvms() != null) {
      startAcrossJvms();
      return;
    }
    Link wire = Link.DIRECT;
    if (!scenario.faults().entries().isEmpty() || scenario.lanes()) {
      try {
        LinkSettings ls = LinkSettings.fromConfig(options.base());
        if (scenario.lanes()) ls = ls.withLanes(true); // the file's link { lanes = per-thread }
        modeled = new ModeledLink(ls, 1, scenario.timeScaleOr(options.timeScale()), Link.DIRECT);
      } catch (IllegalArgumentException e) {
        throw new SetupFailure(scenario.file() + ":1: hmm-emu.link: " + e.getMessage());
      }
      wire = modeled;
    }
    observer = new ObservingLink(wire, new InvalidateObserver(InvalidateObserver.rangesOf(scenario)));
    gate = new GateLink(observer);
    Map<Integer, Integer> perNode = devicesPerNode;
    for (Scenario.Device d : scenario.devices()) perNode.merge(d.node(), d.index() + 1, Math::max);
    for (int k = 1; k <= scenario.gpuNodes(); k++) scenarioNodeOf.put(k, k);
    Config base = scenario.crashes() ? EmbeddedCluster.crashable(options.base()) : options.base();
    clock = ModelClock.scaledWall(scenario.timeScaleOr(options.timeScale()));
    try {
      embedded = EmbeddedCluster.start(base, scenario.gpuNodes(), perNode, scenario.switches(),
          clock, new IncarnationLink(gate, k -> scenarioNodeOf.getOrDefault(k, k), this::delivered),
          options.clusterUpTimeout(), options.factory());
      cluster = embedded;
    } catch (RuntimeException e) {
      throw new SetupFailure(scenario.file() + ":1: the cluster did not start: " + e.getMessage());
    }
    client = new ControlClient(cluster.controlSystem(), ASK_TIMEOUT);
    livelock = CheckerLivelockWatch.attach(scenario, scenario.timeScaleOr(options.timeScale()), cluster);
  }

  /**
   * Starts one JVM per node ({@link hmmemu.cluster.ProcessCluster}, each child's link wrapped in a
   * {@link hmmemu.node.link.RemoteGate}), finds their gates, starts their observation streams, and resets every
   * node with the scenario's switches (ResetNode; the kernel profile also goes to the checker). A restarted node's
   * JVM is reset the same way ({@link #restartNode}).
   */
  private void startAcrossJvms() {
    pool = options.jvms().pool() != null && JvmPool.reusable(scenario) ? options.jvms().pool() : null;
    for (Scenario.Device d : scenario.devices()) devicesPerNode.merge(d.node(), d.index() + 1, Math::max);
    for (int k = 1; k <= scenario.gpuNodes(); k++) scenarioNodeOf.put(k, k);
    clock = ModelClock.scaledWall(scenario.timeScaleOr(options.timeScale()));
    int gpus = Math.max(scenario.gpuNodes(), options.jvms().gpuNodes());
    long epoch;
    try {
      JvmPool.Lease lease = JvmPool.lease(pool, scenario, options, gpus, devicesPerNode);
      cluster = lease.cluster();
      epoch = lease.epoch();
    } catch (RuntimeException e) {
      throw new SetupFailure(scenario.file() + ":1: the cluster did not start: " + e.getMessage());
    }
    client = new ControlClient(cluster.controlSystem(), ASK_TIMEOUT).epoch(epoch);
    jvm = new JvmLinkTap(cluster.controlSystem(), new InvalidateObserver(InvalidateObserver.rangesOf(scenario)),
        (k, msg) -> delivered(scenarioNodeOf.getOrDefault(k, k), msg), this::clusterNode, epoch);
    try {
      jvm.start(gpus);
    } catch (RuntimeException e) {
      throw new SetupFailure(scenario.file() + ":1: the nodes' link gates: " + e.getMessage());
    }
    for (int node = 0; node <= gpus; node++) {
      HmmProtocol.Msg r = setupCall(node, new HmmProtocol.ResetNode(client.nextReqId(), scenario.name(),
          scenario.switches()), 1, "reset " + hmmemu.node.link.Direction.nodeName(node) + " with the scenario's switches");
      if (!(r instanceof HmmProtocol.ResetDone)) {
        throw new SetupFailure(scenario.file() + ":1: set-up: reset " + hmmemu.node.link.Direction.nodeName(node)
            + " failed: " + r);
      }
    }
    // the checker runs in this JVM; a device's span is measured on its own node's clock
    livelock = CheckerLivelockWatch.attach(scenario, scenario.timeScaleOr(options.timeScale()), cluster);
  }

  /**
   * Across JVMs: a new JVM for crashed scenario GPU node {@code node}, a new member under the next node index
   * (ProcessCluster.restart, as many devices, bounded by the cluster start timeout), reset with the scenario's
   * switches (an embedded restart starts its node with them), its gate found and its observation stream started.
   *
   * @return the new node index
   */
  private int restartJvm(int node, Duration bound) {
    hmmemu.cluster.ProcessCluster pc = (hmmemu.cluster.ProcessCluster) cluster;
    int k = pc.restart(clusterNode(node));
    scenarioNodeOf.put(k, node);
    HmmProtocol.Msg r;
    try {
      r = client.ask(cluster.gpu(k), new HmmProtocol.ResetNode(client.nextReqId(), scenario.name(), scenario.switches()))
          .toCompletableFuture().get(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("resetting the restarted gpu" + node + " (" + hmmemu.node.link.Direction.nodeName(k)
          + ") with the scenario's switches got no reply within " + bound.toMillis() + " ms (" + e.getClass().getSimpleName() + ")");
    }
    if (!(r instanceof HmmProtocol.ResetDone)) {
      throw new IllegalStateException("resetting the restarted gpu" + node + " failed: " + r);
    }
    jvm.restarted(k);
    return k;
  }

  /** Records the run from now on into {@code r} (set-up included: its events are part of the record). */
  void record(hmmemu.report.RunRecorder r) {
    if (r == null || cluster == null) return;
    recorder = r;
    r.origin(clock.nowMicros());
    hmmemu.cluster.check.Recording.attach(cluster, r);
  }

  /** Takes the recorder back (after the verdict), with the modelled link's counters; null when not recording. */
  hmmemu.report.RunRecorder stopRecording() {
    if (recorder == null || cluster == null) return null;
    hmmemu.report.RunRecorder r = hmmemu.cluster.check.Recording.detach(cluster);
    hmmemu.cluster.check.Recording.linkStats(r, modeled);
    return r;
  }

  /** A fault schedule step ran: a {@code for} period or a one-off action becomes a fault window of the record. */
  private void faultApplied(FaultSchedule.Entry e, String what) {
    if (recorder == null) return;
    long now = clock.nowMicros();
    if (what.startsWith("start")) {
      if (e.action().forDuration() != null) faultStarts.put(e, now);
      else hmmemu.cluster.check.Recording.fault(cluster, new hmmemu.report.RunRecorder.FaultWindow(e.text(), now, now));
    } else {
      Long start = faultStarts.remove(e);
      hmmemu.cluster.check.Recording.fault(cluster,
          new hmmemu.report.RunRecorder.FaultWindow(e.text(), start == null ? now : start, now));
    }
  }

  /** Starts the scenario's fault schedule (instants count from here: after set-up, before the first step). */
  void startFaults() {
    Duration restartBound = scenario.stepTimeout().compareTo(NODE_WAIT) > 0 ? scenario.stepTimeout() : NODE_WAIT;
    if (jvm != null) {
      hmmemu.cluster.ProcessCluster pc = (hmmemu.cluster.ProcessCluster) cluster;
      jvmFaults = jvm.runFaults(pc, scenario.faults(), this::faultApplied, new FaultSchedule.Callbacks() {
        @Override public void crash(int node) { crashNode(node); }
        @Override public void restart(int node) { restartNode(node, restartBound); }
        @Override public void pause(int node) { pc.stop(clusterNode(node)); }
        @Override public void resume(int node) { pc.cont(clusterNode(node)); }
      });
    }
    if (modeled == null) return;
    faultExecutor = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "hmm-faults");
      t.setDaemon(true);
      return t;
    });
    faultsRunning = scenario.faults().start(modeled, faultExecutor, new FaultSchedule.Callbacks() {
      @Override public void crash(int node) { crashNode(node); }
      @Override public void restart(int node) { restartNode(node, restartBound); }
      @Override public void pause(int node) { if (node > 0) embedded.pauseGpu(clusterNode(node)); }
      @Override public void resume(int node) { if (node > 0) embedded.resumeGpu(clusterNode(node)); }
      @Override public void applied(FaultSchedule.Entry entry, String what) { faultApplied(entry, what); }
    });
  }

  /** The cluster node index of scenario GPU node {@code node}'s current incarnation. */
  int clusterNode(int node) { return node == 0 ? 0 : incarnation.getOrDefault(node, node); }

  /** A device's id in its node's current incarnation (Ids.deviceId(node, index)). */
  public int deviceId(Scenario.Device d) { return Ids.deviceId(clusterNode(d.node()), d.index()); }

  /** The current id of the device the scenario numbers {@code scenarioDeviceId}. */
  public int currentDeviceId(int scenarioDeviceId) {
    return scenarioDeviceId < 0 ? scenarioDeviceId : Ids.deviceId(clusterNode(Ids.nodeOfDevice(scenarioDeviceId)), Ids.indexOnNode(scenarioDeviceId));
  }

  private synchronized CompletableFuture<Integer> nth(Map<Integer, List<CompletableFuture<Integer>>> all, int node,
      int n) {
    List<CompletableFuture<Integer>> l = all.computeIfAbsent(node, k -> new ArrayList<>());
    while (l.size() < n) l.add(new CompletableFuture<>());
    return l.get(n - 1);
  }

  /**
   * Crashes scenario GPU node {@code node}: its ActorSystem is terminated abruptly (EmbeddedCluster.crashGpu), or
   * across JVMs its JVM killed with SIGKILL (ProcessCluster.crash), then what its pause points hold is dropped (the
   * node had not sent it: a pause stops the sender), steps waiting on its devices end with ENODEV (no answer can
   * come), and the checker is asked to say when the CPU node declares it gone.
   */
  public void crashNode(int node) {
    int k = clusterNode(node);
    int n;
    synchronized (this) {
      if (!crashedNodes.add(node)) throw new IllegalStateException("gpu" + node + " is already crashed");
      n = crashCount.merge(node, 1, Integer::sum);
    }
    // Terminate first: until then the node's data link layer keeps replaying what a pause point holds.
    if (jvm != null) {
      jvm.crashing(k);
      ((hmmemu.cluster.ProcessCluster) cluster).crash(k);
      jvm.crashed(k);
    } else {
      embedded.crashGpu(k, Duration.ofSeconds(30));
      gate.drop(node, 0);
      gate.drop(0, node);
    }
    CompletableFuture<Integer> gone = nth(goneFutures, node, n);
    AskPattern.<Object, Integer>ask(cluster.checker(), replyTo -> new CheckerActor.WhenNodeGone(k, replyTo),
        ASK_TIMEOUT, cluster.controlSystem().scheduler()).whenComplete((v, ex) -> {
          if (ex != null) gone.completeExceptionally(ex); else gone.complete(k);
        });
    onCrash.accept(node);
  }

  /**
   * Restarts crashed scenario GPU node {@code node} as a new cluster member (a new node index), then binds each of
   * its devices again to the mms it was bound to; the node's name and its devices' names mean the new incarnation
   * from then on.
   */
  public void restartNode(int node, Duration bound) {
    int n;
    synchronized (this) {
      if (!crashedNodes.contains(node)) throw new IllegalStateException("gpu" + node + " is not crashed");
      n = restartCount.merge(node, 1, Integer::sum);
    }
    CompletableFuture<Integer> done = nth(restartFutures, node, n);
    try {
      int expected = cluster.gpuCount() + 1;
      scenarioNodeOf.put(expected, node); // before its first message reaches the link
      int k = jvm != null ? restartJvm(node, bound) : embedded.restartGpu(devicesPerNode.getOrDefault(node, 1), bound);
      if (k != expected) scenarioNodeOf.put(k, node);
      incarnation.put(node, k);
      crashedNodes.remove(node);
      for (Scenario.Device d : scenario.devices()) {
        if (d.node() != node) continue;
        for (int mm : boundMms.getOrDefault(d.name(), new java.util.LinkedHashSet<>())) {
          HmmProtocol.Msg r;
          try {
            r = client.ask(gpuOf(d), new HmmProtocol.BindMm(client.nextReqId(), deviceId(d), mm, d.driver()))
                .toCompletableFuture().get(bound.toMillis(), TimeUnit.MILLISECONDS);
          } catch (Exception e) {
            throw new IllegalStateException("rebinding " + d.name() + " to mm " + mm + " after the restart got no reply"
                + " within " + bound.toMillis() + " ms (" + e.getClass().getSimpleName() + ")");
          }
          if (!(r instanceof HmmProtocol.MmBound)) {
            throw new IllegalStateException("rebinding " + d.name() + " to mm " + mm + " after the restart failed: " + r);
          }
        }
      }
      done.complete(k);
    } catch (RuntimeException e) {
      done.completeExceptionally(e);
      throw e;
    }
  }

  /** After the steps: waits (bounded) for the rest of the schedule, then heals everything so the checks see a quiet link. */
  void finishFaults(Verdict verdict) {
    if (modeled == null && jvmFaults == null) return;
    try {
      (jvmFaults != null ? jvmFaults : faultsRunning.done()).get(scenario.stepTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      verdict.fail(scenario.file() + ":1: the fault schedule did not finish within the step timeout after the last step");
    } catch (java.util.concurrent.ExecutionException e) {
      verdict.fail(scenario.file() + ":1: a fault schedule step failed: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (jvmFaults != null) jvm.clearFaults(); else modeled.clearFaults();
  }

  /** The modelled link's counters (null when the scenario has no faults block). */
  java.util.Map<hmmemu.node.link.Direction, ModeledLink.DirectionStats> linkStats() {
    return modeled == null ? null : modeled.stats();
  }

  @Override
  public HmmProtocol.Msg setupCall(int node, HmmProtocol.Msg msg, int line, String what) {
    try {
      return ask(node, msg).toCompletableFuture().get(INSPECT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new SetupFailure(scenario.file() + ":" + line + ": set-up: " + what + " got no reply within "
          + INSPECT_MILLIS + " ms (" + e.getClass().getSimpleName() + ")");
    }
  }

  ActorRef<?> gpuOf(Scenario.Device d) { return cluster.gpu(clusterNode(d.node())); }

  /**
   * One introspection round trip to the CPU node and to every GPU node: each node handles requests from the
   * controller in order, so afterwards every message it sent in reaction to an earlier request (an async step's
   * syscall or device access) has been handed to the link and counted.
   */
  public void barrier() {
    Scenario.Vma first = scenario.vmas().isEmpty() ? null : scenario.vmas().get(0);
    inspectPage(first == null ? 1 : first.mm(), first == null ? 0 : first.start());
    Map<Integer, Scenario.Device> perNode = new HashMap<>();
    for (Scenario.Device d : scenario.devices()) perNode.putIfAbsent(d.node(), d);
    for (Scenario.Device d : perNode.values()) if (!crashedNodes.contains(d.node())) inspectDevice(d);
    if (jvm != null) jvm.sync(); // the observations the nodes streamed for what they sent so far have arrived
  }

  public HmmProtocol.PageInfo inspectPage(int mm, long va) {
    HmmProtocol.Msg m = inspect(cluster.cpu(), new HmmProtocol.InspectPage(client.nextReqId(), mm, va));
    if (!(m instanceof HmmProtocol.PageInfo)) throw new IllegalStateException("InspectPage answered " + m);
    return (HmmProtocol.PageInfo) m;
  }

  public HmmProtocol.PageInfo inspectFolio(long pfn) {
    HmmProtocol.Msg m = inspect(cluster.cpu(), new HmmProtocol.InspectFolio(client.nextReqId(), pfn));
    if (!(m instanceof HmmProtocol.PageInfo)) throw new IllegalStateException("InspectFolio answered " + m);
    return (HmmProtocol.PageInfo) m;
  }

  public HmmProtocol.NotifierInfo inspectNotifier(Scenario.Device d, int mm) {
    HmmProtocol.Msg m = inspect(cluster.cpu(), new HmmProtocol.InspectNotifier(client.nextReqId(), deviceId(d), mm));
    if (!(m instanceof HmmProtocol.NotifierInfo)) throw new IllegalStateException("InspectNotifier answered " + m);
    return (HmmProtocol.NotifierInfo) m;
  }

  public HmmProtocol.DeviceInfo inspectDevice(Scenario.Device d) {
    HmmProtocol.Msg m = inspect(gpuOf(d), new HmmProtocol.InspectDevice(client.nextReqId(), deviceId(d)));
    if (!(m instanceof HmmProtocol.DeviceInfo)) throw new IllegalStateException("InspectDevice answered " + m);
    return (HmmProtocol.DeviceInfo) m;
  }

  private HmmProtocol.Msg inspect(ActorRef<?> node, HmmProtocol.Msg msg) {
    try {
      // the ask's own timeout ends it first and names what is missing (a reply in parts: the parts)
      return client.ask(node, msg, Duration.ofMillis(INSPECT_MILLIS)).toCompletableFuture()
          .get(INSPECT_MILLIS + 5000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException("no answer to " + msg.getClass().getSimpleName() + " within " + INSPECT_MILLIS
          + " ms: " + e.getCause().getMessage());
    } catch (Exception e) {
      throw new IllegalStateException("no answer to " + msg.getClass().getSimpleName() + " within " + INSPECT_MILLIS
          + " ms");
    }
  }

  static List<String> violationsOf(CheckerActor.VerdictReply v) {
    List<String> out = new ArrayList<>();
    for (hmmemu.checker.Violation viol : v.violations()) out.add(viol.summary());
    if (!v.caughtUp()) out.add("CHECKER-BEHIND the checker had not delivered every event (" + v.pending() + " pending)");
    return out;
  }

  /**
   * The checker's verdict once it delivered every event the controller has seen, bounded like a step (the
   * scenario's step timeout, at least {@link #INSPECT_MILLIS}: a checker digesting a large step's events is part
   * of that step); then flushed and bounded by {@link #INSPECT_MILLIS} again.
   */
  CheckerActor.VerdictReply verdict() {
    long catchUpMillis = Math.max(INSPECT_MILLIS, scenario.stepTimeout().toMillis());
    long[] until = client.clock();
    CompletableFuture<CheckerActor.VerdictReply> reply = AskPattern.<Object, CheckerActor.VerdictReply>ask(
        cluster.checker(), replyTo -> new CheckerActor.Verdict(until, replyTo), ASK_TIMEOUT,
        cluster.controlSystem().scheduler()).toCompletableFuture();
    CheckerActor.VerdictReply v;
    try {
      v = reply.get(catchUpMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      cluster.checker().tell(new CheckerActor.Flush());
      try {
        v = reply.get(INSPECT_MILLIS, TimeUnit.MILLISECONDS);
      } catch (Exception e2) {
        throw new IllegalStateException("the invariant checker gave no verdict within " + (catchUpMillis + INSPECT_MILLIS) + " ms");
      }
    } catch (InterruptedException | ExecutionException e) {
      throw new IllegalStateException("the invariant checker's verdict failed: " + e);
    }
    return v;
  }

  @Override
  public CheckerView checker() {
    CheckerActor.VerdictReply v = verdict();
    return new CheckerView(v.caughtUp(), v.pending(), violationsOf(v), v.eventCounts());
  }

  /** Stops the fault schedule, then the cluster and the modelled link; safe after a partial start. */
  void stop() {
    if (faultsRunning != null) faultsRunning.cancel();
    if (jvmFaults != null) jvmFaults.cancel(false);
    if (faultExecutor != null) faultExecutor.shutdownNow();
    if (modeled != null) modeled.clearFaults();
    if (jvm != null) jvm.close();
    if (pool != null && cluster != null) pool.release((hmmemu.cluster.ProcessCluster) cluster);
    else if (cluster != null) cluster.close();
    if (modeled != null) modeled.close();
  }
}
