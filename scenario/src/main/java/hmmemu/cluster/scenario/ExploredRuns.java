package hmmemu.cluster.scenario;

import hmmemu.sim.Scheduler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The runs a random or PCT exploration simulated ({@link Explorer}), as a trie over their choice points: at each
 * point the sources of the enabled events the strategy saw ({@link Scheduler.Enabled#source}), and a child per index
 * taken. A run is deterministic in its choices (the replay {@code hmm-emu explore} prints rests on it), and these
 * strategies choose from the enabled count and sources alone, so walking a new run's strategy over the trie
 * ({@link #walk}) tells, without simulating, whether it would take the very choices of a run simulated before: then it
 * is that run, with the same choice points, states and verdict. Files with few choice points or few sources repeat
 * most of their schedules (a file with none has exactly one). Emulator-only host mechanism.
 */
final class ExploredRuns {
  /**
   * At most this many choice points are kept (about 100 bytes each): past it, new runs are no longer added (the
   * ones kept are still looked up), so that long runs, which rarely repeat, cost no memory.
   */
  static final int MAX_POINTS = 300_000;

  /** A choice point of a kept run (its enabled sources, a child per index taken), or a leaf (where a run ended). */
  static final class Node {
    private long[] sources;
    private Node[] next;
    /** At a leaf: the run's choice points, and their count per kind ({@link ScheduleRun#pointKind}). */
    int points = -1;
    Map<String, Long> kinds;
    /**
     * A copy of the world at the start of a step that runs taking this node's path reach after exactly its depth of
     * choice points, before the next one (null: none kept): a later run taking the same path starts there
     * ({@link ScheduleRun.StepStart}).
     */
    ScheduleRun.StepStart start;
  }

  private final Node root = new Node();
  private int kept;

  /**
   * At most this many step starts are kept per exploration ({@link Node#start}: a copy of the world, a few MB for the
   * long files); {@code -Dhmm-emu.explore.step-starts=N}.
   */
  static final int MAX_STARTS = Integer.getInteger("hmm-emu.explore.step-starts", 32);
  private int starts;
  /** Whether a world could not be copied: no step start is kept any more. */
  private boolean uncopyable;

  /**
   * Where a strategy's walk over the kept runs ends: the leaf of the kept run it repeats whole (null: it leaves the
   * kept runs), and the deepest node on its path with a kept step start, at depth {@code startDepth} (null, -1: none).
   */
  record Walked(Node leaf, Node start, int startDepth) {}

  /**
   * Walks {@code s} over the kept runs, from point 0, handing it each point's recorded enabled sources (the state
   * key it gets is 0: a random or PCT strategy does not read it): the leaf of the kept run it takes every choice of,
   * or null when it leaves the kept runs (the run must be simulated).
   */
  Node walk(ScheduleRun.Strategy s) { return walkFor(s).leaf(); }

  /** As {@link #walk}, also naming the deepest kept step start on the strategy's path ({@link Walked}). */
  Walked walkFor(ScheduleRun.Strategy s) {
    Node at = root;
    Node start = null;
    int depth = -1;
    for (int point = 0; ; point++) {
      if (at.start != null) {
        start = at;
        depth = point;
      }
      if (at.sources == null) return new Walked(at.points >= 0 ? at : null, start, depth);
      Recorded e = new Recorded(at.sources);
      int c = s.choose(point, 0, e);
      if (c < 0 || c >= e.size()) c = 0; // as ScheduleRun takes it
      at = at.next[c];
      if (at == null) return new Walked(null, start, depth);
    }
  }

  /**
   * Walks a fresh strategy {@code s} (drawing what the walk of {@link #walkFor} drew) over the first {@code depth}
   * choice points of the path to {@code to}, as the run would take them, so that it stands where a run resumed at
   * {@code to}'s step start goes on; returns the enabled sources it saw (the resumed run's {@link Recorder} holds them).
   */
  List<long[]> advance(ScheduleRun.Strategy s, Node to, int depth) {
    List<long[]> seen = new ArrayList<>(depth);
    Node at = root;
    for (int point = 0; point < depth && at != null && at.sources != null; point++) {
      Recorded e = new Recorded(at.sources);
      int c = s.choose(point, 0, e);
      if (c < 0 || c >= e.size()) c = 0;
      seen.add(at.sources);
      at = at.next[c];
    }
    if (at != to || seen.size() != depth) throw new IllegalStateException("the strategy left the path it walked");
    return seen;
  }

  /**
   * Which step starts run {@code r} keeps ({@link ScheduleRun.Keeper}): the first step start it reaches at a node of
   * the kept runs (its choices so far are those of a run simulated before, so later runs may take them again) that
   * holds none yet, past the first choice point, while fewer than {@link #MAX_STARTS} are kept.
   */
  ScheduleRun.Keeper keeper(Recorder r) {
    return new ScheduleRun.Keeper() {
      @Override
      public boolean wants(long points) {
        Node at = r.cursor;
        return at != null && at.start == null && at.sources != null && points > 0 && starts < MAX_STARTS
            && !uncopyable;
      }

      @Override
      public void keep(ScheduleRun.StepStart s) {
        if (s == null) {
          uncopyable = true;
          return;
        }
        r.cursor.start = s;
        starts++;
      }
    };
  }

  /** Whether no run is added any more ({@link #MAX_POINTS}). */
  boolean full() { return kept >= MAX_POINTS; }

  /** Keeps the simulated run {@code o}, whose strategy was {@code r} (unless the trie is full). */
  void add(Recorder r, ScheduleRun.Outcome o) {
    List<ScheduleRun.Choice> cs = o.choices();
    if (r.sources.size() + r.notKept != o.points()) {
      throw new IllegalStateException("the strategy saw " + (r.sources.size() + r.notKept) + " choice points, the run"
          + " made " + o.points());
    }
    if (r.notKept > 0 || kept + o.points() > MAX_POINTS) return;
    int[] taken = o.schedule(); // the index taken at each point, a jump's skipped ones included
    Node at = root;
    for (int i = 0; i < taken.length; i++) {
      long[] src = r.sources.get(i);
      if (at.sources == null) {
        if (at.points >= 0) throw notDeterministic(i, "a kept run ended there");
        at.sources = src;
        at.next = new Node[src.length];
        kept++;
      } else if (!Arrays.equals(at.sources, src)) {
        throw notDeterministic(i, "other events were enabled there");
      }
      int t = taken[i];
      if (at.next[t] == null) at.next[t] = new Node();
      at = at.next[t];
    }
    if (at.sources != null) throw notDeterministic(taken.length, "a kept run went on there");
    if (at.points < 0) {
      Map<String, Long> kinds = new LinkedHashMap<>();
      if (cs instanceof ScheduleRun.ChoiceList l) l.mergeKindsInto(kinds); // the same counts in the same order
      else for (ScheduleRun.Choice c : cs) kinds.merge(c.pointKind(), 1L, Long::sum);
      at.kinds = kinds;
      at.points = Math.toIntExact(o.points());
    }
  }

  private static IllegalStateException notDeterministic(int point, String why) {
    return new IllegalStateException("a run took the choices of a kept run up to point " + point + " but " + why
        + ": the runs are not deterministic in their choices");
  }

  /** A strategy that records the enabled sources it sees at each choice point. */
  static final class Recorder implements ScheduleRun.Strategy {
    private final ScheduleRun.Strategy inner;
    final List<long[]> sources = new ArrayList<>();
    /** Points a jump skipped that {@link #sources} does not hold (the run is then too long to keep, {@link #MAX_POINTS}). */
    long notKept;

    /**
     * The kept runs' node of the run's next choice point while its choices so far are a kept run's (null once it left
     * them, or a jump skipped points): where {@link #keeper} keeps a step start.
     */
    private Node cursor;
    /**
     * The choice points the kept runs had room for when the run started ({@link #MAX_POINTS} less those kept): a run
     * with more is not kept ({@link #add}; the kept points only grow), so a jump's skipped points past it are counted
     * ({@link #notKept}), not recorded one by one.
     */
    private final long room;

    Recorder(ScheduleRun.Strategy inner) {
      this.inner = inner;
      this.room = MAX_POINTS;
    }

    /** A recorder of a run over the kept runs {@code runs}, starting at their root. */
    Recorder(ScheduleRun.Strategy inner, ExploredRuns runs) { this(inner, runs, runs.root, List.of()); }

    /**
     * A recorder of a run over the kept runs {@code runs}, resumed at {@code at}'s step start ({@link
     * ScheduleRun.StepStart}), whose strategy {@code inner} was walked over its first choice points ({@link #advance}),
     * which saw {@code before}.
     */
    Recorder(ScheduleRun.Strategy inner, ExploredRuns runs, Node at, List<long[]> before) {
      this.inner = inner;
      this.cursor = at;
      this.room = (long) MAX_POINTS - runs.kept;
      sources.addAll(before);
    }

    @Override
    public long epoch() { return inner.epoch(); }

    @Override
    public long stableFor(long point) { return inner.stableFor(point); }

    /**
     * The skipped points saw the last period's sources again (hmmemu.sim.ScheduledJump), unless the run is too long to
     * keep: more points than the kept runs had room for when it started.
     */
    @Override
    public void skipped(long reps, int perPeriod) {
      inner.skipped(reps, perPeriod);
      cursor = null;
      long more = reps * perPeriod;
      if (notKept > 0 || sources.size() + more > room) {
        notKept += more;
        return;
      }
      int from = sources.size() - perPeriod;
      for (long x = 0; x < reps; x++) for (int i = 0; i < perPeriod; i++) sources.add(sources.get(from + i));
    }

    @Override
    public int choose(int point, long key, Scheduler.Enabled e) {
      long[] src = new long[e.size()];
      for (int i = 0; i < src.length; i++) src[i] = e.source(i);
      sources.add(src);
      int c = inner.choose(point, key, e);
      if (cursor != null) cursor = cursor.sources == null ? null : cursor.next[c < 0 || c >= src.length ? 0 : c];
      return c;
    }
  }

  /** A kept choice point as the strategy sees it: its sources (no times or link events: not read by the strategies). */
  private record Recorded(long[] sources) implements Scheduler.Enabled {
    @Override public int size() { return sources.length; }
    @Override public long source(int i) { return sources[i]; }
    @Override public long atNanos(int i) { throw new UnsupportedOperationException("not kept"); }
    @Override public Scheduler.LinkEvent link(int i) { throw new UnsupportedOperationException("not kept"); }
  }
}
