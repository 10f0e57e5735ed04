package hmmemu.protocol.model;

import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Not a kernel structure (an emulator mechanism): a value computed once per class (a {@link ClassValue}) and read
 * through a direct-mapped cache by the class's identity hash, one load and one compare per look-up where
 * {@code ClassValue.get} costs several. The simulator asks such values on every event (a message's families, a trace
 * record's shape, a trace type's number, a snapshot's copy plan). The cache's entries are immutable, so threads that
 * race on a slot each read a whole entry; a miss asks the ClassValue, whose rules hold as they are (a value computed
 * twice by racing threads: one of them is kept).
 *
 * @param <T> the value (may be null)
 */
public final class ClassCache<T> {
  private record Entry<T>(Class<?> type, T value) {}

  private final ClassValue<Entry<T>> values;
  private final Entry<T>[] slots;

  /** {@code compute} once per class; {@code slots}, a power of two, cache entries in front of it. */
  @SuppressWarnings("unchecked")
  public ClassCache(int slots, Function<Class<?>, T> compute) {
    this.slots = (Entry<T>[]) new Entry<?>[checked(slots)];
    this.values = new ClassValue<>() {
      @Override
      protected Entry<T> computeValue(Class<?> c) { return new Entry<>(c, compute.apply(c)); }
    };
  }

  /** The value of class {@code c}. */
  public T get(Class<?> c) {
    Entry<T>[] s = slots;
    int i = System.identityHashCode(c) & (s.length - 1);
    Entry<T> e = s[i];
    if (e == null || e.type != c) s[i] = e = values.get(c);
    return e.value;
  }

  /** A {@link ClassCache} of an int per class, without boxing. */
  public static final class OfInt {
    private record Entry(Class<?> type, int value) {}

    private final ClassValue<Entry> values;
    private final Entry[] slots;

    /** {@code compute} once per class; {@code slots}, a power of two, cache entries in front of it. */
    public OfInt(int slots, ToIntFunction<Class<?>> compute) {
      this.slots = new Entry[checked(slots)];
      this.values = new ClassValue<>() {
        @Override
        protected Entry computeValue(Class<?> c) { return new Entry(c, compute.applyAsInt(c)); }
      };
    }

    /** The value of class {@code c}. */
    public int get(Class<?> c) {
      Entry[] s = slots;
      int i = System.identityHashCode(c) & (s.length - 1);
      Entry e = s[i];
      if (e == null || e.type != c) s[i] = e = values.get(c);
      return e.value;
    }
  }

  private static int checked(int slots) {
    if (slots <= 0 || Integer.bitCount(slots) != 1) {
      throw new IllegalArgumentException("a ClassCache's slots must be a power of two: " + slots);
    }
    return slots;
  }
}
