package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hmmemu.cluster.cli.Main;
import hmmemu.report.RunDirectory;
import hmmemu.report.RunRecorder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Run records of real runs (docs/OBSERVABILITY.md): a scripted scenario with known numbers (C01: 1024 pages made
 * device-exclusive, then each restored by one CPU fault) leaves a valid Trace Event file with events from every node
 * and flows pairing each send with exactly one receipt, and metrics that agree with the scenario's own counts
 * ({@link #c01RecordHolds}, checked on ScenarioCasesTest's run of C01, which records it: the run is made once); and
 * {@code hmm-emu demo --out DIR --quiet} leaves the four files of the contract, its two arms exact (the headline
 * contention workload on a 3-node cluster, formerly HeadlineContentionTest).
 */
class RunRecordTest {
  @TempDir Path tmp;

  /**
   * C01's run record (ScenarioCasesTest runs c01-exclusive.conf with a recorder, {@link ScenarioCasesTest#RECORDED},
   * and calls this after its own checks; issue 12: the run is made once): metrics.json holds the scenario's known
   * counts, and trace.json events of the CPU node and GPU node 1 with each send paired with exactly one receipt.
   */
  static void c01RecordHolds(RunRecorder recorder) throws Exception {
    Path tmp = Files.createTempDirectory("hmm-emu-c01-record-");
    try {
      c01RecordHolds(recorder, tmp);
    } finally {
      try (var s = Files.walk(tmp)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  private static void c01RecordHolds(RunRecorder recorder, Path tmp) throws Exception {
    RunDirectory.write(tmp, "c01", "{\"ok\": true}", null, List.of(recorder), null);

    JsonNode m = new ObjectMapper().readTree(tmp.resolve(RunDirectory.METRICS).toFile()).path("runs").get(0);
    JsonNode cpu = m.path("counters").path("cpu");
    // The scenario's own expectations: 1024 EXCLUSIVE callbacks then 1024 CLEAR, one DEVEXCL fault per page.
    assertEquals(1024, cpu.path("conversions").asLong(), "conversions");
    assertEquals(1024, cpu.path("restores").asLong(), "restores");
    assertEquals(1024, cpu.path("invalidations:EXCLUSIVE").asLong(), "EXCLUSIVE invalidations");
    assertEquals(1024, cpu.path("invalidations:CLEAR").asLong(), "CLEAR invalidations");
    assertEquals(1024, cpu.path("cpuFaults:devexcl").asLong(), "CPU faults on DEVEXCL entries");
    assertEquals(1024, m.path("counters").path("gpu1").path("deviceEntriesInstalled").asLong(), "atomic entries");
    assertEquals(0, m.path("trace").path("dropped").asLong(), "nothing capped");
    assertEquals(0, m.path("trace").path("unpairedSends").asLong(), "every send received");
    assertEquals(0, m.path("trace").path("unpairedReceipts").asLong(), "every receipt sent");

    JsonNode evs = new ObjectMapper().readTree(tmp.resolve(RunDirectory.TRACE).toFile()).path("traceEvents");
    assertTrue(evs.isArray() && evs.size() > 1000, "traceEvents");
    Map<String, Integer> starts = new HashMap<>();
    Map<String, Integer> finishes = new HashMap<>();
    Set<Integer> pids = new HashSet<>();
    for (JsonNode e : evs) {
      String ph = e.path("ph").asText();
      assertTrue(List.of("M", "i", "X", "b", "e", "s", "f").contains(ph), "known phase: " + e);
      assertTrue(e.has("pid") && e.has("tid") && e.has("name"), "pid, tid, name: " + e);
      if (!ph.equals("M")) {
        assertTrue(e.path("ts").isNumber() && e.path("ts").asLong() >= 0, "ts in model µs: " + e);
        pids.add(e.path("pid").asInt());
      }
      if (ph.equals("s")) starts.merge(e.path("id").asText(), 1, Integer::sum);
      if (ph.equals("f")) finishes.merge(e.path("id").asText(), 1, Integer::sum);
    }
    assertTrue(pids.containsAll(List.of(1, 2)), "events of the CPU node (pid 1) and GPU node 1 (pid 2): " + pids);
    assertTrue(starts.size() > 2 * 1024, "a flow per message: " + starts.size());
    assertEquals(starts, finishes, "each send pairs with exactly one receipt");
    assertTrue(starts.values().stream().allMatch(n -> n == 1), "no flow id twice");
  }

  /**
   * {@code hmm-emu demo --out DIR}: the four files of the contract. The demo runs the contention workload (CPU threads
   * and warps of two GPU nodes incrementing shared counters) on a 3-node embedded cluster (Artery between the
   * ActorSystems) in both arms, so it also carries what HeadlineContentionTest checked on its two clusters of its
   * own (issue 12: the same runs, made once), with the same workload: in each arm zero violations, the checker
   * caught up ({@code ok}), the counter sum equal to the acknowledged increments exactly, every CPU increment
   * completed, every GPU increment completed or cancelled, and the checker saw the run. The model's side of the
   * workload, 200 seeds of both arms, is the simulator's SimDemoTest. Time scale 1, as HeadlineContentionTest ran: a
   * GPU fault that spins to nouveau's 1000 ms (model time) driver deadline costs time-scale seconds of wall time, and
   * this workload has several (at 5 the demo took 95 s instead of about 20). 20 CPU increments per thread and 2 per
   * warp (40 and 4 until session 20: the same shape, threads, warps, nodes, counters and page, half the operations;
   * each arm still has its warps spin to the driver deadline against the CPU threads, thousands of invalidations,
   * docs/TESTING.md "Session 20: itcut3"). {@code --no-warm-up}: the warm-up (a third
   * embedded cluster running the kernel arm once more, figures discarded) buys nothing at time scale 1, where a cold
   * JVM's first steps cost no model time worth measuring; the warm-up itself is DemoWarmUpTest's (cli).
   */
  @Test
  void demoOutLeavesTheFourFilesAndBothArmsAreExact() throws Exception {
    Path dir = tmp.resolve("demo");
    int cpuThreads = 2;
    int opsPerThread = 20;
    int warps = 2;
    int opsPerWarp = 2;
    int gpuNodes = 2;
    int code = Main.run("demo", "--out", dir.toString(), "--quiet", "--cpu-threads", "" + cpuThreads,
        "--ops-per-thread", "" + opsPerThread, "--warps", "" + warps, "--ops-per-warp", "" + opsPerWarp,
        "--gpu-nodes", "" + gpuNodes, "--counters", "2", "--counter-pages", "1", "--time-scale", "1", "--no-warm-up");
    assertEquals(0, code, "demo exit code");
    for (String f : List.of(RunDirectory.RESULT, RunDirectory.METRICS, RunDirectory.TRACE, RunDirectory.REPORT)) {
      assertTrue(Files.isRegularFile(dir.resolve(f)) && Files.size(dir.resolve(f)) > 0, f + " in " + dir);
    }
    ObjectMapper om = new ObjectMapper();
    JsonNode result = om.readTree(dir.resolve(RunDirectory.RESULT).toFile());
    assertTrue(result.path("ok").asBoolean(), "result.json ok (no violation, the checker caught up, exact): " + result);
    JsonNode arms = result.path("runs");
    assertEquals(2, arms.size(), "both arms in result.json: " + result);
    assertEquals("folio-lock (kernel)", arms.get(0).path("name").asText(), result.toString());
    assertEquals("early-unlock (ablation)", arms.get(1).path("name").asText(), result.toString());
    for (JsonNode arm : arms) {
      String why = arm.toString();
      assertEquals(0, arm.path("violations").asLong(-1), "zero violations: " + why);
      assertEquals(arm.path("expectedValue").asLong(), arm.path("finalValue").asLong(-1),
          "final counter sum == completed increments: " + why);
      assertEquals(cpuThreads * opsPerThread, arm.path("cpuAtomics").asLong(), "every CPU increment completes: " + why);
      assertEquals(gpuNodes * warps * opsPerWarp, arm.path("gpuAtomics").asLong() + arm.path("gpuCancelled").asLong(),
          "every GPU increment completes or is cancelled: " + why);
      assertTrue(arm.path("eventsChecked").asLong() > 0, "the checker saw the run: " + why);
      // the smaller workload (session 20) still contends: the CPU threads and the warps met on the counter page
      assertTrue(arm.path("invalidations").asLong() > 0, "the CPU and the GPUs met on the page: " + why);
      assertTrue(!arm.has("gpuNodesLost"), "no GPU node lost: " + why);
    }
    JsonNode runs = om.readTree(dir.resolve(RunDirectory.METRICS).toFile()).path("runs");
    assertEquals(2, runs.size(), "both arms in metrics.json");
    assertEquals(0, Main.run("report", dir.toString()), "hmm-emu report rebuilds it");
    assertEquals(2, Main.run("report", tmp.toString()), "a directory that is not a run record");
  }
}
