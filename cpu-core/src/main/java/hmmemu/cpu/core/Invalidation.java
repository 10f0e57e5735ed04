package hmmemu.cpu.core;

import hmmemu.protocol.model.NotifyEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Models one struct mmu_notifier_range between mmu_notifier_invalidate_range_start() and _end(): the callbacks
 * sent and the acks still missing.
 *
 * <p>State: INTERVAL (waiting for interval acks) -> CLASSIC (waiting for classic acks) -> ACKED (the caller
 * changes PTEs) -> ENDED; or INTERVAL/CLASSIC -> ENDED (abandoned: a non-blockable callback failed).
 */
final class Invalidation {
  enum Phase { INTERVAL, CLASSIC, ACKED, ENDED }

  final long invId;
  final Mm mm;
  final long start;
  final long end;
  final NotifyEvent event;
  final long owner;
  final boolean blockable;
  final long curSeq;
  /** The interval subscriptions hit, then the classic ones (presized by the caller to the hits it counted). */
  final List<Subscription> interval;
  final List<Subscription> classic;
  /** The subIds whose callback has not returned yet. */
  final PendingAcks pendingAcks = new PendingAcks();
  Phase phase = Phase.INTERVAL;
  /** Non-blockable ranges: index in {@link #interval} of the next callback to call (they are called one by one). */
  int nextInterval;
  boolean failed;
  final Consumer<Invalidation> onAcked;
  final Consumer<Invalidation> onAbandoned;

  Invalidation(long invId, Mm mm, long start, long end, NotifyEvent event, long owner, boolean blockable,
      long curSeq, Consumer<Invalidation> onAcked, Consumer<Invalidation> onAbandoned, int intervalHits,
      int classicHits) {
    this.invId = invId;
    this.interval = new ArrayList<>(intervalHits);
    this.classic = new ArrayList<>(classicHits);
    this.mm = mm;
    this.start = start;
    this.end = end;
    this.event = event;
    this.owner = owner;
    this.blockable = blockable;
    this.curSeq = curSeq;
    this.onAcked = onAcked;
    this.onAbandoned = onAbandoned;
  }

  /**
   * A set of subIds without boxing (one invalidation calls a handful of subscriptions): a struct
   * mmu_notifier_range's callbacks still owed. Order is not kept; only membership is asked.
   */
  static final class PendingAcks {
    private long[] ids = new long[2];
    private int size;

    /** Adds {@code subId}; false when it was pending already. */
    boolean add(long subId) {
      if (contains(subId)) return false;
      if (size == ids.length) ids = Arrays.copyOf(ids, size * 2);
      ids[size++] = subId;
      return true;
    }

    /** Removes {@code subId}; false when it was not pending. */
    boolean remove(long subId) {
      for (int i = 0; i < size; i++) {
        if (ids[i] == subId) {
          ids[i] = ids[--size];
          return true;
        }
      }
      return false;
    }

    boolean contains(long subId) {
      for (int i = 0; i < size; i++) if (ids[i] == subId) return true;
      return false;
    }

    boolean isEmpty() { return size == 0; }

    int size() { return size; }
  }
}
