package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** FastForwardLanding: a jump of n periods lands where every microsecond leaf has one value for every c of its range. */
class FastForwardLandingTest {
  @Test
  void landsAtTheLargestNWhereEveryMicrosecondLeafIsKnown() {
    long now = 10_000_123, p = 23_537; // a period that is no whole microsecond: the step of n was 1,000 periods
    long[] c = {-400, -150, -900, -880}; // two leaves, c in [-400, -150] and [-900, -880]
    long n = FastForwardLanding.landing(500, 0, false, now, p, c, 2);
    assertTrue(n > 0 && n <= 500, "some n in (0, 500]: " + n);
    for (int j = 0; j < 2; j++) {
      long t = now + n * p;
      assertEquals(Math.floorDiv(t + c[2 * j], 1000), Math.floorDiv(t + c[2 * j + 1], 1000), "leaf " + j + " at n " + n);
    }
    for (long m = n + 1; m <= 500; m++) {
      long t = now + m * p;
      boolean one = Math.floorDiv(t + c[0], 1000) == Math.floorDiv(t + c[1], 1000)
          && Math.floorDiv(t + c[2], 1000) == Math.floorDiv(t + c[3], 1000);
      assertTrue(!one, "a larger n " + m + " would have done");
    }
  }

  @Test
  void evenWhenASeqMovesByAnOddStepAndTheOldStepWhenNothingElseFits() {
    long now = 5_000_000, p = 20_001;
    long[] c = {-999, 0}; // a range as wide as a microsecond: known only where now + n x P + lo starts a microsecond
    assertEquals(0, FastForwardLanding.landing(998, 0, false, now, p, c, 1), "none above the old step's n");
    assertEquals(1999, FastForwardLanding.landing(1999, 1000, false, now, p, c, 1));
    assertEquals(1000, FastForwardLanding.landing(1998, 1000, false, now, p, c, 1), "the old step's n when nothing above");
    long n = FastForwardLanding.landing(301, 0, true, now, p, new long[] {-10, -5}, 1);
    assertEquals(0, n % 2, "n even: " + n);
  }
}
