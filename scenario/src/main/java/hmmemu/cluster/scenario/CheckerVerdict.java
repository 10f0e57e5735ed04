package hmmemu.cluster.scenario;

import hmmemu.cluster.ClusterHandle;
import hmmemu.cluster.ControlClient;
import hmmemu.cluster.check.CheckerActor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/** The invariant checker's verdict on a scenario's cluster run ({@link ScenarioCluster#checker}). Not a kernel structure. */
final class CheckerVerdict {
  private CheckerVerdict() {}

  static List<String> violationsOf(CheckerActor.VerdictReply v) {
    List<String> out = new ArrayList<>();
    for (hmmemu.checker.Violation viol : v.violations()) out.add(viol.summary());
    if (!v.caughtUp()) out.add("CHECKER-BEHIND the checker had not delivered every event (" + v.pending() + " pending)");
    return out;
  }

  /**
   * The checker's verdict once it delivered every event the controller has seen, bounded like a step (the
   * scenario's step timeout, at least {@link ScenarioCluster#INSPECT_MILLIS}: a checker digesting a large step's
   * events is part of that step); then flushed and bounded by {@link ScenarioCluster#INSPECT_MILLIS} again.
   */
  static CheckerActor.VerdictReply of(ClusterHandle cluster, ControlClient client, Duration stepTimeout) {
    long inspect = ScenarioCluster.INSPECT_MILLIS;
    long catchUpMillis = Math.max(inspect, stepTimeout.toMillis());
    long[] until = client.clock();
    CompletableFuture<CheckerActor.VerdictReply> reply = AskPattern.<Object, CheckerActor.VerdictReply>ask(
        cluster.checker(), replyTo -> new CheckerActor.Verdict(until, replyTo), ScenarioCluster.ASK_TIMEOUT,
        cluster.controlSystem().scheduler()).toCompletableFuture();
    CheckerActor.VerdictReply v;
    try {
      v = reply.get(catchUpMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      cluster.checker().tell(new CheckerActor.Flush());
      try {
        v = reply.get(inspect, TimeUnit.MILLISECONDS);
      } catch (Exception e2) {
        throw new IllegalStateException("the invariant checker gave no verdict within " + (catchUpMillis + inspect) + " ms");
      }
    } catch (InterruptedException | ExecutionException e) {
      throw new IllegalStateException("the invariant checker's verdict failed: " + e);
    }
    return v;
  }
}
