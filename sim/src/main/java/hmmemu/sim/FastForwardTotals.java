package hmmemu.sim;

import java.util.Map;

/**
 * The fast-forward's figures summed over every simulator of this JVM (jumps, skipped rounds and model time, spins,
 * the looks' CPU, the refusals), which a host prints with its results. An emulator-only host mechanism, not a kernel
 * structure; moved out of {@link FastForward} unchanged (session 20, fflook3), which keeps its public entry points.
 */
final class FastForwardTotals {
  private FastForwardTotals() {}

  /** CPU time (ns) this JVM's looks spent on pictures and on judging them (tryJump: the checks and the jump). */
  static final java.util.concurrent.atomic.LongAdder TOTAL_PICTURE_CPU = new java.util.concurrent.atomic.LongAdder(),
      TOTAL_JUDGE_CPU = new java.util.concurrent.atomic.LongAdder();

  /** Every simulator's jumps in this JVM (a host prints them with its results): thread-safe. */
  static final java.util.concurrent.atomic.LongAdder TOTAL_JUMPS = new java.util.concurrent.atomic.LongAdder(),
      TOTAL_ROUNDS = new java.util.concurrent.atomic.LongAdder(), TOTAL_NANOS = new java.util.concurrent.atomic.LongAdder(),
      TOTAL_SPINS = new java.util.concurrent.atomic.LongAdder(), TOTAL_SPINS_JUMPED = new java.util.concurrent.atomic.LongAdder();

  static final Map<String, java.util.concurrent.atomic.LongAdder> TOTAL_REFUSALS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** The JVM's most frequent reasons not to jump so far (at most three, with counts), or "" (diagnostics). */
  static String refusals() {
    return TOTAL_REFUSALS.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue().sum(), a.getValue().sum()))
        .limit(3).map(e -> e.getValue().sum() + "x " + e.getKey()).collect(java.util.stream.Collectors.joining("; "));
  }

  /**
   * The JVM's fast-forward figures so far as JSON members ({@code "fastForward": {...}}, no braces around): whether
   * new simulators fast-forward, jumps, failed rounds and model µs skipped, spins (loops of at least MIN_STREAK
   * failed rounds) and those with a jump. Emulator-only host reporting.
   */
  static String json() {
    return "\"fastForward\": {\"on\": " + Sim.fastForwardByDefault() + ", \"fastForwards\": " + TOTAL_JUMPS.sum()
        + ", \"skippedRounds\": " + TOTAL_ROUNDS.sum() + ", \"skippedMicros\": " + TOTAL_NANOS.sum() / 1000
        + ", \"spins\": " + TOTAL_SPINS.sum() + ", \"spinsJumped\": " + TOTAL_SPINS_JUMPED.sum() + "}";
  }

  /**
   * The JVM's totals of {@link #json} as numbers: jumps, skipped rounds, skipped µs, spins, spins jumped (for a
   * host that counts a command's share as a difference).
   */
  static long[] numbers() {
    return new long[] {TOTAL_JUMPS.sum(), TOTAL_ROUNDS.sum(), TOTAL_NANOS.sum() / 1000, TOTAL_SPINS.sum(),
        TOTAL_SPINS_JUMPED.sum()};
  }

  /** {@link #json} as one line of text. */
  static String line() {
    return "fast-forward " + (Sim.fastForwardByDefault() ? "on" : "off (--fast-forward turns it on)") + ": " + TOTAL_JUMPS.sum()
        + " jumps, " + TOTAL_ROUNDS.sum() + " driver rounds (" + TOTAL_NANOS.sum() / 1_000_000 + " ms of model time) skipped; "
        + TOTAL_SPINS_JUMPED.sum() + " of " + TOTAL_SPINS.sum() + " deadline spins jumped"
        + (Sim.fastForwardByDefault() ? String.format(java.util.Locale.ROOT, "; looks took %.2f s CPU in pictures, %.2f s judging them",
            TOTAL_PICTURE_CPU.sum() / 1e9, TOTAL_JUDGE_CPU.sum() / 1e9) : "")
        + (TOTAL_REFUSALS.isEmpty() ? "" : "; not jumped: " + refusals());
  }
}
