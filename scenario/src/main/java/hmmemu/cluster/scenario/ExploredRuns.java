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
  }

  private final Node root = new Node();
  private int kept;

  /**
   * Walks {@code s} over the kept runs, from point 0, handing it each point's recorded enabled sources (the state
   * key it gets is 0: a random or PCT strategy does not read it): the leaf of the kept run it takes every choice of,
   * or null when it leaves the kept runs (the run must be simulated).
   */
  Node walk(ScheduleRun.Strategy s) {
    Node at = root;
    for (int point = 0; ; point++) {
      if (at.sources == null) return at.points >= 0 ? at : null;
      Recorded e = new Recorded(at.sources);
      int c = s.choose(point, 0, e);
      if (c < 0 || c >= e.size()) c = 0; // as ScheduleRun takes it
      at = at.next[c];
      if (at == null) return null;
    }
  }

  /** Whether no run is added any more ({@link #MAX_POINTS}). */
  boolean full() { return kept >= MAX_POINTS; }

  /** Keeps the simulated run {@code o}, whose strategy was {@code r} (unless the trie is full). */
  void add(Recorder r, ScheduleRun.Outcome o) {
    List<ScheduleRun.Choice> cs = o.choices();
    if (r.sources.size() != cs.size()) {
      throw new IllegalStateException("the strategy saw " + r.sources.size() + " choice points, the run made "
          + cs.size());
    }
    if (kept + cs.size() > MAX_POINTS) return;
    Node at = root;
    for (int i = 0; i < cs.size(); i++) {
      long[] src = r.sources.get(i);
      if (at.sources == null) {
        if (at.points >= 0) throw notDeterministic(i, "a kept run ended there");
        at.sources = src;
        at.next = new Node[src.length];
        kept++;
      } else if (!Arrays.equals(at.sources, src)) {
        throw notDeterministic(i, "other events were enabled there");
      }
      int t = cs.get(i).taken();
      if (at.next[t] == null) at.next[t] = new Node();
      at = at.next[t];
    }
    if (at.sources != null) throw notDeterministic(cs.size(), "a kept run went on there");
    if (at.points < 0) {
      Map<String, Long> kinds = new LinkedHashMap<>();
      if (cs instanceof ScheduleRun.ChoiceList l) l.mergeKindsInto(kinds); // the same counts in the same order
      else for (ScheduleRun.Choice c : cs) kinds.merge(c.pointKind(), 1L, Long::sum);
      at.kinds = kinds;
      at.points = cs.size();
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

    Recorder(ScheduleRun.Strategy inner) { this.inner = inner; }

    @Override
    public int choose(int point, long key, Scheduler.Enabled e) {
      long[] src = new long[e.size()];
      for (int i = 0; i < src.length; i++) src[i] = e.source(i);
      sources.add(src);
      return inner.choose(point, key, e);
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
