package hmmemu.protocol.msg;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.RandomAccess;

/**
 * Emulator-only host mechanism: a page's words as {@link HmmProtocol.PageInfo#words} carries them, an unmodifiable
 * {@code List<Long>} backed by a {@code long[]} (no boxed Long per word; {@link #word} reads one without boxing):
 * either every word ({@link #wrap}, {@link #copyOf}) or, for a page whose few non-zero words the CPU node keeps as
 * pairs (cpu-core Folio), only those ({@link #sparse}: the other words read zero, and the reply costs the pairs, not
 * 4 KiB). It is a List like any other: equal to, and with the hash code and string of, any list of the same Longs in
 * the same order whichever way it is stored, so a reply built with one equals the same reply decoded from the wire.
 */
public final class PageWords extends AbstractList<Long> implements RandomAccess {
  /** Every word (dense), or the sparse pairs {@code [index0, value0, index1, value1, ...]} sorted by index. */
  private final long[] words;
  /** The sparse pairs held, or -1 when {@link #words} holds every word. */
  private final int pairs;
  private final int size;

  private PageWords(long[] words, int pairs, int size) {
    this.words = words;
    this.pairs = pairs;
    this.size = size;
  }

  /** The words of {@code words}, which the caller hands over (nothing else may change it afterwards). */
  public static PageWords wrap(long[] words) {
    return new PageWords(words, -1, words.length);
  }

  /** A copy of {@code words}. */
  public static PageWords copyOf(long[] words) {
    return new PageWords(words.clone(), -1, words.length);
  }

  /**
   * {@code size} words, zero but for the {@code count} pairs {@code [index, value, ...]} at the start of {@code
   * pairs}, sorted by index with no index twice, each in [0, size); the caller hands {@code pairs} over.
   */
  public static PageWords sparse(long[] pairs, int count, int size) {
    if (count < 0 || 2 * count > pairs.length) throw new IllegalArgumentException(count + " pairs in " + pairs.length);
    return new PageWords(pairs, count, size);
  }

  /** Word {@code index}, unboxed. */
  public long word(int index) {
    if (pairs < 0) return words[index];
    if (index < 0 || index >= size) throw new IndexOutOfBoundsException(index);
    int at = findPair(words, pairs, index);
    return at >= 0 ? words[2 * at + 1] : 0;
  }

  /**
   * Binary search of {@code count} sparse (index, value) pairs laid out as {@code pairs[2i], pairs[2i + 1]} sorted by
   * index (this class's and cpu-core's Folio's layout): the pair's position, or -(insertion point) - 1.
   */
  public static int findPair(long[] pairs, int count, int index) {
    int lo = 0, hi = count - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      long k = pairs[2 * mid];
      if (k < index) lo = mid + 1;
      else if (k > index) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  /**
   * The words stored: {@link #size} when every word is, else the sparse pairs' count; stored word {@code k} is at
   * {@link #storedIndex}{@code (k)} with the value {@link #storedWord}{@code (k)}, in increasing index order, and
   * every word not stored is zero (a stored word may be zero too).
   */
  public int stored() { return pairs < 0 ? size : pairs; }

  /** The index of stored word {@code k} ({@link #stored}). */
  public int storedIndex(int k) { return pairs < 0 ? k : (int) words[2 * k]; }

  /** The value of stored word {@code k} ({@link #stored}). */
  public long storedWord(int k) { return pairs < 0 ? words[k] : words[2 * k + 1]; }

  @Override
  public Long get(int index) {
    return word(index);
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public boolean equals(Object o) {
    if (o instanceof PageWords p) {
      if (pairs < 0 && p.pairs < 0) return Arrays.equals(words, p.words);
      if (size != p.size) return false;
      for (int i = 0; i < size; i++) if (word(i) != p.word(i)) return false;
      return true;
    }
    return super.equals(o);
  }

  @Override
  public int hashCode() {
    int h = 1;
    for (int i = 0, k = 0; i < size; i++) { // List.hashCode of the boxed words
      long w;
      if (pairs < 0) {
        w = words[i];
      } else if (k < pairs && words[2 * k] == i) {
        w = words[2 * k++ + 1];
      } else {
        w = 0;
      }
      h = 31 * h + Long.hashCode(w);
    }
    return h;
  }
}
