package hmmemu.checker;

import static hmmemu.checker.Reporter.describePte;
import static hmmemu.checker.Reporter.hex;
import static hmmemu.checker.Reporter.where;

import hmmemu.protocol.model.DevicePrivate;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Trace;

/**
 * The rules triggered by device page-table events and device memory accesses: I1 and I2 (an entry against the CPU
 * PTE), I4 (stale seq), I5 (install during an invalidation the device acked), I8 (freed memory) and I10 (access
 * without a live entry).
 */
final class DeviceRules {
  private final Reporter out;
  private final PteShadow ptes;
  private final VmaShadow vmas;
  private final FolioShadow folios;
  private final NotifierShadow notifiers;
  private final DeviceShadow devices;

  DeviceRules(Reporter out, PteShadow ptes, VmaShadow vmas, FolioShadow folios, NotifierShadow notifiers,
      DeviceShadow devices) {
    this.out = out;
    this.ptes = ptes;
    this.vmas = vmas;
    this.folios = folios;
    this.notifiers = notifiers;
    this.devices = devices;
  }

  /**
   * DeviceEntryInstalled: I8 (freed pfn), I5 (an invalidation this device already acked is still running),
   * I4 (the critical section's seq was invalidated), then I1/I2 against the CPU PTE.
   */
  void onDeviceEntryInstalled(Trace.DeviceEntryInstalled i) {
    PageKey k = PageKey.of(i.mmId(), i.va());
    int device = i.deviceId();
    if (folios.freed(i.pfn())) {
      out.report(Invariant.I8, where(k, i.pfn(), device), "a device entry was installed for pfn " + hex(i.pfn())
          + ", which was already freed");
    }
    for (Invalidation inv : notifiers.inFlight) {
      if (!inv.covers(k)) continue;
      Long sub = inv.appliedBy(device);
      if (sub != null) {
        out.report(Invariant.I5, where(k, i.pfn(), device), "dev" + device + " installed an entry while invalidation "
            + inv.started().invId() + " (" + inv.started().event() + "), whose callback on subscription " + hex(sub)
            + " it already acked, is still in progress");
      }
    }
    if (i.seq() >= 0) checkInstallSeq(k, i);
    devices.install(k, i);
    checkEntryAgainstCpu(k, i);
  }

  /**
   * I4 for an install made under a seq check. A callback that takes effect always stores a fresh odd seq in the
   * subscription, so the subscription's seq at the install is known when the last read_retry reported it and
   * no callback ran since; an install whose seq differs from it (or matches a seq a later callback replaced) is
   * stale. Installs made before any read_retry are judged at the next read_retry.
   */
  private void checkInstallSeq(PageKey k, Trace.DeviceEntryInstalled i) {
    NotifierShadow.SubSeq ss = notifiers.seqOf(i.subId());
    if (ss.lastCheckedSubSeq != null) {
      long checked = ss.lastCheckedSubSeq;
      if (ss.callbacksSinceCheck == 0 && checked != i.seq()) {
        out.report(Invariant.I4, where(k, i.pfn(), i.deviceId()), "installed with seq " + i.seq() + " but subscription "
            + hex(i.subId()) + " holds seq " + checked + " (read_retry must have forced a retry)");
      } else if (ss.callbacksSinceCheck > 0 && checked == i.seq()) {
        out.report(Invariant.I4, where(k, i.pfn(), i.deviceId()), "installed with seq " + i.seq() + " although "
            + ss.callbacksSinceCheck + " invalidation callback(s) hit subscription " + hex(i.subId())
            + " after read_retry saw that seq");
      }
    }
    ss.noteInstallSeq(i.seq(), 64);
  }

  /** I4 for installs made before this read_retry with no callback in between: their seq must be the sub's. */
  void onReadRetryChecked(Trace.ReadRetryChecked r) {
    NotifierShadow.SubSeq ss = notifiers.seqOf(r.subId());
    for (int n = 0; n < ss.unjudgedCount(); n++) {
      long seq = ss.unjudged(n);
      if (seq != r.subSeq()) {
        out.report(Invariant.I4, "sub " + hex(r.subId()) + " dev" + r.deviceId(), "an entry was installed with seq "
            + seq + " while subscription " + hex(r.subId()) + " already held seq " + r.subSeq()
            + " (mapped before read_retry, which then failed)");
        break;
      }
    }
    ss.clearUnjudged();
    ss.lastCheckedSubSeq = r.subSeq();
    ss.callbacksSinceCheck = 0;
  }

  /**
   * I1 (an atomic entry needs the PTE DEVEXCL with its pfn and no other device's atomic entry on that pfn) and
   * I2 (the entry's pfn is the PTE's, a W entry needs a writable PTE or DEVEXCL in a VM_WRITE VMA), the latter
   * exempt while an invalidation covering the page waits for this device's acks.
   */
  void checkEntryAgainstCpu(PageKey k, Trace.DeviceEntryInstalled entry) {
    int device = entry.deviceId();
    if (dependsOnLostEvent.test(hmmemu.protocol.msg.Ids.nodeOfDevice(device))) {
      // The CPU event being judged depends on events of the device's lost node that never reached the checker (its
      // zap, say): the entry the checker still holds may be gone. Not judged, counted.
      entriesOfLostNodesNotJudged++;
      return;
    }
    Trace.PteChanged pte = ptes.get(k);
    PteState state = pte == null ? PteState.NONE : pte.state();
    long ptePfn = pte == null ? 0 : pte.pfn();
    if (entry.atomic()) {
      if (state != PteState.DEVEXCL || ptePfn != entry.pfn()) {
        out.report(Invariant.I1, where(k, entry.pfn(), device),
            "dev" + device + " holds an atomic entry to pfn " + hex(entry.pfn())
            + " but the CPU PTE is " + describePte(pte));
      }
      for (DeviceShadow.EntryKey r : devices.entriesOf(entry.pfn())) {
        if (r.deviceId() == device) continue;
        Trace.DeviceEntryInstalled other = devices.entryAt(r.deviceId(), new PageKey(r.mmId(), r.vpn()));
        if (other != null && other.atomic()) {
          out.report(Invariant.I1, where(k, entry.pfn(), device), "dev" + device + " and dev" + r.deviceId()
              + " both hold an atomic entry to pfn " + hex(entry.pfn()));
          break;
        }
      }
    }
    if (inTransientWindow(device, k)) return;
    // A migration entry still names its page (the driver whose own MIGRATE it skipped replaces the entry before
    // migrate_vma_finalize: dmirror_migrate_finalize_and_map); a DEVICE_PRIVATE entry names the device page.
    boolean namesPfn = state == PteState.PRESENT || state == PteState.DEVEXCL || state == PteState.MIGRATION
        || state == PteState.DEVICE_PRIVATE;
    // Between dmirror_migrate_finalize_and_map and migrate_vma_finalize the driver already maps the destination, a
    // page of its own device memory, while the PTE is still the migration entry of the source [derived].
    boolean ownDestination = state == PteState.MIGRATION && DevicePrivate.isDevicePrivate(entry.pfn())
        && DevicePrivate.deviceOf(entry.pfn()) == device;
    if (ownDestination) return;
    if (!namesPfn || ptePfn != entry.pfn()) {
      out.report(Invariant.I2, where(k, entry.pfn(), device),
          "dev" + device + " maps pfn " + hex(entry.pfn()) + " but the CPU PTE is "
          + describePte(pte));
      return;
    }
    if (entry.write()) {
      if ((state == PteState.PRESENT || state == PteState.MIGRATION || state == PteState.DEVICE_PRIVATE)
          && !pte.write()) {
        out.report(Invariant.I2, where(k, entry.pfn(), device),
            "dev" + device + " holds a writable entry but the CPU PTE is read-only");
      } else if (state == PteState.DEVEXCL && !vmas.writable(k) && !vmas.writeDowngradePending(k)) {
        out.report(Invariant.I2, where(k, entry.pfn(), device), "dev" + device
            + " holds a writable entry to a DEVEXCL page whose VMA lacks PROT_WRITE");
      }
    }
  }

  /** An invalidation covering the page has started and this device has not acked all its callbacks yet. */
  private boolean inTransientWindow(int device, PageKey k) {
    for (Invalidation inv : notifiers.inFlight) {
      if (inv.covers(k) && inv.targets(device) && !inv.completed(device)) return true;
    }
    return false;
  }

  /** Whether the event being judged depends on a skipped event of {@code node} (set by the checker). */
  java.util.function.IntPredicate dependsOnLostEvent = node -> false;

  /** Device entries not checked against a CPU PTE because the CPU event depended on lost events of their node. */
  long entriesOfLostNodesNotJudged;

  /** A device of a lost node reached host memory: only I8 (never freed memory), its grants are unknown. */
  void onDeviceAccessOfLostNode(Trace.HostMemoryAccessed h) {
    if (folios.freed(h.pfn())) {
      out.report(Invariant.I8, "pfn=" + hex(h.pfn()) + " dev" + h.deviceId(), "dev" + h.deviceId() + " "
          + h.access() + " reached pfn " + hex(h.pfn()) + " after it was freed");
    }
  }

  /** I10: a device reaches host memory only through an entry it was not told to drop; I8: never freed memory. */
  void onDeviceAccess(Trace.HostMemoryAccessed h) {
    long pfn = h.pfn();
    if (folios.freed(pfn)) {
      out.report(Invariant.I8, "pfn=" + hex(pfn) + " dev" + h.deviceId(),
          "dev" + h.deviceId() + " " + h.access() + " reached pfn " + hex(pfn)
          + " after it was freed");
    }
    if (DevicePrivate.isDevicePrivate(pfn)) {
      out.report(Invariant.I13, "pfn=" + hex(pfn) + " dev" + h.deviceId(),
          "dev" + h.deviceId() + " " + h.access() + " reached device-private pfn "
          + hex(pfn) + " as host memory (device memory is not host memory)");
      return;
    }
    int need = h.access() == Access.READ
        ? (DeviceShadow.PERM_READ | DeviceShadow.PERM_WRITE | DeviceShadow.PERM_ATOMIC)
        : h.access() == Access.WRITE ? (DeviceShadow.PERM_WRITE | DeviceShadow.PERM_ATOMIC) : DeviceShadow.PERM_ATOMIC;
    int have = devices.grantOf(h.deviceId(), pfn);
    if ((have & need) == 0) {
      out.report(Invariant.I10, "pfn=" + hex(pfn) + " dev" + h.deviceId(), have == 0
          ? "dev" + h.deviceId() + " " + h.access() + " reached pfn " + hex(pfn)
              + " without an entry (none installed, or it acked an invalidation of the page since)"
          : "dev" + h.deviceId() + " " + h.access() + " reached pfn " + hex(pfn) + " through an entry lacking "
              + (h.access() == Access.WRITE ? "W/A" : "A") + " permission");
    }
  }
}
