package hmmemu.sim;

/**
 * Where a jump of the fast-forward lands (session 18, r9ff): n periods at which every microsecond leaf (model time in
 * µs, {@link FastForwardSites#MICROS}) has one value whatever the constant c the pictures leave it, so that n x P need
 * not be a multiple of 1,000 ns. An emulator-only host mechanism, not a kernel structure.
 */
final class FastForwardLanding {
  private FastForwardLanding() {}

  /** The c of microsecond leaf i, any in its range: the landing was chosen so that every c of it gives the same value. */
  static long microsC(int i, int[] at, long[] c, int count) {
    for (int j = 0; j < count; j++) if (at[j] == i) return c[2 * j];
    throw new IllegalStateException("fast-forward: microsecond leaf " + i + " has no range");
  }

  /**
   * The largest n in (floor, nMax] (even when a seq moves by an odd step) at which every microsecond leaf lands on
   * one value whatever its c in the range the pictures leave: floor((now + n x P + c) / 1000) the same for c = lo and
   * c = hi (session 18, r9ff). The pictures show the leaf at floor((now + c) / 1000) for the one c of the run; at
   * such an n it is floor((now + n x P + c) / 1000) after n periods, known exactly though n x P is not a multiple of
   * 1,000 ns. {@code floor} (n x P a multiple of 1,000 ns) always qualifies (every c of the range then gives the
   * value the last picture shows, plus n x P / 1000): returned when nothing above it does.
   */
  static long landing(long nMax, long floor, boolean even, long nowNs, long pNanos, long[] c, int count) {
    for (long n = nMax; n > floor; n--) {
      if (even && (n & 1) != 0) continue;
      boolean one = true;
      for (int j = 0; j < count && one; j++) {
        long t = nowNs + n * pNanos;
        one = Math.floorDiv(t + c[2 * j], 1000) == Math.floorDiv(t + c[2 * j + 1], 1000);
      }
      if (one) return n;
    }
    return floor;
  }

  /**
   * With {@code -Dhmm.ff.microsStep=true}, n x P stays a multiple of 1,000 ns as before session 18 (r9ff), instead of
   * {@link #landing}: for comparison.
   */
  static final boolean MICROS_STEP = Boolean.getBoolean("hmm.ff.microsStep");
}
