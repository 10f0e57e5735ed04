package hmmemu.node.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** SplitMix64 against java.util.SplittableRandom, draw for draw, and its O(1) jump against drawing. */
class SplitMix64Test {
  private static final long[] SEEDS = {0, 1, 42, -1, Long.MIN_VALUE, 0x123456789ABCDEFL};

  @Test
  void everyMethodTheSimulatorUsesDrawsWhatSplittableRandomDraws() {
    int[] bounds = {1, 2, 3, 7, 16, 1000, 1 << 30, Integer.MAX_VALUE, (1 << 30) + 1};
    long[] longBounds = {1, 2, 3, 1_000_001, 1L << 40, Long.MAX_VALUE, (1L << 62) + 1};
    for (long seed : SEEDS) {
      SplittableRandom jdk = new SplittableRandom(seed);
      SplitMix64 own = new SplitMix64(seed);
      for (int i = 0; i < 20_000; i++) {
        switch (i % 6) {
          case 0 -> assertEquals(jdk.nextLong(), own.nextLong(), "nextLong, seed " + seed + ", draw " + i);
          case 1 -> assertEquals(jdk.nextInt(), own.nextInt(), "nextInt, seed " + seed + ", draw " + i);
          case 2 -> {
            int b = bounds[(i / 6) % bounds.length];
            assertEquals(jdk.nextInt(b), own.nextInt(b), "nextInt(" + b + "), seed " + seed + ", draw " + i);
          }
          case 3 -> {
            long b = longBounds[(i / 6) % longBounds.length];
            assertEquals(jdk.nextLong(b), own.nextLong(b), "nextLong(" + b + "), seed " + seed + ", draw " + i);
          }
          case 4 -> assertEquals(jdk.nextDouble(), own.nextDouble(), "nextDouble, seed " + seed + ", draw " + i);
          default -> assertEquals(jdk.nextBoolean(), own.nextBoolean(), "nextBoolean, seed " + seed + ", draw " + i);
        }
      }
      // split: the child and the parent go on as the JDK's
      SplittableRandom jc = jdk.split();
      SplitMix64 oc = own.split();
      for (int i = 0; i < 1000; i++) {
        assertEquals(jc.nextLong(), oc.nextLong(), "split child, seed " + seed);
        assertEquals(jdk.nextLong(), own.nextLong(), "parent after split, seed " + seed);
      }
    }
  }

  @Test
  void nextSplittableRandomIsOneDrawAndSeedsTheJdkGenerator() {
    SplittableRandom jdk = new SplittableRandom(7);
    SplitMix64 own = new SplitMix64(7);
    long s = jdk.nextLong();
    SplittableRandom child = own.nextSplittableRandom();
    assertEquals(new SplittableRandom(s).nextLong(), child.nextLong());
    assertEquals(1, own.draws());
    assertEquals(jdk.nextLong(), own.nextLong());
  }

  @Test
  void jumpOverNDrawsEqualsDrawingThem() {
    for (long seed : SEEDS) {
      for (long n : new long[] {0, 1, 2, 63, 1000, 87_125}) {
        SplitMix64 drawn = new SplitMix64(seed);
        SplitMix64 jumped = new SplitMix64(seed);
        drawn.nextLong();
        jumped.nextLong();
        for (long i = 0; i < n; i++) drawn.nextLong();
        jumped.jump(n);
        assertEquals(drawn.draws(), jumped.draws(), "draw counter, seed " + seed + ", n " + n);
        assertEquals(drawn.state(), jumped.state(), "state, seed " + seed + ", n " + n);
        for (int i = 0; i < 100; i++) assertEquals(drawn.nextLong(), jumped.nextLong(), "seed " + seed + ", n " + n);
      }
    }
    // a jump of a split child uses the child's gamma
    SplitMix64 a = new SplitMix64(5).split();
    SplitMix64 b = new SplitMix64(5).split();
    for (int i = 0; i < 500; i++) a.nextDouble();
    b.jump(500);
    assertEquals(a.nextLong(), b.nextLong());
    // and a jump is not a no-op (so this test can fail)
    SplitMix64 c = new SplitMix64(5);
    SplitMix64 d = new SplitMix64(5);
    d.jump(1);
    assertNotEquals(c.nextLong(), d.nextLong());
  }
}
