package hmmemu.checker;

import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Trace;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Shadow of the CPU page tables: the latest PteChanged per page, and per pfn the pages mapping it (PRESENT, DEVEXCL
 * or MIGRATION) with running PRESENT/DEVEXCL counts, so the rmap-style questions (who maps this pfn, how many
 * PTEs count towards its mapcount) cost the pfn's mappers, never the size of memory.
 */
final class PteShadow {
  /** Latest PteChanged per page (absent = NONE). */
  private final Map<PageKey, Trace.PteChanged> ptes = new HashMap<>();
  /** pfn -> pages whose PTE is PRESENT, DEVEXCL or MIGRATION with that pfn, and how many are PRESENT/DEVEXCL. */
  private final Map<Long, Mappers> mappers = new HashMap<>();

  /** The pages mapping one pfn (like the folio's rmap walk in mm/rmap.c). */
  static final class Mappers {
    final Set<PageKey> pages = new LinkedHashSet<>(2);
    int present;
    int devexcl;
    /** DEVICE_PRIVATE entries: each holds a reference and counts in the mapcount (page_add_anon_rmap). */
    int devpriv;
  }

  private static final Mappers NONE = new Mappers();

  Trace.PteChanged get(PageKey k) { return ptes.get(k); }

  PteState state(PageKey k) {
    Trace.PteChanged p = ptes.get(k);
    return p == null ? PteState.NONE : p.state();
  }

  /** Models set_pte_at()/pte_clear() on the shadow: replaces the page's PTE and re-indexes its pfn. */
  void set(PageKey k, Trace.PteChanged p) {
    Trace.PteChanged old = p.state() == PteState.NONE ? ptes.remove(k) : ptes.put(k, p);
    if (old != null && holdsPfn(old.state())) {
      Mappers m = mappers.get(old.pfn());
      if (m != null) {
        m.pages.remove(k);
        count(m, old.state(), -1);
        if (m.pages.isEmpty()) mappers.remove(old.pfn());
      }
    }
    if (holdsPfn(p.state())) {
      Mappers m = mappers.computeIfAbsent(p.pfn(), x -> new Mappers());
      m.pages.add(k);
      count(m, p.state(), 1);
    }
  }

  /** The pages mapping pfn (empty when none); read-only use. */
  Mappers mappersOf(long pfn) { return mappers.getOrDefault(pfn, NONE); }

  static boolean holdsPfn(PteState s) {
    return s == PteState.PRESENT || s == PteState.DEVEXCL || s == PteState.MIGRATION || s == PteState.DEVICE_PRIVATE;
  }

  private static void count(Mappers m, PteState s, int delta) {
    if (s == PteState.PRESENT) m.present += delta;
    else if (s == PteState.DEVEXCL) m.devexcl += delta;
    else if (s == PteState.DEVICE_PRIVATE) m.devpriv += delta;
  }
}
