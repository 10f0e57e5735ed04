package hmmemu.cluster.scenario;

import com.typesafe.config.Config;
import hmmemu.node.link.LinkSettings;
import hmmemu.sim.Scheduler;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Schedule exploration of one scenario file in the simulator (issue 13, {@code hmm-emu explore}): runs the file
 * under many schedules ({@link ScheduleRun}: a schedule is the list of choice indices, and replaying it is
 * deterministic) until one fails (an invariant violation, a failed expectation, a deadlock, a livelock or a timeout,
 * each its kind) or the budget of schedules is spent, then shrinks the failing schedule ({@link Shrinker}).
 *
 * <p>Strategies:
 * <ul>
 *   <li>{@code random}: a uniform choice at every choice point.
 *   <li>{@code pct}: probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010)
 *       with bug depth d: each source (a link lane, i.e. a sending kernel thread, or any other event) gets a random
 *       priority in [d, d + sources) when first seen; the enabled event of the highest-priority source fires; at
 *       d - 1 change points drawn uniformly over the run's estimated length (the previous run's choice points) the
 *       source that just fired drops to priority d - i (below every initial one).
 *   <li>{@code exhaustive}: depth-first search over all schedules with at most D deviations from the seeded order
 *       (delay-bounded search, Emmi, Qadeer and Rakamarić, POPL 2011), stateless (each schedule is run from the
 *       start with its prefix), with state caching: a choice point whose {@link hmmemu.sim.Sim#stateKey} was
 *       reached before with no more deviations used is not expanded again (the run stops there). The state key
 *       merges the interleavings of one Mazurkiewicz trace (each node's input sequence), which is the partial-order
 *       reduction: it is sound because the cores are deterministic in their input sequences; it ignores virtual
 *       time (see stateKey), so a schedule whose outcome depends only on when a lease or the driver deadline expires
 *       can be pruned. No sleep sets or persistent sets are used.
 * </ul>
 * A concurrent block's draws (its start order and the gap before each later start) are choice points of the same
 * scheduler ({@link BlockChoice}, index 0 the seeded draw): every strategy sees them, and the state key
 * then also hashes the draws taken ({@link ScheduleRun}).
 */
public final class Explorer {
  /** Defaults: budget, PCT's bug depth, exhaustive search's deviation bound. */
  public static final int DEFAULT_BUDGET = 1000;
  public static final int DEFAULT_PCT_DEPTH = 3;
  public static final int DEFAULT_EXHAUSTIVE_DEPTH = 2;
  private static final String LEASE_KEY = "hmm-emu.faults.folio-lock-lease";

  public enum Strategy { RANDOM, PCT, EXHAUSTIVE }

  /** A failing schedule: its kind, first failure line, the schedule, and its step count. */
  public record Failure(String kind, String firstFailure, int[] schedule, int scheduleNumber) {}

  /**
   * What exploration found. {@code states}: choice points visited in all (with repeats); {@code distinctStates}:
   * distinct state keys among them; {@code cpuNanos}: the CPU time of the exploring thread (-1 when the JVM does
   * not measure it), which on a loaded machine says more about the search's cost than the wall time;
   * {@code choicePoints}: the choice points visited (as {@code states}) per kind ({@link ScheduleRun#pointKind}:
   * link, link-vs-other, other, start-order, start-gap), in first-seen order. {@code generatedStates}: the states
   * the search generated, the TLC-like count: every choice point of a random or PCT run, and of an exhaustive run
   * only those past its replayed prefix (the stateless search re-runs each schedule's prefix from the start, and a
   * replayed choice point is work, not a state generated; {@code states - generatedStates} of them were replayed).
   */
  public record Report(Strategy strategy, int schedules, long states, long distinctStates, long wallNanos,
      boolean exhausted, Failure failure, long cpuNanos, Map<String, Long> choicePoints, long generatedStates) {
    public Report(Strategy strategy, int schedules, long states, long distinctStates, long wallNanos,
        boolean exhausted, Failure failure, long cpuNanos, Map<String, Long> choicePoints) {
      this(strategy, schedules, states, distinctStates, wallNanos, exhausted, failure, cpuNanos, choicePoints, states);
    }

    public Report(Strategy strategy, int schedules, long states, long distinctStates, long wallNanos,
        boolean exhausted, Failure failure, long cpuNanos) {
      this(strategy, schedules, states, distinctStates, wallNanos, exhausted, failure, cpuNanos, Map.of());
    }

    Report(Strategy strategy, int schedules, long states, long distinctStates, long wallNanos, boolean exhausted,
        Failure failure) {
      this(strategy, schedules, states, distinctStates, wallNanos, exhausted, failure, -1);
    }

    public double statesPerSecond() { return wallNanos == 0 ? 0 : states / (wallNanos / 1e9); }

    /** States per second of the exploring thread's CPU time (0 when not measured). */
    public double statesPerCpuSecond() { return cpuNanos <= 0 ? 0 : states / (cpuNanos / 1e9); }

    /** Generated states (the TLC-like count, without replayed prefixes) per second of wall time. */
    public double generatedStatesPerSecond() { return wallNanos == 0 ? 0 : generatedStates / (wallNanos / 1e9); }

    /** Generated states per second of the exploring thread's CPU time (0 when not measured). */
    public double generatedStatesPerCpuSecond() { return cpuNanos <= 0 ? 0 : generatedStates / (cpuNanos / 1e9); }

    public double distinctStatesPerSecond() { return wallNanos == 0 ? 0 : distinctStates / (wallNanos / 1e9); }

    /** Distinct states per second of the exploring thread's CPU time (0 when not measured). */
    public double distinctStatesPerCpuSecond() { return cpuNanos <= 0 ? 0 : distinctStates / (cpuNanos / 1e9); }
  }

  private final Scenario scenario;
  private final long seed;
  private final LinkSettings link;
  private final long leaseMicros;
  private final Config base;
  private boolean linksOnly;

  /** @param base gives hmm-emu.link and the lease, as for {@link SimScenarioRunner#run} */
  public Explorer(Scenario scenario, long seed, Config base) {
    // a file naming several kernel profiles is explored under its first one
    this.scenario = scenario.profiles().size() <= 1 ? scenario : scenario.forProfile(scenario.profiles().get(0));
    this.seed = seed;
    this.base = base;
    this.link = LinkSettings.fromConfig(base);
    this.leaseMicros = base.hasPath(LEASE_KEY) ? base.getDuration(LEASE_KEY).toNanos() / 1000
        : hmmemu.cpu.core.CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS;
  }

  /**
   * Which events are choices: every enabled event (false, the default: link arrivals of every lane, controller hops
   * and replies, timers), or only link arrivals (true: every deviation is then a message a pause point can hold, so
   * a shrunk schedule can always be written as a file, but the controller's and the timers' timing stays seeded).
   */
  /**
   * Whether {@link #shrink} writes the failure with every order pinned ({@link OrderFile}: an {@code order} block)
   * before it tries pause points ({@link PauseFile}); off by default.
   */
  public Explorer pinOrder(boolean on) {
    pinOrder = on;
    return this;
  }

  private boolean pinOrder;

  public Explorer linksOnly(boolean on) {
    this.linksOnly = on;
    return this;
  }

  Scenario scenario() { return scenario; }

  long seed() { return seed; }

  Config base() { return base; }

  /** Why the file cannot be explored (as {@link SimScenarioRunner#unsupported}), or null. */
  public String unsupported() { return SimScenarioRunner.unsupported(scenario); }

  ScheduleRun.Outcome run(ScheduleRun.Strategy s) {
    return ScheduleRun.run(scenario, seed, link, leaseMicros, linksOnly, bounded(s));
  }

  private long maxDelayNanos = hmmemu.sim.DelayBound.UNBOUNDED;

  /**
   * Bounds every run's postponements ({@link hmmemu.sim.DelayBound}, {@code hmm-emu explore --max-delay}): no event
   * fires more than {@code nanos} of model time after it was due; {@link hmmemu.sim.DelayBound#UNBOUNDED} (the
   * default) lets any event wait for any time. Searches, replays and shrinking all run under it.
   */
  public Explorer maxDelay(long nanos) {
    this.maxDelayNanos = nanos < 0 ? hmmemu.sim.DelayBound.UNBOUNDED : nanos;
    return this;
  }

  /** The delay bound in ns, or {@link hmmemu.sim.DelayBound#UNBOUNDED}. */
  public long maxDelayNanos() { return maxDelayNanos; }

  /**
   * Jumps the deadline spins of every run ({@link hmmemu.sim.FastForward}, {@code hmm-emu explore --fast-forward})
   * where the rounds the look observed met no choice point, or (since session 19) met choice points that PCT with no
   * state key decides alike in every period ({@code hmmemu.sim.ScheduledJump}: the same report, ExploreSpinnersTest);
   * off by default.
   */
  public Explorer fastForward(boolean on) {
    this.fastForward = on;
    return this;
  }

  /** Off unless set, or -Dhmm-emu.sim.fast-forward=true (the simulator's default). */
  private boolean fastForward = hmmemu.sim.Sim.fastForwardByDefault();

  /** {@code s} under this explorer's delay bound and fast-forward (itself when neither; a probe still sees the simulator). */
  private ScheduleRun.Strategy bounded(ScheduleRun.Strategy s) { return bounded(s, true); }

  /** {@link #bounded(ScheduleRun.Strategy)}; {@code keyed} false: the run computes no state key (its choices get 0). */
  private ScheduleRun.Strategy bounded(ScheduleRun.Strategy s, boolean keyed) {
    if (maxDelayNanos < 0 && !fastForward && keyed) return s;
    long d = maxDelayNanos;
    boolean ff = fastForward;
    final class Bounded implements ScheduleRun.Strategy, ScheduleRun.SeesSim {
      @Override
      public int choose(int point, long key, Scheduler.Enabled e) { return s.choose(point, key, e); }

      @Override
      public long maxDelayNanos() { return d; }

      @Override
      public boolean fastForward() { return ff; }

      @Override
      public boolean keyed() { return keyed; }

      @Override
      public void at(hmmemu.sim.Sim sim) { if (s instanceof ScheduleRun.SeesSim p) p.at(sim); }

      @Override
      public long epoch() { return s.epoch(); }

      @Override
      public long stableFor(long point) { return s.stableFor(point); }

      @Override
      public void skipped(long reps, int perPeriod) { s.skipped(reps, perPeriod); }
    }
    return new Bounded();
  }

  /**
   * A search run (random, PCT, exhaustive): lean ({@link ScheduleRun#run(Scenario, long, LinkSettings, long, boolean,
   * boolean, ScheduleRun.Strategy)}: no pause-point ordinals, no trace hash, which the searches do not read) unless
   * {@link #fullRuns} asked for the full record of every run, as {@link #run} and {@link #replay} give it.
   */
  private ScheduleRun.Outcome search(ScheduleRun.Strategy s) { return search(s, null); }

  /** {@link #search(ScheduleRun.Strategy)}, keying a replayed prefix from {@code memo} (null: key every point). */
  private ScheduleRun.Outcome search(ScheduleRun.Strategy s, ScheduleRun.KeyMemo memo) {
    return search(s, memo, true);
  }

  /** {@link #search(ScheduleRun.Strategy, ScheduleRun.KeyMemo)}; {@code keyed} false: no state key (a lean run only). */
  private ScheduleRun.Outcome search(ScheduleRun.Strategy s, ScheduleRun.KeyMemo memo, boolean keyed) {
    return search(s, memo, keyed, null, null);
  }

  /** As {@link #search(ScheduleRun.Strategy, ScheduleRun.KeyMemo, boolean)}, from {@code start}, keeping what {@code keeper} wants. */
  private ScheduleRun.Outcome search(ScheduleRun.Strategy s, ScheduleRun.KeyMemo memo, boolean keyed,
      ScheduleRun.StepStart start, ScheduleRun.Keeper keeper) {
    return ScheduleRun.run(scenario, seed, link, leaseMicros, linksOnly, !fullRuns, bounded(s, keyed || fullRuns), memo,
        snapshot, start, keeper);
  }

  /**
   * Whether a random or PCT exploration counts its distinct states (on by default: {@link Report#distinctStates}).
   * Off, its lean runs keep no state key ({@link hmmemu.sim.Sim#keepStateKey}: no input of any node is folded, no key
   * is computed at a choice point, none is kept in a table), which these strategies never read, and the report's
   * {@code distinctStates} is -1; every other figure of the report is the same (ExploreDistinctOffTest). For a caller
   * that does not read the count (ExploreEveryFileTest). Exhaustive search always keys its states. Emulator-only host
   * mechanism.
   */
  public Explorer distinctStates(boolean on) {
    this.distinctStates = on;
    return this;
  }

  private boolean distinctStates = true;

  /**
   * Whether a search's runs start from a copy of the world at the start of the step holding the first choice point
   * ({@link ScheduleRun.Snapshot}, taken by the search's first run) instead of running set-up and the steps before it
   * again: on by default ({@code -Dhmm-emu.explore.snapshots=false} turns it off); the same report either way
   * (ExploreSnapshotTest). Emulator-only host mechanism.
   */
  public Explorer snapshots(boolean on) {
    this.snapshots = on;
    return this;
  }

  private boolean snapshots = !"false".equals(System.getProperty("hmm-emu.explore.snapshots"));
  /**
   * Whether a random or PCT search's run that takes the choices of a run simulated before up to the start of a later
   * step starts there from a copy of that run's world kept at that step start ({@link ScheduleRun.StepStart},
   * {@link ExploredRuns#keeper}) instead of running the steps before again: on by default
   * ({@code -Dhmm-emu.explore.resume=false} turns it off; {@code -Dhmm-emu.explore.step-starts=N} bounds the copies
   * kept, {@link ExploredRuns#MAX_STARTS}); the same report either way (ExploreStepStartTest). It also turns off an
   * exhaustive search's copies inside steps' waits ({@link ExhaustiveCopies}, ExploreMidStepTest). Needs the repeat trie ({@link #skipRepeats}), lean runs and no fast-forward. Emulator-only
   * host mechanism.
   */
  Explorer stepStarts(boolean on) {
    this.stepStarts = on;
    return this;
  }

  private boolean stepStarts = !"false".equals(System.getProperty("hmm-emu.explore.resume"));
  /** Runs the last random or PCT exploration resumed at a kept step start. */
  private int resumedRuns;

  /** Runs the last exploration resumed at a kept step start or (exhaustive) mid-step copy ({@link #stepStarts}). */
  int resumedRuns() { return resumedRuns; }

  /** Runs the last exhaustive search resumed at a checkpoint below a run's window ({@link ExhaustiveCopies}). */
  int checkpointRuns() { return checkpointRuns; }

  private int checkpointRuns;

  /** The current exploration's snapshot (null: none, or snapshots off). */
  private ScheduleRun.Snapshot snapshot;
  private int snapshotStep = -1;

  /** The steps the last exploration's runs skipped by starting from its snapshot (-1: none was taken). */
  int snapshotStep() { return snapshotStep; }

  private boolean fullRuns;

  /** Searches with full runs (the record {@link #run} gives) instead of lean ones: the reference a test compares with. */
  Explorer fullRuns(boolean on) {
    this.fullRuns = on;
    return this;
  }

  /** Replays {@code schedule} (an index past a point's enabled count takes the last; past the end, the seeded order). */
  ScheduleRun.Outcome replay(int[] schedule) {
    return run((point, key, e) -> point < schedule.length ? Math.min(schedule[point], e.size() - 1) : 0);
  }

  /**
   * What a snapshot would cost (issue 13: restoring a copy instead of replaying a prefix): runs the seeded schedule
   * and at every choice point takes a deep copy of the simulator ({@link hmmemu.sim.SimCopy}) {@code reps} times.
   * Returns {choice points, copies, CPU ns of all copies, and of the last copy: objects copied, array slots copied,
   * the longest array}; the copies are only
   * measured, the run goes on from the original. Emulator-only host mechanism.
   */
  public long[] copyProbe(int reps) {
    long[] out = new long[6];
    final class Probe implements ScheduleRun.Strategy, ScheduleRun.SeesSim {
      @Override
      public void at(hmmemu.sim.Sim sim) {
        long c0 = cpuNow();
        for (int i = 0; i < reps; i++) {
          Object[] c = hmmemu.sim.SimCopy.copyCounting(sim);
          out[3] = (Long) c[1];
          out[4] = (Long) c[2];
          out[5] = (Long) c[3];
        }
        out[2] += cpuNow() - c0;
        out[1] += reps;
      }

      @Override
      public int choose(int point, long key, Scheduler.Enabled e) { return 0; }
    }
    out[0] = search(new Probe()).choices().size();
    return out;
  }

  /** Explores with {@code strategy} for at most {@code budget} schedules; {@code depth} <= 0 takes the default. */
  public Report explore(Strategy strategy, int budget, int depth) {
    schedulesTried = 0;
    long t0 = System.nanoTime();
    long c0 = cpuNow();
    pointKinds.clear();
    snapshot = snapshots ? new ScheduleRun.Snapshot() : null;
    Report r;
    try {
      r = switch (strategy) {
        case RANDOM -> sample(strategy, budget, 0);
        case PCT -> sample(strategy, budget, depth > 0 ? depth : DEFAULT_PCT_DEPTH);
        case EXHAUSTIVE -> exhaustive(budget, depth > 0 ? depth : DEFAULT_EXHAUSTIVE_DEPTH);
      };
    } finally {
      snapshotStep = snapshot == null ? -1 : snapshot.step();
      snapshot = null;
    }
    long c1 = cpuNow();
    schedulesTried = r.schedules();
    return new Report(r.strategy(), r.schedules(), r.states(), r.distinctStates(), System.nanoTime() - t0,
        r.exhausted(), r.failure(), c0 < 0 || c1 < 0 ? -1 : c1 - c0, java.util.Collections.unmodifiableMap(
            new java.util.LinkedHashMap<>(pointKinds)), r.generatedStates());
  }

  /** Schedules the running exploration finished so far ({@link #schedulesTried}); written per schedule, never read here. */
  private volatile int schedulesTried;

  /**
   * How many schedules the running (or last) exploration finished so far, repeats counted: for a progress display on
   * another thread (hmm-emu explore's stderr line); read-only, nothing in the exploration depends on it.
   * Emulator-only host mechanism.
   */
  public int schedulesTried() { return schedulesTried; }

  /** The choice points of the current exploration per kind (Report#choicePoints). */
  private final Map<String, Long> pointKinds = new java.util.LinkedHashMap<>();

  private void countKinds(ScheduleRun.Outcome o) {
    if (o.choices() instanceof ScheduleRun.ChoiceList l) { // counted as the run made them, in the same order
      l.mergeKindsInto(pointKinds);
      return;
    }
    // counted per run in the run's first-seen order, then merged: the same counts in the same first-seen order as a
    // merge per choice point, for a map operation per kind and run instead of per point (a handful of kinds)
    String[] kinds = new String[8];
    long[] counts = new long[8];
    int n = 0;
    List<ScheduleRun.Choice> cs = o.choices();
    for (int i = 0; i < cs.size(); i++) {
      String k = cs.get(i).pointKind();
      int j = 0;
      while (j < n && !kinds[j].equals(k)) j++;
      if (j == n) {
        if (n == kinds.length) {
          kinds = Arrays.copyOf(kinds, 2 * n);
          counts = Arrays.copyOf(counts, 2 * n);
        }
        kinds[n++] = k;
      }
      counts[j]++;
    }
    for (int j = 0; j < n; j++) pointKinds.merge(kinds[j], counts[j], Long::sum);
  }

  /** The current thread's CPU time in ns, or -1 when the JVM does not measure it. */
  private static long cpuNow() {
    java.lang.management.ThreadMXBean t = java.lang.management.ManagementFactory.getThreadMXBean();
    return t.isCurrentThreadCpuTimeSupported() ? t.getCurrentThreadCpuTime() : -1;
  }

  private Report sample(Strategy strategy, int budget, int depth) {
    SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + strategy.ordinal());
    Draws shared = new Draws(rng); // RANDOM draws from the one generator, run after run
    ExploredRuns tried = skipRepeats ? new ExploredRuns() : null;
    simulated = 0;
    resumedRuns = 0;
    simulatedPoints = 0;
    boolean resume = tried != null && stepStarts && !fullRuns && !fastForward;
    KeyTable distinct = new KeyTable(); // the distinct state keys (a set: values unused)
    long states = 0;
    int estimate = 0;
    for (int n = 1; n <= budget; n++) {
      schedulesTried = n - 1;
      shared.clear();
      Draws own = strategy == Strategy.RANDOM ? shared : new Draws(rng.split());
      int len = Math.max(estimate, 1);
      ExploredRuns.Walked walked = null;
      if (tried != null) {
        // the strategy's choices over the runs already simulated: a run it would repeat is not simulated again
        walked = tried.walkFor(sampler(strategy, own, depth, len));
        own.rewind();
        ExploredRuns.Node leaf = walked.leaf();
        if (leaf != null) {
          states += leaf.points;
          for (Map.Entry<String, Long> k : leaf.kinds.entrySet()) pointKinds.merge(k.getKey(), k.getValue(), Long::sum);
          estimate = Math.max(estimate, leaf.points);
          continue;
        }
      }
      ScheduleRun.Strategy run = sampler(strategy, own, depth, len);
      ScheduleRun.StepStart start = null;
      List<long[]> before = List.of();
      if (resume && walked.start() != null) { // the run repeats a kept step start: its strategy walked up to it
        start = walked.start().start;
        before = tried.advance(run, walked.start(), walked.startDepth());
        resumedRuns++;
      }
      ExploredRuns.Recorder rec = tried == null || tried.full() ? null
          : start == null ? new ExploredRuns.Recorder(run, tried) : new ExploredRuns.Recorder(run, tried, walked.start(), before);
      ScheduleRun.Outcome o = search(rec != null ? rec : run, null, distinctStates, start,
          resume && rec != null ? tried.keeper(rec) : null);
      lastSimulated = o;
      simulated++;
      countKinds(o);
      states += o.points();
      List<ScheduleRun.Choice> cs = o.choices();
      if (distinctStates) for (int i = 0; i < cs.size(); i++) distinct.add(cs.get(i).stateKey());
      estimate = (int) Math.max(estimate, o.points());
      if (o.failed()) {
        return new Report(strategy, n, states, distinct(distinct), 0, false,
            new Failure(o.kind(), o.failures().get(0), o.schedule(), n));
      }
      if (rec != null && !o.pruned()) tried.add(rec, o);
      simulatedPoints += o.choices().size(); // the points simulated: a jump's skipped ones cost nothing (ScheduledJump)
      if (simulated >= maxRuns || simulatedPoints >= maxPoints) {
        return new Report(strategy, n, states, distinct(distinct), 0, false, null);
      }
    }
    return new Report(strategy, budget, states, distinct(distinct), 0, false, null);
  }

  /** The distinct states counted, or -1 when not counted ({@link #distinctStates(boolean)}). */
  private long distinct(KeyTable distinct) { return distinctStates ? distinct.size() : -1; }

  /** A random or PCT run's strategy drawing from {@code draws}. */
  private static ScheduleRun.Strategy sampler(Strategy strategy, Draws draws, int depth, int length) {
    return strategy == Strategy.RANDOM ? (point, key, e) -> draws.nextInt(e.size()) : new Pct(draws, depth, length);
  }

  /**
   * Whether {@link #sample} skips a run that repeats one it simulated (on by default): the same report either way
   * (ExploreRepeatsTest); off, every run is simulated. Emulator-only host mechanism.
   */
  Explorer skipRepeats(boolean on) {
    this.skipRepeats = on;
    return this;
  }

  private boolean skipRepeats = true;

  /**
   * Ends a random or PCT exploration once it simulated {@code runs} runs, even within its budget of schedules (the
   * schedules it counted are then fewer: repeats are counted, not simulated, {@link #simulatedRuns});
   * {@code hmm-emu explore --max-runs}. Exhaustive search simulates every schedule: there the budget bounds both.
   */
  public Explorer maxRuns(int runs) {
    this.maxRuns = runs < 1 ? Integer.MAX_VALUE : runs;
    return this;
  }

  private int maxRuns = Integer.MAX_VALUE;

  /**
   * Ends a random or PCT exploration once its simulated runs made {@code points} choice points in all (what its CPU
   * time follows: a run's cost grows with its events), even within its budget and {@link #maxRuns}: files of short
   * runs get many runs, files of long runs few, and where it stops is the same on every machine (the number of runs
   * it simulated then replays it with {@link #maxRuns}). The choice points a fast-forward jump skipped
   * (hmmemu.sim.ScheduledJump) are not counted here: they cost no CPU (the report's {@code states} and per-kind counts
   * do count them, as the unjumped run would). Emulator-only host mechanism.
   */
  public Explorer maxSimulatedPoints(long points) {
    this.maxPoints = points < 1 ? Long.MAX_VALUE : points;
    return this;
  }

  private long maxPoints = Long.MAX_VALUE;
  private long simulatedPoints;

  /** Choice points of the runs the last random or PCT exploration simulated ({@link #maxSimulatedPoints}). */
  public long simulatedPoints() { return simulatedPoints; }

  /**
   * Ends an exhaustive search, not exhausted, once its runs visited {@code states} choice points in all (the replayed
   * prefixes included: what its CPU time follows), even within its budget of schedules; {@code hmm-emu explore
   * --max-states}. A small bounded space is still exhausted, a large one no longer runs the whole budget.
   */
  public Explorer maxStates(long states) {
    this.maxStates = states < 1 ? Long.MAX_VALUE : states;
    return this;
  }

  private long maxStates = Long.MAX_VALUE;

  /** The last run a random or PCT exploration simulated (tests: its schedule, ExploreSpinnersTest). */
  ScheduleRun.Outcome lastSimulated;

  /** Runs the last random or PCT exploration simulated (its schedules less the repeats it skipped). */
  private int simulated;

  /**
   * How many of the last random or PCT exploration's schedules were simulated: the others repeated a schedule already
   * run (same choices at every point, so the same run and verdict: {@link ExploredRuns}) and were counted, not run again.
   */
  public int simulatedRuns() { return simulated; }

  /**
   * A strategy's random draws, kept so that they can be drawn again: a run tried against the runs already simulated
   * ({@link ExploredRuns#walk}) and then simulated after all draws exactly what the simulated run then draws, and the
   * generator ends in the state a simulated run would leave it in. Emulator-only host mechanism.
   */
  static final class Draws {
    private final SplittableRandom rng;
    private int[] kept = new int[16];
    private int n;
    private int pos;

    Draws(SplittableRandom rng) { this.rng = rng; }

    /** The next draw in [0, bound): a kept one after {@link #rewind}, else a new one (kept). */
    int nextInt(int bound) {
      if (pos < n) return kept[pos++];
      int v = rng.nextInt(bound);
      if (n == kept.length) kept = Arrays.copyOf(kept, n * 2);
      kept[n++] = v;
      pos = n;
      return v;
    }

    /** The next draws repeat the kept ones, in order, then go on from the generator. */
    void rewind() { pos = 0; }

    /** Forgets the kept draws (the next run's draws start here). */
    void clear() {
      n = 0;
      pos = 0;
    }
  }

  private Report exhaustive(int budget, int maxDeviations) {
    resumedRuns = 0;
    checkpointRuns = 0;
    KeyTable visited = new KeyTable(); // state key -> fewest deviations it was reached with
    long states = 0;
    long generated = 0; // the choice points past each run's replayed prefix
    int[] prefix = new int[0];
    boolean lastAtBranch = false; // the prefix takes its branch point's last alternative
    // a lean search keys each replayed prefix from the run it comes from (the full runs, the reference, key it anew)
    ScheduleRun.KeyMemo memo = fullRuns ? null : new ScheduleRun.KeyMemo();
    // copies of the world inside steps' waits on the current path (MidStepStart), as step starts are for PCT
    ExhaustiveCopies mids = fullRuns || !stepStarts || fastForward ? null : new ExhaustiveCopies(maxDeviations);
    for (int n = 1; n <= budget; n++) {
      schedulesTried = n - 1;
      final int[] p = prefix;
      MidStepStart from = mids == null ? null : mids.forBranch(p.length - 1, lastAtBranch);
      int[] dev = {0}; // the deviations of the prefix points before the run's first (those of the copy's choices)
      for (int i = 0; from != null && i < from.point(); i++) if (p[i] != 0) dev[0]++;
      if (memo != null) memo.resumeAt = p.length - 1;
      ScheduleRun.Outcome o = ScheduleRun.run(scenario, seed, link, leaseMicros, linksOnly, !fullRuns,
          bounded((point, key, e) -> ExhaustiveChoice.choose(p, point, key, e.size(), dev, visited)), memo, snapshot,
          null, null, from, mids == null ? null : mids.keeper(p.length, () -> dev[0]));
      if (mids != null) {
        resumedRuns = mids.resumed;
        checkpointRuns = mids.fromCheckpoints;
        mids.ran(o.choices());
      }
      if (o.points() != o.choices().size()) throw new IllegalStateException("an exhaustive run jumped choice points");
      countKinds(o);
      states += o.choices().size();
      generated += Math.max(0, o.choices().size() - p.length);
      if (o.failed()) {
        return exhaustiveReport(n, states, visited.size(), false, new Failure(o.kind(), o.failures().get(0),
            o.schedule(), n), generated);
      }
      // the lexicographic successor within the deviation bound
      List<ScheduleRun.Choice> cs = o.choices();
      int next = ExhaustiveChoice.nextBranch(cs, maxDeviations);
      if (next < 0) return exhaustiveReport(n, states, visited.size(), true, null, generated);
      if (states >= maxStates) return exhaustiveReport(n, states, visited.size(), false, null, generated);
      prefix = new int[next + 1];
      for (int i = 0; i < next; i++) prefix[i] = cs.get(i).taken();
      prefix[next] = cs.get(next).taken() + 1;
      lastAtBranch = prefix[next] + 1 >= cs.get(next).enabled();
    }
    return exhaustiveReport(budget, states, visited.size(), false, null, generated);
  }

  private static Report exhaustiveReport(int schedules, long states, long distinct, boolean exhausted, Failure f,
      long generated) {
    return new Report(Strategy.EXHAUSTIVE, schedules, states, distinct, 0, exhausted, f, -1, Map.of(), generated);
  }


  /**
   * A shrunk failure: the 1-minimal schedule (up to its last deviation; the seeded order after it) and its deviations, the steps of the emitted file (null when none could
   * be written, {@code why} says why), the replays shrinking took.
   */
  public record Shrunk(int[] schedule, int deviations, String kind, java.nio.file.Path file, int fileSteps, String why,
      int replays) {}

  /**
   * Shrinks {@code f} ({@link Shrinker}) and writes the reproduction with pause points ({@link PauseFile}) into
   * {@code outDir} as {@code <file>-<kind>-found.conf}; {@code command} is the line that found it (for the header).
   */
  public Shrunk shrink(Failure f, java.nio.file.Path file, java.nio.file.Path outDir, String command)
      throws java.io.IOException {
    Shrinker.Shrunk s = new Shrinker(this, f.kind()).shrink(f.schedule());
    int len = 0;
    for (int p : s.deviations().keySet()) len = Math.max(len, p + 1);
    int[] shrunkSchedule = java.util.Arrays.copyOf(s.schedule(), Math.min(len, s.schedule().length));
    String original = java.nio.file.Files.readString(file);
    String header = "# Found by `" + command + "` (hmm-emu explore, docs/TESTING.md \"Exploration\"): a " + f.kind()
        + "\n# in schedule " + f.scheduleNumber() + ", shrunk by ddmin to " + s.deviations().size()
        + " deviation(s) from the seeded order " + s.deviations() + " (choice point -> index).\n"
        + "# explore-verdict = " + f.kind() + "\n# explore-seed = " + seed + "\n# The first failure: " + f.firstFailure().replace("\n", " ") + "\n"
        + "# Replays in the simulator (hmm-emu sim) and on the embedded cluster (hmm-emu run) with that verdict: the\n"
        + "# pause points below force the interleaving the schedule found.\n";
    String[] why = new String[1];
    String text = null;
    if (pinOrder) {
      text = OrderFile.emit(this, original, s, f.kind(), header.replace("the\n# pause points below force",
          "the\n# order below forces"), why);
    }
    String orderWhy = why[0];
    if (text == null) text = PauseFile.emit(this, original, s, f.kind(), header, why);
    if (text == null && orderWhy != null) why[0] = orderWhy + "; " + why[0];
    if (text == null) {
      return new Shrunk(shrunkSchedule, s.deviations().size(), f.kind(), null, 0, why[0], s.replays());
    }
    java.nio.file.Files.createDirectories(outDir);
    String name = file.getFileName().toString().replaceFirst("\\.conf$", "") + "-" + f.kind() + "-found.conf";
    java.nio.file.Path out = outDir.resolve(name);
    java.nio.file.Files.writeString(out, text.endsWith("\n") ? text : text + "\n");
    int steps = ScenarioParser.parse(out).steps().size();
    return new Shrunk(shrunkSchedule, s.deviations().size(), f.kind(), out, steps, null, s.replays());
  }
}
