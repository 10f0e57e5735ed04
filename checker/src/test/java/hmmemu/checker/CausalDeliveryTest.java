package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CausalDeliveryTest {
  private static Trace.Event ev(int n) { return new Trace.CpuFaulted(n, 1, 0, "anon"); }

  private static Stamped at(int node, long... vc) { return new Stamped(node, vc, ev((int) vc[node])); }

  /** A GPU event that depends on a CPU event is held until that CPU event arrives, then both are released CPU first. */
  @Test
  void gpuEventWaitsForTheCpuEventItDependsOn() {
    CausalDelivery d = new CausalDelivery();
    Stamped cpu1 = at(0, 1, 0);
    Stamped gpu1 = at(1, 1, 1);
    assertTrue(d.offer(gpu1).isEmpty());
    assertEquals(1, d.pending());
    assertEquals(List.of(cpu1, gpu1), d.offer(cpu1));
    assertEquals(0, d.pending());
    assertEquals(1, d.delivered(0));
    assertEquals(1, d.delivered(1));
  }

  /** Events of one node offered out of order are released in their own sequence order. */
  @Test
  void outOfOrderEventsOfOneNodeAreReordered() {
    CausalDelivery d = new CausalDelivery();
    Stamped e1 = at(0, 1);
    Stamped e2 = at(0, 2);
    Stamped e3 = at(0, 3);
    assertTrue(d.offer(e3).isEmpty());
    assertTrue(d.offer(e2).isEmpty());
    assertEquals(List.of(e1, e2, e3), d.offer(e1));
  }

  /** Among events that become deliverable at once, the lowest node index goes first (deterministic release). */
  @Test
  void concurrentEventsAreReleasedLowestNodeFirst() {
    CausalDelivery d = new CausalDelivery();
    Stamped gate = at(0, 1, 0, 0);
    Stamped n2 = at(2, 1, 0, 1);
    Stamped n1 = at(1, 1, 1, 0);
    Stamped n0 = at(0, 2, 0, 0);
    d.offer(n2);
    d.offer(n1);
    d.offer(n0);
    assertEquals(List.of(gate, n0, n1, n2), d.offer(gate));
  }

  /** A duplicate (already delivered or already buffered) is dropped and counted, never delivered twice. */
  @Test
  void duplicatesAreDroppedAndCounted() {
    CausalDelivery d = new CausalDelivery();
    Stamped e1 = at(0, 1);
    Stamped e2 = at(0, 2);
    Stamped late = at(1, 2, 1);
    assertEquals(List.of(e1), d.offer(e1));
    assertTrue(d.offer(e1).isEmpty());
    assertTrue(d.offer(late).isEmpty());
    assertTrue(d.offer(late).isEmpty());
    assertEquals(List.of(e2, late), d.offer(e2));
    assertEquals(2, d.duplicates());
    assertEquals(3, d.deliveredTotal());
  }

  /** caughtUp is true exactly when the given per-node counts were delivered; describePending names the gap. */
  @Test
  void caughtUpAndPendingDescription() {
    CausalDelivery d = new CausalDelivery();
    d.offer(at(1, 2, 1));
    assertFalse(d.caughtUp(new long[] {0, 1}));
    assertTrue(d.describePending().contains("waits for node 0 #2"), d.describePending());
    d.offer(at(0, 1, 0));
    d.offer(at(0, 2, 0));
    assertTrue(d.caughtUp(new long[] {2, 1}));
  }

  /** Malformed stamps fail fast. */
  @Test
  void malformedStampIsRejected() {
    CausalDelivery d = new CausalDelivery();
    assertThrows(IllegalArgumentException.class, () -> d.offer(new Stamped(2, new long[] {1, 1}, ev(1))));
    assertThrows(IllegalArgumentException.class, () -> d.offer(new Stamped(0, new long[] {0}, ev(1))));
  }

  /** A built multi-node trace offered in any order is delivered completely and respects happens-before. */
  @Test
  void scrambledTraceIsDeliveredAsALinearExtension() {
    TraceBuilder b = Scenario.c05();
    for (long seed = 0; seed < 20; seed++) {
      CausalDelivery d = new CausalDelivery();
      List<Stamped> out = new ArrayList<>();
      for (Stamped s : b.scrambled(seed)) out.addAll(d.offer(s));
      assertEquals(b.inOrder().size(), out.size(), "seed=" + seed);
      long[] seen = new long[8];
      for (Stamped s : out) {
        for (int j = 0; j < s.vc().length; j++) {
          if (j == s.node()) assertEquals(seen[j] + 1, s.vc()[j], "seed=" + seed);
          else assertTrue(s.vc()[j] <= seen[j], "seed=" + seed);
        }
        seen[s.node()]++;
      }
    }
  }

}
