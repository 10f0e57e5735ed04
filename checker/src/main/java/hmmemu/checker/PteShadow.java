package hmmemu.checker;

import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Shadow of the CPU page tables: the latest PteChanged per page, and per pfn the pages mapping it (PRESENT, DEVEXCL,
 * MIGRATION or DEVICE_PRIVATE) with running PRESENT/DEVEXCL/DEVICE_PRIVATE counts, so the rmap-style questions (who
 * maps this pfn, how many PTEs count towards its mapcount) cost the pfn's mappers, never the size of memory.
 *
 * <p>Dense, like the kernel's own tables: pages live in chunks of 512 (one PTE table's worth, by mm and vpn), each a
 * packed {@code pfn} and a flags byte per page; the mappers of a pfn are a doubly linked list threaded through the
 * page slots (as the anon_vma/i_mmap walks of mm/rmap.c reach every PTE of a folio), in the order the pages were
 * mapped, with the counts in chunks of 512 pfns. About 17 bytes per populated page and 24 per mapped pfn, no object
 * per page, so neither the lookups nor the garbage collector's work grow with the memory the run populates.
 * What the shadow keeps of a PTE is what the rules read (state, pfn, W, D, A); {@link #get} rebuilds the event
 * without its {@code cause}, which the rules read only on the event being applied.
 */
final class PteShadow {
  private static final int SHIFT = 9;
  private static final int SIZE = 1 << SHIFT;
  private static final int MASK = SIZE - 1;
  private static final PteState[] STATES = PteState.values();
  private static final int STATE_BITS = 0x0f;
  private static final int W = 0x10;
  private static final int D = 0x20;
  private static final int A = 0x40;

  /** 512 consecutive pages of one mm. Page ids are {@code id << 9 | index}; links store page id + 1 (0: none). */
  private static final class Chunk {
    final int id;
    final int mmId;
    final long baseVpn;
    final long[] pfn = new long[SIZE];
    /** state ordinal + 1 (0: pte_none, no entry) | W | D | A. */
    final byte[] flags = new byte[SIZE];
    final int[] next = new int[SIZE];
    final int[] prev = new int[SIZE];
    int used;

    Chunk(int id, int mmId, long baseVpn) {
      this.id = id;
      this.mmId = mmId;
      this.baseVpn = baseVpn;
    }
  }

  /** The mapper list and counts of 512 consecutive pfns; heads and tails store page id + 1 (0: none). */
  private static final class PfnChunk {
    final int[] head = new int[SIZE];
    final int[] tail = new int[SIZE];
    final int[] count = new int[SIZE];
    final int[] present = new int[SIZE];
    final int[] devexcl = new int[SIZE];
    final int[] devpriv = new int[SIZE];
    int used;
  }

  /** mm -> vpn >> 9 -> chunk. */
  private final Map<Integer, LongTable<Chunk>> chunksOfMm = new HashMap<>();
  /** Chunks by id (null: free id). */
  private final List<Chunk> byId = new ArrayList<>();
  private int[] freeIds = new int[16];
  private int freeCount;
  /** pfn >> 9 -> chunk. */
  private final LongTable<PfnChunk> pfnChunks = new LongTable<>();
  /**
   * The last pfn chunk that emptied (every array back at zero), kept for the next chunk to create: a PTE change of a
   * pfn's only mapper (PRESENT to DEVEXCL and back, on every exclusive conversion) unlinks and relinks it, which would
   * otherwise drop and allocate 12 KiB each time. Emulator-only host mechanism.
   */
  private PfnChunk spare;

  /** The counts of one pfn's mappers (a snapshot). */
  record Mappers(int pages, int present, int devexcl, int devpriv) {}

  private static final Mappers NONE = new Mappers(0, 0, 0, 0);

  /**
   * The mm whose chunk table was looked up last, and that table (null: none kept): a run's PTE changes are mostly of
   * one mm, so most lookups skip the boxed-key map. Kept only while the table is in {@link #chunksOfMm}.
   */
  private int lastMm;
  private LongTable<Chunk> lastChunks;

  private Chunk chunk(int mmId, long vpn) {
    LongTable<Chunk> chunks;
    if (lastChunks != null && lastMm == mmId) {
      chunks = lastChunks;
    } else {
      chunks = chunksOfMm.get(mmId);
      if (chunks == null) return null;
      lastMm = mmId;
      lastChunks = chunks;
    }
    return chunks.get(vpn >> SHIFT);
  }

  /** The latest PteChanged at the page (without its cause), or null when pte_none. */
  Trace.PteChanged get(PageKey k) {
    Chunk c = chunk(k.mmId(), k.vpn());
    if (c == null) return null;
    int i = (int) (k.vpn() & MASK);
    int f = c.flags[i];
    if (f == 0) return null;
    return new Trace.PteChanged(k.mmId(), k.va(), STATES[(f & STATE_BITS) - 1], c.pfn[i], (f & W) != 0,
        (f & D) != 0, (f & A) != 0, null);
  }

  PteState state(PageKey k) {
    Chunk c = chunk(k.mmId(), k.vpn());
    if (c == null) return PteState.NONE;
    int f = c.flags[(int) (k.vpn() & MASK)];
    return f == 0 ? PteState.NONE : STATES[(f & STATE_BITS) - 1];
  }

  /** Models set_pte_at()/pte_clear() on the shadow: replaces the page's PTE and re-indexes its pfn. */
  void set(PageKey k, Trace.PteChanged p) {
    boolean none = p.state() == PteState.NONE;
    Chunk c = chunk(k.mmId(), k.vpn());
    if (c == null) {
      if (none) return;
      c = newChunk(k.mmId(), k.vpn());
    }
    int i = (int) (k.vpn() & MASK);
    int page = c.id << SHIFT | i;
    int old = c.flags[i];
    if (old != 0) {
      PteState oldState = STATES[(old & STATE_BITS) - 1];
      if (holdsPfn(oldState)) unlink(c, i, page, c.pfn[i], oldState);
    }
    if (none) {
      if (old != 0) {
        c.flags[i] = 0;
        c.pfn[i] = 0;
        if (--c.used == 0) dropChunk(c);
      }
      return;
    }
    if (old == 0) c.used++;
    c.flags[i] = (byte) ((p.state().ordinal() + 1) | (p.write() ? W : 0) | (p.dirty() ? D : 0) | (p.young() ? A : 0));
    c.pfn[i] = p.pfn();
    if (holdsPfn(p.state())) link(c, i, page, p.pfn(), p.state());
  }

  /** The counts of pfn's mappers (all zero when none). */
  Mappers mappersOf(long pfn) {
    PfnChunk m = pfnChunks.get(pfn >> SHIFT);
    if (m == null) return NONE;
    int j = (int) (pfn & MASK);
    return m.count[j] == 0 ? NONE : new Mappers(m.count[j], m.present[j], m.devexcl[j], m.devpriv[j]);
  }

  /** The page that mapped pfn first among its mappers (rmap order), or null. */
  PageKey firstMapper(long pfn) {
    PfnChunk m = pfnChunks.get(pfn >> SHIFT);
    int head = m == null ? 0 : m.head[(int) (pfn & MASK)];
    return head == 0 ? null : keyOf(head - 1);
  }

  /** The first page (rmap order) mapping pfn whose PTE is in {@code state}, or null. */
  PageKey firstMapperIn(long pfn, PteState state) {
    PfnChunk m = pfnChunks.get(pfn >> SHIFT);
    int link = m == null ? 0 : m.head[(int) (pfn & MASK)];
    int want = state.ordinal() + 1;
    while (link != 0) {
      int page = link - 1;
      Chunk c = byId.get(page >>> SHIFT);
      int i = page & MASK;
      if ((c.flags[i] & STATE_BITS) == want) return keyOf(page);
      link = c.next[i];
    }
    return null;
  }

  static boolean holdsPfn(PteState s) {
    return s == PteState.PRESENT || s == PteState.DEVEXCL || s == PteState.MIGRATION || s == PteState.DEVICE_PRIVATE;
  }

  private PageKey keyOf(int page) {
    Chunk c = byId.get(page >>> SHIFT);
    return new PageKey(c.mmId, c.baseVpn + (page & MASK));
  }

  /** Appends the page to pfn's mappers (the page was in none). */
  private void link(Chunk c, int i, int page, long pfn, PteState s) {
    long key = pfn >> SHIFT;
    PfnChunk m = pfnChunks.get(key);
    if (m == null) {
      m = spare != null ? spare : new PfnChunk();
      spare = null;
      pfnChunks.put(key, m);
    }
    int j = (int) (pfn & MASK);
    int tail = m.tail[j];
    c.prev[i] = tail;
    c.next[i] = 0;
    if (tail == 0) {
      m.head[j] = page + 1;
      m.used++;
    } else {
      Chunk t = byId.get((tail - 1) >>> SHIFT);
      t.next[(tail - 1) & MASK] = page + 1;
    }
    m.tail[j] = page + 1;
    m.count[j]++;
    count(m, j, s, 1);
  }

  /** Takes the page out of pfn's mappers. */
  private void unlink(Chunk c, int i, int page, long pfn, PteState s) {
    long key = pfn >> SHIFT;
    PfnChunk m = pfnChunks.get(key);
    int j = (int) (pfn & MASK);
    int prev = c.prev[i];
    int next = c.next[i];
    if (prev == 0) m.head[j] = next;
    else byId.get((prev - 1) >>> SHIFT).next[(prev - 1) & MASK] = next;
    if (next == 0) m.tail[j] = prev;
    else byId.get((next - 1) >>> SHIFT).prev[(next - 1) & MASK] = prev;
    c.prev[i] = 0;
    c.next[i] = 0;
    m.count[j]--;
    count(m, j, s, -1);
    if (m.count[j] == 0 && --m.used == 0) {
      pfnChunks.remove(key);
      spare = m; // empty: each pfn's count is 0, so its list (head, tail) and its counts by state are 0 too
    }
  }

  private static void count(PfnChunk m, int j, PteState s, int delta) {
    if (s == PteState.PRESENT) m.present[j] += delta;
    else if (s == PteState.DEVEXCL) m.devexcl[j] += delta;
    else if (s == PteState.DEVICE_PRIVATE) m.devpriv[j] += delta;
  }

  private Chunk newChunk(int mmId, long vpn) {
    int id;
    if (freeCount > 0) {
      id = freeIds[--freeCount];
    } else {
      id = byId.size();
      if (id >= 1 << (31 - SHIFT)) throw new IllegalStateException("the PTE shadow is full (" + id + " chunks)");
      byId.add(null);
    }
    Chunk c = new Chunk(id, mmId, vpn & ~(long) MASK);
    byId.set(id, c);
    chunksOfMm.computeIfAbsent(mmId, x -> new LongTable<>()).put(vpn >> SHIFT, c);
    return c;
  }

  private void dropChunk(Chunk c) {
    LongTable<Chunk> chunks = chunksOfMm.get(c.mmId);
    chunks.remove(c.baseVpn >> SHIFT);
    if (chunks.isEmpty()) {
      chunksOfMm.remove(c.mmId);
      if (lastChunks == chunks) lastChunks = null;
    }
    byId.set(c.id, null);
    if (freeCount == freeIds.length) freeIds = java.util.Arrays.copyOf(freeIds, freeCount * 2);
    freeIds[freeCount++] = c.id;
  }
}
