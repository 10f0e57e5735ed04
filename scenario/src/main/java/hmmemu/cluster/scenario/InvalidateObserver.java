package hmmemu.cluster.scenario;

import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the scenario language counts on the CPU<->GPU link, whatever carries it (the cluster's {@link ObservingLink},
 * the simulator's link tap in {@link SimHost}): each subscription's kind from NotifierInsert, the invalidate callbacks
 * (InvalidateStart, one per addressed subscription) per device, subscription kind and event for ranges that intersect
 * a declared VMA (the "inv(S0)=k EVT" of docs/SCENARIOS.md), each callback's range in order, and hmm_range_fault's
 * answers (HmmRangeFaultReply) per device and errno. Each message must be offered once (a data-link replay is not a
 * new callback). Not a kernel structure.
 */
final class InvalidateObserver {
  private final List<long[]> ranges;
  private final Map<Long, NotifierKind> kinds;
  /** The event of each callback sent, by (invId, subId). */
  private final Map<Inv, NotifyEvent> events;
  /** Callbacks counted by {@link #key}: device, subscription kind and event. */
  private final Map<Long, Long> counts;
  /** Every counted callback, in the order handed to the wire. */
  private final List<Callback> callbacks = new java.util.ArrayList<>();
  /** hmm_range_fault answers by device and errno ("16/EBUSY"). */
  private final Map<String, Long> rangeFaults;

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
      events.put(new Inv(inv.invId(), inv.subId()), inv.event());
      if (!intersects(inv.start(), inv.end())) return;
      int device = Ids.deviceOfSub(inv.subId());
      NotifierKind kind = kinds.getOrDefault(inv.subId(), NotifierKind.INTERVAL);
      counts.merge(key(device, kind, inv.event()), 1L, Long::sum);
      synchronized (callbacks) {
        callbacks.add(new Callback(device, kind, inv.event(), inv.start(), inv.end()));
      }
    } else if (m instanceof HmmProtocol.HmmRangeFaultReply rep) {
      rangeFaults.merge(Ids.deviceOfReq(rep.reqId()) + "/" + rep.errno().name(), 1L, Long::sum);
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
        n += counts.getOrDefault(key(device, k, e), 0L);
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
    for (Map.Entry<String, Long> e : rangeFaults.entrySet()) {
      String[] k = e.getKey().split("/");
      if (Integer.parseInt(k[0]) == device && (errno == null || k[1].equals(errno.name()))) n += e.getValue();
    }
    return n;
  }

  /** The event of callback (invId, subId), or null when it has not been sent. */
  NotifyEvent eventOf(long invId, long subId) { return events.get(new Inv(invId, subId)); }

  /** The kind of subscription subId, or null when its NotifierInsert has not been seen. */
  NotifierKind kindOf(long subId) { return kinds.get(subId); }
}
