package hmmemu.node.link;

import java.util.SplittableRandom;

/**
 * SplitMix64 (Steele, Lea, Flood 2014), the algorithm of {@link java.util.SplittableRandom}, with its state in the
 * open: every method here returns, draw for draw, what a {@code new SplittableRandom(seed)} returns for the same
 * calls ({@code SplitMix64Test} checks it against the JDK), and in addition it can {@link #jump} over {@code n} draws
 * in O(1) (the state is {@code seed + draws * gamma}) and says how many draws it made ({@link #draws}). The
 * simulator's fast-forward (hmmemu.sim.FastForward) needs both to leave the run's random source where skipped
 * iterations would have left it. Not thread-safe. Not a kernel structure.
 */
public final class SplitMix64 {
  /** SplittableRandom's GOLDEN_GAMMA: the gamma of a generator made from a seed. */
  public static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

  private long seed;
  private final long gamma;
  /** Advances of the state so far ({@code seed = start + draws * gamma}). */
  private long draws;

  /** As {@code new SplittableRandom(seed)}. */
  public SplitMix64(long seed) { this(seed, GOLDEN_GAMMA); }

  private SplitMix64(long seed, long gamma) {
    this.seed = seed;
    this.gamma = gamma;
  }

  private long nextSeed() {
    draws++;
    return seed += gamma;
  }

  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private static int mix32(long z) {
    z = (z ^ (z >>> 33)) * 0x62A9D9ED799705F5L;
    return (int) (((z ^ (z >>> 28)) * 0xCB24D0A5C88C35B3L) >>> 32);
  }

  private static long mixGamma(long z) {
    z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
    z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
    z = (z ^ (z >>> 33)) | 1L;
    int n = Long.bitCount(z ^ (z >>> 1));
    return (n < 24) ? z ^ 0xAAAAAAAAAAAAAAAAL : z;
  }

  /** As SplittableRandom.nextLong(). */
  public long nextLong() { return mix64(nextSeed()); }

  /** As SplittableRandom.nextInt(). */
  public int nextInt() { return mix32(nextSeed()); }

  /** As SplittableRandom.nextInt(bound) (RandomSupport.boundedNextInt: mask for powers of two, else rejection). */
  public int nextInt(int bound) {
    if (bound <= 0) throw new IllegalArgumentException("bound must be positive");
    int r = nextInt();
    int m = bound - 1;
    if ((bound & m) == 0) {
      r &= m;
    } else {
      for (int u = r >>> 1; u + m - (r = u % bound) < 0; u = nextInt() >>> 1) { }
    }
    return r;
  }

  /** As SplittableRandom.nextLong(bound) (RandomSupport.boundedNextLong). */
  public long nextLong(long bound) {
    if (bound <= 0) throw new IllegalArgumentException("bound must be positive");
    long r = nextLong();
    long m = bound - 1;
    if ((bound & m) == 0L) {
      r &= m;
    } else {
      for (long u = r >>> 1; u + m - (r = u % bound) < 0L; u = nextLong() >>> 1) { }
    }
    return r;
  }

  /** As SplittableRandom.nextDouble(): 53 random bits in [0, 1). */
  public double nextDouble() { return (nextLong() >>> 11) * 0x1.0p-53; }

  /** As SplittableRandom.nextBoolean(). */
  public boolean nextBoolean() { return nextInt() < 0; }

  /** As SplittableRandom.split(): a new generator (two draws of this one: its seed and its gamma). */
  public SplitMix64 split() { return new SplitMix64(nextLong(), mixGamma(nextSeed())); }

  /** A {@link SplittableRandom} seeded with this generator's next long (one draw), for APIs that take one. */
  public SplittableRandom nextSplittableRandom() { return new SplittableRandom(nextLong()); }

  /** Skips {@code n >= 0} draws in O(1): afterwards every method returns what it would after {@code n} nextLong(). */
  public void jump(long n) {
    if (n < 0) throw new IllegalArgumentException("jump backwards: " + n);
    seed += n * gamma;
    draws += n;
  }

  /** State advances so far (one per nextLong/nextInt/nextDouble, one per rejection retry, two per split, plus jumps). */
  public long draws() { return draws; }

  /** The raw state (seed), for a state digest; two generators with equal gamma and state draw the same from here on. */
  public long state() { return seed; }
}
