package hmmemu.sim;

import java.util.Arrays;

/**
 * The simulator's agenda: a binary min-heap of {@link Event}s ordered by virtual time, then by a tie key drawn from
 * the run's PRNG when the event was scheduled, so the choice among events due at the same instant is the seed's.
 * Not a kernel structure.
 */
final class EventQueue {
  /** Something that happens at a virtual instant. */
  abstract static class Event {
    long atNanos;
    long tie;
    /** The event's source for a {@link Scheduler}: a link lane's key, or 0 (a source of its own). */
    long source;
    /** A link arrival's description (a {@link Scheduler.LinkEvent}), or null. */
    Scheduler.LinkEvent link;

    abstract void fire();
  }

  private Event[] heap = new Event[1024];
  /**
   * The heap's keys, parallel to {@link #heap} (at[i] = heap[i].atNanos, tie[i] = heap[i].tie): the sifts compare
   * them without loading the events, in the same order and with the same outcome as comparing the events.
   */
  private long[] at = new long[1024];
  private long[] tie = new long[1024];
  private int size;

  int size() { return size; }

  boolean isEmpty() { return size == 0; }

  void add(Event e) {
    if (size == heap.length) {
      heap = Arrays.copyOf(heap, size * 2);
      at = Arrays.copyOf(at, size * 2);
      tie = Arrays.copyOf(tie, size * 2);
    }
    siftUp(size++, e);
  }

  /** The i-th event in heap order (0 <= i < size): for a scan of every pending event. */
  Event get(int i) { return heap[i]; }

  /** Removes event {@code e} (found by identity), keeping the heap order. */
  void remove(Event e) {
    int i = 0;
    while (i < size && heap[i] != e) i++;
    if (i == size) throw new IllegalStateException("event not in the agenda");
    Event last = heap[--size];
    heap[size] = null;
    if (i == size) return;
    heap[i] = last;
    at[i] = last.atNanos;
    tie[i] = last.tie;
    siftDown(i);
    siftUp(i, heap[i]);
  }

  /** Places {@code e} at slot i (a hole) and moves it up while it is less than its parent. */
  private void siftUp(int i, Event e) {
    long ea = e.atNanos, et = e.tie;
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      long pa = at[parent];
      if (!(ea < pa || (ea == pa && et < tie[parent]))) break; // !less(e, parent)
      heap[i] = heap[parent];
      at[i] = pa;
      tie[i] = tie[parent];
      i = parent;
    }
    heap[i] = e;
    at[i] = ea;
    tie[i] = et;
  }

  private void siftDown(int i) {
    Event last = heap[i];
    long la = at[i], lt = tie[i];
    int half = size >>> 1;
    while (i < half) {
      int c = 2 * i + 1;
      long ca = at[c], ct = tie[c];
      int r = c + 1;
      if (r < size && (at[r] < ca || (at[r] == ca && tie[r] < ct))) { // less(heap[r], child)
        c = r;
        ca = at[r];
        ct = tie[r];
      }
      if (!(ca < la || (ca == la && ct < lt))) break; // !less(child, last)
      heap[i] = heap[c];
      at[i] = ca;
      tie[i] = ct;
      i = c;
    }
    heap[i] = last;
    at[i] = la;
    tie[i] = lt;
  }

  Event peek() { return size == 0 ? null : heap[0]; }

  Event poll() {
    if (size == 0) return null;
    Event top = heap[0];
    Event last = heap[--size];
    heap[size] = null;
    if (size > 0) {
      heap[0] = last;
      at[0] = last.atNanos;
      tie[0] = last.tie;
      siftDown(0);
    }
    return top;
  }

  static boolean less(Event a, Event b) {
    return a.atNanos < b.atNanos || (a.atNanos == b.atNanos && a.tie < b.tie);
  }
}
