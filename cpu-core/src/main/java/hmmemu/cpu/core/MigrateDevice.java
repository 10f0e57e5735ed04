package hmmemu.cpu.core;

import static hmmemu.protocol.model.DevicePrivate.MIGRATE_PFN_MIGRATE;
import static hmmemu.protocol.model.DevicePrivate.MIGRATE_PFN_VALID;
import static hmmemu.protocol.model.DevicePrivate.MIGRATE_PFN_WRITE;

import hmmemu.protocol.model.DevicePrivate;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol.MigrateToRam;
import hmmemu.protocol.msg.HmmProtocol.MigrateToRamDone;
import hmmemu.protocol.msg.HmmProtocol.MigrateVmaFinalize;
import hmmemu.protocol.msg.HmmProtocol.MigrateVmaPages;
import hmmemu.protocol.msg.HmmProtocol.MigrateVmaReply;
import hmmemu.protocol.msg.HmmProtocol.MigrateVmaSetup;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Models device-private memory on the CPU side (docs/PROTOCOL.md §3.11): migrate_vma_setup(), migrate_vma_pages()
 * and migrate_vma_finalize() of mm/migrate_device.c, and the device-private branch of do_swap_page() (mm/memory.c)
 * that calls the owning driver's migrate_to_ram().
 *
 * <p>Kernel releases (the kernel profile decides; V5_14 stands for the last state before 6.15):
 * <ul>
 *   <li>6.1-6.14 (profile v5.14): do_swap_page takes a reference on the device page (get_page, commit 16ce101db85d,
 *       v6.1) and calls migrate_to_ram with vmf->page as args->fault_page; migrate_vma_collect_pmd trylocks every
 *       page, the fault page included; migrate_vma_check_page allows one extra reference for the fault page only.
 *       Two threads faulting the same device page each hold a reference, so every migration attempt sees a
 *       reference too many and restores the page: a livelock (reported, see {@link #LIVELOCK_BOUND}).</li>
 *   <li>6.15+ (profile v6.15): commit 1afaeb8293c9 ("mm/memory: Trylock device page in do_swap_page"): the fault
 *       trylocks the page before taking its reference; a thread that fails returns 0 and faults again (modelled as
 *       a wait for the unlock); migrate_vma_collect_pmd and migrate_vma_finalize leave the fault page's lock to the
 *       fault path. One thread migrates, the others then find the PTE present.</li>
 *   <li>5.14-6.0 (no reference taken at all, the race 16ce101db85d fixed) is not modelled.</li>
 * </ul>
 */
final class MigrateDevice {
  /**
   * Consecutive migrate_to_ram() returns that left a device-private page where it was (same PTE, same pfn) before
   * the emulator declares a livelock: every user thread still faulting on the page ends its access with
   * Errno.LIVELOCK and a Trace.Livelock is emitted. The kernel has no such bound; its threads would fault forever.
   */
  static final int LIVELOCK_BOUND = 100;

  private final Kernel k;
  private final Folios folios;
  private final MmapLock mmapLock;
  private final MmuNotifier notifier;
  private long nextMigrateId = 1;
  private long nextFaultId = 1;
  /** struct migrate_vma between migrate_vma_setup() and migrate_vma_finalize(), by migrateId. */
  final Map<Long, Migration> migrations = new HashMap<>();
  /** migrate_to_ram() calls in flight, by faultId. */
  final Map<Long, FaultCall> faultCalls = new HashMap<>();
  /** Per device-private pfn: consecutive migrate_to_ram() returns that changed nothing. */
  final Map<Long, Integer> fruitless = new HashMap<>();
  /** (mmId << 32 | threadId) of user threads a livelock report ends at their next walk. */
  final Set<Long> livelocked = new HashSet<>();

  private final HugeMemory huge;
  private final Rmap rmap;

  MigrateDevice(Kernel k, Folios folios, MmapLock mmapLock, MmuNotifier notifier, HugeMemory huge) {
    this.k = k;
    this.folios = folios;
    this.mmapLock = mmapLock;
    this.notifier = notifier;
    this.huge = huge;
    this.rmap = new Rmap(k, folios, notifier);
  }

  /** struct migrate_vma: src/dst arrays and the state the three calls share. */
  static final class Migration {
    final long id;
    final int deviceId;
    final Mm mm;
    final long start;
    final long owner;
    final long faultPfn;
    final boolean holdsMmapLock;
    final long[] src;
    /** The PTE each collected page had (what remove_migration_ptes(src, src) puts back). */
    final Pte[] orig;
    final Folio[] dstFolio;
    long[] dst;
    long cpages;

    Migration(long id, int deviceId, Mm mm, long start, int npages, long owner, long faultPfn, boolean holdsMmapLock) {
      this.id = id;
      this.deviceId = deviceId;
      this.mm = mm;
      this.start = start;
      this.owner = owner;
      this.faultPfn = faultPfn;
      this.holdsMmapLock = holdsMmapLock;
      this.src = new long[npages];
      this.orig = new Pte[npages];
      this.dstFolio = new Folio[npages];
    }

    long va(int i) { return start + ((long) i << Page.SHIFT); }
  }

  /** One do_swap_page() waiting for the driver's migrate_to_ram(). */
  record FaultCall(Mm mm, long va, long pfn, int threadId, Runnable done) {}

  // ================================================================================ do_swap_page

  /**
   * Models the device-private branch of do_swap_page() (mm/memory.c): 6.15+ trylock_page (on failure the fault
   * returns 0 and the access faults again), get_page, pte_unmap_unlock, pgmap->ops->migrate_to_ram(vmf) on the
   * owning device's driver, then unlock_page (6.15+) and put_page. 6.1-6.14: get_page without the lock.
   */
  void doSwapPageDevicePrivate(Mm mm, long va, Pte orig, int threadId, PageFault.FaultDone done) {
    if (deviceGone(orig.pfn())) { // migrate_to_ram cannot copy from a device that is gone: VM_FAULT_SIGBUS
      sigbus(mm.id, threadId);
      done.done(false);
      return;
    }
    Folio f = folios.folioOf(orig.pfn());
    if (!k.v5()) {
      if (f.locked()) { // commit 1afaeb8293c9: the loser re-faults until the winner unlocks; modelled as one wait
        f.park(() -> done.done(false));
        return;
      }
      folios.lockFolio(f);
    }
    folios.getFolio(f);
    long faultId = nextFaultId++;
    faultCalls.put(faultId, new FaultCall(mm, va, orig.pfn(), threadId, () -> {
      if (!k.v5()) folios.unlockFolio(f);
      folios.putFolio(f);
      done.done(false);
    }));
    int device = DevicePrivate.deviceOf(orig.pfn());
    k.send(Outbound.toDevice(device, new MigrateToRam(faultId, device, mm.id, va, orig.pfn(), threadId)));
  }

  /** migrate_to_ram() returned; counts fruitless rounds per page and declares a livelock at the bound. */
  void onMigrateToRamDone(MigrateToRamDone m) {
    FaultCall c = faultCalls.remove(m.faultId());
    if (c == null) return; // late or duplicate
    Pte now = c.mm.pte(c.va);
    if (now.state() == PteState.DEVICE_PRIVATE && now.pfn() == c.pfn) {
      int n = fruitless.merge(c.pfn, 1, Integer::sum);
      if (n >= LIVELOCK_BOUND) declareLivelock(c, n);
    } else {
      fruitless.remove(c.pfn);
    }
    c.done.run();
  }

  private void declareLivelock(FaultCall c, int rounds) {
    fruitless.remove(c.pfn);
    Set<Long> threads = new HashSet<>();
    if (c.threadId > 0) threads.add(threadKey(c.mm.id, c.threadId));
    for (FaultCall o : faultCalls.values()) {
      if (o.pfn == c.pfn && o.threadId > 0) threads.add(threadKey(o.mm.id, o.threadId));
    }
    livelocked.addAll(threads);
    k.emit(new Trace.Livelock(c.mm.id, c.va, c.pfn, "migrate_to_ram", rounds, threads.size()));
  }

  /** The device owning device-private pfn is on a GPU node declared gone. */
  boolean deviceGone(long pfn) {
    return !k.goneNodes.isEmpty() && k.goneNodes.contains(Kernel.nodeOfDevice(DevicePrivate.deviceOf(pfn)));
  }

  /** User threads whose fault returned VM_FAULT_SIGBUS; their access ends with SIGBUS at its next walk. */
  final Set<Long> sigbusThreads = new HashSet<>();

  private void sigbus(int mmId, int threadId) {
    if (threadId > 0) sigbusThreads.add(threadKey(mmId, threadId));
  }

  /** True (once) if this thread's last fault returned VM_FAULT_SIGBUS: the caller answers it with Errno.SIGBUS. */
  boolean endsInSigbus(int mmId, int threadId) {
    return !sigbusThreads.isEmpty() && sigbusThreads.remove(threadKey(mmId, threadId));
  }

  private static long threadKey(int mmId, int threadId) { return ((long) mmId << 32) | (threadId & 0xffffffffL); }

  /** True (once) if a livelock report ended this thread's access: the caller answers it with Errno.LIVELOCK. */
  boolean endsInLivelock(int mmId, int threadId) {
    return !livelocked.isEmpty() && livelocked.remove(threadKey(mmId, threadId));
  }

  // ================================================================================ migrate_vma_setup

  /** Models migrate_vma_setup(); a call not made from a fault takes mmap_lock for read until finalize. */
  void onMigrateVmaSetup(MigrateVmaSetup m) {
    Mm mm = k.mmFor(m.mmId());
    if (m.faultPfn() != 0) setup(m, mm, false);
    else mmapLock.readLock(mm, () -> setup(m, mm, true));
  }

  /**
   * migrate_vma_setup(): -EINVAL unless the range starts in a readable, non-hugetlb VMA (and a fault_page is device
   * private); the range is clamped to the VMA's end, as dmirror clamps its chunks (the reply's src has one word per
   * page covered). Then migrate_vma_collect() under MMU_NOTIFY_MIGRATE (owner = pgmap_owner) and migrate_vma_unmap().
   */
  private void setup(MigrateVmaSetup m, Mm mm, boolean locked) {
    long start = m.start();
    Vma vma = mm.findVma(start);
    boolean bad = m.npages() <= 0 || Page.alignDown(start) != start || vma == null || !vma.canAccess()
        || vma.kind == VmaKind.HUGETLB || (m.faultPfn() != 0 && !DevicePrivate.isDevicePrivate(m.faultPfn()));
    if (bad) {
      if (locked) mmapLock.readUnlock(mm);
      k.reply(new MigrateVmaReply(m.reqId(), Errno.EINVAL, 0, List.of(), 0, List.of()));
      return;
    }
    long end = Math.min(start + ((long) m.npages() << Page.SHIFT), vma.end);
    int npages = (int) ((end - start) >>> Page.SHIFT);
    Migration mig = new Migration(nextMigrateId++, m.deviceId(), mm, start, npages, m.pgmapOwner(), m.faultPfn(),
        locked);
    boolean[] skip = new boolean[npages];
    notifier.startInvalidation(mm, start, end, NotifyEvent.MIGRATE, m.pgmapOwner(), true, inv ->
        splitHugePmds(mig, start, end, skip, () -> {
      for (int i = 0; i < npages; i++) {
        if (skip[i]) mig.src[i] = 0; // migrate_vma_collect_skip
        else collect(mig, vma, i, m.flags());
      }
      notifier.endInvalidation(inv);
      unmap(mig);
      migrations.put(mig.id, mig);
      List<Long> contents = new ArrayList<>();
      for (int i = 0; i < npages; i++) {
        long pfn = DevicePrivate.pfnOf(mig.src[i]);
        if (!DevicePrivate.migrating(mig.src[i]) || pfn == 0 || DevicePrivate.isDevicePrivate(pfn)) continue;
        Folio f = folios.folioOf(pfn);
        for (int w = 0; w < Page.WORDS; w++) {
          long v = f.word(w);
          if (v != 0) {
            contents.add((long) i);
            contents.add((long) w);
            contents.add(v);
          }
        }
      }
      k.reply(new MigrateVmaReply(m.reqId(), Errno.OK, mig.id, longs(mig.src), mig.cpages, List.copyOf(contents),
          vma.canWrite()));
    }), null);
  }

  /**
   * The pmd_trans_huge branch of migrate_vma_collect_pmd() (6.15 and 5.14 alike: "FIXME support THP"), for each huge
   * PMD of [start, end) in turn (before, and whatever, the MIGRATE_VMA_SELECT_* flags): folio_get, folio_trylock, split_folio() (see {@link HugeMemory#splitFolio}), unlock,
   * put; the walk then goes on over the now order-0 PTEs. A folio that cannot be locked or split makes the walk skip
   * the PMD's part of the range (migrate_vma_collect_skip: src 0). The huge zero page is not modelled.
   * hmm-emu walks the PMDs before the PTEs of the range; the kernel splits each PMD when its walk reaches it, after
   * collecting the PTEs before it: the same outcome, as every PTE of the range is collected under one MIGRATE range.
   */
  private void splitHugePmds(Migration mig, long start, long end, boolean[] skip, Runnable then) {
    long haddr = start & ~(RangeFault.PMD_SIZE - 1);
    for (; haddr < end; haddr += RangeFault.PMD_SIZE) if (mig.mm.pmdMapped(haddr)) break;
    if (start >= end || haddr >= end) {
      then.run();
      return;
    }
    long h = haddr;
    long from = Math.max(start, h);
    long to = Math.min(end, h + RangeFault.PMD_SIZE);
    Runnable next = () -> splitHugePmds(mig, to, end, skip, then);
    Folio head = folios.folioOf(mig.mm.pte(h).pfn()).head;
    Runnable skipPmd = () -> {
      for (long va = from; va < to; va += Page.SIZE) skip[(int) ((va - mig.start) >>> Page.SHIFT)] = true;
      next.run();
    };
    if (head.locked()) {
      skipPmd.run();
      return;
    }
    folios.getFolio(head);
    folios.lockFolio(head);
    huge.splitFolio(head, rmap, ok -> {
      folios.unlockFolio(head);
      folios.putFolio(head);
      if (ok) next.run();
      else skipPmd.run();
    });
  }

  /** Models migrate_vma_collect_pmd() for one PTE (migrate_vma_collect_hole for pte_none). */
  private void collect(Migration mig, Vma vma, int i, int flags) {
    long va = mig.va(i);
    Pte pte = mig.mm.pte(va);
    boolean anonVma = vma.kind == VmaKind.ANON_PRIVATE; // vma_is_anonymous(): shmem has vm_ops
    long mpfn = 0;
    switch (pte.state()) {
      case NONE:
        if (anonVma) mpfn = MIGRATE_PFN_MIGRATE; // a hole the driver may populate
        break;
      case PRESENT: {
        if ((flags & DevicePrivate.SELECT_SYSTEM) == 0) break;
        if (pte.pfn() == CpuMm.ZERO_PFN) {
          mpfn = MIGRATE_PFN_MIGRATE; // is_zero_pfn: migrated like a hole
          break;
        }
        Folio f = folios.folioOf(pte.pfn());
        if (f.large()) break; // "FIXME support THP": PageTransCompound(page) -> mpfn = 0 (a PTE-mapped large folio)
        // The kernel collects page-cache pages too and migrate_vma_pages() then refuses them for device memory
        // ("only support anonymous memory"); the outcome (not migrated, PTE restored) is the same as skipping here.
        if (!f.anon || f.hugetlb) break;
        mpfn = collectPage(mig, i, pte, f);
        break;
      }
      case DEVICE_PRIVATE: {
        Folio f = folios.folioOf(pte.pfn());
        // Only device-private pages of the caller's pgmap owner, and only with MIGRATE_VMA_SELECT_DEVICE_PRIVATE.
        if ((flags & DevicePrivate.SELECT_DEVICE_PRIVATE) == 0 || folios.pgmapOwner(f) != mig.owner) break;
        mpfn = collectPage(mig, i, pte, f);
        break;
      }
      default:
        break; // DEVEXCL, MIGRATION, SWAP: skipped (mpfn 0)
    }
    if ((mpfn & MIGRATE_PFN_MIGRATE) != 0) mig.cpages++;
    mig.src[i] = mpfn;
  }

  /**
   * folio_get, then folio_trylock (6.15+: not for the fault page, whose lock the fault path holds); install a
   * migration entry (the PTE's dirty bit goes to the folio); remove the rmap and drop the mapping's reference.
   */
  private long collectPage(Migration mig, int i, Pte pte, Folio f) {
    folios.getFolio(f);
    boolean faultLocked = !k.v5() && f.pfn == mig.faultPfn;
    if (!faultLocked) {
      if (f.locked()) {
        folios.putFolio(f);
        return 0;
      }
      folios.lockFolio(f);
    }
    if (pte.isPresent() && pte.dirty() && !f.dirty) f.dirty = true;
    mig.orig[i] = pte;
    k.setPte(mig.mm, mig.va(i), new Pte(PteState.MIGRATION, f.pfn, pte.write(), pte.dirty(), pte.young(),
        pte.softDirty()), "migrate_vma_collect_pmd");
    f.mapcount--;
    f.refcount--;
    folios.settleRefcount(f);
    folios.emitFolio(f);
    return DevicePrivate.migratePfn(f.pfn, MIGRATE_PFN_MIGRATE | (pte.write() ? MIGRATE_PFN_WRITE : 0));
  }

  /**
   * Models migrate_vma_unmap() -> migrate_device_unmap(): a page with references beyond the collect's (and the
   * fault's, for args->fault_page) cannot migrate (migrate_vma_check_page: page_count - extra > page_mapcount): its
   * migration entry is replaced by the old PTE again, the page unlocked and put, MIGRATE cleared.
   */
  private void unmap(Migration mig) {
    for (int i = 0; i < mig.src.length; i++) {
      long pfn = DevicePrivate.pfnOf(mig.src[i]);
      if (!DevicePrivate.migrating(mig.src[i]) || pfn == 0) continue;
      Folio f = folios.folioOf(pfn);
      int extra = 1 + (pfn == mig.faultPfn ? 1 : 0);
      if (f.refcount - extra > f.mapcount) {
        restore(mig, i, f, "remove_migration_pte:busy");
        releaseSrc(mig, f);
        mig.orig[i] = null; // released here; finalize has nothing left to do for it
        mig.src[i] &= ~MIGRATE_PFN_MIGRATE;
        mig.cpages--;
      }
    }
  }

  /** remove_migration_ptes(folio, folio): the migration entry at page i back to the PTE it replaced. */
  private void restore(Migration mig, int i, Folio f, String cause) {
    Pte cur = mig.mm.pte(mig.va(i));
    if (cur.state() != PteState.MIGRATION || cur.pfn() != f.pfn || mig.orig[i] == null) return; // zapped meanwhile
    Pte o = mig.orig[i];
    f.mapcount++;
    f.refcount++;
    folios.emitFolio(f);
    k.setPte(mig.mm, mig.va(i), new Pte(o.state(), o.pfn(), o.write(), false, o.young(), o.softDirty()), cause);
  }

  /** folio_unlock (not the fault page's in 6.15+) and folio_put of the collect's reference. */
  private void releaseSrc(Migration mig, Folio f) {
    if (k.v5() || f.pfn != mig.faultPfn) folios.unlockFolio(f);
    folios.putFolio(f);
  }

  // ================================================================================ migrate_vma_pages

  /**
   * Models migrate_vma_pages(): per page still MIGRATE with a destination, migrate_vma_insert_page() for a hole (under
   * its own MMU_NOTIFY_MIGRATE from the first hole to the end) or the folio migration, which fails when the source
   * has references beyond the expected ones (folio_migrate_mapping: -EAGAIN, MIGRATE cleared).
   */
  void onMigrateVmaPages(MigrateVmaPages m) {
    Migration mig = migrations.get(m.migrateId());
    if (mig == null || mig.deviceId != m.deviceId() || m.dst() == null || m.dst().size() != mig.src.length) {
      k.reply(new MigrateVmaReply(m.reqId(), Errno.EINVAL, m.migrateId(), List.of(), 0, List.of()));
      return;
    }
    mig.dst = new long[mig.src.length];
    for (int i = 0; i < mig.dst.length; i++) mig.dst[i] = m.dst().get(i);
    Map<Integer, List<long[]>> contents = new HashMap<>();
    List<Long> c = m.contents() == null ? List.of() : m.contents();
    for (int j = 0; j + 2 < c.size(); j += 3) {
      contents.computeIfAbsent((int) (long) c.get(j), x -> new ArrayList<>()).add(new long[] {c.get(j + 1), c.get(j + 2)});
    }
    int firstHole = -1;
    for (int i = 0; i < mig.src.length && firstHole < 0; i++) {
      if (DevicePrivate.migrating(mig.src[i]) && DevicePrivate.pfnOf(mig.src[i]) == 0
          && (mig.dst[i] & MIGRATE_PFN_VALID) != 0) firstHole = i;
    }
    if (firstHole < 0) {
      migratePages(mig, contents);
      k.reply(new MigrateVmaReply(m.reqId(), Errno.OK, mig.id, longs(mig.src), mig.cpages, List.of()));
      return;
    }
    long end = mig.va(mig.src.length);
    notifier.startInvalidation(mig.mm, mig.va(firstHole), end, NotifyEvent.MIGRATE, mig.owner, true, inv -> {
      migratePages(mig, contents);
      notifier.endInvalidation(inv);
      k.reply(new MigrateVmaReply(m.reqId(), Errno.OK, mig.id, longs(mig.src), mig.cpages, List.of()));
    }, null);
  }

  private void migratePages(Migration mig, Map<Integer, List<long[]>> contents) {
    for (int i = 0; i < mig.src.length; i++) {
      long s = mig.src[i];
      if (!DevicePrivate.migrating(s)) continue;
      long d = mig.dst[i];
      if ((d & MIGRATE_PFN_VALID) == 0) { // no destination page
        mig.src[i] &= ~MIGRATE_PFN_MIGRATE;
        continue;
      }
      Folio nf = allocateDst(mig, DevicePrivate.pfnOf(d), contents.get(i));
      mig.dstFolio[i] = nf;
      long spfn = DevicePrivate.pfnOf(s);
      if (spfn == 0) {
        if (!insertPage(mig, i, nf)) mig.src[i] &= ~MIGRATE_PFN_MIGRATE;
        continue;
      }
      Folio sf = folios.folioOf(spfn);
      int expected = 1 + (spfn == mig.faultPfn ? 1 : 0);
      if (sf.refcount != expected) { // folio_migrate_mapping(): an unexpected reference, -EAGAIN
        mig.src[i] &= ~MIGRATE_PFN_MIGRATE;
        continue;
      }
      nf.dirty = sf.dirty; // folio_migrate_flags()
      nf.anonExclusive = true;
      folios.emitFolio(nf);
    }
  }

  /**
   * The destination the driver allocated: a device-private page (zone_device_page_init) or, for pfn 0, a new system
   * page (alloc_page_vma + lock_page) holding the words the driver copied. Refcount 1, locked.
   */
  private Folio allocateDst(Migration mig, long pfn, List<long[]> words) {
    if (pfn != 0) {
      if (!DevicePrivate.isDevicePrivate(pfn)) {
        throw new IllegalStateException("migrate_vma_pages: dst pfn " + Long.toHexString(pfn) + " is neither 0 (a new "
            + "system page) nor device private");
      }
      return folios.deviceFolio(pfn, mig.owner);
    }
    Folio f = folios.allocFolio(true);
    f.locked = true;
    if (words != null) for (long[] w : words) f.setWord((int) w[0], w[1]);
    folios.emitFolio(f);
    return f;
  }

  /** Models migrate_vma_insert_page(): only over pte_none or the zero page of an anonymous VMA. */
  private boolean insertPage(Migration mig, int i, Folio nf) {
    long va = mig.va(i);
    Vma vma = mig.mm.findVma(va);
    Pte cur = mig.mm.pte(va);
    boolean empty = cur.state() == PteState.NONE || (cur.isPresent() && cur.pfn() == CpuMm.ZERO_PFN);
    if (vma == null || vma.kind != VmaKind.ANON_PRIVATE || !empty) return false;
    boolean write = vma.canWrite();
    Pte np = DevicePrivate.isDevicePrivate(nf.pfn)
        ? new Pte(PteState.DEVICE_PRIVATE, nf.pfn, write, false, false, cur.softDirty())
        : new Pte(PteState.PRESENT, nf.pfn, write, write, true, true);
    nf.mapcount++;
    nf.refcount++;
    nf.anonExclusive = true;
    vma.anonVma = true;
    folios.emitFolio(nf);
    k.setPte(mig.mm, va, np, "migrate_vma_insert_page");
    return true;
  }

  // ================================================================================ migrate_vma_finalize

  /**
   * Models migrate_vma_finalize() -> migrate_device_finalize(): remove_migration_ptes() onto the new page where the
   * migration succeeded, onto the old one otherwise; unlock and put both (6.15+: not the fault page's lock);
   * destinations that were not used are unlocked and put (freed). Drops the mmap_lock setup took.
   */
  void onMigrateVmaFinalize(MigrateVmaFinalize m) {
    Migration mig = migrations.get(m.migrateId());
    if (mig == null || mig.deviceId != m.deviceId()) {
      k.reply(new MigrateVmaReply(m.reqId(), Errno.EINVAL, m.migrateId(), List.of(), 0, List.of()));
      return;
    }
    finalizeMigration(mig);
    k.reply(new MigrateVmaReply(m.reqId(), Errno.OK, mig.id, longs(mig.src), mig.cpages, List.of()));
  }

  /**
   * GPU node {@code node} is gone: its drivers' migrations between setup and finalize are finalized with nothing
   * migrated (every source page gets its PTE back, locks, references and the mmap_lock are released; destinations
   * are freed), as if the driver had called migrate_vma_finalize. Its migrate_to_ram calls in flight return
   * VM_FAULT_SIGBUS: the device memory the driver would copy from is gone (nouveau_dmem_migrate_to_ram ->
   * nouveau_dmem_fault_copy_one returns VM_FAULT_SIGBUS when the copy fails; dmirror_devmem_fault's copy source, the
   * device's memory, is on the dead node); a user thread's access then ends with SIGBUS, hmm_range_fault and GUP with
   * -EFAULT (VM_FAULT_ERROR). Later faults on the device's pages do the same without calling the driver.
   */
  void nodeGone(int node) {
    for (Map.Entry<Long, FaultCall> e : new ArrayList<>(faultCalls.entrySet())) {
      FaultCall c = e.getValue();
      if (Kernel.nodeOfDevice(DevicePrivate.deviceOf(c.pfn)) != node) continue;
      faultCalls.remove(e.getKey());
      fruitless.remove(c.pfn);
      sigbus(c.mm.id, c.threadId);
      c.done.run(); // do_swap_page: unlock_page (6.15) and put_page, then the fault returns VM_FAULT_SIGBUS
    }
    for (Migration mig : new ArrayList<>(migrations.values())) {
      if (Kernel.nodeOfDevice(mig.deviceId) != node) continue;
      for (int i = 0; i < mig.src.length; i++) mig.src[i] &= ~MIGRATE_PFN_MIGRATE;
      finalizeMigration(mig);
    }
  }

  private void finalizeMigration(Migration mig) {
    migrations.remove(mig.id);
    for (int i = 0; i < mig.src.length; i++) {
      long s = mig.src[i];
      long spfn = DevicePrivate.pfnOf(s);
      Folio nf = mig.dstFolio[i];
      if (spfn == 0) {
        if (nf != null) { // an inserted page keeps the mapping's reference; one not inserted is freed
          folios.unlockFolio(nf);
          folios.putFolio(nf);
        }
        continue;
      }
      if (mig.orig[i] == null) continue; // never collected (skipped or trylock failed)
      Folio sf = folios.folioOf(spfn);
      Folio to = sf;
      if (DevicePrivate.migrating(s) && nf != null) {
        to = nf;
      } else if (nf != null) {
        folios.unlockFolio(nf);
        folios.putFolio(nf);
      }
      if (to == sf) {
        restore(mig, i, sf, "remove_migration_pte:restore");
      } else {
        Pte cur = mig.mm.pte(mig.va(i));
        if (cur.state() == PteState.MIGRATION && cur.pfn() == spfn) {
          Pte np = DevicePrivate.isDevicePrivate(to.pfn)
              ? new Pte(PteState.DEVICE_PRIVATE, to.pfn, cur.write(), false, false, cur.softDirty())
              : new Pte(PteState.PRESENT, to.pfn, cur.write(), cur.dirty() && to.dirty, cur.young(), cur.softDirty());
          to.mapcount++;
          to.refcount++;
          folios.emitFolio(to);
          k.setPte(mig.mm, mig.va(i), np, "remove_migration_pte");
        }
      }
      if (to != sf) sf.anonExclusive = false;
      releaseSrc(mig, sf);
      if (to != sf) {
        folios.unlockFolio(to);
        folios.putFolio(to);
      }
    }
    if (mig.holdsMmapLock) mmapLock.readUnlock(mig.mm);
  }

  private static List<Long> longs(long[] a) {
    List<Long> out = new ArrayList<>(a.length);
    for (long v : a) out.add(v);
    return List.copyOf(out);
  }
}
