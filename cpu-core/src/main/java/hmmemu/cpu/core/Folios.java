package hmmemu.cpu.core;

import hmmemu.protocol.trace.Trace;
import java.util.HashMap;
import java.util.Map;

/**
 * Models physical memory of the node: struct folio (order 0) allocation, folio_get()/folio_put() with the
 * refcount, the folio lock (folio_lock()/folio_unlock() and its wait queue) and the shared zero page.
 */
final class Folios {
  private final Kernel k;
  /** Every folio ever allocated, freed ones included, by pfn (pfns are never reused). */
  final Map<Long, Folio> byPfn = new HashMap<>();
  /** pfn -> the device that last converted it (only reported with the hmmPfnExclusive switch). */
  final Map<Long, Integer> exclusiveHolder = new HashMap<>();
  private long nextPfn = CpuMm.FIRST_PFN;

  Folios(Kernel k) {
    this.k = k;
    Folio zeroFolio = new Folio(CpuMm.ZERO_PFN, true);
    byPfn.put(CpuMm.ZERO_PFN, zeroFolio);
  }

  /** Reports the folio's bits (the zero page is never reported). */
  void emitFolio(Folio f) {
    if (f.zero) return;
    k.emit(new Trace.FolioChanged(f.pfn, f.locked, f.refcount, f.mapcount, f.dirty, f.anonExclusive, f.freed));
  }

  /** pfn_folio() for a pfn a PTE or a grant references; it must have been allocated. */
  Folio folioOf(long pfn) {
    Folio f = byPfn.get(pfn);
    if (f == null) throw new IllegalStateException("I8 refcount: a PTE references pfn " + pfn + " that was never allocated");
    return f;
  }

  /** folio_alloc(): a new order-0 folio with refcount 1 (the caller's reference). */
  Folio allocFolio(boolean anon) {
    Folio f = new Folio(nextPfn++, false);
    f.anon = anon;
    f.refcount = 1;
    byPfn.put(f.pfn, f);
    return f;
  }

  /** folio_try_get()/folio_get(). */
  void getFolio(Folio f) {
    if (f.zero) return;
    if (f.freed) throw new IllegalStateException("I8 refcount: folio_get on freed pfn " + f.pfn);
    f.refcount++;
    emitFolio(f);
  }

  /** folio_put(): frees at refcount 0. */
  void putFolio(Folio f) {
    if (f.zero) return;
    f.refcount--;
    settleRefcount(f);
    emitFolio(f);
  }

  /** Checks the refcount after a decrement and frees the folio at 0 (does not emit). */
  void settleRefcount(Folio f) {
    if (f.refcount < 0) throw new IllegalStateException("I8 refcount: underflow on pfn " + f.pfn);
    if (f.mapcount < 0) throw new IllegalStateException("I9 mapcount: underflow on pfn " + f.pfn);
    if (f.refcount == 0) {
      if (f.mapcount != 0) {
        throw new IllegalStateException("I8 refcount: pfn " + f.pfn + " reached refcount 0 while mapcount=" + f.mapcount);
      }
      if (f.locked) throw new IllegalStateException("I8 refcount: pfn " + f.pfn + " freed while locked");
      f.freed = true;
      exclusiveHolder.remove(f.pfn);
    }
  }

  /** folio_lock() on an unlocked folio (callers that may wait park on f.waiters first). */
  void lockFolio(Folio f) {
    if (f.locked) throw new IllegalStateException("I7 lock discipline: folio " + f.pfn + " locked twice");
    f.locked = true;
    emitFolio(f);
  }

  /** folio_unlock(): wakes every waiter; each re-checks when it runs. */
  void unlockFolio(Folio f) {
    if (!f.locked) throw new IllegalStateException("I7 lock discipline: unlock of unlocked folio " + f.pfn);
    f.locked = false;
    emitFolio(f);
    k.runQueue.addAll(f.waiters);
    f.waiters.clear();
  }
}
