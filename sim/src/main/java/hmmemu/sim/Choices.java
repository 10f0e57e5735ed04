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

  /** The event to fire next (not yet removed from {@code agenda}, which is not empty). */
  EventQueue.Event pick(Sim sim, EventQueue agenda, long untilNanos, Scheduler scheduler, boolean chooseAll) {
    count = 0;
    if (!chooseAll && !agenda.peek().isLink()) return agenda.peek();
    for (int i = 0, n = agenda.size(); i < n; i++) {
      EventQueue.Event e = agenda.get(i);
      if (e.atNanos > untilNanos || (!chooseAll && !e.isLink())) continue;
      int j = -1;
      if (e.source > 0) { // a link lane: one source for all its arrivals
        for (int k = 0; k < count; k++) {
          if (enabled[k].source == e.source) {
            j = k;
            break;
          }
        }
      }
      if (j < 0) {
        if (count == enabled.length) enabled = java.util.Arrays.copyOf(enabled, count * 2);
        enabled[count++] = e;
      } else if (EventQueue.less(e, enabled[j])) {
        enabled[j] = e;
      }
    }
    java.util.Arrays.sort(enabled, 0, count, (a, b) -> EventQueue.less(a, b) ? -1 : EventQueue.less(b, a) ? 1 : 0);
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
