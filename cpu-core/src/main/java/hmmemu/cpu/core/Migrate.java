package hmmemu.cpu.core;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol.Syscall;
import hmmemu.protocol.msg.HmmProtocol.SyscallDone;
import java.util.ArrayList;
import java.util.List;

/**
 * Models migrate_pages() of mm/migrate.c in MIGRATE_SYNC mode, as compaction, NUMA balancing, move_pages(2) and
 * memory offline (offline_pages in mm/memory_hotplug.c) drive it, for the folios behind a range of an mm:
 * folio_lock (sleeping), try_to_migrate() (mm/rmap.c try_to_migrate_one: a CLEAR notifier per mapping VMA, each
 * PTE replaced by a migration entry), the reference check of folio_migrate_mapping() (only the isolation reference
 * may remain), the copy, and remove_migration_ptes() mapping the new folio; on failure the migration entries are
 * turned back into PTEs of the old folio and migrate_pages() tries again, {@value #PASSES} passes in all.
 *
 * <p>6.15 (commit "mm/rmap: handle device-exclusive entries correctly in try_to_migrate_one()"): a DEVEXCL entry
 * becomes a readable(-exclusive) migration entry (it has no write bit) and then a present, read-only,
 * anon-exclusive PTE of the new folio: the data is kept, the device mapping is gone (the CLEAR revoked it).
 * 5.14-6.14: the entry is not counted in the mapcount, so __unmap_and_move() skips try_to_migrate() (page not
 * mapped), and the entry's reference makes migrate_page_move_mapping() return -EAGAIN on every pass: migration
 * fails for good; offline_pages() retries do_migrate_range() forever. The model bounds that loop at
 * {@value #OFFLINE_ROUNDS} rounds and reports -EBUSY with the rounds made (never a hang).
 */
final class Migrate {
  /** migrate_pages(): NR_MAX_MIGRATE_PAGES_RETRY (10 passes) for -EAGAIN. */
  static final int PASSES = 10;
  /** The model's bound on offline_pages()' do { ... } while (ret) loop, which has none in the kernel. */
  static final int OFFLINE_ROUNDS = 5;

  private final Kernel k;
  private final Folios folios;
  private final Rmap rmap;

  Migrate(Kernel k, Folios folios, Rmap rmap) {
    this.k = k;
    this.folios = folios;
    this.rmap = rmap;
  }

  /**
   * Migration of the folios behind [start, end) of mm (compaction or move_pages, no mmap_lock kept): OK with the
   * number of pages migrated, or -EBUSY with it when some folio could not be migrated within {@value #PASSES}
   * passes.
   */
  void migratePages(Mm mm, Syscall m, long start, long end) {
    List<Folio> heads = rmap.anonFoliosIn(mm, start, end);
    long[] moved = {0, 0}; // pages migrated, folios failed
    Rmap.forEach(heads, 0, (head, next) -> migrateFolio(head, 0, moved, next), () ->
        k.reply(new SyscallDone(m.reqId(), moved[1] == 0 ? Errno.OK : Errno.EBUSY, moved[0])));
  }

  /**
   * offline_pages() of the memory block(s) holding the folios behind [start, end): do_migrate_range() until no
   * page is left, at most {@value #OFFLINE_ROUNDS} rounds here. OK with the pages migrated; -EBUSY with value =
   * rounds made when pages remain (the kernel would loop until a signal).
   */
  void offlinePages(Mm mm, Syscall m, long start, long end) {
    offlineRound(mm, m, start, end, 1, 0);
  }

  private void offlineRound(Mm mm, Syscall m, long start, long end, int round, long movedSoFar) {
    List<Folio> heads = rmap.anonFoliosIn(mm, start, end);
    long[] moved = {0, 0};
    Rmap.forEach(heads, 0, (head, next) -> migrateFolio(head, 0, moved, next), () -> {
      long total = movedSoFar + moved[0];
      if (moved[1] == 0) k.reply(new SyscallDone(m.reqId(), Errno.OK, total));
      else if (round == OFFLINE_ROUNDS) k.reply(new SyscallDone(m.reqId(), Errno.EBUSY, round));
      else offlineRound(mm, m, start, end, round + 1, total);
    });
  }

  /** One pass of migrate_folio_unmap() + migrate_folio_move() for one folio; retried up to PASSES times. */
  private void migrateFolio(Folio head, int pass, long[] moved, Runnable next) {
    if (head.freed) {
      next.run();
      return;
    }
    if (head.locked()) { // MIGRATE_SYNC: folio_lock() sleeps
      head.park(() -> migrateFolio(head, pass, moved, next));
      return;
    }
    List<Folio> pages = folios.pagesOf(head);
    folios.lockWholeFolio(head);
    for (Folio p : pages) p.refcount++; // isolate_folio_to_list()'s reference
    // try_to_migrate(src, 0): no TTU_SPLIT_HUGE_PMD (only split_huge_page's unmap_folio passes it), so a huge PMD
    // becomes a PMD migration entry (set_pmd_migration_entry) under the one CLEAR over [address, vma_address_end).
    List<Rmap.Mapping> maps = rmap.mappingsOf(head, !k.v5());
    List<Rmap.Mapping> migrated = new ArrayList<>();
    rmap.perMm(maps, NotifyEvent.CLEAR, group -> {
      for (Rmap.Mapping mp : group) if (tryToMigrateOne(mp)) migrated.add(mp);
    }, () -> {
      boolean refsOk = true;
      for (Folio p : pages) refsOk &= p.refcount == 1; // folio_migrate_mapping(): expected_count
      if (refsOk) move(head, pages, migrated, moved);
      else removeMigrationPtes(migrated, head); // -EAGAIN: back to the old folio
      folios.unlockFolio(head);
      for (Folio p : pages) {
        p.refcount--;
        folios.settleRefcount(p);
        folios.emitFolio(p);
      }
      if (refsOk) next.run();
      else if (pass + 1 < PASSES) migrateFolio(head, pass + 1, moved, next);
      else {
        moved[1]++;
        next.run();
      }
    });
  }

  /**
   * try_to_migrate_one() for one PTE under the CLEAR notifier: PRESENT becomes a writable or readable migration
   * entry after its W bit, DEVEXCL (6.15 only; the 5.14 walk never reaches it) a readable one; the dirty bit goes to
   * the folio; the mapping's mapcount and reference go (the entry holds none).
   */
  private boolean tryToMigrateOne(Rmap.Mapping mp) {
    Mm mm = mp.mm();
    Pte pte = mm.pte(mp.va());
    if (pte.state() != PteState.PRESENT && pte.state() != PteState.DEVEXCL) return false;
    Folio p = folios.folioOf(pte.pfn());
    if (pte.dirty()) p.dirty = true;
    boolean write = pte.isPresent() && pte.write();
    Pte entry = new Pte(PteState.MIGRATION, pte.pfn(), write, false, pte.young(), pte.softDirty());
    long h = mp.va() / RangeFault.PMD_SIZE;
    if (mm.pmdMapped.remove(h)) mm.pmdMigration.add(h); // the first view of a huge PMD: it becomes a migration PMD
    if (mm.pmdMigration.contains(h)) k.setHugePmdPte(mm, mp.va(), entry, "set_pmd_migration_entry");
    else k.setPte(mm, mp.va(), entry, "try_to_migrate_one");
    p.mapcount--;
    p.refcount--;
    folios.emitFolio(p);
    return true;
  }

  /**
   * The copy (folio_migrate_copy + folio_migrate_flags: contents, dirty, anon-exclusive per page) into a new folio
   * of the same order, then remove_migration_ptes(src, dst): each migration entry becomes a present PTE of the new
   * page, writable only from a writable entry, old, dirty only if writable and the page is dirty.
   */
  private void move(Folio head, List<Folio> pages, List<Rmap.Mapping> migrated, long[] moved) {
    int order = Integer.numberOfTrailingZeros(head.nrPages);
    Folio dst = order == 0 ? folios.allocFolio(true) : folios.allocLargeFolio(true, order);
    List<Folio> dstPages = folios.pagesOf(dst);
    for (int i = 0; i < pages.size(); i++) {
      Folio s = pages.get(i);
      Folio d = dstPages.get(i);
      d.copyContentsFrom(s);
      d.dirty = s.dirty;
      d.anonExclusive = s.anonExclusive;
      d.refcount = 0; // the allocation's reference is handed to the mappings below
    }
    for (Rmap.Mapping mp : migrated) {
      Pte e = mp.mm().pte(mp.va());
      Folio d = dstPages.get((int) (e.pfn() - head.pfn));
      d.mapcount++;
      d.refcount++;
      restore(mp, new Pte(PteState.PRESENT, d.pfn, e.write(), e.write() && d.dirty, false, e.softDirty()));
    }
    remapPmds(migrated);
    for (Folio d : dstPages) {
      folios.settleRefcount(d);
      folios.emitFolio(d);
    }
    moved[0] += pages.size();
  }

  /** remove_migration_ptes(src, src): the migration entries map the old folio again. */
  private void removeMigrationPtes(List<Rmap.Mapping> migrated, Folio head) {
    for (Rmap.Mapping mp : migrated) {
      Pte e = mp.mm().pte(mp.va());
      Folio p = folios.folioOf(e.pfn());
      p.mapcount++;
      p.refcount++;
      folios.emitFolio(p);
      restore(mp, new Pte(PteState.PRESENT, e.pfn(), e.write(), false, false, e.softDirty()));
    }
    remapPmds(migrated);
  }

  /** remove_migration_pte(), or for a view of a PMD migration entry remove_migration_pmd() (the PMD stays huge). */
  private void restore(Rmap.Mapping mp, Pte pte) {
    if (mp.mm().pmdMigration.contains(mp.va() / RangeFault.PMD_SIZE)) {
      k.setHugePmdPte(mp.mm(), mp.va(), pte, "remove_migration_pmd");
    } else {
      k.setPte(mp.mm(), mp.va(), pte, "remove_migration_pte");
    }
  }

  /** remove_migration_pmd() done: each PMD migration entry of these mappings is a huge PMD again. */
  private void remapPmds(List<Rmap.Mapping> migrated) {
    for (Rmap.Mapping mp : migrated) {
      long h = mp.va() / RangeFault.PMD_SIZE;
      if (mp.mm().pmdMigration.remove(h)) mp.mm().pmdMapped.add(h);
    }
  }

  static long pageVa(long va) { return Page.alignDown(va); }
}
