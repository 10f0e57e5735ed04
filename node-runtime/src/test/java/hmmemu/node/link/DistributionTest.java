package hmmemu.node.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Pure checks of the delay model: sample means over 100k draws, truncation, tails, reproducibility. */
class DistributionTest {
  static final int N = 100_000;

  /** Mean and standard error of n samples. */
  private static double[] meanAndSe(java.util.function.DoubleSupplier s) {
    double sum = 0, sq = 0;
    for (int i = 0; i < N; i++) {
      double x = s.getAsDouble();
      assertTrue(x >= 0, "negative sample " + x);
      sum += x;
      sq += x * x;
    }
    double m = sum / N;
    double var = Math.max(0, sq / N - m * m);
    return new double[] {m, Math.sqrt(var / N)};
  }

  private static void assertMean(double expected, Distribution d, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] ms = meanAndSe(() -> d.sample(r));
    double tol = Math.max(5 * ms[1], 1e-9);
    assertEquals(expected, ms[0], tol, d + ": sample mean " + ms[0] + " vs " + expected + " (tolerance " + tol + ")");
    assertEquals(expected, d.mean(), 1e-6 * Math.max(1, expected), d + ": analytical mean");
  }

  @Test
  void sampleMeansMatchAnalyticalMeans() {
    assertMean(3.0, new Distribution.Constant(3), 1);
    assertMean(5.0, new Distribution.Uniform(2, 8), 2);
    assertMean(4.0, new Distribution.Exponential(4), 3);
    assertMean(15.0, new Distribution.Pareto(3, 10), 4); // alpha*scale/(alpha-1)
    // normal far from 0: truncation negligible
    assertMean(50.0, new Distribution.Normal(50, 5), 5);
  }

  @Test
  void normalIsTruncatedAtZeroNotClamped() {
    Distribution.Normal n = new Distribution.Normal(1, 3);
    // mean of N(1, 3^2) conditioned on >= 0: 1 + 3 phi(-1/3) / (1 - Phi(-1/3)) = 1 + 3 * 0.37738 / 0.63056 = 2.7955
    assertEquals(2.7955, n.mean(), 1e-3);
    SplittableRandom r = new SplittableRandom(6);
    double[] ms = meanAndSe(() -> n.sample(r));
    assertEquals(n.mean(), ms[0], 5 * ms[1]);
    SplittableRandom r2 = new SplittableRandom(7);
    int zeros = 0;
    for (int i = 0; i < N; i++) if (n.sample(r2) == 0.0) zeros++;
    assertEquals(0, zeros, "no point mass at 0");
    assertThrows(IllegalArgumentException.class, () -> new Distribution.Normal(-1, 1));
  }

  @Test
  void drawAddsJitterAndHeavyTail() {
    LinkSpec s = LinkSpec.constant(100).withJitter(10).withTail(new LinkSpec.Tail(0.2, 3, 10));
    SplittableRandom r = new SplittableRandom(8);
    double[] ms = meanAndSe(() -> s.draw(new SplittableRandom(r.nextLong())).delayMicros());
    // jitter is symmetric; tail adds p * alpha*scale/(alpha-1) = 0.2 * 15 = 3
    assertEquals(103.0, s.meanDelayMicros(), 1e-9);
    assertEquals(103.0, ms[0], 5 * ms[1]);
    // the tail fires with probability p, and every tail sample is >= scale
    SplittableRandom r2 = new SplittableRandom(9);
    int tails = 0;
    for (int i = 0; i < N; i++) {
      LinkSpec.Draw d = s.draw(r2);
      if (d.tailMicros() > 0) {
        tails++;
        assertTrue(d.tailMicros() >= 10);
      }
      assertTrue(d.delayMicros() >= 90);
    }
    double se = Math.sqrt(0.2 * 0.8 / N);
    assertEquals(0.2, tails / (double) N, 5 * se);
  }

  @Test
  void probabilitiesAreHonouredAndMonotone() {
    LinkSpec s = LinkSpec.ideal();
    SplittableRandom a = new SplittableRandom(10);
    SplittableRandom b = new SplittableRandom(10);
    int lostLow = 0, lostHigh = 0, dup = 0, reo = 0;
    for (int i = 0; i < N; i++) {
      long seed = a.nextLong();
      LinkSpec.Draw lo = s.draw(new SplittableRandom(seed), 0.05, 0.1, 0.02);
      LinkSpec.Draw hi = s.draw(new SplittableRandom(seed), 0.10, 0.1, 0.02);
      b.nextLong();
      if (lo.lost()) {
        lostLow++;
        assertTrue(hi.lost(), "raising the loss probability drops a superset");
      }
      if (hi.lost()) lostHigh++;
      if (lo.duplicated()) dup++;
      if (lo.reordered()) {
        reo++;
        assertTrue(lo.reorderExtraMicros() >= 10 && lo.reorderExtraMicros() < 50);
      }
    }
    assertEquals(0.05, lostLow / (double) N, 5 * Math.sqrt(0.05 * 0.95 / N));
    assertEquals(0.10, lostHigh / (double) N, 5 * Math.sqrt(0.10 * 0.90 / N));
    assertEquals(0.10, dup / (double) N, 5 * Math.sqrt(0.10 * 0.90 / N));
    assertEquals(0.02, reo / (double) N, 5 * Math.sqrt(0.02 * 0.98 / N));
  }

  @Test
  void sameSeedSameDraws() {
    LinkSpec s = LinkSpec.ideal().withDelay(new Distribution.Normal(5, 2)).withJitter(1)
        .withTail(new LinkSpec.Tail(0.1, 1.5, 50)).withLoss(0.1);
    Direction d = Direction.parse("cpu0->gpu1");
    LinkRandom x = new LinkRandom(42, d);
    LinkRandom y = new LinkRandom(42, d);
    LinkRandom z = new LinkRandom(42, d.reverse());
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
      LinkSpec.Draw dx = s.draw(x.nextMessage());
      assertEquals(dx, s.draw(y.nextMessage()));
      if (!dx.equals(s.draw(z.nextMessage()))) differ++;
    }
    assertTrue(differ > 990, "the other direction draws from its own stream");
  }

  @Test
  void transmissionTime() {
    LinkSpec s = LinkSpec.ideal().withBandwidth(16000);
    assertEquals(4096 / 16000.0, s.transmitMicros(4096), 1e-12);
    assertEquals(0, LinkSpec.ideal().transmitMicros(4096));
    assertEquals(0, LinkSpec.ideal().withBandwidth(Double.POSITIVE_INFINITY).transmitMicros(4096));
  }

  @Test
  void invalidParametersAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new Distribution.Uniform(5, 2));
    assertThrows(IllegalArgumentException.class, () -> new Distribution.Exponential(-1));
    assertThrows(IllegalArgumentException.class, () -> new Distribution.Pareto(0, 1));
    assertThrows(IllegalArgumentException.class, () -> LinkSpec.ideal().withLoss(1.5));
    assertThrows(IllegalArgumentException.class, () -> new LinkSpec.Tail(-0.1, 1.5, 50));
  }
}
