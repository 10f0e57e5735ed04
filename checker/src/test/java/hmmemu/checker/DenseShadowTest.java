package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The dense shadows answer exactly as the maps they replaced: {@link LongTable} as a HashMap, {@link PteShadow} as a
 * map of PTEs plus per pfn an insertion-ordered set of mapping pages with PRESENT/DEVEXCL/DEVICE_PRIVATE counts, and
 * {@link FolioShadow} as a map of folios with a sticky freed mark. Random operations with a fixed seed, checked
 * against those reference models after every step.
 */
class DenseShadowTest {
  @Test
  void longTableBehavesAsAHashMapThroughGrowthAndRemovals() {
    Random r = new Random(11);
    LongTable<Long> t = new LongTable<>();
    Map<Long, Long> ref = new HashMap<>();
    for (int step = 0; step < 200_000; step++) {
      // keys from a small range collide and form long probe runs; a few far keys and negatives too
      long key = r.nextInt(10) == 0 ? r.nextLong() : r.nextInt(3000) - 100;
      int op = r.nextInt(3);
      if (op == 0) assertEquals(ref.remove(key), t.remove(key), "remove " + key + " at step " + step);
      else if (op == 1) assertEquals(ref.put(key, (long) step), t.put(key, (long) step), "put " + key);
      else assertEquals(ref.get(key), t.get(key), "get " + key + " at step " + step);
      assertEquals(ref.size(), t.size());
    }
    for (Map.Entry<Long, Long> e : ref.entrySet()) assertEquals(e.getValue(), t.get(e.getKey()));
    List<Long> all = new ArrayList<>();
    t.forEachValue(all::add);
    assertEquals(ref.size(), all.size());
  }

  private static final PteState[] STATES = PteState.values();

  @Test
  void pteShadowKeepsPtesAndTheirPfnsMappersInMappingOrder() {
    Random r = new Random(5);
    PteShadow s = new PteShadow();
    Map<PageKey, Trace.PteChanged> ptes = new HashMap<>();
    Map<Long, LinkedHashSet<PageKey>> mappers = new LinkedHashMap<>();
    long[] pfns = {1, 2, 3, 513, 1L << 40, Long.MAX_VALUE >> 12};
    for (int step = 0; step < 100_000; step++) {
      int mm = 1 + r.nextInt(2);
      // pages in a few chunks of 512, one of them far away, so chunks fill, empty, are dropped and reused
      long vpn = (r.nextInt(4) == 0 ? 0x7fff_0000_0L : 0x1000L) + r.nextInt(1500);
      PageKey k = new PageKey(mm, vpn);
      PteState st = STATES[r.nextInt(STATES.length)];
      if (r.nextInt(3) == 0) st = PteState.NONE;
      long pfn = pfns[r.nextInt(pfns.length)];
      Trace.PteChanged p = new Trace.PteChanged(mm, k.va(), st, pfn, r.nextBoolean(), r.nextBoolean(),
          r.nextBoolean(), "test");
      Trace.PteChanged old = ptes.get(k);
      if (old != null && PteShadow.holdsPfn(old.state())) {
        mappers.get(old.pfn()).remove(k);
        if (mappers.get(old.pfn()).isEmpty()) mappers.remove(old.pfn());
      }
      if (st == PteState.NONE) ptes.remove(k);
      else ptes.put(k, p);
      if (PteShadow.holdsPfn(st)) mappers.computeIfAbsent(pfn, x -> new LinkedHashSet<>()).add(k);
      s.set(k, p);

      Trace.PteChanged got = s.get(k);
      if (st == PteState.NONE) {
        assertNull(got);
      } else {
        assertEquals(new Trace.PteChanged(mm, k.va(), st, pfn, p.write(), p.dirty(), p.young(), null), got);
      }
      if (step % 97 == 0) {
        for (long f : pfns) checkMappers(s, ptes, mappers.get(f), f);
      }
    }
    for (Map.Entry<PageKey, Trace.PteChanged> e : ptes.entrySet()) {
      assertEquals(e.getValue().state(), s.state(e.getKey()));
      assertEquals(e.getValue().pfn(), s.get(e.getKey()).pfn());
    }
    for (long f : pfns) checkMappers(s, ptes, mappers.get(f), f);
    // empty everything: every chunk is dropped, and nothing maps any pfn
    for (PageKey k : new ArrayList<>(ptes.keySet())) {
      s.set(k, new Trace.PteChanged(k.mmId(), k.va(), PteState.NONE, 0, false, false, false, null));
    }
    for (long f : pfns) assertEquals(new PteShadow.Mappers(0, 0, 0, 0), s.mappersOf(f));
    assertEquals(PteState.NONE, s.state(PageKey.of(1, 0x1000L * Page.SIZE)));
  }

  private static void checkMappers(PteShadow s, Map<PageKey, Trace.PteChanged> ptes, LinkedHashSet<PageKey> ref,
      long pfn) {
    if (ref == null) {
      assertEquals(new PteShadow.Mappers(0, 0, 0, 0), s.mappersOf(pfn));
      assertNull(s.firstMapper(pfn));
      return;
    }
    int present = 0, devexcl = 0, devpriv = 0;
    PageKey firstDevexcl = null;
    for (PageKey k : ref) {
      PteState st = ptes.get(k).state();
      if (st == PteState.PRESENT) present++;
      if (st == PteState.DEVEXCL) {
        devexcl++;
        if (firstDevexcl == null) firstDevexcl = k;
      }
      if (st == PteState.DEVICE_PRIVATE) devpriv++;
    }
    assertEquals(new PteShadow.Mappers(ref.size(), present, devexcl, devpriv), s.mappersOf(pfn), "pfn " + pfn);
    assertEquals(ref.iterator().next(), s.firstMapper(pfn), "first mapper of pfn " + pfn);
    assertEquals(firstDevexcl, s.firstMapperIn(pfn, PteState.DEVEXCL), "first DEVEXCL mapper of pfn " + pfn);
  }

  @Test
  void folioShadowKeepsTheLatestFolioAndAStickyFreedMark() {
    FolioShadow f = new FolioShadow();
    assertNull(f.get(7));
    f.put(new Trace.FolioChanged(7, true, 3, 2, true, true, false));
    f.put(new Trace.FolioChanged(1L << 41, false, 1, 0, false, false, true));
    assertEquals(new Trace.FolioChanged(7, true, 3, 2, true, true, false), f.get(7));
    assertEquals(new Trace.FolioChanged(1L << 41, false, 1, 0, false, false, true), f.get(1L << 41));
    assertEquals(false, f.freed(1L << 41));
    assertEquals(true, f.markFreed(1L << 41));
    assertEquals(false, f.markFreed(1L << 41));
    f.put(new Trace.FolioChanged(1L << 41, false, 1, 1, false, true, false));
    assertEquals(true, f.freed(1L << 41), "the freed mark stays when the folio changes again");
    assertEquals(new Trace.FolioChanged(1L << 41, false, 1, 1, false, true, false), f.get(1L << 41));
    for (long pfn : new long[] {5, 3, 5, 9, 3}) f.noteCountsChanged(pfn);
    assertEquals(List.of(5L, 3L, 9L), boxed(f.drainCountsToJudge()), "first-noted order, no duplicates");
    assertEquals(true, f.nothingToJudge());
    for (long pfn = 0; pfn < 2000; pfn++) f.noteDirtyPush(pfn % 1500);
    assertEquals(1500, f.drainDirtyPushes().length);
    f.noteDirtyPush(4);
    assertEquals(List.of(4L), boxed(f.drainDirtyPushes()), "a drained pfn can be noted again");
  }

  private static List<Long> boxed(long[] a) {
    List<Long> out = new ArrayList<>();
    for (long v : a) out.add(v);
    return out;
  }
}
