package hmmemu.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunRecordTest {
  @TempDir Path dir;

  /** One GPU atomic fault through make_device_exclusive and a CPU touch that restores (C05 then C06's shape). */
  static RunRecorder oneFaultRun(String name, int cap) {
    RunRecorder r = new RunRecorder(name, cap);
    long[] cpu = new long[2];
    long[] gpu = new long[2];
    long pfn = 0x1000;
    long va = 0x10000;
    java.util.function.BiConsumer<Integer, Object[]> emit = (node, te) -> {
      long[] vc = node == 0 ? cpu : gpu;
      vc[node]++;
      r.onEvent(new Stamped(node, vc.clone(), (Trace.Event) te[0], (Long) te[1]));
    };
    emit.accept(1, new Object[] {new Trace.DeviceFaulted(16, 1, va, Access.ATOMIC), 10L});
    emit.accept(0, new Object[] {new Trace.FolioChanged(pfn, true, 2, 1, false, true, false), 20L});
    emit.accept(0, new Object[] {new Trace.InvalidateStarted(1, 1, va, va + 4096, NotifyEvent.EXCLUSIVE, 0x4e560010L,
        true, List.of(16L << 32)), 21L});
    emit.accept(1, new Object[] {new Trace.InvalidateAcked(1, 16L << 32, 16, true, true), 30L});
    emit.accept(0, new Object[] {new Trace.InvalidateEnded(1, true), 40L});
    emit.accept(0, new Object[] {new Trace.PteChanged(1, va, PteState.PRESENT, pfn, true, true, true, "do_anonymous_page"), 5L});
    emit.accept(0, new Object[] {new Trace.PteChanged(1, va, PteState.DEVEXCL, pfn, true, true, true, "make_device_exclusive"), 41L});
    emit.accept(0, new Object[] {new Trace.ExclusiveReturned(7, 16, pfn, Errno.OK, true), 42L});
    emit.accept(1, new Object[] {new Trace.ReadRetryChecked(16, 16L << 32, 2, 2, false), 50L});
    emit.accept(1, new Object[] {new Trace.DeviceEntryInstalled(16, 1, va, pfn, true, true, true, 16L << 32, 2), 51L});
    emit.accept(0, new Object[] {new Trace.FolioChanged(pfn, false, 1, 1, false, true, false), 60L});
    emit.accept(1, new Object[] {new Trace.DriverFaultHandled(16, 1, va, Access.ATOMIC, 1, Errno.OK), 61L});
    emit.accept(1, new Object[] {new Trace.DeviceAccessCompleted(16, 9, Errno.OK, 1, 55), 65L});
    emit.accept(0, new Object[] {new Trace.CpuFaulted(0, 1, va, "devexcl"), 100L});
    emit.accept(0, new Object[] {new Trace.PteChanged(1, va, PteState.PRESENT, pfn, true, true, true, "restore_exclusive_pte"), 120L});
    emit.accept(0, new Object[] {new Trace.HostMemoryAccessed(-1, 0, pfn, 0, Access.ATOMIC, 1, 2), 121L});
    r.onFlow(new RunRecorder.Flow(1, 0, "MakeDeviceExclusive", 12, 19, 60));
    r.onFlow(new RunRecorder.Flow(0, 1, "InvalidateStart", 21, 29, 80));
    r.onFlow(new RunRecorder.Flow(1, 0, "InvalidateAck", 30, 39, 40));
    r.onFaultWindow(new RunRecorder.FaultWindow("delay gpu1 +10us", 15, 45));
    return r;
  }

  @Test
  void metricsCountWhatTheEventsSay() {
    JsonNode m = oneFaultRun("arm", 1000).metrics().json();
    JsonNode cpu = m.path("counters").path("cpu");
    assertEquals(1, cpu.path("conversions").asLong());
    assertEquals(1, cpu.path("restores").asLong());
    assertEquals(1, cpu.path("invalidations:EXCLUSIVE").asLong());
    assertEquals(1, cpu.path("cpuFaults:devexcl").asLong());
    assertEquals(1, m.path("counters").path("gpu1").path("acksIgnoredByOwner").asLong());
    assertEquals(1, m.path("histograms").path("gpuAccessLatencyMicros").path("count").asLong());
    assertEquals(55, m.path("histograms").path("gpuAccessLatencyMicros").path("max").asLong());
    assertEquals(40, m.path("histograms").path("folioLockHoldMicros").path("max").asLong());
    assertEquals(19, m.path("histograms").path("invalidationMicros").path("max").asLong());
    assertEquals(100, m.path("counters").path("links").path("gpu1->cpu:bytes").asLong());
    assertEquals(2, m.path("counters").path("links").path("gpu1->cpu:messages").asLong());
  }

  @Test
  void traceIsTraceEventJsonWithEveryNodeAndPairedFlows() throws Exception {
    RunDirectory.write(dir, "demo", "{\"ok\": true}", null, List.of(oneFaultRun("folio-lock", 1000)), null);
    JsonNode t = new ObjectMapper().readTree(dir.resolve(RunDirectory.TRACE).toFile());
    JsonNode evs = t.path("traceEvents");
    assertTrue(evs.isArray() && evs.size() > 20, "traceEvents present");
    Map<String, Integer> starts = new HashMap<>();
    Map<String, Integer> finishes = new HashMap<>();
    java.util.Set<Integer> pids = new java.util.HashSet<>();
    for (JsonNode e : evs) {
      String ph = e.path("ph").asText();
      assertTrue(List.of("M", "i", "X", "b", "e", "s", "f").contains(ph), "known phase " + ph);
      assertTrue(e.has("pid") && e.has("tid") && e.has("name"), "pid, tid, name: " + e);
      if (!ph.equals("M")) assertTrue(e.path("ts").isNumber(), "ts: " + e);
      if (ph.equals("s")) starts.merge(e.path("id").asText(), 1, Integer::sum);
      if (ph.equals("f")) finishes.merge(e.path("id").asText(), 1, Integer::sum);
      if (ph.equals("i")) pids.add(e.path("pid").asInt());
    }
    assertEquals(3, starts.size(), "one flow per message");
    assertEquals(starts, finishes, "each send pairs with exactly one receipt");
    assertTrue(starts.values().stream().allMatch(n -> n == 1));
    assertTrue(pids.containsAll(List.of(1, 2)), "events from the CPU node (pid 1) and GPU node 1 (pid 2): " + pids);
    for (String f : List.of(RunDirectory.RESULT, RunDirectory.METRICS, RunDirectory.REPORT)) {
      assertTrue(Files.size(dir.resolve(f)) > 0, f);
    }
  }

  @Test
  void aCappedTraceSaysSoAndKeepsExactMetrics() throws Exception {
    RunRecorder r = oneFaultRun("arm", 5);
    assertEquals(11, r.droppedMarks());
    JsonNode m = r.metrics().json();
    assertEquals(11, m.path("trace").path("dropped").asLong());
    assertEquals(1, m.path("counters").path("cpu").path("conversions").asLong());
  }

  @Test
  void reportRebuildsFromTheFilesAlone() throws Exception {
    RunDirectory.write(dir, "demo", "{\"ok\": false, \"violations\": 1}", null, List.of(oneFaultRun("a", 100)), null);
    Files.delete(dir.resolve(RunDirectory.REPORT));
    Path out = RunDirectory.rebuild(dir);
    String html = Files.readString(out);
    assertTrue(html.contains("\"violations\":1"), "the data travels inside the page");
    assertTrue(!html.contains("http://") || html.contains("http://www.w3.org/2000/svg"), "no network reference");
  }

  @Test
  void rebuildRefusesADirectoryThatIsNotARunRecord() {
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> RunDirectory.rebuild(dir));
    assertTrue(e.getMessage().contains("result.json is missing"), e.getMessage());
  }

  @Test
  void clockOffsetsBringEveryNodeToTheRecordersClock() {
    // Node 1's JVM started 500 µs after the controller's clock: its times are 500 µs behind.
    RunRecorder r = new RunRecorder("cluster", 100);
    r.clockOffset(1, 500);
    r.origin(1000);
    r.onEvent(new Stamped(1, new long[] {0, 1}, new Trace.DeviceFaulted(16, 1, 0x10000, Access.ATOMIC), 600));
    r.onEvent(new Stamped(0, new long[] {1, 1}, new Trace.CpuFaulted(0, 1, 0x10000, "anon"), 1150));
    r.flowSent(1, 0, 1, 700, "MakeDeviceExclusive", 60);
    r.flowReceived(1, 0, 1, 1250);
    r.onFaultWindow(new RunRecorder.FaultWindow("add 200us to cpu0->gpu1 for 2s", 1050, 1300));
    assertEquals(100, r.marks.get(0).atMicros(), "gpu1's 600 is the controller's 1100, 100 after the origin");
    assertEquals(150, r.marks.get(1).atMicros(), "cpu's own clock needs no offset here");
    assertEquals(200, r.flows.get(0).sentAtMicros(), "a send at gpu1's 700");
    assertEquals(250, r.flows.get(0).receivedAtMicros(), "received at cpu's 1250, after it was sent");
    assertEquals(50, r.faults.get(0).startMicros(), "fault windows are in the recorder's clock already");
    assertEquals(300, r.faults.get(0).endMicros());
    assertEquals(1, r.metrics().json().path("counters").path("faults").path("injected").asLong(), "counted");
  }
}
