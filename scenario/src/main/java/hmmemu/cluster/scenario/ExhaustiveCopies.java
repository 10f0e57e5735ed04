package hmmemu.cluster.scenario;

import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The worlds an exhaustive search keeps at choice points inside a step's wait ({@link MidStepStart}), by choice point,
 * all on the current schedule's path, so that the next schedule, which replays a prefix of the last one and branches
 * at its last point, goes on from the copy nearest before its branch point instead of replaying the prefix. A run
 * keeps a copy at each of its points where the search will branch later (an alternative left within the deviation
 * bound, {@link ExhaustiveChoice#branches}) from its branch point on; at most {@link #MAX} are kept (the
 * deepest: depth-first search branches there first). Copies past a new schedule's branch point lie on another path
 * and are dropped. A run that replays more than that window before its branch point also keeps checkpoints below it
 * ({@link #checkpoints}): in each band of doubling length below the window, the last point inside a step's wait (where
 * the run can copy its world) at or before the band's deepest point where the search will branch, so that the search, once it backtracks past the window, goes on from
 * one of them instead of replaying the whole prefix again (c01's first runs: ~3,400 points each time).
 * {@code -Dhmm-emu.explore.mid-copies=N} sets the bound (0: none); {@code -Dhmm-emu.explore.checkpoints=false} turns
 * the checkpoints off. Emulator-only host mechanism.
 */
final class ExhaustiveCopies {
  static final int MAX = Integer.getInteger("hmm-emu.explore.mid-copies", 32);
  private final TreeMap<Integer, MidStepStart> kept = new TreeMap<>();
  private final int maxDeviations;
  private boolean failed;
  /** Runs that went on from a kept copy. */
  int resumed;

  ExhaustiveCopies(int maxDeviations) { this.maxDeviations = maxDeviations; }

  /** The last run's choice points (where the next run's new points are kept from: the last {@link #MAX} / 2). */
  private int lastLength = Integer.MAX_VALUE;
  /** The point the next run goes on from ({@link #forBranch}; -1: the start). */
  private int resumeAt = -1;
  /** The last run's points where the search will branch (an alternative left within the deviation bound). */
  private final BitSet branching = new BitSet();
  /** The points where a run was inside a step's wait (the keeper was asked there), as the runs last visited them. */
  private final BitSet inWait = new BitSet();
  /** Whether runs keep checkpoints below their window ({@link #checkpoints}). */
  boolean checkpointing = !"false".equals(System.getProperty("hmm-emu.explore.checkpoints"));
  /** Checkpoints kept, and schedules that went on from one. */
  int checkpointsKept, fromCheckpoints;

  /** The run just made the choice points {@code cs} (all of them: a resumed run's list holds its copy's). */
  void ran(List<ScheduleRun.Choice> cs) {
    lastLength = cs.size();
    branching.clear();
    int used = 0;
    for (int i = 0; i < cs.size(); i++) {
      ScheduleRun.Choice c = cs.get(i);
      if (ExhaustiveChoice.branches(c, used, maxDeviations)) branching.set(i);
      if (c.taken() != 0) used++;
    }
  }

  /**
   * The copy a schedule branching at {@code branch} goes on from (null: none), after dropping those past it; {@code
   * last}: the schedule takes the branch point's last alternative, so a copy kept exactly there is not needed again
   * and the run goes on from it itself ({@link MidStepStart#consumed}) instead of from a copy of it.
   */
  MidStepStart forBranch(int branch, boolean last) {
    kept.tailMap(branch, false).clear();
    Map.Entry<Integer, MidStepStart> e = branch < 0 ? null : kept.floorEntry(branch);
    resumeAt = e == null ? -1 : e.getKey();
    if (e == null) return null;
    resumed++;
    if (e.getValue().checkpoint) fromCheckpoints++;
    MidStepStart s = e.getValue();
    if (last && e.getKey() == branch) {
      kept.remove(branch);
      s.consumed = true;
    }
    return s;
  }

  /**
   * What a run with prefix length {@code prefix} keeps: at the points where the search will branch (an alternative
   * left within the deviation bound) within {@link #MAX} / 2 points before its branch point and before the last run's
   * end (a copy elsewhere would be dropped before its use: a first run of thousands of points would copy the world at
   * each); {@code deviations} reads the run's deviations so far (its
   * strategy's count, the point just decided included).
   */
  MidStepStart.Keeper keeper(int prefix, java.util.function.IntSupplier deviations) {
    if (failed || MAX <= 0) return null;
    int window = Math.max(1, MAX / 2);
    // a prefix point within the window before the branch point (the search branches there after the branch point's
    // subtree), or a new point within the window before the last run's end (the first run: none)
    int from = prefix - 1 - window, newFrom = lastLength - window;
    BitSet below = checkpoints(from, window);
    inWait.clear(Math.max(0, resumeAt), Integer.MAX_VALUE); // this run visits them again
    return new MidStepStart.Keeper() {
      @Override
      public boolean wants(int point, int enabled, int taken) {
        inWait.set(point);
        if (point < from) return below.get(point) && !kept.containsKey(point);
        if ((point >= prefix && point < newFrom) || taken + 1 >= enabled || kept.containsKey(point)) return false;
        return deviations.getAsInt() - (taken != 0 ? 1 : 0) + 1 <= maxDeviations;
      }

      @Override
      public void keep(MidStepStart s) {
        if (s == null) {
          failed = true; // a world SimCopy cannot copy: no more copies in this search
          return;
        }
        if (s.point() < from) {
          checkpointsKept++;
          s.checkpoint = true;
        }
        kept.put(s.point(), s);
        if (kept.size() > MAX) kept.pollFirstEntry();
      }
    };
  }

  /**
   * The prefix points below the window (points before {@code from}) the next run keeps a checkpoint at: in each band
   * of distance (window, 2 window], (2 window, 4 window], ... below the branch point, the last point inside a step's
   * wait ({@link #inWait}, as the runs last visited it: the run can copy its world there) at or before the band's
   * deepest point where the search will branch ({@link #branching}; a branch point outside a wait, in an expectation's
   * inspection, goes on from the wait before it), if that lies in the band and past the point the run goes on from.
   * None when the run replays no more than the window. A later schedule that branches below the window then replays
   * about its distance to the nearest checkpoint below it, not the whole prefix.
   */
  private BitSet checkpoints(int from, int window) {
    BitSet out = new BitSet();
    if (!checkpointing || from - 1 <= resumeAt) return out;
    for (long hi = from - 1, width = window; hi > resumeAt; hi -= width, width *= 2) {
      int b = branching.previousSetBit((int) hi);
      int q = b < 0 ? -1 : inWait.previousSetBit(b);
      if (q > resumeAt && q > hi - width) out.set(q);
    }
    return out;
  }
}
