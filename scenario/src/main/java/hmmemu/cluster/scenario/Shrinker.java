package hmmemu.cluster.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Shrinks a failing schedule by delta debugging (Zeller and Hildebrandt, ddmin, TSE 2002) over its deviations: the
 * choice points where it did not take the seeded order's event (index 0). A candidate keeps a subset of the
 * deviations (every other choice point takes index 0; an index past a point's enabled count takes the last one) and
 * still fails when its replay fails with the same kind. The result is 1-minimal: putting any single remaining
 * deviation back to the seeded choice no longer fails that way. Exploration injects no faults (a file's faults
 * block runs as written, in every schedule), so the deviations are all there is to shrink. Not a kernel structure.
 */
final class Shrinker {
  /** The shrunk schedule, its deviations (choice point -> index), the replay's outcome, and the replays it cost. */
  record Shrunk(int[] schedule, Map<Integer, Integer> deviations, ScheduleRun.Outcome outcome, int replays) {}

  private final Explorer explorer;
  private final String kind;
  private int replays;

  Shrinker(Explorer explorer, String kind) {
    this.explorer = explorer;
    this.kind = kind;
  }

  Shrunk shrink(int[] schedule) {
    List<int[]> devs = new ArrayList<>();
    for (int i = 0; i < schedule.length; i++) if (schedule[i] != 0) devs.add(new int[] {i, schedule[i]});
    List<int[]> kept = ddmin(devs);
    // a final pass: one at a time, until no single removal still fails (1-minimal)
    boolean changed = true;
    while (changed && kept.size() > 1) {
      changed = false;
      for (int i = 0; i < kept.size(); i++) {
        List<int[]> without = new ArrayList<>(kept);
        without.remove(i);
        if (fails(without)) {
          kept = without;
          changed = true;
          break;
        }
      }
    }
    int[] s = toSchedule(kept);
    ScheduleRun.Outcome o = explorer.replay(s);
    replays++;
    Map<Integer, Integer> d = new TreeMap<>();
    for (int[] x : kept) d.put(x[0], x[1]);
    // the replay's own record: what each choice point actually took (a clamped index shows as taken)
    return new Shrunk(o.schedule(), d, o, replays);
  }

  private List<int[]> ddmin(List<int[]> c) {
    if (c.isEmpty() || fails(List.of())) return List.of();
    int n = 2;
    while (c.size() >= 2) {
      List<List<int[]>> parts = split(c, n);
      boolean reduced = false;
      for (List<int[]> part : parts) {
        if (fails(part)) {
          c = part;
          n = 2;
          reduced = true;
          break;
        }
      }
      if (!reduced) {
        for (List<int[]> part : parts) {
          List<int[]> complement = new ArrayList<>(c);
          complement.removeAll(part);
          if (fails(complement)) {
            c = complement;
            n = Math.max(n - 1, 2);
            reduced = true;
            break;
          }
        }
      }
      if (!reduced) {
        if (n >= c.size()) break;
        n = Math.min(c.size(), 2 * n);
      }
    }
    return c;
  }

  private static List<List<int[]>> split(List<int[]> c, int n) {
    List<List<int[]>> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < n; i++) {
      int end = start + (c.size() - start) / (n - i);
      out.add(new ArrayList<>(c.subList(start, end)));
      start = end;
    }
    return out;
  }

  private boolean fails(List<int[]> devs) {
    replays++;
    ScheduleRun.Outcome o = explorer.replay(toSchedule(devs));
    return o.failed() && kind.equals(o.kind());
  }

  private static int[] toSchedule(List<int[]> devs) {
    int len = 0;
    for (int[] d : devs) len = Math.max(len, d[0] + 1);
    int[] s = new int[len];
    for (int[] d : devs) s[d[0]] = d[1];
    return s;
  }
}
