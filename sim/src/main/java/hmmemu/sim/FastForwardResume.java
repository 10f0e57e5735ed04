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

  /**
   * Failed rounds after the rearm before an early look at a resumed spin ({@code -Dhmm.ff.resumeEarly}; 0: none, the
   * short streak only, as before session 22): taken only when the checker rings took in, since the jump, exactly the
   * entries the spin's periods bring ({@link #clean}), so that their windows hold the spin's entries only; else the
   * short streak. Decides only when to look (session 22, ffwake).
   */
  static final int RESUME_EARLY = Integer.getInteger("hmm.ff.resumeEarly", 4);

  private final int least;
  private final int early;
  /** Per device given the short streak: the threshold the normal streak would have set, which a refusal restores. */
  private final Map<Integer, Integer> fallback = new HashMap<>();
  /** Per device given an early look: the short streak's threshold, which an unclean ring intake or a refusal sets. */
  private final Map<Integer, Integer> shortAt = new HashMap<>();
  /** The last look jumped: the next rearm gives the spins past their first streak the short streak. */
  private boolean next;
  /** The short streak the last jump's look learned ({@link #learn}). */
  private int rounds;
  /** The last jump's look: its period (failed rounds) and the rings' intake a period (ended, released). */
  private int jumpPeriod;
  private long perEnded, perReleased;
  /** Per device, at its last failed round: its streak, InvalidateEnded and FolioUnlockPutDone events judged so far. */
  private final Map<Integer, long[]> seen = new HashMap<>();
  /** {@link #seen} as the last jump found it. */
  private final Map<Integer, long[]> atJump = new HashMap<>();

  /** The short streak of at least {@code least} failed rounds (0: none), an early look {@code early} rounds in. */
  FastForwardResume(int least, int early) {
    this.least = least;
    this.early = early;
  }

  /** The short streak of at least {@code least} failed rounds (0: none), with the default early look. */
  FastForwardResume(int least) { this(least, RESUME_EARLY); }

  /** Device d's failed round: its streak {@code s} and the rings' intake so far (upper bounds: ended, released). */
  void failed(int d, int s, long ended, long released) {
    if (early <= 0) return;
    long[] x = seen.computeIfAbsent(d, k -> new long[3]);
    x[0] = s;
    x[1] = ended;
    x[2] = released;
  }

  /** A look jumped and its leaf ahead rearms the devices: learn the short streak from the look's marks. */
  void jumped(List<long[]> marks, int period) {
    next = true;
    rounds = learn(marks, period);
    int m = marks.size() - 1;
    jumpPeriod = period;
    perEnded = period > 0 && m >= period ? marks.get(m)[4] - marks.get(m - period)[4] : -1;
    perReleased = period > 0 && m >= period ? marks.get(m)[5] - marks.get(m - period)[5] : -1;
    atJump.clear();
    for (Map.Entry<Integer, long[]> x : seen.entrySet()) atJump.put(x.getKey(), x.getValue().clone());
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
    shortAt.clear();
    for (Map.Entry<Integer, Integer> x : streak.entrySet()) {
      int t = threshold.getOrDefault(x.getKey(), minStreak);
      if (t == Integer.MAX_VALUE) continue;
      int normal = Math.max(t, x.getValue() + minStreak);
      if (resume && x.getValue() >= minStreak) {
        int short_ = Math.max(t, x.getValue() + rounds);
        threshold.put(x.getKey(), short_);
        fallback.put(x.getKey(), normal);
        if (early > 0 && early < rounds && atJump.containsKey(x.getKey())) {
          threshold.put(x.getKey(), Math.max(t, x.getValue() + early));
          shortAt.put(x.getKey(), short_);
        }
      } else {
        threshold.put(x.getKey(), normal);
      }
    }
  }

  /** Whether device d's look comes after a short streak. */
  boolean resumed(int d) { return fallback.containsKey(d); }

  /** Device d's loop ended. */
  void ended(int d) {
    fallback.remove(d);
    shortAt.remove(d);
    seen.remove(d);
    atJump.remove(d);
  }

  /**
   * Whether device d's look, found a period of p failed rounds, may go on to its pictures: yes but for an early look
   * whose rings took in, since the last jump, other than exactly the last jump's period's intake for each of d's
   * failed rounds since (a foreign event's invalidation or folio unlock still in a ring's window: the pictures would
   * not repeat). Decides only when to look.
   */
  boolean clean(int d, int p) {
    if (!shortAt.containsKey(d)) return true;
    long[] now = seen.get(d), then = atJump.get(d);
    if (now == null || then == null || p != jumpPeriod || perEnded < 0) return false;
    long r = now[0] - then[0];
    if (r <= 0 || r % p != 0) return false;
    return now[1] - then[1] == r / p * perEnded && now[2] - then[2] == r / p * perReleased;
  }

  /** Device d's early look is not taken ({@link #clean} false): its short streak's threshold. */
  int notClean(int d) { return shortAt.remove(d); }

  /**
   * Device d's look ended ({@code why} null: jumped). When a look after a short streak was refused, every device so
   * rearmed gets its normal threshold back and this returns true; the caller then sets no other threshold.
   */
  boolean fellBack(int d, String why, Map<Integer, Integer> streak, Map<Integer, Integer> threshold) {
    Integer f = fallback.remove(d);
    Integer sh = shortAt.remove(d);
    next = false;
    if (why == null || f == null) return false;
    if (sh != null) { // an early look refused: the short streak's look still to come, then the normal streak
      fallback.put(d, f);
      threshold.put(d, Math.max(sh, streak.getOrDefault(d, 0) + 1));
      return true;
    }
    fallback.put(d, f);
    for (Map.Entry<Integer, Integer> x : fallback.entrySet()) {
      threshold.put(x.getKey(), Math.max(x.getValue(), streak.getOrDefault(x.getKey(), 0) + 1));
    }
    fallback.clear();
    shortAt.clear();
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
