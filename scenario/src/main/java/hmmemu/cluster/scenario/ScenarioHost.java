package hmmemu.cluster.scenario;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.msg.HmmProtocol;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * What the {@link StepExecutor} needs from whatever hosts the cores: the embedded Pekko cluster ({@link
 * ScenarioCluster}, wall time) or the deterministic simulator ({@link SimHost}, model time, one seed). One executor
 * drives both, so a scenario file means the same on each. Nodes are the scenario's numbers (0 the CPU node, K the
 * scenario's gpuK, whichever incarnation is current); devices are the scenario's declarations.
 *
 * <p>Waiting is the host's: {@link #await} is a bounded wall-time wait on the cluster; in the simulator it runs the
 * event loop until the future is done, nothing can happen any more (a deadlock), nothing makes progress over a span
 * of model time (a livelock) or the bound, converted to model time, passed.
 */
interface ScenarioHost {

  /** How a bounded wait ended. */
  enum Ending {
    /** The future completed. */
    DONE,
    /** The bound passed (the cluster: wall time; the simulator: model time while requests still got answers). */
    TIMEOUT,
    /** The simulator: no event was enabled any more while the future was pending. */
    DEADLOCK,
    /**
     * The simulator: events kept firing, but no controller request was answered over the livelock span; both hosts:
     * a device's driver fault loop kept failing over the file's {@code liveness { livelock-span }} (BusyLoopWatch).
     */
    LIVELOCK
  }

  /**
   * The end of a bounded wait. {@code kind} is the verdict word of a failure line ("deadlock" for every
   * non-completion on the cluster, which cannot tell them apart, except the busy-loop "livelock" both hosts judge;
   * "deadlock", "livelock" or "timeout" in the
   * simulator), {@code within} completes "did not complete ..." ("within 3000 ms"), {@code why} names the loop
   * of a livelock (empty otherwise).
   */
  record Waited(Ending ending, String kind, String within, String why) {
    static final Waited DONE = new Waited(Ending.DONE, "", "", "");

    boolean done() { return ending == Ending.DONE; }
  }

  /** The checker's verdict as expectations see it: violation summaries, whether it caught up, counts per type. */
  record CheckerView(boolean caughtUp, int pending, List<String> violations, Map<String, Long> eventCounts) {}

  // ------------------------------------------------------------------------------------------------ requests

  /** A fresh controller reqId. */
  long nextReqId();

  /** Sends a controller request to scenario node {@code node} (0: the CPU node); completes with its reply. */
  CompletableFuture<HmmProtocol.Msg> ask(int node, HmmProtocol.Msg msg);

  /** Waits (bounded by {@code limit}, in the scenario's time: step-timeout, wait) until {@code f} is done. */
  Waited await(CompletableFuture<?> f, Duration limit);

  /**
   * An async step just sent its first request. The cluster goes on at once (the ask is on its way and arrives while
   * the controller's thread prepares the next step); the simulator lets model time pass until that request has
   * reached its node, so that the next step (a {@code resume}, say) cannot overtake it: steps happen in file order.
   */
  default void asyncStarted() {}

  /**
   * Starts the steps of a concurrent block (docs/SCENARIOS.md "Concurrent blocks"; each start sends a step's first
   * request and returns): no order is fixed. The cluster starts them together from one thread each, so the order
   * is whatever its threads and links do; the simulator draws the start order and the model time between the
   * starts from the run's seed, so a seed replays one interleaving and different seeds explore others. Returns once
   * every start has run (the simulator: once the last one's first request has reached its node, as
   * {@link #asyncStarted}).
   */
  void startConcurrently(List<Runnable> starts);

  /** The host's clock in the units of the scenario's bounds (nanoseconds; the simulator: model time x time-scale). */
  long clockNanos();

  /** The default bound of crash-related waits (await-gone, restart, await-restarted). */
  Duration nodeWait();

  // ------------------------------------------------------------------------------------------------ devices

  /** A device's id in its node's current incarnation. */
  int deviceId(Scenario.Device d);

  /** The current id of the device the scenario numbers {@code scenarioDeviceId}. */
  int currentDeviceId(int scenarioDeviceId);

  /** Records that device {@code d}'s driver is bound to {@code mm} (rebound after a restart). */
  void bound(Scenario.Device d, int mm);

  /**
   * Completes once {@code micros} of model time passed (a kernel thread's folio lock held {@code for}): the cluster
   * schedules it on the control ActorSystem's scheduler {@code micros x time-scale} of wall time ahead; the simulator
   * at virtual time now + micros.
   */
  CompletableFuture<Void> afterModelTime(long micros);

  /** Model time now, in µs (the cluster: its scaled wall clock; the simulator: virtual time). */
  long nowMicros();

  /** The mmap syscall of a declared VMA. */
  default HmmProtocol.Syscall mmap(Scenario.Vma v) {
    return new HmmProtocol.Syscall(nextReqId(), v.mm(), HmmProtocol.SyscallKind.MMAP, v.start(),
        (long) v.pages() * hmmemu.protocol.model.Page.SIZE, v.prot(), v.kind(), 0);
  }

  // ------------------------------------------------------------------------------------------------ link

  /** Arms a pause point on scenario direction from -> to (see {@link hmmemu.node.link.GateLink#holdWhen}). */
  CompletableFuture<HmmProtocol.Msg> holdWhen(int fromNode, int toNode, Predicate<HmmProtocol.Msg> trigger);

  /**
   * Arms pause point {@code p}, whose trigger (message type, device, event, kind, skip) is {@code trigger}; a host
   * whose link stages are in other JVMs sends {@code p} itself to the sending node instead.
   */
  default CompletableFuture<HmmProtocol.Msg> pausePoint(Scenario.PauseOp p, Predicate<HmmProtocol.Msg> trigger) {
    return holdWhen(p.fromNode(), p.toNode(), trigger);
  }

  /** Opens the pause point (or order gate) on from -> to and delivers what it held, in order. */
  void release(int fromNode, int toNode);

  /**
   * Arms an order gate on scenario direction from -> to ({@link hmmemu.node.link.GateLink#order}): from now on every
   * message waits for its {@link #permit}; {@link #release} opens it.
   */
  void order(int fromNode, int toNode);

  /**
   * Lets the {@code ordinal}-th (from 0, since the order gate was armed) message of type {@code message} concerning
   * device {@code deviceId} (its current id) on from -> to through its order gate.
   */
  void permit(int fromNode, int toNode, String message, int deviceId, int ordinal);

  /**
   * A host whose nodes run in other JVMs asks node {@code toNode} to report its deliveries of {@code message} from
   * {@code fromNode} (-1: the controller), for {@link #whenDelivered}; the others see every delivery anyway.
   */
  default void reportDeliveries(int fromNode, int toNode, String message) {}

  /**
   * Where an order's permits are sent from once their predecessor was delivered: at once on the thread that heard the
   * delivery (the simulator, the embedded cluster), or, across JVMs, on one thread of their own, so that the thread
   * that hears the nodes' reports never blocks on a permit's round trip.
   */
  default java.util.concurrent.Executor permits() { return Runnable::run; }

  /**
   * Completes with the first message on scenario direction from -> to (from -1: the controller's requests to node
   * to) that {@code trigger} accepts once the receiving node's core has stepped on it (delivered, not only sent): a
   * pause point's {@code until}. Only messages
   * delivered from now on are offered. The cluster hears it from the node's shell ({@link
   * hmmemu.node.link.Link#delivered}), the simulator from its event loop ({@link hmmemu.sim.Sim#onDelivered}).
   */
  CompletableFuture<HmmProtocol.Msg> whenDelivered(int fromNode, int toNode, Predicate<HmmProtocol.Msg> trigger);

  /**
   * {@link #whenDelivered} for the {@code until} {@code u} (its direction, with {@code trigger} its trigger); a host
   * whose nodes run in other JVMs also asks the receiving node to report deliveries of {@code u}'s message type.
   */
  default CompletableFuture<HmmProtocol.Msg> whenDelivered(Scenario.PauseOp u, Predicate<HmmProtocol.Msg> trigger) {
    return whenDelivered(u.fromNode(), u.toNode(), trigger);
  }

  /** The invalidate callbacks and hmm_range_fault answers seen on the link. */
  InvalidateObserver observer();

  // ------------------------------------------------------------------------------------------------ crash, restart

  void crashNode(int node);

  void restartNode(int node, Duration bound);

  boolean crashed(int node);

  int crashes(int node);

  CompletableFuture<Integer> gone(int node, int n);

  CompletableFuture<Integer> restarted(int node, int n);

  // ------------------------------------------------------------------------------------------------ introspection

  /** One round trip to every live node (afterwards what they sent for earlier requests is on the link). */
  void barrier();

  HmmProtocol.PageInfo inspectPage(int mm, long va);

  HmmProtocol.PageInfo inspectFolio(long pfn);

  HmmProtocol.NotifierInfo inspectNotifier(Scenario.Device d, int mm);

  HmmProtocol.DeviceInfo inspectDevice(Scenario.Device d);

  /** The invariant checker's verdict (bounded). */
  CheckerView checker();

  // ------------------------------------------------------------------------------------------------ set-up

  /** One set-up request and its reply; a {@link ScenarioCluster.SetupFailure} when none came (bounded). */
  HmmProtocol.Msg setupCall(int node, HmmProtocol.Msg msg, int line, String what);

  /** Binds the devices, maps the VMAs and fills them (docs/SCENARIOS.md §1). */
  default void setUp(Scenario scenario) {
    for (Scenario.Device d : scenario.devices()) {
      for (int mm : d.bind()) {
        HmmProtocol.Msg r = setupCall(d.node(), new HmmProtocol.BindMm(nextReqId(), deviceId(d), mm, d.driver()),
            d.line(), "bind " + d.name() + " to mm " + mm);
        if (!(r instanceof HmmProtocol.MmBound)) throw setupError(scenario, d.line(), "bind " + d.name() + " to mm " + mm, r);
        bound(d, mm);
      }
    }
    for (Scenario.Vma v : scenario.vmas()) {
      if (!v.mapped()) continue;
      HmmProtocol.Msg r = setupCall(0, mmap(v), v.line(), "mmap " + v.name());
      if (!(r instanceof HmmProtocol.SyscallDone) || ((HmmProtocol.SyscallDone) r).errno() != Errno.OK) {
        throw setupError(scenario, v.line(), "mmap " + v.describe(), r);
      }
      if (v.thpOrder() != 0) { // vmas { thp = true }: madvise(MADV_HUGEPAGE) before the fill's first touch
        HmmProtocol.Msg h = setupCall(0, new HmmProtocol.Syscall(nextReqId(), v.mm(),
            HmmProtocol.SyscallKind.MADV_HUGEPAGE, v.start(), (long) v.pages() * hmmemu.protocol.model.Page.SIZE,
            v.thpOrder(), v.kind(), 0), v.line(), "madvise(MADV_HUGEPAGE) " + v.name());
        if (!(h instanceof HmmProtocol.SyscallDone) || ((HmmProtocol.SyscallDone) h).errno() != Errno.OK) {
          throw setupError(scenario, v.line(), "madvise(MADV_HUGEPAGE) " + v.describe(), h);
        }
      }
      Scenario.Fill f = v.fill();
      if (!f.populate()) continue;
      for (int p = 0; p < v.pages(); p++) {
        for (int w = f.firstWord(); w <= f.lastWord(); w++) {
          long va = v.start() + (long) p * hmmemu.protocol.model.Page.SIZE + (long) w * Long.BYTES;
          HmmProtocol.Msg a = setupCall(0, new HmmProtocol.CpuAccess(nextReqId(), 0, v.mm(), va,
              Access.WRITE, f.pattern().at(p, w)), v.line(), "fill " + v.name());
          if (!(a instanceof HmmProtocol.CpuAccessDone) || ((HmmProtocol.CpuAccessDone) a).errno() != Errno.OK) {
            throw setupError(scenario, v.line(), "fill " + v.name() + "+" + p + ":word" + w, a);
          }
        }
      }
    }
  }

  private static ScenarioCluster.SetupFailure setupError(Scenario scenario, int line, String what, HmmProtocol.Msg reply) {
    return new ScenarioCluster.SetupFailure(scenario.file() + ":" + line + ": set-up: " + what + " failed: " + reply);
  }
}
