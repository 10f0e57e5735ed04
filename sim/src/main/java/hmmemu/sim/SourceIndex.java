package hmmemu.sim;

import java.util.Arrays;

/**
 * The agenda's pending events by {@link Scheduler} source, kept beside {@link EventQueue}'s heap once a scheduler
 * picks ({@link EventQueue#index}): per link lane (a positive source) a binary min-heap of its events' agenda slots
 * keyed by (time, tie), and the events that are sources of their own (negative sources) in a list. {@link Choices#pick}
 * then reads each live lane's earliest event and each event of its own instead of scanning every pending event: the
 * agenda holds hundreds of one lane's arrivals while two or three sources are live. Emulator-only host mechanism.
 */
final class SourceIndex {
  /** One link lane's pending events: a binary min-heap of agenda slots keyed by (time, tie) in parallel arrays. */
  static final class Lane {
    long key;
    int[] slot = new int[16];
    long[] at = new long[16];
    long[] tie = new long[16];
    int size;
    /** Position in {@link #live}. */
    int live;
  }

  /** The lanes with pending events (any order), and {@link #liveCount} of them in use. */
  Lane[] live = new Lane[4];
  int liveCount;
  /** Emptied lanes, their arrays kept for the next lane that becomes live. */
  private Lane[] spare = new Lane[4];
  private int spareCount;
  /** The lane looked up last (a lane's arrivals are scheduled in a row). */
  private Lane last;
  /** The slots of the pending events that are sources of their own, and {@link #ownCount} of them. */
  int[] own = new int[8];
  int ownCount;
  /** Pending lane events that are not link arrivals (a host may schedule one on a lane; pick then scans). */
  int plainInLanes;
  /** Per agenda slot: the lane holding its event (null: a source of its own), and its position there. */
  private Lane[] laneOf;
  private int[] where;

  SourceIndex(int slots) {
    laneOf = new Lane[slots];
    where = new int[slots];
  }

  /** Indexes the event in {@code slot} (keys and source as the agenda holds them). */
  void add(int slot, long at, long tie, long source, EventQueue.Event e) {
    if (slot >= where.length) {
      int n = Math.max(slot + 1, where.length * 2);
      laneOf = Arrays.copyOf(laneOf, n);
      where = Arrays.copyOf(where, n);
    }
    if (source <= 0) {
      laneOf[slot] = null;
      if (ownCount == own.length) own = Arrays.copyOf(own, ownCount * 2);
      where[slot] = ownCount;
      own[ownCount++] = slot;
      return;
    }
    if (!e.isLink()) plainInLanes++;
    Lane l = lane(source);
    laneOf[slot] = l;
    if (l.size == l.slot.length) {
      l.slot = Arrays.copyOf(l.slot, l.size * 2);
      l.at = Arrays.copyOf(l.at, l.size * 2);
      l.tie = Arrays.copyOf(l.tie, l.size * 2);
    }
    siftUp(l, l.size++, slot, at, tie);
  }

  /** Drops the event in {@code slot} from the index. */
  void remove(int slot, EventQueue.Event e) {
    Lane l = laneOf[slot];
    int i = where[slot];
    if (l == null) {
      int moved = own[--ownCount];
      own[i] = moved;
      where[moved] = i;
      return;
    }
    laneOf[slot] = null;
    if (!e.isLink()) plainInLanes--;
    int n = --l.size;
    if (n == 0) {
      retire(l);
      return;
    }
    if (i == n) return;
    int s = l.slot[n];
    long a = l.at[n], t = l.tie[n];
    siftDown(l, i, s, a, t);
    if (l.slot[i] == s) siftUp(l, i, s, a, t);
  }

  /** The live lane of {@code key}, made live (from a spare one) if it has no pending event. */
  private Lane lane(long key) {
    if (last != null && last.key == key) return last;
    for (int i = 0; i < liveCount; i++) {
      if (live[i].key == key) return last = live[i];
    }
    Lane l = spareCount > 0 ? spare[--spareCount] : new Lane();
    l.key = key;
    l.size = 0;
    if (liveCount == live.length) live = Arrays.copyOf(live, liveCount * 2);
    l.live = liveCount;
    live[liveCount++] = l;
    return last = l;
  }

  private void retire(Lane l) {
    Lane moved = live[--liveCount];
    live[l.live] = moved;
    moved.live = l.live;
    live[liveCount] = null;
    if (last == l) last = null;
    if (spareCount == spare.length) spare = Arrays.copyOf(spare, spareCount * 2);
    spare[spareCount++] = l;
  }

  private static boolean less(long a1, long t1, long a2, long t2) {
    return a1 < a2 || (a1 == a2 && t1 < t2);
  }

  /** Places slot s with keys (a, t) at heap position i of lane l and moves it up while less than its parent. */
  private void siftUp(Lane l, int i, int s, long a, long t) {
    while (i > 0) {
      int p = (i - 1) >>> 1;
      if (!less(a, t, l.at[p], l.tie[p])) break;
      put(l, i, l.slot[p], l.at[p], l.tie[p]);
      i = p;
    }
    put(l, i, s, a, t);
  }

  /** Places slot s with keys (a, t) at heap position i of lane l and moves it down while a child is less. */
  private void siftDown(Lane l, int i, int s, long a, long t) {
    int half = l.size >>> 1;
    while (i < half) {
      int c = 2 * i + 1;
      int r = c + 1;
      if (r < l.size && less(l.at[r], l.tie[r], l.at[c], l.tie[c])) c = r;
      if (!less(l.at[c], l.tie[c], a, t)) break;
      put(l, i, l.slot[c], l.at[c], l.tie[c]);
      i = c;
    }
    put(l, i, s, a, t);
  }

  private void put(Lane l, int i, int s, long a, long t) {
    l.slot[i] = s;
    l.at[i] = a;
    l.tie[i] = t;
    where[s] = i;
  }
}
