package hmmemu.node.link;

import hmmemu.node.link.FaultSchedule.Action;
import hmmemu.node.link.FaultSchedule.AddDelay;
import hmmemu.node.link.FaultSchedule.Clear;
import hmmemu.node.link.FaultSchedule.Crash;
import hmmemu.node.link.FaultSchedule.Entry;
import hmmemu.node.link.FaultSchedule.Heal;
import hmmemu.node.link.FaultSchedule.Partition;
import hmmemu.node.link.FaultSchedule.Pause;
import hmmemu.node.link.FaultSchedule.Restart;
import hmmemu.node.link.FaultSchedule.Resume;
import hmmemu.node.link.FaultSchedule.SetProbability;
import hmmemu.node.link.ModeledLink.Fault;
import hmmemu.node.link.ModeledLink.PartitionMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text of a {@link FaultSchedule} (its class comment gives the grammar) to typed entries: one line at a time,
 * failing on the first malformed line with a one-line message naming it ("fault schedule line N ...").
 */
final class FaultScheduleParser {
  private FaultScheduleParser() {}

  private static final Pattern TIME = Pattern.compile("(\\d+(?:\\.\\d+)?|\\.\\d+)(ns|us|\u00b5s|ms|s|min)");
  private static final Pattern ARROWS = Pattern.compile("\\s*(<->|\u2194|->|\u2192)\\s*");

  /**
   * Parses a schedule.
   *
   * @throws IllegalArgumentException on the first malformed line, with a one-line message naming the line and
   *     what is wrong
   */
  static List<Entry> parse(String text) {
    List<Entry> out = new ArrayList<>();
    String[] lines = text.split("\\R", -1);
    Integer[] itNode = {null};
    for (int i = 0; i < lines.length; i++) {
      String raw = lines[i];
      int hash = raw.indexOf('#');
      String body = hash >= 0 ? raw.substring(0, hash) : raw;
      for (String part : body.split(";")) {
        String t = part.trim();
        if (t.isEmpty()) continue;
        try {
          out.add(parseLine(i + 1, t, itNode));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("fault schedule line " + (i + 1) + " \"" + t + "\": " + e.getMessage(), e);
        }
      }
    }
    out.sort(Comparator.comparing(Entry::at)); // stable: same instant keeps line order
    return out;
  }

  private static final class Tokens {
    final String[] t;
    int i;

    Tokens(String s) { t = s.split("\\s+"); }

    boolean more() { return i < t.length; }

    String peek() { return more() ? t[i].toLowerCase(Locale.ROOT) : null; }

    String next(String expected) {
      if (!more()) throw new IllegalArgumentException("missing " + expected + " at the end");
      return t[i++];
    }

    void expect(String word) {
      String w = next("'" + word + "'");
      if (!w.equalsIgnoreCase(word)) throw new IllegalArgumentException("expected '" + word + "', found '" + w + "'");
    }

    boolean accept(String word) {
      if (more() && t[i].equalsIgnoreCase(word)) {
        i++;
        return true;
      }
      return false;
    }

    void end() {
      if (more()) throw new IllegalArgumentException("unexpected '" + t[i] + "'");
    }
  }

  private static Entry parseLine(int lineNo, String text, Integer[] itNode) {
    Tokens k = new Tokens(ARROWS.matcher(text).replaceAll(m -> m.group(1).equals("\u2194") ? "<->"
        : m.group(1).equals("\u2192") ? "->" : m.group(1)));
    k.expect("at");
    Duration at = parseTime(k.next("time after 'at'"));
    String verb = k.next("an action (add, loss, duplication, reordering, partition, heal, pause, resume, crash, restart, clear)")
        .toLowerCase(Locale.ROOT);
    Action a;
    switch (verb) {
      case "add": {
        double micros = micros(parseTime(k.next("delay after 'add'")));
        double jitter = 0;
        if (k.accept("jitter")) jitter = micros(parseTime(k.next("jitter")));
        k.expect("to");
        List<Direction> dirs = directions(k.next("direction (e.g. cpu0->gpu1)"), itNode);
        a = new AddDelay(dirs, micros, jitter, forClause(k));
        break;
      }
      case "loss": case "duplication": case "duplicate": case "reordering": case "reorder": {
        Fault f = verb.startsWith("loss") ? Fault.LOSS : verb.startsWith("dup") ? Fault.DUPLICATION : Fault.REORDERING;
        double p = probability(k.next("probability after '" + verb + "'"));
        k.expect("on");
        List<Direction> dirs = directions(k.next("direction (e.g. gpu1->cpu0)"), itNode);
        a = new SetProbability(f, dirs, p, forClause(k));
        break;
      }
      case "partition": {
        int node = node(k.next("node after 'partition'"), itNode);
        PartitionMode mode = PartitionMode.BOTH;
        String m = k.peek();
        if (m != null && !m.equals("for")) {
          k.i++;
          switch (m) {
            case "two-way": case "twoway": case "both": mode = PartitionMode.BOTH; break;
            case "one-way": case "oneway": case "out": case "outgoing": case "one-way-out": mode = PartitionMode.OUTGOING; break;
            case "in": case "incoming": case "one-way-in": mode = PartitionMode.INCOMING; break;
            default: throw new IllegalArgumentException("unknown partition mode '" + m + "' (two-way, one-way, out, in)");
          }
        }
        a = new Partition(node, mode, forClause(k));
        break;
      }
      case "heal": a = new Heal(node(k.next("node after 'heal'"), itNode)); break;
      case "pause": {
        int node = node(k.next("node after 'pause'"), itNode);
        a = new Pause(node, forClause(k));
        break;
      }
      case "resume": a = new Resume(node(k.next("node after 'resume'"), itNode)); break;
      case "crash": a = new Crash(node(k.next("node after 'crash'"), itNode)); break;
      case "restart": a = new Restart(node(k.next("node after 'restart'"), itNode)); break;
      case "clear": a = new Clear(); break;
      default:
        throw new IllegalArgumentException("unknown action '" + verb
            + "' (add, loss, duplication, reordering, partition, heal, pause, resume, crash, restart, clear)");
    }
    k.end();
    return new Entry(lineNo, text, at, a);
  }

  private static Duration forClause(Tokens k) {
    if (!k.accept("for")) return null;
    Duration d = parseTime(k.next("duration after 'for'"));
    if (d.isZero()) throw new IllegalArgumentException("'for' needs a duration > 0");
    return d;
  }

  private static int node(String s, Integer[] itNode) {
    if (s.equalsIgnoreCase("it")) {
      if (itNode[0] == null) throw new IllegalArgumentException("'it' but no earlier line names a node");
      return itNode[0];
    }
    int n = Direction.parseNode(s);
    itNode[0] = n;
    return n;
  }

  private static List<Direction> directions(String s, Integer[] itNode) {
    boolean both = s.contains("<->");
    String[] ends = s.split(both ? "<->" : "->", -1);
    if (ends.length != 2 || ends[0].isEmpty() || ends[1].isEmpty()) {
      throw new IllegalArgumentException("bad direction '" + s + "' (expected e.g. cpu0->gpu1 or cpu0<->gpu1)");
    }
    int from = node(ends[0], itNode);
    int to = node(ends[1], itNode);
    if (from == to) throw new IllegalArgumentException("bad direction '" + s + "': both ends are the same node");
    Direction d = new Direction(from, to);
    return both ? List.of(d, d.reverse()) : List.of(d);
  }

  private static double probability(String s) {
    try {
      double p = s.endsWith("%") ? Double.parseDouble(s.substring(0, s.length() - 1)) / 100 : Double.parseDouble(s);
      if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("probability " + s + " is not in [0, 1]");
      return p;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad probability '" + s + "' (expected e.g. 0.05 or 5%)");
    }
  }

  /** Parses {@code 2s}, {@code 500ms}, {@code 1.5us}, {@code 10ns}, {@code 2min}. */
  static Duration parseTime(String s) {
    Matcher m = TIME.matcher(s.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) throw new IllegalArgumentException("bad time '" + s + "' (expected e.g. 2s, 500ms, 10us)");
    double v = Double.parseDouble(m.group(1));
    double nanosPer = switch (m.group(2)) {
      case "ns" -> 1;
      case "us", "\u00b5s" -> 1e3;
      case "ms" -> 1e6;
      case "s" -> 1e9;
      default -> 60e9;
    };
    double n = v * nanosPer;
    if (n > 1e18) throw new IllegalArgumentException("time '" + s + "' is too large");
    return Duration.ofNanos(Math.round(n));
  }

  static double micros(Duration d) { return d.toNanos() / 1000.0; }

}
