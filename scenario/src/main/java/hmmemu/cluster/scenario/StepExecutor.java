package hmmemu.cluster.scenario;

import hmmemu.protocol.msg.Ids;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Carries out a scenario's steps in order on a {@link ScenarioHost} (the embedded cluster or the simulator): async
 * steps run concurrently until awaited, pause points hold a link direction through the host's gate, and each step's
 * expectations are checked right after it. Every wait is bounded and is the host's ({@link ScenarioHost#await}): a
 * step that does not complete in time is reported (to the {@link Verdict}) as a deadlock (in the simulator: a
 * deadlock, a livelock or a timeout) naming what is pending and what it waits on, never a hang.
 */
final class StepExecutor {
  private final Scenario scenario;
  private final ScenarioHost cluster;
  private final Verdict verdict;
  private final Map<String, StepRun> runs = new LinkedHashMap<>();
  private final Map<String, PausePoint> pauses = new HashMap<>();
  private final List<StepRun> stuck = new ArrayList<>();
  private final AtomicInteger totalCpuFaults = new AtomicInteger();
  private final Map<String, Long> pfnNames = new HashMap<>();
  /** Steps started and not completed (sync and async), so that a crash can end those of its devices. */
  private final java.util.Set<StepRun> active = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** The kernel profile this run models (the scenario's switches). */
  hmmemu.protocol.model.KernelProfile profile() { return scenario.switches().kernelProfile(); }

  StepExecutor(Scenario scenario, ScenarioHost cluster, Verdict verdict) {
    this.scenario = scenario;
    this.cluster = cluster;
    this.verdict = verdict;
    this.holds = new ControllerHolds(cluster);
  }

  /** A step in flight: its future, and what it is doing right now (for deadlock reports). */
  static final class StepRun {
    final Scenario.Step step;
    final CompletableFuture<Outcome> future;
    volatile String current = "";
    /** Model µs of the step's accesses so far (DeviceAccessDone / CpuAccessDone.latencyMicros). */
    volatile long modelMicros;

    StepRun(Scenario.Step step, CompletableFuture<Outcome> future) {
      this.step = step;
      this.future = future;
    }
  }

  private record PausePoint(Scenario.PauseOp op, CompletableFuture<HmmProtocol.Msg> caught) {}

  /** The controller holds (pause points with {@code from = controller}) and the requests they hold. */
  private final ControllerHolds holds;
  /** The file's order (docs/SCENARIOS.md "Pinning every order"), once the first step armed it; null: none. */
  private OrderPins order;

  // ------------------------------------------------------------------------------------------------ steps

  void runStep(Scenario.Step step) {
    if (order == null && !scenario.order().isEmpty()) { // armed before the first step, as the pause points there
      order = new OrderPins(scenario, cluster);
      holds.order(order);
      order.arm();
    }
    Scenario.Action a = step.action();
    Duration limit = step.waitLimit() != null ? step.waitLimit() : scenario.stepTimeout();
    StepWait s = new StepWait(step, limit);

    if (a instanceof Scenario.PauseOp p && p.controller()) {
      pauses.put(p.pauseId(), new PausePoint(p, holds.arm(p, p.until() == null ? null : until(p.until()))));
    } else if (a instanceof Scenario.PauseOp) {
      Scenario.PauseOp p = (Scenario.PauseOp) a;
      pauses.put(p.pauseId(), new PausePoint(p, cluster.pausePoint(p, trigger(p))));
      if (p.until() != null) { // released once its until was delivered (or by a resume, whichever comes first)
        Scenario.PauseOp u = p.until();
        holds.whenUntil(u, until(u)).thenRun(() -> cluster.release(p.fromNode(), p.toNode()));
      }
    } else if (a instanceof Scenario.ResumeOp) {
      PausePoint p = pauses.get(((Scenario.ResumeOp) a).pauseId());
      if (p.op().controller()) holds.release(p.op().pauseId());
      else cluster.release(p.op().fromNode(), p.op().toNode());
    } else if (a instanceof Scenario.AwaitPausedOp) {
      PausePoint p = pauses.get(((Scenario.AwaitPausedOp) a).pauseId());
      ScenarioHost.Waited w = cluster.await(p.caught(), limit);
      if (!w.done()) {
        s.deadlocked = true;
        s.kind = w.kind();
        s.deadlockReport = "pause point '" + p.op().pauseId() + "' caught no " + p.op().message() + " from "
            + p.op().from() + " to " + p.op().to() + " " + w.within() + w.why() + "; " + pendingReport(null);
      } else {
        try {
          p.caught().get();
        } catch (InterruptedException | ExecutionException e) {
          s.problems.add(verdict.line(step.line()) + "await-paused failed: " + e);
        }
      }
    } else if (a instanceof Scenario.AwaitOp) {
      s.ids = ((Scenario.AwaitOp) a).stepIds();
      s.deadline = cluster.clockNanos() + limit.toNanos();
      awaitIds(s, null);
    } else if (a instanceof Scenario.CheckOp) {
      // only expectations
    } else if (a instanceof Scenario.CrashOp c) {
      try {
        cluster.crashNode(c.node());
      } catch (RuntimeException e) {
        s.problems.add(verdict.line(step.line()) + "crash gpu" + c.node() + " failed: " + e.getMessage());
      }
    } else if (a instanceof Scenario.RestartOp rs) {
      try {
        cluster.restartNode(rs.node(), step.waitLimit() != null ? step.waitLimit() : nodeWait());
      } catch (RuntimeException e) {
        s.problems.add(verdict.line(step.line()) + "restart gpu" + rs.node() + " failed: " + e.getMessage());
      }
    } else if (a instanceof Scenario.AwaitGoneOp || a instanceof Scenario.AwaitRestartedOp) {
      boolean gone = a instanceof Scenario.AwaitGoneOp;
      int node = gone ? ((Scenario.AwaitGoneOp) a).node() : ((Scenario.AwaitRestartedOp) a).node();
      int n = gone ? ((Scenario.AwaitGoneOp) a).nth() : ((Scenario.AwaitRestartedOp) a).nth();
      Duration bound = step.waitLimit() != null ? step.waitLimit() : nodeWait();
      CompletableFuture<Integer> f = gone ? cluster.gone(node, n) : cluster.restarted(node, n);
      ScenarioHost.Waited w = cluster.await(f, bound);
      if (!w.done()) {
        s.deadlocked = true;
        s.kind = w.kind();
        s.deadlockReport = (gone ? "the CPU node did not declare gpu" + node + " gone (crash " + n + ")"
            : "gpu" + node + "'s restart " + n + " did not complete") + " " + w.within() + w.why()
            + (gone && cluster.crashes(node) < n ? " (the crash has not happened yet)" : "") + "; "
            + pendingReport(null);
      } else {
        try {
          f.get();
        } catch (InterruptedException | ExecutionException e) {
          s.problems.add(verdict.line(step.line()) + a.describe() + " failed: " + Verdict.cause(e));
        }
      }
    } else if (a instanceof Scenario.ConcurrentOp c) {
      // a concurrent block: the host picks the start order and the interleaving (ScenarioHost#startConcurrently)
      List<Runnable> starts = new ArrayList<>();
      for (Scenario.Step cs : c.steps()) {
        StepRun r = begin(cs);
        starts.add(() -> launch(r));
      }
      cluster.startConcurrently(starts);
    } else {
      StepRun r = begin(step);
      launch(r);
      if (step.async()) cluster.asyncStarted();
      if (step.async() && a instanceof Scenario.KthreadOp k && !r.future.isDone()) {
        // One round trip to the CPU node, which handles the controller's requests in order: the kthread now holds
        // the lock or waits in its queue, before the next step runs (docs/SCENARIOS.md "Kernel threads").
        cluster.inspectPage(k.mm(), k.at().start());
      }
      if (!step.async()) {
        s.run = r;
        waiting = s;
        ScenarioHost.Waited w;
        try {
          w = cluster.await(r.future, limit);
        } finally {
          waiting = null;
        }
        syncWaited(s, w);
      }
    }
    endStep(s);
  }

  /** The step whose wait is in progress (a sync step's or an await's: {@link #resumeStep} goes on with it), or null. */
  StepWait waiting;

  /**
   * Goes on with the step whose wait was in progress when this executor was copied ({@link #waiting}): {@code wait}
   * goes on with the host's wait ({@link SimHost#resumeWait}), then the step ends as {@link #runStep} ends it.
   */
  void resumeStep(java.util.function.Supplier<ScenarioHost.Waited> wait) {
    StepWait s = waiting;
    if (s == null) throw new IllegalStateException("resumeStep: no step waiting");
    ScenarioHost.Waited w;
    try {
      w = wait.get();
    } finally {
      waiting = null;
    }
    if (s.ids == null) syncWaited(s, w);
    else awaitIds(s, w);
    endStep(s);
  }

  /** A sync step's wait ended with {@code w}: its outcome, or what it is stuck on. */
  private void syncWaited(StepWait s, ScenarioHost.Waited w) {
    StepRun r = s.run;
    Scenario.Step step = s.step;
    if (!w.done()) {
      s.deadlocked = true;
      s.kind = w.kind();
      stuck.add(r);
      s.deadlockReport = "nothing completed " + w.within() + w.why() + ": " + pendingReport(r);
    } else {
      try {
        s.outcome = r.future.get();
      } catch (InterruptedException | ExecutionException e) {
        s.problems.add(verdict.line(step.line()) + "step " + step.index() + " (" + step.action().describe() + ") failed: "
            + Verdict.cause(e));
      }
    }
  }

  /** An await step: waits on each id from {@code s.next} on ({@code resumed}: the wait of that one, gone on with). */
  private void awaitIds(StepWait s, ScenarioHost.Waited resumed) {
    for (; s.next < s.ids.size(); s.next++) {
      StepRun r = runs.get(s.ids.get(s.next));
      ScenarioHost.Waited w = resumed;
      resumed = null;
      if (w == null) {
        waiting = s;
        try {
          w = cluster.await(r.future, Duration.ofNanos(Math.max(0, s.deadline - cluster.clockNanos())));
        } finally {
          waiting = null;
        }
      }
      if (!w.done()) {
        s.deadlocked = true;
        stuck.add(r);
        if (s.first == null) s.first = w;
        continue;
      }
      try {
        Outcome o = r.future.get();
        if (s.ids.size() == 1) s.outcome = o;
      } catch (InterruptedException | ExecutionException e) {
        s.problems.add(verdict.line(r.step.line()) + "step " + r.step.index() + " failed: " + Verdict.cause(e));
      }
    }
    if (s.deadlocked) {
      ScenarioHost.Waited first = s.first;
      s.kind = first.kind();
      s.deadlockReport = "nothing completed " + (first.ending() == ScenarioHost.Ending.TIMEOUT
          ? "within " + s.limit.toMillis() + " ms" + first.within().substring(first.within().indexOf(" ms") + 3)
          : first.within()) + first.why() + ": " + pendingReport(null);
    }
  }

  /** A step's end: its problems and stuck wait reported, its expectations checked. */
  private void endStep(StepWait s) {
    Scenario.Step step = s.step;
    verdict.failAll(s.problems);
    boolean expectsDeadlock = false;
    for (Expectation e : step.expect()) if (e instanceof Expectation.Deadlock) expectsDeadlock = true;
    if (s.deadlocked && !expectsDeadlock) {
      verdict.fail(verdict.line(step.line()) + "expected " + step.label() + " to complete, got a " + s.kind + ": "
          + s.deadlockReport);
    }
    if (s.problems.isEmpty()) check(step, s.outcome, s.deadlocked, s.deadlockReport);
  }

  /**
   * Whether nothing of the steps is pending between two steps: no step in flight (sync or async), no pause point and
   * no order armed (their futures and holds wait on later messages). A search keeps a run's step start only then
   * ({@link ScheduleRun.StepStart}). Emulator-only host mechanism.
   */
  boolean atRest() { return active.isEmpty() && pauses.isEmpty() && order == null; }

  /** A running step's bookkeeping, before it starts: by id (for await), and active (for a crash). */
  private StepRun begin(Scenario.Step step) {
    StepRun r = new StepRun(step, new CompletableFuture<>());
    if (step.id() != null) runs.put(step.id(), r);
    active.add(r);
    r.future.whenComplete((o, ex) -> active.remove(r));
    return r;
  }

  /** Starts a running step: its first request; on a crashed GPU node it ends at once with ENODEV. */
  private void launch(StepRun r) {
    Scenario.Device on = deviceOfStep(r.step.action());
    if (on != null && cluster.crashed(on.node())) {
      r.future.complete(Outcome.of(Errno.ENODEV)); // its GPU node is down: nobody can answer
      return;
    }
    try {
      startAction(r);
    } catch (RuntimeException e) {
      r.future.completeExceptionally(e);
    }
  }

  /** The default bound of crash-related waits (the host's: on the cluster the step timeout, at least 60 s). */
  private Duration nodeWait() { return cluster.nodeWait(); }

  private void startAction(StepRun r) {
    Scenario.Action a = r.step.action();
    if (a instanceof Scenario.CpuOp c && c.onNode()) {
      threadRun(r, c);
    } else if (a instanceof Scenario.CpuOp) {
      new CpuLoop(r, (Scenario.CpuOp) a).next();
    } else if (a instanceof Scenario.SyscallOp) {
      Scenario.SyscallOp s = (Scenario.SyscallOp) a;
      HmmProtocol.Syscall msg;
      if (s.kind() == HmmProtocol.SyscallKind.MMAP) {
        msg = cluster.mmap(s.vma());
      } else {
        long start = s.at() == null ? 0 : s.at().start();
        long length = s.at() == null ? 0 : s.at().length();
        msg = new HmmProtocol.Syscall(cluster.nextReqId(), s.mm(), s.kind(), start, length, s.prot(), null, s.childMm());
      }
      if (s.thread() != 0) {
        msg = new HmmProtocol.Syscall(msg.reqId(), msg.mmId(), msg.kind(), msg.start(), msg.length(), msg.prot(),
            msg.vmaKind(), msg.childMmId(), s.thread());
      }
      r.current = s.describe();
      ask(0, msg).whenComplete((m, ex) -> {
        if (ex != null) {
          r.future.completeExceptionally(ex);
        } else if (m instanceof HmmProtocol.SyscallDone) {
          HmmProtocol.SyscallDone d = (HmmProtocol.SyscallDone) m;
          r.future.complete(new Outcome(d.errno(), d.value(), 0, false, 0, 0, List.of(), d.latencyMicros()));
        } else {
          r.future.completeExceptionally(new IllegalStateException("expected SyscallDone, got " + m));
        }
      });
    } else if (a instanceof Scenario.KthreadOp k) {
      KthreadStep.start(cluster, this::ask, k, r.future, doing -> r.current = doing);
    } else if (a instanceof Scenario.WarpOp) {
      warp(r, (Scenario.WarpOp) a, 1);
    } else if (a instanceof Scenario.DmirrorOp) {
      Scenario.DmirrorOp d = (Scenario.DmirrorOp) a;
      List<Long> data = new ArrayList<>();
      if (d.data() != null) {
        for (int p = d.at().firstPage(); p <= d.at().lastPage(); p++) data.add(d.data().at(p, 0));
      }
      r.current = d.describe();
      ask(d.device().node(), new HmmProtocol.DmirrorCmd(cluster.nextReqId(), cluster.deviceId(d.device()), d.mm(), d.op(),
          d.at().start(), d.at().pages(), data)).whenComplete((m, ex) -> {
            if (ex != null) {
              r.future.completeExceptionally(ex);
            } else if (m instanceof HmmProtocol.DmirrorReply) {
              HmmProtocol.DmirrorReply rep = (HmmProtocol.DmirrorReply) m;
              r.future.complete(new Outcome(rep.errno(), 0, 0, true, rep.faults(), rep.cpages(),
                  rep.data() == null ? List.of() : List.copyOf(rep.data()), rep.latencyMicros()));
            } else {
              r.future.completeExceptionally(new IllegalStateException("expected DmirrorReply, got " + m));
            }
          });
    } else if (a instanceof Scenario.BindOp) {
      Scenario.BindOp b = (Scenario.BindOp) a;
      r.current = b.describe();
      ask(b.device().node(), new HmmProtocol.BindMm(cluster.nextReqId(), cluster.deviceId(b.device()), b.mm(),
          b.device().driver())).whenComplete((m, ex) -> {
            if (ex != null) {
              r.future.completeExceptionally(ex);
            } else if (m instanceof HmmProtocol.MmBound) {
              cluster.bound(b.device(), b.mm());
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
    ask(w.device().node(), new HmmProtocol.DeviceAccess(cluster.nextReqId(), cluster.deviceId(w.device()), w.mm(), va,
        w.access(), w.value())).whenComplete((m, ex) -> {
          if (ex != null) {
            r.future.completeExceptionally(ex);
          } else if (m instanceof HmmProtocol.DeviceAccessDone) {
            HmmProtocol.DeviceAccessDone d = (HmmProtocol.DeviceAccessDone) m;
            r.modelMicros += d.latencyMicros(); // accesses run one after the other: their model times add up
            if (d.errno() == Errno.OK && n < w.repeat()) {
              warp(r, w, n + 1);
            } else {
              r.future.complete(new Outcome(d.errno(), d.value(), 0, false, 0, 0, List.of(), r.modelMicros));
            }
          } else {
            r.future.completeExceptionally(new IllegalStateException("expected DeviceAccessDone, got " + m));
          }
        });
  }

  /**
   * Model µs between two accesses of a spinning loop on the CPU node (CpuThreadRun.thinkMicros), for a loop bounded
   * by {@code repeat}: the model's time grain. A real iteration takes tens of ns; the loop's touch right after each
   * conversion of its page is modelled apart (CpuAccess.spin, event-driven), so this only spaces the loop's own
   * accesses (with 0, c08b's 20,000 would all run at one instant, before G converts the page). A loop bounded by
   * {@code for} spins until its time is up (CpuThreadRun's Javadoc).
   */
  static final long SPIN_ITERATION_MICROS = 1;

  /**
   * A spinning CPU thread's loop on its word, run on the CPU node as one CpuThreadRun (a user thread loops on its CPU,
   * asking nobody between two accesses): {@code repeat} rounds, or rounds while less than {@code for} model µs passed
   * on the CPU node since its first access. The step's outcome is its CpuThreadDone's: errno, the last access's
   * value, the faults and the loop's span in model µs (first access to the end of the last).
   */
  private void threadRun(StepRun r, Scenario.CpuOp op) {
    int page = op.at().firstPage();
    int word = op.at().firstWord();
    Access access;
    long value;
    switch (op.op()) {
      case READ -> { access = Access.READ; value = 0; }
      case WRITE, FILL -> { access = Access.WRITE; value = op.pattern().at(page, word); }
      case ATOMIC -> { access = Access.ATOMIC; value = op.value(); }
      default -> throw new IllegalStateException("not a CPU node loop: " + op.describe());
    }
    r.current = op.actor() + " " + access.name().toLowerCase() + " at " + op.at().name(page, word)
        + " (spinning on the CPU node)";
    ask(0, new HmmProtocol.CpuThreadRun(cluster.nextReqId(), op.thread(), op.mm(), List.of(op.at().wordVa(page, word)),
        access, value, true, SPIN_ITERATION_MICROS, op.forMicros() > 0 ? 1 : op.repeat(), op.forMicros()))
        .whenComplete((m, ex) -> {
          if (ex != null) {
            r.future.completeExceptionally(ex);
          } else if (m instanceof HmmProtocol.CpuThreadDone d) {
            r.modelMicros += d.micros(); // the loop on its node, first access to last
            totalCpuFaults.addAndGet((int) d.faults());
            r.current = "";
            r.future.complete(new Outcome(d.errno(), d.value(), d.faults(), false, 0, 0, List.of(), r.modelMicros));
          } else {
            r.future.completeExceptionally(new IllegalStateException("expected CpuThreadDone, got " + m));
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

    /** Model µs of the first access (a loop bounded by {@code for}). */
    long startMicros = -1;

    /** Whether the loop goes on after this round: {@code for} bounds it in model time, else {@code repeat}. */
    private boolean moreRounds() {
      return op.forMicros() > 0 ? cluster.nowMicros() - startMicros < op.forMicros() : round < op.repeat();
    }

    void next() {
      if (startMicros < 0) startMicros = cluster.nowMicros();
      if (page > op.at().lastPage()) {
        if (!moreRounds()) {
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
      boolean spin = op.spin() && moreRounds();
      ask(0, new HmmProtocol.CpuAccess(cluster.nextReqId(), op.thread(), op.mm(), va, access, value,
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
            run.modelMicros += d.latencyMicros(); // accesses run one after the other: their model times add up
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
      run.future.complete(new Outcome(errno, lastValue, faults, false, 0, 0, List.of(), run.modelMicros));
    }
  }

  /** A step's request to scenario node {@code node} (0: the CPU node), through the controller holds. */
  CompletableFuture<HmmProtocol.Msg> ask(int node, HmmProtocol.Msg msg) { return holds.ask(node, msg); }

  /** The trigger of a pause point's {@code until}: a reply or a request ({@link ControllerHolds}), or a link message. */
  private Predicate<HmmProtocol.Msg> until(Scenario.PauseOp u) {
    return u.reply() || u.controller() ? ControllerHolds.untilTrigger(u, cluster) : trigger(u);
  }

  /** The gate trigger of a pause point ({@link ControllerHolds#linkTrigger}). */
  private Predicate<HmmProtocol.Msg> trigger(Scenario.PauseOp p) { return ControllerHolds.linkTrigger(p, cluster); }

  /** The device a link message concerns: by id, subscription, or (for replies) the device part of the reqId. */
  static int deviceOf(HmmProtocol.Msg m) {
    int d = Msgs.deviceIdOf(m);
    if (d >= 0) return d;
    long req = Msgs.reqIdOf(m);
    return req < 0 ? -1 : Ids.deviceOfReq(req);
  }

  // ------------------------------------------------------------------------------------------------ expectations

  private void check(Scenario.Step step, Outcome outcome, boolean deadlocked, String deadlockReport) {
    if (step.expect().isEmpty()) return;
    cluster.barrier();
    verdict.check(step, new StepObservation(cluster, this, outcome, deadlocked, deadlockReport));
  }

  // ------------------------------------------------------------------------------------------------ end and reports

  /** After the steps: async steps nobody awaited must still complete (bounded). */
  void finish() {
    // Async steps nobody awaited must still complete (bounded), unless they were already reported stuck.
    for (StepRun r : runs.values()) {
      if (r.future.isDone() || stuck.contains(r)) continue;
      Duration limit = r.step.waitLimit() != null ? r.step.waitLimit() : scenario.stepTimeout();
      ScenarioHost.Waited w = cluster.await(r.future, limit);
      if (!w.done()) {
        stuck.add(r);
        verdict.fail(verdict.line(r.step.line()) + "expected " + r.step.label() + " to complete by the end, got a "
            + w.kind() + ": " + (w.why().isEmpty() ? "" : "nothing completed " + w.within() + w.why() + ": ")
            + pendingReport(null));
        continue;
      }
      try {
        r.future.get();
      } catch (InterruptedException | ExecutionException e) {
        verdict.fail(verdict.line(r.step.line()) + "step " + r.step.index() + " failed: " + Verdict.cause(e));
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
      sb.append(StepIntrospection.waitsOn(cluster, r));
      parts.add(sb.toString());
    }
    parts.addAll(holds.holding());
    if (order != null) parts.addAll(order.waiting());
    for (PausePoint p : pauses.values()) {
      if (p.op().controller()) continue;
      if (p.caught().isDone()) {
        parts.add("pause point '" + p.op().pauseId() + "' holds " + p.op().from() + " -> " + p.op().to() + " since "
            + p.op().message());
      }
    }
    if (!pending.isEmpty()) parts.addAll(StepIntrospection.deadlockSuspects(scenario, cluster));
    return parts.isEmpty() ? "no step is pending" : String.join("; ", parts);
  }

  private static Scenario.Device deviceOfStep(Scenario.Action a) {
    if (a instanceof Scenario.WarpOp w) return w.device();
    if (a instanceof Scenario.DmirrorOp d) return d.device();
    if (a instanceof Scenario.BindOp b) return b.device();
    return null;
  }

  /** A crashed GPU node's steps end with ENODEV: no answer can come. */
  void crashed(int node) {
    for (StepRun r : active) {
      Scenario.Device d = deviceOfStep(r.step.action());
      if (d != null && d.node() == node) r.future.complete(Outcome.of(Errno.ENODEV));
    }
  }

  /** Releases every pause point, so that nothing stays held when the run ends. */
  void releasePauses() {
    if (order != null) order.openAll();
    for (PausePoint p : pauses.values()) {
      if (p.op().controller()) holds.release(p.op().pauseId());
      else cluster.release(p.op().fromNode(), p.op().toNode());
    }
  }

  /** The step {@code stepId} (an async one) completed. */
  boolean completed(String stepId) {
    StepRun r = runs.get(stepId);
    return r != null && r.future.isDone();
  }

  /** The CPU faults of every CPU step so far. */
  long totalCpuFaults() { return totalCpuFaults.get(); }

  /** The pfns named by pfn = "@X" expectations so far. */
  Map<String, Long> pfnNames() { return pfnNames; }
}
