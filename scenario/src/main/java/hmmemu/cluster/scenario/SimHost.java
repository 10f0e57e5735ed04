package hmmemu.cluster.scenario;

import hmmemu.checker.Violation;
import hmmemu.node.link.LinkSettings;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.trace.Stamped;
import hmmemu.sim.Sim;
import hmmemu.sim.SimConfig;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;
import java.util.function.Predicate;

/**
 * The deterministic simulator ({@link Sim}: the same cores and invariant checker on one thread, model time, one
 * seed) as a {@link ScenarioHost}. Controller requests are {@link Sim#ask}s; pause points and the invalidate
 * observer sit on the simulator's {@link Sim.LinkTap} (before the link stage, so each message is seen once, as the
 * cluster's gate and observer see first copies); a crash is {@link Sim#crashGpuNode} (the CPU core is told at once:
 * the simulator has no failure detector), a restart {@link Sim#restartGpuNodeAsNewMember} (a new node index, as on
 * the cluster) with its devices bound again; the faults block's crash and restart lines do the same
 * ({@link #faultCallbacks}).
 *
 * <p>Time (docs/SCENARIOS.md "hmm-emu sim"): the emulator itself costs nothing, so a bound of the file
 * ({@code step-timeout}, {@code wait}) is read as the model time the same bound gives on the cluster, i.e. divided by
 * the file's {@code time-scale} (real µs per model µs; 1 when absent). {@link #await} runs the event loop until the
 * future is done and ends otherwise with one of three verdicts: a <b>deadlock</b> when no event is enabled any more,
 * a <b>livelock</b> when events kept firing for {@link #LIVELOCK_SPAN_NANOS} of model time and no controller request
 * was answered (it names the loop: the trace events the nodes made meanwhile, most frequent first; a window that
 * ends in a quiet stretch of over half the span, its next event a timer beyond it, is a wait and goes on), and a
 * <b>timeout</b> when the bound passed while requests were still answered.
 */
final class SimHost implements ScenarioHost {
  /** Model time without an answered request, while events fire, that is a livelock: 3 x the 1000 ms driver deadline. */
  static final long LIVELOCK_SPAN_NANOS = 3_000_000_000L;
  /** Model time bound of one introspection or set-up request. */
  static final long CALL_BOUND_NANOS = 1_000_000_000L;
  /** Events one wait window may fire without model time reaching its end (a loop in zero time) before it is a livelock. */
  static final long MAX_EVENTS_PER_WINDOW = 20_000_000L;

  private record Held(int from, int to, HmmProtocol.Msg msg, long[] vc) {}

  /** A pause point; {@code lane[0]}: the lane it holds once closed (0: the whole direction, lanes off), as GateLink. */
  private record Gate(Predicate<HmmProtocol.Msg> trigger, ArrayDeque<Held> held, CompletableFuture<HmmProtocol.Msg> closed,
      long[] lane) {}

  private final Scenario scenario;
  private final Sim sim;
  private final double timeScale;
  private final InvalidateObserver observer;
  private final Map<Long, Gate> gates = new HashMap<>();
  /** Scenario GPU node -> simulator node index of its current incarnation (absent: the same index). */
  private final Map<Integer, Integer> incarnation = new HashMap<>();
  /** Simulator node index of every incarnation -> scenario GPU node. */
  private final Map<Integer, Integer> scenarioNodeOf = new HashMap<>();
  private final Set<Integer> crashedNodes = new LinkedHashSet<>();
  private final Map<Integer, List<CompletableFuture<Integer>>> goneFutures = new HashMap<>();
  private final Map<Integer, List<CompletableFuture<Integer>>> restartFutures = new HashMap<>();
  private final Map<Integer, Integer> crashCount = new HashMap<>();
  private final Map<Integer, Integer> restartCount = new HashMap<>();
  private final Map<String, LinkedHashSet<Integer>> boundMms = new LinkedHashMap<>();
  private IntConsumer onCrash = node -> { };
  /** Armed {@link #whenDelivered} watchers, in arming order. */
  private final List<DeliveryWatch> deliveryWatches = new ArrayList<>();
  /** Hears every controller request of the steps as it is sent (scenario node, message): explore's request log. */
  private java.util.function.BiConsumer<Integer, HmmProtocol.Msg> onAsk = (n, m) -> { };
  /** Controller requests of steps answered so far (progress), and the model time of the last one. */
  long answered;
  /**
   * While a wait runs: trace events per simulator node index and type (the loop of a livelock), counted without
   * building names ({@link #loop} names them: "gpu1 DriverFaultHandled"); null between waits.
   */
  ArrayList<long[]> window;
  /** The trace event types a window counts, by a small number of their own ({@link #TYPE_ID}), in numbering order. */
  private static final List<Class<?>> TYPES = new java.util.concurrent.CopyOnWriteArrayList<>();
  /**
   * A trace event type's index in {@link #TYPES} (a class numbered twice by racing threads is in it twice), through a
   * direct-mapped cache by class ({@link hmmemu.protocol.model.ClassCache}: the ClassValue's look-up alone cost ~2 %
   * of an exploration's CPU at every trace event).
   */
  private static final hmmemu.protocol.model.ClassCache.OfInt TYPE_ID =
      new hmmemu.protocol.model.ClassCache.OfInt(256, type -> {
        synchronized (TYPES) {
          TYPES.add(type);
          return TYPES.size() - 1;
        }
      });

  private static int typeId(Class<?> type) { return TYPE_ID.get(type); }

  /** The file's busy-loop livelock watch ({@code liveness { livelock-span }}), or null. */
  private final BusyLoopWatch busy;

  /**
   * @param seed the run's one seed
   * @param link the link model (hmm-emu.link)
   * @param leaseMicros the lease on a dead driver's folio lock (hmm-emu.faults.folio-lock-lease)
   */
  SimHost(Scenario scenario, long seed, LinkSettings link, long leaseMicros) {
    this.scenario = scenario;
    this.timeScale = scenario.timeScaleOr(1.0);
    int perNode = 1;
    for (Scenario.Device d : scenario.devices()) perNode = Math.max(perNode, d.index() + 1);
    // the file's link { lanes = per-thread }: one lane per sending kernel thread on the simulator's link stage too
    this.sim = new Sim(new SimConfig(seed, scenario.gpuNodes(), perNode, scenario.switches(), leaseMicros,
        scenario.lanes() ? link.withLanes(true) : link, 1.0, true));
    // the scenario language's filtered trace counts, as CheckerActor; only for a file that states one (they cost a
    // reflective read per field and event, and nothing else reads them)
    sim.checker().countByField(countedFields(scenario)); // only the fields the file's trace counts filter by
    this.observer = new InvalidateObserver(InvalidateObserver.rangesOf(scenario), false); // one thread
    observer.keepEvents(InvalidateObserver.asksEventOfAcks(scenario)); // else a spin's state grows by a callback
    for (int k = 1; k <= scenario.gpuNodes(); k++) scenarioNodeOf.put(k, k);
    this.busy = BusyLoopWatch.of(scenario, timeScale);
    sim.tap(this::onSend);
    sim.onTrace(this::onTrace);
    sim.onDelivered(this::onDelivered);
  }

  Sim sim() { return sim; }

  /** Whether an expectation of {@code scenario} reads a trace count filtered by a field ({@code CpuFaulted.kind=anon}). */
  static boolean countsByField(Scenario scenario) { return !countedFields(scenario).isEmpty(); }

  /**
   * The fields ({@code Type.field}, e.g. {@code CpuFaulted.kind}) that the trace counts of {@code scenario}'s
   * expectations filter by: the checker counts only these by value (session 24, simcost8); StepObservation.traceCount,
   * the only reader of a simulated run's counts, reads no other field's key.
   */
  static java.util.Set<String> countedFields(Scenario scenario) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (Scenario.Step s : scenario.steps()) countedFields(s, out);
    return out;
  }

  private static void countedFields(Scenario.Step step, java.util.Set<String> out) {
    if (step.action() instanceof Scenario.ConcurrentOp c) for (Scenario.Step s : c.steps()) countedFields(s, out);
    for (Expectation e : step.expect()) countedFields(e, out);
  }

  private static void countedFields(Expectation e, java.util.Set<String> out) {
    if (e instanceof Expectation.ForProfile p) countedFields(p.inner(), out);
    else if (e instanceof Expectation.TraceCount t && t.type().contains(".")) {
      int eq = t.type().indexOf('=');
      out.add(eq < 0 ? t.type() : t.type().substring(0, eq));
    }
  }

  @Override
  public long nowMicros() { return sim.nowMicros(); }

  /** An event of the simulator at virtual time now + micros (no wall time passes). */
  @Override
  public CompletableFuture<Void> afterModelTime(long micros) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    sim.at(sim.nowNanos() + micros * 1000, () -> f.complete(null));
    return f;
  }

  void onCrash(IntConsumer onCrash) { this.onCrash = onCrash; }

  private int simIndex(int node) { return node == 0 ? 0 : incarnation.getOrDefault(node, node); }

  private String nodeName(int simIndex) {
    return simIndex == 0 ? "cpu0" : "gpu" + scenarioNodeOf.getOrDefault(simIndex, simIndex);
  }

  long modelNanos(Duration scenarioTime) { return (long) (scenarioTime.toNanos() / timeScale); }

  // ------------------------------------------------------------------------------------------------ requests

  @Override
  public long nextReqId() { return sim.nextReqId(); }

  void onAsk(java.util.function.BiConsumer<Integer, HmmProtocol.Msg> listener) { this.onAsk = listener; }

  /** Hears every reply to a step's request as the controller gets it (request, reply): explore's reply log. */
  void onReply(java.util.function.BiConsumer<HmmProtocol.Msg, HmmProtocol.Msg> listener) { this.onReply = listener; }

  private java.util.function.BiConsumer<HmmProtocol.Msg, HmmProtocol.Msg> onReply = (q, a) -> { };

  @Override
  public CompletableFuture<HmmProtocol.Msg> ask(int node, HmmProtocol.Msg msg) {
    onAsk.accept(node, msg);
    CompletableFuture<HmmProtocol.Msg> f = new CompletableFuture<>();
    sim.ask(simIndex(node), msg, reply -> {
      onReply.accept(msg, reply);
      answered++;
      f.complete(reply);
    });
    return f;
  }

  @Override
  public Waited await(CompletableFuture<?> f, Duration limit) { return new SimWait(this, f, limit).run(); }

  /** The wait whose event loop runs now (the run is inside {@link SimWait}'s window), or null. */
  SimWait waiting;

  /** Goes on with the wait this host was in when it was copied ({@link SimWait#resume}). */
  Waited resumeWait() {
    SimWait w = waiting;
    if (w == null) throw new IllegalStateException("resumeWait: no wait in progress");
    return w.resume();
  }

  void livelockReported() { busy.reported(); }

  double timeScale() { return timeScale; }

  /** The busy-loop livelock the watch found and no wait reported yet, or null. */
  String busyLivelock() { return busy == null ? null : busy.found(); }

  private void onTrace(Stamped s) {
    if (busy != null) busy.onEvent(s, sim.nowNanos());
    if (window == null) return;
    while (window.size() <= s.node()) window.add(null);
    int type = typeId(s.event().getClass());
    long[] perType = window.get(s.node());
    if (perType == null || perType.length <= type) {
      window.set(s.node(), perType = java.util.Arrays.copyOf(perType == null ? new long[0] : perType,
          Math.max(type + 1, TYPES.size())));
    }
    perType[type]++;
  }

  /** The trace events of the last wait window, most frequent first (the four first). */
  String loop() {
    Map<String, Long> named = new HashMap<>(); // incarnations of one scenario node share its name
    for (int i = 0; i < window.size(); i++) {
      long[] perType = window.get(i);
      if (perType == null) continue;
      for (int t = 0; t < perType.length; t++) {
        if (perType[t] > 0) named.merge(nodeName(i) + " " + TYPES.get(t).getSimpleName(), perType[t], Long::sum);
      }
    }
    List<Map.Entry<String, Long>> all = new ArrayList<>(named.entrySet());
    all.sort((a, b) -> b.getValue().equals(a.getValue()) ? a.getKey().compareTo(b.getKey()) : Long.compare(b.getValue(), a.getValue()));
    List<String> out = new ArrayList<>();
    for (int i = 0; i < Math.min(4, all.size()); i++) out.add(all.get(i).getKey() + " x" + all.get(i).getValue());
    return out.isEmpty() ? "no trace event (messages only)" : String.join(", ", out);
  }

  /**
   * Runs the event loop for the controller's longest hop (1.5 x the mean hop): the async step's first request, sent
   * at the current instant, has then been delivered to its node. Found by the simulator's seeds: without it a
   * {@code resume} right after an async step could overtake the step's request (C20 with seed 2, R7 with seed 42),
   * an order the cluster's timing practically never shows and the files' expectations do not state.
   */
  @Override
  public void asyncStarted() {
    long hop = Math.round(1.5 * sim.config().controllerHopMicros() * 1000.0);
    sim.runUntil(() -> false, sim.nowNanos() + hop, MAX_EVENTS_PER_WINDOW);
  }

  /**
   * The model time drawn between two starts of a concurrent block is uniform in [0, this]: 20 µs, a few round
   * trips of the built-in 1 µs link and about one driver iteration, so a later step can start before, inside or
   * after an earlier one's first exchange.
   */
  static final long CONCURRENT_GAP_MAX_NANOS = 20_000L;

  /**
   * A concurrent block's choice points: the start order (which of the steps not started yet starts next, {@link
   * #choose}) and the model time before each later start ({@link #gapNanos}); meanwhile the steps already started
   * run. Then, as {@link #asyncStarted}, the last step's first request reaches its node. Each is drawn from the
   * run's one random source ({@link Sim#random}, SplittableRandom's draws), so a seed replays one interleaving; the event
   * loop's own ties at one instant are the simulator's (Sim).
   *
   * <p>Under an explore scheduler ({@link Sim#scheduler}, issue 13) each draw is also a choice point of that
   * scheduler ({@link BlockChoice}): index 0 is the seeded draw (always made, so a scheduler answering 0 keeps the
   * run bit for bit), the other indices are the other steps not started yet (in block order) or, for a gap, no gap
   * at all (the next step starts at the same instant). A point with one option is not offered.
   */
  @Override
  public void startConcurrently(List<Runnable> starts) {
    List<Integer> left = new ArrayList<>();
    for (int i = 0; i < starts.size(); i++) left.add(i);
    boolean first = true;
    while (!left.isEmpty()) {
      int seeded = choose(left.size());
      List<Integer> options = new ArrayList<>(left.size());
      options.add(left.get(seeded));
      for (int i = 0; i < left.size(); i++) if (i != seeded) options.add(left.get(i));
      int next = options.get(offer(BlockChoice.Kind.START_ORDER, options.stream().mapToLong(Integer::longValue).toArray()));
      left.remove(Integer.valueOf(next));
      if (!first) {
        long g = gapNanos();
        long[] gaps = {g, 0};
        long gap = g == 0 ? 0 : gaps[offer(BlockChoice.Kind.START_GAP, gaps)];
        sim.runUntil(() -> false, sim.nowNanos() + gap, MAX_EVENTS_PER_WINDOW);
      }
      first = false;
      starts.get(next).run();
    }
    asyncStarted();
  }

  /** Asks the explore scheduler, if any, to pick among {@code options} (index 0: the seeded one); else 0. */
  private int offer(BlockChoice.Kind kind, long[] options) {
    hmmemu.sim.Scheduler s = sim.scheduler();
    if (s == null || options.length < 2) return 0;
    sim.offered(); // a choice point of the run (ScheduledJump)
    int c = s.choose(sim, new BlockChoice(kind, options, sim.nowNanos()));
    if (c < 0 || c >= options.length) throw new IllegalStateException("scheduler chose " + c + " of " + options.length);
    return c;
  }

  /** The seeded draw of a start-order choice point: which of {@code n} steps not started yet starts next. */
  int choose(int n) { return sim.random().nextInt(n); }

  /** The seeded draw of a start-gap choice point: the model time before the next start of a concurrent block. */
  long gapNanos() { return sim.random().nextLong(CONCURRENT_GAP_MAX_NANOS + 1); }

  @Override
  public long clockNanos() { return (long) (sim.nowNanos() * timeScale); }

  @Override
  public Duration nodeWait() {
    return scenario.stepTimeout().compareTo(ScenarioCluster.NODE_WAIT) > 0 ? scenario.stepTimeout() : ScenarioCluster.NODE_WAIT;
  }

  /** {@link Sim#call} bounded by {@link #CALL_BOUND_NANOS} of model time; null when no reply came. */
  private HmmProtocol.Msg call(int node, HmmProtocol.Msg msg) {
    return sim.call(simIndex(node), msg, CALL_BOUND_NANOS);
  }

  @Override
  public HmmProtocol.Msg setupCall(int node, HmmProtocol.Msg msg, int line, String what) {
    HmmProtocol.Msg r = call(node, msg);
    if (r == null) {
      throw new ScenarioCluster.SetupFailure(scenario.file() + ":" + line + ": set-up: " + what + " got no reply within "
          + CALL_BOUND_NANOS / 1_000_000 + " ms of model time");
    }
    return r;
  }

  // ------------------------------------------------------------------------------------------------ devices

  @Override
  public int deviceId(Scenario.Device d) { return Ids.deviceId(simIndex(d.node()), d.index()); }

  @Override
  public int currentDeviceId(int scenarioDeviceId) {
    return scenarioDeviceId < 0 ? scenarioDeviceId
        : Ids.deviceId(simIndex(Ids.nodeOfDevice(scenarioDeviceId)), Ids.indexOnNode(scenarioDeviceId));
  }

  @Override
  public void bound(Scenario.Device d, int mm) { boundMms.computeIfAbsent(d.name(), k -> new LinkedHashSet<>()).add(mm); }

  // ------------------------------------------------------------------------------------------------ link

  private static long key(int from, int to) { return ((long) from << 32) | (to & 0xffffffffL); }

  /** Order gates (as GateLink's): per direction, the counts per type and device, the permits, what is held. */
  private final Map<Long, OrderGate> orderGates = new HashMap<>();

  private record OrderGate(Map<String, Integer> sent, Set<String> permits, List<Object[]> held) {}

  @Override
  public void order(int fromNode, int toNode) {
    orderGates.putIfAbsent(key(fromNode, toNode), new OrderGate(new HashMap<>(), new java.util.HashSet<>(),
        new ArrayList<>()));
  }

  @Override
  public void permit(int fromNode, int toNode, String message, int deviceId, int ordinal) {
    OrderGate o = orderGates.get(key(fromNode, toNode));
    if (o == null) return;
    o.permits().add(message + " " + deviceId + " " + ordinal);
    drain(o);
  }

  /** Sends every held message with its permit and no held predecessor in its lane (lanes off: the direction). */
  private void drain(OrderGate o) {
    Set<Long> blocked = new java.util.HashSet<>();
    for (java.util.Iterator<Object[]> it = o.held().iterator(); it.hasNext(); ) {
      Object[] h = it.next();
      Held held = (Held) h[0];
      long lane = scenario.lanes() ? hmmemu.node.link.Lanes.of(held.msg()) : 0;
      if (!blocked.contains(lane) && o.permits().contains((String) h[1])) {
        it.remove();
        if (onSend(held.from(), held.to(), held.msg(), held.vc(), false)) {
          sim.resend(held.from(), held.to(), held.msg(), held.vc());
        }
      } else {
        blocked.add(lane);
      }
    }
  }

  /** The tap on every message a node hands to the link: the order gates, the pause gates (as GateLink), the observer. */
  private boolean onSend(int from, int to, HmmProtocol.Msg msg, long[] vc) { return onSend(from, to, msg, vc, true); }

  private boolean onSend(int from, int to, HmmProtocol.Msg msg, long[] vc, boolean ordered) {
    OrderGate o = !ordered || orderGates.isEmpty() ? null : orderGates.get(key(scenarioNode(from), scenarioNode(to)));
    if (o != null) {
      String k = msg.getClass().getSimpleName() + " " + StepExecutor.deviceOf(msg);
      o.held().add(new Object[] {new Held(from, to, msg, vc), k + " " + (o.sent().merge(k, 1, Integer::sum) - 1)});
      drain(o);
      return false;
    }
    Gate g = gates.isEmpty() ? null : gates.get(key(scenarioNode(from), scenarioNode(to)));
    if (g != null) {
      if (!g.held().isEmpty()) {
        if (g.lane()[0] == 0 || hmmemu.node.link.Lanes.of(msg) == g.lane()[0]) {
          g.held().add(new Held(from, to, msg, vc));
          return false;
        }
        // another kernel thread's lane passes the closed gate (docs/PROTOCOL.md §5.8)
      } else if (g.trigger().test(msg)) {
        g.lane()[0] = scenario.lanes() ? hmmemu.node.link.Lanes.of(msg) : 0;
        g.held().add(new Held(from, to, msg, vc));
        g.closed().complete(msg);
        return false;
      }
    }
    observer.observe(msg);
    return true;
  }

  private int scenarioNode(int simIndex) { return simIndex == 0 ? 0 : scenarioNodeOf.getOrDefault(simIndex, simIndex); }

  @Override
  public CompletableFuture<HmmProtocol.Msg> holdWhen(int fromNode, int toNode, Predicate<HmmProtocol.Msg> trigger) {
    Gate g = new Gate(trigger, new ArrayDeque<>(), new CompletableFuture<>(), new long[1]);
    Gate old = gates.put(key(fromNode, toNode), g);
    if (old != null && !old.held().isEmpty()) throw new IllegalStateException("a closed gate is still holding messages");
    return g.closed();
  }

  @Override
  public void release(int fromNode, int toNode) {
    OrderGate o = orderGates.remove(key(fromNode, toNode));
    if (o != null) {
      for (Object[] h : o.held()) {
        Held held = (Held) h[0];
        if (onSend(held.from(), held.to(), held.msg(), held.vc(), false)) {
          sim.resend(held.from(), held.to(), held.msg(), held.vc());
        }
      }
      return;
    }
    Gate g = gates.remove(key(fromNode, toNode));
    if (g == null) return;
    for (Held h : g.held()) {
      observer.observe(h.msg());
      sim.resend(h.from(), h.to(), h.msg(), h.vc());
    }
    g.held().clear();
  }

  /** A {@link #whenDelivered} watcher (from -1: the controller's requests). */
  private record DeliveryWatch(int from, int to, Predicate<HmmProtocol.Msg> trigger, CompletableFuture<HmmProtocol.Msg> done) {}

  @Override
  public CompletableFuture<HmmProtocol.Msg> whenDelivered(int fromNode, int toNode, Predicate<HmmProtocol.Msg> trigger) {
    DeliveryWatch w = new DeliveryWatch(fromNode, toNode, trigger, new CompletableFuture<>());
    deliveryWatches.add(w);
    return w.done();
  }

  /**
   * A core stepped on a link message or a controller request: the watchers of its direction (scenario nodes; -1:
   * the controller) are offered it.
   */
  private void onDelivered(int node, HmmProtocol.Msg msg, boolean fromController) {
    if (deliveryWatches.isEmpty()) return;
    int to = scenarioNode(node);
    int from = fromController ? -1 : to != 0 ? 0 : scenarioNode(Ids.nodeOfDevice(StepExecutor.deviceOf(msg)));
    for (DeliveryWatch w : List.copyOf(deliveryWatches)) {
      if (w.from() != from || w.to() != to || !w.trigger().test(msg)) continue;
      deliveryWatches.remove(w);
      w.done().complete(msg);
    }
  }

  @Override
  public InvalidateObserver observer() { return observer; }

  // ------------------------------------------------------------------------------------------------ crash, restart

  private CompletableFuture<Integer> nth(Map<Integer, List<CompletableFuture<Integer>>> all, int node, int n) {
    List<CompletableFuture<Integer>> l = all.computeIfAbsent(node, k -> new ArrayList<>());
    while (l.size() < n) l.add(new CompletableFuture<>());
    return l.get(n - 1);
  }

  /**
   * Crashes scenario GPU node {@code node}: what its pause points hold is dropped (a pause stops the sender), the
   * simulator stops its core and tells the CPU core at once ({@link Sim#crashGpuNode}: CpuMm.nodeGone), and the
   * steps waiting on its devices end with ENODEV.
   */
  @Override
  public void crashNode(int node) {
    if (!crashedNodes.add(node)) throw new IllegalStateException("gpu" + node + " is already crashed");
    int n = crashCount.merge(node, 1, Integer::sum);
    int k = simIndex(node);
    gates.remove(key(node, 0));
    gates.remove(key(0, node));
    sim.crashGpuNode(k, "crash step of " + scenario.file());
    if (sim.checker().goneNodes().contains(k)) nth(goneFutures, node, n).complete(k);
    onCrash.accept(node);
  }

  @Override
  public void restartNode(int node, Duration bound) {
    CompletableFuture<Integer> done = beginRestart(node);
    int k = simIndex(node);
    for (Scenario.Device d : scenario.devices()) {
      if (d.node() != node) continue;
      for (int mm : boundMms.getOrDefault(d.name(), new LinkedHashSet<>())) {
        HmmProtocol.Msg r = call(node, new HmmProtocol.BindMm(nextReqId(), deviceId(d), mm, d.driver()));
        if (!(r instanceof HmmProtocol.MmBound)) {
          IllegalStateException e = new IllegalStateException("rebinding " + d.name() + " to mm " + mm
              + " after the restart failed: " + r);
          done.completeExceptionally(e);
          throw e;
        }
      }
    }
    done.complete(k);
  }

  /**
   * The bookkeeping of a restart of scenario GPU node {@code node} (a new node index, as on the cluster): returns the
   * future of {@link #restarted} that completes once its devices are bound again.
   */
  private CompletableFuture<Integer> beginRestart(int node) {
    if (!crashedNodes.contains(node)) throw new IllegalStateException("gpu" + node + " is not crashed");
    int n = restartCount.merge(node, 1, Integer::sum);
    CompletableFuture<Integer> done = nth(restartFutures, node, n);
    int k = sim.restartGpuNodeAsNewMember(simIndex(node));
    scenarioNodeOf.put(k, node);
    incarnation.put(node, k);
    crashedNodes.remove(node);
    return done;
  }

  /**
   * A restart line of the faults block (inside an agenda event, so it cannot run the event loop as
   * {@link #restartNode} does): the same bookkeeping, and the devices' BindMm requests are sent; the restart
   * completes (await-restarted) when every one was answered MmBound, as ScenarioCluster's restart completes after
   * its binds.
   */
  private void restartFromSchedule(int node) {
    CompletableFuture<Integer> done = beginRestart(node);
    int k = simIndex(node);
    List<HmmProtocol.BindMm> binds = new ArrayList<>();
    for (Scenario.Device d : scenario.devices()) {
      if (d.node() != node) continue;
      for (int mm : boundMms.getOrDefault(d.name(), new LinkedHashSet<>())) {
        binds.add(new HmmProtocol.BindMm(nextReqId(), deviceId(d), mm, d.driver()));
      }
    }
    int[] left = {binds.size()};
    if (left[0] == 0) done.complete(k);
    for (HmmProtocol.BindMm b : binds) {
      sim.ask(k, b, r -> {
        if (!(r instanceof HmmProtocol.MmBound)) {
          done.completeExceptionally(new IllegalStateException("rebinding device " + b.deviceId() + " to mm "
              + b.mmId() + " after the restart failed: " + r));
        } else if (--left[0] == 0) {
          done.complete(k);
        }
      });
    }
  }

  /**
   * What the faults block's crash and restart lines do here: the same bookkeeping as the crash and restart steps
   * (ScenarioCluster hands the same two to the cluster's schedule runner).
   */
  hmmemu.node.link.FaultSchedule.Callbacks faultCallbacks() {
    return new hmmemu.node.link.FaultSchedule.Callbacks() {
      @Override public void crash(int node) { crashNode(node); }
      @Override public void restart(int node) { restartFromSchedule(node); }
    };
  }

  @Override
  public boolean crashed(int node) { return crashedNodes.contains(node); }

  @Override
  public int crashes(int node) { return crashCount.getOrDefault(node, 0); }

  @Override
  public CompletableFuture<Integer> gone(int node, int n) { return nth(goneFutures, node, n); }

  @Override
  public CompletableFuture<Integer> restarted(int node, int n) { return nth(restartFutures, node, n); }

  // ------------------------------------------------------------------------------------------------ introspection

  @Override
  public void barrier() {
    Scenario.Vma first = scenario.vmas().isEmpty() ? null : scenario.vmas().get(0);
    inspectPage(first == null ? 1 : first.mm(), first == null ? 0 : first.start());
    Map<Integer, Scenario.Device> perNode = new TreeMap<>();
    for (Scenario.Device d : scenario.devices()) perNode.putIfAbsent(d.node(), d);
    for (Scenario.Device d : perNode.values()) if (!crashedNodes.contains(d.node())) inspectDevice(d);
  }

  private HmmProtocol.Msg inspect(int node, HmmProtocol.Msg msg) {
    HmmProtocol.Msg m = call(node, msg);
    if (m == null) {
      throw new IllegalStateException("no answer to " + msg.getClass().getSimpleName() + " within "
          + CALL_BOUND_NANOS / 1_000_000 + " ms of model time");
    }
    return m;
  }

  @Override
  public HmmProtocol.PageInfo inspectPage(int mm, long va) {
    HmmProtocol.Msg m = inspect(0, new HmmProtocol.InspectPage(nextReqId(), mm, va));
    if (!(m instanceof HmmProtocol.PageInfo)) throw new IllegalStateException("InspectPage answered " + m);
    return (HmmProtocol.PageInfo) m;
  }

  @Override
  public HmmProtocol.PageInfo inspectFolio(long pfn) {
    HmmProtocol.Msg m = inspect(0, new HmmProtocol.InspectFolio(nextReqId(), pfn));
    if (!(m instanceof HmmProtocol.PageInfo)) throw new IllegalStateException("InspectFolio answered " + m);
    return (HmmProtocol.PageInfo) m;
  }

  @Override
  public HmmProtocol.NotifierInfo inspectNotifier(Scenario.Device d, int mm) {
    HmmProtocol.Msg m = inspect(0, new HmmProtocol.InspectNotifier(nextReqId(), deviceId(d), mm));
    if (!(m instanceof HmmProtocol.NotifierInfo)) throw new IllegalStateException("InspectNotifier answered " + m);
    return (HmmProtocol.NotifierInfo) m;
  }

  @Override
  public HmmProtocol.DeviceInfo inspectDevice(Scenario.Device d) {
    HmmProtocol.Msg m = inspect(d.node(), new HmmProtocol.InspectDevice(nextReqId(), deviceId(d)));
    if (!(m instanceof HmmProtocol.DeviceInfo)) throw new IllegalStateException("InspectDevice answered " + m);
    return (HmmProtocol.DeviceInfo) m;
  }

  /** The checker judges each event as it is made: it is always caught up unless causal delivery holds one back. */
  @Override
  public CheckerView checker() {
    boolean caughtUp = sim.checker().caughtUp(sim.eventCounts());
    List<String> v = violations(caughtUp);
    Map<String, Long> counts = new HashMap<>(sim.checker().eventCounts());
    counts.putAll(sim.checker().fieldCounts());
    return new CheckerView(caughtUp, sim.checker().pending(), v, Map.copyOf(counts));
  }

  /**
   * {@link #checker()}'s violations alone (the end of a run's verdict reads no more): its counts by event and field,
   * two maps copied per run, are not built.
   */
  List<String> violations() { return violations(sim.checker().caughtUp(sim.eventCounts())); }

  /** The checker's violations' summaries, and a CHECKER-BEHIND line last unless {@code caughtUp}. */
  private List<String> violations(boolean caughtUp) {
    List<String> v = new ArrayList<>();
    for (Violation viol : sim.checker().violations()) v.add(viol.summary());
    if (!caughtUp) {
      v.add("CHECKER-BEHIND the checker had not delivered every event (" + sim.checker().pending() + " pending)");
    }
    return v;
  }
}
