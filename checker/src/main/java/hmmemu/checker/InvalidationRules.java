package hmmemu.checker;

import static hmmemu.checker.Reporter.hex;
import static hmmemu.checker.Reporter.where;

import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.List;

/**
 * The rules of the notifier protocol: subscriptions, invalidation ranges and their acks. I3 (a device that acked
 * all of its callbacks holds nothing in the range) and I12 (only EXCLUSIVE/MIGRATE with the device's own owner
 * cookie may be skipped); the end of a device's access to a range once it acked (judged by I10).
 */
final class InvalidationRules {
  private final Reporter out;
  private final VmaShadow vmas;
  private final NotifierShadow notifiers;
  private final DeviceShadow devices;

  InvalidationRules(Reporter out, VmaShadow vmas, NotifierShadow notifiers, DeviceShadow devices) {
    this.out = out;
    this.vmas = vmas;
    this.notifiers = notifiers;
    this.devices = devices;
  }

  /** InvalidateStarted (mmu_notifier_invalidate_range_start): the range and the subscriptions it calls. */
  void onInvalidateStarted(Trace.InvalidateStarted s) {
    Invalidation inv = notifiers.inFlight.get(s.invId());
    if (inv == null) {
      inv = new Invalidation(s);
      notifiers.inFlight.put(s.invId(), inv);
      // Classic notifiers see every invalidation of their mm (called after the interval ones); expect them
      // even if the CPU node lists them in a later InvalidateStarted of the same invId.
      for (Trace.NotifierRegistered sub : notifiers.classicOf(s.mmId())) {
        if (sub.start() < s.end() && s.start() < sub.end()) notifiers.addTarget(inv, sub.subId());
      }
    }
    if (s.subIds() != null) {
      for (Long sub : s.subIds()) notifiers.addTarget(inv, sub);
    }
    // earlyAcks is empty under causal delivery: no boxed key per InvalidateStarted then
    List<Trace.InvalidateAcked> early = notifiers.earlyAcks.isEmpty() ? null : notifiers.earlyAcks.remove(s.invId());
    if (early != null) {
      for (Trace.InvalidateAcked a : early) onInvalidateAcked(a);
    }
  }

  /** InvalidateEnded (mmu_notifier_invalidate_range_end): an applied one completes the write downgrades it covers. */
  void onInvalidateEnded(Trace.InvalidateEnded e) {
    Invalidation inv = notifiers.end(e.invId());
    if (inv == null) return;
    if (e.applied()) vmas.invalidated(inv.started().mmId(), inv.started().start(), inv.started().end());
  }

  /**
   * InvalidateAcked: I12 for an ignored callback; records the ack; once the device acked all of its callbacks
   * of the invalidation, I3 (it holds nothing in the range) and its access to the range ends.
   */
  void onInvalidateAcked(Trace.InvalidateAcked a) {
    // an ended one a world copy froze (shares): the shadow puts an unfrozen copy in its place
    Invalidation inv = notifiers.findToChange(a.invId());
    if (inv == null) {
      notifiers.earlyAcks.computeIfAbsent(a.invId(), x -> new ArrayList<>()).add(a);
      return;
    }
    notifiers.learnDevice(a.subId(), a.deviceId(), false);
    notifiers.addTarget(inv, a.subId());
    Trace.InvalidateStarted s = inv.started();
    if (a.ignored() && !ownerFilterApplies(s, a.deviceId())) {
      out.report(Invariant.I12, "mm" + s.mmId() + " [" + hex(s.start()) + "," + hex(s.end()) + ") dev" + a.deviceId(),
          "subscription " + hex(a.subId()) + " ignored invalidation " + s.invId() + " (" + s.event() + ", owner "
              + hex(s.owner()) + ") but the device's owner cookie is "
              + hex(ownerOf(a.deviceId()))
              + ": only EXCLUSIVE/MIGRATE with the device's own cookie may be skipped");
    }
    if (!a.ok()) return; // non-blockable callback that could not take its lock: nothing was promised
    inv.ack(a.subId());
    if (!a.ignored()) {
      inv.applied(a.subId(), a.deviceId());
      NotifierShadow.SubSeq ss = notifiers.seqOf(a.subId());
      ss.callbacksSinceCheck++;
      ss.clearUnjudged();
    }
    int device = a.deviceId();
    if (!inv.ended() && !inv.completed(device) && inv.deviceAckedAll(device)) {
      inv.complete(device);
      onDeviceAckedAll(inv, device);
    }
  }

  /** I3 and the end of the device's access to the range, once it acked every callback of the invalidation. */
  private void onDeviceAckedAll(Invalidation inv, int device) {
    Trace.InvalidateStarted s = inv.started();
    boolean mayKeep = ownerFilterApplies(s, device);
    if (!mayKeep && devices.anyEntryIn(device, s.mmId(), s.start(), s.end())) {
      List<Trace.DeviceEntryInstalled> held = devices.entriesIn(device, s.mmId(), s.start(), s.end());
      if (!held.isEmpty()) {
        Trace.DeviceEntryInstalled first = held.get(0);
        out.report(Invariant.I3, where(PageKey.of(first.mmId(), first.va()), first.pfn(), device), "dev" + device
            + " acked all its callbacks of invalidation " + s.invId() + " (" + s.event() + " [" + hex(s.start()) + ","
            + hex(s.end()) + ")) while still holding " + held.size() + " entr" + (held.size() == 1 ? "y" : "ies")
            + " in the range");
      }
    }
    devices.revoke(device, s.mmId(), s.start(), s.end(), k -> mayKeep && devices.entryAt(device, k) != null);
  }

  /** The device's owner cookie (DriverBound), 0 (NULL) before one was bound. */
  private long ownerOf(int device) {
    Long cookie = notifiers.ownerOfDevice.get(device);
    return cookie == null ? 0L : cookie;
  }

  /** EXCLUSIVE or MIGRATE carrying the device's own (non-NULL) owner cookie: the device may skip it. */
  private boolean ownerFilterApplies(Trace.InvalidateStarted s, int device) {
    if (s.event() != NotifyEvent.EXCLUSIVE && s.event() != NotifyEvent.MIGRATE) return false;
    Long cookie = notifiers.ownerOfDevice.get(device);
    if (s.owner() != 0 && cookie != null && cookie == s.owner()) return true;
    // dmirror filters MIGRATE on its pgmap owner (dmirror->mdevice), not on the NULL it passes as EXCLUSIVE owner.
    return s.event() == NotifyEvent.MIGRATE && cookie != null && s.owner() == hmmemu.protocol.msg.Ids.dmirrorPgmapOwner(device);
  }
}
