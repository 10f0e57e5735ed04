package hmmemu.protocol.msg;

import java.util.AbstractList;
import java.util.RandomAccess;

/**
 * Emulator-only host mechanism: a page's words as {@link HmmProtocol.PageInfo#words} carries them, an unmodifiable
 * {@code List<Long>} backed by a {@code long[]} (no boxed Long per word; {@link #word} reads one without boxing).
 * It is a List like any other: equal to, and with the hash code and string of, any list of the same Longs in the
 * same order, so a reply built with one equals the same reply decoded from the wire.
 */
public final class PageWords extends AbstractList<Long> implements RandomAccess {
  private final long[] words;

  private PageWords(long[] words) {
    this.words = words;
  }

  /** The words of {@code words}, which the caller hands over (nothing else may change it afterwards). */
  public static PageWords wrap(long[] words) {
    return new PageWords(words);
  }

  /** A copy of {@code words}. */
  public static PageWords copyOf(long[] words) {
    return new PageWords(words.clone());
  }

  /** Word {@code index}, unboxed. */
  public long word(int index) {
    return words[index];
  }

  @Override
  public Long get(int index) {
    return words[index];
  }

  @Override
  public int size() {
    return words.length;
  }

  @Override
  public boolean equals(Object o) {
    if (o instanceof PageWords p) return java.util.Arrays.equals(words, p.words);
    return super.equals(o);
  }

  @Override
  public int hashCode() {
    int h = 1;
    for (long w : words) h = 31 * h + Long.hashCode(w); // List.hashCode of the boxed words
    return h;
  }
}
