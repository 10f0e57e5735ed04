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
 * Models one ksmd scan (mm/ksm.c ksm_do_scan -> cmp_and_merge_page) over a MADV_MERGEABLE range of an mm:
 * identical anonymous order-0 pages are merged into one write-protected KSM page: write_protect_page() on the
 * page kept and replace_page() on each duplicate, each under a CLEAR notifier over its page.
 *
 * <p>A page behind a DEVEXCL entry is never merged, under both profiles: ksm's page lookup finds only present
 * PTEs (6.15 get_mergeable_page -> folio_walk_start; 5.14 follow_page(FOLL_GET) returns no page for a swap PTE),
 * and since commit "mm/ksm: handle device-exclusive entries correctly in write_protect_page()" (6.15) the rmap walk
 * in write_protect_page() bails out on one. Large folios (which ksm would split first) are skipped here.
 */
final class Ksm {
  private final Kernel k;
  private final Folios folios;
  private final MmapLock mmapLock;
  private final MmuNotifier notifier;

  Ksm(Kernel k, Folios folios, MmapLock mmapLock, MmuNotifier notifier) {
    this.k = k;
    this.folios = folios;
    this.mmapLock = mmapLock;
    this.notifier = notifier;
  }

  /** One scan of [start, end) (mmap_lock held for read); the reply's value is the pages merged away. */
  void scan(Mm mm, Syscall m, long start, long end) {
    List<Long> candidates = new ArrayList<>();
    for (var e : mm.ptes.subMap(start, end).entrySet()) {
      Pte p = e.getValue();
      if (p.state() != PteState.PRESENT) continue; // DEVEXCL, swap, migration: no page to merge
      Folio f = folios.folioOf(p.pfn());
      if (f.zero || !f.anon || f.large() || f.locked() || f.refcount != f.mapcount || f.mapcount != 1) continue;
      candidates.add(e.getKey());
    }
    List<long[]> merges = new ArrayList<>(); // {kept va, duplicate va}
    boolean[] used = new boolean[candidates.size()];
    for (int i = 0; i < candidates.size(); i++) {
      if (used[i]) continue;
      Folio a = folios.folioOf(mm.pte(candidates.get(i)).pfn());
      for (int j = i + 1; j < candidates.size(); j++) {
        if (used[j] || !sameContents(a, folios.folioOf(mm.pte(candidates.get(j)).pfn()))) continue;
        used[j] = true;
        merges.add(new long[] {candidates.get(i), candidates.get(j)});
      }
    }
    long[] merged = {0};
    Rmap.forEach(merges, 0, (pair, next) -> merge(mm, pair[0], pair[1], merged, next), () -> {
      mmapLock.readUnlock(mm);
      k.reply(new SyscallDone(m.reqId(), Errno.OK, merged[0]));
    });
  }

  private static boolean sameContents(Folio a, Folio b) {
    for (int w = 0; w < Page.WORDS; w++) if (a.word(w) != b.word(w)) return false;
    return true;
  }

  /** write_protect_page() on the kept page (once), then replace_page() of the duplicate by it. */
  private void merge(Mm mm, long keptVa, long dupVa, long[] merged, Runnable next) {
    Pte kept = mm.pte(keptVa);
    if (kept.state() != PteState.PRESENT) {
      next.run();
      return;
    }
    Runnable replace = () -> notifier.startInvalidation(mm, dupVa, dupVa + Page.SIZE, NotifyEvent.CLEAR, 0, true, inv -> {
      Pte dup = mm.pte(dupVa);
      Pte ksm = mm.pte(keptVa);
      if (dup.state() == PteState.PRESENT && ksm.state() == PteState.PRESENT) {
        Folio kf = folios.folioOf(ksm.pfn());
        Folio df = folios.folioOf(dup.pfn());
        if (sameContents(kf, df)) {
          kf.mapcount++;
          kf.refcount++;
          folios.emitFolio(kf);
          k.setPte(mm, dupVa, new Pte(PteState.PRESENT, kf.pfn, false, false, dup.young(), dup.softDirty()), "replace_page");
          df.mapcount--;
          df.refcount--;
          folios.settleRefcount(df);
          folios.emitFolio(df);
          merged[0]++;
        }
      }
      notifier.endInvalidation(inv);
      next.run();
    }, null);
    if (!kept.write() && !folios.folioOf(kept.pfn()).anonExclusive) {
      replace.run();
      return;
    }
    notifier.startInvalidation(mm, keptVa, keptVa + Page.SIZE, NotifyEvent.CLEAR, 0, true, inv -> {
      Pte cur = mm.pte(keptVa);
      if (cur.state() == PteState.PRESENT) {
        Folio f = folios.folioOf(cur.pfn());
        if (cur.dirty()) f.dirty = true;
        f.anonExclusive = false; // folio_try_share_anon_rmap_pte
        folios.emitFolio(f);
        k.setPte(mm, keptVa, new Pte(PteState.PRESENT, cur.pfn(), false, false, cur.young(), cur.softDirty()),
            "write_protect_page");
      }
      notifier.endInvalidation(inv);
      replace.run();
    }, null);
  }
}
