package hmmemu.cpu.core;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol.KthreadFolioDone;
import hmmemu.protocol.msg.HmmProtocol.KthreadFolioLock;
import hmmemu.protocol.msg.HmmProtocol.KthreadFolioUnlock;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Kernel threads that hold a folio lock for a while: kcompactd and the migration path (migrate_pages), khugepaged
 * (collapse_huge_page), reclaim (shrink_folio_list). Each takes a reference on a folio it found through the rmap or
 * the LRU (folio_try_get / isolation), folio_lock()s it (mm/filemap.c __folio_lock: it sleeps in the lock's wait
 * queue while another holder has the lock, then takes it) and later folio_unlock()s and folio_put()s it. What other
 * paths do when they meet the held lock is theirs: make_device_exclusive() waits (6.15 folio_lock_killable) or
 * skips the page (5.14 trylock_page), a CPU fault on a device-exclusive entry retries (folio_lock_or_retry).
 *
 * <p>The controller names the thread and says when it unlocks (docs/SCENARIOS.md, the {@code kthread} step): the
 * thread does nothing else with the folio, and holds no mmap_lock (rmap and LRU walkers do not).
 */
final class Kthreads {
  private final Kernel k;
  private final Folios folios;
  /** kthread -> the folio whose lock it holds. */
  final Map<String, Folio> held = new TreeMap<>();
  /** kthreads parked on a folio lock (in __folio_lock), not holding it yet. */
  final Set<String> waiting = new HashSet<>();

  Kthreads(Kernel k, Folios folios) {
    this.k = k;
    this.folios = folios;
  }

  private static String name(String kthread) { return kthread == null || kthread.isEmpty() ? "kthread" : kthread; }

  /**
   * folio_try_get() + folio_lock() by the kernel thread on the folio mapped at (mm, va): replies once it holds the
   * lock; EINVAL when the thread already holds or waits for a folio lock, EFAULT when no folio is mapped there.
   */
  void onLock(KthreadFolioLock m) {
    String name = name(m.kthread());
    if (held.containsKey(name) || waiting.contains(name)) {
      k.reply(new KthreadFolioDone(m.reqId(), Errno.EINVAL, 0));
      return;
    }
    Mm mm = k.mms.get(m.mmId());
    Pte pte = mm == null ? Pte.NONE : mm.pte(Page.alignDown(m.va()));
    Folio f = pte.state() == PteState.PRESENT || pte.state() == PteState.DEVEXCL ? folios.byPfn(pte.pfn()) : null;
    if (f == null || f.zero || f.freed) { // nothing a kernel thread could lock: no folio, the zero page
      k.reply(new KthreadFolioDone(m.reqId(), Errno.EFAULT, 0));
      return;
    }
    folios.getFolio(f); // the thread's reference (isolation / folio_try_get)
    waiting.add(name);
    lock(name, m, f);
  }

  /** __folio_lock(): sleep in the lock's wait queue until it is free, then take it (a woken waiter re-checks). */
  private void lock(String name, KthreadFolioLock m, Folio f) {
    if (f.locked()) {
      f.park(() -> lock(name, m, f));
      return;
    }
    folios.lockWholeFolio(f); // the walkers act on the whole folio: every page reports the lock
    waiting.remove(name);
    held.put(name, f);
    k.reply(new KthreadFolioDone(m.reqId(), Errno.OK, f.pfn));
  }

  /** folio_unlock() (wakes every waiter; each re-checks) + folio_put() by the kernel thread. */
  void onUnlock(KthreadFolioUnlock m) {
    Folio f = held.remove(name(m.kthread()));
    if (f == null) {
      k.reply(new KthreadFolioDone(m.reqId(), Errno.EINVAL, 0));
      return;
    }
    folios.unlockFolio(f);
    folios.putFolio(f);
    k.reply(new KthreadFolioDone(m.reqId(), Errno.OK, f.pfn));
  }
}
