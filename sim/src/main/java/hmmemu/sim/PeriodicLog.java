package hmmemu.sim;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * An append-only history a host keeps of what a run did (e.g. the scenario host's invalidate callbacks, read by the
 * files' expectations), stored as runs of repeated blocks: {@link #repeatLast} appends the last d entries n times
 * more in O(d), which is how {@link FastForward} advances such a history over n skipped periods exactly (each period
 * of a spin appends the same d entries). {@link StateWalk} pictures it as its size (an advancing leaf) and its last
 * {@link #WINDOW} entries (which must repeat period after period). An emulator-only host mechanism, not a kernel
 * structure. Not thread-safe: a host that appends from several threads synchronizes on it.
 */
public final class PeriodicLog<T> implements Iterable<T> {
  /** Entries of the tail the picture shows; a jump may repeat at most this many entries a period. */
  public static final int WINDOW = 64;

  /** One run: {@code items} appended {@code times} times in a row. */
  private record Segment<T>(List<T> items, long times) {}

  private final List<Segment<T>> segments = new ArrayList<>();
  /** The open segment (appended to by {@link #add}); null when the last segment is a repeated one. */
  private List<T> open;
  private long size;

  /** Appends one entry. */
  public void add(T entry) {
    if (open == null) {
      open = new ArrayList<>();
      segments.add(new Segment<>(open, 1));
    }
    open.add(entry);
    size++;
  }

  /** Entries in the history (repeated ones counted as often as they repeat). */
  public long size() { return size; }

  /** The last {@code k} entries (fewer when the history is shorter), oldest first. */
  public List<T> last(int k) {
    ArrayList<T> out = new ArrayList<>(k);
    for (int s = segments.size() - 1; s >= 0 && out.size() < k; s--) {
      Segment<T> g = segments.get(s);
      for (long t = 0; t < g.times && out.size() < k; t++) {
        for (int i = g.items.size() - 1; i >= 0 && out.size() < k; i--) out.add(g.items.get(i));
      }
    }
    java.util.Collections.reverse(out);
    return out;
  }

  /** Appends the last {@code d} entries {@code n} times more (as n further periods would have appended them). */
  public void repeatLast(int d, long n) {
    if (d <= 0 || n <= 0) return;
    if (d > size) throw new IllegalArgumentException("only " + size + " entries to repeat, not " + d);
    segments.add(new Segment<>(List.copyOf(last(d)), n));
    open = null;
    size += d * n;
  }

  @Override
  public Iterator<T> iterator() {
    return new Iterator<>() {
      private int s, i;
      private long t;

      @Override
      public boolean hasNext() {
        while (s < segments.size()) {
          Segment<T> g = segments.get(s);
          if (i < g.items.size()) return true;
          i = 0;
          if (++t < g.times) continue;
          t = 0;
          s++;
        }
        return false;
      }

      @Override
      public T next() {
        if (!hasNext()) throw new NoSuchElementException();
        return segments.get(s).items.get(i++);
      }
    };
  }
}
