package hmmemu.cluster.scenario;

import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Msgs;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The controller holds of a run (pause points with {@code from = controller}, docs/SCENARIOS.md "Holding a
 * controller request"), on either {@link ScenarioHost}: each counts the steps' requests of its type to its node from
 * its step on and catches the skip+1-th, which is sent once the hold is released (its {@code until} message was
 * delivered, {@link ScenarioHost#whenDelivered}, or a resume); released before it caught its request, it lets that
 * request pass. It also builds the triggers that match a pause point's message (a link message, a request, a reply).
 * Not a kernel structure: it makes an order of the controller's requests against link messages exact.
 */
final class ControllerHolds {
  /** One hold: its pause point, its request trigger (counting), what it caught, what it still holds. */
  private static final class Hold {
    final Scenario.PauseOp op;
    final Predicate<HmmProtocol.Msg> trigger;
    final CompletableFuture<HmmProtocol.Msg> caught = new CompletableFuture<>();
    boolean released;
    final List<Held> held = new ArrayList<>();

    Hold(Scenario.PauseOp op, Predicate<HmmProtocol.Msg> trigger) {
      this.op = op;
      this.trigger = trigger;
    }
  }

  /** A request held by holds: sent once every hold that caught it was released. */
  private static final class Held {
    final int node;
    final HmmProtocol.Msg msg;
    final CompletableFuture<HmmProtocol.Msg> reply = new CompletableFuture<>();
    int waiting;

    Held(int node, HmmProtocol.Msg msg) {
      this.node = node;
      this.msg = msg;
    }
  }

  /** A watcher of the replies the steps' requests get (an {@code until} with {@code to = controller}). */
  private record ReplyWatch(int from, Predicate<HmmProtocol.Msg> trigger, CompletableFuture<HmmProtocol.Msg> done) {}

  private final List<ReplyWatch> replyWatches = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final ScenarioHost host;
  /** Armed holds, in arming order (guarded by itself: replies and deliveries come on the cluster's threads). */
  private final List<Hold> holds = new ArrayList<>();

  ControllerHolds(ScenarioHost host) { this.host = host; }

  /**
   * Arms hold {@code p}; with {@code until} (the trigger of {@code p.until()}, null: none), it is released once that
   * message was delivered. Returns the future of the request it catches (await-paused).
   */
  CompletableFuture<HmmProtocol.Msg> arm(Scenario.PauseOp p, Predicate<HmmProtocol.Msg> until) {
    Hold h = new Hold(p, requestTrigger(p, host));
    synchronized (holds) {
      holds.add(h);
    }
    if (until != null) whenUntil(p.until(), until).thenRun(() -> release(p.pauseId()));
    return h.caught;
  }

  /** When {@code until} (with its trigger) was delivered: a reply to the controller here, else by the host. */
  CompletableFuture<HmmProtocol.Msg> whenUntil(Scenario.PauseOp until, Predicate<HmmProtocol.Msg> trigger) {
    return until.reply() ? whenReplied(until.fromNode(), trigger) : host.whenDelivered(until, trigger);
  }

  /** The gate trigger of a pause point: message type, device, event, subscription kind, after skip matches. */
  static Predicate<HmmProtocol.Msg> linkTrigger(Scenario.PauseOp p, ScenarioHost cluster) {
    AtomicInteger seen = new AtomicInteger();
    return m -> {
      if (!m.getClass().getSimpleName().equals(p.message())) return false;
      if (StepExecutor.deviceOf(m) != cluster.currentDeviceId(p.deviceId())) return false;
      if (p.event() != null) {
        NotifyEvent e = null;
        if (m instanceof HmmProtocol.InvalidateStart) e = ((HmmProtocol.InvalidateStart) m).event();
        if (m instanceof HmmProtocol.InvalidateAck) {
          HmmProtocol.InvalidateAck ack = (HmmProtocol.InvalidateAck) m;
          e = cluster.observer().eventOf(ack.invId(), ack.subId());
        }
        if (e != p.event()) return false;
      }
      if (p.kind() != null) {
        long subId = -1;
        if (m instanceof HmmProtocol.InvalidateStart) subId = ((HmmProtocol.InvalidateStart) m).subId();
        if (m instanceof HmmProtocol.InvalidateAck) subId = ((HmmProtocol.InvalidateAck) m).subId();
        if (m instanceof HmmProtocol.InvalidateEnd) subId = ((HmmProtocol.InvalidateEnd) m).subId();
        if (cluster.observer().kindOf(subId) != p.kind()) return false;
      }
      return seen.getAndIncrement() >= p.skip();
    };
  }

  /** The trigger of an {@code until} naming a reply to the controller (type, after skip) or a controller request. */
  static Predicate<HmmProtocol.Msg> untilTrigger(Scenario.PauseOp u, ScenarioHost host) {
    if (!u.reply()) return requestTrigger(u, host);
    AtomicInteger seen = new AtomicInteger(); // its node is whenReplied's
    return m -> m.getClass().getSimpleName().equals(u.message()) && seen.getAndIncrement() >= u.skip();
  }

  /**
   * Matches the controller requests {@code p} names (from = controller): type, device (to a device), after
   * {@code skip} matches; each test of a matching request counts.
   */
  static Predicate<HmmProtocol.Msg> requestTrigger(Scenario.PauseOp p, ScenarioHost host) {
    AtomicInteger seen = new AtomicInteger();
    return m -> m.getClass().getSimpleName().equals(p.message())
        && (p.deviceId() < 0 || Msgs.deviceIdOf(m) == host.currentDeviceId(p.deviceId()))
        && seen.getAndIncrement() >= p.skip();
  }

  /**
   * Completes with the first reply from scenario node {@code from} to one of the steps' requests (sent from now on or
   * earlier) that {@code trigger} accepts, once the controller got it.
   */
  CompletableFuture<HmmProtocol.Msg> whenReplied(int from, Predicate<HmmProtocol.Msg> trigger) {
    ReplyWatch w = new ReplyWatch(from, trigger, new CompletableFuture<>());
    replyWatches.add(w);
    return w.done();
  }

  /** The controller got {@code reply} from scenario node {@code node}: the reply watchers are offered it. */
  private void replied(int node, HmmProtocol.Msg reply) {
    for (ReplyWatch w : replyWatches) {
      boolean hit;
      synchronized (w) {
        hit = w.from() == node && !w.done().isDone() && w.trigger().test(reply);
      }
      if (hit) {
        replyWatches.remove(w);
        w.done().complete(reply);
      }
    }
  }

  /** The host's ask, its reply offered to the reply watchers first. */
  private CompletableFuture<HmmProtocol.Msg> send(int node, HmmProtocol.Msg msg) {
    return host.ask(node, msg).whenComplete((m, ex) -> {
      if (m != null && !replyWatches.isEmpty()) replied(node, m);
    });
  }

  /** Releases hold {@code id} (once): the requests only it still held are sent, in order. */
  void release(String id) {
    List<Held> send = new ArrayList<>();
    synchronized (holds) {
      for (Hold h : holds) {
        if (!h.op.pauseId().equals(id) || h.released) continue;
        h.released = true;
        for (Held r : h.held) if (--r.waiting == 0) send.add(r);
        h.held.clear();
      }
    }
    for (Held r : send) {
      send(r.node, r.msg).whenComplete((m, ex) -> {
        if (ex != null) r.reply.completeExceptionally(ex);
        else r.reply.complete(m);
      });
    }
  }

  /**
   * A step's request to scenario node {@code node} (0: the CPU node): every armed hold of that node counts it, and
   * one that catches it and is not released yet holds it (the reply then completes once it was sent and answered).
   */
  CompletableFuture<HmmProtocol.Msg> ask(int node, HmmProtocol.Msg msg) {
    OrderPins o = order;
    CompletableFuture<?> wait = o == null ? null : o.gate(node, msg);
    if (wait != null && !wait.isDone()) return wait.thenCompose(x -> held(node, msg));
    return held(node, msg);
  }

  /** A file's order ({@link OrderPins}): a step's request waits there before the holds see it; null: none. */
  private volatile OrderPins order;

  void order(OrderPins o) { order = o; }

  private CompletableFuture<HmmProtocol.Msg> held(int node, HmmProtocol.Msg msg) {
    Held r = null;
    List<Hold> caughtBy = new ArrayList<>();
    synchronized (holds) {
      for (Hold h : holds) {
        if (h.caught.isDone() || h.op.toNode() != node || !h.trigger.test(msg)) continue;
        caughtBy.add(h);
        if (h.released) continue;
        if (r == null) r = new Held(node, msg);
        r.waiting++;
        h.held.add(r);
      }
    }
    for (Hold h : caughtBy) h.caught.complete(msg);
    return r == null ? send(node, msg) : r.reply;
  }

  /** The holds holding a request now, for deadlock reports. */
  List<String> holding() {
    List<String> out = new ArrayList<>();
    synchronized (holds) {
      for (Hold h : holds) {
        if (h.held.isEmpty()) continue;
        out.add("pause point '" + h.op.pauseId() + "' holds the controller's " + h.op.matched()
            + (h.op.until() == null ? " until its resume" : " until the " + h.op.until().matched() + " is delivered"));
      }
    }
    return out;
  }
}
