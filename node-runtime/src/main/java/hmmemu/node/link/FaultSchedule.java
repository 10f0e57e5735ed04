package hmmemu.node.link;

import hmmemu.node.link.ModeledLink.Fault;
import hmmemu.node.link.ModeledLink.PartitionMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A timed list of faults, parsed from text such as
 *
 * <pre>
 * at 2s add 5ms to cpu0->gpu1 for 3s
 * at 1s loss 0.05 on gpu1->cpu0
 * at 3s pause gpu2 for 500ms
 * at 6s partition gpu1 for 2s
 * at 6s crash gpu1
 * at 8s restart it
 * </pre>
 *
 * One action per line (or separated by {@code ;}); {@code #} starts a comment. Instants ({@code at}) and
 * durations ({@code for}) are <b>real (wall-clock) time</b> from {@link #start}; magnitudes of added delay and
 * jitter are <b>model time</b> (the link scales them). Grammar ({@code <dir>} is {@code A->B} or {@code A<->B} for
 * both directions; a node is {@code cpu0}, {@code gpuK} or {@code it}, the node of the previous line naming one):
 *
 * <pre>
 * at T add D [jitter J] to DIR [for T]                 added one-way delay (model time D, J)
 * at T loss|duplication|reordering P on DIR [for T]    probability override (P in [0,1] or N%); reset after 'for'
 * at T partition NODE [two-way|one-way|out|in] [for T] one-way = out: the node's outgoing messages are dropped
 * at T heal NODE
 * at T pause NODE [for T]                              messages to and from NODE held, delivered on resume
 * at T resume NODE
 * at T crash NODE | at T restart NODE                  handed to {@link Callbacks} (not link actions)
 * at T clear                                           {@link ModeledLink#clearFaults}
 * </pre>
 *
 * Time literals: a number and a unit among ns, us (or \u00b5s), ms, s, min.
 */
public final class FaultSchedule {

  /** What the caller does for the actions that are not link actions, and how it hears about the others. */
  public interface Callbacks {
    /** Crash node (SIGKILL its JVM, or terminate its embedded ActorSystem abruptly). */
    void crash(int node);

    /** Restart a crashed node so it rejoins. */
    void restart(int node);

    /**
     * Node {@code node} is paused: besides holding its link traffic ({@link ModeledLink#pause}, done by the
     * schedule), freeze the node itself (its actor system embedded, SIGSTOP for a process). Default: nothing.
     */
    default void pause(int node) {}

    /** Node {@code node} resumes: thaw it (called before the link hands over what it held). Default: nothing. */
    default void resume(int node) {}

    /** Called after every step ran (a start or the end of a {@code for}); for logs and reports. */
    default void applied(Entry entry, String what) {}

    /** A step threw; the schedule continues and {@link Running#done} completes exceptionally with the first error. */
    default void failed(Entry entry, Exception error) {}
  }

  /** One action of the schedule, where it came from, and when (from start). */
  public record Entry(int line, String text, Duration at, Action action) {
    @Override public String toString() { return "line " + line + " (" + text + ")"; }
  }

  /** The actions. {@code forDuration} is null when the fault stays until undone. */
  public sealed interface Action {
    default Duration forDuration() { return null; }
  }

  public record AddDelay(List<Direction> directions, double micros, double jitterMicros, Duration forDuration) implements Action {}

  public record SetProbability(Fault fault, List<Direction> directions, double p, Duration forDuration) implements Action {}

  public record Partition(int node, PartitionMode mode, Duration forDuration) implements Action {}

  public record Heal(int node) implements Action {}

  public record Pause(int node, Duration forDuration) implements Action {}

  public record Resume(int node) implements Action {}

  public record Crash(int node) implements Action {}

  public record Restart(int node) implements Action {}

  public record Clear() implements Action {}

  /** A started schedule. */
  public interface Running {
    /** Completes after the last step ran (exceptionally with the first error of a step), or when cancelled. */
    CompletableFuture<Void> done();

    /** Runs no further step (faults already applied stay: use {@link ModeledLink#clearFaults}). */
    void cancel();
  }

  private final List<Entry> entries;

  private FaultSchedule(List<Entry> entries) { this.entries = List.copyOf(entries); }

  public List<Entry> entries() { return entries; }

  public boolean isEmpty() { return entries.isEmpty(); }

  /** An empty schedule. */
  public static FaultSchedule none() { return new FaultSchedule(List.of()); }

  // ------------------------------------------------------------------------------------------------ parsing

  private static final Pattern TIME = Pattern.compile("(\\d+(?:\\.\\d+)?|\\.\\d+)(ns|us|\u00b5s|ms|s|min)");
  private static final Pattern ARROWS = Pattern.compile("\\s*(<->|\u2194|->|\u2192)\\s*");

  /**
   * Parses a schedule.
   *
   * @throws IllegalArgumentException on the first malformed line, with a one-line message naming the line and
   *     what is wrong
   */
  public static FaultSchedule parse(String text) {
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
    return new FaultSchedule(out);
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
  public static Duration parseTime(String s) {
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

  private static double micros(Duration d) { return d.toNanos() / 1000.0; }

  // ------------------------------------------------------------------------------------------------ running

  private record Step(Duration at, boolean end, int order, Entry entry) {}

  /**
   * Starts the schedule now: each step runs on {@code executor} at its instant after this call (real time). Steps
   * run one after the other in time order, ends of {@code for} periods before starts at the same instant, then in
   * line order, whatever the number of threads of {@code executor}.
   */
  public Running start(ModeledLink link, ScheduledExecutorService executor, Callbacks callbacks) {
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
