package hmmemu.cpu.core;

import hmmemu.protocol.model.Page;
import java.util.ArrayDeque;

/**
 * Models struct folio (order 0) with its contents. The folio lock's wait queue holds parked operations;
 * folio_unlock() wakes all of them and each re-checks (as folio_wake_bit does with exclusive waiters that
 * re-try the lock).
 */
final class Folio {
  final long pfn;
  /** Page contents, word by word; kept after the folio is freed so that late accesses are observable. */
  final long[] data = new long[Page.WORDS];
  /** folio_test_anon(): anonymous memory (not page cache). */
  boolean anon;
  boolean hugetlb;
  /** The shared zero page: never refcounted, never freed, never written by the CPU. */
  final boolean zero;
  boolean locked;
  int refcount;
  int mapcount;
  boolean dirty;
  /** PageAnonExclusive(). */
  boolean anonExclusive;
  boolean freed;
  /** PG_referenced: set by folio_mark_accessed() (GUP's FOLL_TOUCH); reclaim's aging is not modelled. */
  boolean referenced;
  final ArrayDeque<Runnable> waiters = new ArrayDeque<>();

  Folio(long pfn, boolean zero) {
    this.pfn = pfn;
    this.zero = zero;
  }

  FolioView view() {
    return new FolioView(pfn, locked, refcount, mapcount, dirty, anon, anonExclusive, hugetlb, freed, waiters.size(), referenced);
  }
}
