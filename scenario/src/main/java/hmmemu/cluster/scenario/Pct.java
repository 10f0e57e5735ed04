package hmmemu.cluster.scenario;

import hmmemu.sim.Scheduler;
import java.util.Arrays;

/**
 * PCT's scheduler for one run of a random or PCT exploration ({@link Explorer}: probabilistic concurrency testing,
 * Burckhardt et al., ASPLOS 2010), drawing from {@link Explorer.Draws}. Moved out of Explorer (session 21, xstep1)
 * unchanged. Not a kernel structure.
 */
final class Pct implements ScheduleRun.Strategy {
  private final Explorer.Draws rng;
  private final int depth;
  private final KeyTable priority = new KeyTable(); // source -> priority
  private final int[] changeAt;
  private int changes;
  private int nextLow;
  /** Draws for new sources and change points taken ({@link ScheduleRun.Strategy#epoch}). */
  private long epoch;

  Pct(Explorer.Draws rng, int depth, int length) {
    this.rng = rng;
    this.depth = depth;
    this.changeAt = new int[Math.max(0, depth - 1)];
    for (int i = 0; i < changeAt.length; i++) changeAt[i] = rng.nextInt(length);
    Arrays.sort(changeAt);
    this.nextLow = depth - 1;
  }

  @Override
  public int choose(int point, long key, Scheduler.Enabled e) {
    int best = 0;
    int bestP = Integer.MIN_VALUE;
    for (int i = 0; i < e.size(); i++) {
      // a new source gets a random initial priority in [depth, depth + 10^6): distinct with high probability
      // get, then put when absent: computeIfAbsent's lambda captured this strategy at every enabled source
      long source = e.source(i);
      int known = priority.get(source);
      int p;
      if (known != KeyTable.ABSENT) {
        p = known;
      } else {
        p = depth + rng.nextInt(1_000_000);
        epoch++;
        priority.put(source, p);
      }
      if (p > bestP) {
        bestP = p;
        best = i;
      }
    }
    while (changes < changeAt.length && changeAt[changes] <= point) {
      changes++;
      epoch++;
      priority.put(e.source(best), nextLow--); // the change point: the running source drops below all others
      return choose(point, key, e);
    }
    return best;
  }

  /**
   * PCT decides from the enabled sources' priorities alone: they change only at a draw (a new source) or a change
   * point, which this counts (hmmemu.sim.ScheduledJump may skip points decided between them).
   */
  @Override
  public long epoch() { return epoch; }

  /** The points from {@code point} on before the next change point (it fires at the first point >= changeAt). */
  @Override
  public long stableFor(long point) {
    return changes < changeAt.length ? Math.max(0, changeAt[changes] - point) : Long.MAX_VALUE;
  }
}
