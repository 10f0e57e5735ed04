package hmmemu.gpu.core.driver;

import hmmemu.protocol.model.DevicePrivate;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.MigrateVmaReply;
import hmmemu.protocol.msg.Ids;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * dmirror's device-private memory (lib/test_hmm.c, docs/PROTOCOL.md §4.6, §3.11): one migrate_vma_setup() /
 * migrate_vma_pages() / migrate_vma_finalize() round as dmirror_migrate_to_device(), dmirror_migrate_to_system() and
 * dmirror_devmem_fault() drive it, with their copy steps dmirror_migrate_alloc_and_copy(),
 * dmirror_migrate_finalize_and_map() and dmirror_devmem_fault_alloc_and_copy(). The pgmap owner is
 * {@code dmirror->mdevice} (Ids.dmirrorPgmapOwner).
 */
final class DmirrorMigrate {
  /** dmirror migrates in chunks of ARRAY_SIZE(src_pfns) = 64 pages. */
  static final int CHUNK_PAGES = 64;

  /** The outcome of one round: the pages the CPU node covered, and the pages successfully migrated. */
  record Round(Errno errno, int covered, long migrated) {}

  private final Drivers drivers;

  DmirrorMigrate(Drivers drivers) { this.drivers = drivers; }

  long pgmapOwner() { return Ids.dmirrorPgmapOwner(drivers.ids.deviceId()); }

  /**
   * One round of dmirror_migrate_to_device(): MIGRATE_VMA_SELECT_SYSTEM; copy each collected page into a fresh
   * device page; migrate_vma_pages; dmirror_migrate_finalize_and_map() under the mutex; migrate_vma_finalize.
   */
  void toDevice(Binding binding, DriverMutex.Holder holder, long start, int npages, Consumer<Round> done) {
    round(binding, start, npages, DevicePrivate.SELECT_SYSTEM, 0, setup -> {
      // dmirror_migrate_alloc_and_copy(): a zero page for a hole or the zero page, the copied words otherwise.
      List<Long> dst = new ArrayList<>();
      List<Long> src = setup.src();
      for (int i = 0; i < src.size(); i++) {
        long s = src.get(i);
        if (!DevicePrivate.migrating(s)) {
          dst.add(0L);
          continue;
        }
        long pfn = drivers.deviceMemory.allocate();
        // "(*src & MIGRATE_PFN_WRITE) || (!spage && args->vma->vm_flags & VM_WRITE)": a hole only in a VM_WRITE VMA
        boolean write = DevicePrivate.writable(s) || (DevicePrivate.pfnOf(s) == 0 && setup.vmaWrite());
        dst.add(DevicePrivate.migratePfn(pfn, write ? DevicePrivate.MIGRATE_PFN_WRITE : 0));
      }
      List<Long> c = setup.contents();
      for (int j = 0; j + 2 < c.size(); j += 3) {
        long pfn = DevicePrivate.pfnOf(dst.get((int) (long) c.get(j)));
        if (pfn != 0) drivers.deviceMemory.setWord(pfn, (int) (long) c.get(j + 1), c.get(j + 2));
      }
      return new Dst(dst, List.of());
    }, (pages, dst, next) -> binding.mutex.lock(holder, () -> {
      // dmirror_migrate_finalize_and_map(): map the migrated pages in the device page table (the device page
      // itself, WRITE tag when MIGRATE_PFN_WRITE), before migrate_vma_finalize.
      for (int i = 0; i < pages.size(); i++) {
        long pfn = DevicePrivate.pfnOf(dst.get(i));
        if (!DevicePrivate.migrating(pages.get(i)) || pfn == 0) continue;
        drivers.pageTable.install(binding.mmId, start + ((long) i << Page.SHIFT), pfn, true,
            DevicePrivate.writable(dst.get(i)), false, binding.subscription.subId, -1);
      }
      binding.mutex.unlock(holder);
      next.run();
    }), done);
  }

  /**
   * One round of dmirror_migrate_to_system() (start, npages) or dmirror_devmem_fault() (faultPfn != 0, one page):
   * MIGRATE_VMA_SELECT_DEVICE_PRIVATE of this device's pgmap owner; dmirror_devmem_fault_alloc_and_copy() erases the
   * device entry and copies the device page into a new system page; migrate_vma_pages; migrate_vma_finalize.
   */
  void toSystem(Binding binding, long start, int npages, long faultPfn, Consumer<Round> done) {
    round(binding, start, npages, DevicePrivate.SELECT_DEVICE_PRIVATE, faultPfn, setup -> {
      List<Long> dst = new ArrayList<>();
      List<Long> contents = new ArrayList<>();
      List<Long> src = setup.src();
      for (int i = 0; i < src.size(); i++) {
        long s = src.get(i);
        long spfn = DevicePrivate.pfnOf(s);
        if (spfn == 0 || !DevicePrivate.migrating(s) || !drivers.deviceMemory.owns(spfn)) {
          dst.add(0L);
          continue;
        }
        long va = start + ((long) i << Page.SHIFT);
        drivers.pageTable.zap(binding.mmId, va, va + Page.SIZE, false); // xa_erase(&dmirror->pt, addr >> PAGE_SHIFT)
        drivers.deviceMemory.nonZeroWords(spfn, contents, i);           // copy_highpage(dpage, BACKING_PAGE(spage))
        dst.add(DevicePrivate.MIGRATE_PFN_VALID | (DevicePrivate.writable(s) ? DevicePrivate.MIGRATE_PFN_WRITE : 0));
      }
      return new Dst(dst, contents);
    }, (pages, dst, next) -> next.run(), done);
  }

  // ------------------------------------------------------------------------------------------------ one round

  /** migrate->dst and the words copied into new system pages. */
  record Dst(List<Long> dst, List<Long> contents) {}

  interface AllocAndCopy {
    Dst make(MigrateVmaReply setup);
  }

  interface AfterPages {
    void run(List<Long> srcAfterPages, List<Long> dst, Runnable next);
  }

  private void round(Binding binding, long start, int npages, int flags, long faultPfn, AllocAndCopy copy,
      AfterPages after, Consumer<Round> done) {
    int device = drivers.ids.deviceId();
    long setupReq = drivers.ids.newReqId();
    drivers.replies.expectMigrate(setupReq, setup -> {
      if (setup.errno() != Errno.OK) {
        done.accept(new Round(setup.errno(), 0, 0));
        return;
      }
      Dst d = copy.make(setup);
      long pagesReq = drivers.ids.newReqId();
      drivers.replies.expectMigrate(pagesReq, pages -> after.run(pages.src(), d.dst(), () -> {
        long finReq = drivers.ids.newReqId();
        drivers.replies.expectMigrate(finReq, fin -> {
          long migrated = 0; // dmirror_successful_migrated_pages()
          for (long s : pages.src()) if (DevicePrivate.migrating(s) && DevicePrivate.pfnOf(s) != 0) migrated++;
          done.accept(new Round(Errno.OK, setup.src().size(), migrated));
        });
        drivers.ctx.toCpu(new HmmProtocol.MigrateVmaFinalize(finReq, device, setup.migrateId()));
      }));
      drivers.ctx.toCpu(new HmmProtocol.MigrateVmaPages(pagesReq, device, setup.migrateId(), d.dst(), d.contents()));
    });
    drivers.ctx.toCpu(new HmmProtocol.MigrateVmaSetup(setupReq, device, binding.mmId, start, npages, flags,
        pgmapOwner(), faultPfn));
  }

  /**
   * dmirror_devmem_fault(): the CPU node's do_swap_page called this device's migrate_to_ram for one page; migrate
   * it back with args.fault_page set, then return (VM_FAULT_SIGBUS, reported as EFAULT, when setup failed).
   */
  void onMigrateToRam(Binding binding, HmmProtocol.MigrateToRam m) {
    int device = drivers.ids.deviceId();
    if (binding == null) { // nothing of ours maps the page any more
      drivers.ctx.toCpu(new HmmProtocol.MigrateToRamDone(m.faultId(), device, Errno.EFAULT));
      return;
    }
    toSystem(binding, Page.alignDown(m.va()), 1, m.pfn(), r -> drivers.ctx.toCpu(
        new HmmProtocol.MigrateToRamDone(m.faultId(), device, r.errno() == Errno.OK ? Errno.OK : Errno.EFAULT)));
  }
}
