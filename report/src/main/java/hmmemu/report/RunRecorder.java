package hmmemu.report;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Records one run from the checker's causally ordered stream of stamped trace events (every node's events, each
 * with the model time of its step): exact metrics (counters, HdrHistograms, throughput and ownership timelines)
 * and a timeline for {@link TraceJson}, capped at {@code traceCap} timeline records. Pure: no clock, no I/O.
 */
public final class RunRecorder {

  /** One protobuf message between two nodes: sent at one model time, received at another. */
  public record Flow(int fromNode, int toNode, String type, long sentAtMicros, long receivedAtMicros, int bytes) {}

  /** A fault-injection window (a delay, a partition, a pause, a crash) in model time; endMicros -1: open. */
  public record FaultWindow(String label, long startMicros, long endMicros) {}

  /** One record of the timeline (what trace.json draws), in delivery order. */
  record Mark(int node, long atMicros, Trace.Event event) {}

  /** An ownership segment of one page: owner "cpu", "gpuN" (device-exclusive to device N), "transition", "none". */
  public record Segment(String owner, long fromMicros, long toMicros) {}

  static final int OWNERSHIP_SEGMENTS_CAP = 4000;

  private final String name;
  private final int traceCap;
  final List<Mark> marks = new ArrayList<>();
  final List<Flow> flows = new ArrayList<>();
  final List<FaultWindow> faults = new ArrayList<>();
  long droppedMarks;
  long droppedFlows;

  private final Map<String, Map<String, Long>> counters = new java.util.TreeMap<>();
  final Histogram gpuAccessLatency = new Histogram(3);
  final Histogram driverIterations = new Histogram(3);
  final Histogram folioLockHold = new Histogram(3);
  final Histogram invalidation = new Histogram(3);
  final Histogram cpuFault = new Histogram(3);
  /** Completed GPU accesses and CPU host accesses per millisecond of model time. */
  final Series gpuOps = new Series();
  final Series cpuOps = new Series();
  long firstMicros = Long.MAX_VALUE;
  long lastMicros = Long.MIN_VALUE;

  // shadow state for durations
  private final Map<Long, Long> folioLockedAt = new HashMap<>();
  private final Map<Long, Long> invalidationAt = new HashMap<>();
  private final Map<Long, Trace.InvalidateStarted> openInvalidations = new HashMap<>();
  private final Map<Integer, Long> cpuFaultAt = new HashMap<>();
  private final Map<String, PteState> pteState = new HashMap<>();
  private final Map<Long, String> pfnPage = new HashMap<>();
  final Map<String, PageTimeline> pages = new HashMap<>();

  /** The ownership history of one page (mm:va). */
  static final class PageTimeline {
    final List<Segment> segments = new ArrayList<>();
    String owner = "none";
    long since;
    long changes;
    boolean truncated;

    void become(String next, long at) {
      if (next.equals(owner)) return;
      if (segments.size() < OWNERSHIP_SEGMENTS_CAP) segments.add(new Segment(owner, since, at));
      else truncated = true;
      owner = next;
      since = at;
      changes++;
    }
  }

  /** Counts per millisecond of model time. */
  static final class Series {
    long[] perMilli = new long[64];
    long total;

    void add(long atMicros) {
      if (atMicros < 0) return;
      int i = (int) Math.min(Integer.MAX_VALUE - 1, atMicros / 1000);
      if (i >= perMilli.length) perMilli = java.util.Arrays.copyOf(perMilli, Math.max(i + 1, perMilli.length * 2));
      perMilli[i]++;
      total++;
    }
  }

  public RunRecorder(String name, int traceCap) {
    if (traceCap < 0) throw new IllegalArgumentException("trace cap must be >= 0, got " + traceCap);
    this.name = name;
    this.traceCap = traceCap;
  }

  public String name() { return name; }

  /** Model time the run's timeline starts at (subtracted from every time recorded; 0 by default). */
  private long origin;

  /**
   * Sets the model time the run's timeline starts at: events, flows and fault windows are recorded relative to it
   * (times before it count as 0), so a run does not begin with the cluster's formation.
   */
  public void origin(long micros) { this.origin = micros; }

  public long origin() { return origin; }

  private long rel(long micros) { return micros < 0 ? micros : Math.max(0, micros - origin); }

  /** Per node: what to add to its model times to bring them to the recorder's clock (0 when not set). */
  private final Map<Integer, Long> clockOffsets = new HashMap<>();

  /**
   * Node {@code node}'s model clock counts from another start than the recorder's (a cluster of separate JVMs):
   * {@code offsetMicros} is added to each of its times (events, its halves of flows) before {@link #origin} is
   * subtracted, so every node's timeline and the fault windows share one clock (docs/OBSERVABILITY.md, "Clocks").
   * Set it before the node's first event is recorded.
   */
  public void clockOffset(int node, long offsetMicros) { clockOffsets.put(node, offsetMicros); }

  /** The offsets set by {@link #clockOffset}, by node. */
  public Map<Integer, Long> clockOffsets() { return java.util.Collections.unmodifiableMap(clockOffsets); }

  /** Node {@code node}'s model time {@code micros} on the recorder's clock, relative to the origin. */
  private long rel(int node, long micros) {
    if (micros < 0) return micros;
    Long off = clockOffsets.get(node);
    return rel(off == null ? micros : micros + off);
  }

  public int traceCap() { return traceCap; }

  /** Timeline records left out of trace.json because the run exceeded the cap. */
  public long droppedMarks() { return droppedMarks; }

  /** "cpu", "gpu1".."gpu16", built once: a name is asked for on every recorded event. */
  private static final String[] NODE_NAMES = new String[17];

  static {
    NODE_NAMES[0] = "cpu";
    for (int i = 1; i < NODE_NAMES.length; i++) NODE_NAMES[i] = "gpu" + i;
  }

  static String nodeName(int node) {
    return node >= 0 && node < NODE_NAMES.length ? NODE_NAMES[node] : node == 0 ? "cpu" : "gpu" + node;
  }

  private void count(int node, String counter, long by) {
    counters.computeIfAbsent(nodeName(node), k -> new java.util.TreeMap<>()).merge(counter, by, Long::sum);
  }

  /** Adds a counter the shells keep themselves (link statistics, injected faults). */
  public void counter(String node, String counter, long value) {
    counters.computeIfAbsent(node, k -> new java.util.TreeMap<>()).merge(counter, value, Long::sum);
  }

  public Map<String, Map<String, Long>> counters() { return counters; }

  public void onFlow(Flow f) {
    count(f.fromNode(), "messagesSent", 1);
    count(f.fromNode(), "bytesSent", f.bytes());
    count(f.toNode(), "messagesReceived", 1);
    counter("links", nodeName(f.fromNode()) + "->" + nodeName(f.toNode()) + ":messages", 1);
    counter("links", nodeName(f.fromNode()) + "->" + nodeName(f.toNode()) + ":bytes", f.bytes());
    if (flows.size() < traceCap) flows.add(f); else droppedFlows++;
  }

  // ---------------------------------------------------------------------------------- pairing flow halves

  private record FlowKey(int fromNode, int toNode, long msgNo) {}

  private record SentHalf(long atMicros, String type, int bytes) {}

  private final Map<FlowKey, SentHalf> sentUnpaired = new HashMap<>();
  private final Map<FlowKey, Long> receivedUnpaired = new HashMap<>();
  long flowsPaired;

  /**
   * The sender's half of a message: node {@code fromNode} sent its {@code msgNo}-th message to {@code toNode} at
   * {@code atMicros}. Paired with the receiver's half ({@link #flowReceived}) into a {@link Flow}, in either order.
   */
  public void flowSent(int fromNode, int toNode, long msgNo, long atMicros, String type, int bytes) {
    FlowKey k = new FlowKey(fromNode, toNode, msgNo);
    Long at = receivedUnpaired.remove(k);
    if (at == null) sentUnpaired.put(k, new SentHalf(atMicros, type, bytes));
    else pair(k, new SentHalf(atMicros, type, bytes), at);
  }

  /** The receiver's half: node {@code toNode} received {@code fromNode}'s {@code msgNo}-th message at {@code atMicros}. */
  public void flowReceived(int fromNode, int toNode, long msgNo, long atMicros) {
    FlowKey k = new FlowKey(fromNode, toNode, msgNo);
    SentHalf s = sentUnpaired.remove(k);
    if (s == null) {
      if (receivedUnpaired.putIfAbsent(k, atMicros) != null) count(toNode, "flowDuplicateReceipts", 1);
    } else {
      pair(k, s, atMicros);
    }
  }

  private void pair(FlowKey k, SentHalf s, long receivedAt) {
    flowsPaired++;
    onFlow(new Flow(k.fromNode(), k.toNode(), s.type(), rel(k.fromNode(), s.atMicros()), rel(k.toNode(), receivedAt),
        s.bytes()));
  }

  /** Sent messages no receipt was reported for (lost, or still in flight when the run ended). */
  public long unpairedSends() { return sentUnpaired.size(); }

  /** Receipts whose send was not reported (the sender's half was lost or dropped). */
  public long unpairedReceipts() { return receivedUnpaired.size(); }

  public void onFaultWindow(FaultWindow w) {
    if (origin != 0) w = new FaultWindow(w.label(), rel(w.startMicros()), w.endMicros() < 0 ? -1 : rel(w.endMicros()));
    faults.add(w);
    counter("faults", "injected", 1);
  }

  /** Takes the next event in causal delivery order. */
  public void onEvent(Stamped s) {
    long t = Math.max(0, rel(s.node(), s.atMicros()));
    firstMicros = Math.min(firstMicros, t);
    lastMicros = Math.max(lastMicros, t);
    Trace.Event e = s.event();
    int node = s.node();
    count(node, "events:" + e.getClass().getSimpleName(), 1);
    if (marks.size() < traceCap) marks.add(new Mark(node, t, e)); else droppedMarks++;
    if (e instanceof Trace.PteChanged p) onPte(node, t, p);
      else if (e instanceof Trace.FolioChanged f) {
        Long at = folioLockedAt.get(f.pfn());
        if (f.locked() && at == null) {
          folioLockedAt.put(f.pfn(), t);
          count(node, "folioLocks", 1);
        } else if (!f.locked() && at != null) {
          folioLockedAt.remove(f.pfn());
          folioLockHold.recordValue(Math.max(0, t - at));
        }
      }
      else if (e instanceof Trace.InvalidateStarted i) {
        invalidationAt.put(i.invId(), t);
        openInvalidations.put(i.invId(), i);
        count(node, "invalidations:" + i.event(), 1);
        count(node, "callbacks", i.subIds().size());
        for (PageTimeline pt : pagesIn(i.mmId(), i.start(), i.end())) pt.become("transition", t);
      }
      else if (e instanceof Trace.InvalidateEnded i) {
        Long at = invalidationAt.remove(i.invId());
        openInvalidations.remove(i.invId());
        if (at != null) invalidation.recordValue(Math.max(0, t - at));
      }
      else if (e instanceof Trace.InvalidateAcked a) {
        count(node, a.ignored() ? "acksIgnoredByOwner" : "acks", 1);
        counter("subscribers", "dev" + a.deviceId() + ":callbacks", 1);
      }
      else if (e instanceof Trace.ExclusiveReturned x) {
        count(node, x.errno() == Errno.OK ? "conversions" : "conversionErrors:" + x.errno(), 1);
        if (x.errno() == Errno.OK) {
          String page = pfnPage.get(x.pfn());
          if (page != null) pages.computeIfAbsent(page, k -> new PageTimeline()).become("gpu" + x.deviceId(), t);
        }
      }
      else if (e instanceof Trace.CpuFaulted c) {
        count(node, "cpuFaults:" + c.kind(), 1);
        cpuFaultAt.putIfAbsent(c.threadId(), t);
      }
      else if (e instanceof Trace.HostMemoryAccessed h) {
        if (h.deviceId() < 0) {
          Long at = cpuFaultAt.remove(h.threadId());
          if (at != null) cpuFault.recordValue(Math.max(0, t - at));
          if (h.access() == hmmemu.protocol.model.Access.ATOMIC || h.access() == hmmemu.protocol.model.Access.WRITE) {
            cpuOps.add(t);
          }
        }
      }
      else if (e instanceof Trace.DriverFaultHandled d) {
        driverIterations.recordValue(Math.max(0, d.iterations()));
        count(node, "driverFaults", 1);
        count(node, "driverIterations", d.iterations());
        if (d.errno() == Errno.EBUSY) count(node, "driverTimeouts", 1);
      }
      else if (e instanceof Trace.DeviceAccessCompleted d) {
        if (d.errno() == Errno.OK) {
          gpuAccessLatency.recordValue(Math.max(0, d.latencyMicros()));
          gpuOps.add(t);
          count(node, "gpuAccessesCompleted", 1);
        } else {
          count(node, "gpuAccessesCancelled", 1);
        }
      }
      else if (e instanceof Trace.DeviceFaulted f) count(node, "deviceFaults:" + f.access(), 1);
      else if (e instanceof Trace.ReadRetryChecked r) count(node, r.retry() ? "readRetryFailed" : "readRetryPassed", 1);
      else if (e instanceof Trace.DeviceEntryInstalled i) count(node, "deviceEntriesInstalled", 1);
      else if (e instanceof Trace.DeviceEntryZapped z) count(node, "deviceEntriesZapped", 1);
      else { }

  }

  private void onPte(int node, long t, Trace.PteChanged p) {
    String key = p.mmId() + ":" + Long.toHexString(p.va());
    PteState before = pteState.put(key, p.state());
    if (p.pfn() != 0) pfnPage.put(p.pfn(), key);
    if (before == PteState.DEVEXCL && p.state() != PteState.DEVEXCL) count(node, "restores", 1);
    PageTimeline pt = pages.computeIfAbsent(key, k -> new PageTimeline());
    switch (p.state()) {
      case PRESENT -> pt.become("cpu", t);
      case DEVEXCL -> pt.become("devexcl", t);
      case NONE -> pt.become("none", t);
      default -> pt.become(p.state().name().toLowerCase(java.util.Locale.ROOT), t);
    }
  }

  private List<PageTimeline> pagesIn(int mmId, long start, long end) {
    // Only pages that were ever seen can change owner; ranges are page-aligned byte ranges.
    List<PageTimeline> out = new ArrayList<>();
    if (end - start <= 64L * 4096) {
      for (long va = start; va < end; va += 4096) {
        PageTimeline pt = pages.get(mmId + ":" + Long.toHexString(va));
        if (pt != null) out.add(pt);
      }
    } else {
      for (Map.Entry<String, PageTimeline> en : pages.entrySet()) {
        String k = en.getKey();
        int c = k.indexOf(':');
        if (Integer.parseInt(k.substring(0, c)) != mmId) continue;
        long va = Long.parseUnsignedLong(k.substring(c + 1), 16);
        if (va >= start && va < end) out.add(en.getValue());
      }
    }
    return out;
  }

  /** The metrics of this run (computed now; recording may go on). */
  public Metrics metrics() { return Metrics.of(this); }
}
