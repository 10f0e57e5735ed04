package hmmemu.sim;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * When {@link FastForward} looks again at a spin that a jump left at a leaf ahead (a CPU thread's wake, an agenda
 * event) and that resumes after it: after a short streak, the failed rounds the checker rings' windows need to show
 * only entries taken in since that leaf, by the intake a period the jump's look saw, instead of the normal
 * {@link FastForward#MIN_STREAK}; a look so refused falls back to the normal streak. An emulator-only mechanism, not a
 * kernel structure: it decides only when to look, never what a jump writes (docs/PERFORMANCE.md "Session 21:
 * ffresume").
 */
final class FastForwardResume {
  /**
   * Failed rounds at least in a short streak ({@code -Dhmm.ff.resumeStreak}; 0: never a short streak, the normal
   * streak after every leaf as before session 21).
   */
  static final int RESUME_STREAK = Integer.getInteger("hmm.ff.resumeStreak", 16);

  private final int least;
  /** Per device given the short streak: the threshold the normal streak would have set, which a refusal restores. */
  private final Map<Integer, Integer> fallback = new HashMap<>();
  /** The last look jumped: the next rearm gives the spins past their first streak the short streak. */
  private boolean next;
  /** The short streak the last jump's look learned ({@link #learn}). */
  private int rounds;

  /** The short streak of at least {@code least} failed rounds (0: none). */
  FastForwardResume(int least) { this.least = least; }

  /** A look jumped and its leaf ahead rearms the devices: learn the short streak from the look's marks. */
  void jumped(List<long[]> marks, int period) {
    next = true;
    rounds = learn(marks, period);
  }

  /**
   * The failed rounds after which a checker ring's window ({@link StateWalk#RING_WINDOW} entries) has taken in only
   * entries of the spin: by the InvalidateEnded and FolioUnlockPutDone events a period (marks 4 and 5, upper bounds
   * of the ended and released rings' intake), at least {@link #least}.
   */
  private int learn(List<long[]> marks, int period) {
    int m = marks.size() - 1;
    long r = least;
    for (int j = 4; j <= 5 && period > 0 && m >= period; j++) {
      long per = marks.get(m)[j] - marks.get(m - period)[j];
      if (per > 0) r = Math.max(r, (StateWalk.RING_WINDOW * (long) period + per - 1) / per);
    }
    return (int) Math.min(r, Integer.MAX_VALUE);
  }

  /**
   * The rearm after the leaf: each device in a streak gets its threshold, the short streak for a spin past its
   * first normal streak when the last look jumped (its normal threshold kept as the fallback), else the normal one.
   */
  void rearm(Map<Integer, Integer> streak, Map<Integer, Integer> threshold, int minStreak) {
    boolean resume = next && least > 0 && rounds < minStreak;
    next = false;
    fallback.clear();
    for (Map.Entry<Integer, Integer> x : streak.entrySet()) {
      int t = threshold.getOrDefault(x.getKey(), minStreak);
      if (t == Integer.MAX_VALUE) continue;
      int normal = Math.max(t, x.getValue() + minStreak);
      if (resume && x.getValue() >= minStreak) {
        threshold.put(x.getKey(), Math.max(t, x.getValue() + rounds));
        fallback.put(x.getKey(), normal);
      } else {
        threshold.put(x.getKey(), normal);
      }
    }
  }

  /** Whether device d's look comes after a short streak. */
  boolean resumed(int d) { return fallback.containsKey(d); }

  /** Device d's loop ended. */
  void ended(int d) { fallback.remove(d); }

  /**
   * Device d's look ended ({@code why} null: jumped). When a look after a short streak was refused, every device so
   * rearmed gets its normal threshold back and this returns true; the caller then sets no other threshold.
   */
  boolean fellBack(int d, String why, Map<Integer, Integer> streak, Map<Integer, Integer> threshold) {
    Integer f = fallback.remove(d);
    next = false;
    if (why == null || f == null) return false;
    fallback.put(d, f);
    for (Map.Entry<Integer, Integer> x : fallback.entrySet()) {
      threshold.put(x.getKey(), Math.max(x.getValue(), streak.getOrDefault(x.getKey(), 0) + 1));
    }
    fallback.clear();
    return true;
  }

  /** Diagnostics (the ff log): the rings' intake a period the look saw. */
  static String intake(List<long[]> marks, int period) {
    int m = marks.size() - 1;
    if (period <= 0 || m < period) return "";
    return " {intake ended " + (marks.get(m)[4] - marks.get(m - period)[4]) + " released "
        + (marks.get(m)[5] - marks.get(m - period)[5]) + "}";
  }
}
