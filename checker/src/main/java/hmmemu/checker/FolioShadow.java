package hmmemu.checker;

import hmmemu.protocol.trace.Trace;
import java.util.Arrays;

/**
 * Shadow of the folios (struct folio: lock, refcount, mapcount, dirty, anon-exclusive, freed) and of the folio
 * checks deferred to the end of the CPU node's step (I8 counts, I9, I10 dirtiness).
 *
 * <p>Dense, like the kernel's memmap ({@code pfn_to_page()} is an index): the latest FolioChanged of each pfn is kept
 * packed (refcount, mapcount, a flags byte) in chunks of 512 pfns, 9 bytes per pfn and no object per folio;
 * {@link #get} rebuilds the event.
 */
final class FolioShadow {
  private static final int SHIFT = 9;
  private static final int SIZE = 1 << SHIFT;
  private static final int MASK = SIZE - 1;
  private static final int KNOWN = 1;
  private static final int LOCKED = 2;
  private static final int DIRTY = 4;
  private static final int ANON_EXCLUSIVE = 8;
  private static final int FREED = 16;
  /** Freed once (sticky: {@link #markFreed}). */
  private static final int MARKED_FREED = 32;

  private static final class Chunk {
    final int[] refcount = new int[SIZE];
    final int[] mapcount = new int[SIZE];
    final byte[] flags = new byte[SIZE];
  }

  /** pfn >> 9 -> chunk. */
  private final LongTable<Chunk> chunks = new LongTable<>();
  /** pfns converted from a dirty PTE whose folio was not dirty yet (I10, judged with the counts). */
  private final PfnList dirtyPushPending = new PfnList();
  /** Folios changed in the current run of CPU-node PTE/folio/VMA events, judged when it ends (I8, I9). */
  private final PfnList countsToJudge = new PfnList();

  private Chunk chunk(long pfn, boolean create) {
    Chunk c = chunks.get(pfn >> SHIFT);
    if (c == null && create) {
      c = new Chunk();
      chunks.put(pfn >> SHIFT, c);
    }
    return c;
  }

  /** The latest FolioChanged of pfn, or null when none was seen. */
  Trace.FolioChanged get(long pfn) {
    Chunk c = chunk(pfn, false);
    if (c == null) return null;
    int i = (int) (pfn & MASK);
    int f = c.flags[i];
    if ((f & KNOWN) == 0) return null;
    return new Trace.FolioChanged(pfn, (f & LOCKED) != 0, c.refcount[i], c.mapcount[i], (f & DIRTY) != 0,
        (f & ANON_EXCLUSIVE) != 0, (f & FREED) != 0);
  }

  /** Records the folio's new state. */
  void put(Trace.FolioChanged f) {
    Chunk c = chunk(f.pfn(), true);
    int i = (int) (f.pfn() & MASK);
    c.refcount[i] = f.refcount();
    c.mapcount[i] = f.mapcount();
    c.flags[i] = (byte) ((c.flags[i] & MARKED_FREED) | KNOWN | (f.locked() ? LOCKED : 0) | (f.dirty() ? DIRTY : 0)
        | (f.anonExclusive() ? ANON_EXCLUSIVE : 0) | (f.freed() ? FREED : 0));
  }

  /** True when the folio was freed at some point (the mark is never cleared). */
  /** Whether the latest FolioChanged of pfn had it locked (false when none was seen): get(pfn).locked() unallocated. */
  boolean locked(long pfn) {
    Chunk c = chunk(pfn, false);
    if (c == null) return false;
    int f = c.flags[(int) (pfn & MASK)];
    return (f & KNOWN) != 0 && (f & LOCKED) != 0;
  }

  boolean freed(long pfn) {
    Chunk c = chunk(pfn, false);
    return c != null && (c.flags[(int) (pfn & MASK)] & MARKED_FREED) != 0;
  }

  /** Marks pfn freed; false when it already was. */
  boolean markFreed(long pfn) {
    Chunk c = chunk(pfn, true);
    int i = (int) (pfn & MASK);
    if ((c.flags[i] & MARKED_FREED) != 0) return false;
    c.flags[i] |= MARKED_FREED;
    return true;
  }

  void noteDirtyPush(long pfn) { dirtyPushPending.add(pfn); }

  void noteCountsChanged(long pfn) { countsToJudge.add(pfn); }

  boolean nothingToJudge() { return countsToJudge.isEmpty() && dirtyPushPending.isEmpty(); }

  /** Takes the pfns whose dirtiness must have reached the folio, in the order noted. */
  long[] drainDirtyPushes() { return dirtyPushPending.drain(); }

  /** Takes the folios whose counts must be judged, in the order noted. */
  long[] drainCountsToJudge() { return countsToJudge.drain(); }

  /**
   * A set of pfns in the order first noted (as a LinkedHashSet), without boxing. Up to {@link #LINEAR} pfns (a CPU
   * step's usual few) membership is a scan of the list; past that a membership table holds them all.
   */
  private static final class PfnList {
    /** Above this many entries a drained membership table is replaced rather than emptied entry by entry. */
    private static final int REPLACE_ABOVE = 1024;
    /** Up to this many pfns, membership is a scan of items and the table stays empty. */
    private static final int LINEAR = 8;
    private long[] items = new long[16];
    private int n;
    private LongTable<Boolean> member = new LongTable<>();

    void add(long pfn) {
      if (n <= LINEAR) {
        for (int k = 0; k < n; k++) if (items[k] == pfn) return;
        if (n == LINEAR) for (int k = 0; k < n; k++) member.put(items[k], Boolean.TRUE); // the table takes over
      }
      if (n >= LINEAR && member.put(pfn, Boolean.TRUE) != null) return;
      if (n == items.length) items = Arrays.copyOf(items, n * 2);
      items[n++] = pfn;
    }

    boolean isEmpty() { return n == 0; }

    long[] drain() {
      long[] out = Arrays.copyOf(items, n);
      if (n > REPLACE_ABOVE) {
        member = new LongTable<>();
        items = new long[16];
      } else if (n > LINEAR) {
        for (int k = 0; k < n; k++) member.remove(items[k]);
      }
      n = 0;
      return out;
    }
  }
}
