package hmmemu.checker;

import hmmemu.protocol.model.Frozen;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.util.List;

/**
 * The {@link Reporter}'s ring of the last {@link #SLOTS} applied events, as a world copy ({@code SimCopy}) can share
 * it: a slot holds the offered {@link Stamped} record (one store an event) until a world copy freezes the ring
 * ({@link #freezeForCopy}), which keeps each record's parts in the ring's own arrays (the event, an immutable record;
 * the node, the model time and the vector clock copied) and drops the records, whose clock arrays every reader is handed.
 * A frozen ring is shared by both worlds and never changed again; the Reporter records into an unfrozen copy
 * ({@link #thawed}) in its place. Session 24 (xrep). Not a kernel structure.
 */
final class RecentEvents implements Frozen {
  /** Slots (a power of two: slot {@code n & (SLOTS - 1)} holds the n-th event recorded). */
  static final int SLOTS = 256;

  /** Per slot: the offered record (null: never written, or its parts are kept below). */
  private final Stamped[] offered;
  /** Per slot: the kept event (null: never written, or the slot's record is {@link #offered}). */
  private final Trace.Event[] events;
  /** Per slot: the kept event's node, then its vector clock's length (-1: none), side by side. */
  private final int[] shape;
  /** Per slot, {@link #stride} words: the kept event's model time, then its vector clock. */
  private long[] words;
  /** Words a slot of {@link #words} holds: one more than the longest vector clock kept (at least 4). */
  private int stride;
  /** Whether some slot holds an offered record (a freeze has work). */
  private boolean anyOffered;
  /** Set once by {@link #freezeForCopy}, never cleared. Transient: not part of the ring's contents. */
  private transient boolean frozen;

  /** An empty ring. */
  RecentEvents() {
    this(new Trace.Event[SLOTS], new int[2 * SLOTS], new long[4 * SLOTS], 4);
  }

  private RecentEvents(Trace.Event[] events, int[] shape, long[] words, int stride) {
    this.offered = new Stamped[SLOTS];
    this.events = events;
    this.shape = shape;
    this.words = words;
    this.stride = stride;
  }

  /** Puts the offered record {@code s} in {@code slot} (the ring must not be frozen). */
  void put(int slot, Stamped s) {
    if (frozen) throw new IllegalStateException("RecentEvents: a frozen ring is never changed (record into thawed())");
    offered[slot] = s;
    anyOffered = true;
  }

  /**
   * The event in {@code slot} as it was offered (the offered record, or a new {@link Stamped} with its own clock array
   * rebuilt from the kept parts), or null if the slot was never written.
   */
  Stamped entry(int slot) {
    Stamped s = offered[slot];
    if (s != null) return s;
    Trace.Event e = events[slot];
    if (e == null) return null;
    int n = shape[2 * slot + 1];
    int base = slot * stride;
    long[] vc = n < 0 ? null : java.util.Arrays.copyOfRange(words, base + 1, base + 1 + n);
    return new Stamped(shape[2 * slot], vc, e, words[base]);
  }

  @Override
  public boolean frozen() { return frozen; }

  /**
   * Keeps every offered record's parts in the ring's arrays and freezes the ring, unless an offered event holds
   * something that could change (an {@link Trace.InvalidateStarted} whose ids are not an immutable list of longs, or
   * an event of a class not known to hold values only): then nothing changes and the world copy copies the ring.
   */
  @Override
  public boolean freezeForCopy() {
    if (frozen) return true;
    if (anyOffered) {
      for (Stamped s : offered) if (s != null && !immutable(s.event())) return false;
      for (int slot = 0; slot < SLOTS; slot++) {
        Stamped s = offered[slot];
        if (s == null) continue;
        keep(slot, s);
        offered[slot] = null;
      }
      anyOffered = false;
    }
    frozen = true;
    return true;
  }

  /** An unfrozen copy of this ring's contents (its arrays copied), for the owner to change in its place. */
  RecentEvents thawed() {
    RecentEvents t = new RecentEvents(events.clone(), shape.clone(), words.clone(), stride);
    for (int slot = 0; slot < SLOTS; slot++) {
      if (offered[slot] != null) {
        t.offered[slot] = offered[slot];
        t.anyOffered = true;
      }
    }
    return t;
  }

  /** Copies record {@code s}'s parts into {@code slot}'s kept arrays. */
  private void keep(int slot, Stamped s) {
    long[] vc = s.vc();
    int n = vc == null ? -1 : vc.length;
    if (n >= stride) widen(n + 1);
    events[slot] = s.event();
    shape[2 * slot] = s.node();
    shape[2 * slot + 1] = n;
    int base = slot * stride;
    words[base] = s.atMicros();
    for (int j = 0; j < n; j++) words[base + 1 + j] = vc[j];
  }

  /** Lays the kept words out {@code wider} words a slot (a longer vector clock than any before). */
  private void widen(int wider) {
    long[] w = new long[wider * SLOTS];
    for (int slot = 0; slot < SLOTS; slot++) System.arraycopy(words, slot * stride, w, slot * wider, stride);
    words = w;
    stride = wider;
  }

  /**
   * Whether event {@code e} holds values only: every {@link Trace.Event} record but one holds primitives, strings and
   * enums; an {@link Trace.InvalidateStarted}'s ids must be an immutable JDK list of longs.
   */
  static boolean immutable(Trace.Event e) {
    if (!(e instanceof Trace.InvalidateStarted i)) return VALUES.get(e.getClass());
    List<Long> ids = i.subIds();
    if (!Frozen.jdkImmutableList(ids)) return false;
    if (ids == null) return true;
    for (Object id : ids) if (!(id instanceof Long)) return false;
    return true;
  }

  /** Per event class: whether every component is a primitive, a string, a boxed primitive or an enum. */
  private static final ClassValue<Boolean> VALUES = new ClassValue<>() {
    @Override
    protected Boolean computeValue(Class<?> c) {
      if (!c.isRecord()) return false;
      for (java.lang.reflect.RecordComponent rc : c.getRecordComponents()) {
        Class<?> t = rc.getType();
        if (!(t.isPrimitive() || t == String.class || t.isEnum() || t == Long.class || t == Integer.class
            || t == Boolean.class)) {
          return false;
        }
      }
      return true;
    }
  };
}
