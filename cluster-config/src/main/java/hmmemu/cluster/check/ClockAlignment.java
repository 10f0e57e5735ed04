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
 * clock before and after the answers as the moment they were read. The offset of node n is then
 * {@code controller - node}; the error is at most half the round trip, which the result reports.
 */
public final class ClockAlignment {
  private ClockAlignment() {}

  /** Offsets by node index (add to the node's model time to get the controller's) and the error bound. */
  public record Result(Map<Integer, Long> offsets, long uncertaintyMicros) {}

  /** Rounds of asking; the one with the shortest round trip is kept. */
  static final int ROUNDS = 3;

  /**
   * Asks every node's link control for its model time, {@link #ROUNDS} times, and returns the offsets of the round
   * with the shortest round trip (nodes that did not answer are left out).
   */
  public static Result measure(ActorSystem<?> system, ModelClock controller, Duration timeout) {
    Result best = null;
    for (int round = 0; round < ROUNDS; round++) {
      long before = controller.nowMicros();
      List<String> replies;
      try {
        replies = LinkControl.broadcast(system, LinkControl.CLOCK, timeout).toCompletableFuture()
            .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (Exception e) {
        continue;
      }
      long after = controller.nowMicros();
      Result r = fromReplies(replies, (before + after) / 2, (after - before + 1) / 2);
      if (best == null || r.offsets().size() > best.offsets().size()
          || (r.offsets().size() == best.offsets().size() && r.uncertaintyMicros() < best.uncertaintyMicros())) {
        best = r;
      }
    }
    return best == null ? new Result(Map.of(), 0) : best;
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
