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

  /** Scratch of {@link #pick}'s scan: per enabled source, its event's heap position, source, time and tie. */
  private int[] pos = new int[16];
  private long[] src = new long[16];
  private long[] at = new long[16];
  private long[] tie = new long[16];

  /**
   * The event to fire next (not yet removed from {@code agenda}, which is not empty). The scan of the pending events
   * reads the agenda's parallel arrays of time, tie and source ({@link EventQueue#atOf}), not the events: the same
   * enabled set as reading each event's fields, without touching hundreds of events per fired one.
   */
  EventQueue.Event pick(Sim sim, EventQueue agenda, long untilNanos, Scheduler scheduler, boolean chooseAll) {
    count = 0;
    if (!chooseAll && !agenda.peek().isLink()) return agenda.peek();
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
