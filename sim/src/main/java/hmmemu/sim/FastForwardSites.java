package hmmemu.sim;

import java.util.Map;

/**
 * The fast-forward's lists of sites ("declaring class#field") and what a leaf of each may do in a jump: the identity
 * families a jump leaves where they are, the leaves it advances, the report-only ones, the microsecond ones, and
 * which sites hold instants that bound a jump (ns, µs or either); each site's classification cached. An
 * emulator-only host mechanism, not a kernel structure (moved unchanged out of {@link FastForward}).
 */
final class FastForwardSites {
  private FastForwardSites() {}

  /**
   * Identity families: moving leaves left where they are, with the reason. A run that continues with them where they
   * were is the unskipped run with each family shifted by a constant: they enter behaviour only compared with each
   * other (equality, order: each family only grows), never with time or a statistic. Every member of a family is
   * here, so no family is split between shifted and unshifted places.
   */
  static final Map<String, String> IDENTITY = Map.ofEntries(
      Map.entry("hmmemu.sim.EventQueue$Event#source", "agenda source ids: a Scheduler's keys, compared for equality"),
      Map.entry("hmmemu.sim.Sim#scheduled", "the counter of agenda source ids"),
      Map.entry("hmmemu.cpu.core.MmuNotifier#nextInvId", "invalidation ids: the next one"),
      Map.entry("hmmemu.protocol.trace.Trace$InvalidateStarted#invId", "invalidation ids in the checker's records"),
      Map.entry("hmmemu.checker.NotifierShadow#ended", "invalidation ids: the checker's ended ones, looked up by id"),
      Map.entry("hmmemu.checker.NotifierShadow#endedOrder", "invalidation ids: the order of the ended ones"),
      Map.entry("hmmemu.cpu.core.Mm#seq", "the interval notifier's seq (mmu_interval_read_begin/retry compare it)"),
      Map.entry("hmmemu.cpu.core.Subscription#seq", "the interval notifier's seq of a subscription"),
      Map.entry("hmmemu.gpu.core.driver.Subscription#seq", "the driver's copy of a subscription's seq"),
      Map.entry("hmmemu.gpu.core.driver.IntervalReadLoop#seq", "read_begin's seq, compared with the notifier's"),
      Map.entry("hmmemu.checker.NotifierShadow$SubSeq#lastCheckedSubSeq", "the checker's last read_retry seq"),
      Map.entry("hmmemu.checker.NotifierShadow$SubSeq#installSeqsUnjudged", "the checker's seqs of installs to judge"),
      Map.entry("hmmemu.gpu.core.device.DeviceIds#reqCounter", "the driver's reqIds: the next one"),
      Map.entry("hmmemu.gpu.core.driver.IntervalReadLoop#pendingReqId", "the driver's reqId awaited"),
      Map.entry("hmmemu.gpu.core.driver.NouveauFault#exclusiveReqId", "the driver's make_device_exclusive reqId"),
      Map.entry("hmmemu.gpu.core.driver.Replies#exclusive", "replies awaited, by the driver's reqId"),
      Map.entry("hmmemu.cpu.core.DeviceExclusive#grants", "device-exclusive grants, by the driver's reqId"),
      Map.entry("hmmemu.cpu.core.DeviceExclusive$Grant#reqId", "a grant's driver reqId"),
      Map.entry("hmmemu.cpu.core.DeviceExclusive$ExclusiveOp#reqId", "a pending make_device_exclusive's driver reqId"),
      Map.entry("hmmemu.protocol.msg.HmmProtocol$MakeDeviceExclusive#reqId", "a request in flight: its reqId"),
      Map.entry("hmmemu.protocol.msg.HmmProtocol$MakeDeviceExclusiveReply#reqId", "a reply in flight: its reqId"),
      Map.entry("hmmemu.protocol.msg.HmmProtocol$FolioUnlockPut#reqId", "a release in flight: its reqId"),
      Map.entry("hmmemu.checker.FolioLockShadow#holds", "the checker's folio lock holds, by reqId"),
      Map.entry("hmmemu.checker.FolioLockShadow#lockHolder", "the checker's folio lock holder, a reqId"),
      Map.entry("hmmemu.checker.FolioLockShadow#released", "the checker's released reqIds, looked up by id"),
      Map.entry("hmmemu.checker.FolioLockShadow#releasedOrder", "the order of the released reqIds"),
      Map.entry("hmmemu.protocol.trace.VectorClock#v", "vector clocks: compared entry by entry only"),
      Map.entry("hmmemu.sim.ModeledLinkStage$Copy#vc", "the vector clock a message in flight carries"),
      Map.entry("hmmemu.checker.CausalDelivery#delivered", "the checker's delivered prefix per node (vector clock entries)"),
      Map.entry("hmmemu.sim.Sim#controllerVc", "the controller's vector clock"),
      Map.entry("hmmemu.sim.ModeledLinkStage$Copy#seq", "link lane sequence numbers of messages in flight"),
      Map.entry("hmmemu.sim.ModeledLinkStage$Lane#nextSeq", "link lane sequence numbers: the next one"),
      Map.entry("hmmemu.sim.ModeledLinkStage$Lane#expected", "link lane sequence numbers: the next one in order"),
      Map.entry("hmmemu.cpu.core.CpuThreads#byAccess", "a CPU loop's own access reqIds (LOCAL_REQ_BASE + n), by id"),
      Map.entry("hmmemu.cpu.core.CpuThreads#nextLocal", "a CPU loop's own access reqIds: the next one"),
      Map.entry("hmmemu.cpu.core.CpuThreads#nextSleep", "the order thinking CPU loops went to sleep in: the next one"),
      Map.entry("hmmemu.cpu.core.CpuThreads$Wake#seq", "the order thinking CPU loops went to sleep in"),
      Map.entry("hmmemu.cpu.core.MmuNotifier#invalidations", "invalidation ids: the ones in flight, by id"),
      Map.entry("hmmemu.cpu.core.Invalidation#invId", "invalidation ids: one in flight"),
      Map.entry("hmmemu.cpu.core.Invalidation#curSeq", "the interval notifier's seq an invalidation took (Mm#seq's)"),
      Map.entry("hmmemu.protocol.msg.HmmProtocol$InvalidateStart#curSeq", "an invalidation in flight: the seq it took"),
      Map.entry("hmmemu.checker.NotifierShadow#inFlight", "invalidation ids: the checker's in flight, by id"));

  /**
   * Identity fields of the protocol's messages and trace records (a message in flight, a record the checker keeps):
   * reqIds, invalidation ids, notifier seqs, vector clocks, whatever record carries them.
   */
  private static final java.util.regex.Pattern IDENTITY_RECORD = java.util.regex.Pattern.compile(
      "hmmemu\\.protocol\\.(msg\\.HmmProtocol\\$[A-Za-z]+|trace\\.Trace\\$[A-Za-z]+|trace\\.Stamped)#(reqId|invId|seq|subSeq|vc)");

  /**
   * Sites whose values may be instants (ns or µs) and so bound a jump when they lie ahead: every field named as a time
   * (micros, nanos, deadline, until, due, wake, lease, expiry, time, at...), the agenda's instants among them; not the
   * model switches nor the simulator's configuration (durations). {@link #unitOf} says whether it is read as ns, µs or
   * both. A leaf of another site (an address, a pfn, a count) lying by chance in the window ahead
   * cut jumps short before (c13: PteShadow#chunksOfMm, CpuRules#out, PteTable#entries, ModelSwitches'
   * driverDeadlineMicros).
   */
  static boolean instantSite(String site) { return (bits(site) & INSTANT) != 0; }

  /** Per site, what {@link #instantSite}, {@link #unitOf} and {@link #identity} say of it (pure: a site's name decides). */
  private static final Map<String, Integer> SITE_BITS = new java.util.concurrent.ConcurrentHashMap<>();

  static final int INSTANT = 4, IDENTITY_BIT = 8, REPORT_ONLY_BIT = 16, MICROS_BIT = 32;

  /**
   * The cached classification of a site: bits 0-1 {@link #unitOf}, {@link #INSTANT}, {@link #IDENTITY_BIT}, and
   * whether it is in {@link #REPORT_ONLY} ({@link #REPORT_ONLY_BIT}) or {@link #MICROS} ({@link #MICROS_BIT}).
   */
  static int bits(String site) {
    Integer b = SITE_BITS.get(site);
    if (b != null) return b;
    int v = unitOfUncached(site) | (instantSiteUncached(site) ? INSTANT : 0) | (identityUncached(site) ? IDENTITY_BIT : 0)
        | (REPORT_ONLY.containsKey(site) ? REPORT_ONLY_BIT : 0) | (MICROS.contains(site) ? MICROS_BIT : 0);
    SITE_BITS.put(site, v);
    return v;
  }

  private static boolean instantSiteUncached(String site) {
    if (ANY_BOUND) return true;
    if (site.startsWith("hmmemu.protocol.model.ModelSwitches#") || site.startsWith("hmmemu.sim.SimConfig#")) return false;
    int h = site.indexOf('#');
    return INSTANT_NAME.matcher(h < 0 ? site : site.substring(h + 1)).find();
  }

  /** Diagnostics: every non-moving leaf ahead bounds a jump, as in session 8 ({@code -Dhmm.ff.anyBound=true}). */
  private static final boolean ANY_BOUND = Boolean.getBoolean("hmm.ff.anyBound");

  /** Model time in ns by construction (the ADVANCE list's times), so never read as µs. */
  private static final java.util.Set<String> NANOS_SITES = java.util.Set.of("hmmemu.sim.Sim#now",
      "hmmemu.sim.Sim#lastFiredAt", "hmmemu.sim.EventQueue$Event#atNanos", "hmmemu.sim.Sim$Node#busyUntil",
      "hmmemu.sim.Sim$Node#leaseTickAt", "hmmemu.sim.ModeledLinkStage$Dir#busyUntil", "hmmemu.sim.ModeledLinkStage$Lane#lastDue");

  /** Which units a bounding leaf may be read in: 1 ns only (named nanos, or a known ns site), 2 µs only (named micros), 3 either. */
  static int unitOf(String site) { return bits(site) & 3; }

  private static int unitOfUncached(String site) {
    if (ANY_BOUND) return 3;
    if (NANOS_SITES.contains(site)) return 1;
    String f = site.substring(site.indexOf('#') + 1).toLowerCase(java.util.Locale.ROOT);
    if (f.contains("nanos")) return 1;
    if (f.contains("micros")) return 2;
    return 3;
  }

  private static final java.util.regex.Pattern INSTANT_NAME = java.util.regex.Pattern.compile(
      "(?i:micros|nanos|millis|deadline|until|due|wake|lease|expir|time|tick|when)|^at$|^at[A-Z0-9_]|At$|At[A-Z0-9_]|^now|Now");

  /** Whether a site is one of an identity family ({@link #IDENTITY}, or a protocol record's id field). */
  static boolean identity(String site) { return (bits(site) & IDENTITY_BIT) != 0; }

  private static boolean identityUncached(String site) {
    return IDENTITY.containsKey(site) || IDENTITY_RECORD.matcher(site).matches();
  }

  /**
   * Moving leaves advanced by n x their delta per period: model time in ns (an agenda event's tie key also moves by n
   * x its step a period), statistics, and the random streams' state (SplitMix64: seed + n x draws x gamma
   * is its jump). Any moving leaf on none of these lists refuses the jump.
   */
  static final Map<String, String> ADVANCE = Map.ofEntries(
      Map.entry("hmmemu.sim.Sim#now", "model time"),
      Map.entry("hmmemu.sim.Sim#lastFiredAt", "model time of the last event"),
      Map.entry("hmmemu.sim.EventQueue$Event#atNanos", "agenda instants"),
      Map.entry("hmmemu.sim.Sim$Node#busyUntil", "a node's local time (host-side cost)"),
      Map.entry("hmmemu.sim.Sim$Node#leaseTickAt", "a CPU node's armed lease tick"),
      Map.entry("hmmemu.sim.ModeledLinkStage$Dir#busyUntil", "a direction's transmitter, busy until"),
      Map.entry("hmmemu.sim.ModeledLinkStage$Lane#lastDue", "a lane's last arrival instant"),
      Map.entry("hmmemu.sim.Sim#fired", "statistics: agenda events"),
      Map.entry("hmmemu.sim.TieRule#seq", "the tie rule's sequence number: events scheduled"),
      Map.entry("hmmemu.sim.Sim#messages", "statistics: messages"),
      Map.entry("hmmemu.sim.Sim#traceEvents", "statistics: trace events"),
      Map.entry("hmmemu.sim.ModeledLinkStage$Dir#sent", "statistics: messages sent on a direction"),
      Map.entry("hmmemu.sim.ModeledLinkStage$Dir#delivered", "statistics: messages delivered on a direction"),
      Map.entry("hmmemu.node.link.SplitMix64#seed", "a random stream's state"),
      Map.entry("hmmemu.node.link.SplitMix64#draws", "a random stream's draw count"),
      Map.entry("hmmemu.checker.CausalDelivery#deliveredTotal", "statistics: events the checker delivered"),
      Map.entry("hmmemu.checker.InvariantChecker#applied", "statistics: events the checker applied"),
      Map.entry("hmmemu.checker.InvariantChecker#eventCounts", "statistics: events per kind"),
      Map.entry("hmmemu.checker.NotifierShadow$SubSeq#callbacksSinceCheck", "callbacks since read_retry: compared with 0"),
      Map.entry("hmmemu.gpu.core.driver.IntervalReadLoop#iterations", "statistics: the loop's iterations"),
      Map.entry("hmmemu.gpu.core.driver.InvalidateCallbacks#invalidations", "statistics: callbacks run"),
      Map.entry("hmmemu.sim.PeriodicLog#size", "a host's append-only history: the period's entries appended n times more"),
      Map.entry("hmmemu.checker.NotifierShadow#endedCount", "the checker's ring of ended invalidations: refilled as n more periods leave it"),
      Map.entry("hmmemu.checker.FolioLockShadow#releasedCount", "the checker's ring of released reqIds: refilled as n more periods leave it"),
      Map.entry("hmmemu.cluster.scenario.InvalidateObserver#counts", "statistics: the scenario host's callbacks counted"),
      Map.entry("hmmemu.cluster.scenario.InvalidateObserver#rangeFaults", "statistics: hmm_range_fault answers counted"),
      Map.entry("hmmemu.cluster.scenario.SimHost#window", "statistics: a wait's trace events per node and type (livelock text)"),
      Map.entry("hmmemu.cpu.core.CpuThreads$Loop#ops", "statistics: a CPU loop's accesses (CpuThreadDone.ops)"),
      Map.entry("hmmemu.cpu.core.UserAccess#spinTouches", "statistics: spinning threads' touches"),
      Map.entry("hmmemu.cpu.core.Folio#words", "memory contents: a spinning loop's fetch-and-add adds as much per period,"
          + " and the model never branches on a word's value (a load returns it, a store or an atomic writes it)"));

  /** Leaves that serve violation reports only and are left as they are (their times then lag behind the jump). */
  static final Map<String, String> REPORT_ONLY = Map.of(
      "hmmemu.checker.Reporter#ring", "the last 256 events, quoted in a violation's text; nothing reads them otherwise",
      "hmmemu.checker.Reporter#recorded", "the ring's write position (Reporter.record, Reporter.recent only)",
      "hmmemu.checker.InvariantChecker#current", "the event being judged: set first thing in apply and read (its vc, an"
          + " identity family) only while it is judged; between two events nothing reads it (session 18, r9ff)");

  /** Sites whose leaves are model microseconds (they move by floor steps when a round is not a whole microsecond). */
  static final java.util.Set<String> MICROS = java.util.Set.of("hmmemu.cpu.core.Kernel#nowMicros",
      "hmmemu.gpu.core.device.StepContext#nowMicros", "hmmemu.cpu.core.CpuThreads$Loop#issuedAt",
      "hmmemu.cpu.core.CpuThreads$Wake#at");
}
