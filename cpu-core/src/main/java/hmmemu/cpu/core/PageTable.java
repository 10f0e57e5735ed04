package hmmemu.cpu.core;

import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;

/**
 * Models the page table of one mm_struct down to the PTE level: one PTE table (a page of 512 pte_t, as on
 * x86-64) per populated PMD, each entry a packed pte_t (a long; 0 is pte_none). A populated page costs 8 bytes,
 * not an object and a boxed key (issue 11). The PTE tables are kept in address order so that the range walks of
 * zap_pte_range, change_pte_range and copy_pte_range visit only populated tables.
 *
 * <p>Read as a map from page-aligned va to {@link Pte} ({@link #get}, {@link #put}, {@link #remove},
 * {@link #subMap}); absent means pte_none.
 */
final class PageTable {
  private static final int PTRS_PER_PTE = 512;
  private static final int PMD_SHIFT = Page.SHIFT + 9;
  private static final PteState[] STATES = PteState.values();

  /** One PTE table: the entries of one PMD and how many are not pte_none. */
  private static final class PteTable {
    final long[] entries = new long[PTRS_PER_PTE];
    int used;
  }

  /** PTE tables by PMD index (va >> PMD_SHIFT). */
  private final TreeMap<Long, PteTable> tables = new TreeMap<>();
  private int size;
  // The PTE table used last (walks touch neighbouring pages).
  private long lastPmd = Long.MIN_VALUE;
  private PteTable lastTable;

  /** The packed pte_t of a Pte: state, W, D, A, soft-dirty and pfn; 0 only for pte_none. */
  static long pack(Pte p) {
    if (p.pfn() < 0 || p.pfn() >>> 56 != 0) throw new IllegalArgumentException("pfn out of range: " + p.pfn());
    return p.state().ordinal() | (p.write() ? 8 : 0) | (p.dirty() ? 16 : 0) | (p.young() ? 32 : 0)
        | (p.softDirty() ? 64 : 0) | (p.pfn() << 7);
  }

  static Pte unpack(long e) {
    if (e == 0) return Pte.NONE;
    return new Pte(STATES[(int) (e & 7)], e >>> 7, (e & 8) != 0, (e & 16) != 0, (e & 32) != 0, (e & 64) != 0);
  }

  private PteTable table(long va, boolean create) {
    long pmd = va >> PMD_SHIFT;
    if (pmd == lastPmd && lastTable != null) return lastTable;
    PteTable t = tables.get(pmd);
    if (t == null && create) {
      t = new PteTable();
      tables.put(pmd, t);
    }
    if (t != null) {
      lastPmd = pmd;
      lastTable = t;
    }
    return t;
  }

  private static int index(long va) { return (int) ((va >> Page.SHIFT) & (PTRS_PER_PTE - 1)); }

  /** The PTE at page-aligned va, or null for pte_none. */
  Pte get(long va) {
    PteTable t = table(va, false);
    long e = t == null ? 0 : t.entries[index(va)];
    return e == 0 ? null : unpack(e);
  }

  /** set_pte_at() of a non-none entry. */
  void put(long va, Pte pte) {
    long e = pack(pte);
    if (e == 0) {
      remove(va);
      return;
    }
    PteTable t = table(va, true);
    int i = index(va);
    if (t.entries[i] == 0) {
      t.used++;
      size++;
    }
    t.entries[i] = e;
  }

  /** pte_clear(); an emptied PTE table is freed (free_pte_range). */
  void remove(long va) {
    PteTable t = table(va, false);
    int i = index(va);
    if (t == null || t.entries[i] == 0) return;
    t.entries[i] = 0;
    t.used--;
    size--;
    if (t.used == 0) {
      tables.remove(va >> PMD_SHIFT);
      lastTable = null;
      lastPmd = Long.MIN_VALUE;
    }
  }

  /** The number of entries that are not pte_none. */
  int size() { return size; }

  /**
   * A snapshot of the non-none entries with start <= va < end, in address order (later changes to the table do
   * not show in it).
   */
  Map<Long, Pte> subMap(long start, long end) {
    int n = 0;
    long[] vas = new long[16];
    long[] ptes = new long[16];
    if (start < end) {
      for (Map.Entry<Long, PteTable> te : tables.subMap(start >> PMD_SHIFT, true, (end - 1) >> PMD_SHIFT, true).entrySet()) {
        long base = te.getKey() << PMD_SHIFT;
        long[] entries = te.getValue().entries;
        for (int i = 0; i < PTRS_PER_PTE; i++) {
          if (entries[i] == 0) continue;
          long va = base + ((long) i << Page.SHIFT);
          if (va < start || va >= end) continue;
          if (n == vas.length) {
            vas = Arrays.copyOf(vas, 2 * n);
            ptes = Arrays.copyOf(ptes, 2 * n);
          }
          vas[n] = va;
          ptes[n] = entries[i];
          n++;
        }
      }
    }
    return new Snapshot(vas, ptes, n);
  }

  /** Every non-none entry, in address order, as a snapshot. */
  Map<Long, Pte> snapshot() { return subMap(Long.MIN_VALUE, Long.MAX_VALUE); }

  /** A read-only, address-ordered view of copied entries. */
  private static final class Snapshot extends AbstractMap<Long, Pte> {
    private final long[] vas;
    private final long[] ptes;
    private final int n;

    Snapshot(long[] vas, long[] ptes, int n) {
      this.vas = vas;
      this.ptes = ptes;
      this.n = n;
    }

    @Override
    public Set<Map.Entry<Long, Pte>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public int size() { return n; }

        @Override
        public Iterator<Map.Entry<Long, Pte>> iterator() {
          return new Iterator<>() {
            int i;

            @Override
            public boolean hasNext() { return i < n; }

            @Override
            public Map.Entry<Long, Pte> next() {
              if (i >= n) throw new NoSuchElementException();
              Map.Entry<Long, Pte> e = new AbstractMap.SimpleImmutableEntry<>(vas[i], unpack(ptes[i]));
              i++;
              return e;
            }
          };
        }
      };
    }

    @Override
    public int size() { return n; }

    @Override
    public boolean isEmpty() { return n == 0; }
  }
}
