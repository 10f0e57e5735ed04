package hmmemu.cluster.scenario;

import hmmemu.node.link.LinkSettings;
import hmmemu.sim.Scheduler;
import hmmemu.sim.Sim;
import hmmemu.node.link.ModeledLink.Fault;
import hmmemu.node.link.ModeledLink.PartitionMode;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One run of a scenario file in the simulator under a {@link Scheduler} (issue 13): the same set-up, steps,
 * expectations and {@link Verdict} as {@link SimScenarioRunner}, with the scheduler deciding each choice point of the
 * steps (set-up runs in the seeded order). It records every choice point: how many events were enabled, which one
 * was taken, the simulator's {@link Sim#stateKey} before it, the step running then (its position in the steps list; the list's size during the final checks), and the link event the seeded
 * order would have taken (what a pause point must hold to force the choice). A concurrent block's draws (the start
 * order and the gap before each later start, {@link BlockChoice}) come through the same scheduler as choice
 * points of their own kind, so every strategy sees them and exhaustive search counts them as deviations. Not a
 * kernel structure.
 */
final class ScheduleRun {
  /** Thrown by a strategy to stop a run whose state was explored already (an Error: no step catches it). */
  static final class Pruned extends Error {
    Pruned() { super(null, null, false, false); }
  }

  /**
   * One choice point. {@code passedOver}: the seeded order's link event when another was taken, else null. {@code
   * kind}: {@link #EVENT} (which enabled event fires next) or a concurrent block's draw ({@code start-order},
   * {@code start-gap}: {@link BlockChoice}), whose {@code option} is the taken option's value (the position
   * in the block of the step started, or the gap in ns; -1 for an event). {@code pointKind}: what the point chose
   * among ({@link #pointKind}), as {@code hmm-emu explore --json} counts them.
   */
  record Choice(int enabled, int taken, long stateKey, int step, Scheduler.LinkEvent passedOver,
      Scheduler.LinkEvent takenEvent, int skip, int takenSkip, String kind, long option, String pointKind) {
    boolean block() { return !EVENT.equals(kind); }
  }

  /**
   * A choice point's kind for the counts: a block's draw is its kind ({@code start-order}, {@code start-gap}); an
   * event choice is {@code link} when every enabled event is a link arrival (lane against lane), {@code other} when
   * none is (controller hops and replies, timers: lease ticks, host-side costs, faults), {@code link-vs-other} else.
   */
  static String pointKind(Scheduler.Enabled e) {
    if (e instanceof BlockChoice b) return b.kind.label;
    int links = 0;
    for (int i = 0; i < e.size(); i++) if (e.link(i) != null) links++;
    return links == e.size() ? "link" : links == 0 ? "other" : "link-vs-other";
  }

  /**
   * A run's choice points, counting them per {@link Choice#pointKind} in first-seen order as they are added, so that
   * a search reads a run's counts without walking its choice points again (a walk over a few thousand records
   * allocated across the whole run, each a cache miss). Emulator-only host mechanism.
   */
  static final class ChoiceList extends ArrayList<Choice> {
    private String[] kinds = new String[8];
    private long[] counts = new long[8];
    private int n;

    @Override
    public boolean add(Choice c) {
      String k = c.pointKind();
      int j = 0;
      while (j < n && !kinds[j].equals(k)) j++;
      if (j == n) {
        if (n == kinds.length) {
          kinds = java.util.Arrays.copyOf(kinds, 2 * n);
          counts = java.util.Arrays.copyOf(counts, 2 * n);
        }
        kinds[n++] = k;
      }
      counts[j]++;
      return super.add(c);
    }

    /** Choice points a jump skipped ({@link #skip}). */
    private long skipped;
    /** Per skip: the records before it, the points a period, the periods skipped. */
    private final List<long[]> skips = new ArrayList<>(0);

    /** The run's choice points: the records plus the points jumps skipped ({@link hmmemu.sim.Scheduler#skipped}). */
    long points() { return size() + skipped; }

    /**
     * A jump skipped {@code reps} more periods of the last {@code k} choice points (hmmemu.sim.ScheduledJump): they
     * are counted per kind as if recorded again in order, and a failing schedule takes them ({@link #schedule}).
     */
    void skip(long reps, int k) {
      if (k <= 0 || k > size()) throw new IllegalStateException("skip: " + k + " points a period of " + size());
      for (int i = size() - k; i < size(); i++) {
        String kind = get(i).pointKind();
        int j = 0;
        while (!kinds[j].equals(kind)) j++;
        counts[j] += reps;
      }
      skipped += Math.multiplyExact(reps, k);
      skips.add(new long[] {size(), k, reps});
    }

    /** The index taken at every choice point, the skipped ones included (each as its period's recorded one). */
    int[] schedule() {
      int[] out = new int[Math.toIntExact(points())];
      int o = 0, r = 0;
      for (long[] sk : skips) {
        for (; r < sk[0]; r++) out[o++] = get(r).taken();
        for (long x = 0; x < sk[2]; x++) for (int i = (int) sk[0] - (int) sk[1]; i < sk[0]; i++) out[o++] = get(i).taken();
      }
      for (; r < size(); r++) out[o++] = get(r).taken();
      return out;
    }

    /** A copy of this list (the same records, counts, skips), to go on from. */
    ChoiceList copy() {
      ChoiceList c = new ChoiceList();
      c.kinds = kinds.clone();
      c.counts = counts.clone();
      c.n = n;
      c.skipped = skipped;
      for (long[] sk : skips) c.skips.add(sk.clone());
      c.addRecords(this);
      return c;
    }

    /** Adds {@code from}'s records without counting them (the counts were copied). */
    private void addRecords(ChoiceList from) { super.addAll(from); }

    /** Adds this run's counts per kind to {@code into}, in this run's first-seen order (Map.merge). */
    void mergeKindsInto(Map<String, Long> into) {
      for (int j = 0; j < n; j++) into.merge(kinds[j], counts[j], Long::sum);
    }
  }

  /** The kind of an event choice point (the simulator's {@link hmmemu.sim.Scheduler}). */
  static final String EVENT = "event";

  /**
   * Counts the messages handed to the link since the steps began, per (direction, type, device), so that a passed
   * over message can be named by a pause point's {@code skip} (its ordinal among the matching messages).
   */
  static final class SendLog implements hmmemu.sim.LinkStage {
    private final hmmemu.sim.LinkStage inner;
    final java.util.IdentityHashMap<HmmProtocol.Msg, Integer> ordinal = new java.util.IdentityHashMap<>();
    private final Map<String, Integer> counts = new HashMap<>();
    boolean on;
    /** Hears each message sent (while on). */
    java.util.function.Consumer<HmmProtocol.Msg> sentAfter = m -> { };

    SendLog(hmmemu.sim.LinkStage inner) { this.inner = inner; }

    @Override
    public void send(int from, int to, HmmProtocol.Msg msg, long[] vc) {
      if (on) {
        sentAfter.accept(msg);
        String k = from + ">" + to + " " + msg.getClass().getSimpleName() + " " + StepExecutor.deviceOf(msg);
        int n = counts.merge(k, 1, Integer::sum) - 1;
        ordinal.putIfAbsent(msg, n);
      }
      inner.send(from, to, msg, vc);
    }

    @Override public void nodeDown(int node) { inner.nodeDown(node); }
    @Override public long inFlight() { return inner.inFlight(); }
    @Override public List<String> stats() { return inner.stats(); }
    @Override public List<String> lost() { return inner.lost(); }
    @Override public void partition(int node, PartitionMode mode) { inner.partition(node, mode); }
    @Override public void heal(int node) { inner.heal(node); }
    @Override public Map<Integer, PartitionMode> partitions() { return inner.partitions(); }
    @Override public long addDelay(int from, int to, double micros, double jitterMicros, long untilNanos) {
      return inner.addDelay(from, to, micros, jitterMicros, untilNanos);
    }
    @Override public void removeDelay(long id) { inner.removeDelay(id); }
    @Override public void setProbability(Fault fault, int from, int to, Double p) { inner.setProbability(fault, from, to, p); }
    @Override public void clearFaults() { inner.clearFaults(); }
  }

  /** A strategy that also sees the simulator itself at each choice point (a probe: {@link Explorer#copyProbe}). */
  interface SeesSim {
    /** Called at each choice point before the strategy chooses. */
    void at(Sim sim);
  }

  /** What a strategy sees at a choice point. */
  interface Strategy {
    /** The index to take at choice point {@code point} (0-based in this run) among {@code e}, in state {@code key}. */
    int choose(int point, long key, Scheduler.Enabled e);

    /** The delay bound of the run's event choices ({@link hmmemu.sim.DelayBound}); unbounded by default. */
    default long maxDelayNanos() { return hmmemu.sim.DelayBound.UNBOUNDED; }

    /** Whether the run's simulator jumps deadline spins ({@link hmmemu.sim.FastForward}; off by default). */
    default boolean fastForward() { return false; }

    /**
     * Whether the run computes the state key at each choice point (the default): false for a lean search run whose
     * strategy and caller never read it (its simulator then folds no input, {@link Sim#keepStateKey}); its choices'
     * {@code stateKey} is 0.
     */
    default boolean keyed() { return true; }

    /**
     * A count that moves whenever what the strategy decides from the enabled sources changes (PCT: its draws and
     * change points), or -1 (the default) when its decisions are not a function of the enabled sources alone
     * (random draws at every point, exhaustive search keys and backtracks, a replay follows a list).
     */
    default long epoch() { return -1; }

    /** How many choice points from {@code point} on the strategy decides with the rule it has now (PCT: up to its next change point). */
    default long stableFor(long point) { return -1; }

    /** A jump skipped {@code reps} more periods of the last {@code perPeriod} choice points (hmmemu.sim.ScheduledJump). */
    default void skipped(long reps, int perPeriod) {}
  }

  /** Choice points whose signatures a run keeps for {@link hmmemu.sim.Scheduler#repeats} (the observed periods' at most). */
  static final int RING = 1024;

  /**
   * A controller request of the steps, in the order the nodes' cores took them: its scenario node, the message, its
   * ordinal among the steps' requests of its type to that node (and device, on a GPU node) in sending order (what a
   * controller hold's {@code skip} counts), and the number of choice points made before its node took it.
   */
  record Request(int node, HmmProtocol.Msg msg, int ordinal, int deliveredAfter) {}

  /** A request's reply: its type and its ordinal among the replies of that type from its node the controller got. */
  record Reply(String type, int ordinal) {}

  /** One message a core stepped on (simulator node index), a link message or a controller request, in run order. */
  record Delivery(int node, HmmProtocol.Msg msg, boolean fromController) {}

  /**
   * The outcome: failures (empty = the file held), the choice points met, whether the run was pruned; the steps'
   * controller requests in delivery order, each link message's and request's ordinal among those of its type and
   * device delivered to its node since the steps began (what an {@code until} counts), every delivery in order, and
   * each link message's ordinal among those sent on its direction (what a pause point's {@code skip} counts) and how
   * many deliveries preceded its sending, and each request's reply; {@code decided}: how many deliveries came before
   * the first failure was recorded (-1: none came after it).
   */
  record Outcome(List<String> failures, List<Choice> choices, boolean pruned, long traceHash, List<Request> requests,
      Map<HmmProtocol.Msg, Integer> delivered, List<Delivery> deliveries, Map<HmmProtocol.Msg, Integer> sent,
      Map<HmmProtocol.Msg, Integer> sentAfter, Map<HmmProtocol.Msg, Reply> replies, int decided) {
    boolean failed() { return !pruned && !failures.isEmpty(); }

    /** The first failure's kind ({@link SimScenarioRunner#failureKind}), or null. */
    String kind() { return failures.isEmpty() ? null : SimScenarioRunner.failureKind(failures.get(0)); }

    /** The choice points met, the ones a jump skipped included ({@link ChoiceList#points}). */
    long points() { return choices instanceof ChoiceList l ? l.points() : choices.size(); }

    int[] schedule() {
      if (choices instanceof ChoiceList l) return l.schedule();
      int[] out = new int[choices.size()];
      for (int i = 0; i < out.length; i++) out[i] = choices.get(i).taken();
      return out;
    }
  }

  private ScheduleRun() {}

  /**
   * The state keys and input hashes ({@link Sim#inputHashes}) at the last run's choice points, for a search whose next
   * run replays a prefix of it (exhaustive search): that run folds no input into the state key before its branch point
   * {@code resumeAt} ({@link Sim#pauseInputs}), takes its prefix's keys from here, and restores the hashes at the branch
   * point ({@link Sim#resumeInputs}). Replay is deterministic, so these are the values it would have computed; the key
   * it then computes at the branch point is checked against the one kept. Emulator-only host mechanism.
   */
  static final class KeyMemo {
    long[] keys = new long[64];
    private long[][] hashes = new long[64][];
    /** The next run's branch point (its last prefix point), where it folds again; -1: it folds from the start. */
    int resumeAt = -1;

    /** Sets {@link #resumeAt}; returns this memo. */
    KeyMemo resumeAt(int point) {
      resumeAt = point;
      return this;
    }

    private void put(int point, long key, long[] h) {
      if (point >= keys.length) {
        keys = java.util.Arrays.copyOf(keys, Math.max(point + 1, keys.length * 2));
        hashes = java.util.Arrays.copyOf(hashes, keys.length);
      }
      keys[point] = key;
      hashes[point] = h;
    }
  }

  private static long mix(long h, long v) { return Long.rotateLeft((h ^ v) * 0x9E3779B97F4A7C15L, 29) + 0x632BE59BD9B4E019L; }

  /**
   * Runs {@code scenario} (one kernel profile) with seed {@code seed}, {@code strategy} choosing; {@code linksOnly}:
   * only link arrivals are choices ({@link hmmemu.sim.Sim#schedulerChoosesAll}).
   */
  static Outcome run(Scenario scenario, long seed, LinkSettings link, long leaseMicros, boolean linksOnly,
      Strategy strategy) {
    return run(scenario, seed, link, leaseMicros, linksOnly, false, strategy);
  }

  /**
   * As {@link #run(Scenario, long, LinkSettings, long, boolean, Strategy)}; {@code lean}: a search run, which records
   * only what a search reads (each choice point's enabled count, the index taken, the state key, the step, the kind
   * and option; the failures): no pause-point ordinals ({@link SendLog}; {@code skip} and {@code takenSkip} are -1)
   * and no trace hash ({@link Sim#hashTrace}; {@code traceHash} is the hash's start value); no requests, deliveries,
   * replies or ordinals of the {@link Outcome} (empty: nothing listens for them); the checker counts by
   * field only when the file reads such a count ({@link SimHost#countsByField}). The run itself, its choice points
   * and its verdict are the same (ExploreLeanRunsTest): the shrinker and the file writer replay with {@code lean}
   * false.
   */
  static Outcome run(Scenario scenario, long seed, LinkSettings link, long leaseMicros, boolean linksOnly,
      boolean lean, Strategy strategy) {
    return run(scenario, seed, link, leaseMicros, linksOnly, lean, strategy, null);
  }

  /** As {@link #run(Scenario, long, LinkSettings, long, boolean, boolean, Strategy)}, keying a prefix from {@code memo}. */
  static Outcome run(Scenario scenario, long seed, LinkSettings link, long leaseMicros, boolean linksOnly,
      boolean lean, Strategy strategy, KeyMemo memo) {
    return run(scenario, seed, link, leaseMicros, linksOnly, lean, strategy, memo, null);
  }

  /**
   * The world of a lean search run (its verdict, simulator host and step executor) at the start of the step in which
   * the run's first choice point lies, for the later runs of the same search (same file, seed, link, lease, choice
   * kinds and delay bound) to start from a deep copy of it ({@link hmmemu.sim.SimCopy}) instead of building the world,
   * setting it up and running the steps before again: no choice point lies before it, so no strategy is asked there
   * and every run passes through exactly this state (ExploreSnapshotTest compares whole explorations with and without).
   * Taken by the search's first simulated run; {@code step} -1 until then. Emulator-only host mechanism.
   */
  static final class Snapshot {
    private Object[] world;
    private int step = -1;
    /** Whether the first run was seen (a run with no choice point leaves no snapshot: nothing to start from). */
    private boolean taken;

    /** The steps a run resumed from this snapshot skips (-1: none taken). */
    int step() { return world == null ? -1 : step; }
  }

  /**
   * A lean search run's world (verdict, simulator host, step executor) at the start of step {@code step}, after the
   * choice points {@code choices} (their records and counts per kind), kept at that node of the runs explored
   * ({@link ExploredRuns.Node#start}): a later run of the same search whose strategy takes the same choices there
   * reaches that step in this very state (a run is deterministic in its choices), so it starts from a deep copy of it
   * ({@link hmmemu.sim.SimCopy}) with these choices, its strategy walked over them ({@link ExploredRuns#advance}),
   * instead of running the steps before. Kept only where the run's own state is all in the world and these choices:
   * no concurrent block drew yet (the state key's draws), no fast-forward (its repeat ring), no step in flight, no
   * pause point or order armed (pending futures: {@link StepExecutor#atRest}). ExploreStepStartTest compares whole
   * explorations with and without. Emulator-only host mechanism.
   */
  record StepStart(Object[] world, int step, ChoiceList choices) {
    /** The choice points made before it. */
    long points() { return choices.points(); }
  }

  /** Which step starts a search run keeps ({@link StepStart}); Emulator-only host mechanism. */
  interface Keeper {
    /** Whether to keep the world at the step start the run reached after {@code points} choice points. */
    boolean wants(long points);

    /** Keeps {@code s} (null: the world could not be copied). */
    void keep(StepStart s);
  }

  /** Whether {@code c} is a record of the parsed file (never changed once parsed): a snapshot shares it. */
  private static boolean parsed(Class<?> c) {
    return c == Scenario.class || c.getEnclosingClass() == Scenario.class || Expectation.class.isAssignableFrom(c)
        || c == PageRange.class || c == Pattern.class || c == Bound.class;
  }

  /** As {@link #run(Scenario, long, LinkSettings, long, boolean, boolean, Strategy, KeyMemo)}; a lean run starts from {@code snap}'s world (or takes it), null: from the start. */
  static Outcome run(Scenario scenario, long seed, LinkSettings link, long leaseMicros, boolean linksOnly,
      boolean lean, Strategy strategy, KeyMemo memo, Snapshot snap) {
    return run(scenario, seed, link, leaseMicros, linksOnly, lean, strategy, memo, snap, null, null);
  }

  /**
   * As {@link #run(Scenario, long, LinkSettings, long, boolean, boolean, Strategy, KeyMemo, Snapshot)}; a lean run
   * with no memo starts from a copy of {@code start} ({@link StepStart}; null: as that run), its strategy standing at
   * {@code start}'s choice points, and keeps the step starts {@code keeper} wants (null: none).
   */
  static Outcome run(Scenario scenario, long seed, LinkSettings link, long leaseMicros, boolean linksOnly,
      boolean lean, Strategy strategy, KeyMemo memo, Snapshot snap, StepStart start, Keeper keeper) {
    return run(scenario, seed, link, leaseMicros, linksOnly, lean, strategy, memo, snap, start, keeper, null, null);
  }

  /**
   * As {@link #run(Scenario, long, LinkSettings, long, boolean, boolean, Strategy, KeyMemo, Snapshot, StepStart,
   * Keeper)}; a lean, keyed run goes on from a copy of {@code mid} ({@link MidStepStart}: inside a step's wait; null:
   * as that run) and copies the world at the choice points {@code midKeeper} wants (null: none).
   */
  static Outcome run(Scenario scenario, long seed, LinkSettings link, long leaseMicros, boolean linksOnly,
      boolean lean, Strategy strategy, KeyMemo memo, Snapshot snap, StepStart start, Keeper keeper, MidStepStart mid,
      MidStepStart.Keeper midKeeper) {
    if (!lean || strategy.fastForward() || !strategy.keyed() || start != null) {
      if (mid != null) throw new IllegalArgumentException("only a lean, keyed run with no fast-forward resumes mid-step");
      midKeeper = null;
    }
    if (!lean) snap = null; // a full run's listeners below hold this run's own maps
    if (!lean || memo != null || strategy.fastForward()) {
      if (start != null) throw new IllegalArgumentException("a full, memoized or fast-forwarded run cannot resume");
      keeper = null;
    }
    boolean resumed = mid != null || start != null || (snap != null && snap.world != null);
    int from = mid != null ? mid.step : start != null ? start.step : resumed ? snap.step : 0;
    Verdict verdict;
    SimHost host;
    StepExecutor steps;
    if (resumed) {
      Object[] w = mid != null && mid.consumed ? mid.world : hmmemu.sim.SimCopy.copyOf(mid != null ? mid.world
          : start != null ? start.world : snap.world, ScheduleRun::parsed);
      verdict = (Verdict) w[0];
      host = (SimHost) w[1];
      steps = (StepExecutor) w[2];
    } else {
      verdict = new Verdict(scenario);
      host = new SimHost(scenario, seed, link, leaseMicros);
      // jumps only where no choice point was met (ScheduledJump); off as the strategy says, whatever the JVM's default
      if (strategy.fastForward()) host.sim().fastForward();
      else host.sim().noFastForward();
      steps = new StepExecutor(scenario, host, verdict);
      host.onCrash(steps::crashed);
    }
    // a run keyed or not as its strategy says; a resumed world was copied from a run of the same search, keyed alike
    boolean keyed = !lean || strategy.keyed();
    if (!keyed && !resumed) host.sim().keepStateKey(false);
    // the first run of a search with snapshots: a copy of the world at each step start until a choice point came
    Object[] pending = null;
    int pendingStep = -1;
    boolean taking = mid == null && start == null && snap != null && !snap.taken && (memo == null || memo.resumeAt <= 0);
    ChoiceList choices = mid != null ? mid.choices.copy() : start != null ? start.choices.copy() : new ChoiceList();
    SendLog log = new SendLog(host.sim().linkStage());
    if (lean) {
      host.sim().hashTrace(false);
    } else {
      host.sim().linkStage(log);
      host.sim().checker().countByField(true); // the full record as before: every count, whether a file reads it or not
    }
    int[] step = {0};
    boolean pruned = false;
    // the controller's requests (ordinal in sending order, per node, type and device) and link deliveries (ordinal
    // per receiving node, type and device), from the first step on
    Map<HmmProtocol.Msg, int[]> asked = new java.util.IdentityHashMap<>();
    Map<String, Integer> askCounts = new HashMap<>();
    List<Request> requests = new ArrayList<>();
    Map<HmmProtocol.Msg, Integer> delivered = new java.util.IdentityHashMap<>();
    Map<String, Integer> deliveryCounts = new HashMap<>();
    // a lean run records none of the requests, deliveries and replies below (only the shrinker's and the file
    // writer's full runs read them): their listeners are not even set, so that each delivery costs nothing here
    if (!lean) host.onAsk((node, m) -> {
      if (!log.on) return;
      String k = node + " " + m.getClass().getSimpleName() + " " + (node == 0 ? -1 : hmmemu.protocol.msg.Msgs.deviceIdOf(m));
      asked.putIfAbsent(m, new int[] {node, askCounts.merge(k, 1, Integer::sum) - 1});
    });
    List<Delivery> deliveries = new ArrayList<>();
    Map<HmmProtocol.Msg, Integer> sentAfter = new java.util.IdentityHashMap<>();
    log.sentAfter = m -> sentAfter.putIfAbsent(m, deliveries.size());
    Map<HmmProtocol.Msg, Reply> replies = new java.util.IdentityHashMap<>();
    Map<String, Integer> replyCounts = new HashMap<>();
    if (!lean) host.onReply((q, a) -> {
      int[] at = asked.get(q);
      if (!log.on || at == null) return;
      String type = a.getClass().getSimpleName();
      replies.putIfAbsent(q, new Reply(type, replyCounts.merge(at[0] + " " + type, 1, Integer::sum) - 1));
    });
    int[] decided = {-1};
    if (!lean) host.sim().onDelivered((index, m, fromController) -> {
      if (!log.on) return;
      if (decided[0] < 0 && verdict.count() > 0) decided[0] = deliveries.size();
      deliveries.add(new Delivery(index, m, fromController));
      if (fromController) {
        int[] a = asked.get(m);
        if (a == null) return;
        requests.add(new Request(a[0], m, a[1], choices.size()));
        String k = "c" + a[0] + " " + m.getClass().getSimpleName() + " " + (a[0] == 0 ? -1 : hmmemu.protocol.msg.Msgs.deviceIdOf(m));
        delivered.putIfAbsent(m, deliveryCounts.merge(k, 1, Integer::sum) - 1);
      } else if (!delivered.containsKey(m)) {
        String k = index + " " + m.getClass().getSimpleName() + " " + StepExecutor.deviceOf(m);
        delivered.put(m, deliveryCounts.merge(k, 1, Integer::sum) - 1);
      }
    });
    if (memo != null && memo.resumeAt > 0) host.sim().pauseInputs();
    try {
      if (!resumed) {
        host.setUp(scenario);
        // The faults block with the host's crash and restart hooks, as SimScenarioRunner runs it: without them a crash
        // line is only logged as failed and the schedule explored is not the file's run.
        if (!scenario.faults().entries().isEmpty()) host.sim().faults(scenario.faults(), host.faultCallbacks());
      }
      log.on = true;
      host.sim().schedulerChoosesAll(!linksOnly);
      // The state key: the simulator's (each node's and the controller's inputs) and, once a concurrent block made a
      // draw, the draws taken so far (the controller's requests then depend on them, not only on its inputs), with
      // the kind of a block's own choice point mixed in (it is not an event choice at the same state).
      long[] draws = {mid != null ? mid.draws : 0};
      MidStepStart.Keeper[] mids = {midKeeper};
      final boolean keyedRun = keyed;
      final class RunScheduler implements Scheduler {
        // per recent choice point (RING of them): its index, the strategy's epoch before it, whether a block's draw,
        // and its signature (enabled count, sources in order, kind, index taken), for repeats; only a run neither
        // keyed nor memoized fills or reads them (an exhaustive search's runs are both: none allocated, 25 KB a run)
        final boolean ring = !keyedRun && memo == null;
        final long[] ringPoint = ring ? new long[RING] : null, ringEpoch = ring ? new long[RING] : null,
            ringSig = ring ? new long[RING] : null;
        final boolean[] ringBlock = ring ? new boolean[RING] : null;
        /** The point count after the last skip: a window must lie past it. */
        long skippedTo;

        @Override
        public int choose(Sim sim, Scheduler.Enabled e) {
          BlockChoice b = e instanceof BlockChoice x ? x : null;
          if (strategy instanceof SeesSim probe) probe.at(sim);
          int point = Math.toIntExact(choices.points());
          long key;
          if (!keyed) {
            key = 0; // nothing reads it (Strategy#keyed)
          } else if (memo != null && point < memo.resumeAt) {
            key = memo.keys[point]; // a replayed prefix point: keyed by the run this prefix comes from
          } else {
            // a run resumed from a world copied inside a paused prefix (MidStepStart) restores the hashes even at point 0
            if (memo != null && point == memo.resumeAt && (point > 0 || mid != null)) sim.resumeInputs(memo.hashes[point]);
            key = sim.stateKey();
            if (draws[0] != 0 || b != null) key = mix(mix(key, draws[0]), b == null ? 0 : b.kind.ordinal() + 1);
            if (memo != null) {
              if (point == memo.resumeAt && point > 0 && key != memo.keys[point]) {
                throw new IllegalStateException("the replayed prefix reached point " + point + " in another state");
              }
              memo.put(point, key, sim.inputHashes());
            }
          }
          long epoch = strategy.epoch();
          int c = strategy.choose(point, key, e);
          if (c < 0 || c >= e.size()) c = 0;
          if (mids[0] != null && b == null && steps.waiting != null && host.waiting != null && mids[0].wants(point, e.size(), c)
              && MidStepStart.inOneWait()) { // the world before this choice (the strategy changed none of it)
            Scheduler mine = sim.scheduler();
            sim.scheduler(null); // the copy gets its own run's scheduler
            try {
              Object[] w = hmmemu.sim.SimCopy.copyOf(new Object[] {verdict, host, steps}, ScheduleRun::parsed);
              hmmemu.sim.SimCopy.unpick(((SimHost) w[1]).sim()); // the run resumed there picks this point again
              mids[0].keep(new MidStepStart(w, step[0], choices.copy(), draws[0]));
            } catch (RuntimeException notCopied) { // a world SimCopy cannot copy: none is kept in this run
              mids[0].keep(null);
              mids[0] = null;
            } finally {
              sim.scheduler(mine);
            }
          }
          Scheduler.LinkEvent over = c == 0 ? null : e.link(0);
          Integer skip = over == null ? null : log.ordinal.get(over.msg());
          Scheduler.LinkEvent taken = e.link(c);
          Integer takenSkip = c == 0 || taken == null ? null : log.ordinal.get(taken.msg());
          choices.add(new Choice(e.size(), c, key, step[0], over, taken, skip == null ? -1 : skip,
              takenSkip == null ? -1 : takenSkip, b == null ? EVENT : b.kind.label, b == null ? -1 : b.options[c],
              pointKind(e)));
          if (ring) { // what repeats() reads; a keyed or memoized run never repeats
            int slot = point % RING;
            ringPoint[slot] = point;
            ringEpoch[slot] = epoch;
            ringBlock[slot] = b != null;
            long sig = mix(e.size(), c * 31L + choices.get(choices.size() - 1).pointKind().hashCode());
            for (int i = 0; i < e.size(); i++) sig = mix(sig, e.source(i));
            ringSig[slot] = sig;
          }
          if (b != null) draws[0] = mix(mix(draws[0] == 0 ? 1 : draws[0], b.kind.ordinal() + 1), b.options[c]);
          return c;
        }

        @Override
        public long maxDelayNanos() { return strategy.maxDelayNanos(); }

        /**
         * hmmemu.sim.ScheduledJump's rule: a run that keys no state (no key is folded nor read) under a strategy whose
         * epoch (draws, change points) did not move in the last {@code window} points, none a block's draw, the
         * {@code periods} periods' signatures equal point by point: as many points as the strategy keeps its rule.
         */
        @Override
        public long repeats(int periods, long window) {
          if (keyedRun || memo != null || window <= 0 || window > RING || window % periods != 0) return -1;
          long to = choices.points(), from = to - window;
          if (from < skippedTo || from < 0) return -1;
          long now = strategy.epoch();
          if (now < 0 || ringEpoch[(int) (from % RING)] != now) return -1;
          long k = window / periods;
          for (long p = from; p < to; p++) {
            int slot = (int) (p % RING);
            if (ringPoint[slot] != p || ringBlock[slot]) return -1;
            if (p + k < to && ringSig[slot] != ringSig[(int) ((p + k) % RING)]) return -1;
          }
          return strategy.stableFor(to);
        }

        @Override
        public void skipped(long reps, int perPeriod) {
          ((ChoiceList) choices).skip(reps, perPeriod);
          strategy.skipped(reps, perPeriod);
          skippedTo = choices.points();
        }
      }
      host.sim().scheduler(hmmemu.sim.DelayBound.bounded(new RunScheduler(), strategy.maxDelayNanos()));
      step[0] = from;
      List<Scenario.Step> all = scenario.steps();
      for (int i = from; i < all.size(); i++) {
        if (taking && choices.isEmpty()) { // no choice point yet: every run is here in this state
          Scheduler mine = host.sim().scheduler();
          host.sim().scheduler(null); // the copy gets its own run's scheduler
          try {
            pending = hmmemu.sim.SimCopy.copyOf(new Object[] {verdict, host, steps}, ScheduleRun::parsed);
            pendingStep = i;
          } catch (RuntimeException notCopied) { // a world SimCopy cannot copy: every run starts from the beginning
            snap.taken = true;
            taking = false;
            pending = null;
          }
          host.sim().scheduler(mine);
        }
        if (keeper != null && mid == null && draws[0] == 0 && steps.atRest() && keeper.wants(choices.points())) {
          Scheduler mine = host.sim().scheduler();
          host.sim().scheduler(null); // the copy gets its own run's scheduler
          try {
            Object[] w = hmmemu.sim.SimCopy.copyOf(new Object[] {verdict, host, steps}, ScheduleRun::parsed);
            keeper.keep(new StepStart(w, i, choices.copy()));
          } catch (RuntimeException notCopied) { // a world SimCopy cannot copy: no step start is kept
            keeper.keep(null);
            keeper = null;
          }
          host.sim().scheduler(mine);
        }
        if (mid != null && i == from) steps.resumeStep(host::resumeWait); // inside the step's wait, as copied
        else steps.runStep(all.get(i));
        step[0]++;
      }
      steps.finish();
      verdict.expectNoViolations(host::violations);
    } catch (Pruned p) {
      pruned = true;
    } catch (ScenarioCluster.SetupFailure e) {
      verdict.fail(e.getMessage());
    } catch (RuntimeException e) {
      verdict.fail(scenario.file() + ":1: the run failed: " + e);
    } finally {
      host.sim().scheduler(null);
      try {
        steps.releasePauses();
      } catch (Pruned p) {
        pruned = true;
      }
    }
    if (taking) {
      snap.taken = true;
      if (!choices.isEmpty() && pending != null && choices.get(0).step() == pendingStep) {
        snap.world = pending;
        snap.step = pendingStep;
      }
    }
    CaseResult r = verdict.result(0);
    return new Outcome(r.failures(), choices, pruned, host.sim().traceHash(), requests, delivered, deliveries,
        log.ordinal, sentAfter, replies, decided[0]);
  }
}
