package hmmemu.sim;

import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The detector half of a fast-forward of deadline spins (issue 12): it looks for a driver loop spinning to its
 * deadline (nouveau_atomic_range_fault's HMM_RANGE_DEFAULT_TIMEOUT, docs/PROTOCOL.md §8 R7) whose whole simulator
 * state repeats up to counters. It changes nothing: there is no jump yet (docs/RESULTS.md "The real 1000 ms deadline:
 * where the time goes" says what is built, what was found and what is missing). Off unless {@link Sim#fastForward}
 * is called; nothing in the build calls it but the diagnostic FastForwardProbeTest. Not a kernel structure.
 *
 * <p>Detection: a device whose driver failed read_retry {@link #MIN_STREAK} times in a row (no fault loop of it
 * ended meanwhile) has a picture of the whole simulator ({@link StateWalk}) taken at the agenda boundary after each
 * of its next failed rounds. When, for a period of p rounds (1..{@link #MAX_PERIOD}), each of the last
 * {@link #REPEATS} periods moved every leaf of the picture by the same amount, the state is a cycle up to those
 * amounts ({@link #cycles}: the moving leaves, by path). An attempt that finds none gives up after
 * {@code REPEATS * MAX_PERIOD} pictures and the device is tried again after half as many failed rounds again as it
 * had, so a spin of N rounds costs O(log N) attempts; {@link #structural} then names the first leaf where the
 * pictures differed in shape (a history that grows).
 */
public final class FastForward {
  /** Failed rounds in a row of one device's loop before its state is pictured. */
  static final int MIN_STREAK = 64;
  /** Periods that must repeat, each moving every leaf by the same amount. */
  static final int REPEATS = 3;
  /** Longest period tried, in failed rounds of the watched device (two devices spinning at once: up to 4). */
  static final int MAX_PERIOD = 4;
  /** At most this many structural differences are named (each costs a named picture). */
  private static final int STRUCTURAL_KEPT = 8;

  /** A detected cycle: device, period (its failed rounds), model time per period, the moving leaves (path +delta). */
  public record Cycle(int device, int rounds, long periodNanos, List<String> moving) {}

  private final Sim sim;
  private final Map<Integer, Integer> streak = new HashMap<>();
  private final Map<Integer, Integer> threshold = new HashMap<>();
  private int minStreak = MIN_STREAK;
  private int watching = -1;
  private final List<StateWalk> shots = new ArrayList<>();
  /** The first picture of the attempt with paths, when structural differences are still to be named. */
  private StateWalk firstNamed;
  /** A watched failed round ended in the agenda event that just fired: picture the state at its boundary. */
  boolean due;
  private final List<Cycle> cycles = new ArrayList<>();
  private final List<String> refusals = new ArrayList<>();
  private final List<String> structural = new ArrayList<>();

  FastForward(Sim sim) { this.sim = sim; }

  /** Failed rounds in a row before the first picture (default {@link #MIN_STREAK}); for diagnostics. */
  public FastForward minStreak(int n) {
    this.minStreak = n;
    return this;
  }

  /** A trace event the simulator just judged: counts failed rounds per device, and ends a streak at a loop's end. */
  void onEvent(Trace.Event e) {
    if (e instanceof Trace.ReadRetryChecked r) {
      if (!r.retry()) return;
      int d = r.deviceId();
      int s = streak.merge(d, 1, Integer::sum);
      if (s >= threshold.getOrDefault(d, minStreak) && (watching < 0 || watching == d)) {
        watching = d;
        due = true;
      }
    } else if (e instanceof Trace.DriverFaultHandled h) {
      streak.remove(h.deviceId());
      threshold.remove(h.deviceId());
      if (watching == h.deviceId()) stopWatching();
    }
  }

  private void stopWatching() {
    watching = -1;
    shots.clear();
    firstNamed = null;
    due = false;
  }

  /** The agenda boundary after a watched failed round: picture the state, look for a cycle. */
  void boundary() {
    due = false;
    StateWalk w = StateWalk.of(sim);
    if (w.opaque != null) {
      refusals.add(w.opaque);
      giveUp();
      return;
    }
    shots.add(w);
    if (shots.size() == 1 && structural.size() < STRUCTURAL_KEPT) firstNamed = StateWalk.of(sim, true);
    int m = shots.size() - 1;
    for (int p = 1; p <= MAX_PERIOD && m >= REPEATS * p; p++) {
      Cycle c = cycle(p);
      if (c != null) {
        cycles.add(c);
        firstNamed = null;
        giveUp();
        return;
      }
    }
    if (m >= REPEATS * MAX_PERIOD) giveUp();
  }

  /** No cycle now (or one found): try again after half as many failed rounds again as this device had. */
  private void giveUp() {
    int d = watching;
    if (firstNamed != null) {
      StateWalk now = StateWalk.of(sim, true);
      List<StateWalk.Leaf> a = firstNamed.leaves, b = now.leaves;
      boolean found = false;
      for (int i = 0; i < Math.min(a.size(), b.size()) && !found; i++) {
        if (a.get(i).where() != b.get(i).where()) {
          structural.add("device " + d + " after " + streak.getOrDefault(d, 0) + " failed rounds: " + a.get(i).path()
              + " / " + b.get(i).path() + " (leaves " + a.size() + ", " + b.size() + ")");
          found = true;
        }
      }
      int m = shots.size() - 1;
      if (!found && m >= 2 && a.size() == b.size()) {
        // same shape: name the first leaf that did not move by the same amount in each of the last rounds
        for (int i = 0; i < b.size(); i++) {
          long d1 = shots.get(m).leaves.get(i).value() - shots.get(m - 1).leaves.get(i).value();
          long d2 = shots.get(m - 1).leaves.get(i).value() - shots.get(m - 2).leaves.get(i).value();
          if (d1 != d2) {
            structural.add("device " + d + " after " + streak.getOrDefault(d, 0) + " failed rounds, same shape ("
                + b.size() + " leaves): " + b.get(i).path() + " moved by " + d2 + ", then " + d1);
            break;
          }
        }
      }
    }
    int s = Math.max(streak.getOrDefault(d, minStreak), minStreak);
    threshold.put(d, s + s / 2);
    stopWatching();
  }

  /** The cycle of period p over the last REPEATS periods, or null. */
  private Cycle cycle(int p) {
    int m = shots.size() - 1;
    List<StateWalk.Leaf> last = shots.get(m).leaves;
    for (int k = 1; k <= REPEATS; k++) {
      if (shots.get(m - k * p).leaves.size() != last.size()) return null;
    }
    List<StateWalk.Leaf> before = shots.get(m - p).leaves;
    List<Integer> moving = new ArrayList<>();
    List<Long> deltas = new ArrayList<>();
    for (int i = 0; i < last.size(); i++) {
      long d = last.get(i).value() - before.get(i).value();
      for (int k = 1; k <= REPEATS; k++) {
        StateWalk.Leaf x = shots.get(m - (k - 1) * p).leaves.get(i), y = shots.get(m - k * p).leaves.get(i);
        if (x.where() != y.where() || x.value() - y.value() != d) return null;
      }
      if (d != 0) {
        moving.add(i);
        deltas.add(d);
      }
    }
    StateWalk named = StateWalk.of(sim, true);
    List<String> paths = new ArrayList<>();
    long period = -1;
    for (int j = 0; j < moving.size(); j++) {
      String path = named.leaves.get(moving.get(j)).path();
      paths.add(path + " +" + deltas.get(j));
      if (path.equals("sim.now")) period = deltas.get(j);
    }
    return new Cycle(watching, p, period, paths);
  }

  /** Cycles detected so far. */
  public List<Cycle> cycles() { return List.copyOf(cycles); }

  /** Why pictures could not be trusted (a JDK object the walk cannot open, two hashed keys alike). */
  public List<String> refusals() { return List.copyOf(refusals); }

  /** The first leaf where an attempt's first and last pictures differed in shape (the first few attempts). */
  public List<String> structural() { return List.copyOf(structural); }
}
