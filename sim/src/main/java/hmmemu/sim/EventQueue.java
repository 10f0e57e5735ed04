package hmmemu.sim;

import java.util.Arrays;

/**
 * The simulator's agenda: a binary min-heap of {@link Event}s ordered by virtual time, then by a tie key that draws
 * nothing from the run's PRNG ({@link Sim}'s tie rule: a per-seed fixed priority of the event's stable identity, then
 * first scheduled first). Not a kernel structure.
 */
final class EventQueue {
  /** Something that happens at a virtual instant. */
  abstract static class Event {
    long atNanos;
    /**
     * The tie key (Sim#tieKey): the per-seed priority of the event's identity in the top {@link #PRIORITY_BITS} bits,
     * its scheduling sequence number below (first scheduled first among equal priorities).
     */
    long tie;
    /** The event's source for a {@link Scheduler}: a link lane's key, or 0 (a source of its own). */
    long source;
    /** A link arrival's description (a {@link Scheduler.LinkEvent}), or null. */
    Scheduler.LinkEvent link;
    /** The agenda slot the event holds while pending (EventQueue's bookkeeping, left out of StateWalk's pictures). */
    int slot;

    abstract void fire();

    /** Whether the event is a link arrival ({@link #link} not null), without building its description. */
    boolean isLink() { return link != null; }

    /** A link arrival's description, or null (an event may build it only when asked: {@link #isLink} says if). */
    Scheduler.LinkEvent link() { return link; }
  }

  /** Bits of a tie key that hold the priority; the {@code 64 - PRIORITY_BITS} below hold the sequence number. */
  static final int PRIORITY_BITS = 24;

  /** The arrays' first length (they double when full): a scenario run's agenda holds tens of events, not thousands. */
  private static final int INITIAL = 64;

  /**
   * The pending events by slot: an event keeps its slot from {@link #add} until it leaves, so the heap below moves
   * slot numbers, not references (a moved reference costs the garbage collector's write barrier on every move).
   */
  private Event[] slots = new Event[INITIAL];
  /** Free slot numbers, a stack. */
  private int[] free = new int[INITIAL];
  private int freeCount;
  private int slotsUsed;
  /**
   * The binary heap: slot numbers, with their keys in parallel (at[i], tie[i] = the event's atNanos, tie) and the
   * event's {@link Event#source} (src[i]: a scheduler's scan of the pending events reads these arrays, not the events).
   */
  private int[] heap = new int[INITIAL];
  private long[] at = new long[INITIAL];
  private long[] tie = new long[INITIAL];
  private long[] src = new long[INITIAL];
  private int size;
  /** Per slot, its event's position in {@link #heap}: {@link #remove} finds an event without a scan. */
  private int[] pos = new int[INITIAL];
  /** The pending events by scheduler source, once {@link #index} was asked for (null before: the seeded order never asks). */
  private SourceIndex index;

  int size() { return size; }

  boolean isEmpty() { return size == 0; }

  void add(Event e) {
    if (size == heap.length) {
      heap = Arrays.copyOf(heap, size * 2);
      at = Arrays.copyOf(at, size * 2);
      tie = Arrays.copyOf(tie, size * 2);
      src = Arrays.copyOf(src, size * 2);
    }
    int slot;
    if (freeCount > 0) {
      slot = free[--freeCount];
    } else {
      if (slotsUsed == slots.length) {
        slots = Arrays.copyOf(slots, slotsUsed * 2);
        free = Arrays.copyOf(free, slotsUsed * 2);
        pos = Arrays.copyOf(pos, slotsUsed * 2);
      }
      slot = slotsUsed++;
    }
    slots[slot] = e;
    e.slot = slot;
    siftUp(size++, slot, e.atNanos, e.tie, e.source);
    if (index != null) index.add(slot, e.atNanos, e.tie, e.source, e);
  }

  /**
   * The pending events by scheduler source ({@link Choices#pick}), built from the heap at the first call and kept from
   * then on by {@link #add}, {@link #poll}, {@link #remove} and {@link #rekey}.
   */
  SourceIndex index() {
    if (index == null) {
      SourceIndex x = new SourceIndex(slots.length);
      for (int i = 0; i < size; i++) x.add(heap[i], at[i], tie[i], src[i], slots[heap[i]]);
      index = x;
    }
    return index;
  }

  /** Whether {@link #index} was built (and is kept). */
  boolean indexed() { return index != null; }

  /** The pending event in agenda slot {@code slot} ({@link SourceIndex}'s entries). */
  Event inSlot(int slot) { return slots[slot]; }

  private void release(int slot) {
    slots[slot] = null;
    free[freeCount++] = slot;
  }

  /** The i-th event in heap order (0 <= i < size): for a scan of every pending event. */
  Event get(int i) { return slots[heap[i]]; }

  /** The i-th event's {@link Event#atNanos} (heap order), without reading the event. */
  long atOf(int i) { return at[i]; }

  /** The i-th event's {@link Event#tie} (heap order), without reading the event. */
  long tieOf(int i) { return tie[i]; }

  /** The i-th event's {@link Event#source} (heap order), without reading the event. */
  long sourceOf(int i) { return src[i]; }

  /** Removes event {@code e} (found by its slot), keeping the heap order. */
  void remove(Event e) {
    int slot = e.slot;
    if (slot < 0 || slot >= slotsUsed || slots[slot] != e) throw new IllegalStateException("event not in the agenda");
    int i = pos[slot];
    if (index != null) index.remove(slot, e);
    release(slot);
    --size;
    if (i == size) return;
    heap[i] = heap[size];
    at[i] = at[size];
    tie[i] = tie[size];
    src[i] = src[size];
    siftDown(i);
    siftUp(i, heap[i], at[i], tie[i], src[i]);
  }

  /** Places the slot with keys (ea, et) and source es at heap position i (a hole) and moves it up while less than its parent. */
  private void siftUp(int i, int slot, long ea, long et, long es) {
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      long pa = at[parent];
      if (!(ea < pa || (ea == pa && et < tie[parent]))) break; // !less(e, parent)
      pos[heap[i] = heap[parent]] = i;
      at[i] = pa;
      tie[i] = tie[parent];
      src[i] = src[parent];
      i = parent;
    }
    pos[heap[i] = slot] = i;
    at[i] = ea;
    tie[i] = et;
    src[i] = es;
  }

  private void siftDown(int i) {
    int last = heap[i];
    long la = at[i], lt = tie[i], ls = src[i];
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
      pos[heap[i] = heap[c]] = i;
      at[i] = ca;
      tie[i] = ct;
      src[i] = src[c];
      i = c;
    }
    pos[heap[i] = last] = i;
    at[i] = la;
    tie[i] = lt;
    src[i] = ls;
  }

  /**
   * Re-reads every pending event's time and tie (the fast-forward moved some) and restores the heap order (Floyd's
   * heapify, O(size)).
   */
  void rekey() {
    for (int i = 0; i < size; i++) {
      Event e = slots[heap[i]];
      at[i] = e.atNanos;
      tie[i] = e.tie;
      src[i] = e.source;
    }
    for (int i = (size >>> 1) - 1; i >= 0; i--) siftDown(i);
    if (index != null) { // re-index from the new keys
      index = null;
      index();
    }
  }

  Event peek() { return size == 0 ? null : slots[heap[0]]; }

  Event poll() {
    if (size == 0) return null;
    int top = heap[0];
    Event e = slots[top];
    if (index != null) index.remove(top, e);
    release(top);
    --size;
    if (size > 0) {
      heap[0] = heap[size];
      at[0] = at[size];
      tie[0] = tie[size];
      src[0] = src[size];
      siftDown(0);
    }
    return e;
  }

  static boolean less(Event a, Event b) {
    return a.atNanos < b.atNanos || (a.atNanos == b.atNanos && a.tie < b.tie);
  }
}
