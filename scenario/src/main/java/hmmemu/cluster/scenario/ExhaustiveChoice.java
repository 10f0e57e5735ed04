package hmmemu.cluster.scenario;

/**
 * The choice a bounded exhaustive schedule makes at one choice point: follow its prefix, then take the first
 * alternative unless the state's key was already visited with no more deviations. Not a kernel structure: the
 * emulator's schedule search (docs/PROTOCOL.md is silent; docs/TESTING.md, "Explore").
 */
final class ExhaustiveChoice {
  private ExhaustiveChoice() {}

  /**
   * The alternative taken at {@code point} (of {@code enabled}) by the schedule with {@code prefix}; {@code dev[0]}
   * counts its deviations so far and {@code visited} keys each state past the prefix with the fewest deviations it
   * was reached with. Throws {@link ScheduleRun.Pruned} where the state was reached before with no more.
   */
  static int choose(int[] prefix, int point, long key, int enabled, int[] dev, KeyTable visited) {
    if (point < prefix.length) {
      int c = Math.min(prefix[point], enabled - 1);
      if (c != 0) dev[0]++;
      if (point == prefix.length - 1) visited.putMin(key, dev[0] - (c != 0 ? 1 : 0));
      return c;
    }
    int seen = visited.get(key);
    if (seen != KeyTable.ABSENT && seen <= dev[0]) throw new ScheduleRun.Pruned();
    visited.put(key, dev[0]);
    return 0;
  }

  /**
   * The lexicographic successor's branch point within the deviation bound: the last point of {@code choices} with an
   * alternative left whose taking keeps the schedule within {@code maxDeviations}, or -1 when the search is done.
   */
  static int nextBranch(java.util.List<ScheduleRun.Choice> choices, int maxDeviations) {
    int[] used = new int[choices.size() + 1];
    for (int i = 0; i < choices.size(); i++) used[i + 1] = used[i] + (choices.get(i).taken() != 0 ? 1 : 0);
    for (int i = choices.size() - 1; i >= 0; i--) if (branches(choices.get(i), used[i], maxDeviations)) return i;
    return -1;
  }

  /**
   * Whether the search branches at choice {@code c} later: an alternative is left and taking it keeps the schedule,
   * with {@code used} deviations before the point, within {@code maxDeviations} (also {@link ExhaustiveCopies#ran}).
   */
  static boolean branches(ScheduleRun.Choice c, int used, int maxDeviations) {
    return c.taken() + 1 < c.enabled() && used + 1 <= maxDeviations;
  }
}
