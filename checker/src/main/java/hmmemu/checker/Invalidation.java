package hmmemu.checker;

import hmmemu.protocol.model.Frozen;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One mmu_notifier_range between InvalidateStarted and InvalidateEnded (mm/mmu_notifier.c
 * __mmu_notifier_invalidate_range_start), with the acks received so far. Targets are counted by the device owning
 * them, so "has this device acked all of its callbacks" costs one look at the device's counts, not all subscriptions.
 *
 * <p>Compact: an invalidation addresses a few subscriptions of a few devices, and one is created for every range the
 * CPU node invalidates, so the subscriptions it knows are kept in arrays (in the order learnt, with a hash index only
 * past {@link #INDEX_ABOVE} of them) and the devices' counts in arrays searched linearly, instead of eight hash maps.
 *
 * <p>Session 23 (xfreeze): an ended invalidation is {@link #freeze frozen} when a world copy (SimCopy) meets it
 * ({@link #freezeForCopy}): every mutator then throws, every field is private and no array or table is handed out, so
 * the copy shares it instead of copying it. A change to a frozen one (a late ack, the ring refill's update in place) is
 * made on an unfrozen copy ({@link #thawed}) that takes its place in the ring. A run never copied freezes none.
 */
final class Invalidation implements Frozen, ChangeCounted {
  private static final int INDEX_ABOVE = 8;
  private static final int TARGET = 1;
  private static final int ACKED = 2;
  private static final int WAITING = 4;

  /**
   * Its start (set once here; the fast-forward's partial ring refill, NotifierShadow#refillEndedPartial, relabels an
   * ended entry it keeps to another invId in place: emulator-only).
   */
  private Trace.InvalidateStarted started;
  private boolean ended;
  /**
   * Set once by {@link #freeze} or {@link #freezeForCopy}, never cleared: no mutator succeeds after it. Transient: not
   * the run's state (the pictures, StateWalk, skip it; whether a world copy met it changes nothing the run does).
   */
  private transient boolean frozen;
  /**
   * Changes so far ({@link ChangeCounted}, session 24, ffchg): every mutator goes through {@link #mutable}, which moves
   * it; a frozen one never moves. Transient: not the run's state (the pictures skip it, as {@link #frozen}).
   */
  private transient long changes;

  /** Subscriptions known to this range (targets, or acked before they were targets), in the order learnt. */
  private long[] subs = new long[4];
  /** TARGET | ACKED | WAITING per subscription. */
  private byte[] state = new byte[4];
  /** The device a target is indexed under (-1 unknown). */
  private int[] deviceOfSub = new int[4];
  private int nSubs;
  /** sub -> position in {@link #subs}, once there are more than {@link #INDEX_ABOVE}. */
  private LongTable<Integer> index;

  /**
   * Devices with targets here, {@link #STRIDE} ints each (one array, not seven, per invalidation): the device (-1:
   * unknown), its targets, its acks, the acks it still owes, and its flags ({@link #HAS_APPLIED}, {@link #COMPLETED}:
   * it acked every callback of theirs, I3 judged, access revoked).
   */
  private int[] dev = new int[2 * STRIDE];
  private static final int STRIDE = 5, TARGETS = 1, ACKS = 2, OWED = 3, FLAGS = 4;
  private static final int HAS_APPLIED = 1, COMPLETED = 2;
  /** Per device: one subscription of the device whose callback took effect (ok, not ignored). */
  private long[] appliedOf = new long[2];
  private int nDevices;
  private int waitingTotal;

  Invalidation(Trace.InvalidateStarted started) { this.started = started; }

  /** Its start (mmu_notifier_range's mm, range, event and owner; the subscriptions it named). */
  Trace.InvalidateStarted started() { return started; }

  /** Whether InvalidateEnded came (mmu_notifier_invalidate_range_end). */
  boolean ended() { return ended; }

  /** Notes InvalidateEnded (mmu_notifier_invalidate_range_end). */
  void end() {
    mutable();
    ended = true;
  }

  /** Relabels this ended entry's start (emulator-only: NotifierShadow's ring refill). */
  void restart(Trace.InvalidateStarted start) {
    mutable();
    started = start;
  }

  /** Freezes this for good (emulator-only, see the class comment): no mutator succeeds afterwards. */
  void freeze() { frozen = true; }

  @Override
  public boolean frozen() { return frozen; }

  /**
   * {@link #changes}, when everything this reaches is its own or cannot change: its start a record whose subscription
   * list is null or a {@code List.of} (as the CPU node emits it); else -1 (a decoded trace's list is not proven so).
   */
  @Override
  public long changeCount() { return immutableIds() ? changes : -1; }

  private boolean immutableIds() { return Frozen.jdkImmutableList(started.subIds()); }

  /**
   * An ended one is frozen (its owner, NotifierShadow's ring, changes a frozen one through a copy) when its start holds
   * nothing that can change (its subscription list null or a {@code List.of}, as the CPU node emits it; a decoded
   * trace's list is not proven so); else not.
   */
  @Override
  public boolean freezeForCopy() {
    if (ended && !frozen && immutableIds()) frozen = true;
    return frozen;
  }

  /** This when not frozen, else an unfrozen copy of it under the same start (emulator-only, see the class comment). */
  Invalidation thawed() { return frozen ? copyFor(started) : this; }

  /**
   * A frozen invalidation like this frozen one but for its start (emulator-only: NotifierShadow's partial ring refill
   * relabels an entry): it shares this one's arrays and table, which neither can change (only frozen invalidations
   * share any; an unfrozen one's are its own: {@link #copyFor} and {@link #assignFrom} clone or copy into its own).
   */
  Invalidation relabelledFrozen(Trace.InvalidateStarted start) {
    if (!frozen) throw new IllegalStateException("Invalidation: relabelledFrozen of an unfrozen one (invId " + started.invId() + ")");
    Invalidation c = new Invalidation(start);
    c.ended = ended;
    c.subs = subs;
    c.state = state;
    c.deviceOfSub = deviceOfSub;
    c.nSubs = nSubs;
    c.index = index;
    c.dev = dev;
    c.appliedOf = appliedOf;
    c.nDevices = nDevices;
    c.waitingTotal = waitingTotal;
    c.frozen = true;
    return c;
  }

  /** Throws when frozen, else counts a change ({@link #changes}): every mutator calls it first. */
  private void mutable() {
    if (frozen) throw new IllegalStateException("Invalidation: invId " + started.invId() + " is frozen (shared by world copies)");
    changes++;
  }

  /**
   * A copy of this invalidation under another start, every array and table copied (emulator-only: NotifierShadow's
   * ring refill; a field-by-field copy without reflection: InvalidationCopyTest holds it equal to a reflective one).
   */
  Invalidation copyFor(Trace.InvalidateStarted start) {
    Invalidation c = new Invalidation(start);
    c.ended = ended;
    c.subs = subs.clone();
    c.state = state.clone();
    c.deviceOfSub = deviceOfSub.clone();
    c.nSubs = nSubs;
    c.index = index == null ? null : index.copy();
    c.dev = dev.clone();
    c.appliedOf = appliedOf.clone();
    c.nDevices = nDevices;
    c.waitingTotal = waitingTotal;
    return c;
  }

  /**
   * Whether {@code o}'s start has this one's members but its invId (emulator-only: NotifierShadow's full ring refill,
   * which keeps a copy it made before, or updates it in place, instead of copying again).
   */
  boolean sameStart(Invalidation o) {
    Trace.InvalidateStarted s = started, t = o.started;
    return s.mmId() == t.mmId() && s.start() == t.start() && s.end() == t.end() && s.event() == t.event()
        && s.owner() == t.owner() && s.blockable() == t.blockable() && s.subIds().equals(t.subIds());
  }

  /**
   * Whether {@code o} holds what this does but for its start's invId (every member of the start, every array and
   * count; false when either indexes its subscriptions, not compared; emulator-only, as {@link #sameStart}).
   */
  boolean sameAs(Invalidation o) {
    return sameStart(o) && ended == o.ended && nSubs == o.nSubs && nDevices == o.nDevices && waitingTotal == o.waitingTotal
        && index == null && o.index == null && Arrays.equals(subs, o.subs) && Arrays.equals(state, o.state)
        && Arrays.equals(deviceOfSub, o.deviceOfSub) && Arrays.equals(dev, o.dev) && Arrays.equals(appliedOf, o.appliedOf);
  }

  /**
   * Makes this, a copy {@link #copyFor} made that nothing but the ring holds, what {@code t.copyFor(started)} would
   * give (every member of t but its start, arrays copied into this one's where the lengths agree, else cloned);
   * emulator-only: NotifierShadow's full ring refill updates its earlier copies in place instead of copying anew.
   */
  void assignFrom(Invalidation t) {
    mutable();
    ended = t.ended;
    if (subs.length == t.subs.length) System.arraycopy(t.subs, 0, subs, 0, subs.length);
    else subs = t.subs.clone();
    if (state.length == t.state.length) System.arraycopy(t.state, 0, state, 0, state.length);
    else state = t.state.clone();
    if (deviceOfSub.length == t.deviceOfSub.length) System.arraycopy(t.deviceOfSub, 0, deviceOfSub, 0, deviceOfSub.length);
    else deviceOfSub = t.deviceOfSub.clone();
    nSubs = t.nSubs;
    index = t.index == null ? null : t.index.copy();
    if (dev.length == t.dev.length) System.arraycopy(t.dev, 0, dev, 0, dev.length);
    else dev = t.dev.clone();
    if (appliedOf.length == t.appliedOf.length) System.arraycopy(t.appliedOf, 0, appliedOf, 0, appliedOf.length);
    else appliedOf = t.appliedOf.clone();
    nDevices = t.nDevices;
    waitingTotal = t.waitingTotal;
  }

  boolean covers(PageKey k) {
    return started.mmId() == k.mmId() && k.in(started.start(), started.end());
  }

  /** Adds a target of {@code device} (-1 unknown); {@code removed}: the subscription is already removed. */
  void addTarget(long sub, int device, boolean removed) {
    mutable();
    int i = find(sub);
    if (i < 0) i = append(sub);
    if ((state[i] & TARGET) != 0) return;
    state[i] |= TARGET;
    deviceOfSub[i] = device;
    int d = deviceSlot(device);
    dev[d + TARGETS]++;
    if ((state[i] & ACKED) != 0) dev[d + ACKS]++;
    else if (!removed) wait(i, d);
  }

  /** The callback on sub returned ok. */
  void ack(long sub) {
    mutable();
    int i = find(sub);
    if (i < 0) i = append(sub);
    if ((state[i] & ACKED) != 0) return;
    state[i] |= ACKED;
    if ((state[i] & TARGET) == 0) return;
    int d = deviceSlot(deviceOfSub[i]);
    dev[d + ACKS]++;
    unwait(i, d);
  }

  /** The callback on sub took effect (ok, not skipped by the owner filter). */
  void applied(long sub, int device) {
    mutable();
    int i = find(sub);
    int d = deviceSlot(i >= 0 && (state[i] & TARGET) != 0 ? deviceOfSub[i] : device);
    if ((dev[d + FLAGS] & HAS_APPLIED) == 0) {
      dev[d + FLAGS] |= HAS_APPLIED;
      appliedOf[d / STRIDE] = sub;
    }
  }

  /** A subscription of the device whose callback took effect, or null. */
  Long appliedBy(int device) {
    int d = deviceIndex(device);
    return d >= 0 && (dev[d + FLAGS] & HAS_APPLIED) != 0 ? appliedOf[d / STRIDE] : null;
  }

  /** The subscription was removed (its ack is no longer awaited) or registered again. */
  void subscriptionRemoved(long sub, boolean removed) {
    mutable();
    int i = find(sub);
    if (i < 0 || (state[i] & TARGET) == 0 || (state[i] & ACKED) != 0) return;
    int d = deviceSlot(deviceOfSub[i]);
    if (removed) unwait(i, d);
    else wait(i, d);
  }

  /** The device of a target became known or changed: re-index it. */
  void rehome(long sub, int device, boolean removed) {
    mutable();
    int i = find(sub);
    if (i < 0 || (state[i] & TARGET) == 0 || deviceOfSub[i] == device) return;
    int old = deviceSlot(deviceOfSub[i]);
    int now = deviceSlot(device);
    if ((state[i] & ACKED) != 0) {
      dev[old + ACKS]--;
      dev[now + ACKS]++;
    } else {
      unwait(i, old);
      if (!removed) wait(i, now);
    }
    deviceOfSub[i] = device;
    dev[old + TARGETS]--;
    dev[now + TARGETS]++;
  }

  /** True when a subscription of the device is among the targets. */
  boolean targets(int device) {
    int d = deviceIndex(device);
    return d >= 0 && dev[d + TARGETS] > 0;
  }

  /** True when the device acked every callback of this invalidation addressed to a live subscription of it. */
  boolean deviceAckedAll(int device) {
    int d = deviceIndex(device);
    return d >= 0 && dev[d + ACKS] > 0 && dev[d + OWED] == 0;
  }

  /** True once {@link #complete} was called for the device. */
  boolean completed(int device) {
    int d = deviceIndex(device);
    return d >= 0 && (dev[d + FLAGS] & COMPLETED) != 0;
  }

  /** The device acked all of its callbacks and was judged (I3) and revoked. */
  void complete(int device) {
    mutable();
    dev[deviceSlot(device) + FLAGS] |= COMPLETED;
  }

  /** True when every live subscription addressed acked. */
  boolean allAcked() { return waitingTotal == 0; }

  /** Live subscriptions addressed that have not acked yet, in target order (for reports). */
  List<Long> unacked() {
    List<Long> missing = new ArrayList<>();
    for (int i = 0; i < nSubs; i++) if ((state[i] & WAITING) != 0) missing.add(subs[i]);
    return missing;
  }

  private void wait(int i, int d) {
    if ((state[i] & WAITING) != 0) return;
    state[i] |= WAITING;
    dev[d + OWED]++;
    waitingTotal++;
  }

  private void unwait(int i, int d) {
    if ((state[i] & WAITING) == 0) return;
    state[i] &= ~WAITING;
    dev[d + OWED]--;
    waitingTotal--;
  }

  private int find(long sub) {
    if (index != null) {
      Integer i = index.get(sub);
      return i == null ? -1 : i;
    }
    for (int i = 0; i < nSubs; i++) if (subs[i] == sub) return i;
    return -1;
  }

  private int append(long sub) {
    if (nSubs == subs.length) {
      int n = nSubs * 2;
      subs = Arrays.copyOf(subs, n);
      state = Arrays.copyOf(state, n);
      deviceOfSub = Arrays.copyOf(deviceOfSub, n);
    }
    int i = nSubs++;
    subs[i] = sub;
    if (index != null) {
      index.put(sub, i);
    } else if (nSubs > INDEX_ABOVE) {
      index = new LongTable<>();
      for (int k = 0; k < nSubs; k++) index.put(subs[k], k);
    }
    return i;
  }

  /** The offset of the device's ints in {@link #dev}, or -1. */
  private int deviceIndex(int device) {
    for (int d = 0, end = nDevices * STRIDE; d < end; d += STRIDE) if (dev[d] == device) return d;
    return -1;
  }

  private int deviceSlot(int device) {
    int d = deviceIndex(device);
    if (d >= 0) return d;
    if (nDevices == appliedOf.length) {
      int n = nDevices * 2;
      dev = Arrays.copyOf(dev, n * STRIDE);
      appliedOf = Arrays.copyOf(appliedOf, n);
    }
    d = nDevices++ * STRIDE;
    dev[d] = device;
    return d;
  }
}
