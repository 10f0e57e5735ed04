package hmmemu.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * One run's metrics as the JSON object metrics.json holds per run: every counter per node, latency histograms
 * with percentiles and a CDF, throughput over model time, ownership timelines of the hottest pages, and the
 * fault-injection windows. Everything report.html draws comes from here, so {@code hmm-emu report DIR} can
 * rebuild the report from the files alone.
 */
public final class Metrics {
  static final JsonNodeFactory F = JsonNodeFactory.instance;
  static final int HOT_PAGES = 8;
  static final int SERIES_POINTS = 200;

  private Metrics() {}

  /** The metrics of {@code r} as JSON. */
  static Metrics of(RunRecorder r) { return new Metrics().fill(r); }

  private ObjectNode json;

  public ObjectNode json() { return json; }

  private Metrics fill(RunRecorder r) {
    ObjectNode o = F.objectNode();
    o.put("name", r.name());
    long first = r.firstMicros == Long.MAX_VALUE ? 0 : r.firstMicros;
    long last = r.lastMicros == Long.MIN_VALUE ? 0 : r.lastMicros;
    o.put("firstMicros", first);
    o.put("lastMicros", last);
    ObjectNode counters = o.putObject("counters");
    for (Map.Entry<String, Map<String, Long>> n : r.counters().entrySet()) {
      ObjectNode c = counters.putObject(n.getKey());
      n.getValue().forEach(c::put);
    }
    ObjectNode h = o.putObject("histograms");
    h.set("gpuAccessLatencyMicros", histogram(r.gpuAccessLatency));
    h.set("driverIterations", histogram(r.driverIterations));
    h.set("folioLockHoldMicros", histogram(r.folioLockHold));
    h.set("invalidationMicros", histogram(r.invalidation));
    h.set("cpuFaultMicros", histogram(r.cpuFault));
    ObjectNode s = o.putObject("throughput");
    int points = (int) Math.max(1, Math.min(SERIES_POINTS, (last / 1000) + 1));
    long bucketMillis = Math.max(1, ((last / 1000) + points) / points);
    s.put("bucketMicros", bucketMillis * 1000);
    s.set("gpuOps", series(r.gpuOps, bucketMillis, last));
    s.set("cpuOps", series(r.cpuOps, bucketMillis, last));
    ArrayNode faults = o.putArray("faultWindows");
    for (RunRecorder.FaultWindow w : r.faults) {
      faults.addObject().put("label", w.label()).put("startMicros", w.startMicros())
          .put("endMicros", w.endMicros() < 0 ? last : w.endMicros());
    }
    ArrayNode own = o.putArray("ownership");
    List<Map.Entry<String, RunRecorder.PageTimeline>> hot = new ArrayList<>(r.pages.entrySet());
    hot.removeIf(e -> e.getValue().changes < 2);
    hot.sort(Comparator.<Map.Entry<String, RunRecorder.PageTimeline>>comparingLong(e -> -e.getValue().changes)
        .thenComparing(Map.Entry::getKey));
    for (Map.Entry<String, RunRecorder.PageTimeline> e : hot.subList(0, Math.min(HOT_PAGES, hot.size()))) {
      ObjectNode p = own.addObject();
      p.put("page", e.getKey());
      p.put("changes", e.getValue().changes);
      p.put("truncated", e.getValue().truncated);
      ArrayNode segs = p.putArray("segments");
      for (RunRecorder.Segment sg : e.getValue().segments) {
        if (sg.toMicros() > sg.fromMicros() || !sg.owner().equals("none")) {
          segs.addArray().add(sg.owner()).add(sg.fromMicros()).add(sg.toMicros());
        }
      }
      segs.addArray().add(e.getValue().owner).add(e.getValue().since).add(Math.max(last, e.getValue().since));
    }
    ObjectNode trace = o.putObject("trace");
    trace.put("cap", r.traceCap());
    trace.put("recorded", r.marks.size());
    trace.put("dropped", r.droppedMarks);
    trace.put("flowsRecorded", r.flows.size());
    trace.put("flowsDropped", r.droppedFlows);
    trace.put("flowsPaired", r.flowsPaired);
    trace.put("unpairedSends", r.unpairedSends());
    trace.put("unpairedReceipts", r.unpairedReceipts());
    json = o;
    return this;
  }

  /** A histogram as count, min, max, mean, percentiles and a CDF of at most ~100 points. */
  static ObjectNode histogram(Histogram h) {
    ObjectNode o = F.objectNode();
    long n = h.getTotalCount();
    o.put("count", n);
    if (n == 0) {
      o.putObject("percentiles");
      o.putArray("cdf");
      return o;
    }
    o.put("min", h.getMinValue());
    o.put("max", h.getMaxValue());
    o.put("mean", h.getMean());
    ObjectNode p = o.putObject("percentiles");
    for (double q : new double[] {50, 90, 99, 99.9, 100}) p.put(q == 100 ? "p100" : "p" + fmt(q), h.getValueAtPercentile(q));
    ArrayNode cdf = o.putArray("cdf");
    long seen = 0;
    List<long[]> steps = new ArrayList<>();
    for (HistogramIterationValue v : h.recordedValues()) {
      seen += v.getCountAtValueIteratedTo();
      steps.add(new long[] {h.highestEquivalentValue(v.getValueIteratedTo()), seen});
    }
    int stride = Math.max(1, steps.size() / 100);
    for (int i = 0; i < steps.size(); i++) {
      if (i % stride != 0 && i != steps.size() - 1) continue;
      cdf.addArray().add(steps.get(i)[0]).add((double) steps.get(i)[1] / n);
    }
    ArrayNode bins = o.putArray("bins");
    for (HistogramIterationValue v : h.recordedValues()) {
      bins.addArray().add(h.highestEquivalentValue(v.getValueIteratedTo())).add(v.getCountAtValueIteratedTo());
      if (bins.size() >= 400) break;
    }
    return o;
  }

  private static String fmt(double q) {
    return q == Math.rint(q) ? Long.toString((long) q) : Double.toString(q).replace('.', '_');
  }

  private static ArrayNode series(RunRecorder.Series s, long bucketMillis, long lastMicros) {
    ArrayNode a = F.arrayNode();
    long buckets = lastMicros / 1000 / bucketMillis + 1;
    for (long b = 0; b < buckets; b++) {
      long sum = 0;
      for (long m = b * bucketMillis; m < (b + 1) * bucketMillis && m < s.perMilli.length; m++) sum += s.perMilli[(int) m];
      a.add(sum);
    }
    return a;
  }
}
