package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Session 23 (xfreeze): a world copy (SimCopy) freezes an ended invalidation it meets and shares it: every mutator of a
 * frozen one throws, and a change to a frozen one (a late ack) is made on an unfrozen copy that takes its place in the
 * ring, leaving the frozen original, which another world may hold, as it was. An in-flight one is never frozen.
 */
class InvalidationFreezeTest {
  private static Trace.InvalidateStarted start(long invId) {
    return new Trace.InvalidateStarted(invId, 1, 0x1000, 0x3000, NotifyEvent.CLEAR, 0, true, List.of(7L, 8L));
  }

  @Test
  void everyMutatorOfAFrozenInvalidationThrows() {
    Invalidation inv = new Invalidation(start(5));
    inv.addTarget(7, 16, false);
    inv.addTarget(8, 32, false);
    inv.ack(7);
    inv.end();
    assertFalse(inv.frozen());
    inv.freeze();
    assertTrue(inv.frozen());
    Invalidation other = new Invalidation(start(6));
    List<Executable> mutators = List.of(() -> inv.addTarget(9, 16, false), () -> inv.ack(8), () -> inv.applied(7, 16),
        () -> inv.subscriptionRemoved(8, true), () -> inv.rehome(8, 48, false), () -> inv.complete(16), inv::end,
        () -> inv.restart(start(9)), () -> inv.assignFrom(other));
    for (Executable m : mutators) assertThrows(IllegalStateException.class, m);
    // nothing changed: the readers answer as before the attempts
    assertEquals(List.of(8L), inv.unacked());
    assertEquals(5, inv.started().invId());
    assertTrue(inv.targets(32));
    assertFalse(inv.completed(16));
    assertTrue(inv.frozen(), "a frozen invalidation stays frozen");
  }

  @Test
  void thawedIsAnUnfrozenCopyThatChangesAlone() {
    Invalidation inv = new Invalidation(start(5));
    inv.addTarget(7, 16, false);
    inv.addTarget(8, 32, false);
    inv.end();
    assertSame(inv, inv.thawed(), "an unfrozen one is itself");
    inv.freeze();
    Invalidation t = inv.thawed();
    assertNotSame(inv, t);
    assertFalse(t.frozen());
    assertTrue(t.sameAs(inv), "every member alike");
    t.ack(8);
    assertEquals(List.of(7L), t.unacked());
    assertEquals(List.of(7L, 8L), inv.unacked(), "the frozen original is unchanged");
  }

  @Test
  void theRingHoldsFrozenInvalidationsAndALateAckChangesACopy() {
    NotifierShadow s = new NotifierShadow();
    Invalidation inv = new Invalidation(start(5));
    s.addTarget(inv, 7);
    s.addTarget(inv, 8);
    s.inFlight.put(5, inv);
    assertSame(inv, s.findToChange(5), "in flight: itself");
    assertFalse(inv.freezeForCopy(), "in flight: never frozen");
    assertFalse(inv.frozen());
    assertSame(inv, s.end(5));
    assertFalse(inv.frozen(), "ended: frozen only when a world copy meets it");
    assertSame(inv, s.findToChange(5), "ended, unfrozen: changed in place");
    assertTrue(inv.freezeForCopy(), "ended: a world copy freezes it");
    assertTrue(inv.frozen());
    assertSame(inv, s.find(5));
    Invalidation late = s.findToChange(5);
    assertNotSame(inv, late);
    assertFalse(late.frozen());
    assertSame(late, s.endedOf(5), "the copy takes the original's place in the ring");
    assertTrue(late.sameAs(inv));
    late.ack(8);
    late.freeze();
    assertEquals(List.of(7L, 8L), inv.unacked(), "the original, which a world copy may share, is unchanged");
    assertEquals(List.of(7L), s.endedOf(5).unacked());
    assertNull(s.findToChange(99));
  }

  @Test
  void aStartWithAListThatMayChangeIsNeverFrozen() {
    for (List<Long> ids : java.util.Arrays.<List<Long>>asList(null, List.of(), List.of(7L), List.of(7L, 8L, 9L),
        new java.util.ArrayList<>(List.of(7L)))) {
      Invalidation inv = new Invalidation(new Trace.InvalidateStarted(5, 1, 0x1000, 0x3000, NotifyEvent.CLEAR, 0, true, ids));
      inv.end();
      assertEquals(!(ids instanceof java.util.ArrayList), inv.freezeForCopy(), "subIds " + ids);
    }
  }

  @Test
  void aLateAckThroughTheRulesChangesACopyOfAFrozenOne() {
    Reporter out = new Reporter();
    NotifierShadow notifiers = new NotifierShadow();
    InvalidationRules rules = new InvalidationRules(out, new VmaShadow(), notifiers, new DeviceShadow());
    rules.onInvalidateStarted(start(5));
    rules.onInvalidateEnded(new Trace.InvalidateEnded(5, false));
    Invalidation ended = notifiers.endedOf(5);
    assertTrue(ended.freezeForCopy(), "as a world copy meets it");
    rules.onInvalidateAcked(new Trace.InvalidateAcked(5, 7, 16, true, false));
    Invalidation now = notifiers.endedOf(5);
    assertNotSame(ended, now);
    assertFalse(now.frozen(), "the ring's copy, unfrozen until a world copy meets it");
    assertEquals(List.of(7L, 8L), ended.unacked());
    assertEquals(List.of(8L), now.unacked());
  }
}
