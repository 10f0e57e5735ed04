package hmmemu.node.link;

import hmmemu.node.link.ModeledLink.Fault;
import hmmemu.node.link.ModeledLink.PartitionMode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;

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

  FaultSchedule(List<Entry> entries) { this.entries = List.copyOf(entries); }

  public List<Entry> entries() { return entries; }

  public boolean isEmpty() { return entries.isEmpty(); }

  /** An empty schedule. */
  public static FaultSchedule none() { return new FaultSchedule(List.of()); }

  /**
   * Parses a schedule ({@link FaultScheduleParser}).
   *
   * @throws IllegalArgumentException on the first malformed line, with a one-line message naming the line and
   *     what is wrong
   */
  public static FaultSchedule parse(String text) { return new FaultSchedule(FaultScheduleParser.parse(text)); }

  /** Parses {@code 2s}, {@code 500ms}, {@code 1.5us}, {@code 10ns}, {@code 2min}. */
  public static Duration parseTime(String s) { return FaultScheduleParser.parseTime(s); }

  /**
   * Starts the schedule now ({@link FaultScheduleRunner}): each step runs on {@code executor} at its instant after
   * this call (real time). Steps run one after the other in time order, ends of {@code for} periods before starts
   * at the same instant, then in line order, whatever the number of threads of {@code executor}.
   */
  public Running start(ModeledLink link, ScheduledExecutorService executor, Callbacks callbacks) {
    return FaultScheduleRunner.start(entries, link, executor, callbacks);
  }
}
