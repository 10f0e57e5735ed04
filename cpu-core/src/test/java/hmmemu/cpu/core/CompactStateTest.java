package hmmemu.cpu.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The compact representations of issue 11: sparse folio contents and packed PTE tables read like the plain ones. */
class CompactStateTest {
  @Test
  void sparseContentsReadLikeAnArrayThroughTheDenseSwitchAndBackToZero() {
    Folio f = new Folio(CpuMm.FIRST_PFN, false);
    long[] ref = new long[Page.WORDS];
    Random rnd = new Random(11);
    for (int n = 0; n < 4000; n++) {
      int i = rnd.nextInt(Page.WORDS);
      long v = rnd.nextInt(4) == 0 ? 0 : rnd.nextLong();
      f.setWord(i, v);
      ref[i] = v;
      if (n % 97 == 0) for (int j = 0; j < Page.WORDS; j++) assertEquals(ref[j], f.word(j), "word " + j + " after " + n);
    }
    Folio copy = new Folio(CpuMm.FIRST_PFN + 1, false);
    copy.copyContentsFrom(f);
    f.setWord(3, 42);
    for (int j = 0; j < Page.WORDS; j++) assertEquals(ref[j], copy.word(j), "a copy is independent");

    Folio sparse = new Folio(CpuMm.FIRST_PFN + 2, false);
    sparse.setWord(7, 1);
    sparse.setWord(2, 5);
    sparse.setWord(7, 0);
    assertEquals(0, sparse.word(7));
    assertEquals(5, sparse.word(2));
    sparse.setWord(2, 0);
    assertEquals(0, sparse.word(2));
  }

  @Test
  void pteTablesPackEveryBitAndWalkInAddressOrder() {
    PageTable t = new PageTable();
    List<Long> vas = new ArrayList<>();
    long base = CpuMm.MMAP_BASE;
    for (long p = 0; p < 1500; p += 3) vas.add(base + p * Page.SIZE);
    int n = 0;
    for (long va : vas) {
      PteState st = n % 2 == 0 ? PteState.PRESENT : PteState.DEVEXCL;
      t.put(va, new Pte(st, CpuMm.FIRST_PFN + n, n % 3 == 0, n % 5 == 0, n % 7 == 0, n % 11 == 0));
      n++;
    }
    assertEquals(vas.size(), t.size());
    n = 0;
    for (long va : vas) {
      Pte p = t.get(va);
      assertEquals(n % 2 == 0 ? PteState.PRESENT : PteState.DEVEXCL, p.state());
      assertEquals(CpuMm.FIRST_PFN + n, p.pfn());
      assertEquals(n % 3 == 0, p.write());
      assertEquals(n % 5 == 0, p.dirty());
      assertEquals(n % 7 == 0, p.young());
      assertEquals(n % 11 == 0, p.softDirty());
      n++;
    }
    assertNull(t.get(base + Page.SIZE));
    Map<Long, Pte> range = t.subMap(base + 600 * Page.SIZE, base + 900 * Page.SIZE);
    List<Long> keys = new ArrayList<>(range.keySet());
    assertEquals(vas.subList(200, 300), keys, "a range walk sees the populated entries in [start,end), in order");
    for (long va : vas) t.remove(va);
    assertEquals(0, t.size());
    assertTrue(t.snapshot().isEmpty());
    t.put(base, Pte.NONE);
    assertEquals(0, t.size(), "pte_none is absence");
  }
}
