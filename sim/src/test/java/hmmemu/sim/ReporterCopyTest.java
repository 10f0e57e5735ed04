package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.checker.InvariantChecker;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import org.junit.jupiter.api.Test;

/**
 * Session 24 (xrep): a world copy shares the checker Reporter's ring of recent events frozen (RecentEvents) instead of
 * copying its 256 records; the copy and its original then quote their own later events, each as if it had been alone.
 */
class ReporterCopyTest {
  private static Stamped event(long seq, String kind) {
    return new Stamped(0, new long[] {seq, 0}, new Trace.CpuFaulted(1, 1, 0x1000 * seq, kind), seq);
  }

  @Test
  void aCopyAndItsOriginalQuoteTheirOwnLaterEvents() {
    InvariantChecker original = new InvariantChecker();
    long seq = 0;
    for (int i = 0; i < 300; i++) original.offer(event(++seq, "anon"));
    String atCopy = original.describeRecent(256);
    Object[] counted = SimCopy.copyCounting(original);
    InvariantChecker copy = (InvariantChecker) counted[0];
    assertEquals(atCopy, copy.describeRecent(256), "the copy quotes what the original held");
    long objects = (Long) counted[1];
    Object[] again = SimCopy.copyCounting(original); // the ring is frozen and shared now: no record is copied
    assertTrue((Long) again[1] <= objects, again[1] + " objects, then " + objects);
    long s = seq;
    for (int i = 0; i < 20; i++) original.offer(event(++s, "original"));
    for (int i = 0; i < 5; i++) copy.offer(event(++seq, "copy"));
    assertEquals(atCopy, ((InvariantChecker) again[0]).describeRecent(256), "the second copy saw neither");
    String o = original.describeRecent(25), c = copy.describeRecent(25);
    assertNotEquals(o, c);
    assertTrue(o.endsWith("kind=original]") && !o.contains("kind=copy"), o);
    assertTrue(c.endsWith("kind=copy]") && !c.contains("kind=original"), c);
    assertEquals(20, o.split("kind=original", -1).length - 1);
    assertEquals(5, c.split("kind=copy", -1).length - 1);
    String[] lines = c.split("\n");
    assertEquals(atCopy.split("\n")[255], lines[19], "the copy's older events are the ones it was copied with");
  }
}
