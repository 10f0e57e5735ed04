package hmmemu.cpu.core;

import hmmemu.protocol.model.Page;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Models struct folio (order 0) with its contents. The folio lock's wait queue holds parked operations;
 * folio_unlock() wakes all of them and each re-checks (as folio_wake_bit does with exclusive waiters that
 * re-try the lock).
 *
 * <p>Contents are stored sparsely (issue 11: a page pays for the words that differ from zero): {@code words} is
 * null while every word is zero, then a sorted array of (word index, value) pairs, then a dense
 * {@code long[Page.WORDS]} once more than {@link #SPARSE_MAX} words are non-zero (a fully written page costs its
 * 4 KiB). A word written back to zero leaves the sparse array; a dense page stays dense.
 */
final class Folio {
  /** Non-zero words kept as pairs before the contents become a dense long[512] (64 pairs = 1 KiB). */
  static final int SPARSE_MAX = 64;
  private static final long[] NO_WORDS = new long[0];

  final long pfn;
  /**
   * Page contents; kept after the folio is freed so that late accesses are observable. Null (all zero),
   * sparse pairs {@code [index0, value0, index1, value1, ...]} sorted by index ({@link #sparseCount} of them),
   * or dense (length {@link Page#WORDS}, with {@link #sparseCount} = -1).
   */
  private long[] words;
  private short sparseCount;
  /** folio_test_anon(): anonymous memory (not page cache). */
  boolean anon;
  boolean hugetlb;
  /** The shared zero page: never refcounted, never freed, never written by the CPU. */
  final boolean zero;
  /**
   * PG_locked, kept on the head page (as the kernel keeps it in the folio's head): a tail page's own field is stale
   * while it belongs to a large folio; read the lock through {@link #locked()}.
   */
  boolean locked;
  /** The lock bit the last FolioChanged of this page reported (a large folio's unlock reports it where it was seen). */
  boolean reportedLocked;
  /**
   * Emulator-only: on the head page of a large folio, how many of its pages have {@link #reportedLocked} set (kept by
   * Folios.emitFolio, the one writer of that bit), so that an unlock need not read all 512 pages to find them.
   * Transient: derived from the pages' bits, so StateWalk's picture leaves it out (SimCopy copies it).
   */
  transient int reportedLockedPages;
  int refcount;
  int mapcount;
  boolean dirty;
  /** PageAnonExclusive(). */
  boolean anonExclusive;
  boolean freed;
  /** PG_referenced: set by folio_mark_accessed() (GUP's FOLL_TOUCH); reclaim's aging is not modelled. */
  boolean referenced;
  /**
   * The head page of the large folio (THP or mTHP) this page belongs to, itself for an order-0 folio. The folio lock
   * and its wait queue are the head's (PG_locked lives in the head page); {@link #locked()} reads it for any page of
   * the folio. Refcount, mapcount, dirty and anon-exclusive are kept
   * per page (the folio's refcount and large mapcount are the sums over its pages).
   */
  Folio head = this;
  /** folio_nr_pages() (on the head page; 1 for an order-0 folio). */
  int nrPages = 1;
  /**
   * folio->_pincount (kept on the head page): FOLL_PIN references. Nothing in the emulator pins (see
   * {@link Mm#hasPinned}); a unit test sets it to exercise folio_maybe_dma_pinned().
   */
  int pincount;
  /** The folio lock's wait queue; allocated when the first operation parks on it. */
  private ArrayDeque<Runnable> waiters;

  Folio(long pfn, boolean zero) {
    this.pfn = pfn;
    this.zero = zero;
  }

  /** Word {@code index} of the contents. */
  long word(int index) {
    long[] w = words;
    if (w == null) return 0;
    if (sparseCount < 0) return w[index];
    int at = find(index);
    return at >= 0 ? w[2 * at + 1] : 0;
  }

  /** Stores word {@code index}. */
  void setWord(int index, long value) {
    if (sparseCount < 0) {
      words[index] = value;
      return;
    }
    int at = find(index);
    if (at >= 0) {
      if (value != 0) {
        words[2 * at + 1] = value;
      } else { // back to zero: the pair leaves
        System.arraycopy(words, 2 * at + 2, words, 2 * at, 2 * (sparseCount - at - 1));
        sparseCount--;
        if (sparseCount == 0) words = null;
      }
      return;
    }
    if (value == 0) return;
    int ins = -at - 1;
    if (sparseCount == SPARSE_MAX) {
      long[] dense = new long[Page.WORDS];
      for (int i = 0; i < sparseCount; i++) dense[(int) words[2 * i]] = words[2 * i + 1];
      dense[index] = value;
      words = dense;
      sparseCount = -1;
      return;
    }
    long[] w = words == null ? NO_WORDS : words;
    if (2 * sparseCount == w.length) w = Arrays.copyOf(w, Math.max(2, 2 * w.length));
    System.arraycopy(w, 2 * ins, w, 2 * ins + 2, 2 * (sparseCount - ins));
    w[2 * ins] = index;
    w[2 * ins + 1] = value;
    words = w;
    sparseCount++;
  }

  /** Copies the contents of {@code src} (null: all zero) over this folio's (a COW copy of a new folio). */
  void copyContentsFrom(Folio src) {
    if (src == null || src.words == null) {
      words = null;
      sparseCount = 0;
    } else {
      words = src.sparseCount < 0 ? src.words.clone() : Arrays.copyOf(src.words, 2 * src.sparseCount);
      sparseCount = src.sparseCount;
    }
  }

  /** A page of zero words: what {@link #wordList} gives for a folio whose words are all zero (shared, never changed). */
  private static final hmmemu.protocol.msg.PageWords ZERO_WORDS =
      hmmemu.protocol.msg.PageWords.wrap(new long[Page.WORDS]);

  /**
   * Emulator-only host mechanism: the contents as InspectPage's reply carries them, the same list as {@link #word}
   * of every index gives (one shared list while every word is zero), unmodifiable, backed by a copy of the words as
   * stored (no boxed Long per word): a sparse folio's pairs (a few words: no 4 KiB page per inspection), a dense
   * folio's 512 words.
   */
  hmmemu.protocol.msg.PageWords wordList() {
    long[] w = words;
    if (w == null) return ZERO_WORDS;
    if (sparseCount < 0) return hmmemu.protocol.msg.PageWords.copyOf(w);
    // nothing else holds the copy
    return hmmemu.protocol.msg.PageWords.sparse(Arrays.copyOf(w, 2 * sparseCount), sparseCount, Page.WORDS);
  }

  /** Binary search of the sparse pairs: the pair's position, or -(insertion point) - 1. */
  private int find(int index) {
    return hmmemu.protocol.msg.PageWords.findPair(words, sparseCount, index);
  }

  /** folio_wait_bit_common(): parks an operation on the folio lock (the head page's wait queue). */
  void park(Runnable waiter) {
    if (head != this) {
      head.park(waiter);
      return;
    }
    if (waiters == null) waiters = new ArrayDeque<>(2);
    waiters.add(waiter);
  }

  /** folio_test_locked(): the lock bit of this page's folio (its head's). */
  boolean locked() { return head.locked; }

  /** folio_maybe_dma_pinned() of a large folio (_pincount > 0), used for order 0 too (the emulator never pins). */
  boolean maybeDmaPinned() { return head.pincount > 0; }

  /** folio_test_large(). */
  boolean large() { return head.nrPages > 1; }

  /** A tail page of a large folio (PageTail). */
  boolean tail() { return head != this; }

  /** The operations parked on the lock, removed from the folio (folio_wake_bit wakes all of them). */
  ArrayDeque<Runnable> takeWaiters() {
    ArrayDeque<Runnable> w = waiters;
    waiters = null;
    return w;
  }

  int waiterCount() { return waiters == null ? 0 : waiters.size(); }

  FolioView view() {
    return new FolioView(pfn, locked(), refcount, mapcount, dirty, anon, anonExclusive, hugetlb, freed, waiterCount(), referenced);
  }
}
