package hmmemu.cpu.core;

/**
 * A read-only snapshot of one struct folio (order 0): the bits docs/PROTOCOL.md §1.4 lists, the number of operations
 * parked on its lock, and PG_referenced (folio_mark_accessed()).
 */
public record FolioView(long pfn, boolean locked, int refcount, int mapcount, boolean dirty, boolean anon,
    boolean anonExclusive, boolean hugetlb, boolean freed, int lockWaiters, boolean referenced) {}
