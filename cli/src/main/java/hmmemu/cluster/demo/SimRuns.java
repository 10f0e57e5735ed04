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
  private final Set<Sim> running;
  private final LongAdder doneEvents;
  private final LongAdder jumps, rounds, nanos, spins, spinsJumped, pictures, pictureNanos;
  private final Map<String, LongAdder> refusals;

  /** A command's runs, fast-forwarding their deadline spins when {@code fastForward} (hmmemu.sim.FastForward). */
  public SimRuns(boolean fastForward) {
    this.fastForward = fastForward;
    this.hashTrace = true;
    running = ConcurrentHashMap.newKeySet();
    doneEvents = new LongAdder();
    jumps = new LongAdder();
    rounds = new LongAdder();
    nanos = new LongAdder();
    spins = new LongAdder();
    spinsJumped = new LongAdder();
    pictures = new LongAdder();
    pictureNanos = new LongAdder();
    refusals = new ConcurrentHashMap<>();
  }

  private SimRuns(SimRuns of, boolean hashTrace) {
    this.fastForward = of.fastForward;
    this.hashTrace = hashTrace;
    running = of.running;
    doneEvents = of.doneEvents;
    jumps = of.jumps;
    rounds = of.rounds;
    nanos = of.nanos;
    spins = of.spins;
    spinsJumped = of.spinsJumped;
    pictures = of.pictures;
    pictureNanos = of.pictureNanos;
    refusals = of.refusals;
  }

  /**
   * These runs (their flag, their figures: counted together), but each simulator folds no trace hash
   * ({@link Sim#hashTrace}; its result's traceHash is the start value): for the runs of a command that shows the hash
   * of some runs only (a sweep row shows its first seed's). The checker, the fast-forward (its pictures leave the
   * hash out) and every other figure see the same run.
   */
  public SimRuns withoutTraceHash() { return new SimRuns(this, false); }

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
        running.add(s);
      });
    } finally {
      for (Sim s : mine) finished(s);
    }
  }

  private void finished(Sim s) {
    running.remove(s);
    doneEvents.add(s.traceEvents());
    FastForward ff = s.fastForwardOrNull();
    if (ff == null) return;
    jumps.add(ff.jumps().size());
    rounds.add(ff.skippedRounds());
    nanos.add(ff.skippedNanos());
    spins.add(ff.spins());
    spinsJumped.add(ff.spinsJumped());
    pictures.add(ff.pictures);
    pictureNanos.add(ff.pictureNanos);
    ff.refusals().forEach((why, n) -> refusals.computeIfAbsent(why, k -> new LongAdder()).add(n));
  }

  /**
   * Trace events of this command's runs so far, those running included (their counters read from another thread:
   * a progress figure, possibly a few events behind).
   */
  public long events() {
    long n = doneEvents.sum();
    for (Sim s : running) n += s.traceEvents();
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
    jumps.add(now[0] - before[0]);
    rounds.add(now[1] - before[1]);
    nanos.add((now[2] - before[2]) * 1000);
    spins.add(now[3] - before[3]);
    spinsJumped.add(now[4] - before[4]);
  }

  /** The fast-forward's figures of this command's runs as JSON members ({@code "fastForward": {...}}, no braces). */
  public String totalsJson() {
    return "\"fastForward\": {\"on\": " + fastForward + ", \"fastForwards\": " + jumps.sum() + ", \"skippedRounds\": "
        + rounds.sum() + ", \"skippedMicros\": " + nanos.sum() / 1000 + ", \"spins\": " + spins.sum()
        + ", \"spinsJumped\": " + spinsJumped.sum() + "}";
  }

  /** {@link #totalsJson} as one line of text, with the most frequent reasons a look did not jump. */
  public String totalsLine() {
    String why = refusals.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue().sum(), a.getValue().sum()))
        .limit(3).map(e -> e.getValue().sum() + "x " + e.getKey()).collect(java.util.stream.Collectors.joining("; "));
    return "fast-forward " + (fastForward ? "on" : "off (--fast-forward turns it on)") + ": " + jumps.sum() + " jumps, "
        + rounds.sum() + " driver rounds (" + nanos.sum() / 1_000_000 + " ms of model time) skipped; "
        + spinsJumped.sum() + " of " + spins.sum() + " deadline spins jumped"
        + (fastForward ? String.format(Locale.ROOT, "; %d pictures took %.2f s", pictures.sum(), pictureNanos.sum() / 1e9)
            : "")
        + (why.isEmpty() ? "" : "; not jumped: " + why);
  }
}
