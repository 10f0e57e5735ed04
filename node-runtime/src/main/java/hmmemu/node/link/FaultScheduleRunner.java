package hmmemu.node.link;

import hmmemu.node.link.FaultSchedule.Action;
import hmmemu.node.link.FaultSchedule.AddDelay;
import hmmemu.node.link.FaultSchedule.Callbacks;
import hmmemu.node.link.FaultSchedule.Clear;
import hmmemu.node.link.FaultSchedule.Crash;
import hmmemu.node.link.FaultSchedule.Entry;
import hmmemu.node.link.FaultSchedule.Heal;
import hmmemu.node.link.FaultSchedule.Partition;
import hmmemu.node.link.FaultSchedule.Pause;
import hmmemu.node.link.FaultSchedule.Restart;
import hmmemu.node.link.FaultSchedule.Resume;
import hmmemu.node.link.FaultSchedule.Running;
import hmmemu.node.link.FaultSchedule.SetProbability;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the entries of a {@link FaultSchedule} in real time on an executor, applying each step to a
 * {@link ModeledLink} (and handing crash, restart, pause and resume to the {@link Callbacks}).
 */
final class FaultScheduleRunner {
  private FaultScheduleRunner() {}

  private record Step(Duration at, boolean end, int order, Entry entry) {}

  /**
   * Starts the schedule now: each step runs on {@code executor} at its instant after this call (real time). Steps
   * run one after the other in time order, ends of {@code for} periods before starts at the same instant, then in
   * line order, whatever the number of threads of {@code executor}.
   */
  static Running start(List<Entry> entries, ModeledLink link, ScheduledExecutorService executor, Callbacks callbacks) {
    Objects.requireNonNull(link, "link");
    Objects.requireNonNull(executor, "executor");
    Objects.requireNonNull(callbacks, "callbacks");
    List<Step> steps = new ArrayList<>();
    int order = 0;
    for (Entry e : entries) {
      steps.add(new Step(e.at(), false, order++, e));
      if (e.action().forDuration() != null) steps.add(new Step(e.at().plus(e.action().forDuration()), true, order++, e));
    }
    steps.sort(Comparator.comparing(Step::at).thenComparing(s -> !s.end()).thenComparingInt(Step::order));
    Runner r = new Runner(link, executor, callbacks, steps);
    r.scheduleNext();
    return r;
  }

  private static final class Runner implements Running {
    private final ModeledLink link;
    private final ScheduledExecutorService executor;
    private final Callbacks callbacks;
    private final List<Step> steps;
    private final long startNanos = System.nanoTime();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final Map<Entry, List<Long>> delayIds = new HashMap<>();
    private int nextStep;
    private ScheduledFuture<?> pending;
    private boolean cancelled;
    private Exception firstError;

    Runner(ModeledLink link, ScheduledExecutorService executor, Callbacks callbacks, List<Step> steps) {
      this.link = link;
      this.executor = executor;
      this.callbacks = callbacks;
      this.steps = steps;
    }

    @Override public CompletableFuture<Void> done() { return done; }

    @Override
    public synchronized void cancel() {
      cancelled = true;
      if (pending != null) pending.cancel(false);
      done.complete(null);
    }

    synchronized void scheduleNext() {
      if (cancelled) return;
      if (nextStep >= steps.size()) {
        if (firstError != null) done.completeExceptionally(firstError); else done.complete(null);
        return;
      }
      long wait = steps.get(nextStep).at().toNanos() - (System.nanoTime() - startNanos);
      try {
        pending = executor.schedule(this::runDue, Math.max(0, wait), TimeUnit.NANOSECONDS);
      } catch (RuntimeException e) {
        done.completeExceptionally(e);
      }
    }

    private void runDue() {
      synchronized (this) {
        if (cancelled) return;
        long elapsed = System.nanoTime() - startNanos;
        while (nextStep < steps.size() && steps.get(nextStep).at().toNanos() <= elapsed) {
          Step s = steps.get(nextStep++);
          try {
            String what = s.end() ? end(s.entry()) : apply(s.entry());
            callbacks.applied(s.entry(), what);
          } catch (Exception e) {
            if (firstError == null) firstError = e;
            try {
              callbacks.failed(s.entry(), e);
            } catch (RuntimeException ignored) {
              // a failing failure callback must not stop the schedule
            }
          }
        }
      }
      scheduleNext();
    }

    private String apply(Entry e) {
      Action a = e.action();
      if (a instanceof AddDelay d) {
        List<Long> ids = new ArrayList<>();
        for (Direction dir : d.directions()) ids.add(link.addDelay(dir.from(), dir.to(), d.micros(), d.jitterMicros(), null));
        delayIds.put(e, ids);
      } else if (a instanceof SetProbability p) {
        for (Direction dir : p.directions()) link.setProbability(p.fault(), dir.from(), dir.to(), p.p());
      } else if (a instanceof Partition p) {
        link.partition(p.node(), p.mode());
      } else if (a instanceof Heal h) {
        link.heal(h.node());
      } else if (a instanceof Pause p) {
        link.pause(p.node());
        callbacks.pause(p.node());
      } else if (a instanceof Resume r) {
        callbacks.resume(r.node());
        link.resume(r.node());
      } else if (a instanceof Crash c) {
        callbacks.crash(c.node());
      } else if (a instanceof Restart r) {
        callbacks.restart(r.node());
      } else if (a instanceof Clear) {
        link.clearFaults();
      }
      return "start: " + e.text();
    }

    private String end(Entry e) {
      Action a = e.action();
      if (a instanceof AddDelay) {
        for (long id : delayIds.getOrDefault(e, List.of())) link.removeDelay(id);
        delayIds.remove(e);
      } else if (a instanceof SetProbability p) {
        for (Direction dir : p.directions()) link.resetProbability(p.fault(), dir.from(), dir.to());
      } else if (a instanceof Partition p) {
        link.heal(p.node());
      } else if (a instanceof Pause p) {
        callbacks.resume(p.node());
        link.resume(p.node());
      }
      return "end: " + e.text();
    }
  }
}
