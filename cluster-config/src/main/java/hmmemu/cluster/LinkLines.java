package hmmemu.cluster;

import hmmemu.node.link.Direction;
import hmmemu.node.link.FaultSchedule;
import java.time.Duration;
import java.util.Locale;

/** A link action of a fault schedule as the line {@link ProcessCluster#runFaults} sends every node's link control. */
final class LinkLines {
  private LinkLines() {}

  /** The link action as an injectable line starting now, its {@code for} kept (each node ends it itself). */
  static String of(FaultSchedule.Action a) {
    StringBuilder sb = new StringBuilder();
    if (a instanceof FaultSchedule.AddDelay d) {
      for (Direction x : d.directions()) {
        sb.append(String.format(Locale.ROOT, "add %.3fus", d.micros()));
        if (d.jitterMicros() > 0) sb.append(String.format(Locale.ROOT, " jitter %.3fus", d.jitterMicros()));
        sb.append(" to ").append(x).append(forClause(d.forDuration())).append('\n');
      }
    } else if (a instanceof FaultSchedule.SetProbability p) {
      for (Direction x : p.directions()) {
        sb.append(p.fault().name().toLowerCase(Locale.ROOT)).append(' ')
            .append(String.format(Locale.ROOT, "%.6f", p.p())).append(" on ").append(x)
            .append(forClause(p.forDuration())).append('\n');
      }
    } else if (a instanceof FaultSchedule.Partition p) {
      String mode = switch (p.mode()) {
        case BOTH -> "two-way";
        case OUTGOING -> "out";
        case INCOMING -> "in";
      };
      sb.append("partition ").append(Direction.nodeName(p.node())).append(' ').append(mode).append(forClause(p.forDuration()));
    } else if (a instanceof FaultSchedule.Heal h) {
      sb.append("heal ").append(Direction.nodeName(h.node()));
    } else if (a instanceof FaultSchedule.Clear) {
      sb.append("clear");
    } else {
      throw new IllegalArgumentException("not a link action: " + a);
    }
    return sb.toString().strip();
  }

  /**
   * The link action with every node it names replaced by {@code node} of it (a scenario's GPU node number by its
   * current incarnation's cluster index); the identity keeps it as it is.
   */
  static FaultSchedule.Action renamed(FaultSchedule.Action a, java.util.function.IntUnaryOperator node) {
    if (a instanceof FaultSchedule.AddDelay d) {
      return new FaultSchedule.AddDelay(renamed(d.directions(), node), d.micros(), d.jitterMicros(), d.forDuration());
    } else if (a instanceof FaultSchedule.SetProbability p) {
      return new FaultSchedule.SetProbability(p.fault(), renamed(p.directions(), node), p.p(), p.forDuration());
    } else if (a instanceof FaultSchedule.Partition p) {
      return new FaultSchedule.Partition(node.applyAsInt(p.node()), p.mode(), p.forDuration());
    } else if (a instanceof FaultSchedule.Heal h) {
      return new FaultSchedule.Heal(node.applyAsInt(h.node()));
    }
    return a;
  }

  private static java.util.List<Direction> renamed(java.util.List<Direction> ds, java.util.function.IntUnaryOperator node) {
    java.util.List<Direction> out = new java.util.ArrayList<>();
    for (Direction x : ds) out.add(new Direction(node.applyAsInt(x.from()), node.applyAsInt(x.to())));
    return out;
  }

  private static String forClause(Duration d) { return d == null ? "" : " for " + d.toNanos() + "ns"; }
}
