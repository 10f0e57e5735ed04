package hmmemu.cpu.core;

import hmmemu.protocol.model.NotifierKind;

/**
 * Models one notifier subscription as the CPU node knows it: a struct mmu_interval_notifier (INTERVAL) or a
 * struct mmu_notifier (CLASSIC) whose callbacks run on a driver.
 */
final class Subscription {
  final long subId;
  final int deviceId;
  final int mmId;
  final NotifierKind kind;
  final long start;
  final long end;
  /**
   * INTERVAL only: the seq the driver's mirror holds (initial odd seq, then the curSeq of the last
   * InvalidateStart sent to it): what mmu_interval_check_retry() compares against.
   */
  long seq;
  boolean live;

  Subscription(long subId, int deviceId, int mmId, NotifierKind kind, long start, long end) {
    this.subId = subId;
    this.deviceId = deviceId;
    this.mmId = mmId;
    this.kind = kind;
    this.start = start;
    this.end = end;
  }

  boolean overlaps(long s, long e) { return start < e && s < end; }
}
