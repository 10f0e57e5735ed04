package hmmemu.checker;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The one global invariant checker (PROTOCOL.md §6). It receives every node's stamped trace events in any
 * order, releases them in causal order ({@link CausalDelivery}), rebuilds a shadow of the global state (CPU
 * PTEs, folios, VMAs, notifier subscriptions, owner cookies, in-flight invalidations and their acks, device
 * page tables, and which device may access which pfn) and checks I1..I12 after each event. Because events are
 * applied in a linear extension of happens-before, each check judges a consistent cut: a violation is never
 * an artefact of message delays.
 *
 * <p>Checks fire on the event that could break an invariant, not on every event; each rule's trigger is
 * stated at its method. Checks comparing folio counters with PTEs (I8 counts, I9) are judged once the CPU
 * node's run of PteChanged/FolioChanged/VmaChanged events ends, since a PTE change and the folio accounting
 * for it are separate events of one step; call {@link #finish()} (or {@link #caughtUp}) at the end of a run.
 *
 * <p>Transient windows the kernel allows are exempt: a device entry may disagree with the CPU PTE while an
 * invalidation covering it has started and that device has not yet acked all of its callbacks (I2), and a
 * device keeps an entry across an invalidation it may filter (EXCLUSIVE/MIGRATE with its own owner cookie,
 * I3/I12). A device "acked all of its callbacks" when every subscription of it that the invalidation
 * addressed (listed in InvalidateStarted, plus its classic notifiers on that mm, which the CPU node calls
 * after the interval ones) returned ok.
 *
 * <p>Pure: no Pekko, no clock, no I/O, not thread-safe (one owner).
 */
public final class InvariantChecker {
  /** Events quoted in each violation. */
  public static final int RECENT_IN_VIOLATION = 12;
  /** The shared zero page (pfn 1): mapped by many PTEs, no mapcount kept, never freed. */
  public static final long ZERO_PAGE_PFN = 1;

  private static final int RECENT_KEPT = 256;
  private static final int VIOLATIONS_KEPT_MAX = 100_000;
  private static final int ENDED_INVALIDATIONS_KEPT = 4096;
  private static final int PERM_READ = 1;
  private static final int PERM_WRITE = 2;
  private static final int PERM_ATOMIC = 4;

  private final KernelProfile profile;
  private final CausalDelivery delivery = new CausalDelivery();
  private final ArrayDeque<String> recent = new ArrayDeque<>();
  private final List<Violation> violations = new ArrayList<>();
  private long applied;
  private long violationsDropped;

  // ---------------------------------------------------------------- shadow state: CPU node

  private record PageKey(int mmId, long vpn) {
    long va() { return vpn << Page.SHIFT; }
  }

  private record Vma(long start, long end, int prot, VmaKind kind) {}

  /** Latest PteChanged per page (absent = NONE). */
  private final Map<PageKey, Trace.PteChanged> ptes = new HashMap<>();
  /** pfn -> pages whose PTE is PRESENT, DEVEXCL or MIGRATION with that pfn. */
  private final Map<Long, Set<PageKey>> mappers = new HashMap<>();
  /** Latest FolioChanged per pfn. */
  private final Map<Long, Trace.FolioChanged> folios = new HashMap<>();
  private final Set<Long> freed = new HashSet<>();
  /** mm -> VMAs by start (non-overlapping). */
  private final Map<Integer, TreeMap<Long, Vma>> vmas = new HashMap<>();
  /**
   * mm -> ranges whose VMA lost PROT_WRITE (mprotect) or vanished (munmap) and whose covering invalidation
   * has not ended yet. The kernel changes the VMA before issuing the notifier, so a driver critical section
   * that passed its seq check may still program a W entry there; the notifier then removes it.
   */
  private final Map<Integer, List<long[]>> writeDowngrades = new HashMap<>();

  // ---------------------------------------------------------------- shadow state: notifiers, invalidations

  private final Map<Long, Trace.NotifierRegistered> subs = new HashMap<>();
  /** sub -> device, from registrations and acks; never forgotten (late acks of removed subs). */
  private final Map<Long, Integer> deviceOfSub = new HashMap<>();
  /**
   * Subscriptions removed (mmu_interval_notifier_remove). A callback addressed to one before its removal may be
   * acked after the CPU node stopped waiting for it; it owns no device mappings (those belong to the device and
   * are dropped through its other subscriptions), so its ack is not awaited by the checks either.
   */
  private final Set<Long> removedSubs = new HashSet<>();
  /** device -> owner cookie (DriverBound); 0 models NULL. */
  private final Map<Integer, Long> ownerOfDevice = new HashMap<>();

  /** One mmu_notifier_range between InvalidateStarted and InvalidateEnded, with the acks received so far. */
  private static final class Invalidation {
    final Trace.InvalidateStarted started;
    /** Subscriptions the CPU node called (or will call) for this range. */
    final Set<Long> targets = new LinkedHashSet<>();
    /** Subscriptions whose callback returned (ok=true), including those the owner filter skipped. */
    final Set<Long> acked = new HashSet<>();
    /** Subscriptions whose callback ran and took effect (ok=true, ignored=false). */
    final Set<Long> applied = new HashSet<>();
    /** Devices that acked every callback of theirs (I3 judged, access revoked). */
    final Set<Integer> completedDevices = new HashSet<>();
    boolean ended;

    Invalidation(Trace.InvalidateStarted started) { this.started = started; }

    boolean covers(PageKey k) {
      return started.mmId() == k.mmId() && intersects(started.start(), started.end(), k.va());
    }
  }

  private final Map<Long, Invalidation> inFlight = new LinkedHashMap<>();
  private final LinkedHashMap<Long, Invalidation> ended = new LinkedHashMap<>() {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Invalidation> eldest) {
      return size() > ENDED_INVALIDATIONS_KEPT;
    }
  };
  /** Acks delivered before their InvalidateStarted (impossible under causal delivery; kept for robustness). */
  private final Map<Long, List<Trace.InvalidateAcked>> earlyAcks = new HashMap<>();

  // ---------------------------------------------------------------- shadow state: devices

  /** device -> mm -> vpn -> entry. */
  private final Map<Integer, Map<Integer, TreeMap<Long, Trace.DeviceEntryInstalled>>> deviceTables = new TreeMap<>();
  /** page -> device -> entry (devices in id order, for deterministic reports). */
  private final Map<PageKey, TreeMap<Integer, Trace.DeviceEntryInstalled>> entriesAtPage = new HashMap<>();
  /** pfn -> pages/devices whose entries point at it. */
  private final Map<Long, Set<EntryKey>> entriesOfPfn = new HashMap<>();

  private record EntryKey(int deviceId, int mmId, long vpn) {}

  /**
   * device -> pfn -> page -> permission bits: "device may access pfn" from the install of an entry until the
   * device acked all its callbacks of an invalidation covering that page. Bits only grow until revoked, since
   * an access sent under a stronger entry may reach the host after the entry was replaced by a weaker one.
   */
  private final Map<Integer, Map<Long, Map<PageKey, Integer>>> grants = new HashMap<>();

  /** Per interval subscription: what the driver's read_retry last saw and what happened since (I4). */
  private static final class SubSeq {
    /** subSeq reported by the last ReadRetryChecked; null before the first one. */
    Long lastCheckedSubSeq;
    /** Callbacks that took effect (set_seq) since that check. */
    int callbacksSinceCheck;
    /** seq values of installs since the last callback or check, judged at the next check. */
    final Set<Long> installSeqsUnjudged = new LinkedHashSet<>();
  }

  private final Map<Long, SubSeq> subSeqs = new HashMap<>();

  // ---------------------------------------------------------------- shadow state: make_device_exclusive holds

  /** reqId -> successful make_device_exclusive whose FolioUnlockPut was not done yet. */
  private final Map<Long, Trace.ExclusiveReturned> holds = new HashMap<>();
  private final Set<Long> holdsReleased = new HashSet<>();
  /** pfn -> reqId of the make_device_exclusive call that returned with that folio locked. */
  private final Map<Long, Long> lockHolder = new HashMap<>();
  /** pfns converted from a dirty PTE whose folio was not dirty yet (I10, judged with the counts). */
  private final Set<Long> dirtyPushPending = new LinkedHashSet<>();
  /** Folios changed in the current run of CPU-node PTE/folio/VMA events, judged when it ends (I8, I9). */
  private final Set<Long> countsToJudge = new LinkedHashSet<>();

  // ---------------------------------------------------------------- node loss

  /** GPU nodes the CPU node declared gone (NodeGone): their later events describe a device that no longer exists. */
  private final Set<Integer> goneNodes = new HashSet<>();
  private long eventsOfGoneNodes;
  /** Events delivered so far, by trace event type (simple name), those of gone nodes included. */
  private final Map<String, Long> eventCounts = new TreeMap<>();

  /** A checker for kernel 6.15+ semantics. */
  public InvariantChecker() { this(KernelProfile.V6_15); }

  /** A checker for the given kernel generation (I9 and I10 differ between them). */
  public InvariantChecker(KernelProfile profile) {
    this.profile = profile;
  }

  public KernelProfile profile() { return profile; }

  // ================================================================= public API

  /**
   * Offers one stamped event (any arrival order). Every event that becomes causally deliverable is applied
   * to the shadow state and checked; returns the violations found while applying them (usually empty).
   */
  public List<Violation> offer(Stamped event) {
    List<Stamped> released = delivery.offer(event);
    if (released.isEmpty()) return List.of();
    int before = violations.size();
    long droppedBefore = violationsDropped;
    for (Stamped s : released) apply(s);
    if (violations.size() == before && violationsDropped == droppedBefore) return List.of();
    return List.copyOf(violations.subList(before, violations.size()));
  }

  /** Every violation found so far, in the order found (at most 100 000 are kept). */
  public List<Violation> violations() { return Collections.unmodifiableList(violations); }

  /** Events applied (delivered in causal order) so far. */
  public long delivered() { return applied; }

  /** Events delivered of one node. */
  public long delivered(int node) { return delivery.delivered(node); }

  /** Events buffered until what they depend on arrives. */
  public int pending() { return delivery.pending(); }

  /** Offered events dropped as duplicates. */
  public long duplicates() { return delivery.duplicates(); }

  /**
   * True when at least {@code perNodeCounts[i]} events of every node i were delivered and checked. Counts taken
   * from the nodes' shells end at a step boundary, so when exactly {@code perNodeCounts[0]} CPU events were
   * delivered the checks deferred to the end of the CPU node's step are judged here as well.
   */
  public boolean caughtUp(long[] perNodeCounts) {
    boolean caughtUp = delivery.caughtUp(perNodeCounts);
    if (caughtUp && (perNodeCounts.length == 0 || delivery.delivered(0) == perNodeCounts[0])) judgeCounts();
    return caughtUp;
  }

  /**
   * Ends the run: judges the checks deferred to the end of the CPU node's current step (I8 counts, I9, I10
   * dirtiness) and returns the violations this found. Call once every event was offered.
   */
  public List<Violation> finish() {
    int before = violations.size();
    judgeCounts();
    return List.copyOf(violations.subList(before, violations.size()));
  }

  /** Why buffered events wait (for diagnosing a checker that does not catch up). */
  public String describePending() { return delivery.describePending(); }

  /** The last {@code n} applied events, oldest first, one per line. */
  public String describeRecent(int n) {
    List<String> last = lastEvents(n);
    return String.join("\n", last);
  }

  /** Violations found per invariant name, e.g. {@code {I3=1}}. */
  public Map<String, Integer> countsByInvariant() {
    Map<String, Integer> counts = new TreeMap<>();
    for (Violation v : violations) counts.merge(v.invariant(), 1, Integer::sum);
    return counts;
  }

  /** make_device_exclusive calls that returned OK and whose FolioUnlockPut has not been seen (liveness L3). */
  public List<Long> outstandingExclusiveHolds() {
    List<Long> reqIds = new ArrayList<>(holds.keySet());
    Collections.sort(reqIds);
    return reqIds;
  }

  // ================================================================= apply

  /** Who else sees each event as it is applied, in causal delivery order (a run recorder), or null. */
  private java.util.function.Consumer<Stamped> onApplied;

  /**
   * Hands every event to {@code listener} as it is applied, in the causal order the checker judges it (run records,
   * docs/OBSERVABILITY.md); null stops. The listener sees; it changes nothing the checker judges.
   */
  public void onApplied(java.util.function.Consumer<Stamped> listener) { this.onApplied = listener; }

  private void apply(Stamped s) {
    if (onApplied != null) onApplied.accept(s);
    Trace.Event e = s.event();
    // A GPU event released in the middle of a CPU step (it is concurrent with it) does not end that step.
    boolean endsCpuBurst = s.node() == 0
        && !(e instanceof Trace.PteChanged || e instanceof Trace.FolioChanged || e instanceof Trace.VmaChanged);
    if (endsCpuBurst) judgeCounts();
    applied++;
    eventCounts.merge(e.getClass().getSimpleName(), 1L, Long::sum);
    recent.addLast(EventFormat.describe(s));
    if (recent.size() > RECENT_KEPT) recent.removeFirst();
    if (goneNodes.contains(s.node())) {
      eventsOfGoneNodes++; // concurrent with the NodeGone (emitted before the crash, or by a downed zombie)
      return;
    }
    if (e instanceof Trace.PteChanged p) onPteChanged(p);
    else if (e instanceof Trace.NodeGone g) onNodeGone(s.node(), g);
    else if (e instanceof Trace.FolioLockLeaseExpired x) onLeaseExpired(x);
    else if (e instanceof Trace.FolioChanged f) onFolioChanged(f);
    else if (e instanceof Trace.VmaChanged v) onVmaChanged(v);
    else if (e instanceof Trace.NotifierRegistered r) onNotifierRegistered(r);
    else if (e instanceof Trace.InvalidateStarted i) onInvalidateStarted(i);
    else if (e instanceof Trace.InvalidateEnded i) onInvalidateEnded(i);
    else if (e instanceof Trace.HostMemoryAccessed h) onHostMemoryAccessed(h);
    else if (e instanceof Trace.ExclusiveReturned x) onExclusiveReturned(x);
    else if (e instanceof Trace.FolioUnlockPutDone u) onFolioUnlockPutDone(u);
    else if (e instanceof Trace.DriverBound b) ownerOfDevice.put(b.deviceId(), b.owner());
    else if (e instanceof Trace.DeviceEntryInstalled i) onDeviceEntryInstalled(i);
    else if (e instanceof Trace.DeviceEntryZapped z) removeEntry(z.deviceId(), page(z.mmId(), z.va()));
    else if (e instanceof Trace.InvalidateAcked a) onInvalidateAcked(a);
    else if (e instanceof Trace.ReadRetryChecked r) onReadRetryChecked(r);
    else if (e instanceof Trace.DriverLockHeldAcross l) onDriverLockHeldAcross(l);
    // CpuFaulted, DeviceAccessIssued, DeviceFaulted, DriverFaultHandled, DeviceAccessCompleted: no state.
  }

  // ---------------------------------------------------------------- CPU PTEs

  /** PteChanged: I8 (maps a freed pfn), I6/I7/I10 on a restore, I11 on a conversion, then I1/I2 at the page. */
  private void onPteChanged(Trace.PteChanged p) {
    PageKey k = page(p.mmId(), p.va());
    Trace.PteChanged old = ptes.get(k);
    PteState oldState = old == null ? PteState.NONE : old.state();
    if (holdsPfn(p.state()) && freed.contains(p.pfn())) {
      report("I8", where(k, p.pfn(), -1), "the PTE became " + p.state() + " on pfn " + hex(p.pfn())
          + ", which was already freed");
    }
    if (oldState == PteState.DEVEXCL && p.state() == PteState.PRESENT) checkRestore(k, p);
    if (p.state() == PteState.DEVEXCL && oldState != PteState.DEVEXCL) checkConversion(k, old, p);

    if (old != null && holdsPfn(old.state())) unindexMapper(old.pfn(), k);
    if (p.state() == PteState.NONE) ptes.remove(k);
    else ptes.put(k, p);
    if (holdsPfn(p.state())) mappers.computeIfAbsent(p.pfn(), x -> new HashSet<>()).add(k);

    TreeMap<Integer, Trace.DeviceEntryInstalled> atPage = entriesAtPage.get(k);
    if (atPage != null) {
      for (Trace.DeviceEntryInstalled entry : new ArrayList<>(atPage.values())) checkEntryAgainstCpu(k, entry);
    }
  }

  /**
   * DEVEXCL -> PRESENT. I6: the folio is locked and a covering invalidation is in progress whose callbacks were
   * all acked. I7: no make_device_exclusive caller still holds the folio lock. I10 (6.15+): a writable restore
   * of a dirty folio yields a dirty PTE.
   */
  private void checkRestore(PageKey k, Trace.PteChanged p) {
    long pfn = p.pfn();
    Long holder = lockHolder.get(pfn);
    if (holder != null) {
      report("I7", where(k, pfn, -1), "the DEVEXCL entry was restored while make_device_exclusive call "
          + hex(holder) + " still holds the folio lock (no FolioUnlockPut yet): conversion and restore overlap");
    }
    Trace.FolioChanged folio = folios.get(pfn);
    if (folio != null && !folio.locked()) {
      report("I6", where(k, pfn, -1), "the DEVEXCL entry was restored without the folio lock");
    }
    if (hasLiveSubscription(k.mmId())) {
      Invalidation best = null;
      for (Invalidation inv : inFlight.values()) {
        if (!inv.covers(k)) continue;
        if (unacked(inv).isEmpty()) {
          best = inv;
          break;
        }
        if (best == null) best = inv;
      }
      if (best == null) {
        report("I6", where(k, pfn, -1), "the DEVEXCL entry was restored with no covering invalidation in progress");
      } else if (!unacked(best).isEmpty()) {
        List<Long> missing = unacked(best);
        report("I6", where(k, pfn, -1), "the DEVEXCL entry was restored before invalidation " + best.started.invId()
            + " was acked by subscription(s) " + hexList(missing));
      }
    }
    if (profile == KernelProfile.V6_15 && p.write() && p.cause() != null && p.cause().contains("restore")
        && folio != null && folio.dirty() && !p.dirty()) {
      report("I10", where(k, pfn, -1), "a writable PTE restored from DEVEXCL is clean although the folio is dirty"
          + " (the data could be dropped without writeback)");
    }
  }

  /**
   * Entering DEVEXCL. I11: a private VMA (anonymous, or a file mapping whose page the write GUP turned into an
   * anonymous COW copy: mm/rmap.c make_device_exclusive() only refuses a folio that is not anon or is hugetlb),
   * anon-exclusive folio mapped by exactly this PTE. Also notes a dirty PTE whose dirtiness must reach the folio
   * (I10, judged with the counts at the end of the CPU step).
   */
  private void checkConversion(PageKey k, Trace.PteChanged old, Trace.PteChanged p) {
    Vma vma = vmaAt(k.mmId(), k.va());
    if (vma == null) {
      report("I11", where(k, p.pfn(), -1), "a DEVEXCL entry was written where no VMA maps the address");
    } else if (vma.kind() != VmaKind.ANON_PRIVATE && vma.kind() != VmaKind.FILE_PRIVATE) {
      report("I11", where(k, p.pfn(), -1), "a DEVEXCL entry was written in a " + vma.kind()
          + " VMA; only anonymous folios of private mappings can be device-exclusive");
    }
    Trace.FolioChanged folio = folios.get(p.pfn());
    if (folio != null) {
      boolean mapcountOk = folio.mapcount() == 1 || (profile == KernelProfile.V5_14 && folio.mapcount() == 0);
      if (!folio.anonExclusive() || !mapcountOk || folio.freed()) {
        report("I11", where(k, p.pfn(), -1), "a DEVEXCL entry was written for a folio that is not an anon-exclusive"
            + " page mapped once (anonExclusive=" + folio.anonExclusive() + ", mapcount=" + folio.mapcount()
            + ", freed=" + folio.freed() + ")");
      }
    }
    if (old != null && old.state() == PteState.PRESENT && old.dirty() && old.pfn() == p.pfn()) {
      dirtyPushPending.add(p.pfn());
    }
  }

  // ---------------------------------------------------------------- folios

  /**
   * FolioChanged: I7 (locked again while a make_device_exclusive caller holds it) and I8 (freed with references
   * or under a device entry) at once; the count checks wait for the end of the CPU burst ({@link #judgeCounts}).
   */
  private void onFolioChanged(Trace.FolioChanged f) {
    long pfn = f.pfn();
    Trace.FolioChanged old = folios.get(pfn);
    String where = "pfn=" + hex(pfn);
    Long holder = lockHolder.get(pfn);
    if (f.locked() && (old == null || !old.locked()) && holder != null) {
      report("I7", where, "the folio was locked again while make_device_exclusive call " + hex(holder)
          + " still holds its lock (no FolioUnlockPut yet)");
    }
    folios.put(pfn, f);
    if (pfn == ZERO_PAGE_PFN) return;
    countsToJudge.add(pfn);
    if (f.freed() && freed.add(pfn)) {
      if (f.refcount() != 0) {
        report("I8", where, "the folio was freed with refcount " + f.refcount());
      }
      Set<EntryKey> refs = entriesOfPfn.get(pfn);
      if (refs != null && !refs.isEmpty()) {
        EntryKey r = refs.iterator().next();
        report("I8", where, "the folio was freed while " + refs.size() + " device entr" + (refs.size() == 1 ? "y" : "ies")
            + " still reference it, e.g. dev" + r.deviceId() + " mm" + r.mmId() + " va=" + hex(r.vpn() << Page.SHIFT)
            + " (a device could access freed memory)");
      }
    }
  }

  /**
   * The checks that compare a folio's counters with the PTEs mapping it: I8 (refcount covers mapcount and every
   * mapping PTE; a freed folio is mapped by none), I9 (mapcount = PRESENT (+ DEVEXCL on 6.15) PTEs) and I10
   * (the dirtiness of a converted PTE reached the folio). The CPU node reports a PTE change and the folio
   * accounting for it as separate events of one step, in an order that mirrors the kernel's, so these are judged
   * for every folio that changed once the CPU node's run of PteChanged/FolioChanged/VmaChanged events ends (at its
   * next other event, or {@link #finish()}): a quiescent point where the change is complete. Events of other nodes
   * do not end the run, since where they fall between CPU events depends on arrival order.
   */
  private void judgeCounts() {
    if (countsToJudge.isEmpty() && dirtyPushPending.isEmpty()) return;
    for (long pfn : dirtyPushPending) {
      Trace.FolioChanged folio = folios.get(pfn);
      if (folio == null || !folio.dirty()) {
        report("I10", "pfn=" + hex(pfn), "the PTE was dirty when converted to DEVEXCL but the folio is not dirty");
      }
    }
    dirtyPushPending.clear();
    List<Long> pfns = new ArrayList<>(countsToJudge);
    countsToJudge.clear();
    for (long pfn : pfns) {
      Trace.FolioChanged f = folios.get(pfn);
      String where = "pfn=" + hex(pfn);
      int present = 0;
      int devexcl = 0;
      Set<PageKey> mapped = mappers.get(pfn);
      if (mapped != null) {
        for (PageKey k : mapped) {
          PteState st = ptes.get(k).state();
          if (st == PteState.PRESENT) present++;
          else if (st == PteState.DEVEXCL) devexcl++;
        }
      }
      if (f.freed()) {
        if (mapped != null && !mapped.isEmpty()) {
          report("I8", where, "the folio was freed while " + mapped.size() + " PTE(s) still map it, e.g. "
              + describe(mapped.iterator().next()));
        }
        continue;
      }
      if (f.refcount() < f.mapcount()) {
        report("I8", where, "refcount " + f.refcount() + " is below mapcount " + f.mapcount());
      } else if (f.refcount() < present + devexcl) {
        report("I8", where, "refcount " + f.refcount() + " is below the " + (present + devexcl)
            + " PTEs (PRESENT+DEVEXCL) that map the folio, each of which holds a reference");
      }
      int expected = profile == KernelProfile.V6_15 ? present + devexcl : present;
      if (f.mapcount() != expected) {
        report("I9", where, "mapcount " + f.mapcount() + " but " + present + " PRESENT and " + devexcl
            + " DEVEXCL PTE(s) map the folio (" + profile + " expects " + expected + ")");
      }
    }
  }

  // ---------------------------------------------------------------- VMAs and notifiers

  private void onVmaChanged(Trace.VmaChanged v) {
    TreeMap<Long, Vma> map = vmas.computeIfAbsent(v.mmId(), x -> new TreeMap<>());
    boolean hadWrite = false;
    for (Vma old : overlapping(map, v.start(), v.end())) {
      if ((old.prot() & Prot.WRITE) != 0) hadWrite = true;
      map.remove(old.start());
      if (old.start() < v.start()) map.put(old.start(), new Vma(old.start(), v.start(), old.prot(), old.kind()));
      if (old.end() > v.end()) map.put(v.end(), new Vma(v.end(), old.end(), old.prot(), old.kind()));
    }
    if (!v.removed()) map.put(v.start(), new Vma(v.start(), v.end(), v.prot(), v.kind()));
    if (hadWrite && (v.removed() || (v.prot() & Prot.WRITE) == 0)) {
      writeDowngrades.computeIfAbsent(v.mmId(), x -> new ArrayList<>()).add(new long[] {v.start(), v.end()});
    }
  }

  private void onNotifierRegistered(Trace.NotifierRegistered r) {
    deviceOfSub.put(r.subId(), r.deviceId());
    if (r.removed()) {
      subs.remove(r.subId());
      removedSubs.add(r.subId());
    } else {
      subs.put(r.subId(), r);
      removedSubs.remove(r.subId());
    }
  }

  private void onInvalidateStarted(Trace.InvalidateStarted s) {
    Invalidation inv = inFlight.get(s.invId());
    if (inv == null) {
      inv = new Invalidation(s);
      inFlight.put(s.invId(), inv);
      // Classic notifiers see every invalidation of their mm (called after the interval ones); expect them
      // even if the CPU node lists them in a later InvalidateStarted of the same invId.
      for (Trace.NotifierRegistered sub : subs.values()) {
        if (sub.kind() == NotifierKind.CLASSIC && sub.mmId() == s.mmId()
            && sub.start() < s.end() && s.start() < sub.end()) {
          inv.targets.add(sub.subId());
        }
      }
    }
    if (s.subIds() != null) inv.targets.addAll(s.subIds());
    List<Trace.InvalidateAcked> early = earlyAcks.remove(s.invId());
    if (early != null) {
      for (Trace.InvalidateAcked a : early) onInvalidateAcked(a);
    }
  }

  private void onInvalidateEnded(Trace.InvalidateEnded e) {
    Invalidation inv = inFlight.remove(e.invId());
    if (inv == null) return;
    inv.ended = true;
    ended.put(e.invId(), inv);
    if (e.applied()) {
      List<long[]> downgrades = writeDowngrades.get(inv.started.mmId());
      if (downgrades != null) {
        downgrades.removeIf(r -> inv.started.start() <= r[0] && r[1] <= inv.started.end());
      }
    }
  }

  /**
   * InvalidateAcked: I12 for an ignored callback; records the ack; once the device acked all of its callbacks
   * of the invalidation, I3 (it holds nothing in the range) and its access to the range ends.
   */
  private void onInvalidateAcked(Trace.InvalidateAcked a) {
    Invalidation inv = inFlight.get(a.invId());
    if (inv == null) inv = ended.get(a.invId());
    if (inv == null) {
      earlyAcks.computeIfAbsent(a.invId(), x -> new ArrayList<>()).add(a);
      return;
    }
    deviceOfSub.putIfAbsent(a.subId(), a.deviceId());
    inv.targets.add(a.subId());
    Trace.InvalidateStarted s = inv.started;
    if (a.ignored() && !ownerFilterApplies(s, a.deviceId())) {
      report("I12", "mm" + s.mmId() + " [" + hex(s.start()) + "," + hex(s.end()) + ") dev" + a.deviceId(),
          "subscription " + hex(a.subId()) + " ignored invalidation " + s.invId() + " (" + s.event() + ", owner "
              + hex(s.owner()) + ") but the device's owner cookie is " + hex(ownerOfDevice.getOrDefault(a.deviceId(), 0L))
              + ": only EXCLUSIVE/MIGRATE with the device's own cookie may be skipped");
    }
    if (!a.ok()) return; // non-blockable callback that could not take its lock: nothing was promised
    inv.acked.add(a.subId());
    if (!a.ignored()) {
      inv.applied.add(a.subId());
      SubSeq ss = subSeqs.computeIfAbsent(a.subId(), x -> new SubSeq());
      ss.callbacksSinceCheck++;
      ss.installSeqsUnjudged.clear();
    }
    int device = a.deviceId();
    if (!inv.ended && !inv.completedDevices.contains(device) && deviceAckedAll(inv, device)) {
      inv.completedDevices.add(device);
      onDeviceAckedAll(inv, device);
    }
  }

  /** I3 and the end of the device's access to the range, once it acked every callback of the invalidation. */
  private void onDeviceAckedAll(Invalidation inv, int device) {
    Trace.InvalidateStarted s = inv.started;
    boolean mayKeep = ownerFilterApplies(s, device);
    if (!mayKeep) {
      List<Trace.DeviceEntryInstalled> held = entriesIn(device, s.mmId(), s.start(), s.end());
      if (!held.isEmpty()) {
        Trace.DeviceEntryInstalled first = held.get(0);
        report("I3", where(page(first.mmId(), first.va()), first.pfn(), device), "dev" + device
            + " acked all its callbacks of invalidation " + s.invId() + " (" + s.event() + " [" + hex(s.start()) + ","
            + hex(s.end()) + ")) while still holding " + held.size() + " entr" + (held.size() == 1 ? "y" : "ies")
            + " in the range");
      }
    }
    Map<Long, Map<PageKey, Integer>> byPfn = grants.get(device);
    if (byPfn == null) return;
    for (Iterator<Map.Entry<Long, Map<PageKey, Integer>>> it = byPfn.entrySet().iterator(); it.hasNext(); ) {
      Map<PageKey, Integer> pages = it.next().getValue();
      pages.keySet().removeIf(k -> inv.covers(k) && !(mayKeep && entryAt(device, k) != null));
      if (pages.isEmpty()) it.remove();
    }
  }

  /**
   * I7 (lock discipline): a driver's user lock is never held across make_device_exclusive, read_begin or
   * hmm_range_fault, since the call's own invalidate callbacks take that lock (C10).
   */
  private void onDriverLockHeldAcross(Trace.DriverLockHeldAcross l) {
    report("I7", "mm" + l.mmId() + " va=" + hex(l.va()) + " dev" + l.deviceId(), "dev" + l.deviceId()
        + " called " + l.call() + " (req " + hex(l.reqId()) + ") holding its " + l.lock()
        + ": the call's own invalidate callbacks take that lock");
  }

  // ---------------------------------------------------------------- make_device_exclusive holds

  private void onExclusiveReturned(Trace.ExclusiveReturned x) {
    if (x.errno() != Errno.OK) return;
    holds.put(x.reqId(), x);
    if (x.folioLocked()) {
      Long other = lockHolder.get(x.pfn());
      if (other != null) {
        report("I7", "pfn=" + hex(x.pfn()) + " dev" + x.deviceId(), "make_device_exclusive " + hex(x.reqId())
            + " returned the folio locked while call " + hex(other) + " still holds its lock");
      }
      lockHolder.put(x.pfn(), x.reqId());
    }
  }

  /** I8: every FolioUnlockPut matches exactly one earlier successful make_device_exclusive. */
  private void onFolioUnlockPutDone(Trace.FolioUnlockPutDone u) {
    String where = "pfn=" + hex(u.pfn()) + " dev" + u.deviceId();
    if (holdsReleased.contains(u.reqId())) {
      report("I8", where, "a second folio_unlock()+folio_put() for make_device_exclusive " + hex(u.reqId())
          + " (one reference and one lock dropped twice)");
      return;
    }
    Trace.ExclusiveReturned hold = holds.remove(u.reqId());
    if (hold == null) {
      report("I8", where, "folio_unlock()+folio_put() for " + hex(u.reqId())
          + " without a successful make_device_exclusive of that reqId");
      return;
    }
    holdsReleased.add(u.reqId());
    lockHolder.remove(hold.pfn(), u.reqId());
  }

  /**
   * The dead caller's folio_unlock()+folio_put() done by the CPU node when the lease ran out: ends the hold like
   * FolioUnlockPutDone (I8: exactly one release per successful make_device_exclusive).
   */
  private void onLeaseExpired(Trace.FolioLockLeaseExpired x) {
    onFolioUnlockPutDone(new Trace.FolioUnlockPutDone(x.reqId(), x.deviceId(), x.pfn()));
  }

  /**
   * NodeGone from the CPU node: the GPU node's devices no longer exist, so their page tables and their access to
   * host memory end here (the CPU node drops every later message of theirs), and their later events are not
   * applied. Their subscriptions are removed by the NotifierRegistered events the CPU node emits with it.
   */
  private void onNodeGone(int reporter, Trace.NodeGone g) {
    if (reporter != 0 || g.nodeIndex() <= 0) return; // a GPU node reporting the CPU node's loss: nothing to shadow
    goneNodes.add(g.nodeIndex());
    for (Integer device : new ArrayList<>(deviceTables.keySet())) {
      if (device >> 4 != g.nodeIndex()) continue;
      Map<Integer, TreeMap<Long, Trace.DeviceEntryInstalled>> byMm = deviceTables.get(device);
      List<PageKey> pages = new ArrayList<>();
      for (Map.Entry<Integer, TreeMap<Long, Trace.DeviceEntryInstalled>> mm : byMm.entrySet()) {
        for (Long vpn : mm.getValue().keySet()) pages.add(new PageKey(mm.getKey(), vpn));
      }
      for (PageKey k : pages) removeEntry(device, k);
      grants.remove(device);
    }
  }

  /** Events of GPU nodes declared gone that were delivered after their NodeGone and not applied. */
  public long eventsOfGoneNodes() { return eventsOfGoneNodes; }

  /** GPU node indexes the CPU node declared gone (delivered NodeGone events of node 0). */
  public Set<Integer> goneNodes() { return Collections.unmodifiableSet(goneNodes); }

  /** Events delivered so far per trace event type ({@code NodeGone}, {@code FolioLockLeaseExpired}, ...). */
  public Map<String, Long> eventCounts() { return Collections.unmodifiableMap(eventCounts); }

  // ---------------------------------------------------------------- devices

  /**
   * DeviceEntryInstalled: I8 (freed pfn), I5 (an invalidation this device already acked is still running),
   * I4 (the critical section's seq was invalidated), then I1/I2 against the CPU PTE.
   */
  private void onDeviceEntryInstalled(Trace.DeviceEntryInstalled i) {
    PageKey k = page(i.mmId(), i.va());
    int device = i.deviceId();
    if (freed.contains(i.pfn())) {
      report("I8", where(k, i.pfn(), device), "a device entry was installed for pfn " + hex(i.pfn())
          + ", which was already freed");
    }
    for (Invalidation inv : inFlight.values()) {
      if (!inv.covers(k)) continue;
      for (Long sub : inv.applied) {
        if (deviceOfSub.getOrDefault(sub, -1) == device) {
          report("I5", where(k, i.pfn(), device), "dev" + device + " installed an entry while invalidation "
              + inv.started.invId() + " (" + inv.started.event() + "), whose callback on subscription " + hex(sub)
              + " it already acked, is still in progress");
          break;
        }
      }
    }
    if (i.seq() >= 0) checkInstallSeq(k, i);

    removeEntry(device, k);
    deviceTables.computeIfAbsent(device, x -> new TreeMap<>())
        .computeIfAbsent(i.mmId(), x -> new TreeMap<>()).put(k.vpn(), i);
    entriesAtPage.computeIfAbsent(k, x -> new TreeMap<>()).put(device, i);
    entriesOfPfn.computeIfAbsent(i.pfn(), x -> new HashSet<>()).add(new EntryKey(device, k.mmId(), k.vpn()));
    int perm = (i.read() ? PERM_READ : 0) | (i.write() ? PERM_WRITE : 0) | (i.atomic() ? PERM_ATOMIC : 0);
    grants.computeIfAbsent(device, x -> new HashMap<>()).computeIfAbsent(i.pfn(), x -> new HashMap<>())
        .merge(k, perm | PERM_READ, (a, b) -> a | b);

    checkEntryAgainstCpu(k, i);
  }

  /**
   * I4 for an install made under a seq check. A callback that takes effect always stores a fresh odd seq in the
   * subscription, so the subscription's seq at the install is known when the last read_retry reported it and
   * no callback ran since; an install whose seq differs from it (or matches a seq a later callback replaced) is
   * stale. Installs made before any read_retry are judged at the next read_retry.
   */
  private void checkInstallSeq(PageKey k, Trace.DeviceEntryInstalled i) {
    SubSeq ss = subSeqs.computeIfAbsent(i.subId(), x -> new SubSeq());
    if (ss.lastCheckedSubSeq != null) {
      long checked = ss.lastCheckedSubSeq;
      if (ss.callbacksSinceCheck == 0 && checked != i.seq()) {
        report("I4", where(k, i.pfn(), i.deviceId()), "installed with seq " + i.seq() + " but subscription "
            + hex(i.subId()) + " holds seq " + checked + " (read_retry must have forced a retry)");
      } else if (ss.callbacksSinceCheck > 0 && checked == i.seq()) {
        report("I4", where(k, i.pfn(), i.deviceId()), "installed with seq " + i.seq() + " although "
            + ss.callbacksSinceCheck + " invalidation callback(s) hit subscription " + hex(i.subId())
            + " after read_retry saw that seq");
      }
    }
    if (ss.installSeqsUnjudged.size() < 64) ss.installSeqsUnjudged.add(i.seq());
  }

  /** I4 for installs made before this read_retry with no callback in between: their seq must be the sub's. */
  private void onReadRetryChecked(Trace.ReadRetryChecked r) {
    SubSeq ss = subSeqs.computeIfAbsent(r.subId(), x -> new SubSeq());
    for (long seq : ss.installSeqsUnjudged) {
      if (seq != r.subSeq()) {
        report("I4", "sub " + hex(r.subId()) + " dev" + r.deviceId(), "an entry was installed with seq " + seq
            + " while subscription " + hex(r.subId()) + " already held seq " + r.subSeq()
            + " (mapped before read_retry, which then failed)");
        break;
      }
    }
    ss.installSeqsUnjudged.clear();
    ss.lastCheckedSubSeq = r.subSeq();
    ss.callbacksSinceCheck = 0;
  }

  /**
   * I1 (an atomic entry needs the PTE DEVEXCL with its pfn and no other device's atomic entry on that pfn) and
   * I2 (the entry's pfn is the PTE's, a W entry needs a writable PTE or DEVEXCL in a VM_WRITE VMA), the latter
   * exempt while an invalidation covering the page waits for this device's acks.
   */
  private void checkEntryAgainstCpu(PageKey k, Trace.DeviceEntryInstalled entry) {
    int device = entry.deviceId();
    Trace.PteChanged pte = ptes.get(k);
    PteState state = pte == null ? PteState.NONE : pte.state();
    long ptePfn = pte == null ? 0 : pte.pfn();
    String where = where(k, entry.pfn(), device);
    if (entry.atomic()) {
      if (state != PteState.DEVEXCL || ptePfn != entry.pfn()) {
        report("I1", where, "dev" + device + " holds an atomic entry to pfn " + hex(entry.pfn())
            + " but the CPU PTE is " + describePte(pte));
      }
      Set<EntryKey> refs = entriesOfPfn.get(entry.pfn());
      if (refs != null) {
        for (EntryKey r : refs) {
          if (r.deviceId() == device) continue;
          Trace.DeviceEntryInstalled other = entryAt(r.deviceId(), new PageKey(r.mmId(), r.vpn()));
          if (other != null && other.atomic()) {
            report("I1", where, "dev" + device + " and dev" + r.deviceId() + " both hold an atomic entry to pfn "
                + hex(entry.pfn()));
            break;
          }
        }
      }
    }
    if (inTransientWindow(device, k)) return;
    if ((state != PteState.PRESENT && state != PteState.DEVEXCL) || ptePfn != entry.pfn()) {
      report("I2", where, "dev" + device + " maps pfn " + hex(entry.pfn()) + " but the CPU PTE is "
          + describePte(pte));
      return;
    }
    if (entry.write()) {
      if (state == PteState.PRESENT && !pte.write()) {
        report("I2", where, "dev" + device + " holds a writable entry but the CPU PTE is read-only");
      } else if (state == PteState.DEVEXCL && !vmaWritable(k) && !writeDowngradePending(k)) {
        report("I2", where, "dev" + device + " holds a writable entry to a DEVEXCL page whose VMA lacks PROT_WRITE");
      }
    }
  }

  /** I10: a device reaches host memory only through an entry it was not told to drop; I8: never freed memory. */
  private void onHostMemoryAccessed(Trace.HostMemoryAccessed h) {
    long pfn = h.pfn();
    if (h.deviceId() < 0) {
      checkCpuAccess(h);
      return;
    }
    String where = "pfn=" + hex(pfn) + " dev" + h.deviceId();
    if (freed.contains(pfn)) {
      report("I8", where, "dev" + h.deviceId() + " " + h.access() + " reached pfn " + hex(pfn) + " after it was freed");
    }
    int need = h.access() == Access.READ ? (PERM_READ | PERM_WRITE | PERM_ATOMIC)
        : h.access() == Access.WRITE ? (PERM_WRITE | PERM_ATOMIC) : PERM_ATOMIC;
    int have = 0;
    Map<Long, Map<PageKey, Integer>> byPfn = grants.get(h.deviceId());
    Map<PageKey, Integer> pages = byPfn == null ? null : byPfn.get(pfn);
    if (pages != null) {
      for (int perm : pages.values()) have |= perm;
    }
    if ((have & need) == 0) {
      report("I10", where, have == 0
          ? "dev" + h.deviceId() + " " + h.access() + " reached pfn " + hex(pfn)
              + " without an entry (none installed, or it acked an invalidation of the page since)"
          : "dev" + h.deviceId() + " " + h.access() + " reached pfn " + hex(pfn) + " through an entry lacking "
              + (h.access() == Access.WRITE ? "W/A" : "A") + " permission");
    }
  }

  /** I1: a CPU thread never reaches a pfn while a DEVEXCL entry maps it (it must fault and restore first). */
  private void checkCpuAccess(Trace.HostMemoryAccessed h) {
    if (h.threadId() < 0 || h.pfn() == ZERO_PAGE_PFN) return;
    Set<PageKey> mapped = mappers.get(h.pfn());
    if (mapped == null) return;
    for (PageKey k : mapped) {
      if (ptes.get(k).state() == PteState.DEVEXCL) {
        report("I1", where(k, h.pfn(), -1), "CPU thread " + h.threadId() + " " + h.access() + " reached pfn "
            + hex(h.pfn()) + " while its PTE is DEVEXCL");
        return;
      }
    }
  }

  // ================================================================= helpers: invalidations

  /** EXCLUSIVE or MIGRATE carrying the device's own (non-NULL) owner cookie: the device may skip it. */
  private boolean ownerFilterApplies(Trace.InvalidateStarted s, int device) {
    if (s.event() != NotifyEvent.EXCLUSIVE && s.event() != NotifyEvent.MIGRATE) return false;
    Long cookie = ownerOfDevice.get(device);
    return s.owner() != 0 && cookie != null && cookie == s.owner();
  }

  /** True when the device acked every callback of the invalidation addressed to a live subscription of it. */
  private boolean deviceAckedAll(Invalidation inv, int device) {
    boolean any = false;
    for (Long sub : inv.targets) {
      if (deviceOfSub.getOrDefault(sub, -1) != device) continue;
      if (inv.acked.contains(sub)) any = true;
      else if (!removedSubs.contains(sub)) return false;
    }
    return any;
  }

  /** Live subscriptions the invalidation addressed that have not acked yet. */
  private List<Long> unacked(Invalidation inv) {
    List<Long> missing = new ArrayList<>();
    for (Long sub : inv.targets) {
      if (!inv.acked.contains(sub) && !removedSubs.contains(sub)) missing.add(sub);
    }
    return missing;
  }

  private boolean targets(Invalidation inv, int device) {
    for (Long sub : inv.targets) {
      if (deviceOfSub.getOrDefault(sub, -1) == device) return true;
    }
    return false;
  }

  /** An invalidation covering the page has started and this device has not acked all its callbacks yet. */
  private boolean inTransientWindow(int device, PageKey k) {
    for (Invalidation inv : inFlight.values()) {
      if (inv.covers(k) && targets(inv, device) && !inv.completedDevices.contains(device)) return true;
    }
    return false;
  }

  private boolean hasLiveSubscription(int mmId) {
    for (Trace.NotifierRegistered sub : subs.values()) {
      if (sub.mmId() == mmId) return true;
    }
    return false;
  }

  // ================================================================= helpers: state

  private static boolean holdsPfn(PteState s) {
    return s == PteState.PRESENT || s == PteState.DEVEXCL || s == PteState.MIGRATION;
  }

  private void unindexMapper(long pfn, PageKey k) {
    Set<PageKey> set = mappers.get(pfn);
    if (set == null) return;
    set.remove(k);
    if (set.isEmpty()) mappers.remove(pfn);
  }

  private Trace.DeviceEntryInstalled entryAt(int device, PageKey k) {
    TreeMap<Integer, Trace.DeviceEntryInstalled> atPage = entriesAtPage.get(k);
    return atPage == null ? null : atPage.get(device);
  }

  private void removeEntry(int device, PageKey k) {
    Map<Integer, TreeMap<Long, Trace.DeviceEntryInstalled>> byMm = deviceTables.get(device);
    if (byMm == null) return;
    TreeMap<Long, Trace.DeviceEntryInstalled> table = byMm.get(k.mmId());
    if (table == null) return;
    Trace.DeviceEntryInstalled old = table.remove(k.vpn());
    if (old == null) return;
    TreeMap<Integer, Trace.DeviceEntryInstalled> atPage = entriesAtPage.get(k);
    if (atPage != null) {
      atPage.remove(device);
      if (atPage.isEmpty()) entriesAtPage.remove(k);
    }
    Set<EntryKey> refs = entriesOfPfn.get(old.pfn());
    if (refs != null) {
      refs.remove(new EntryKey(device, k.mmId(), k.vpn()));
      if (refs.isEmpty()) entriesOfPfn.remove(old.pfn());
    }
  }

  /** The device's entries of mm on pages intersecting [start,end), in address order. */
  private List<Trace.DeviceEntryInstalled> entriesIn(int device, int mmId, long start, long end) {
    Map<Integer, TreeMap<Long, Trace.DeviceEntryInstalled>> byMm = deviceTables.get(device);
    if (byMm == null || end <= start) return List.of();
    TreeMap<Long, Trace.DeviceEntryInstalled> table = byMm.get(mmId);
    if (table == null) return List.of();
    return new ArrayList<>(table.subMap(Page.vpn(start), true, Page.vpn(end - 1), true).values());
  }

  private Vma vmaAt(int mmId, long va) {
    TreeMap<Long, Vma> map = vmas.get(mmId);
    if (map == null) return null;
    Map.Entry<Long, Vma> e = map.floorEntry(va);
    return e != null && va < e.getValue().end() ? e.getValue() : null;
  }

  private static List<Vma> overlapping(TreeMap<Long, Vma> map, long start, long end) {
    List<Vma> out = new ArrayList<>();
    Map.Entry<Long, Vma> first = map.floorEntry(start);
    if (first != null && first.getValue().end() > start) out.add(first.getValue());
    for (Vma v : map.subMap(start, false, end, false).values()) out.add(v);
    return out;
  }

  private boolean vmaWritable(PageKey k) {
    Vma vma = vmaAt(k.mmId(), k.va());
    return vma != null && (vma.prot() & Prot.WRITE) != 0;
  }

  private boolean writeDowngradePending(PageKey k) {
    List<long[]> ranges = writeDowngrades.get(k.mmId());
    if (ranges == null) return false;
    for (long[] r : ranges) {
      if (intersects(r[0], r[1], k.va())) return true;
    }
    return false;
  }

  private static boolean intersects(long start, long end, long pageVa) {
    return pageVa < end && pageVa + Page.SIZE > start;
  }

  private static PageKey page(int mmId, long va) { return new PageKey(mmId, Page.vpn(va)); }

  // ================================================================= helpers: reporting

  private void report(String invariant, String where, String detail) {
    if (violations.size() >= VIOLATIONS_KEPT_MAX) {
      violationsDropped++;
      return;
    }
    violations.add(new Violation(invariant, where, detail, lastEvents(RECENT_IN_VIOLATION)));
  }

  private List<String> lastEvents(int n) {
    int skip = Math.max(0, recent.size() - Math.max(0, n));
    List<String> out = new ArrayList<>(Math.min(n, recent.size()));
    int i = 0;
    for (String s : recent) {
      if (i++ >= skip) out.add(s);
    }
    return out;
  }

  private static String where(PageKey k, long pfn, int device) {
    return "mm" + k.mmId() + " va=" + hex(k.va()) + " pfn=" + hex(pfn) + (device >= 0 ? " dev" + device : "");
  }

  private String describe(PageKey k) {
    return "mm" + k.mmId() + " va=" + hex(k.va()) + " " + describePte(ptes.get(k));
  }

  private static String describePte(Trace.PteChanged pte) {
    if (pte == null) return "NONE";
    return pte.state() + (pte.state() == PteState.NONE ? "" : " pfn=" + hex(pte.pfn()))
        + (pte.state() == PteState.PRESENT ? (pte.write() ? " W" : " RO") + (pte.dirty() ? " D" : "") : "");
  }

  private static String hex(long v) { return EventFormat.hex(v); }

  private static String hexList(List<Long> values) {
    List<String> out = new ArrayList<>();
    for (long v : values) out.add(hex(v));
    return String.join(",", out);
  }
}
