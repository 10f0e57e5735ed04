package hmmemu.cluster.scenario;

import java.util.Map;
import java.util.TreeMap;

/**
 * The worlds an exhaustive search keeps at choice points inside a step's wait ({@link MidStepStart}), by choice point,
 * all on the current schedule's path, so that the next schedule, which replays a prefix of the last one and branches
 * at its last point, goes on from the copy nearest before its branch point instead of replaying the prefix. A run
 * keeps a copy at each of its points where the search will branch later (an alternative left within the deviation
 * bound, as {@link Explorer}'s successor rule reads it) from its branch point on; at most {@link #MAX} are kept (the
 * deepest: depth-first search branches there first). Copies past a new schedule's branch point lie on another path
 * and are dropped. {@code -Dhmm-emu.explore.mid-copies=N} sets the bound (0: none). Emulator-only host mechanism.
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

  /** The run just made {@code points} choice points. */
  void ran(int points) { lastLength = points; }

  /**
   * The copy a schedule branching at {@code branch} goes on from (null: none), after dropping those past it; {@code
   * last}: the schedule takes the branch point's last alternative, so a copy kept exactly there is not needed again
   * and the run goes on from it itself ({@link MidStepStart#consumed}) instead of from a copy of it.
   */
  MidStepStart forBranch(int branch, boolean last) {
    kept.tailMap(branch, false).clear();
    Map.Entry<Integer, MidStepStart> e = branch < 0 ? null : kept.floorEntry(branch);
    if (e == null) return null;
    resumed++;
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
    return new MidStepStart.Keeper() {
      @Override
      public boolean wants(int point, int enabled, int taken) {
        if (point < from || (point >= prefix && point < newFrom) || taken + 1 >= enabled || kept.containsKey(point)) {
          return false;
        }
        return deviations.getAsInt() - (taken != 0 ? 1 : 0) + 1 <= maxDeviations;
      }

      @Override
      public void keep(MidStepStart s) {
        if (s == null) {
          failed = true; // a world SimCopy cannot copy: no more copies in this search
          return;
        }
        kept.put(s.point(), s);
        if (kept.size() > MAX) kept.pollFirstEntry();
      }
    };
  }
}
