package hmmemu.cluster.scenario;

import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import hmmemu.sim.PeriodicLog;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the scenario language counts on the CPU<->GPU link, whatever carries it (the cluster's {@link ObservingLink},
 * the simulator's link tap in {@link SimHost}): each subscription's kind from NotifierInsert, the invalidate callbacks
 * (InvalidateStart, one per addressed subscription) per device, subscription kind and event for ranges that intersect
 * a declared VMA (the "inv(S0)=k EVT" of docs/SCENARIOS.md), each callback's range in order, and hmm_range_fault's
 * answers (HmmRangeFaultReply) per device and errno. Each message must be offered once (a data-link replay is not a
 * new callback). Not a kernel structure.
 *
 * <p>The simulator's fast-forward (hmmemu.sim.FastForward) pictures this state: the callbacks are a
 * {@link PeriodicLog} (a jump appends the skipped periods' callbacks again), the counts are {@link AtomicLong}s (a
 * jump advances them), and the events by (invId, subId) are kept only for a file whose pause points match an
 * InvalidateAck by its event (the only reader), so that a spin's state does not grow by one entry a callback.
 */
final class InvalidateObserver {
  private final List<long[]> ranges;
  private final Map<Long, NotifierKind> kinds;
  /** The event of each callback sent, by (invId, subId). */
  private final Map<Inv, NotifyEvent> events;
  /** Callbacks counted by {@link #key}: device, subscription kind and event. */
  private final Map<Long, AtomicLong> counts;
  /** Every counted callback, in the order handed to the wire (a repeated spin's callbacks as repeated runs). */
  private final PeriodicLog<Callback> callbacks = new PeriodicLog<>();
  /** hmm_range_fault answers by device and errno ("16/EBUSY"). */
  private final Map<String, AtomicLong> rangeFaults;
  /** Whether {@link #eventOf} will be asked (a pause point matching an InvalidateAck by its event). */
  private boolean keepEvents = true;

  /** A callback's key: its invalidation and the subscription it addresses. */
  private record Inv(long invId, long subId) {}

  /** One invalidate callback: to a subscription of {@code kind} of {@code device}, over [start, end). */
  record Callback(int device, NotifierKind kind, NotifyEvent event, long start, long end) {}

  /** @param ranges the [start, end) of every declared VMA; callbacks outside all of them are not counted */
  InvalidateObserver(List<long[]> ranges) {
    this(ranges, true);
  }

  /**
   * @param concurrent whether other threads read while the link's threads observe (the cluster); false for the
   *     simulator, whose one thread does both (plain hash maps: no concurrent map's cost on every callback)
   */
  InvalidateObserver(List<long[]> ranges, boolean concurrent) {
    this.ranges = List.copyOf(ranges);
    this.kinds = concurrent ? new ConcurrentHashMap<>() : new java.util.HashMap<>();
    this.events = concurrent ? new ConcurrentHashMap<>() : new java.util.HashMap<>();
    this.counts = concurrent ? new ConcurrentHashMap<>() : new java.util.HashMap<>();
    this.rangeFaults = concurrent ? new ConcurrentHashMap<>() : new java.util.HashMap<>();
  }

  /**
   * Keeps the event of each callback for {@link #eventOf} only when {@code keep}: the simulator's host passes whether
   * the file has a pause point (or an until) matching an InvalidateAck by event ({@link #asksEventOfAcks}).
   */
  void keepEvents(boolean keep) { this.keepEvents = keep; }

  /** Whether a pause point of {@code scenario} (or its until) matches an InvalidateAck by its event (asks {@link #eventOf}). */
  static boolean asksEventOfAcks(Scenario scenario) {
    for (Scenario.Step s : scenario.steps()) if (asksEventOfAcks(s)) return true;
    return false;
  }

  private static boolean asksEventOfAcks(Scenario.Step step) {
    if (step.action() instanceof Scenario.ConcurrentOp c) for (Scenario.Step s : c.steps()) if (asksEventOfAcks(s)) return true;
    for (Scenario.PauseOp p = step.action() instanceof Scenario.PauseOp q ? q : null; p != null; p = p.until()) {
      if (p.event() != null && !HmmProtocol.InvalidateStart.class.getSimpleName().equals(p.message())) return true;
    }
    return false;
  }

  /** The [start, end) of every VMA the scenario declares. */
  static List<long[]> rangesOf(Scenario scenario) {
    List<long[]> ranges = new java.util.ArrayList<>();
    for (Scenario.Vma v : scenario.vmas()) ranges.add(new long[] {v.start(), v.end()});
    return ranges;
  }

  /** Counts one protocol message handed to the wire (its first copy). */
  void observe(HmmProtocol.Msg m) {
    if (m instanceof HmmProtocol.NotifierInsert) {
      HmmProtocol.NotifierInsert ins = (HmmProtocol.NotifierInsert) m;
      kinds.put(ins.subId(), ins.kind());
    } else if (m instanceof HmmProtocol.InvalidateStart) {
      HmmProtocol.InvalidateStart inv = (HmmProtocol.InvalidateStart) m;
      if (keepEvents) events.put(new Inv(inv.invId(), inv.subId()), inv.event());
      if (!intersects(inv.start(), inv.end())) return;
      int device = Ids.deviceOfSub(inv.subId());
      NotifierKind kind = kinds.getOrDefault(inv.subId(), NotifierKind.INTERVAL);
      counts.computeIfAbsent(key(device, kind, inv.event()), k -> new AtomicLong()).incrementAndGet();
      synchronized (callbacks) {
        callbacks.add(new Callback(device, kind, inv.event(), inv.start(), inv.end()));
      }
    } else if (m instanceof HmmProtocol.HmmRangeFaultReply rep) {
      rangeFaults.computeIfAbsent(Ids.deviceOfReq(rep.reqId()) + "/" + rep.errno().name(), k -> new AtomicLong())
          .incrementAndGet();
    }
  }

  private boolean intersects(long start, long end) {
    for (long[] r : ranges) if (start < r[1] && r[0] < end) return true;
    return false;
  }

  private static long key(int device, NotifierKind kind, NotifyEvent event) {
    return ((long) device << 32) | ((long) kind.ordinal() << 16) | event.ordinal();
  }

  /** Callbacks delivered to the device's subscriptions of {@code kind} (all when null) with {@code event} (all when null). */
  long count(int device, NotifierKind kind, String event) {
    long n = 0;
    for (NotifierKind k : NotifierKind.values()) {
      if (kind != null && k != kind) continue;
      for (NotifyEvent e : NotifyEvent.values()) {
        if (event != null && !e.name().equals(event)) continue;
        AtomicLong c = counts.get(key(device, k, e));
        if (c != null) n += c.get();
      }
    }
    return n;
  }

  /** The callbacks counted so far to the device's subscriptions (of {@code kind}, all when null), in order. */
  List<Callback> callbacks(int device, NotifierKind kind) {
    List<Callback> out = new java.util.ArrayList<>();
    synchronized (callbacks) {
      for (Callback c : callbacks) if (c.device() == device && (kind == null || c.kind() == kind)) out.add(c);
    }
    return out;
  }

  /** hmm_range_fault calls of the device answered with {@code errno} (all answers when null). */
  long rangeFaults(int device, hmmemu.protocol.model.Errno errno) {
    long n = 0;
    for (Map.Entry<String, AtomicLong> e : rangeFaults.entrySet()) {
      String[] k = e.getKey().split("/");
      if (Integer.parseInt(k[0]) == device && (errno == null || k[1].equals(errno.name()))) n += e.getValue().get();
    }
    return n;
  }

  /** The event of callback (invId, subId), or null when it has not been sent. */
  NotifyEvent eventOf(long invId, long subId) {
    if (!keepEvents) throw new IllegalStateException("eventOf: events not kept (asksEventOfAcks said no pause point asks)");
    return events.get(new Inv(invId, subId));
  }

  /** The kind of subscription subId, or null when its NotifierInsert has not been seen. */
  NotifierKind kindOf(long subId) { return kinds.get(subId); }
}
