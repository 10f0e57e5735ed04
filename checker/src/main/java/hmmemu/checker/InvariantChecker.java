package hmmemu.checker;

import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.trace.TraceFields;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The one global invariant checker (docs/PROTOCOL.md §6). It receives every node's stamped trace events in any
 * order, releases them in causal order ({@link CausalDelivery}), rebuilds a shadow of the global state (CPU
 * PTEs, folios, VMAs, notifier subscriptions, owner cookies, in-flight invalidations and their acks, device
 * page tables, and which device may access which pfn) and checks I1..I13 after each event. Because events are
 * applied in a linear extension of happens-before, each check judges a consistent cut: a violation is never
 * an artefact of message delays.
 *
 * <p>Checks fire on the event that could break an invariant, not on every event; each rule's trigger is
 * stated at its method in the rule classes ({@link CpuRules}, {@link DeviceRules}, {@link InvalidationRules},
 * {@link LockRules}). Checks comparing folio counters with PTEs (I8 counts, I9) are judged once the CPU
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
 * <p>Incremental: judging one event costs what the event touches (its page, its pfn's mappers, the device's
 * entries in an invalidated range, the in-flight invalidations), never the size of memory or the number of
 * subscriptions. Robust: a malformed stamp is rejected and counted ({@link #rejected()}), and a GPU node the CPU
 * node declared gone no longer holds back the events that depend on its lost ones ({@link #lostEvents()}).
 *
 * <p>Pure: no Pekko, no clock, no I/O, not thread-safe (one owner).
 */
public final class InvariantChecker {
  /** Events quoted in each violation. */
  public static final int RECENT_IN_VIOLATION = Reporter.RECENT_IN_VIOLATION;
  /** The shared zero page (pfn 1): mapped by many PTEs, no mapcount kept, never freed. */
  public static final long ZERO_PAGE_PFN = CpuRules.ZERO_PAGE_PFN;
  private static final int REJECTED_KEPT = 100;

  private final KernelProfile profile;
  private final CausalDelivery delivery = new CausalDelivery();
  private final Reporter out = new Reporter();
  private final NotifierShadow notifiers = new NotifierShadow();
  private final DeviceShadow devices = new DeviceShadow();
  private final FolioLockShadow locks = new FolioLockShadow();
  private final CpuRules cpu;
  private final DeviceRules device;
  private final InvalidationRules invalidations;
  private final LockRules lockRules;
  private long applied;

  /** GPU nodes the CPU node declared gone (NodeGone): their later events describe a device that no longer exists. */
  private final Set<Integer> goneNodes = new HashSet<>();
  /** GPU nodes named by a CPU NodeGone that arrived, delivered or not. */
  private final Set<Integer> declaredGone = new TreeSet<>();
  private long eventsOfGoneNodes;
  /** Events delivered so far, by trace event type. */
  private final Map<Class<?>, long[]> eventCounts = new IdentityHashMap<>();
  /**
   * With {@link #countByField}: events delivered so far by event type, filterable field (TraceFields order) and
   * value, each count a long[1]; {@link #fieldCounts()} spells the keys {@code Type.field=value} only when asked (no
   * string, no sorted-map walk and no boxed count per event: issue 12). Maps and arrays only, so a fast-forward
   * picture names every count's leaf by this site, as the string-keyed table it replaces.
   */
  private final Map<Class<?>, Map<Object, long[]>[]> fieldCounts = new IdentityHashMap<>();
  private boolean countByField;
  /**
   * With {@link #countByField}: the {@code Type.field} pairs counted, or null for every filterable field (session 24,
   * simcost8: a file reads a few; counting every field of every event was ~8 % of exploring t05).
   */
  private Set<String> countedFields;
  private long rejected;
  private final List<String> rejectedReasons = new ArrayList<>();

  /** A checker for kernel 6.15+ semantics. */
  public InvariantChecker() { this(KernelProfile.V6_15); }

  /** A checker for the given kernel generation (I9 and I10 differ between them). */
  public InvariantChecker(KernelProfile profile) {
    this.profile = profile;
    PteShadow ptes = new PteShadow();
    VmaShadow vmas = new VmaShadow();
    FolioShadow folios = new FolioShadow();
    this.device = new DeviceRules(out, ptes, vmas, folios, notifiers, devices);
    this.cpu = new CpuRules(profile, out, ptes, vmas, folios, locks, notifiers, devices, device);
    cpu.dependsOnLostEvent = node -> current != null && delivery.dependsOnSkipped(node, current.vc());
    device.dependsOnLostEvent = cpu.dependsOnLostEvent;
    this.invalidations = new InvalidationRules(out, vmas, notifiers, devices);
    this.lockRules = new LockRules(out, locks);
    this.vmas = vmas;
  }

  private final VmaShadow vmas;

  public KernelProfile profile() { return profile; }

  /** Judges a whole recorded stream (any arrival order) without actors, then {@link #finish()}es it. */
  public static InvariantChecker judge(KernelProfile profile, Iterable<Stamped> events) {
    InvariantChecker c = new InvariantChecker(profile);
    c.offerAll(events);
    c.finish();
    return c;
  }

  // ================================================================= public API

  /**
   * Offers one stamped event (any arrival order). Every event that becomes causally deliverable is applied
   * to the shadow state and checked; returns the violations found while applying them (usually empty). A
   * malformed stamp is rejected: counted, described in {@link #describeRejected()}, and otherwise ignored.
   */
  public List<Violation> offer(Stamped event) {
    String bad = CausalDelivery.malformed(event);
    if (bad != null) {
      reject(bad);
      return List.of();
    }
    int before = out.count();
    long droppedBefore = out.dropped();
    if (delivery.deliverDirect(event)) applyOne(event); // the common case: deliverable on arrival, nothing buffered
    else applyAll(delivery.offer(event));
    // The CPU node declared a GPU node gone (membership's word): the shell may release that node's missing events
    // once its in-flight batches had time to arrive (nodeLost); arrival order alone must not skip anything.
    if (event.node() == 0 && event.event() instanceof Trace.NodeGone g && g.nodeIndex() > 0) {
      declaredGone.add(g.nodeIndex());
    }
    if (out.count() == before && out.dropped() == droppedBefore) return List.of();
    return out.since(before);
  }

  /** Offers every event in order; returns the violations found meanwhile. */
  public List<Violation> offerAll(Iterable<Stamped> events) {
    int before = out.count();
    for (Stamped s : events) offer(s);
    return out.since(before);
  }

  /**
   * GPU nodes a CPU NodeGone that arrived (delivered or still buffered) names and that are not {@link #nodeLost lost}
   * yet: the shell calls {@link #nodeLost} for them once their last batches had time to arrive.
   */
  public Set<Integer> declaredGoneNotLost() {
    Set<Integer> out = new TreeSet<>();
    for (int n : declaredGone) if (!delivery.isLost(n)) out.add(n);
    return out;
  }

  /**
   * Membership says node {@code node} is gone: its events that never arrive stop holding back the events that
   * depend on them (see {@link CausalDelivery#nodeLost}); the skipped events are reported by {@link #lostEvents()}.
   * Returns the violations found applying what this released.
   */
  public List<Violation> nodeLost(int node) {
    int before = out.count();
    applyAll(delivery.nodeLost(node));
    return out.since(before);
  }

  /** Every violation found so far, in the order found (at most 100 000 are kept). */
  public List<Violation> violations() { return out.violations(); }

  /** Events applied (delivered in causal order) so far. */
  public long delivered() { return applied; }

  /** Events delivered of one node (lost events skipped included). */
  public long delivered(int node) { return delivery.delivered(node); }

  /** Events buffered until what they depend on arrives. */
  public int pending() { return delivery.pending(); }

  /** Offered events dropped as duplicates. */
  public long duplicates() { return delivery.duplicates(); }

  /** Stamps rejected as malformed (and events whose application failed), in all. */
  public long rejected() { return rejected; }

  /** Why stamps were rejected, one line each (the first 100). */
  public String describeRejected() { return String.join("\n", rejectedReasons); }

  /** The missing events of lost nodes that were skipped: which node, how many, which vector-clock entries. */
  public List<CausalDelivery.Skip> lostEvents() { return delivery.skips(); }

  /** Events of lost nodes skipped in all. */
  public long lostEventCount() { return delivery.lostTotal(); }

  /** One line per skipped run of lost events, or "" when none was lost. */
  public String describeLost() {
    String s = delivery.describeLost();
    return delivery.late() == 0 ? s : s + "\n" + delivery.late() + " skipped event(s) arrived late and were dropped";
  }

  /**
   * True when at least {@code perNodeCounts[i]} events of every node i were delivered and checked. Counts taken
   * from the nodes' shells end at a step boundary, so when exactly {@code perNodeCounts[0]} CPU events were
   * delivered the checks deferred to the end of the CPU node's step are judged here as well.
   */
  public boolean caughtUp(long[] perNodeCounts) {
    boolean caughtUp = delivery.caughtUp(perNodeCounts);
    if (caughtUp && (perNodeCounts.length == 0 || delivery.delivered(0) == perNodeCounts[0])) cpu.judgeCounts();
    return caughtUp;
  }

  /**
   * Ends the run: judges the checks deferred to the end of the CPU node's current step (I8 counts, I9, I10
   * dirtiness) and returns the violations this found. Call once every event was offered.
   */
  public List<Violation> finish() {
    int before = out.count();
    cpu.judgeCounts();
    return out.since(before);
  }

  /** Why buffered events wait (for diagnosing a checker that does not catch up). */
  public String describePending() { return delivery.describePending(); }

  /** The last {@code n} applied events, oldest first, one per line. */
  public String describeRecent(int n) { return String.join("\n", out.lastEvents(n)); }

  /** Violations found per invariant id, e.g. {@code {I3=1}}. */
  public Map<String, Integer> countsByInvariant() { return out.countsByInvariant(); }

  /** make_device_exclusive calls that returned OK and whose FolioUnlockPut has not been seen (liveness L3). */
  public List<Long> outstandingExclusiveHolds() { return locks.outstanding(); }

  /** Events of GPU nodes declared gone that were delivered after their NodeGone and not applied. */
  public long eventsOfGoneNodes() { return eventsOfGoneNodes; }

  /** GPU node indexes the CPU node declared gone (delivered NodeGone events of node 0). */
  public Set<Integer> goneNodes() { return Collections.unmodifiableSet(goneNodes); }

  /**
   * Also counts delivered events per filterable field value (TraceFields, keys {@code Type.field=value}), for the
   * scenario language's filtered trace counts. Off by default: it costs a reflective read per field and event.
   */
  public void countByField(boolean on) {
    countByField = on;
    countedFields = null;
  }

  /**
   * Counts delivered events per value of only the named filterable fields ({@code Type.field}, e.g. {@code
   * CpuFaulted.kind}); {@link #fieldCounts()} then holds their keys, with the same counts as {@link #countByField}
   * gives them. An empty set counts nothing. Call before the first event.
   */
  public void countByField(Set<String> fields) {
    countByField = !fields.isEmpty();
    countedFields = countByField ? Set.copyOf(fields) : null;
  }

  /** With {@link #countByField}: events delivered so far per {@code Type.field=value}. */
  public Map<String, Long> fieldCounts() {
    Map<String, Long> counts = new TreeMap<>();
    for (Map.Entry<Class<?>, Map<Object, long[]>[]> e : fieldCounts.entrySet()) {
      String type = e.getKey().getSimpleName();
      List<String> names = FieldCounts.names(e.getKey());
      Map<Object, long[]>[] byField = e.getValue();
      for (int f = 0; f < byField.length; f++) {
        if (byField[f] == null) continue; // a field not counted (countByField(Set))
        for (Map.Entry<Object, long[]> v : byField[f].entrySet()) {
          counts.merge(TraceFields.key(type, names.get(f), String.valueOf(v.getKey())), v.getValue()[0], Long::sum);
        }
      }
    }
    return Collections.unmodifiableMap(counts);
  }

  /** Events delivered so far per trace event type ({@code NodeGone}, {@code FolioLockLeaseExpired}, ...). */
  public Map<String, Long> eventCounts() {
    Map<String, Long> counts = new TreeMap<>();
    for (Map.Entry<Class<?>, long[]> e : eventCounts.entrySet()) counts.put(e.getKey().getSimpleName(), e.getValue()[0]);
    return Collections.unmodifiableMap(counts);
  }

  // ================================================================= apply

  private void applyAll(List<Stamped> released) {
    for (int i = 0; i < released.size(); i++) applyOne(released.get(i));
  }

  private void applyOne(Stamped s) {
    try {
      apply(s);
    } catch (RuntimeException e) {
      reject("n" + s.node() + "#" + s.seq() + " " + s.event().getClass().getSimpleName() + " could not be judged: " + e);
    }
  }

  private void reject(String reason) {
    rejected++;
    if (rejectedReasons.size() < REJECTED_KEPT) rejectedReasons.add(reason);
  }

  /** Who else sees each event as it is applied, in causal delivery order (a run recorder), or null. */
  private java.util.function.Consumer<Stamped> onApplied;

  /**
   * Hands every event to {@code listener} as it is applied, in the causal order the checker judges it (run records,
   * docs/OBSERVABILITY.md); null stops. The listener sees; it changes nothing the checker judges.
   */
  public void onApplied(java.util.function.Consumer<Stamped> listener) { this.onApplied = listener; }

  private void apply(Stamped s) {
    if (onApplied != null) onApplied.accept(s);
    current = s;
    Trace.Event e = s.event();
    // A GPU event released in the middle of a CPU step (it is concurrent with it) does not end that step.
    boolean endsCpuBurst = s.node() == 0
        && !(e instanceof Trace.PteChanged || e instanceof Trace.FolioChanged || e instanceof Trace.VmaChanged);
    if (endsCpuBurst) cpu.judgeCounts();
    applied++;
    eventCounts.computeIfAbsent(e.getClass(), x -> new long[1])[0]++;
    if (countByField) FieldCounts.count(fieldCounts, e, countedFields);
    out.record(s);
    if (!goneNodes.isEmpty() && goneNodes.contains(s.node())) {
      eventsOfGoneNodes++; // concurrent with the NodeGone (emitted before the crash, or by a downed zombie)
      return;
    }
    if (e instanceof Trace.PteChanged p) cpu.onPteChanged(p);
    else if (e instanceof Trace.NodeGone g) onNodeGone(s.node(), g);
    else if (e instanceof Trace.FolioLockLeaseExpired x) lockRules.onLeaseExpired(x);
    else if (e instanceof Trace.FolioChanged f) cpu.onFolioChanged(f);
    else if (e instanceof Trace.VmaChanged v) vmas.apply(v);
    else if (e instanceof Trace.NotifierRegistered r) notifiers.registered(r);
    else if (e instanceof Trace.InvalidateStarted i) invalidations.onInvalidateStarted(i);
    else if (e instanceof Trace.InvalidateEnded i) invalidations.onInvalidateEnded(i);
    else if (e instanceof Trace.HostMemoryAccessed h) onHostMemoryAccessed(h);
    else if (e instanceof Trace.ExclusiveReturned x) lockRules.onExclusiveReturned(x);
    else if (e instanceof Trace.FolioUnlockPutDone u) lockRules.onFolioUnlockPutDone(u);
    else if (e instanceof Trace.DriverBound b) notifiers.ownerOfDevice.put(b.deviceId(), b.owner());
    else if (e instanceof Trace.DeviceEntryInstalled i) device.onDeviceEntryInstalled(i);
    else if (e instanceof Trace.DeviceEntryZapped z) devices.remove(z.deviceId(), PageKey.of(z.mmId(), z.va()));
    else if (e instanceof Trace.InvalidateAcked a) invalidations.onInvalidateAcked(a);
    else if (e instanceof Trace.ReadRetryChecked r) device.onReadRetryChecked(r);
    else if (e instanceof Trace.DriverLockHeldAcross l) lockRules.onDriverLockHeldAcross(l);
    // CpuFaulted, DeviceAccessIssued, DeviceFaulted, DriverFaultHandled, DeviceAccessCompleted: no state.
  }

  /** HostMemoryAccessed: a CPU thread's access (I1) or a device's (I8, I10). */
  private void onHostMemoryAccessed(Trace.HostMemoryAccessed h) {
    if (h.deviceId() < 0) {
      cpu.checkCpuAccess(h);
    } else if (delivery.isLost(hmmemu.protocol.msg.Ids.nodeOfDevice(h.deviceId()))) {
      // The device's node is lost: some of its events (the DeviceEntryInstalled that granted this access, say) were
      // skipped, so its page table is unknown here. I10 cannot be judged; I8 (a CPU-side fact) still is.
      accessesOfLostNodesNotJudged++;
      device.onDeviceAccessOfLostNode(h);
    } else {
      device.onDeviceAccess(h);
    }
  }

  /** The event being applied (for rules that ask what it depends on). */
  private Stamped current;

  /**
   * DEVEXCL restores (or swap/migration) whose covering invalidation lacked only acks that were events of a lost GPU
   * node, skipped while the restore depends on them: I6 not judged for those subscriptions (the acks were received).
   */
  public long restoresWithLostAcks() { return cpu.restoresWithLostAcks; }

  /** Device entries not checked against the CPU PTE (I1/I2) because the CPU event depended on their node's lost events. */
  public long entriesOfLostNodesNotJudged() { return device.entriesOfLostNodesNotJudged; }

  /** Device accesses of lost GPU nodes whose I10 was not judged (their page tables are unknown to the checker). */
  public long accessesOfLostNodesNotJudged() { return accessesOfLostNodesNotJudged; }

  private long accessesOfLostNodesNotJudged;

  /**
   * NodeGone from the CPU node: the GPU node's devices no longer exist, so their page tables and their access to
   * host memory end here (the CPU node drops every later message of theirs), and their later events are not
   * applied. Their subscriptions are removed by the NotifierRegistered events the CPU node emits with it.
   */
  private void onNodeGone(int reporter, Trace.NodeGone g) {
    if (reporter != 0 || g.nodeIndex() <= 0) return; // a GPU node reporting the CPU node's loss: nothing to shadow
    goneNodes.add(g.nodeIndex());
    devices.dropDevices(d -> hmmemu.protocol.msg.Ids.nodeOfDevice(d) == g.nodeIndex());
  }
}
