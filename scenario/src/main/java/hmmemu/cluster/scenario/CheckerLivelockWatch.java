package hmmemu.cluster.scenario;

import hmmemu.cluster.ClusterHandle;
import hmmemu.cluster.ControlClient;
import hmmemu.cluster.check.CheckerActor;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The cluster's side of {@code liveness { livelock-span }} (docs/SCENARIOS.md "Liveness verdicts"): the simulator's
 * {@link BusyLoopWatch} (the same class) hears every trace event the cluster's checker applies, on the checker's
 * thread, at the model time its node stamped on it ({@code atMicros}); its first finding ends the host's wait with
 * the simulator's kind and message. A file without the block gets none ({@link #attach} returns null). Not a kernel
 * structure.
 */
final class CheckerLivelockWatch {
  /** A busy-loop livelock the watch found: the model time of the failed iteration that made it one, and its text. */
  private record Found(long atMicros, String what) {}

  private final CompletableFuture<Found> found = new CompletableFuture<>();
  /** The livelock was reported by a wait (the controller's thread only): a run ends with its first one. */
  private boolean reported;

  private CheckerLivelockWatch() {}

  /** Attaches a watch to the cluster's checker when {@code scenario} has a liveness block; else null. */
  static CheckerLivelockWatch attach(Scenario scenario, double timeScale, ClusterHandle cluster) {
    BusyLoopWatch watch = BusyLoopWatch.of(scenario, timeScale);
    if (watch == null) return null;
    CheckerLivelockWatch w = new CheckerLivelockWatch();
    long[] lastNanos = {0}; // an event without a stamp (atMicros -1) is heard at the last stamped time
    cluster.checker().tell(new CheckerActor.Watch(s -> {
      if (w.found.isDone()) return;
      if (s.atMicros() >= 0) lastNanos[0] = s.atMicros() * 1000;
      watch.onEvent(s, lastNanos[0]);
      String what = watch.found();
      if (what != null) w.found.complete(new Found(lastNanos[0] / 1000, what));
    }));
    return w;
  }

  /** Whether a wait should still listen to it (nothing reported yet). */
  boolean armed() { return !reported; }

  /** What a wait on {@code f} waits for: {@code f}, or the watch's finding, whichever comes first. */
  CompletableFuture<?> orFound(CompletableFuture<?> f) { return CompletableFuture.anyOf(f, found); }

  /**
   * After a wait on {@code f} ended: if {@code f} completed first, the checker first catches up with the replies
   * (so the watch has heard the iterations before the completion, as the simulator's has at that model time); then
   * the livelock, if the watch found one, else null.
   */
  ScenarioHost.Waited afterWait(CompletableFuture<?> f, ClusterHandle cluster, ControlClient client,
      long boundMillis) {
    if (f.isDone() && !found.isDone()) caughtUpWithReplies(cluster, client, boundMillis);
    if (!found.isDone()) return null;
    reported = true; // a run ends with its first one, as in the simulator (BusyLoopWatch#reported)
    Found b = found.join();
    return new ScenarioHost.Waited(ScenarioHost.Ending.LIVELOCK, "livelock", "at " + b.atMicros() + " µs of model time",
        " (a party busy without progress: " + b.what() + ")");
  }

  /**
   * The checker's stream lags the replies: the checker delivers (bounded by {@code boundMillis}) every event the
   * controller's replies causally follow. Past the bound the wait counts as done (the checker's own verdict reports
   * it behind).
   */
  private static void caughtUpWithReplies(ClusterHandle cluster, ControlClient client, long boundMillis) {
    long[] until = client.clock();
    try {
      AskPattern.<Object, CheckerActor.VerdictReply>ask(cluster.checker(),
          replyTo -> new CheckerActor.Verdict(until, replyTo), ScenarioCluster.ASK_TIMEOUT,
          cluster.controlSystem().scheduler()).toCompletableFuture().get(boundMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // behind or gone: judged by what the watch heard
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
