package hmmemu.report;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Trace;
import java.io.IOException;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes runs as Trace Event Format JSON (opens in ui.perfetto.dev and chrome://tracing): one process per node
 * (per run), one track per CPU thread, driver, device and the mm; async slices for folio-lock holds,
 * invalidations (start to end, after the last ack), driver fault handling (its loop iterations) and CPU faults;
 * instants for conversions, restores, acks, read_retry checks, replays and cancels; flow arrows from each
 * message's send to its receipt; fault-injection windows on a track of their own. Timestamps are model µs.
 */
public final class TraceJson {
  private TraceJson() {}

  private static final int FAULT_PID = 999;

  /** Writes {@code runs} (one process group per run, pids offset by 1000 per run) to {@code out}. */
  public static void write(List<RunRecorder> runs, OutputStream out) throws IOException {
    try (JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
      g.writeStartObject();
      g.writeStringField("displayTimeUnit", "ms");
      g.writeObjectFieldStart("metadata");
      g.writeStringField("timeUnit", "model microseconds");
      g.writeStringField("clock", "one model clock shared by every node of an embedded cluster or simulation");
      for (RunRecorder r : runs) {
        g.writeNumberField(r.name() + ".droppedRecords", r.droppedMarks);
        g.writeNumberField(r.name() + ".droppedFlows", r.droppedFlows);
      }
      g.writeEndObject();
      g.writeArrayFieldStart("traceEvents");
      int runIndex = 0;
      for (RunRecorder r : runs) new Writer(g, r, runIndex++).write();
      g.writeEndArray();
      g.writeEndObject();
    }
  }

  private static final class Writer {
    final JsonGenerator g;
    final RunRecorder r;
    final int pidBase;
    final Map<String, Integer> tids = new HashMap<>();
    final Map<Integer, Boolean> namedPids = new HashMap<>();
    final Map<Long, Long> folioLockedAt = new HashMap<>();
    final Map<Long, long[]> invalidationOpen = new HashMap<>();
    final Map<Integer, Long> cpuFaultOpen = new HashMap<>();
    final Map<Integer, Long> driverFaultOpen = new HashMap<>();
    final Map<String, PteState> pte = new HashMap<>();
    long asyncIds;

    Writer(JsonGenerator g, RunRecorder r, int runIndex) {
      this.g = g;
      this.r = r;
      this.pidBase = runIndex * 1000;
    }

    int pid(int node) throws IOException {
      int pid = pidBase + node + 1;
      if (namedPids.putIfAbsent(pid, true) == null) {
        meta(pid, 0, "process_name", r.name() + ": " + (node == 0 ? "cpu node" : "gpu node " + node));
        meta(pid, 0, "process_sort_index", null, pid);
      }
      return pid;
    }

    int tid(int pid, String track) throws IOException {
      String key = pid + "/" + track;
      Integer t = tids.get(key);
      if (t != null) return t;
      t = tids.size() + 1;
      tids.put(key, t);
      meta(pid, t, "thread_name", track);
      return t;
    }

    void meta(int pid, int tid, String name, String value) throws IOException { meta(pid, tid, name, value, -1); }

    void meta(int pid, int tid, String name, String value, int sortIndex) throws IOException {
      g.writeStartObject();
      g.writeStringField("ph", "M");
      g.writeStringField("name", name);
      g.writeNumberField("pid", pid);
      g.writeNumberField("tid", tid);
      g.writeObjectFieldStart("args");
      if (value != null) g.writeStringField("name", value);
      else g.writeNumberField("sort_index", sortIndex);
      g.writeEndObject();
      g.writeEndObject();
    }

    void instant(int pid, int tid, long ts, String name, String cat, Object... args) throws IOException {
      g.writeStartObject();
      g.writeStringField("ph", "i");
      g.writeStringField("s", "t");
      common(pid, tid, ts, name, cat, args);
      g.writeEndObject();
    }

    void slice(int pid, int tid, long ts, long dur, String name, String cat, Object... args) throws IOException {
      g.writeStartObject();
      g.writeStringField("ph", "X");
      g.writeNumberField("dur", Math.max(1, dur));
      common(pid, tid, ts, name, cat, args);
      g.writeEndObject();
    }

    void async(int pid, int tid, long from, long to, String name, String cat, Object... args) throws IOException {
      long id = ++asyncIds + (long) pidBase * 1_000_000L;
      for (int i = 0; i < 2; i++) {
        g.writeStartObject();
        g.writeStringField("ph", i == 0 ? "b" : "e");
        g.writeStringField("id", Long.toHexString(id));
        common(pid, tid, i == 0 ? from : Math.max(from, to), name, cat, i == 0 ? args : new Object[0]);
        g.writeEndObject();
      }
    }

    void common(int pid, int tid, long ts, String name, String cat, Object[] args) throws IOException {
      g.writeStringField("name", name);
      g.writeStringField("cat", cat);
      g.writeNumberField("pid", pid);
      g.writeNumberField("tid", tid);
      g.writeNumberField("ts", ts);
      if (args.length > 0) {
        g.writeObjectFieldStart("args");
        for (int i = 0; i + 1 < args.length; i += 2) {
          Object v = args[i + 1];
          if (v instanceof Number n) g.writeNumberField((String) args[i], n.longValue());
          else g.writeStringField((String) args[i], String.valueOf(v));
        }
        g.writeEndObject();
      }
    }

    void write() throws IOException {
      for (RunRecorder.Mark m : r.marks) mark(m);
      long flowId = (long) pidBase * 1_000_000L;
      for (RunRecorder.Flow f : r.flows) {
        flowId++;
        int sp = pid(f.fromNode());
        int st = tid(sp, "messages to " + RunRecorder.nodeName(f.toNode()));
        int rp = pid(f.toNode());
        int rt = tid(rp, "messages from " + RunRecorder.nodeName(f.fromNode()));
        slice(sp, st, f.sentAtMicros(), 1, "send " + f.type(), "message", "bytes", f.bytes());
        flow(sp, st, f.sentAtMicros(), "s", flowId, f.type());
        slice(rp, rt, f.receivedAtMicros(), 1, "recv " + f.type(), "message", "bytes", f.bytes());
        flow(rp, rt, f.receivedAtMicros(), "f", flowId, f.type());
      }
      if (!r.faults.isEmpty()) {
        int pid = pidBase + FAULT_PID;
        meta(pid, 0, "process_name", r.name() + ": fault injection");
        int tid = tid(pid, "injected faults");
        for (RunRecorder.FaultWindow w : r.faults) {
          long end = w.endMicros() < 0 ? Math.max(w.startMicros(), r.lastMicros) : w.endMicros();
          slice(pid, tid, w.startMicros(), end - w.startMicros(), w.label(), "fault");
        }
      }
    }

    void flow(int pid, int tid, long ts, String ph, long id, String type) throws IOException {
      g.writeStartObject();
      g.writeStringField("ph", ph);
      if (ph.equals("f")) g.writeStringField("bp", "e");
      g.writeStringField("id", Long.toHexString(id));
      g.writeStringField("name", type);
      g.writeStringField("cat", "message");
      g.writeNumberField("pid", pid);
      g.writeNumberField("tid", tid);
      g.writeNumberField("ts", ts);
      g.writeEndObject();
    }

    void mark(RunRecorder.Mark m) throws IOException {
      int pid = pid(m.node());
      long t = m.atMicros();
      Trace.Event ev = m.event();
      if (ev instanceof Trace.PteChanged p) {
          int tid = tid(pid, "mm " + p.mmId());
          String key = p.mmId() + ":" + p.va();
          PteState before = pte.put(key, p.state());
          if (p.state() == PteState.DEVEXCL) {
            instant(pid, tid, t, "conversion (DEVEXCL)", "pte", "va", hex(p.va()), "pfn", hex(p.pfn()), "cause", p.cause());
          } else if (before == PteState.DEVEXCL) {
            instant(pid, tid, t, "restore -> " + p.state(), "pte", "va", hex(p.va()), "cause", p.cause());
          } else {
            instant(pid, tid, t, "PTE " + p.state(), "pte", "va", hex(p.va()), "cause", p.cause());
          }
        }
        else if (ev instanceof Trace.FolioChanged f) {
          Long at = folioLockedAt.get(f.pfn());
          if (f.locked() && at == null) folioLockedAt.put(f.pfn(), t);
          else if (!f.locked() && at != null) {
            folioLockedAt.remove(f.pfn());
            async(pid, tid(pid, "folio locks"), at, t, "folio lock " + hex(f.pfn()), "folio", "pfn", hex(f.pfn()));
          }
        }
        else if (ev instanceof Trace.InvalidateStarted i) invalidationOpen.put(i.invId(), new long[] {t, i.mmId(), i.start(), i.end(),
            i.event().ordinal(), i.owner(), i.subIds().size()});
        else if (ev instanceof Trace.InvalidateEnded i) {
          long[] o = invalidationOpen.remove(i.invId());
          if (o != null) {
            String evName = hmmemu.protocol.model.NotifyEvent.values()[(int) o[4]].name();
            async(pid, tid(pid, "mm " + o[1] + " invalidations"), o[0], t, "invalidate " + evName, "invalidate",
                "start", hex(o[2]), "end", hex(o[3]), "owner", hex(o[5]), "callbacks", o[6], "applied", i.applied());
          }
        }
        else if (ev instanceof Trace.InvalidateAcked a) instant(pid, tid(pid, "driver dev" + a.deviceId()), t,
            a.ignored() ? "ack (owner filter)" : "ack", "invalidate", "invId", a.invId(), "subId", hex(a.subId()));
        else if (ev instanceof Trace.ExclusiveReturned x) instant(pid, tid(pid, "make_device_exclusive"), t,
            "make_device_exclusive -> " + x.errno(), "exclusive", "dev", x.deviceId(), "pfn", hex(x.pfn()));
        else if (ev instanceof Trace.FolioUnlockPutDone u) instant(pid, tid(pid, "folio locks"), t, "folio_unlock+folio_put", "folio",
            "dev", u.deviceId(), "pfn", hex(u.pfn()));
        else if (ev instanceof Trace.CpuFaulted c) {
          cpuFaultOpen.putIfAbsent(c.threadId(), t);
          instant(pid, tid(pid, "cpu thread " + c.threadId()), t, "fault " + c.kind(), "cpu", "va", hex(c.va()));
        }
        else if (ev instanceof Trace.HostMemoryAccessed h) {
          if (h.deviceId() < 0) {
            Long at = cpuFaultOpen.remove(h.threadId());
            int tid = tid(pid, "cpu thread " + h.threadId());
            if (at != null) async(pid, tid, at, t, "cpu fault", "cpu");
            instant(pid, tid, t, "cpu " + h.access(), "cpu", "pfn", hex(h.pfn()), "new", h.newValue());
          }
        }
        else if (ev instanceof Trace.DeviceFaulted f) {
          driverFaultOpen.putIfAbsent(f.deviceId(), t);
          instant(pid, tid(pid, "device " + f.deviceId()), t, "fault " + f.access(), "device", "va", hex(f.va()));
        }
        else if (ev instanceof Trace.ReadRetryChecked rr) instant(pid, tid(pid, "driver dev" + rr.deviceId()), t,
            rr.retry() ? "read_retry: retry" : "read_retry: ok", "driver", "seq", rr.seq(), "subSeq", rr.subSeq());
        else if (ev instanceof Trace.DriverFaultHandled d) {
          Long at = driverFaultOpen.remove(d.deviceId());
          int tid = tid(pid, "driver dev" + d.deviceId());
          async(pid, tid, at == null ? t : at, t, "fault " + d.access() + " -> " + d.errno(), "driver",
              "iterations", d.iterations(), "va", hex(d.va()));
          instant(pid, tid, t, d.errno() == Errno.OK ? "replay" : "cancel (" + d.errno() + ")", "driver");
        }
        else if (ev instanceof Trace.DeviceEntryInstalled i) instant(pid, tid(pid, "device " + i.deviceId()), t,
            i.atomic() ? "map atomic" : i.write() ? "map write" : "map read", "device", "va", hex(i.va()));
        else if (ev instanceof Trace.DeviceEntryZapped z) instant(pid, tid(pid, "device " + z.deviceId()), t, "zap", "device",
            "va", hex(z.va()));
        else if (ev instanceof Trace.DeviceAccessCompleted d) instant(pid, tid(pid, "device " + d.deviceId()), t,
            d.errno() == Errno.OK ? "access done" : "access cancelled", "device", "latencyMicros", d.latencyMicros(),
            "rounds", d.faultRounds());
        else if (ev instanceof Trace.NodeGone n) instant(pid, tid(pid, "membership"), t, "node " + n.nodeIndex() + " gone", "node",
            "reason", n.reason());
        else instant(pid, tid(pid, "events"), t, m.event().getClass().getSimpleName(), "event");

    }

    static String hex(long v) { return "0x" + Long.toHexString(v); }
  }
}
