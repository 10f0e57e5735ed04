package hmmemu.cluster.check;

import hmmemu.node.ModelClock;
import hmmemu.node.link.Direction;
import hmmemu.node.link.LinkControl;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Aligns the model clocks of a cluster's nodes with the controller's for a run record (docs/OBSERVABILITY.md,
 * "Clocks"): each JVM's model clock counts from its own start, so the controller asks every node's link control for
 * its model time now ({@link LinkControl#CLOCK}) and takes, as Cristian's algorithm does, the midpoint of its own
 * clock before and after the answer as the moment it was read (the shortest of a few round trips per node). The offset of node n is then
 * {@code controller - node}; the error is at most half the round trip, which the result reports.
 */
public final class ClockAlignment {
  private ClockAlignment() {}

  /** Offsets by node index (add to the node's model time to get the controller's) and the error bound. */
  public record Result(Map<Integer, Long> offsets, long uncertaintyMicros) {}

  /** Asks per node; the one with the shortest round trip is kept. */
  static final int ROUNDS = 5;

  /**
   * Asks every node's link control for its model time, {@link #ROUNDS} times each, one node at a time, and keeps
   * per node the answer with the shortest round trip (nodes that did not answer are left out); the uncertainty is
   * the largest half round trip kept.
   */
  public static Result measure(ActorSystem<?> system, ModelClock controller, Duration timeout) {
    java.util.Set<org.apache.pekko.actor.typed.ActorRef<String>> controls;
    try {
      controls = LinkControl.controls(system, timeout).toCompletableFuture()
          .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(Map.of(), 0);
    } catch (Exception e) {
      return new Result(Map.of(), 0);
    }
    Map<Integer, Long> offsets = new HashMap<>();
    long worst = 0;
    for (var control : controls) {
      Result best = null;
      for (int round = 0; round < ROUNDS; round++) {
        long before = controller.nowMicros();
        String reply;
        try {
          reply = LinkControl.ask(system, control, LinkControl.CLOCK, timeout).toCompletableFuture()
              .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        } catch (Exception e) {
          continue;
        }
        long after = controller.nowMicros();
        Result r = fromReplies(List.of(reply), before + (after - before) / 2, (after - before + 1) / 2);
        if (!r.offsets().isEmpty() && (best == null || r.uncertaintyMicros() < best.uncertaintyMicros())) best = r;
      }
      if (best != null) {
        offsets.putAll(best.offsets());
        worst = Math.max(worst, best.uncertaintyMicros());
      }
    }
    return new Result(Map.copyOf(offsets), worst);
  }

  /** The offsets from reply lines {@code clock NODE MICROS} read at controller time {@code at}. */
  static Result fromReplies(List<String> replies, long at, long uncertainty) {
    Map<Integer, Long> offsets = new HashMap<>();
    for (String line : replies) {
      String[] f = line.trim().split("\\s+");
      if (f.length != 3 || !f[0].equals("clock")) continue;
      try {
        offsets.put(Direction.parseNode(f[1]), at - Long.parseLong(f[2]));
      } catch (IllegalArgumentException ignored) {
        // not a node of ours: left out
      }
    }
    return new Result(Map.copyOf(offsets), uncertainty);
  }
}
