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
  private int size;

  int size() { return size; }

  boolean isEmpty() { return size == 0; }

  void add(Event e) {
    if (size == heap.length) heap = Arrays.copyOf(heap, size * 2);
    heap[size] = e;
    siftUp(size++);
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
    siftDown(i);
    siftUp(i);
  }

  private void siftUp(int i) {
    Event e = heap[i];
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      Event p = heap[parent];
      if (!less(e, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = e;
  }

  private void siftDown(int i) {
    Event last = heap[i];
    int half = size >>> 1;
    while (i < half) {
      int c = 2 * i + 1;
      Event child = heap[c];
      int r = c + 1;
      if (r < size && less(heap[r], child)) {
        c = r;
        child = heap[r];
      }
      if (!less(child, last)) break;
      heap[i] = child;
      i = c;
    }
    heap[i] = last;
  }

  Event peek() { return size == 0 ? null : heap[0]; }

  Event poll() {
    if (size == 0) return null;
    Event top = heap[0];
    Event last = heap[--size];
    heap[size] = null;
    if (size > 0) {
      heap[0] = last;
      siftDown(0);
    }
    return top;
  }

  static boolean less(Event a, Event b) {
    return a.atNanos < b.atNanos || (a.atNanos == b.atNanos && a.tie < b.tie);
  }
}
