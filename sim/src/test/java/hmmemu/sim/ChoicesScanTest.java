package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Choices#pick} reads the agenda's {@link SourceIndex} (each live lane's earliest event, each event of its own),
 * or scans the agenda's parallel arrays of time, tie and source ({@link EventQueue#atOf}), not the events: after any mix of adds, removals, polls and re-keyings (the fast-forward's {@link EventQueue#rekey}) it must
 * offer exactly the enabled set a scan of the events' own fields gives (per source the earliest event due by the run
 * bound; every link lane one source, every other event one of its own; with {@code chooseAll} false only link
 * arrivals), in the seeded order.
 */
class ChoicesScanTest {
  /** An agenda event for the test: a link arrival when {@code link}. */
  private static final class E extends EventQueue.Event {
    private final boolean isLink;

    E(long at, long tie, long source, boolean link) {
      atNanos = at;
      this.tie = tie;
      this.source = source;
      this.isLink = link;
    }

    @Override void fire() { }

    @Override boolean isLink() { return isLink; }
  }

  /** The enabled set read from the events' fields, as pick did before it read the agenda's arrays. */
  private static List<EventQueue.Event> reference(EventQueue q, long until, boolean chooseAll) {
    List<EventQueue.Event> out = new ArrayList<>();
    if (!chooseAll && !q.peek().isLink()) {
      out.add(q.peek());
      return out;
    }
    for (int i = 0; i < q.size(); i++) {
      EventQueue.Event e = q.get(i);
      if (e.atNanos > until || (!chooseAll && !e.isLink())) continue;
      int j = -1;
      if (e.source > 0) for (int k = 0; k < out.size(); k++) if (out.get(k).source == e.source) j = k;
      if (j < 0) out.add(e);
      else if (EventQueue.less(e, out.get(j))) out.set(j, e);
    }
    out.sort((a, b) -> EventQueue.less(a, b) ? -1 : EventQueue.less(b, a) ? 1 : 0);
    return out;
  }

  @Test
  void theArrayScanOffersWhatTheEventsSay() {
    check(13, false, false);
  }

  /** The same on an agenda that stays small: {@link Choices#pick} then scans it, never building the index. */
  @Test
  void aSmallAgendaIsScanned() {
    check(17, false, true);
    check(19, true, true);
  }

  /**
   * The same with lanes that also hold events that are not link arrivals (a host may schedule one on a lane: {@link
   * Sim#at(long, Runnable, long, Scheduler.LinkEvent)} with no description): with {@code chooseAll} false pick then
   * finds a lane's earliest link arrival, not its earliest event.
   */
  @Test
  void lanesHoldingOtherEventsOfferTheirEarliestLinkArrival() {
    check(29, true, false);
  }

  private static void check(long seed, boolean plainInLanes, boolean small) {
    SplittableRandom r = new SplittableRandom(seed);
    EventQueue q = new EventQueue();
    Choices c = new Choices();
    List<EventQueue.Event> in = new ArrayList<>();
    long negative = 0;
    int checked = 0;
    for (int step = 0; step < 20_000; step++) {
      int op = r.nextInt(10);
      if (small && q.size() >= Choices.SCAN_AT_MOST && !q.isEmpty()) {
        op = 5 + r.nextInt(3); // remove or poll: the agenda stays at most SCAN_AT_MOST long
      }
      if (op < 5 || q.isEmpty()) { // add: a lane arrival (few lanes, many per lane) or an event of its own
        boolean lane = r.nextInt(4) != 0;
        boolean link = lane ? !plainInLanes || r.nextInt(3) != 0 : r.nextInt(5) == 0;
        E e = new E(r.nextLong(50), r.nextLong(), lane ? 1 + r.nextInt(3) : -(++negative), link);
        q.add(e);
        in.add(e);
      } else if (op < 7) {
        EventQueue.Event e = in.remove(r.nextInt(in.size()));
        q.remove(e);
      } else if (op < 8) {
        in.remove(q.poll());
      } else if (op < 9 && !in.isEmpty()) { // the fast-forward moves some events, then re-keys the agenda
        for (EventQueue.Event e : in) if (r.nextInt(3) == 0) { e.atNanos += r.nextLong(20); e.tie = r.nextLong(); }
        q.rekey();
      }
      if (q.isEmpty()) continue;
      for (boolean all : new boolean[] {true, false}) {
        long until = r.nextLong(60);
        if (q.peek().atNanos > until) continue; // nothing due by the bound: runUntil does not pick then
        List<EventQueue.Event> want = reference(q, until, all);
        int[] n = {1};
        EventQueue.Event first = c.pick(null, q, until, (sim, en) -> {
          n[0] = en.size();
          return 0;
        }, all);
        List<EventQueue.Event> got = new ArrayList<>();
        got.add(first);
        for (int k = 1; k < n[0]; k++) {
          int pickK = k;
          got.add(c.pick(null, q, until, (sim, en) -> pickK, all)); // the event offered at index k
        }
        assertEquals(want, got, "step " + step + " until " + until + " chooseAll " + all);
        checked++;
      }
    }
    assertEquals(true, checked > 10_000, "too few picks checked: " + checked);
    assertEquals(!small, q.indexed(), "the index is built exactly when the agenda grew past Choices.SCAN_AT_MOST");
  }
}
