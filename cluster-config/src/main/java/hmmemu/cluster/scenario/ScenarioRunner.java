package hmmemu.cluster.scenario;

import com.typesafe.config.Config;
import hmmemu.cluster.ControlClient;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.cluster.check.CheckerActor;
import hmmemu.node.link.GateLink;
import hmmemu.node.link.Link;
import hmmemu.node.link.FaultSchedule;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import hmmemu.node.ModelClock;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Msgs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Runs one validated {@link Scenario} on a fresh embedded cluster: binds the devices, maps and fills the VMAs, then
 * carries out the steps in order (async steps run concurrently until awaited; pause points hold a link direction
 * through a {@link GateLink}) and checks each step's expectations right after it. Every wait is bounded: a step that
 * does not complete in time is reported as a deadlock naming what is pending, never a hang.
 */
public final class ScenarioRunner {
  /** How a runner builds clusters: the base config, the ActorSystem factory, the time scale. */
  public record Options(Config base, EmbeddedCluster.SystemFactory factory, Duration clusterUpTimeout,
      double timeScale) {
    public static Options plain(Config base) {
      return new Options(base, EmbeddedCluster.SystemFactory.PLAIN, Duration.ofSeconds(30), 1.0);
    }
  }

  /** The asks' own timeout is long: the runner bounds every wait itself and names what it waited for. */
  private static final Duration ASK_TIMEOUT = Duration.ofMinutes(10);
  /** The bound on one introspection (InspectPage, InspectDevice) or set-up request. */
  private static final long INSPECT_MILLIS = 10_000;

  private final Scenario scenario;
  private final Options options;
  private final List<String> failures = new ArrayList<>();
  private final Map<String, StepRun> runs = new LinkedHashMap<>();
  private final Map<String, PausePoint> pauses = new HashMap<>();
  private final List<StepRun> stuck = new ArrayList<>();
  private final AtomicInteger totalCpuFaults = new AtomicInteger();
  private final Map<String, Long> pfnNames = new HashMap<>();
  private GateLink gate;
  private ObservingLink observer;
  private EmbeddedCluster cluster;
  private ControlClient client;
  /** The modelled link (hmm-emu.link) when the scenario has a faults block; null otherwise (direct). */
  private ModeledLink modeled;
  private java.util.concurrent.ScheduledExecutorService faultExecutor;
  private FaultSchedule.Running faultsRunning;

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
  /** Steps started and not completed (sync and async), so that a crash can end those of its devices. */
  private final java.util.Set<StepRun> active = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** A step in flight: its future, and what it is doing right now (for deadlock reports). */
  private static final class StepRun {
    final Scenario.Step step;
    final CompletableFuture<Outcome> future;
    volatile String current = "";

    StepRun(Scenario.Step step, CompletableFuture<Outcome> future) {
      this.step = step;
      this.future = future;
    }
  }

  private record PausePoint(Scenario.PauseOp op, CompletableFuture<HmmProtocol.Msg> caught) {}

  private ScenarioRunner(Scenario scenario, Options options) {
    this.scenario = scenario;
    this.options = options;
  }

  /** Runs the scenario on a fresh cluster and returns its verdict; never throws for a failing or stuck scenario. */
  public static CaseResult run(Scenario scenario, Options options) {
    return new ScenarioRunner(scenario, options).run();
  }

  private CaseResult run() {
    long started = System.nanoTime();
    try {
      start();
      setUp();
      startFaults();
      for (Scenario.Step step : scenario.steps()) runStep(step);
      finishFaults();
      finish();
    } catch (SetupFailure e) {
      failures.add(e.getMessage());
    } catch (RuntimeException e) {
      failures.add(scenario.file() + ":1: the run failed: " + e);
    } finally {
      if (gate != null) {
        for (PausePoint p : pauses.values()) gate.release(p.op().fromNode(), p.op().toNode());
      }
      if (faultsRunning != null) faultsRunning.cancel();
      if (faultExecutor != null) faultExecutor.shutdownNow();
      if (modeled != null) modeled.clearFaults();
      if (cluster != null) cluster.close();
      if (modeled != null) modeled.close();
    }
    return new CaseResult(scenario.file(), scenario.name(), failures.isEmpty(), failures,
        (System.nanoTime() - started) / 1_000_000);
  }

  private static final class SetupFailure extends RuntimeException {
    SetupFailure(String message) { super(message); }
  }

  // ------------------------------------------------------------------------------------------------ set-up

  private void start() {
    List<long[]> ranges = new ArrayList<>();
    for (Scenario.Vma v : scenario.vmas()) ranges.add(new long[] {v.start(), v.end()});
    Link wire = Link.DIRECT;
    if (!scenario.faults().entries().isEmpty()) {
      try {
        modeled = new ModeledLink(LinkSettings.fromConfig(options.base()), 1, scenario.timeScaleOr(options.timeScale()),
            Link.DIRECT);
      } catch (IllegalArgumentException e) {
        throw new SetupFailure(scenario.file() + ":1: hmm-emu.link: " + e.getMessage());
      }
      wire = modeled;
    }
    observer = new ObservingLink(wire, ranges);
    gate = new GateLink(observer);
    Map<Integer, Integer> perNode = devicesPerNode;
    for (Scenario.Device d : scenario.devices()) perNode.merge(d.node(), d.index() + 1, Math::max);
    for (int k = 1; k <= scenario.gpuNodes(); k++) scenarioNodeOf.put(k, k);
    Config base = scenario.crashes() ? EmbeddedCluster.crashable(options.base()) : options.base();
    try {
      cluster = EmbeddedCluster.start(base, scenario.gpuNodes(), perNode, scenario.switches(),
          ModelClock.scaledWall(scenario.timeScaleOr(options.timeScale())), new IncarnationLink(gate),
          options.clusterUpTimeout(), options.factory());
    } catch (RuntimeException e) {
      throw new SetupFailure(scenario.file() + ":1: the cluster did not start: " + e.getMessage());
    }
    client = new ControlClient(cluster.controlSystem(), ASK_TIMEOUT);
  }

  /** Starts the scenario's fault schedule (instants count from here: after set-up, before the first step). */
  private void startFaults() {
    if (modeled == null) return;
    faultExecutor = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "hmm-faults");
      t.setDaemon(true);
      return t;
    });
    Duration restartBound = scenario.stepTimeout().compareTo(NODE_WAIT) > 0 ? scenario.stepTimeout() : NODE_WAIT;
    faultsRunning = scenario.faults().start(modeled, faultExecutor, new FaultSchedule.Callbacks() {
      @Override public void crash(int node) { crashNode(node); }
      @Override public void restart(int node) { restartNode(node, restartBound); }
      @Override public void pause(int node) { if (node > 0) cluster.pauseGpu(clusterNode(node)); }
      @Override public void resume(int node) { if (node > 0) cluster.resumeGpu(clusterNode(node)); }
    });
  }

  /** The cluster node index of scenario GPU node {@code node}'s current incarnation. */
  private int clusterNode(int node) { return node == 0 ? 0 : incarnation.getOrDefault(node, node); }

  /** A device's id in its node's current incarnation (node * 16 + index). */
  private int deviceId(Scenario.Device d) { return clusterNode(d.node()) * 16 + d.index(); }

  /** The current id of the device the scenario numbers {@code scenarioDeviceId}. */
  private int currentDeviceId(int scenarioDeviceId) {
    return scenarioDeviceId < 0 ? scenarioDeviceId : clusterNode(scenarioDeviceId >> 4) * 16 + (scenarioDeviceId & 15);
  }

  private synchronized CompletableFuture<Integer> nth(Map<Integer, List<CompletableFuture<Integer>>> all, int node,
      int n) {
    List<CompletableFuture<Integer>> l = all.computeIfAbsent(node, k -> new ArrayList<>());
    while (l.size() < n) l.add(new CompletableFuture<>());
    return l.get(n - 1);
  }

  /**
   * Crashes scenario GPU node {@code node}: its ActorSystem is terminated abruptly (EmbeddedCluster.crashGpu), then
   * what its pause points hold is dropped (the node had not sent it: a pause stops the sender), steps waiting on its devices end with ENODEV
   * (no answer can come), and the checker is asked to say when the CPU node declares it gone.
   */
  private void crashNode(int node) {
    int k = clusterNode(node);
    int n;
    synchronized (this) {
      if (!crashedNodes.add(node)) throw new IllegalStateException("gpu" + node + " is already crashed");
      n = crashCount.merge(node, 1, Integer::sum);
    }
    // Terminate first: until then the node's data link layer keeps replaying what a pause point holds.
    cluster.crashGpu(k, Duration.ofSeconds(30));
    gate.drop(node, 0);
    gate.drop(0, node);
    CompletableFuture<Integer> gone = nth(goneFutures, node, n);
    AskPattern.<Object, Integer>ask(cluster.checker(), replyTo -> new CheckerActor.WhenNodeGone(k, replyTo),
        ASK_TIMEOUT, cluster.controlSystem().scheduler()).whenComplete((v, ex) -> {
          if (ex != null) gone.completeExceptionally(ex); else gone.complete(k);
        });
    for (StepRun r : active) {
      Scenario.Device d = deviceOfStep(r.step.action());
      if (d != null && d.node() == node) r.future.complete(Outcome.of(Errno.ENODEV));
    }
  }

  /**
   * Restarts crashed scenario GPU node {@code node} as a new cluster member (a new node index), then binds each of
   * its devices again to the mms it was bound to; the node's name and its devices' names mean the new incarnation
   * from then on.
   */
  private void restartNode(int node, Duration bound) {
    int n;
    synchronized (this) {
      if (!crashedNodes.contains(node)) throw new IllegalStateException("gpu" + node + " is not crashed");
      n = restartCount.merge(node, 1, Integer::sum);
    }
    CompletableFuture<Integer> done = nth(restartFutures, node, n);
    try {
      int expected = cluster.gpuCount() + 1;
      scenarioNodeOf.put(expected, node); // before its first message reaches the link
      int k = cluster.restartGpu(devicesPerNode.getOrDefault(node, 1), bound);
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

  private static Scenario.Device deviceOfStep(Scenario.Action a) {
    if (a instanceof Scenario.WarpOp w) return w.device();
    if (a instanceof Scenario.DmirrorOp d) return d.device();
    if (a instanceof Scenario.BindOp b) return b.device();
    return null;
  }

  /**
   * The scenario's node numbers on the link: nodes send with their cluster index, the pause points, the modelled
   * link's faults and its counters see the scenario's GPU node number of every incarnation.
   */
  private final class IncarnationLink implements Link {
    private final Link next;

    IncarnationLink(Link next) { this.next = next; }

    private int named(int clusterIndex) { return scenarioNodeOf.getOrDefault(clusterIndex, clusterIndex); }

    @Override
    public void send(int fromNode, int toNode, ActorRef<hmmemu.protocol.wire.pb.Envelope> to,
        hmmemu.protocol.wire.pb.Envelope envelope) {
      next.send(named(fromNode), named(toNode), to, envelope);
    }

    @Override
    public hmmemu.node.link.LinkReliability reliability() { return next.reliability(); }

    @Override
    public void count(int fromNode, int toNode, hmmemu.node.link.LinkReliability.Event event, long n) {
      next.count(named(fromNode), named(toNode), event, n);
    }

    @Override
    public void lost(int fromNode, int toNode, long seq, String what) {
      next.lost(named(fromNode), named(toNode), seq, what);
    }
  }

  /** After the steps: waits (bounded) for the rest of the schedule, then heals everything so the checks see a quiet link. */
  private void finishFaults() {
    if (modeled == null) return;
    try {
      faultsRunning.done().get(scenario.stepTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      failures.add(scenario.file() + ":1: the fault schedule did not finish within the step timeout after the last step");
    } catch (java.util.concurrent.ExecutionException e) {
      failures.add(scenario.file() + ":1: a fault schedule step failed: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    modeled.clearFaults();
  }

  /** The modelled link's counters (null when the scenario has no faults block). */
  java.util.Map<hmmemu.node.link.Direction, ModeledLink.DirectionStats> linkStats() {
    return modeled == null ? null : modeled.stats();
  }

  private void setUp() {
    for (Scenario.Device d : scenario.devices()) {
      for (int mm : d.bind()) {
        HmmProtocol.Msg r = setupCall(gpuOf(d), new HmmProtocol.BindMm(client.nextReqId(), deviceId(d), mm, d.driver()),
            d.line(), "bind " + d.name() + " to mm " + mm);
        if (!(r instanceof HmmProtocol.MmBound)) throw setupError(d.line(), "bind " + d.name() + " to mm " + mm, r);
        boundMms.computeIfAbsent(d.name(), k -> new java.util.LinkedHashSet<>()).add(mm);
      }
    }
    for (Scenario.Vma v : scenario.vmas()) {
      if (!v.mapped()) continue;
      HmmProtocol.Msg r = setupCall(cluster.cpu(), mmap(v), v.line(), "mmap " + v.name());
      if (!(r instanceof HmmProtocol.SyscallDone) || ((HmmProtocol.SyscallDone) r).errno() != Errno.OK) {
        throw setupError(v.line(), "mmap " + v.describe(), r);
      }
      Scenario.Fill f = v.fill();
      if (!f.populate()) continue;
      for (int p = 0; p < v.pages(); p++) {
        for (int w = f.firstWord(); w <= f.lastWord(); w++) {
          long va = v.start() + (long) p * hmmemu.protocol.model.Page.SIZE + (long) w * Long.BYTES;
          HmmProtocol.Msg a = setupCall(cluster.cpu(), new HmmProtocol.CpuAccess(client.nextReqId(), 0, v.mm(), va,
              Access.WRITE, f.pattern().at(p, w)), v.line(), "fill " + v.name());
          if (!(a instanceof HmmProtocol.CpuAccessDone) || ((HmmProtocol.CpuAccessDone) a).errno() != Errno.OK) {
            throw setupError(v.line(), "fill " + v.name() + "+" + p + ":word" + w, a);
          }
        }
      }
    }
  }

  private HmmProtocol.Syscall mmap(Scenario.Vma v) {
    return new HmmProtocol.Syscall(client.nextReqId(), v.mm(), HmmProtocol.SyscallKind.MMAP, v.start(),
        (long) v.pages() * hmmemu.protocol.model.Page.SIZE, v.prot(), v.kind(), 0);
  }

  private HmmProtocol.Msg setupCall(ActorRef<?> node, HmmProtocol.Msg msg, int line, String what) {
    try {
      return client.ask(node, msg).toCompletableFuture().get(INSPECT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new SetupFailure(scenario.file() + ":" + line + ": set-up: " + what + " got no reply within "
          + INSPECT_MILLIS + " ms (" + e.getClass().getSimpleName() + ")");
    }
  }

  private SetupFailure setupError(int line, String what, HmmProtocol.Msg reply) {
    return new SetupFailure(scenario.file() + ":" + line + ": set-up: " + what + " failed: " + reply);
  }

  private ActorRef<?> gpuOf(Scenario.Device d) { return cluster.gpu(clusterNode(d.node())); }

  // ------------------------------------------------------------------------------------------------ steps

  private void runStep(Scenario.Step step) {
    Scenario.Action a = step.action();
    Duration limit = step.waitLimit() != null ? step.waitLimit() : scenario.stepTimeout();
    Outcome outcome = null;
    boolean deadlocked = false;
    String deadlockReport = "";
    List<String> problems = new ArrayList<>();

    if (a instanceof Scenario.PauseOp) {
      Scenario.PauseOp p = (Scenario.PauseOp) a;
      pauses.put(p.pauseId(), new PausePoint(p, gate.holdWhen(p.fromNode(), p.toNode(), trigger(p))));
    } else if (a instanceof Scenario.ResumeOp) {
      PausePoint p = pauses.get(((Scenario.ResumeOp) a).pauseId());
      gate.release(p.op().fromNode(), p.op().toNode());
    } else if (a instanceof Scenario.AwaitPausedOp) {
      PausePoint p = pauses.get(((Scenario.AwaitPausedOp) a).pauseId());
      try {
        p.caught().get(limit.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        deadlocked = true;
        deadlockReport = "pause point '" + p.op().pauseId() + "' caught no " + p.op().message() + " from "
            + p.op().from() + " to " + p.op().to() + " within " + limit.toMillis() + " ms; " + pendingReport(null);
      } catch (InterruptedException | ExecutionException e) {
        problems.add(line(step.line()) + "await-paused failed: " + e);
      }
    } else if (a instanceof Scenario.AwaitOp) {
      List<String> ids = ((Scenario.AwaitOp) a).stepIds();
      long deadline = System.nanoTime() + limit.toNanos();
      for (String id : ids) {
        StepRun r = runs.get(id);
        try {
          Outcome o = r.future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          if (ids.size() == 1) outcome = o;
        } catch (TimeoutException e) {
          deadlocked = true;
          stuck.add(r);
        } catch (InterruptedException | ExecutionException e) {
          problems.add(line(r.step.line()) + "step " + r.step.index() + " failed: " + cause(e));
        }
      }
      if (deadlocked) deadlockReport = "nothing completed within " + limit.toMillis() + " ms: " + pendingReport(null);
    } else if (a instanceof Scenario.CheckOp) {
      // only expectations
    } else if (a instanceof Scenario.CrashOp c) {
      try {
        crashNode(c.node());
      } catch (RuntimeException e) {
        problems.add(line(step.line()) + "crash gpu" + c.node() + " failed: " + e.getMessage());
      }
    } else if (a instanceof Scenario.RestartOp rs) {
      try {
        restartNode(rs.node(), step.waitLimit() != null ? step.waitLimit() : nodeWait());
      } catch (RuntimeException e) {
        problems.add(line(step.line()) + "restart gpu" + rs.node() + " failed: " + e.getMessage());
      }
    } else if (a instanceof Scenario.AwaitGoneOp || a instanceof Scenario.AwaitRestartedOp) {
      boolean gone = a instanceof Scenario.AwaitGoneOp;
      int node = gone ? ((Scenario.AwaitGoneOp) a).node() : ((Scenario.AwaitRestartedOp) a).node();
      int n = gone ? ((Scenario.AwaitGoneOp) a).nth() : ((Scenario.AwaitRestartedOp) a).nth();
      Duration bound = step.waitLimit() != null ? step.waitLimit() : nodeWait();
      try {
        nth(gone ? goneFutures : restartFutures, node, n).get(bound.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        deadlocked = true;
        deadlockReport = (gone ? "the CPU node did not declare gpu" + node + " gone (crash " + n + ")"
            : "gpu" + node + "'s restart " + n + " did not complete") + " within " + bound.toMillis() + " ms"
            + (gone && crashCount.getOrDefault(node, 0) < n ? " (the crash has not happened yet)" : "") + "; "
            + pendingReport(null);
      } catch (InterruptedException | ExecutionException e) {
        problems.add(line(step.line()) + a.describe() + " failed: " + cause(e));
      }
    } else {
      StepRun r = new StepRun(step, new CompletableFuture<>());
      if (step.id() != null) runs.put(step.id(), r);
      active.add(r);
      r.future.whenComplete((o, ex) -> active.remove(r));
      Scenario.Device on = deviceOfStep(a);
      if (on != null && crashedNodes.contains(on.node())) {
        r.future.complete(Outcome.of(Errno.ENODEV)); // its GPU node is down: nobody can answer
      } else {
        try {
          startAction(r);
        } catch (RuntimeException e) {
          r.future.completeExceptionally(e);
        }
      }
      if (!step.async()) {
        try {
          outcome = r.future.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          deadlocked = true;
          stuck.add(r);
          deadlockReport = "nothing completed within " + limit.toMillis() + " ms: " + pendingReport(r);
        } catch (InterruptedException | ExecutionException e) {
          problems.add(line(step.line()) + "step " + step.index() + " (" + a.describe() + ") failed: " + cause(e));
        }
      }
    }
    failures.addAll(problems);
    boolean expectsDeadlock = false;
    for (Expectation e : step.expect()) if (e instanceof Expectation.Deadlock) expectsDeadlock = true;
    if (deadlocked && !expectsDeadlock) {
      failures.add(line(step.line()) + "expected " + step.label() + " to complete, got a deadlock: " + deadlockReport);
    }
    if (problems.isEmpty()) check(step, outcome, deadlocked, deadlockReport);
  }

  /** The default bound of crash-related waits: the step timeout, at least {@link #NODE_WAIT}. */
  private Duration nodeWait() {
    return scenario.stepTimeout().compareTo(NODE_WAIT) > 0 ? scenario.stepTimeout() : NODE_WAIT;
  }

  private void startAction(StepRun r) {
    Scenario.Action a = r.step.action();
    if (a instanceof Scenario.CpuOp) {
      new CpuLoop(r, (Scenario.CpuOp) a).next();
    } else if (a instanceof Scenario.SyscallOp) {
      Scenario.SyscallOp s = (Scenario.SyscallOp) a;
      HmmProtocol.Syscall msg;
      if (s.kind() == HmmProtocol.SyscallKind.MMAP) {
        msg = mmap(s.vma());
      } else {
        long start = s.at() == null ? 0 : s.at().start();
        long length = s.at() == null ? 0 : s.at().length();
        msg = new HmmProtocol.Syscall(client.nextReqId(), s.mm(), s.kind(), start, length, s.prot(), null, s.childMm());
      }
      r.current = s.describe();
      client.ask(cluster.cpu(), msg).whenComplete((m, ex) -> {
        if (ex != null) {
          r.future.completeExceptionally(ex);
        } else if (m instanceof HmmProtocol.SyscallDone) {
          HmmProtocol.SyscallDone d = (HmmProtocol.SyscallDone) m;
          r.future.complete(new Outcome(d.errno(), d.value(), 0, false, 0, 0, List.of()));
        } else {
          r.future.completeExceptionally(new IllegalStateException("expected SyscallDone, got " + m));
        }
      });
    } else if (a instanceof Scenario.WarpOp) {
      warp(r, (Scenario.WarpOp) a, 1);
    } else if (a instanceof Scenario.DmirrorOp) {
      Scenario.DmirrorOp d = (Scenario.DmirrorOp) a;
      List<Long> data = new ArrayList<>();
      if (d.data() != null) {
        for (int p = d.at().firstPage(); p <= d.at().lastPage(); p++) data.add(d.data().at(p, 0));
      }
      r.current = d.describe();
      client.ask(gpuOf(d.device()), new HmmProtocol.DmirrorCmd(client.nextReqId(), deviceId(d.device()), d.mm(), d.op(),
          d.at().start(), d.at().pages(), data)).whenComplete((m, ex) -> {
            if (ex != null) {
              r.future.completeExceptionally(ex);
            } else if (m instanceof HmmProtocol.DmirrorReply) {
              HmmProtocol.DmirrorReply rep = (HmmProtocol.DmirrorReply) m;
              r.future.complete(new Outcome(rep.errno(), 0, 0, true, rep.faults(), rep.cpages(),
                  rep.data() == null ? List.of() : List.copyOf(rep.data())));
            } else {
              r.future.completeExceptionally(new IllegalStateException("expected DmirrorReply, got " + m));
            }
          });
    } else if (a instanceof Scenario.BindOp) {
      Scenario.BindOp b = (Scenario.BindOp) a;
      r.current = b.describe();
      client.ask(gpuOf(b.device()), new HmmProtocol.BindMm(client.nextReqId(), deviceId(b.device()), b.mm(),
          b.device().driver())).whenComplete((m, ex) -> {
            if (ex != null) {
              r.future.completeExceptionally(ex);
            } else if (m instanceof HmmProtocol.MmBound) {
              boundMms.computeIfAbsent(b.device().name(), k -> new java.util.LinkedHashSet<>()).add(b.mm());
              r.future.complete(Outcome.of(Errno.OK));
            } else {
              r.future.completeExceptionally(new IllegalStateException("expected MmBound, got " + m));
            }
          });
    } else {
      throw new IllegalStateException("not a running action: " + a.describe());
    }
  }

  /** Access {@code n} of a warp step; the next starts when it completed, until repeat or a cancel. */
  private void warp(StepRun r, Scenario.WarpOp w, int n) {
    long va = w.at().wordVa(w.at().firstPage(), w.at().firstWord());
    r.current = w.describe() + (w.repeat() > 1 ? " (access " + n + " of " + w.repeat() + ")" : "");
    client.ask(gpuOf(w.device()), new HmmProtocol.DeviceAccess(client.nextReqId(), deviceId(w.device()), w.mm(), va,
        w.access(), w.value())).whenComplete((m, ex) -> {
          if (ex != null) {
            r.future.completeExceptionally(ex);
          } else if (m instanceof HmmProtocol.DeviceAccessDone) {
            HmmProtocol.DeviceAccessDone d = (HmmProtocol.DeviceAccessDone) m;
            if (d.errno() == Errno.OK && n < w.repeat()) {
              warp(r, w, n + 1);
            } else {
              r.future.complete(new Outcome(d.errno(), d.value(), 0, false, 0, 0, List.of()));
            }
          } else {
            r.future.completeExceptionally(new IllegalStateException("expected DeviceAccessDone, got " + m));
          }
        });
  }

  /**
   * A CPU thread's accesses over a range, one at a time (each waits for the previous reply), in page then word
   * order; it stops at the first access that does not return OK (a SIGSEGV ends the thread's run).
   */
  private final class CpuLoop {
    final StepRun run;
    final Scenario.CpuOp op;
    int page;
    int word;
    int round = 1;
    long faults;
    long lastValue;

    CpuLoop(StepRun run, Scenario.CpuOp op) {
      this.run = run;
      this.op = op;
      this.page = op.at().firstPage();
      this.word = op.at().firstWord();
    }

    void next() {
      if (page > op.at().lastPage()) {
        if (round >= op.repeat()) {
          done(Errno.OK);
          return;
        }
        round++;
        page = op.at().firstPage();
      }
      long va = op.at().wordVa(page, word);
      String where = op.at().name(page, word);
      switch (op.op()) {
        case READ:
          access(va, Access.READ, 0, where, this::advance);
          break;
        case WRITE:
        case FILL:
          access(va, Access.WRITE, op.pattern().at(page, word), where, this::advance);
          break;
        case ATOMIC:
          access(va, Access.ATOMIC, op.value(), where, this::advance);
          break;
        case INCREMENT:
          access(va, Access.READ, 0, where, old -> access(va, Access.WRITE, old + 1, where, stored -> {
            lastValue = old;
            advance(old);
          }));
          break;
        default:
          throw new IllegalStateException("unknown CPU op " + op.op());
      }
    }

    private void advance(long value) {
      lastValue = value;
      if (++word > op.at().lastWord()) {
        word = op.at().firstWord();
        page++;
      }
      next();
    }

    private void access(long va, Access access, long value, String where, java.util.function.LongConsumer then) {
      run.current = op.actor() + " " + access.name().toLowerCase() + " at " + where;
      // A spinning loop stays on the word between its accesses, until its last one (HmmProtocol.CpuAccess.spin).
      boolean spin = op.spin() && round < op.repeat();
      client.ask(cluster.cpu(), new HmmProtocol.CpuAccess(client.nextReqId(), op.thread(), op.mm(), va, access, value,
          spin))
          .whenComplete((m, ex) -> {
            if (ex != null) {
              run.future.completeExceptionally(ex);
              return;
            }
            if (!(m instanceof HmmProtocol.CpuAccessDone)) {
              run.future.completeExceptionally(new IllegalStateException("expected CpuAccessDone, got " + m));
              return;
            }
            HmmProtocol.CpuAccessDone d = (HmmProtocol.CpuAccessDone) m;
            faults += d.faults();
            totalCpuFaults.addAndGet(d.faults());
            if (d.errno() != Errno.OK) {
              lastValue = d.value();
              done(d.errno());
              return;
            }
            try {
              then.accept(d.value());
            } catch (RuntimeException e) {
              run.future.completeExceptionally(e);
            }
          });
    }

    private void done(Errno errno) {
      run.current = "";
      run.future.complete(new Outcome(errno, lastValue, faults, false, 0, 0, List.of()));
    }
  }

  /** The gate trigger of a pause point: message type, device, event, subscription kind, after skip matches. */
  private Predicate<HmmProtocol.Msg> trigger(Scenario.PauseOp p) {
    AtomicInteger seen = new AtomicInteger();
    return m -> {
      if (!m.getClass().getSimpleName().equals(p.message())) return false;
      if (deviceOf(m) != currentDeviceId(p.deviceId())) return false;
      if (p.event() != null) {
        NotifyEvent e = null;
        if (m instanceof HmmProtocol.InvalidateStart) e = ((HmmProtocol.InvalidateStart) m).event();
        if (m instanceof HmmProtocol.InvalidateAck) {
          HmmProtocol.InvalidateAck ack = (HmmProtocol.InvalidateAck) m;
          e = observer.eventOf(ack.invId(), ack.subId());
        }
        if (e != p.event()) return false;
      }
      if (p.kind() != null) {
        long subId = -1;
        if (m instanceof HmmProtocol.InvalidateStart) subId = ((HmmProtocol.InvalidateStart) m).subId();
        if (m instanceof HmmProtocol.InvalidateAck) subId = ((HmmProtocol.InvalidateAck) m).subId();
        if (m instanceof HmmProtocol.InvalidateEnd) subId = ((HmmProtocol.InvalidateEnd) m).subId();
        if (observer.kindOf(subId) != p.kind()) return false;
      }
      return seen.getAndIncrement() >= p.skip();
    };
  }

  /** The device a link message concerns: by id, subscription, or (for replies) the device part of the reqId. */
  static int deviceOf(HmmProtocol.Msg m) {
    int d = Msgs.deviceIdOf(m);
    if (d >= 0) return d;
    long req = Msgs.reqIdOf(m);
    return req < 0 ? -1 : (int) (req >>> 40);
  }

  // ------------------------------------------------------------------------------------------------ expectations

  private void check(Scenario.Step step, Outcome outcome, boolean deadlocked, String deadlockReport) {
    if (step.expect().isEmpty()) return;
    barrier();
    Observation o = new Observation(outcome, deadlocked, deadlockReport);
    for (Expectation e : step.expect()) {
      List<String> mismatches = new ArrayList<>();
      try {
        e.check(o, mismatches);
      } catch (RuntimeException ex) {
        mismatches.add("could not check: " + ex.getMessage());
      }
      for (String m : mismatches) failures.add(line(e.line()) + m);
    }
  }

  /** The cluster as expectations see it after one step; each page and device is inspected once per step. */
  private final class Observation implements Observed {
    final Outcome outcome;
    final boolean deadlocked;
    final String deadlockReport;
    final Map<String, HmmProtocol.PageInfo> pages = new HashMap<>();
    final Map<Integer, HmmProtocol.DeviceInfo> devices = new HashMap<>();
    List<String> violations;
    CheckerActor.VerdictReply verdict;

    Observation(Outcome outcome, boolean deadlocked, String deadlockReport) {
      this.outcome = outcome;
      this.deadlocked = deadlocked;
      this.deadlockReport = deadlockReport;
    }

    @Override
    public HmmProtocol.PageInfo page(int mm, long va) {
      return pages.computeIfAbsent(mm + ":" + va, k -> inspectPage(mm, va));
    }

    @Override
    public HmmProtocol.DeviceInfo device(Scenario.Device d) {
      if (crashedNodes.contains(d.node())) {
        throw new IllegalStateException(d.name() + "'s GPU node gpu" + d.node() + " crashed and was not restarted");
      }
      return devices.computeIfAbsent(d.id(), k -> inspectDevice(d));
    }

    @Override
    public Outcome outcome() { return outcome; }

    @Override
    public boolean deadlocked() { return deadlocked; }

    @Override
    public String deadlockReport() { return deadlockReport; }

    @Override
    public long invalidations(int deviceId, NotifierKind kind, String event) {
      return observer.count(currentDeviceId(deviceId), kind, event);
    }

    @Override
    public List<String> violations() {
      if (violations == null) {
        if (verdict == null) verdict = verdict();
        violations = violationsOf(verdict);
      }
      return violations;
    }

    @Override
    public long traceCount(String type) {
      if (verdict == null) verdict = verdict();
      if (!verdict.caughtUp()) {
        throw new IllegalStateException("the invariant checker had not delivered every event (" + verdict.pending()
            + " pending)");
      }
      return verdict.eventCounts().getOrDefault(type, 0L);
    }

    @Override
    public long totalCpuFaults() { return totalCpuFaults.get(); }

    @Override
    public Map<String, Long> pfnNames() { return pfnNames; }

    @Override
    public boolean completed(String stepId) {
      StepRun r = runs.get(stepId);
      return r != null && r.future.isDone();
    }
  }

  /**
   * One introspection round trip to the CPU node and to every GPU node: each node handles requests from the
   * controller in order, so afterwards every message it sent in reaction to an earlier request (an async step's
   * syscall or device access) has been handed to the link and counted.
   */
  private void barrier() {
    Scenario.Vma first = scenario.vmas().isEmpty() ? null : scenario.vmas().get(0);
    inspectPage(first == null ? 1 : first.mm(), first == null ? 0 : first.start());
    Map<Integer, Scenario.Device> perNode = new HashMap<>();
    for (Scenario.Device d : scenario.devices()) perNode.putIfAbsent(d.node(), d);
    for (Scenario.Device d : perNode.values()) if (!crashedNodes.contains(d.node())) inspectDevice(d);
  }

  private HmmProtocol.PageInfo inspectPage(int mm, long va) {
    HmmProtocol.Msg m = inspect(cluster.cpu(), new HmmProtocol.InspectPage(client.nextReqId(), mm, va));
    if (!(m instanceof HmmProtocol.PageInfo)) throw new IllegalStateException("InspectPage answered " + m);
    return (HmmProtocol.PageInfo) m;
  }

  private HmmProtocol.DeviceInfo inspectDevice(Scenario.Device d) {
    HmmProtocol.Msg m = inspect(gpuOf(d), new HmmProtocol.InspectDevice(client.nextReqId(), deviceId(d)));
    if (!(m instanceof HmmProtocol.DeviceInfo)) throw new IllegalStateException("InspectDevice answered " + m);
    return (HmmProtocol.DeviceInfo) m;
  }

  private HmmProtocol.Msg inspect(ActorRef<?> node, HmmProtocol.Msg msg) {
    try {
      return client.ask(node, msg).toCompletableFuture().get(INSPECT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("no answer to " + msg.getClass().getSimpleName() + " within " + INSPECT_MILLIS
          + " ms");
    }
  }

  /** The checker's violations once it delivered every event the controller has seen (bounded; flushed after). */
  private List<String> verdictViolations() {
    return violationsOf(verdict());
  }

  private static List<String> violationsOf(CheckerActor.VerdictReply v) {
    List<String> out = new ArrayList<>();
    for (hmmemu.checker.Violation viol : v.violations()) out.add(viol.summary());
    if (!v.caughtUp()) out.add("CHECKER-BEHIND the checker had not delivered every event (" + v.pending() + " pending)");
    return out;
  }

  /** The checker's verdict once it delivered every event the controller has seen (bounded; flushed after). */
  private CheckerActor.VerdictReply verdict() {
    long[] until = client.clock();
    CompletableFuture<CheckerActor.VerdictReply> reply = AskPattern.<Object, CheckerActor.VerdictReply>ask(
        cluster.checker(), replyTo -> new CheckerActor.Verdict(until, replyTo), ASK_TIMEOUT,
        cluster.controlSystem().scheduler()).toCompletableFuture();
    CheckerActor.VerdictReply v;
    try {
      v = reply.get(INSPECT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      cluster.checker().tell(new CheckerActor.Flush());
      try {
        v = reply.get(INSPECT_MILLIS, TimeUnit.MILLISECONDS);
      } catch (Exception e2) {
        throw new IllegalStateException("the invariant checker gave no verdict within " + 2 * INSPECT_MILLIS + " ms");
      }
    } catch (InterruptedException | ExecutionException e) {
      throw new IllegalStateException("the invariant checker's verdict failed: " + e);
    }
    return v;
  }

  // ------------------------------------------------------------------------------------------------ end and reports

  private void finish() {
    // Async steps nobody awaited must still complete (bounded), unless they were already reported stuck.
    for (StepRun r : runs.values()) {
      if (r.future.isDone() || stuck.contains(r)) continue;
      Duration limit = r.step.waitLimit() != null ? r.step.waitLimit() : scenario.stepTimeout();
      try {
        r.future.get(limit.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        stuck.add(r);
        failures.add(line(r.step.line()) + "expected " + r.step.label() + " to complete by the end, got a deadlock: "
            + pendingReport(null));
      } catch (InterruptedException | ExecutionException e) {
        failures.add(line(r.step.line()) + "step " + r.step.index() + " failed: " + cause(e));
      }
    }
    boolean violationsChecked = false;
    for (Scenario.Step s : scenario.steps()) {
      for (Expectation e : s.expect()) if (e instanceof Expectation.Violations) violationsChecked = true;
    }
    if (!violationsChecked) {
      List<String> v = verdictViolations();
      if (!v.isEmpty()) {
        int lastLine = scenario.steps().isEmpty() ? 1 : scenario.steps().get(scenario.steps().size() - 1).line();
        failures.add(line(lastLine) + "expected no invariant violation, got " + v.size() + ": "
            + String.join("; ", v.subList(0, Math.min(3, v.size()))));
      }
    }
  }

  /** Names every pending step and what it is doing, the closed pause points, and the state it waits on. */
  private String pendingReport(StepRun current) {
    List<StepRun> pending = new ArrayList<>();
    if (current != null) pending.add(current);
    for (StepRun r : runs.values()) if (!r.future.isDone() && r != current) pending.add(r);
    List<String> parts = new ArrayList<>();
    for (StepRun r : pending) {
      StringBuilder sb = new StringBuilder(r.step.label()).append(" is pending");
      if (!r.current.isEmpty()) sb.append(" at ").append(r.current);
      sb.append(waitsOn(r));
      parts.add(sb.toString());
    }
    for (PausePoint p : pauses.values()) {
      if (p.caught().isDone()) {
        parts.add("pause point '" + p.op().pauseId() + "' holds " + p.op().from() + " -> " + p.op().to() + " since "
            + p.op().message());
      }
    }
    if (!pending.isEmpty()) parts.addAll(deadlockSuspects());
    return parts.isEmpty() ? "no step is pending" : String.join("; ", parts);
  }

  /** Each device's invalidate callbacks blocked on a driver mutex, with the holder and what it waits for. */
  private List<String> deadlockSuspects() {
    List<String> out = new ArrayList<>();
    for (Scenario.Device d : scenario.devices()) {
      if (crashedNodes.contains(d.node())) continue;
      try {
        for (String s : inspectDevice(d).deadlockSuspects()) out.add(d.name() + ": " + s);
      } catch (RuntimeException e) {
        out.add(d.name() + ": introspection failed: " + e.getMessage());
      }
    }
    return out;
  }

  /** What a pending step waits on, from introspection (the folio lock of its page, its device's driver loop). */
  private String waitsOn(StepRun r) {
    try {
      Scenario.Action a = r.step.action();
      if (a instanceof Scenario.CpuOp) {
        Scenario.CpuOp c = (Scenario.CpuOp) a;
        // The loop's current page is the one its last started access names; inspect the first page as a fallback.
        long va = c.at().start();
        for (int p = c.at().firstPage(); p <= c.at().lastPage(); p++) {
          if (r.current.contains(c.at().vma().name() + "+" + p + ":")) va = c.at().pageVa(p);
        }
        HmmProtocol.PageInfo i = inspectPage(c.mm(), va);
        return " (its PTE is " + i.pte() + (i.refcount() > 0 ? ", folio pfn 0x" + Long.toHexString(i.pfn()) + " locked="
            + i.folioLocked() + " refcount=" + i.refcount() : "") + (i.folioLocked() ? ": it waits for the folio lock"
            : "") + ")";
      }
      Scenario.Device d = null;
      if (a instanceof Scenario.WarpOp) d = ((Scenario.WarpOp) a).device();
      if (a instanceof Scenario.DmirrorOp) d = ((Scenario.DmirrorOp) a).device();
      if (d != null && crashedNodes.contains(d.node())) return " (" + d.name() + "'s GPU node gpu" + d.node() + " crashed)";
      if (d != null) {
        HmmProtocol.DeviceInfo i = inspectDevice(d);
        String page = "";
        PageRange at = a instanceof Scenario.WarpOp ? ((Scenario.WarpOp) a).at() : ((Scenario.DmirrorOp) a).at();
        HmmProtocol.PageInfo p = inspectPage(at.vma().mm(), at.start());
        page = ", " + at.namePage(at.firstPage()) + " PTE " + p.pte() + (p.folioLocked() ? " folio locked" : "");
        return " (" + d.name() + ": faults=" + i.faults() + " driver iterations=" + i.driverIterations()
            + " timeouts=" + i.driverTimeouts() + " invalidations=" + i.invalidations() + page
            + ")";
      }
    } catch (RuntimeException e) {
      return " (introspection failed: " + e.getMessage() + ")";
    }
    return "";
  }

  private String line(int line) { return scenario.file() + ":" + line + ": "; }

  private static String cause(Throwable e) {
    Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    return c.getClass().getSimpleName() + ": " + c.getMessage();
  }
}
