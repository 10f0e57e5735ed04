package hmmemu.sim;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bounded-delay constraint on a {@link Scheduler} (issue 13, {@code hmm-emu explore --max-delay D},
 * docs/TESTING.md "Bounded delay"): the scheduler may still reorder events, but no event may be postponed more than D
 * of model time past the instant it was due. Every event on the agenda has one due instant ({@link
 * Scheduler.Enabled#atNanos}: a link arrival's drawn arrival, a controller hop's or reply's drawn end, a timer's
 * expiry, a fault block's instant, a step's host-side cost elapsing); the earliest pending one is index 0 of the
 * enabled events. An event may be taken only if it is due at most D after that earliest one: taking it moves model
 * time to at most {@code earliest + D}, so every event still waiting fires at most D after it was due (and an event
 * overdue by D is taken before anything due later). The enabled events are sorted by due instant, so the allowed
 * ones are a prefix. Models bounded preemption and IRQ latency: a kernel thread, a softirq or an hrtimer whose work is
 * due runs within a bounded time on a real host; unbounded delay (the default) is the asynchronous model, where any
 * message may wait forever. Emulator-only host mechanism.
 */
public final class DelayBound {
  /** No bound: the scheduler may postpone any event for any time (the default). */
  public static final long UNBOUNDED = -1;

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ns|us|µs|ms|s)");

  private DelayBound() {}

  /**
   * How many of the {@code e.size()} enabled events (sorted by due instant, index 0 the earliest) a scheduler bound
   * by {@code maxDelayNanos} may take: those due at most {@code maxDelayNanos} after index 0 (at least 1); all of
   * them when {@code maxDelayNanos} is {@link #UNBOUNDED}.
   */
  public static int allowed(Scheduler.Enabled e, long maxDelayNanos) {
    int n = e.size();
    if (maxDelayNanos < 0 || n <= 1) return n;
    long first = e.atNanos(0);
    long latest = first > Long.MAX_VALUE - maxDelayNanos ? Long.MAX_VALUE : first + maxDelayNanos;
    int k = 1;
    while (k < n && e.atNanos(k) <= latest) k++;
    return k;
  }

  /** {@code s} bound by {@code maxDelayNanos} ({@link Scheduler#maxDelayNanos}); {@code s} itself when unbounded. */
  public static Scheduler bounded(Scheduler s, long maxDelayNanos) {
    if (maxDelayNanos < 0) return s;
    return new Scheduler() {
      @Override
      public int choose(Sim sim, Enabled enabled) { return s.choose(sim, enabled); }

      @Override
      public long maxDelayNanos() { return maxDelayNanos; }

      @Override
      public long repeats(int periods, long window) { return s.repeats(periods, window); }

      @Override
      public void skipped(long reps, int perPeriod) { s.skipped(reps, perPeriod); }
    };
  }

  /**
   * Parses a bound as the CLI takes it: a whole number with a unit ({@code 0}, {@code 500ns}, {@code 50us},
   * {@code 1ms}, {@code 2s}) or {@code unbounded}. Throws IllegalArgumentException with a one-line reason.
   */
  public static long parseNanos(String text) {
    String t = text == null ? "" : text.trim();
    if (t.equals("unbounded")) return UNBOUNDED;
    if (t.equals("0")) return 0;
    Matcher m = DURATION.matcher(t);
    if (!m.matches()) {
      throw new IllegalArgumentException("expected a duration such as 50us, 1ms, 0 or unbounded, got \"" + text + "\"");
    }
    long unit = switch (m.group(2)) {
      case "ns" -> 1L;
      case "us", "µs" -> 1_000L;
      case "ms" -> 1_000_000L;
      default -> 1_000_000_000L;
    };
    try {
      return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
    } catch (ArithmeticException | NumberFormatException x) {
      throw new IllegalArgumentException("too large: \"" + text + "\"");
    }
  }

  /** The bound as text: {@code unbounded}, or the largest whole unit ({@code 50us}, {@code 1ms}, {@code 1500ns}). */
  public static String text(long maxDelayNanos) {
    if (maxDelayNanos < 0) return "unbounded";
    if (maxDelayNanos == 0) return "0";
    if (maxDelayNanos % 1_000_000_000L == 0) return maxDelayNanos / 1_000_000_000L + "s";
    if (maxDelayNanos % 1_000_000L == 0) return maxDelayNanos / 1_000_000L + "ms";
    if (maxDelayNanos % 1_000L == 0) return maxDelayNanos / 1_000L + "us";
    return maxDelayNanos + "ns";
  }
}
