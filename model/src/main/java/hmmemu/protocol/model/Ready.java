package hmmemu.protocol.model;

import hmmemu.protocol.trace.Trace;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * What one step of a pure core produced (in the manner of etcd raft's Ready): messages to send and
 * trace events, both in the order they happened. The shell sends the messages and forwards the events
 * to the invariant checker; it adds nothing of its own.
 */
public final class Ready {
  public final List<Outbound> out = new Steps<>();
  public final List<Trace.Event> events = new Steps<>();

  public void send(Outbound o) { out.add(o); }

  public void emit(Trace.Event e) { events.add(e); }

  public boolean isEmpty() { return out.isEmpty() && events.isEmpty(); }

  /**
   * Emulator-only host mechanism: an append-only list for one step's messages or events, in the order added. A step
   * adds a few, so its array is made at the first add with room for {@link #FIRST} (an ArrayList makes ten through
   * its growth path, per list and per step) and doubles past that; a step that adds nothing allocates no array.
   */
  static final class Steps<E> extends AbstractList<E> implements RandomAccess {
    private static final int FIRST = 4;
    private static final Object[] NONE = {};

    private Object[] a = NONE;
    private int n;

    @Override
    public boolean add(E e) {
      if (n == a.length) a = n == 0 ? new Object[FIRST] : Arrays.copyOf(a, 2 * n);
      a[n++] = e;
      modCount++;
      return true;
    }

    @Override
    @SuppressWarnings("unchecked")
    public E get(int i) {
      Objects.checkIndex(i, n);
      return (E) a[i];
    }

    @Override
    public int size() { return n; }

    @Override
    public Object[] toArray() { return Arrays.copyOf(a, n); }

    /** Its own iterator: AbstractList's is shared by every AbstractList, whose get() it would call megamorphically. */
    @Override
    public Iterator<E> iterator() {
      return new Iterator<>() {
        private int next;
        private final int expected = modCount;

        @Override
        public boolean hasNext() { return next < n; }

        @Override
        @SuppressWarnings("unchecked")
        public E next() {
          if (modCount != expected) throw new ConcurrentModificationException();
          if (next >= n) throw new NoSuchElementException();
          return (E) a[next++];
        }
      };
    }
  }
}
