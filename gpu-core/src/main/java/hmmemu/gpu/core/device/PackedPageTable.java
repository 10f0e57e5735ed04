package hmmemu.gpu.core.device;

import hmmemu.protocol.model.Page;
import java.util.Map;
import java.util.TreeMap;

/**
 * The storage of a device page table for one mm: one table of 512 packed entries (a long each; 0 = no entry) per
 * 2 MiB of virtual address space, as the GPU's own page tables are laid out. A mapped page costs 8 bytes, not an
 * object and a boxed key (issue 11). Tables are kept in address order for the range walks of a zap.
 */
final class PackedPageTable {
  private static final int PTRS = 512;
  private static final int TABLE_SHIFT = Page.SHIFT + 9;

  private static final class Table {
    final long[] entries = new long[PTRS];
    int used;
  }

  /** What a range walk is told for each entry, in address order. */
  interface EntryVisitor {
    void visit(long va, long entry);
  }

  private final TreeMap<Long, Table> tables = new TreeMap<>();
  private int size;

  private static int index(long va) { return (int) ((va >> Page.SHIFT) & (PTRS - 1)); }

  /** The packed entry at page-aligned va; 0 when there is none. */
  long get(long va) {
    Table t = tables.get(va >> TABLE_SHIFT);
    return t == null ? 0 : t.entries[index(va)];
  }

  /** Stores a (non-zero) packed entry at page-aligned va. */
  void put(long va, long entry) {
    if (entry == 0) throw new IllegalArgumentException("a packed entry is never 0");
    Table t = tables.computeIfAbsent(va >> TABLE_SHIFT, k -> new Table());
    int i = index(va);
    if (t.entries[i] == 0) {
      t.used++;
      size++;
    }
    t.entries[i] = entry;
  }

  /** Removes the entry at page-aligned va, if any; an emptied table is freed. */
  void remove(long va) {
    long key = va >> TABLE_SHIFT;
    Table t = tables.get(key);
    int i = index(va);
    if (t == null || t.entries[i] == 0) return;
    t.entries[i] = 0;
    size--;
    if (--t.used == 0) tables.remove(key);
  }

  int size() { return size; }

  boolean isEmpty() { return size == 0; }

  /** Visits the entries with start <= va < end in address order; the visitor must not change the table. */
  void forEachIn(long start, long end, EntryVisitor v) {
    if (start >= end) return;
    for (Map.Entry<Long, Table> te : tables.subMap(start >> TABLE_SHIFT, true, (end - 1) >> TABLE_SHIFT, true).entrySet()) {
      long base = te.getKey() << TABLE_SHIFT;
      long[] entries = te.getValue().entries;
      // only the slots whose pages can meet [start, end): the same entries in the same order, without scanning all 512
      // (the table lies within start>>TABLE_SHIFT..(end-1)>>TABLE_SHIFT, so neither difference overflows)
      int lo = start <= base ? 0 : (int) Math.min(PTRS - 1, (start - base) >>> Page.SHIFT);
      int hi = end - 1 >= base + ((long) (PTRS - 1) << Page.SHIFT) ? PTRS - 1 : (int) ((end - 1 - base) >>> Page.SHIFT);
      for (int i = lo; i <= hi; i++) {
        if (entries[i] == 0) continue;
        long va = base + ((long) i << Page.SHIFT);
        if (va >= start && va < end) v.visit(va, entries[i]);
      }
    }
  }
}
