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

  private static String forClause(Duration d) { return d == null ? "" : " for " + d.toNanos() + "ns"; }
}
