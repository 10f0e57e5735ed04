package hmmemu.cpu.core;

import hmmemu.protocol.model.DevicePrivate;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Models physical memory of the node: struct folio (order 0) allocation, folio_get()/folio_put() with the
 * refcount, the folio lock (folio_lock()/folio_unlock() and its wait queue) and the shared zero page.
 *
 * <p>Folios are found by pfn in a dense table (the memmap: pfn_to_page() is an index, not a lookup), in chunks
 * of {@value #CHUNK} so that neither a boxed key nor a map node is paid per page (issue 11).
 */
final class Folios {
  private final Kernel k;
  private static final int CHUNK_BITS = 12;
  private static final int CHUNK = 1 << CHUNK_BITS;
  /** The zero page (ZERO_PFN, below FIRST_PFN). */
  private final Folio zeroFolio;
  /**
   * Every folio ever allocated, freed ones included (pfns are never reused): the folio of pfn p is
   * {@code memmap[i >> CHUNK_BITS][i & (CHUNK - 1)]} with {@code i = p - FIRST_PFN}.
   */
  private Folio[][] memmap = new Folio[4][];
  /** pfn -> the device that last converted it (only reported with the hmmPfnExclusive switch). */
  final Map<Long, Integer> exclusiveHolder = new HashMap<>();
  private long nextPfn = CpuMm.FIRST_PFN;

  Folios(Kernel k) {
    this.k = k;
    zeroFolio = new Folio(CpuMm.ZERO_PFN, true);
  }

  /**
   * The struct pages of device-private memory (memremap_pages() of each device's pgmap), by device-private pfn,
   * created when a driver first hands one out as a migration destination (zone_device_page_init()).
   */
  private final Map<Long, Folio> devicePages = new TreeMap<>();
  /**
   * page_pgmap(page)->owner of each device-private page (never 0), by pfn. Kept here rather than in every Folio: only
   * device-private pages have one, and a field of 8 bytes in each folio cost every page of system memory (issue 11).
   */
  private final Map<Long, Long> pgmapOwners = new HashMap<>();

  /** page_pgmap(page)->owner for a device-private page (is_device_private_page); 0 for system memory. */
  long pgmapOwner(Folio f) {
    if (!DevicePrivate.isDevicePrivate(f.pfn)) return 0;
    Long owner = pgmapOwners.get(f.pfn);
    return owner == null ? 0 : owner;
  }

  /** pfn_to_page() for any pfn: the folio, or null if the pfn was never allocated. */
  Folio byPfn(long pfn) {
    if (pfn == CpuMm.ZERO_PFN) return zeroFolio;
    if (DevicePrivate.isDevicePrivate(pfn)) return devicePages.get(pfn);
    long i = pfn - CpuMm.FIRST_PFN;
    if (i < 0 || pfn >= nextPfn) return null;
    return memmap[(int) (i >>> CHUNK_BITS)][(int) (i & (CHUNK - 1))];
  }

  /**
   * Whether every page of {@code head}'s folio is a memmap entry (system memory, allocated): then {@link #page} reads
   * it as {@link #byPfn} would, without byPfn's checks per page (a walk over a 512-page folio's pages on each of its
   * locks and unlocks).
   */
  private boolean inMemmap(Folio head) {
    long end = head.pfn + head.nrPages;
    return head.pfn >= CpuMm.FIRST_PFN && end <= nextPfn && !DevicePrivate.isDevicePrivate(head.pfn)
        && !DevicePrivate.isDevicePrivate(end - 1); // a folio is far shorter than the device-private range
  }

  /** The memmap entry of pfn {@code pfn} (only for a page {@link #inMemmap} vouched for): byPfn's answer. */
  private Folio page(long pfn) {
    long i = pfn - CpuMm.FIRST_PFN;
    return memmap[(int) (i >>> CHUNK_BITS)][(int) (i & (CHUNK - 1))];
  }

  /** The number of folios ever allocated, the zero page and device-private pages included. */
  int count() { return (int) (nextPfn - CpuMm.FIRST_PFN) + 1 + devicePages.size(); }

  /** Every folio ever allocated, the zero page first, then by pfn. */
  List<Folio> all() {
    List<Folio> out = new ArrayList<>(count());
    out.add(zeroFolio);
    for (long p = CpuMm.FIRST_PFN; p < nextPfn; p++) out.add(byPfn(p));
    out.addAll(devicePages.values());
    return out;
  }

  /**
   * Models zone_device_page_init() on a device-private page the driver allocated (dmirror_devmem_alloc_page): refcount
   * 1 (the driver's), locked, anonymous once mapped; its pgmap owner is the driver's. A freed device page comes back
   * with the same pfn (the driver's free list), so this is the one place a pfn is reused.
   */
  Folio deviceFolio(long pfn, long pgmapOwner) {
    if (!DevicePrivate.isDevicePrivate(pfn)) throw new IllegalStateException("not a device-private pfn: " + pfn);
    Folio f = devicePages.get(pfn);
    if (f != null && !f.freed) {
      throw new IllegalStateException("I8 refcount: device page " + Long.toHexString(pfn) + " allocated while in use");
    }
    f = new Folio(pfn, false);
    f.anon = true;
    pgmapOwners.put(pfn, pgmapOwner);
    f.refcount = 1;
    f.locked = true;
    devicePages.put(pfn, f);
    emitFolio(f);
    return f;
  }

  /** Reports the folio's bits (the zero page is never reported). */
  void emitFolio(Folio f) {
    if (f.zero) return;
    if (f.reportedLocked != f.locked()) f.head.reportedLockedPages += f.locked() ? 1 : -1;
    f.reportedLocked = f.locked();
    k.emit(new Trace.FolioChanged(f.pfn, f.locked(), f.refcount, f.mapcount, f.dirty, f.anonExclusive, f.freed));
  }

  /** pfn_folio() for a pfn a PTE or a grant references; it must have been allocated. */
  Folio folioOf(long pfn) {
    Folio f = byPfn(pfn);
    if (f == null) throw new IllegalStateException("I8 refcount: a PTE references pfn " + pfn + " that was never allocated");
    return f;
  }

  /** folio_alloc(): a new order-0 folio with refcount 1 (the caller's reference). */
  Folio allocFolio(boolean anon) {
    long i = nextPfn - CpuMm.FIRST_PFN;
    int chunk = (int) (i >>> CHUNK_BITS);
    if (chunk >= memmap.length) memmap = Arrays.copyOf(memmap, 2 * memmap.length);
    if (memmap[chunk] == null) memmap[chunk] = new Folio[CHUNK];
    Folio f = new Folio(nextPfn++, false);
    f.anon = anon;
    f.refcount = 1;
    memmap[chunk][(int) (i & (CHUNK - 1))] = f;
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
    if (f.large()) { // a large folio is freed as a whole, when the sum of its pages' references reaches 0
      if (f.refcount != 0 || anotherPageReferenced(f)) return;
      for (Folio p : pagesOf(f)) {
        if (p.freed) continue;
        if (p.mapcount != 0) {
          throw new IllegalStateException("I8 refcount: pfn " + p.pfn + " reached refcount 0 while mapcount=" + p.mapcount);
        }
        if (p.locked()) throw new IllegalStateException("I8 refcount: pfn " + p.pfn + " freed while locked");
        p.freed = true;
        exclusiveHolder.remove(p.pfn);
        if (p != f) emitFolio(p);
      }
      return;
    }
    if (f.refcount == 0) {
      if (f.mapcount != 0) {
        throw new IllegalStateException("I8 refcount: pfn " + f.pfn + " reached refcount 0 while mapcount=" + f.mapcount);
      }
      if (f.locked()) throw new IllegalStateException("I8 refcount: pfn " + f.pfn + " freed while locked");
      f.freed = true;
      exclusiveHolder.remove(f.pfn);
    }
  }

  /**
   * Whether a page of f's large folio other than f has a reference (folio_ref_count() of the folio is the sum over
   * its pages). Looks at the pages after f first, then from the head: munmap zaps a folio's pages in ascending order,
   * so the next page usually answers (a walk from the head made each zap of a 512-page folio cost up to 512 looks).
   */
  private boolean anotherPageReferenced(Folio f) {
    Folio head = f.head;
    boolean direct = inMemmap(head);
    long end = head.pfn + head.nrPages;
    for (long pfn = f.pfn + 1; pfn < end; pfn++) if ((direct ? page(pfn) : byPfn(pfn)).refcount != 0) return true;
    for (long pfn = head.pfn; pfn < f.pfn; pfn++) if ((direct ? page(pfn) : byPfn(pfn)).refcount != 0) return true;
    return false;
  }

  /**
   * folio_lock() on an unlocked folio (callers that may wait park on it with f.park first). The lock is the whole
   * folio's: for a large folio every page reports it.
   */
  void lockFolio(Folio f) {
    if (f.locked()) throw new IllegalStateException("I7 lock discipline: folio " + f.pfn + " locked twice");
    setLocked(f.head, true);
    emitFolio(f);
  }

  /**
   * folio_lock() by a walker that then acts on every page of the folio (reclaim, migration): every page reports
   * the lock. {@link #lockFolio} reports it only for the page the caller locked through (a conversion or a
   * restore acts on that page alone), so that a 512-page folio does not cost 512 events per conversion.
   */
  void lockWholeFolio(Folio f) {
    lockFolio(f);
    Folio head = f.head; // the pages head first, as pagesOf(f) lists them, without building that list
    boolean direct = inMemmap(head);
    for (long pfn = head.pfn; pfn < head.pfn + head.nrPages; pfn++) {
      Folio p = direct ? page(pfn) : byPfn(pfn);
      if (p != f) emitFolio(p);
    }
  }

  /** folio_unlock(): wakes every waiter; each re-checks when it runs. Every page last reported locked reports it. */
  void unlockFolio(Folio f) {
    if (!f.locked()) throw new IllegalStateException("I7 lock discipline: unlock of unlocked folio " + f.pfn);
    setLocked(f.head, false);
    if (f.large() && f.head.reportedLockedPages > (f.reportedLocked ? 1 : 0)) {
      // a page other than f last reported the lock: the pages head first, as pagesOf(f) lists them, without building
      // that list of up to 512 on every unlock
      Folio head = f.head;
      boolean direct = inMemmap(head);
      for (long pfn = head.pfn; pfn < head.pfn + head.nrPages; pfn++) {
        Folio p = direct ? page(pfn) : byPfn(pfn);
        if (p.reportedLocked || p == f) emitFolio(p);
      }
    } else {
      emitFolio(f);
    }
    ArrayDeque<Runnable> woken = f.head.takeWaiters();
    if (woken != null) k.runQueue.addAll(woken);
  }

  /** Sets PG_locked of the folio whose head is {@code head} (the head page's bit: Folio#locked()). */
  private void setLocked(Folio head, boolean locked) {
    head.locked = locked;
  }

  /** The pages of f's folio, head first. */
  List<Folio> pagesOf(Folio f) {
    List<Folio> out = new ArrayList<>(f.head.nrPages);
    for (long p = f.head.pfn; p < f.head.pfn + f.head.nrPages; p++) out.add(byPfn(p));
    return out;
  }

  /**
   * folio_alloc() of order {@code order}: 2^order pages with consecutive pfns, each with refcount 1 (the caller's
   * reference, per page as in {@link Folio}); order 0 is {@link #allocFolio}.
   */
  Folio allocLargeFolio(boolean anon, int order) {
    Folio head = allocFolio(anon);
    head.nrPages = 1 << order;
    for (int i = 1; i < head.nrPages; i++) {
      Folio t = allocFolio(anon);
      t.head = head;
    }
    return head;
  }
}
