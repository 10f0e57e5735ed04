package hmmemu.checker;

import static hmmemu.checker.Reporter.describePte;
import static hmmemu.checker.Reporter.hex;
import static hmmemu.checker.Reporter.hexList;
import static hmmemu.checker.Reporter.where;

import hmmemu.protocol.model.DevicePrivate;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.trace.Trace;
import java.util.Set;

/**
 * The rules triggered by the CPU node's PTE and folio events: I6 (restore ordering), I7 (conversion and restore
 * overlap), I8 (freed pfns, refcount), I9 (mapcount), I10 (dirtiness) and I11 (anon-exclusive), plus I1 for a CPU
 * thread reaching a DEVEXCL page.
 */
final class CpuRules {
  /** The shared zero page (pfn 1): mapped by many PTEs, no mapcount kept, never freed. */
  static final long ZERO_PAGE_PFN = 1;

  private final KernelProfile profile;
  private final Reporter out;
  private final PteShadow ptes;
  private final VmaShadow vmas;
  private final FolioShadow folios;
  private final FolioLockShadow locks;
  private final NotifierShadow notifiers;
  private final DeviceShadow devices;
  private final DeviceRules deviceRules;

  CpuRules(KernelProfile profile, Reporter out, PteShadow ptes, VmaShadow vmas, FolioShadow folios,
      FolioLockShadow locks, NotifierShadow notifiers, DeviceShadow devices, DeviceRules deviceRules) {
    this.profile = profile;
    this.out = out;
    this.ptes = ptes;
    this.vmas = vmas;
    this.folios = folios;
    this.locks = locks;
    this.notifiers = notifiers;
    this.devices = devices;
    this.deviceRules = deviceRules;
  }

  // ---------------------------------------------------------------- CPU PTEs

  /** PteChanged: I8 (maps a freed pfn), I6/I7/I10 on a restore, I11 on a conversion, then I1/I2 at the page. */
  void onPteChanged(Trace.PteChanged p) {
    PageKey k = PageKey.of(p.mmId(), p.va());
    PteState oldState = ptes.state(k);
    // the old PTE as a record only where a check quotes it (a DEVEXCL entry leaving or coming): no record per event
    Trace.PteChanged old = oldState == PteState.DEVEXCL || p.state() == PteState.DEVEXCL ? ptes.get(k) : null;
    if (PteShadow.holdsPfn(p.state()) && folios.freed(p.pfn())) {
      out.report(Invariant.I8, where(k, p.pfn(), -1), "the PTE became " + p.state() + " on pfn " + hex(p.pfn())
          + ", which was already freed");
    }
    checkDevicePrivate(k, p);
    if (oldState == PteState.DEVEXCL && p.state() == PteState.PRESENT) checkRestore(k, p);
    if (oldState == PteState.DEVEXCL && (p.state() == PteState.SWAP || p.state() == PteState.MIGRATION)) {
      checkUnmapOfEntry(k, old, p);
    }
    if (p.state() == PteState.DEVEXCL && oldState != PteState.DEVEXCL) checkConversion(k, old, p);

    ptes.set(k, p);
    for (Trace.DeviceEntryInstalled entry : devices.entriesAt(k)) deviceRules.checkEntryAgainstCpu(k, entry);
  }

  /**
   * DEVEXCL -> PRESENT. I6: the folio is locked and a covering invalidation is in progress whose callbacks were
   * all acked. I7: no make_device_exclusive caller still holds the folio lock. I10 (6.15+): a writable restore
   * of a dirty folio yields a dirty PTE.
   */
  private void checkRestore(PageKey k, Trace.PteChanged p) {
    long pfn = p.pfn();
    Long holder = locks.holder(pfn);
    if (holder != null) {
      out.report(Invariant.I7, where(k, pfn, -1), "the DEVEXCL entry was restored while make_device_exclusive call "
          + hex(holder) + " still holds the folio lock (no FolioUnlockPut yet): conversion and restore overlap");
    }
    Trace.FolioChanged folio = folios.get(pfn);
    if (folio != null && !folio.locked()) {
      out.report(Invariant.I6, where(k, pfn, -1), "the DEVEXCL entry was restored without the folio lock");
    }
    checkCoveringInvalidation(k, pfn, "restored");
    if (profile == KernelProfile.V6_15 && p.write() && p.cause() != null && p.cause().contains("restore")
        && folio != null && folio.dirty() && !p.dirty()) {
      out.report(Invariant.I10, where(k, pfn, -1), "a writable PTE restored from DEVEXCL is clean although the folio"
          + " is dirty (the data could be dropped without writeback)");
    }
  }

  /**
   * DEVEXCL -> SWAP (reclaim, try_to_unmap_one) or MIGRATION (try_to_migrate_one): docs/PROTOCOL.md §3.8. Only
   * 6.15+ does it (I6: the 5.14 rmap walk stops at mapcount 0, so it never reaches the entry); the folio is locked
   * (I6), no make_device_exclusive caller still holds that lock (I7), and a covering invalidation was acked by every
   * subscription (I6), so no device keeps access to a page that leaves memory or moves.
   */
  private void checkUnmapOfEntry(PageKey k, Trace.PteChanged old, Trace.PteChanged p) {
    long pfn = old.pfn();
    String to = p.state() == PteState.SWAP ? "a swap entry" : "a migration entry";
    if (profile == KernelProfile.V5_14) {
      out.report(Invariant.I6, where(k, pfn, -1), "the DEVEXCL entry became " + to + " under 5.14, whose reclaim and"
          + " migration never reach it (the entry is not in the mapcount: folio_mapped() is false)");
    }
    Long holder = locks.holder(pfn);
    if (holder != null) {
      out.report(Invariant.I7, where(k, pfn, -1), "the DEVEXCL entry became " + to + " while make_device_exclusive"
          + " call " + hex(holder) + " still holds the folio lock");
    }
    Trace.FolioChanged folio = folios.get(pfn);
    if (folio != null && !folio.locked()) {
      out.report(Invariant.I6, where(k, pfn, -1), "the DEVEXCL entry became " + to + " without the folio lock");
    }
    checkCoveringInvalidation(k, pfn, "turned into " + to);
  }

  /** Whether the event being judged depends on a skipped event of {@code node} (set by the checker). */
  java.util.function.IntPredicate dependsOnLostEvent = node -> false;

  /** DEVEXCL restores whose missing acks were lost events of a lost node (see {@link #checkCoveringInvalidation}). */
  long restoresWithLostAcks;

  private boolean ackedByLostEvents(java.util.List<Long> unacked) {
    for (long sub : unacked) {
      if (!dependsOnLostEvent.test(hmmemu.protocol.msg.Ids.nodeOfDevice(hmmemu.protocol.msg.Ids.deviceOfSub(sub)))) {
        return false;
      }
    }
    return !unacked.isEmpty();
  }

  /** I6: a covering invalidation is in progress and was acked by every subscription it was sent to. */
  private void checkCoveringInvalidation(PageKey k, long pfn, String what) {
    if (notifiers.hasLiveSubscription(k.mmId())) {
      Invalidation best = null;
      for (Invalidation inv : notifiers.inFlight) {
        if (!inv.covers(k)) continue;
        if (inv.allAcked()) {
          best = inv;
          break;
        }
        if (best == null) best = inv;
      }
      if (best == null) {
        out.report(Invariant.I6, where(k, pfn, -1),
            "the DEVEXCL entry was " + what + " with no covering invalidation in progress");
      } else if (!best.allAcked() && ackedByLostEvents(best.unacked())) {
        // The acks missing here are events of a lost GPU node that never reached the checker, while the CPU node
        // received the acks themselves (this event depends on them): not judged, counted.
        restoresWithLostAcks++;
      } else if (!best.allAcked()) {
        out.report(Invariant.I6, where(k, pfn, -1), "the DEVEXCL entry was " + what + " before invalidation "
            + best.started().invId() + " was acked by subscription(s) " + hexList(best.unacked()));
      }
    }
  }

  /**
   * Entering DEVEXCL. I11: a private VMA (anonymous, or a file mapping whose page the write GUP turned into an
   * anonymous COW copy: mm/rmap.c make_device_exclusive() only refuses a folio that is not anon or is hugetlb),
   * anon-exclusive folio mapped by exactly this PTE. Also notes a dirty PTE whose dirtiness must reach the folio
   * (I10, judged with the counts at the end of the CPU step).
   */
  private void checkConversion(PageKey k, Trace.PteChanged old, Trace.PteChanged p) {
    VmaShadow.Vma vma = vmas.vmaAt(k.mmId(), k.va());
    if (vma == null) {
      out.report(Invariant.I11, where(k, p.pfn(), -1), "a DEVEXCL entry was written where no VMA maps the address");
    } else if (vma.kind() != VmaKind.ANON_PRIVATE && vma.kind() != VmaKind.FILE_PRIVATE) {
      out.report(Invariant.I11, where(k, p.pfn(), -1), "a DEVEXCL entry was written in a " + vma.kind()
          + " VMA; only anonymous folios of private mappings can be device-exclusive");
    }
    Trace.FolioChanged folio = folios.get(p.pfn());
    if (folio != null) {
      boolean mapcountOk = folio.mapcount() == 1 || (profile == KernelProfile.V5_14 && folio.mapcount() == 0);
      if (!folio.anonExclusive() || !mapcountOk || folio.freed()) {
        out.report(Invariant.I11, where(k, p.pfn(), -1), "a DEVEXCL entry was written for a folio that is not an"
            + " anon-exclusive page mapped once (anonExclusive=" + folio.anonExclusive() + ", mapcount="
            + folio.mapcount() + ", freed=" + folio.freed() + ")");
      }
    }
    if (old != null && old.state() == PteState.PRESENT && old.dirty() && old.pfn() == p.pfn()) {
      folios.noteDirtyPush(p.pfn());
    }
  }

  // ---------------------------------------------------------------- folios

  /**
   * FolioChanged: I7 (locked again while a make_device_exclusive caller holds it) and I8 (freed with references
   * or under a device entry) at once; the count checks wait for the end of the CPU burst ({@link #judgeCounts}).
   */
  void onFolioChanged(Trace.FolioChanged f) {
    long pfn = f.pfn();
    boolean wasLocked = folios.locked(pfn); // the latest FolioChanged's locked, without making the record
    Long holder = locks.holder(pfn);
    if (f.locked() && !wasLocked && holder != null) {
      out.report(Invariant.I7, "pfn=" + hex(pfn),
          "the folio was locked again while make_device_exclusive call " + hex(holder)
          + " still holds its lock (no FolioUnlockPut yet)");
    }
    folios.put(f);
    if (pfn == ZERO_PAGE_PFN) return;
    folios.noteCountsChanged(pfn);
    if (f.freed() && folios.markFreed(pfn)) {
      if (f.refcount() != 0) {
        out.report(Invariant.I8, "pfn=" + hex(pfn), "the folio was freed with refcount " + f.refcount());
      }
      Set<DeviceShadow.EntryKey> refs = devices.entriesOf(pfn);
      if (!refs.isEmpty()) {
        DeviceShadow.EntryKey r = refs.iterator().next();
        out.report(Invariant.I8, "pfn=" + hex(pfn), "the folio was freed while " + refs.size() + " device entr"
            + (refs.size() == 1 ? "y" : "ies") + " still reference it, e.g. dev" + r.deviceId() + " mm" + r.mmId()
            + " va=" + hex(new PageKey(r.mmId(), r.vpn()).va()) + " (a device could access freed memory)");
      }
    }
  }

  /**
   * The checks that compare a folio's counters with the PTEs mapping it: I8 (refcount covers mapcount and every
   * mapping PTE; a freed folio is mapped by none), I9 (mapcount = PRESENT (+ DEVEXCL on 6.15) PTEs) and I10
   * (the dirtiness of a converted PTE reached the folio). The CPU node reports a PTE change and the folio
   * accounting for it as separate events of one step, in an order that mirrors the kernel's, so these are judged
   * for every folio that changed once the CPU node's run of PteChanged/FolioChanged/VmaChanged events ends (at its
   * next other event, or {@link InvariantChecker#finish()}): a quiescent point where the change is complete. Events
   * of other nodes do not end the run, since where they fall between CPU events depends on arrival order.
   */
  void judgeCounts() {
    if (folios.nothingToJudge()) return;
    for (long pfn : folios.drainDirtyPushes()) {
      Trace.FolioChanged folio = folios.get(pfn);
      if (folio == null || !folio.dirty()) {
        out.report(Invariant.I10, "pfn=" + hex(pfn),
            "the PTE was dirty when converted to DEVEXCL but the folio is not dirty");
      }
    }
    for (long pfn : folios.drainCountsToJudge()) {
      Trace.FolioChanged f = folios.get(pfn);
      PteShadow.Mappers mapped = ptes.mappersOf(pfn);
      int present = mapped.present();
      int devexcl = mapped.devexcl();
      int devpriv = mapped.devpriv();
      if (f.freed()) {
        if (mapped.pages() > 0) {
          PageKey k = ptes.firstMapper(pfn);
          out.report(Invariant.I8, "pfn=" + hex(pfn),
              "the folio was freed while " + mapped.pages() + " PTE(s) still map it,"
              + " e.g. mm" + k.mmId() + " va=" + hex(k.va()) + " " + describePte(ptes.get(k)));
        }
        continue;
      }
      if (f.refcount() < f.mapcount()) {
        out.report(Invariant.I8, "pfn=" + hex(pfn), "refcount " + f.refcount() + " is below mapcount " + f.mapcount());
      } else if (f.refcount() < present + devexcl + devpriv) {
        out.report(Invariant.I8, "pfn=" + hex(pfn),
            "refcount " + f.refcount() + " is below the " + (present + devexcl + devpriv)
            + " PTEs (PRESENT+DEVEXCL+DEVICE_PRIVATE) that map the folio, each of which holds a reference");
      }
      int expected = (profile == KernelProfile.V6_15 ? present + devexcl : present) + devpriv;
      if (f.mapcount() != expected) {
        out.report(Invariant.I9, "pfn=" + hex(pfn),
            "mapcount " + f.mapcount() + " but " + present + " PRESENT, " + devexcl
            + " DEVEXCL and " + devpriv + " DEVICE_PRIVATE PTE(s) map the folio (" + profile + " expects " + expected
            + ")");
      }
    }
  }

  /**
   * I13 at a PTE change: a PRESENT (or DEVEXCL, MIGRATION-free) PTE never maps device memory, and a DEVICE_PRIVATE
   * entry names nothing else (make_device_private_entry of a ZONE_DEVICE page, mm/migrate_device.c).
   */
  private void checkDevicePrivate(PageKey k, Trace.PteChanged p) {
    boolean devicePfn = DevicePrivate.isDevicePrivate(p.pfn());
    if ((p.state() == PteState.PRESENT || p.state() == PteState.DEVEXCL) && devicePfn) {
      out.report(Invariant.I13, where(k, p.pfn(), -1), "a " + p.state() + " PTE maps device-private pfn "
          + hex(p.pfn()) + ": CPU accesses would be served from device memory");
    } else if (p.state() == PteState.DEVICE_PRIVATE && !devicePfn) {
      out.report(Invariant.I13, where(k, p.pfn(), -1), "a DEVICE_PRIVATE entry names pfn " + hex(p.pfn())
          + ", which is not device memory");
    }
  }

  /**
   * I1: a CPU thread never reaches a pfn while a DEVEXCL entry maps it (it must fault and restore first). I13: nor a
   * device-private pfn (it must fault and migrate it to system memory first: do_swap_page -> migrate_to_ram).
   */
  void checkCpuAccess(Trace.HostMemoryAccessed h) {
    if (h.threadId() < 0 || h.pfn() == ZERO_PAGE_PFN) return;
    if (DevicePrivate.isDevicePrivate(h.pfn())) {
      out.report(Invariant.I13, "pfn=" + hex(h.pfn()), "CPU thread " + h.threadId() + " " + h.access()
          + " was served from device-private pfn " + hex(h.pfn()));
      return;
    }
    if (ptes.mappersOf(h.pfn()).devexcl() == 0) return;
    PageKey k = ptes.firstMapperIn(h.pfn(), PteState.DEVEXCL);
    if (k != null) {
      out.report(Invariant.I1, where(k, h.pfn(), -1), "CPU thread " + h.threadId() + " " + h.access()
          + " reached pfn " + hex(h.pfn()) + " while its PTE is DEVEXCL");
    }
  }
}
