package hmmemu.cluster.scenario;

import hmmemu.sim.Sim;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;

/**
 * One bounded wait of {@link SimHost#await} as data: the future, its bound, and the window the event loop is in
 * (its start, the events fired and requests answered before it, its end), so that a run copied at a choice point
 * inside the window ({@link hmmemu.sim.SimCopy}) can go on with the same wait from the copy ({@link #resume}):
 * exhaustive search resumes a run there instead of replaying its prefix ({@link MidStepStart}). Each window runs the
 * event loop until the future completes, a request is answered, the busy-loop watch fires, the window's end
 * ({@link SimHost#LIVELOCK_SPAN_NANOS} or the bound) or {@link SimHost#MAX_EVENTS_PER_WINDOW} events. Not a kernel
 * structure.
 */
final class SimWait {
  private final SimHost host;
  private final CompletableFuture<?> f;
  private final Duration limit;
  private final long bound;
  private long start;
  private long firedBefore;
  private long answeredBefore;
  private long until;

  SimWait(SimHost host, CompletableFuture<?> f, Duration limit) {
    this.host = host;
    this.f = f;
    this.limit = limit;
    this.bound = host.sim().nowNanos() + host.modelNanos(limit);
  }

  /** Waits from the start. */
  ScenarioHost.Waited run() { return loop(false); }

  /** Goes on with the window this wait was in when its run was copied (inside its event loop). */
  ScenarioHost.Waited resume() { return loop(true); }

  private ScenarioHost.Waited loop(boolean inWindow) {
    Sim sim = host.sim();
    try {
      while (inWindow || !f.isDone()) {
        if (!inWindow) {
          start = sim.nowNanos();
          firedBefore = sim.fired();
          answeredBefore = host.answered;
          host.window = new ArrayList<>();
          until = Math.min(bound, start + SimHost.LIVELOCK_SPAN_NANOS);
        }
        if (inWindow || host.busyLivelock() == null) {
          inWindow = false;
          host.waiting = this;
          try {
            // the window's event budget counts from its start (the same bound when it goes on from a copy)
            sim.runUntil(() -> f.isDone() || host.answered != answeredBefore || host.busyLivelock() != null, until,
                firedBefore + SimHost.MAX_EVENTS_PER_WINDOW - sim.fired());
          } finally {
            host.waiting = null;
          }
        }
        if (f.isDone()) break;
        String livelock = host.busyLivelock();
        if (livelock != null) {
          host.livelockReported();
          return new ScenarioHost.Waited(ScenarioHost.Ending.LIVELOCK, "livelock", "at " + sim.nowMicros()
              + " µs of model time", " (a party busy without progress: " + livelock + ")");
        }
        if (host.answered != answeredBefore) continue;
        long fired = sim.fired() - firedBefore;
        if (sim.idle()) {
          return new ScenarioHost.Waited(ScenarioHost.Ending.DEADLOCK, "deadlock", "at " + sim.nowMicros()
              + " µs of model time", " (no event is enabled any more: nothing can make it complete)");
        }
        // A window whose events all fired long before its end and that ends in a quiet stretch (the next event, a
        // timer such as a faults-block crash or a lease expiry, lies beyond it) is a wait, not a loop: wait on.
        boolean quiet = sim.nowNanos() - sim.lastFiredNanos() > SimHost.LIVELOCK_SPAN_NANOS / 2
            && sim.nextEventNanos() > until;
        if (fired >= SimHost.MAX_EVENTS_PER_WINDOW
            || (sim.nowNanos() >= start + SimHost.LIVELOCK_SPAN_NANOS && fired > 0 && !quiet)) {
          return new ScenarioHost.Waited(ScenarioHost.Ending.LIVELOCK, "livelock", "over "
              + (sim.nowNanos() - start) / 1_000_000 + " ms of model time", " (" + fired
              + " events fired and no request was answered; the loop: " + host.loop() + ")");
        }
        if (sim.nowNanos() >= bound) {
          return new ScenarioHost.Waited(ScenarioHost.Ending.TIMEOUT, "timeout", "within " + limit.toMillis() + " ms ("
              + host.modelNanos(limit) / 1_000_000 + " ms of model time at time-scale " + host.timeScale() + ")", "");
        }
        // model time jumped over a quiet stretch (e.g. to a lease's expiry): wait on
      }
    } finally {
      host.window = null;
    }
    return ScenarioHost.Waited.DONE;
  }
}
