package hmmemu.sim;

/**
 * The enabled events at one of the {@link Sim}'s choice points and the {@link Scheduler}'s pick among them: per
 * source the earliest event due by the run bound (with {@code chooseAll} false only link arrivals, and none when the
 * earliest event is not one), sorted in the seeded order (time, then tie key), so index 0 is the agenda's minimum.
 * Not a kernel structure.
 */
final class Choices implements Scheduler.Enabled {
  private EventQueue.Event[] enabled = new EventQueue.Event[16];
  private int count;
  /** Choice points met (more than one event enabled). */
  long points;

  /** Scratch of {@link #scan}: per enabled source, its event's heap position, source, time and tie. */
  private int[] pos = new int[16];
  private long[] src = new long[16];
  private long[] at = new long[16];
  private long[] tie = new long[16];

  /**
   * An agenda of at most this many events whose index was never built is scanned (its upkeep on every add and
   * removal would cost more than the scan); a larger one builds the index, which is then kept.
   */
  static final int SCAN_AT_MOST = 32;

  /**
   * The event to fire next (not yet removed from {@code agenda}, which is not empty). The enabled set comes from the
   * agenda's {@link SourceIndex}: each live lane's earliest event and each event of its own, due by the bound; the
   * same set a scan of every pending event gives (ChoicesScanTest), without reading hundreds of one lane's arrivals
   * per fired event. It scans the agenda instead while the agenda never held more than {@link #SCAN_AT_MOST} events
   * at a pick, and with {@code chooseAll} false and a lane holding an event that is not a link arrival (no host of
   * this simulator schedules one).
   */
  EventQueue.Event pick(Sim sim, EventQueue agenda, long untilNanos, Scheduler scheduler, boolean chooseAll) {
    count = 0;
    if (!chooseAll && !agenda.peek().isLink()) return agenda.peek();
    if (!agenda.indexed() && agenda.size() <= SCAN_AT_MOST) {
      scan(agenda, untilNanos, chooseAll);
      return choose(sim, scheduler);
    }
    SourceIndex x = agenda.index();
    if (!chooseAll && x.plainInLanes > 0) {
      scan(agenda, untilNanos, false);
    } else {
      for (int k = 0; k < x.liveCount; k++) {
        SourceIndex.Lane l = x.live[k];
        if (l.at[0] <= untilNanos) enable(agenda.inSlot(l.slot[0]));
      }
      for (int k = 0; k < x.ownCount; k++) {
        EventQueue.Event e = agenda.inSlot(x.own[k]);
        if (e.atNanos <= untilNanos && (chooseAll || e.isLink())) enable(e);
      }
    }
    return choose(sim, scheduler);
  }

  private void enable(EventQueue.Event e) {
    if (count == enabled.length) enabled = java.util.Arrays.copyOf(enabled, count * 2);
    enabled[count++] = e;
  }

  /**
   * The enabled events by a scan of every pending event: per source the earliest one due by the bound (with {@code
   * chooseAll} false only link arrivals).
   */
  private void scan(EventQueue agenda, long untilNanos, boolean chooseAll) {
    for (int i = 0, n = agenda.size(); i < n; i++) {
      long a = agenda.atOf(i);
      if (a > untilNanos || (!chooseAll && !agenda.get(i).isLink())) continue;
      long s = agenda.sourceOf(i);
      int j = -1;
      if (s > 0) { // a link lane: one source for all its arrivals
        for (int k = 0; k < count; k++) {
          if (src[k] == s) {
            j = k;
            break;
          }
        }
      }
      if (j < 0) {
        if (count == pos.length) {
          pos = java.util.Arrays.copyOf(pos, count * 2);
          src = java.util.Arrays.copyOf(src, count * 2);
          at = java.util.Arrays.copyOf(at, count * 2);
          tie = java.util.Arrays.copyOf(tie, count * 2);
        }
        pos[count] = i;
        src[count] = s;
        at[count] = a;
        tie[count++] = agenda.tieOf(i);
      } else {
        long t = agenda.tieOf(i);
        if (a < at[j] || (a == at[j] && t < tie[j])) { // EventQueue.less(e, enabled[j])
          pos[j] = i;
          at[j] = a;
          tie[j] = t;
        }
      }
    }
    if (count > enabled.length) enabled = new EventQueue.Event[Math.max(count, enabled.length * 2)];
    for (int k = 0; k < count; k++) enabled[k] = agenda.get(pos[k]);
  }

  /** Sorts the enabled events in the seeded order, applies the scheduler's delay bound and asks it at a choice point. */
  private EventQueue.Event choose(Sim sim, Scheduler scheduler) {
    for (int i = 1; i < count; i++) { // insertion sort: two or three events, in the seeded order
      EventQueue.Event e = enabled[i];
      int j = i;
      for (; j > 0 && EventQueue.less(e, enabled[j - 1]); j--) enabled[j] = enabled[j - 1];
      enabled[j] = e;
    }
    long bound = scheduler.maxDelayNanos(); // DelayBound: the allowed events are a prefix (due by the earliest + D)
    if (bound >= 0) count = DelayBound.allowed(this, bound);
    if (count == 1) return enabled[0];
    points++;
    int c = scheduler.choose(sim, this);
    if (c < 0 || c >= count) throw new IllegalStateException("scheduler chose " + c + " of " + count);
    return enabled[c];
  }

  @Override
  public int size() { return count; }

  @Override
  public long source(int i) { return enabled[i].source; }

  @Override
  public long atNanos(int i) { return enabled[i].atNanos; }

  @Override
  public Scheduler.LinkEvent link(int i) { return enabled[i].link(); }
}
