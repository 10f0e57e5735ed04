package hmmemu.node;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Emulator-only host mechanism: the one-shot timer of the cluster's model-time waits (a CPU thread's wake-up, the
 * data link layer's ACK-delay and replay timers, a scenario's model-time wait). One daemon thread per JVM; a
 * cancelled wake-up is removed from its queue. Not Pekko's scheduler: that fires on its 10 ms ticks
 * (pekko.scheduler.tick-duration), so a wait ended 10-20 ms of real time late (ThreadWakeLatenessTest,
 * ScenarioWaitLatenessTest). The timer thread only hands work on (tells an actor, submits to an executor): it never
 * touches an actor's state and never blocks.
 */
public final class WakeTimer {
  private static final ScheduledThreadPoolExecutor TIMER = create();

  private WakeTimer() {}

  /** Emulator-only host mechanism: tells {@code target} {@code msg} after {@code delayNanos} of real time. */
  public static <T> ScheduledFuture<?> tell(ActorRef<T> target, T msg, long delayNanos) {
    return TIMER.schedule(() -> target.tell(msg), Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
  }

  /**
   * Emulator-only host mechanism: runs {@code handOff} on the timer thread after {@code delayNanos} of real time;
   * it must only hand work on (e.g. submit to an executor), never block.
   */
  public static ScheduledFuture<?> schedule(long delayNanos, Runnable handOff) {
    return TIMER.schedule(handOff, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
  }

  /** Emulator-only host mechanism: the daemon timer thread (cancelled wake-ups are removed). */
  private static ScheduledThreadPoolExecutor create() {
    ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "hmm-emu-wake-timer");
      t.setDaemon(true);
      return t;
    });
    e.setRemoveOnCancelPolicy(true);
    return e;
  }
}
