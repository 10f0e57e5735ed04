package hmmemu.sim;

/**
 * Picks which of the enabled events happens next (issue 13, schedule exploration). The simulator asks only at a
 * <b>choice point</b>: more than one event is enabled, i.e. due within the current run bound, counting only the
 * earliest event of each <b>source</b>. A source is one FIFO lane of a link direction (the messages of one sending
 * kernel thread with {@code lanes = per-thread}, docs/PROTOCOL.md §5.8; of the whole direction without lanes), so a
 * scheduler can never make a lane's messages overtake each other; every other event (a controller hop, a reply to
 * the controller, a lease tick, a step's host-side cost elapsing, a fault) is a source of its own.
 *
 * <p>The enabled events come sorted as the seeded order would fire them (virtual time, then the tie key, TieRule):
 * index 0 is exactly the event the simulator fires without a scheduler, so a scheduler that always answers 0 keeps
 * every run bit for bit ({@link #SEEDED}). Choosing a later event lets virtual time jump to it; the events passed
 * over fire later, at the then current time (an unbounded message delay, which an asynchronous system allows;
 * {@link #maxDelayNanos} bounds it).
 * Not a kernel structure.
 */
@FunctionalInterface
public interface Scheduler {
  /** The seeded order: always the earliest event. */
  Scheduler SEEDED = (sim, enabled) -> 0;

  /** Returns the index in [0, enabled.size()) of the event to fire next; called only when size() >= 2. */
  int choose(Sim sim, Enabled enabled);

  /**
   * The longest this scheduler may postpone an event past its due instant, in ns ({@link DelayBound}: the simulator
   * then offers only the events due at most this long after the earliest pending one), or {@link
   * DelayBound#UNBOUNDED} (the default: any event may be postponed for any time).
   */
  default long maxDelayNanos() { return DelayBound.UNBOUNDED; }

  /**
   * For a jump over choice points ({@link ScheduledJump}): the last {@code window} choice points this scheduler was
   * asked at form {@code periods} periods of {@code window / periods} points each; returns how many more choice points
   * it decides, point by point, exactly as it decided the last period's (given the same enabled events at each), with
   * nothing of it changing but its count of points (no draw, no state key, no change of rule), or -1 when it cannot
   * promise that (the default: a scheduler that draws, keys or counts per point).
   */
  default long repeats(int periods, long window) { return -1; }

  /**
   * A jump skipped {@code reps} more periods of the last {@code perPeriod} choice points ({@link #repeats} allowed
   * it): advance the record as if each had been asked again in order. Never called unless {@link #repeats} was >= 0.
   */
  default void skipped(long reps, int perPeriod) {
    throw new UnsupportedOperationException("skipped: this scheduler promised no repeats");
  }

  /** The events enabled at one choice point, sorted as the seeded order would fire them. */
  interface Enabled {
    int size();

    /** The event's source: equal for the events of one link lane, distinct for every other event. */
    long source(int i);

    /** Virtual time the event was due at. */
    long atNanos(int i);

    /**
     * What the event carries, for descriptions and pause points: for a link arrival a {@link LinkEvent}, else
     * null.
     */
    LinkEvent link(int i);
  }

  /** A link arrival: the message heading the lane, from node {@code from} to node {@code to}. */
  record LinkEvent(int from, int to, long lane, hmmemu.protocol.msg.HmmProtocol.Msg msg) {
    @Override
    public String toString() {
      return (from == 0 ? "cpu0" : "gpu" + from) + "->" + (to == 0 ? "cpu0" : "gpu" + to) + " "
          + msg.getClass().getSimpleName();
    }
  }
}
