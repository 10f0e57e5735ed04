package hmmemu.node.link;

import java.util.SplittableRandom;

/**
 * The random source of one link direction: seeded from the run seed and the direction, it hands out one
 * independent stream per message ({@link #nextMessage}), so what the n-th message on a direction draws depends on
 * the run seed, the direction and n only (not on the other directions, the timing, or the fault settings).
 * The direction's stream is a {@link SplitMix64} (SplittableRandom's outputs, with its state in the open), so the
 * simulator's fast-forward can skip the draws of {@code n} messages in O(1) ({@link #skipMessages}).
 * Not thread-safe; {@link ModeledLink} uses it under its lock. Tests build a second instance to predict draws.
 */
public final class LinkRandom {
  private final SplitMix64 rng;

  public LinkRandom(long runSeed, Direction direction) { this.rng = new SplitMix64(seed(runSeed, direction)); }

  /**
   * The random source of lane {@code lane} of a direction ({@link Lanes}): lane 0 is the direction's own source;
   * every other lane draws from its own, so its delays are independent of the other lanes'.
   */
  public LinkRandom(long runSeed, Direction direction, long lane) {
    this.rng = new SplitMix64(lane == 0 ? seed(runSeed, direction)
        : seed(runSeed ^ (lane * 0xD6E8FEB86659FD93L), direction) ^ lane);
  }

  /** The seed of a direction: a SplitMix64 finalisation of the run seed mixed with both node indexes. */
  public static long seed(long runSeed, Direction d) {
    long z = runSeed ^ (0x9E3779B97F4A7C15L * (d.from() + 1)) ^ (0xC2B2AE3D27D4EB4FL * (d.to() + 0x51L));
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The random stream of the next message on this direction. */
  public SplittableRandom nextMessage() { return rng.nextSplittableRandom(); }

  /** Skips the next message's stream without making it (one draw): what {@link #nextMessage} would cost. */
  public void skipMessage() { rng.nextLong(); }

  /** Skips the streams of the next {@code n} messages in O(1), as {@code n} calls of {@link #nextMessage}. */
  public void skipMessages(long n) { rng.jump(n); }

  /** Messages drawn (or skipped) so far. */
  public long messages() { return rng.draws(); }

  /** The direction stream's raw state, for a state digest. */
  public long state() { return rng.state(); }
}
