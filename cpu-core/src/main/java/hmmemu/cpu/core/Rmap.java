package hmmemu.cpu.core;

import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Models the reverse-map walk of mm/rmap.c (rmap_walk / page_vma_mapped_walk) as reclaim, migration and KSM use
 * it: which folios back a range of an mm, and every (mm, va) whose PTE maps a page of a folio. A 6.15 walk returns
 * PRESENT and DEVEXCL entries; a 5.14 walk of an order-0 page stops as soon as page_mapcount() is 0 (rwc->done =
 * folio_not_mapped), so it never reaches a DEVEXCL entry, which the 5.14 mapcount does not count.
 */
final class Rmap {
  private final Kernel k;
  private final Folios folios;
  private final MmuNotifier notifier;

  Rmap(Kernel k, Folios folios, MmuNotifier notifier) {
    this.k = k;
    this.folios = folios;
    this.notifier = notifier;
  }

  /** One PTE that maps a page of the folio. */
  record Mapping(Mm mm, long va) {}

  /** The anonymous folios (heads, in address order, each once) mapped by PRESENT or DEVEXCL PTEs in [start, end). */
  List<Folio> anonFoliosIn(Mm mm, long start, long end) {
    Map<Long, Folio> heads = new LinkedHashMap<>();
    for (Map.Entry<Long, Pte> e : mm.ptes.subMap(start, end).entrySet()) {
      Pte p = e.getValue();
      if (p.state() != PteState.PRESENT && p.state() != PteState.DEVEXCL) continue;
      Folio f = folios.folioOf(p.pfn());
      if (f.zero || !f.anon || f.hugetlb || f.freed) continue;
      heads.putIfAbsent(f.head.pfn, f.head);
    }
    return new ArrayList<>(heads.values());
  }

  /** rmap_walk(): every PTE of every mm that maps a page of head's folio in one of the given states. */
  List<Mapping> mappingsOf(Folio head, boolean withDevexcl) {
    List<Mapping> out = new ArrayList<>();
    long lo = head.pfn;
    long hi = head.pfn + head.nrPages;
    for (Mm mm : k.mms.values()) {
      for (Map.Entry<Long, Pte> e : mm.ptes.snapshot().entrySet()) {
        Pte p = e.getValue();
        boolean state = p.state() == PteState.PRESENT || (withDevexcl && p.state() == PteState.DEVEXCL);
        if (state && p.pfn() >= lo && p.pfn() < hi) out.add(new Mapping(mm, e.getKey()));
      }
    }
    return out;
  }

  /**
   * One blockable invalidation per mm over the span of the folio's mappings there ([first va, last va + PAGE):
   * try_to_unmap_one / try_to_migrate_one's [address, vma_address_end)), each followed by {@code body} for that
   * mm's mappings under it; then {@code then}.
   */
  void perMm(List<Mapping> mappings, NotifyEvent event, Consumer<List<Mapping>> body, Runnable then) {
    Map<Mm, List<Mapping>> byMm = new LinkedHashMap<>();
    for (Mapping m : mappings) byMm.computeIfAbsent(m.mm(), x -> new ArrayList<>()).add(m);
    next(new ArrayList<>(byMm.values()), 0, event, body, then);
  }

  private void next(List<List<Mapping>> groups, int i, NotifyEvent event, Consumer<List<Mapping>> body, Runnable then) {
    if (i == groups.size()) {
      then.run();
      return;
    }
    List<Mapping> g = groups.get(i);
    Mm mm = g.get(0).mm();
    long s = Long.MAX_VALUE;
    long e = Long.MIN_VALUE;
    for (Mapping m : g) {
      s = Math.min(s, m.va());
      e = Math.max(e, m.va() + Page.SIZE);
    }
    notifier.startInvalidation(mm, s, e, event, 0, true, inv -> {
      body.accept(g);
      notifier.endInvalidation(inv);
      next(groups, i + 1, event, body, then);
    }, null);
  }

  /** Sequentially runs {@code step} over items; each calls its continuation when done. */
  static <T> void forEach(List<T> items, int i, java.util.function.BiConsumer<T, Runnable> step, Runnable then) {
    if (i == items.size()) {
      then.run();
      return;
    }
    step.accept(items.get(i), () -> forEach(items, i + 1, step, then));
  }
}
