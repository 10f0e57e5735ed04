package hmmemu.checker;

import hmmemu.protocol.model.LinkedLongTable;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.trace.Trace;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Shadow of the notifier side of each mm (struct mmu_notifier_subscriptions): live subscriptions, indexed per mm
 * (classic ones separately, since every invalidation of the mm calls them), the devices' owner cookies, the
 * invalidations in flight and recently ended with their acks, and per interval subscription what read_retry saw.
 */
final class NotifierShadow {
  private static final int ENDED_INVALIDATIONS_KEPT = 4096;

  private final LongTable<Trace.NotifierRegistered> subs = new LongTable<>();
  /** mm -> live classic subscriptions (mmu_notifier_register), in registration order (a primitive-keyed table). */
  private final LongTable<LinkedLongTable<Trace.NotifierRegistered>> classicOfMm = new LongTable<>();
  /**
   * mm -> number of live subscriptions; an mm whose last one went keeps its 0 (as the boxed map it replaces did, so
   * that a StateWalk picture holds the same entries). Read by I6's covering-invalidation check, so a primitive-keyed table.
   */
  private final LongTable<Integer> liveOfMm = new LongTable<>();
  /** sub -> device, from registrations and acks; never forgotten (late acks of removed subs). */
  private final LongTable<Integer> deviceOfSub = new LongTable<>();
  /**
   * Subscriptions removed (mmu_interval_notifier_remove). A callback addressed to one before its removal may be
   * acked after the CPU node stopped waiting for it; it owns no device mappings (those belong to the device and
   * are dropped through its other subscriptions), so its ack is not awaited by the checks either.
   */
  private final LongTable<Boolean> removedSubs = new LongTable<>();
  /** Subscriptions named as targets before their device was known (never in a causally ordered trace). */
  private final LongTable<Boolean> targetedUnknown = new LongTable<>();
  /** device -> owner cookie (DriverBound); 0 models NULL. Read per device's ack of all its callbacks. */
  final LongTable<Long> ownerOfDevice = new LongTable<>();

  /** invId -> invalidation between InvalidateStarted and InvalidateEnded, in start order (reports name the first). */
  final LinkedLongTable<Invalidation> inFlight = new LinkedLongTable<>();
  /** The last {@value #ENDED_INVALIDATIONS_KEPT} invalidations ended, by invId; endedOrder holds their ids in order. */
  private final LongTable<Invalidation> ended = new LongTable<>();
  /**
   * A ring of the ended invIds, oldest at endedNext once full: the eldest leaves when a new one comes. It grows (by
   * doubling) up to {@value #ENDED_INVALIDATIONS_KEPT} as invalidations end, so that a short run does not allocate
   * and clear 32 KiB per checker; it is read only once full.
   */
  private long[] endedOrder = new long[16];
  private int endedNext;
  /** Invalidations the ring took in so far (a statistic the fast-forward advances, see {@link #refillEnded}). */
  private long endedCount;
  /** Acks delivered before their InvalidateStarted (impossible under causal delivery; kept for robustness). */
  final Map<Long, List<Trace.InvalidateAcked>> earlyAcks = new HashMap<>();

  /** Per interval subscription: what the driver's read_retry last saw and what happened since (I4). */
  static final class SubSeq {
    /** subSeq reported by the last ReadRetryChecked; null before the first one. */
    Long lastCheckedSubSeq;
    /** Callbacks that took effect (set_seq) since that check. */
    int callbacksSinceCheck;
    /** seq values of installs since the last callback or check, judged at the next check (distinct, in order). */
    private long[] installSeqsUnjudged;
    private int unjudged;

    /** Notes an install's seq (at most {@code max} distinct ones are kept). */
    void noteInstallSeq(long seq, int max) {
      for (int k = 0; k < unjudged; k++) if (installSeqsUnjudged[k] == seq) return;
      if (unjudged >= max) return;
      if (installSeqsUnjudged == null) installSeqsUnjudged = new long[4];
      else if (unjudged == installSeqsUnjudged.length) {
        installSeqsUnjudged = java.util.Arrays.copyOf(installSeqsUnjudged, unjudged * 2);
      }
      installSeqsUnjudged[unjudged++] = seq;
    }

    int unjudgedCount() { return unjudged; }

    long unjudged(int k) { return installSeqsUnjudged[k]; }

    void clearUnjudged() { unjudged = 0; }
  }

  private final LongTable<SubSeq> subSeqs = new LongTable<>();

  SubSeq seqOf(long sub) {
    SubSeq ss = subSeqs.get(sub);
    if (ss == null) {
      ss = new SubSeq();
      subSeqs.put(sub, ss);
    }
    return ss;
  }

  /** NotifierRegistered: mmu_notifier_register / mmu_interval_notifier_insert, or their removal. */
  void registered(Trace.NotifierRegistered r) {
    learnDevice(r.subId(), r.deviceId(), true);
    if (r.removed()) {
      Trace.NotifierRegistered old = subs.remove(r.subId());
      if (old != null) unindex(old);
      if (removedSubs.put(r.subId(), Boolean.TRUE) == null) {
        for (Invalidation inv : inFlight) inv.subscriptionRemoved(r.subId(), true);
      }
    } else {
      Trace.NotifierRegistered old = subs.put(r.subId(), r);
      if (old != null) unindex(old);
      addLive(r.mmId(), 1);
      if (r.kind() == NotifierKind.CLASSIC) {
        LinkedLongTable<Trace.NotifierRegistered> classic = classicOfMm.get(r.mmId());
        if (classic == null) {
          classic = new LinkedLongTable<>();
          classicOfMm.put(r.mmId(), classic);
        }
        classic.put(r.subId(), r);
      }
      if (removedSubs.remove(r.subId()) != null) {
        for (Invalidation inv : inFlight) inv.subscriptionRemoved(r.subId(), false);
      }
    }
  }

  /** Adds {@code delta} to mm's live subscription count (an absent mm counts 0; a 0 stays an entry). */
  private void addLive(int mmId, int delta) {
    Integer live = liveOfMm.get(mmId);
    liveOfMm.put(mmId, live == null ? delta : live + delta);
  }

  private void unindex(Trace.NotifierRegistered old) {
    addLive(old.mmId(), -1);
    LinkedLongTable<Trace.NotifierRegistered> classic = classicOfMm.get(old.mmId());
    if (classic != null) classic.remove(old.subId());
  }

  /** Records sub's device ({@code replace}: a registration, else an ack that only fills an unknown device). */
  void learnDevice(long sub, int device, boolean replace) {
    Integer old = deviceOfSub.get(sub);
    if (replace || old == null) deviceOfSub.put(sub, device);
    boolean changed = old == null ? targetedUnknown.remove(sub) != null : replace && old != device;
    if (!changed) return;
    boolean removed = removedSubs.containsKey(sub);
    for (Invalidation inv : inFlight) inv.rehome(sub, device, removed);
  }

  int deviceOf(long sub) {
    Integer device = deviceOfSub.get(sub);
    return device == null ? -1 : device;
  }

  boolean removed(long sub) { return removedSubs.containsKey(sub); }

  boolean hasLiveSubscription(int mmId) {
    Integer live = liveOfMm.get(mmId);
    return live != null && live > 0;
  }

  /** Live classic notifiers of mm (every invalidation of the mm calls them after the interval ones). */
  Iterable<Trace.NotifierRegistered> classicOf(int mmId) {
    LinkedLongTable<Trace.NotifierRegistered> classic = classicOfMm.get(mmId);
    // the table itself, not a copy: the callers only read (addTarget changes no registration)
    return classic == null ? List.of() : classic;
  }

  /** Adds targets to an invalidation, indexed by their devices. */
  void addTarget(Invalidation inv, long sub) {
    int device = deviceOf(sub);
    if (device == -1) targetedUnknown.put(sub, Boolean.TRUE);
    inv.addTarget(sub, device, removedSubs.containsKey(sub));
  }

  /** The in-flight or recently ended invalidation invId, or null. */
  Invalidation find(long invId) {
    Invalidation inv = inFlight.get(invId);
    return inv != null ? inv : ended.get(invId);
  }

  /**
   * The in-flight or recently ended invalidation invId to change, or null: an ended one a world copy froze (session
   * 23, xfreeze: copies share it) is replaced in the ring (and in the last full refill's copies) by an unfrozen copy.
   */
  Invalidation findToChange(long invId) {
    Invalidation inv = inFlight.get(invId);
    if (inv != null) return inv;
    inv = ended.get(invId);
    if (inv == null || !inv.frozen()) return inv;
    Invalidation t = inv.thawed();
    ended.put(invId, t); // in place: the table's layout is unchanged
    long y = invId - RingRefill.UNISSUED;
    if (refillCopies != null && y >= 0 && y < refillCopies.length && refillCopies[(int) y] == inv) refillCopies[(int) y] = t;
    return t;
  }

  /** InvalidateEnded: the range leaves the in-flight set (a world copy freezes it then: {@link #findToChange}). */
  Invalidation end(long invId) {
    Invalidation inv = inFlight.remove(invId);
    if (inv == null) return null;
    inv.end();
    // an id of the full refill's range put by anything but the refill (no run issues one): the ring's copies are no
    // longer known to be the table's values under their ids (refillEnded then looks each up, as before session 23)
    if (invId >= RingRefill.UNISSUED && invId < RingRefill.UNISSUED + ENDED_INVALIDATIONS_KEPT) refillCopies = null;
    // insertion order, as a LinkedHashMap keeping its newest ENDED_INVALIDATIONS_KEPT: an invId ended again keeps its
    // place; a new one evicts the eldest once the ring is full (first, so that the table never holds one more than
    // the ring and never doubles for it)
    if (ended.containsKey(invId)) {
      ended.put(invId, inv);
    } else {
      if (ended.size() == ENDED_INVALIDATIONS_KEPT) ended.remove(endedOrder[endedNext]);
      ended.put(invId, inv);
      if (endedNext == endedOrder.length) {
        endedOrder = java.util.Arrays.copyOf(endedOrder, Math.min(2 * endedOrder.length, ENDED_INVALIDATIONS_KEPT));
      }
      endedOrder[endedNext] = invId;
      endedNext = (endedNext + 1) % ENDED_INVALIDATIONS_KEPT;
      endedCount++;
    }
    return inv;
  }

  /** The ended invIds, newest first (emulator-only: the fast-forward's window on the ring, {@link #refillEnded}). */
  long[] endedNewestFirst() { return endedNewestFirst(Integer.MAX_VALUE); }

  /**
   * The newest {@code max} ended invIds (all if fewer), newest first: the slots below endedNext backwards, then from the
   * array's end (emulator-only: the pictures' window on the ring, {@link #endedNewestFirst()}).
   */
  long[] endedNewestFirst(int max) {
    long[] out = new long[Math.min(ended.size(), max)];
    int head = Math.min(endedNext, out.length);
    for (int k = 0; k < head; k++) out[k] = endedOrder[endedNext - 1 - k];
    for (int k = head, i = endedOrder.length - 1; k < out.length; k++, i--) out[k] = endedOrder[i];
    return out;
  }

  /** The ended invalidation invId (emulator-only: the fast-forward's window on the ring). */
  Invalidation endedOf(long invId) { return ended.get(invId); }

  /**
   * Emulator-only host mechanism (hmmemu.sim.FastForward): the ring as {@code n} more periods of a spin, each ending
   * {@code d} invalidations like the last d, would leave it, in the jump's convention that ids of the skipped periods
   * stay where they are (the unskipped run's less n x the period's step). Requires n x d at least the ring's size, so
   * that the unskipped run evicts every entry the ring holds now. Positions the newest entries' id pattern reaches
   * ({@link RingRefill#periodic}), at most the newest {@code kept}, keep their entry and invId; every older position
   * gets a copy of the last d entries' one under an id no run issues ({@link RingRefill#UNISSUED}), in ring order:
   * what the unskipped run holds there has an id of the skipped periods, which nothing outside the ring holds (the
   * fast-forward refuses a jump where an id outside the ring would tell, FastForwardRings#refusal). Session 22
   * (ringreuse): a copy the last full refill made (position size - 1 - y has invId UNISSUED + y at every full refill)
   * that is still in the ring under its id, or was evicted since (nothing else ever held it), is that position's entry
   * again, updated in place ({@link Invalidation#assignFrom}) when its template's contents changed, instead of a new
   * copy; the ring is the same (NotifierShadowRefillTest).
   */
  void refillEnded(int d, long n, int kept) {
    long[] keys = endedNewestFirst();
    int real = Math.min(RingRefill.periodic(keys, d), kept);
    int size = ENDED_INVALIDATIONS_KEPT, copies = size - real;
    boolean[] same = reusable(keys, d, real);
    Invalidation[] made = new Invalidation[copies]; // by y: the copy under invId UNISSUED + y, at position size - 1 - y
    long[] order = new long[size];
    if (same == null) { // every copy made anew, the table filled again
      Invalidation[] entries = new Invalidation[size];
      for (int q = 0; q < size; q++) {
        long key = q < real ? keys[q] : RingRefill.UNISSUED + size - 1 - q;
        entries[q] = q < kept && q < real ? ended.get(key) : copyOf(ended.get(keys[q % d]), key);
        if (q >= real) made[size - 1 - q] = entries[q];
        order[size - 1 - q] = key;
      }
      ended.clear(); // the table holds exactly the ring's keys
      for (int q = size - 1; q >= 0; q--) ended.put(order[size - 1 - q], entries[q]);
    } else { // session 22 (ringreuse): the last full refill's copies stay under their ids; the rest as above
      // session 23 (ringcost): which copies are still in the ring is read off its keys, instead of one table lookup
      // per copy: under a key of the refill's range the table holds only the copy the last full refill put there (end()
      // forgets the copies when an id of the range ends), and, checked once here, it holds exactly the ring's staying
      // keys; otherwise each copy is looked up as before
      boolean[] inRing = new boolean[copies];
      int stay = RingRefill.removeLeaving(keys, real, inRing, ended); // older entries the pattern does not reach leave
      boolean known = ended.size() == stay; // then the table holds exactly the staying keys (it holds none but the ring's)
      Invalidation[] templates = new Invalidation[d];
      for (int j = 0; j < d; j++) templates[j] = ended.get(keys[j]);
      for (int y = 0; y < copies; y++) {
        int q = size - 1 - y;
        long key = RingRefill.UNISSUED + y;
        Invalidation kept1 = y < refillCopies.length ? refillCopies[y] : null;
        Invalidation t = templates[q % d];
        Invalidation there = !known ? ended.get(key) : inRing[y] ? kept1 : null;
        // kept1's start has invId key: only a partial refill relabels a copy (and forgets refillCopies)
        if (kept1 == null || there != null && there != kept1) { // copied anew
          kept1 = copyOf(t, key);
          ended.put(key, kept1);
        } else {
          if (!same[q % d]) { // another template's copy: updated in place, or copied if a late ack froze it (xfreeze)
            if (kept1.frozen()) {
              Invalidation now = t.copyFor(kept1.sameStart(t) ? kept1.started() : startOf(t.started(), key));
              if (there != null) ended.put(key, now); // in place of kept1
              kept1 = now;
            } else {
              kept1.assignFrom(t);
              if (!kept1.sameStart(t)) kept1.restart(startOf(t.started(), key));
            }
          }
          // evicted since (by an id ended later): nothing but the ring held it (its id is never issued), so it goes
          // back under its id as the copy it is
          if (there == null) ended.put(key, kept1);
        }
        made[y] = kept1;
        order[y] = key;
      }
      for (int q = 0; q < real; q++) order[size - 1 - q] = keys[q];
    }
    refillCopies = made;
    refillD = d;
    endedOrder = order;
    endedNext = 0;
    endedCount += n * d;
  }

  /**
   * The copies the last full refill ({@link #refillEnded}) made, by their invId's offset y from {@link
   * RingRefill#UNISSUED} (position size - 1 - y, a copy of the newest d entries' (size - 1 - y) mod d-th), and its d;
   * null after a partial refill (which relabels entries) or before any. Emulator-only (session 22, ringreuse): the next
   * full refill gives position size - 1 - y the same invId again, so a copy still in the ring under it is kept
   * instead of copied anew when the newest d entries' contents are those it was copied from. Transient: not the
   * run's state (no picture walks it).
   */
  private transient Invalidation[] refillCopies;

  private transient int refillD;

  /**
   * Per j below d, whether the last full refill's copies of its j-th template are like the newest d entries' j-th
   * (every member but the start's invId), or null when no copy may be kept: no full refill since the last partial
   * one, another d, or a ring position the pattern keeps holding an id of the refill's range (emulator-only).
   */
  private boolean[] reusable(long[] keys, int d, int real) {
    if (refillCopies == null || refillD != d) return null;
    for (int q = 0; q < real; q++) {
      long y = keys[q] - RingRefill.UNISSUED;
      if (y >= 0 && y < ENDED_INVALIDATIONS_KEPT) return null;
    }
    boolean[] same = new boolean[d];
    for (int j = 0; j < d; j++) {
      int y = Math.floorMod(ENDED_INVALIDATIONS_KEPT - 1 - j, d); // a copy of template j
      Invalidation t = ended.get(keys[j]);
      same[j] = y < refillCopies.length && refillCopies[y] != null && t != null && t.sameAs(refillCopies[y]);
    }
    return same;
  }

  /**
   * Emulator-only host mechanism (hmmemu.sim.FastForward's partial refill, k = n x d below the ring's size): the ring as
   * n more periods ending d invalidations each leave it, newest first: the k entries the period extrapolates (copies of
   * the newest d), then the newest of the entries it holds now; entry q gets invId {@code ids[q]} (the fast-forward's
   * labels, FastForwardRings#partialIds), and the ring's array has the length the unskipped run's would have.
   */
  void refillEndedPartial(int d, int k, long[] ids) {
    refillCopies = null; // relabels entries: the next full refill copies every entry anew
    long[] keys = endedNewestFirst();
    int total = ids.length;
    Invalidation[] copies = new Invalidation[total];
    // the extrapolated entries first (copies of the newest d, before those are relabelled), then the kept entries,
    // each relabelled in place: the ring is the only holder of an ended invalidation (inFlight let it go at its end),
    // and a relabelled entry keeps every field but its start's invId, as a copy under the new invId would (session
    // 19, fflook2: ~4,096 reflective copies a jump before)
    int extrapolated = Math.min(k, total);
    for (int q = 0; q < extrapolated; q++) copies[q] = copyOf(ended.get(keys[q % d]), ids[q]);
    for (int q = extrapolated; q < total; q++) copies[q] = relabelled(ended.get(keys[q - k]), ids[q]);
    ended.clear(); // the table holds exactly the ring's keys: as removing each
    long[] order = new long[RingRefill.lengthFor(total, ENDED_INVALIDATIONS_KEPT)];
    for (int q = total - 1; q >= 0; q--) {
      order[total - 1 - q] = ids[q];
      ended.put(ids[q], copies[q]);
    }
    endedOrder = order;
    endedNext = total % ENDED_INVALIDATIONS_KEPT;
    endedCount += k;
  }

  /**
   * {@code inv} itself, its start relabelled to invId {@code invId} (the start's other members and its subscription list
   * as they were; emulator-only, {@link #refillEndedPartial}); for a frozen one, a frozen one so relabelled sharing its
   * arrays (session 23, xfreeze: neither can change them).
   */
  private static Invalidation relabelled(Invalidation inv, long invId) {
    Trace.InvalidateStarted s = inv.started();
    if (s.invId() != invId) {
      Trace.InvalidateStarted now = new Trace.InvalidateStarted(invId, s.mmId(), s.start(), s.end(), s.event(), s.owner(),
          s.blockable(), s.subIds());
      if (inv.frozen()) return inv.relabelledFrozen(now);
      inv.restart(now);
    }
    return inv;
  }

  /** An ended invalidation like {@code inv} with invId {@code invId} (emulator-only, {@link #refillEnded}). */
  private static Invalidation copyOf(Invalidation inv, long invId) {
    return inv.copyFor(startOf(inv.started(), invId));
  }

  /** A start like {@code s} with invId {@code invId}, its subscription list copied (emulator-only, {@link #copyOf}). */
  private static Trace.InvalidateStarted startOf(Trace.InvalidateStarted s, long invId) {
    return new Trace.InvalidateStarted(invId, s.mmId(), s.start(), s.end(), s.event(), s.owner(), s.blockable(),
        List.of(s.subIds().toArray(new Long[0])));
  }
}
