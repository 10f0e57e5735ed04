package hmmemu.checker;

import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One mmu_notifier_range between InvalidateStarted and InvalidateEnded (mm/mmu_notifier.c
 * __mmu_notifier_invalidate_range_start), with the acks received so far. Targets are indexed by the device owning
 * them, so "has this device acked all of its callbacks" costs the device's unacked targets, not all subscriptions.
 */
final class Invalidation {
  final Trace.InvalidateStarted started;
  /** Subscriptions the CPU node called (or will call) for this range, in the order learnt. */
  final Set<Long> targets = new LinkedHashSet<>();
  /** Subscriptions whose callback returned (ok=true), including those the owner filter skipped. */
  final Set<Long> acked = new HashSet<>();
  /** Devices that acked every callback of theirs (I3 judged, access revoked). */
  final Set<Integer> completedDevices = new HashSet<>();
  boolean ended;

  /** device (-1 unknown) -> targets of it that neither acked nor were removed. */
  private final Map<Integer, Set<Long>> waiting = new HashMap<>();
  private int waitingTotal;
  /** device -> targets of it that acked. */
  private final Map<Integer, Integer> ackedOfDevice = new HashMap<>();
  /** device -> one subscription of it whose callback took effect (ok, not ignored). */
  private final Map<Integer, Long> appliedOfDevice = new HashMap<>();
  /** target -> the device it was indexed under. */
  private final Map<Long, Integer> deviceOfTarget = new HashMap<>();
  /** device -> how many targets it owns. */
  private final Map<Integer, Integer> targetsOfDevice = new HashMap<>();

  Invalidation(Trace.InvalidateStarted started) { this.started = started; }

  boolean covers(PageKey k) {
    return started.mmId() == k.mmId() && k.in(started.start(), started.end());
  }

  /** Adds a target of {@code device} (-1 unknown); {@code removed}: the subscription is already removed. */
  void addTarget(long sub, int device, boolean removed) {
    if (!targets.add(sub)) return;
    deviceOfTarget.put(sub, device);
    targetsOfDevice.merge(device, 1, Integer::sum);
    if (acked.contains(sub)) ackedOfDevice.merge(device, 1, Integer::sum);
    else if (!removed) wait(device, sub);
  }

  /** The callback on sub returned ok. */
  void ack(long sub) {
    if (!acked.add(sub)) return;
    Integer device = deviceOfTarget.get(sub);
    if (device == null) return;
    ackedOfDevice.merge(device, 1, Integer::sum);
    unwait(device, sub);
  }

  /** The callback on sub took effect (ok, not skipped by the owner filter). */
  void applied(long sub, int device) { appliedOfDevice.putIfAbsent(deviceOfTarget.getOrDefault(sub, device), sub); }

  /** A subscription of the device whose callback took effect, or null. */
  Long appliedBy(int device) { return appliedOfDevice.get(device); }

  /** The subscription was removed (its ack is no longer awaited) or registered again. */
  void subscriptionRemoved(long sub, boolean removed) {
    Integer device = deviceOfTarget.get(sub);
    if (device == null || acked.contains(sub)) return;
    if (removed) unwait(device, sub);
    else wait(device, sub);
  }

  /** The device of a target became known or changed: re-index it. */
  void rehome(long sub, int device, boolean removed) {
    Integer old = deviceOfTarget.get(sub);
    if (old == null || old == device) return;
    if (acked.contains(sub)) {
      ackedOfDevice.merge(old, -1, Integer::sum);
      ackedOfDevice.merge(device, 1, Integer::sum);
    } else {
      unwait(old, sub);
      if (!removed) wait(device, sub);
    }
    deviceOfTarget.put(sub, device);
    targetsOfDevice.merge(old, -1, Integer::sum);
    targetsOfDevice.merge(device, 1, Integer::sum);
  }

  /** True when a subscription of the device is among the targets. */
  boolean targets(int device) { return targetsOfDevice.getOrDefault(device, 0) > 0; }

  /** True when the device acked every callback of this invalidation addressed to a live subscription of it. */
  boolean deviceAckedAll(int device) {
    return ackedOfDevice.getOrDefault(device, 0) > 0 && !waiting.containsKey(device);
  }

  /** True when every live subscription addressed acked. */
  boolean allAcked() { return waitingTotal == 0; }

  /** Live subscriptions addressed that have not acked yet, in target order (for reports). */
  List<Long> unacked() {
    List<Long> missing = new ArrayList<>();
    for (Long sub : targets) {
      Set<Long> w = waiting.get(deviceOfTarget.get(sub));
      if (w != null && w.contains(sub)) missing.add(sub);
    }
    return missing;
  }

  private void wait(int device, long sub) {
    if (waiting.computeIfAbsent(device, x -> new HashSet<>(2)).add(sub)) waitingTotal++;
  }

  private void unwait(int device, long sub) {
    Set<Long> w = waiting.get(device);
    if (w != null && w.remove(sub)) {
      waitingTotal--;
      if (w.isEmpty()) waiting.remove(device);
    }
  }
}
