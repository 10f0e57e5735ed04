package hmmemu.cluster.demo;

import hmmemu.sim.FastForward;
import hmmemu.sim.Sim;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Not a kernel structure: one command's simulator runs ({@code sim}, {@code demo --sim}, {@code sweep --sim}). It
 * carries the command's fast-forward flag to every simulator the command makes (instead of a JVM-wide property: two
 * commands in one JVM do not share it), sums the fast-forward's figures of this command's runs only, and counts the
 * trace events of the runs done and running, for a progress line (read from another thread; display only, never fed
 * back into a run). Thread-safe: a sweep runs its seeds on several threads.
 */
public final class SimRuns {
  private final boolean fastForward;
  /** Whether the runs fold their trace into a trace hash (Sim#hashTrace): false for runs whose hash nobody reads. */
  private final boolean hashTrace;
  /** What the runs count together (the runs of {@link #withoutTraceHash} add to the same). */
  private final Counts c;

  /** Not a kernel structure: the figures a command's runs add up, shared by its hashed and unhashed runs. */
  private static final class Counts {
    final Set<Sim> running = ConcurrentHashMap.newKeySet();
    final LongAdder doneEvents = new LongAdder();
    final LongAdder jumps = new LongAdder(), rounds = new LongAdder(), nanos = new LongAdder(),
        spins = new LongAdder(), spinsJumped = new LongAdder(), pictures = new LongAdder(),
        pictureNanos = new LongAdder();
    final Map<String, LongAdder> refusals = new ConcurrentHashMap<>();
  }

  /** A command's runs, fast-forwarding their deadline spins when {@code fastForward} (hmmemu.sim.FastForward). */
  public SimRuns(boolean fastForward) { this(fastForward, true, new Counts()); }

  private SimRuns(boolean fastForward, boolean hashTrace, Counts c) {
    this.fastForward = fastForward;
    this.hashTrace = hashTrace;
    this.c = c;
  }

  /**
   * These runs (their flag, their figures: counted together), but each simulator folds no trace hash
   * ({@link Sim#hashTrace}; its result's traceHash is the start value): for the runs of a command that shows the hash
   * of some runs only (a sweep row shows its first seed's). The checker, the fast-forward (its pictures leave the
   * hash out) and every other figure see the same run.
   */
  public SimRuns withoutTraceHash() { return new SimRuns(fastForward, false, c); }

  /** The runs of a caller that gave no flag: the simulator's default (-Dhmm-emu.sim.fast-forward). */
  public static SimRuns byDefault() { return new SimRuns(Sim.fastForwardByDefault()); }

  public boolean fastForward() { return fastForward; }

  /**
   * Runs {@code body}, handing it the hook to call on every simulator it makes before anything runs (it sets the
   * fast-forward and watches the run); once {@code body} returns, those runs count as done.
   */
  public <T> T run(Function<Consumer<Sim>, T> body) {
    List<Sim> mine = new ArrayList<>(2);
    try {
      return body.apply(s -> {
        if (fastForward) s.fastForward();
        else s.noFastForward();
        if (!hashTrace) s.hashTrace(false);
        mine.add(s);
        c.running.add(s);
      });
    } finally {
      for (Sim s : mine) finished(s);
    }
  }

  private void finished(Sim s) {
    c.running.remove(s);
    c.doneEvents.add(s.traceEvents());
    FastForward ff = s.fastForwardOrNull();
    if (ff == null) return;
    c.jumps.add(ff.jumps().size());
    c.rounds.add(ff.skippedRounds());
    c.nanos.add(ff.skippedNanos());
    c.spins.add(ff.spins());
    c.spinsJumped.add(ff.spinsJumped());
    c.pictures.add(ff.pictures);
    c.pictureNanos.add(ff.pictureNanos);
    ff.refusals().forEach((why, n) -> c.refusals.computeIfAbsent(why, k -> new LongAdder()).add(n));
  }

  /**
   * Trace events of this command's runs so far, those running included (their counters read from another thread:
   * a progress figure, possibly a few events behind).
   */
  public long events() {
    long n = c.doneEvents.sum();
    for (Sim s : c.running) n += s.traceEvents();
    return n;
  }

  /**
   * The JVM's fast-forward totals so far (FastForward.totals: jumps, skipped rounds, skipped µs, spins, spins jumped),
   * for a host that cannot see its simulators (the explorer makes them): {@link #addSince} takes the difference.
   */
  public static long[] jvmTotals() { return FastForward.totals(); }

  /** Counts the JVM's fast-forward figures since {@code before} ({@link #jvmTotals}) as this command's. */
  public void addSince(long[] before) {
    long[] now = jvmTotals();
    c.jumps.add(now[0] - before[0]);
    c.rounds.add(now[1] - before[1]);
    c.nanos.add((now[2] - before[2]) * 1000);
    c.spins.add(now[3] - before[3]);
    c.spinsJumped.add(now[4] - before[4]);
  }

  /** The fast-forward's figures of this command's runs as JSON members ({@code "fastForward": {...}}, no braces). */
  public String totalsJson() {
    return "\"fastForward\": {\"on\": " + fastForward + ", \"fastForwards\": " + c.jumps.sum() + ", \"skippedRounds\": "
        + c.rounds.sum() + ", \"skippedMicros\": " + c.nanos.sum() / 1000 + ", \"spins\": " + c.spins.sum()
        + ", \"spinsJumped\": " + c.spinsJumped.sum() + "}";
  }

  /** {@link #totalsJson} as one line of text, with the most frequent reasons a look did not jump. */
  public String totalsLine() {
    String why = c.refusals.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue().sum(), a.getValue().sum()))
        .limit(3).map(e -> e.getValue().sum() + "x " + e.getKey()).collect(java.util.stream.Collectors.joining("; "));
    return "fast-forward " + (fastForward ? "on" : "off (--fast-forward turns it on)") + ": " + c.jumps.sum() + " jumps, "
        + c.rounds.sum() + " driver rounds (" + c.nanos.sum() / 1_000_000 + " ms of model time) skipped; "
        + c.spinsJumped.sum() + " of " + c.spins.sum() + " deadline spins jumped"
        + (fastForward ? String.format(Locale.ROOT, "; %d pictures took %.2f s", c.pictures.sum(), c.pictureNanos.sum() / 1e9)
            : "")
        + (why.isEmpty() ? "" : "; not jumped: " + why);
  }
}
