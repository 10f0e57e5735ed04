package hmmemu.cpu.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Models struct mm_struct: VMAs, the page table (page-aligned va to PTE; absent = pte_none), mmap_lock and
 * the notifier subscriptions' shared state (struct mmu_notifier_subscriptions).
 */
final class Mm {
  final int id;
  final TreeMap<Long, Vma> vmas = new TreeMap<>();
  /** The page table: page-aligned va to PTE (absent = pte_none), packed in PTE tables. */
  final PageTable ptes = new PageTable();
  /**
   * PMD indexes (va / PMD_SIZE) that have a PTE table (!pmd_none): allocated by the first PTE set in the span
   * (__pte_alloc), kept by zaps (MADV_DONTNEED, munmap's zap), freed by free_pgtables() where no VMA is left.
   */
  final java.util.Set<Long> pteTables = new java.util.HashSet<>();
  /** The PMD index of the last {@link #pteAlloc} (known to be in {@link #pteTables}), or -1: spares a boxed lookup. */
  private long lastPteTable = -1;

  /**
   * invalidate_seq: starts at 2; odd while an invalidation that hit an interval subscription is active;
   * incremented back to even when active_invalidate_ranges returns to 0.
   */
  long seq = 2;
  /** active_invalidate_ranges. */
  int active;

  /** Interval subscriptions hit during the current odd period: they get InvalidateEnd when it ends. */
  final LinkedHashSet<Subscription> hitThisPeriod = new LinkedHashSet<>();
  /** deferred_list: inserts (already answered) that enter the tree when the last active invalidation ends. */
  final List<Subscription> deferredInserts = new ArrayList<>();
  /**
   * deferred_list: removes made while the seq was odd; they stay in the tree (their callbacks still run) and are
   * taken out, and their callers answered, when the period ends (mmu_interval_notifier_remove's wait_event).
   */
  final List<Subscription> deferredRemoves = new ArrayList<>();

  /** mmap_lock: a fair reader/writer semaphore (a waiting writer holds off new readers). */
  int mmapReaders;
  boolean mmapWriter;
  final ArrayDeque<LockWaiter> mmapWaiters = new ArrayDeque<>();

  /**
   * PMD indexes (va / PMD_SIZE) mapped by a huge PMD (pmd_trans_huge): the 2 MiB folio's 512 pages are also kept as
   * PRESENT entries in {@link #ptes}, the view every PTE-level path reads (what __split_huge_pmd_locked() would
   * write); the marker says the mapping is still one PMD, so that a split (FOLL_SPLIT_PMD, reclaim, migration) raises
   * __split_huge_pmd()'s CLEAR over the whole 2 MiB.
   */
  final java.util.Set<Long> pmdMapped = new java.util.HashSet<>();

  /**
   * PMD indexes holding a PMD migration entry (set_pmd_migration_entry(): a huge PMD under migration, is_swap_pmd);
   * the 512 views are MIGRATION entries. Not {@link #pmdMapped} meanwhile, so every path sees the views as
   * migration entries and waits (pmd_migration_entry_wait); remove_migration_pmd() makes it a huge PMD again unless a
   * PTE-level change in between dropped the marker.
   */
  final java.util.Set<Long> pmdMigration = new java.util.HashSet<>();

  /** pmd_trans_huge() for the PMD holding va. */
  boolean pmdMapped(long va) { return !pmdMapped.isEmpty() && pmdMapped.contains(va / RangeFault.PMD_SIZE); }

  /**
   * MMF_HAS_PINNED: some FOLL_PIN GUP pinned a page of this mm. No path of the emulator pins pages (nouveau and
   * dmirror do not; docs/PROTOCOL.md §3.9), so only a unit test sets it, with {@link Folio#pincount}.
   */
  boolean hasPinned;

  /** exit_mmap() ran: no VMAs are left and syscalls are refused. */
  boolean exited;

  record LockWaiter(boolean write, Runnable continuation) {}

  Mm(int id) { this.id = id; }

  /** find_vma() restricted to a VMA that contains va (vma_lookup). */
  Vma findVma(long va) {
    Map.Entry<Long, Vma> e = vmas.floorEntry(va);
    return e != null && e.getValue().contains(va) ? e.getValue() : null;
  }

  Pte pte(long pageVa) {
    Pte p = ptes.get(pageVa);
    return p == null ? Pte.NONE : p;
  }

  /** Models __pte_alloc(): the PMD holding va gets a PTE table if it had none. */
  void pteAlloc(long va) {
    long i = va / RangeFault.PMD_SIZE;
    if (i == lastPteTable) return;
    pteTables.add(i);
    lastPteTable = i;
  }

  /** free_pgtables() over the whole address space (exit_mmap). */
  void freeAllPgtables() {
    pteTables.clear();
    lastPteTable = -1;
  }

  /** !pmd_none() for the PMD holding va: a PTE table exists there. */
  boolean hasPteTable(long va) { return pteTables.contains(va / RangeFault.PMD_SIZE); }

  /** Models free_pgtables() over [s,e) after the VMAs there were removed: PTE tables no VMA overlaps go. */
  void freePgtables(long s, long e) {
    long pmd = RangeFault.PMD_SIZE;
    for (long i = s / pmd; i <= (e - 1) / pmd; i++) {
      if (vmasIn(i * pmd, (i + 1) * pmd).isEmpty()) {
        pteTables.remove(i);
        if (i == lastPteTable) lastPteTable = -1;
      }
    }
  }

  /** The VMAs intersecting [s,e), in address order. */
  List<Vma> vmasIn(long s, long e) {
    List<Vma> out = new ArrayList<>();
    Map.Entry<Long, Vma> first = vmas.floorEntry(s);
    long from = first != null && first.getValue().end > s ? first.getKey() : s;
    for (Vma v : vmas.subMap(from, true, e, false).values()) {
      if (v.end > s && v.start < e) out.add(v);
    }
    return out;
  }
}
