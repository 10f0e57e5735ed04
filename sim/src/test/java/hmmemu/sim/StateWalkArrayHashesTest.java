package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The kept hashes of large folded arrays equal the hashes computed again, before and after a change (session 22). */
class StateWalkArrayHashesTest {
  @Test
  void keptHashIsTheHashComputedAgain() {
    StateWalkArrayHashes kept = new StateWalkArrayHashes();
    long[] counts = new long[47_000];
    int[] ints = new int[4_096];
    byte[] bytes = new byte[1_024];
    for (int round = 0; round < 6; round++) {
      for (Object a : new Object[] {counts, ints, bytes}) {
        int n = java.lang.reflect.Array.getLength(a);
        assertEquals(StateWalkClasses.arrayHash(a, n), kept.hash(a, n), "round " + round);
        assertEquals(StateWalkClasses.arrayHash(a, n - 7), kept.hash(a, n - 7), "a shorter prefix, round " + round);
      }
      if (round % 2 == 1) { // change one element of each, then back in a later round
        counts[round * 1000] += round;
        ints[round * 100]++;
        bytes[round * 10]--;
      }
    }
    long[] small = new long[10];
    assertEquals(StateWalkClasses.arrayHash(small, 10), kept.hash(small, 10));
  }
}
