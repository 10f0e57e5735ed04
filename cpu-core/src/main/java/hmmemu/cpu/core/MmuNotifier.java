package hmmemu.cpu.core;

import hmmemu.protocol.model.LinkedLongTable;
import hmmemu.protocol.model.Mutant;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.InvalidateAck;
import hmmemu.protocol.msg.HmmProtocol.NotifierInsert;
import hmmemu.protocol.msg.HmmProtocol.NotifierRemove;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Models mm/mmu_notifier.c: the interval tree of subscriptions (mmu_interval_notifier_insert/remove,
 * mmu_notifier_register), invalidate_seq with active_invalidate_ranges and the deferred list,
 * mmu_notifier_invalidate_range_start()/_end() and mmu_interval_check_retry().
 */
final class MmuNotifier {
  private final Kernel k;
  /** Live subscriptions by subId (deferred inserts are in their mm's deferredInserts until answered). */
  final LinkedLongTable<Subscription> subscriptions = new LinkedLongTable<>();
  /** Invalidations between start and end, by invId (in start order: removeSubscriptionNow queues advances so). */
  final LinkedLongTable<Invalidation> invalidations = new LinkedLongTable<>();
  /** subIds ever inserted since the reset: a late duplicate NotifierInsert must not resurrect a removed one. */
  final Set<Long> insertedSubIds = new HashSet<>();
  private long nextInvId = 1;
  long blockableAckFailures;
  long duplicateInserts;

  MmuNotifier(Kernel k) { this.k = k; }

  /**
   * Models mmu_interval_notifier_insert() (__mmu_interval_notifier_insert) / mmu_notifier_register(): never blocks,
   * the caller is answered at once with the subscription's starting seq. With no active range it enters the tree with
   * seq = invalidate_seq - 1 (odd, never equal to an idle seq). With active ranges it must be assumed hit: during an
   * invalidation (odd seq) it goes on the deferred list and enters the tree at mn_itree_inv_end(); with active
   * ranges that hit no interval subscription (even seq) the seq is made odd and it enters the tree at once; either
   * way its seq is the current odd invalidate_seq, so the caller's mmu_interval_read_begin() sleeps until the period
   * ends (the InvalidateEnd it then receives). The wait is the driver's, not the insert's.
   */
  void onNotifierInsert(NotifierInsert m) {
    if (!insertedSubIds.add(m.subId())) { // a duplicated or late message: the subscription exists or existed
      duplicateInserts++;
      return;
    }
    Mm mm = k.mmFor(m.mmId());
    Subscription s = new Subscription(m.subId(), m.deviceId(), m.mmId(), m.kind(), m.start(), m.end());
    if (s.kind == NotifierKind.INTERVAL && mm.active > 0) {
      if ((mm.seq & 1) != 0) {
        mm.deferredInserts.add(s); // hlist_add_head(&interval_sub->deferred_item, &subscriptions->deferred_list)
      } else {
        mm.seq |= 1;
        insertIntoTree(s);
      }
      s.seq = mm.seq;
      mm.hitThisPeriod.add(s); // told when the period ends (InvalidateEnd), like every subscription it may have hit
    } else {
      // mmu_notifier_register() takes mm_take_all_locks() and does not look at the seq; an idle interval tree.
      s.seq = mm.seq - 1;
      insertIntoTree(s);
    }
    // mmSeq: the mm's seq at the insert; seq == mmSeq and odd tells the driver that its read_begin must sleep until
    // the running period ends (mmu_interval_read_begin's wait_event).
    k.send(Outbound.toDevice(s.deviceId, new HmmProtocol.NotifierInserted(s.subId, s.seq, mm.seq)));
  }

  /**
   * Introspection of the subscriptions a device holds on an mm: each one's invalidate_seq, whether it is in the tree
   * and whether it sits on the deferred_list, with the mm's invalidate_seq and active_invalidate_ranges.
   */
  HmmProtocol.NotifierInfo inspect(HmmProtocol.InspectNotifier m) {
    Mm mm = k.mms.get(m.mmId());
    List<HmmProtocol.NotifierState> out = new ArrayList<>();
    java.util.Map<Long, Subscription> subs = new java.util.TreeMap<>();
    for (Subscription s : subscriptions) subs.put(s.subId, s);
    if (mm != null) for (Subscription s : mm.deferredInserts) subs.put(s.subId, s);
    for (Subscription s : subs.values()) {
      if (s.deviceId != m.deviceId() || s.mmId != m.mmId()) continue;
      boolean defInsert = mm != null && mm.deferredInserts.contains(s);
      boolean defRemove = mm != null && mm.deferredRemoves.contains(s);
      out.add(new HmmProtocol.NotifierState(s.subId, s.kind, s.start, s.end, s.seq, s.live, defInsert, defRemove));
    }
    return new HmmProtocol.NotifierInfo(m.reqId(), mm == null ? 0 : mm.seq, mm == null ? 0 : mm.active,
        List.copyOf(out));
  }

  /** interval_tree_insert() (or hlist_add_head for a classic subscription): callbacks reach it from now on. */
  private void insertIntoTree(Subscription s) {
    s.live = true;
    subscriptions.put(s.subId, s);
    k.emit(new Trace.NotifierRegistered(s.subId, s.deviceId, s.mmId, s.kind, s.start, s.end, false));
  }

  /**
   * Models mmu_interval_notifier_remove() (mm/mmu_notifier.c): while mn_itree_is_invalidating() (the mm's seq is
   * odd) the subscription goes on the deferred list, stays in the tree, and the caller sleeps until the period
   * ends; otherwise it leaves the tree at once. Either way the caller is answered with NotifierRemoved.
   */
  void onNotifierRemove(NotifierRemove m) {
    Subscription s = subscriptions.get(m.subId());
    if (s == null) {
      // Never inserted, already removed (a duplicate from the link), or still a deferred insert.
      for (Mm mm : k.mms.values()) mm.deferredInserts.removeIf(d -> d.subId == m.subId());
      answerRemove(m.subId());
      return;
    }
    Mm mm = k.mms.get(s.mmId);
    if (mm != null && (mm.seq & 1) != 0 && s.kind == NotifierKind.INTERVAL && !k.mutant(Mutant.REMOVE_NOT_DEFERRED)) {
      if (!mm.deferredRemoves.contains(s)) mm.deferredRemoves.add(s);
      return;
    }
    removeSubscriptionNow(s);
    answerRemove(s.subId);
  }

  /** mmu_interval_notifier_remove() returns to its caller (the device is in the subId's high half). */
  void answerRemove(long subId) {
    k.send(Outbound.toDevice(hmmemu.protocol.msg.Ids.deviceOfSub(subId), new HmmProtocol.NotifierRemoved(subId)));
  }

  /** Takes a subscription out of the tree; a callback it still owed counts as returned (node loss, unregister). */
  void removeSubscriptionNow(Subscription s) {
    if (subscriptions.remove(s.subId) == null) return;
    s.live = false;
    Mm mm = k.mms.get(s.mmId);
    if (mm != null) mm.hitThisPeriod.remove(s);
    k.emit(new Trace.NotifierRegistered(s.subId, s.deviceId, s.mmId, s.kind, s.start, s.end, true));
    // A callback the removed subscription still owes counts as acked.
    for (Invalidation inv : invalidations.valuesCopy()) {
      if (inv.pendingAcks.remove(s.subId) && inv.pendingAcks.isEmpty()) k.runQueue.add(() -> advance(inv));
    }
  }

  /**
   * Models mmu_notifier_invalidate_range_start(): mn_itree_inv_start_range() + the interval callbacks, then
   * the classic invalidate_range_start callbacks. {@code onAcked} runs when every callback returned true (the
   * caller changes PTEs and must call {@link #endInvalidation}); {@code onAbandoned} runs (non-blockable only)
   * after a callback failed and __mmu_notifier_invalidate_range_start() returned -EAGAIN (the OOM reaper's path;
   * the caller must not call invalidate_range_end).
   *
   * <p>Blockable ranges: the interval callbacks are sent together (each one's result does not change what happens
   * to the others: mn_itree_invalidate() WARNs and continues). Non-blockable ranges: mn_itree_invalidate() calls
   * them one after the other and stops at the first that returns false, so they are sent one at a time.
   */
  void startInvalidation(Mm mm, long start, long end, NotifyEvent event, long owner, boolean blockable,
      Consumer<Invalidation> onAcked, Consumer<Invalidation> onAbandoned) {
    start(mm, start, end, event, owner, blockable, true, onAcked, onAbandoned);
  }

  /**
   * Models mmu_notifier_release() (__mmu_notifier_release, called first by exit_mmap): mn_itree_release() calls every
   * interval subscription's ->invalidate with a blockable RELEASE range over the whole address space and ends the
   * period (mn_itree_inv_end); then mn_hlist_release() calls only the classic subscriptions' ->release op (nouveau's
   * nouveau_mn_ops has none, so nothing is sent) and unhooks every classic subscription (hlist_del_init_rcu): later
   * ranges (exit's unmap_vmas) never reach them. Interval subscriptions stay in the tree.
   */
  void mmuNotifierRelease(Mm mm, Runnable then) {
    start(mm, 0, Page.TASK_SIZE, NotifyEvent.RELEASE, 0, true, false, release -> {
      endInvalidation(release);
      for (Subscription s : subscriptions.valuesCopy()) {
        if (s.mmId == mm.id && s.kind == NotifierKind.CLASSIC) {
          subscriptions.remove(s.subId);
          s.live = false;
          k.emit(new Trace.NotifierRegistered(s.subId, s.deviceId, s.mmId, s.kind, s.start, s.end, true));
        }
      }
      then.run();
    }, null);
  }

  private void start(Mm mm, long start, long end, NotifyEvent event, long owner, boolean blockable,
      boolean withClassic, Consumer<Invalidation> onAcked, Consumer<Invalidation> onAbandoned) {
    if (!blockable && onAbandoned == null) throw new IllegalStateException("non-blockable invalidation needs onAbandoned");
    mm.active++;
    boolean hitsInterval = false;
    for (Subscription s : subscriptions) {
      if (s.mmId == mm.id && s.kind == NotifierKind.INTERVAL && s.overlaps(start, end)) {
        hitsInterval = true;
        break;
      }
    }
    boolean parity = hitsInterval && !k.mutant(Mutant.SEQ_FORGETS_PARITY); // mutant: the seq stays even
    if (parity) mm.seq |= 1;
    // the range is made with the seq of its period; the subscriptions it hits are counted (its lists are made to
    // size, no list grows per invalidation) and then collected into it directly, in subscription order
    int intervalHits = 0, classicHits = 0;
    for (Subscription s : subscriptions) {
      if (s.mmId != mm.id || !s.overlaps(start, end)) continue;
      if (s.kind == NotifierKind.INTERVAL) intervalHits++;
      else if (withClassic) classicHits++;
    }
    Invalidation inv = new Invalidation(nextInvId++, mm, start, end, event, owner, blockable, mm.seq, onAcked, onAbandoned,
        intervalHits, classicHits);
    for (Subscription s : subscriptions) {
      if (s.mmId != mm.id || !s.overlaps(start, end)) continue;
      if (s.kind == NotifierKind.INTERVAL) inv.interval.add(s);
      else if (withClassic) inv.classic.add(s);
    }
    if (parity) mm.hitThisPeriod.addAll(inv.interval);
    invalidations.put(inv.invId, inv);
    Long[] ids = new Long[inv.interval.size() + inv.classic.size()];
    int n = 0;
    for (Subscription s : inv.interval) ids[n++] = s.subId;
    for (Subscription s : inv.classic) ids[n++] = s.subId;
    if (k.mutant(Mutant.CLASSIC_BEFORE_INTERVAL) && blockable) { // mutant: classic callbacks first
      List<Subscription> interval = new ArrayList<>(inv.interval);
      inv.interval.clear();
      inv.interval.addAll(inv.classic);
      inv.classic.clear();
      inv.classic.addAll(interval);
    }
    k.emit(new Trace.InvalidateStarted(inv.invId, mm.id, start, end, event, owner, blockable, List.of(ids)));
    if (blockable) sendCallbacks(inv, inv.interval);
    if (inv.pendingAcks.isEmpty()) advance(inv);
  }

  /** mn_itree_invalidate() for a non-blockable range: calls the next interval callback; false when none is left. */
  private boolean sendNextInterval(Invalidation inv) {
    while (inv.nextInterval < inv.interval.size()) {
      Subscription s = inv.interval.get(inv.nextInterval++);
      if (!s.live) continue;
      sendCallbacks(inv, List.of(s));
      return true;
    }
    return false;
  }

  private void sendCallbacks(Invalidation inv, List<Subscription> targets) {
    for (int i = 0, n = targets.size(); i < n; i++) { // by index: no iterator per callback round
      Subscription s = targets.get(i);
      if (!s.live) continue;
      inv.pendingAcks.add(s.subId);
      k.send(Outbound.toDevice(s.deviceId, new HmmProtocol.InvalidateStart(inv.invId, s.subId, inv.mm.id,
          inv.start, inv.end, inv.event, inv.owner, inv.blockable, inv.curSeq)));
    }
  }

  /** Called when no ack is pending: next phase, abandon, or hand over to the caller. */
  private void advance(Invalidation inv) {
    if (!inv.pendingAcks.isEmpty() || inv.phase == Invalidation.Phase.ACKED || inv.phase == Invalidation.Phase.ENDED) return;
    if (inv.failed) {
      // A failed interval callback: mn_itree_invalidate() ends the itree period itself (out_would_block); a failed
      // classic one: mn_hlist_invalidate_range_start() returns -EAGAIN and nobody calls mn_itree_inv_end().
      abandon(inv, inv.phase == Invalidation.Phase.INTERVAL);
      return;
    }
    if (inv.phase == Invalidation.Phase.INTERVAL) {
      if (!inv.blockable && sendNextInterval(inv)) return;
      inv.phase = Invalidation.Phase.CLASSIC;
      sendCallbacks(inv, inv.classic);
      if (!inv.pendingAcks.isEmpty()) return;
    }
    inv.phase = Invalidation.Phase.ACKED;
    inv.onAcked.accept(inv);
  }

  void onInvalidateAck(InvalidateAck m) {
    Invalidation inv = invalidations.get(m.invId());
    if (inv == null || !inv.pendingAcks.remove(m.subId())) return; // unknown or duplicate ack: harmless
    // interval_sub->invalidate_seq changes only by the callback's own mmu_interval_set_seq(sub, cur_seq): a
    // callback that returned early (nouveau's owner filter) or failed leaves it, and mmu_interval_check_retry()
    // sees only what was set (mm/mmu_notifier.c; include/linux/mmu_notifier.h).
    Subscription sub = subscriptions.get(m.subId());
    if (m.seqSet() && sub != null && sub.kind == NotifierKind.INTERVAL) sub.seq = inv.curSeq;
    if (!m.ok()) {
      if (inv.blockable) blockableAckFailures++; // mn_itree_invalidate: WARN_ON(blockable) and continue
      else inv.failed = true;
    }
    if (inv.pendingAcks.isEmpty()) advance(inv);
  }

  /**
   * __mmu_notifier_invalidate_range_start() returned -EAGAIN (non-blockable range; the caller skips the range and,
   * as the kernel requires, does not call invalidate_range_end()).
   *
   * <p>{@code itreeEnded}: the failure was an interval callback's, and mn_itree_invalidate() called
   * mn_itree_inv_end() before returning -EAGAIN (out_would_block), so the period ends as usual. Otherwise every
   * interval callback returned true and a classic invalidate_range_start() returned -EAGAIN (nouveau's always does
   * for a non-blockable range): mn_hlist_invalidate_range_start() calls the classic ops' invalidate_range_end() (not
   * modelled: nouveau's ops have none) and returns -EAGAIN, and nothing calls mn_itree_inv_end() for this range.
   * active_invalidate_ranges keeps the count and invalidate_seq stays odd: the interval subscriptions hit never see
   * the period end (mmu_interval_read_begin() sleeps for good) and deferred inserts and removes never progress.
   */
  private void abandon(Invalidation inv, boolean itreeEnded) {
    inv.phase = Invalidation.Phase.ENDED;
    invalidations.remove(inv.invId);
    k.emit(new Trace.InvalidateEnded(inv.invId, false));
    if (itreeEnded) itreeInvEnd(inv.mm); // else: active_invalidate_ranges keeps this range for good
    inv.onAbandoned.accept(inv);
  }

  /** Models mmu_notifier_invalidate_range_end() + mn_itree_inv_end(). */
  void endInvalidation(Invalidation inv) {
    if (inv.phase != Invalidation.Phase.ACKED) {
      throw new IllegalStateException("invalidation " + inv.invId + " ended in phase " + inv.phase);
    }
    inv.phase = Invalidation.Phase.ENDED;
    invalidations.remove(inv.invId);
    k.emit(new Trace.InvalidateEnded(inv.invId, true));
    itreeInvEnd(inv.mm);
  }

  /** Models mn_itree_inv_end(): the last active range makes the seq even and progresses the deferred list. */
  private void itreeInvEnd(Mm mm) {
    mm.active--;
    if (mm.active < 0) throw new IllegalStateException("seq: active_invalidate_ranges underflow (mm " + mm.id + ")");
    if (mm.active > 0) return;
    if ((mm.seq & 1) != 0) {
      mm.seq++;
      // The deferred list: inserts enter the tree, removes leave it (their callers then return).
      List<Subscription> deferred = new ArrayList<>(mm.deferredInserts);
      mm.deferredInserts.clear();
      if (!k.mutant(Mutant.DEFERRED_INSERTS_DROPPED)) for (Subscription s : deferred) insertIntoTree(s);
      for (Subscription s : mm.hitThisPeriod) {
        if (s.live) k.send(Outbound.toDevice(s.deviceId, new HmmProtocol.InvalidateEnd(s.subId, mm.seq)));
      }
      mm.hitThisPeriod.clear();
    }
    if (mm.deferredRemoves.isEmpty()) return;
    List<Subscription> removes = new ArrayList<>(mm.deferredRemoves);
    mm.deferredRemoves.clear();
    for (Subscription s : removes) {
      removeSubscriptionNow(s);
      answerRemove(s.subId);
    }
  }

  /**
   * mmu_interval_check_retry() for hmm_range_fault: {@code READ_ONCE(interval_sub->invalidate_seq) != seq}, i.e.
   * only what a callback set with mmu_interval_set_seq() counts (a callback sent but filtered or not yet run does
   * not).
   */
  boolean checkRetry(Subscription s, long seq) {
    return s.seq != seq;
  }
}
