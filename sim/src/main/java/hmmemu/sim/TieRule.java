package hmmemu.sim;

/**
 * The order of simulator events due at the same instant (issue 12, session 15): a per-seed fixed priority of the
 * event's stable identity, then first scheduled first. It draws nothing from the run's PRNG. Emulator-only host
 * mechanism, not a kernel structure.
 *
 * <p>Why a rule and not a coin: exact ties are an artifact of the model's discrete, often fixed delays; the kernel has
 * no notion of them (on hardware, simultaneous arrivals are ordered by arbitration, which is systematic, not a fresh
 * coin per message). A priority that is a hash of (seed, identity) keeps the order fair across seeds (each pair of
 * identities goes either way for about half the seeds) and makes a deadline spin's rounds periodic, so the
 * fast-forward can jump them exactly ({@link FastForward}). Identities are stable across a spin's rounds: the kind of
 * event and its node, or a link arrival's (sender, receiver, lane), where the lane of one notifier callback invocation
 * (keyed by its invalidation id, which grows every round) counts by its kind only. docs/ARCHITECTURE.md "Ties".
 *
 * <p>A tie key is {@code priority << (64 - PRIORITY_BITS) | seq}: the priority in the top
 * {@link EventQueue#PRIORITY_BITS} bits, the sequence number of the schedule below. The fast-forward renumbers the
 * sequence of the events it moves (the unskipped run's numbers: + n x the events scheduled a period).
 */
final class TieRule {
  /** Tie identities: the kind in the top byte, the node (or the link) below. */
  static final long OTHER = 0, LINK = 1L << 56, STEP_DONE = 2L << 56, LEASE = 3L << 56, ASK = 4L << 56, REPLY = 5L << 56;
  /** Bits of a tie key below the priority: the sequence number. */
  private static final int SEQ_BITS = 64 - EventQueue.PRIORITY_BITS;
  /** The tag of a lane of one notifier callback invocation (Lanes.callback: the top byte; the rest grows per invId). */
  private static final long CALLBACK_LANE_TAG = hmmemu.node.link.Lanes.callback(0, 0) >>> 56;

  private final long seed;
  /** Events scheduled so far: the sequence number of the last tie key (first scheduled first among equal priorities). */
  private long seq;

  TieRule(long seed) { this.seed = seed; }

  /**
   * The tie identity of an arrival on lane {@code lane} of direction {@code from -> to} (lane 0: lanes off), stable
   * across a spin's rounds.
   */
  static long link(int from, int to, long lane) {
    long stable = (lane >>> 56) == CALLBACK_LANE_TAG ? lane & (0xffL << 56) : lane;
    return LINK ^ ((long) (from & 0xff) << 48) ^ ((long) (to & 0xff) << 40) ^ (stable * 0x9E3779B97F4A7C15L >>> 24);
  }

  /** The per-seed priority of {@code identity}: a hash of both (SplitMix64's finalizer), in [0, 2^PRIORITY_BITS). */
  long priority(long identity) {
    long z = seed * 0x9E3779B97F4A7C15L + identity * 0xC2B2AE3D27D4EB4FL;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return (z ^ (z >>> 31)) >>> SEQ_BITS;
  }

  /** The tie key of an event with identity {@code identity} scheduled now. */
  long key(long identity) {
    long s = ++seq;
    if (s >>> SEQ_BITS != 0) throw new IllegalStateException("tie sequence overflow: " + s);
    return priority(identity) << SEQ_BITS | s;
  }

  /** The sequence number of tie key {@code tie}. */
  static long seqOf(long tie) { return tie & ((1L << SEQ_BITS) - 1); }

  /** The agenda's events in firing order (time, then tie key). */
  private static EventQueue.Event[] events(EventQueue q) {
    EventQueue.Event[] es = new EventQueue.Event[q.size()];
    for (int i = 0; i < es.length; i++) es[i] = q.get(i);
    java.util.Arrays.sort(es, (a, b) -> EventQueue.less(a, b) ? -1 : EventQueue.less(b, a) ? 1 : 0);
    return es;
  }

  /** The agenda's tie keys in firing order (a fast-forward picture leaves them out: StateWalk#agenda). */
  static long[] inFiringOrder(EventQueue q) {
    EventQueue.Event[] es = events(q);
    long[] t = new long[es.length];
    for (int i = 0; i < es.length; i++) t[i] = es[i].tie;
    return t;
  }

  /**
   * Per rank of the agenda in firing order, the step its tie key moved by in each period between the pictures'
   * {@code shots} (the same in every period, never down, and the priority unchanged), or null if some rank's did not.
   */
  static long[] steps(java.util.List<long[]> shots) {
    long[] last = shots.get(shots.size() - 1);
    long[] step = new long[last.length];
    for (int r = 0; r < last.length; r++) {
      step[r] = last[r] - shots.get(shots.size() - 2)[r];
      for (int k = 1; k < shots.size(); k++) {
        long[] x = shots.get(k), y = shots.get(k - 1);
        if (x.length != last.length || y.length != last.length) return null;
        if (x[r] - y[r] != step[r] || step[r] < 0 || x[r] >>> SEQ_BITS != y[r] >>> SEQ_BITS) return null;
      }
    }
    return step;
  }

  /** Whether every pending event's sequence number stays below 2^SEQ_BITS when moved by n x its step. */
  static boolean advances(EventQueue q, long n, long[] step) {
    EventQueue.Event[] es = events(q);
    if (es.length != step.length) return false;
    for (int r = 0; r < es.length; r++) {
      if (step[r] != 0 && (n > ((1L << SEQ_BITS) - 1 - seqOf(es[r].tie)) / step[r])) return false;
    }
    return true;
  }

  /**
   * Moves each pending event's tie key (rank r in firing order) by n x step[r]: the sequence numbers the unskipped
   * run gives the events n periods on (the priority stays). The caller re-keys the agenda.
   */
  static void advance(EventQueue q, long n, long[] step) {
    EventQueue.Event[] es = events(q);
    for (int r = 0; r < es.length; r++) es[r].tie += n * step[r];
  }
}
