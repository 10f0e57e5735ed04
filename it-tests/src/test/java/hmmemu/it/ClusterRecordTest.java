package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hmmemu.report.RunDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 on separate JVMs: {@code hmm-emu cluster --fault LINE --out DIR} (a controller, in this JVM, launching a CPU
 * and a GPU node JVM) leaves a run record whose metrics.json holds the fault window on the controller's clock, to which
 * both nodes' clocks were aligned, counts it as injected, and whose trace.json draws it on the fault-injection
 * track and report.html carries it for the throughput plot's bands.
 */
class ClusterRecordTest {
  /** The child JVMs map the shared class archive ({@link ChildArchive}): cheaper starts, the same runs. */
  @org.junit.jupiter.api.BeforeAll
  static void childArchive() { ChildArchive.ensure(); }

  private static final String FAULT = "at 0s add 200us to cpu0->gpu1 for 300ms";

  @TempDir Path tmp;

  @Test
  void aClusterRunRecordsItsFaultWindow() throws Exception {
    Path dir = tmp.resolve("run");
    // The controller runs in this JVM (the CLI's own entry point, as ScenariosAcrossJvmsTest runs `cluster
    // --scenario`); its CPU and GPU nodes are separate JVMs as ever. A controller process of its own bought nothing
    // this test checks (ControllerSigkillTest is the one that needs it) and cost a JVM start.
    CliCapture.Run cli = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(300),
        () -> CliCapture.run("cluster", "--gpu", "1", "--arms", "kernel", "--fault", FAULT, "--out", dir.toString(),
            "--quiet"), "the cluster run did not end within 300 s");
    String out = cli.out() + cli.err();
    assertEquals(0, cli.code(), "exit code; output:\n" + out);
    assertTrue(out.contains("run record: " + dir), out);

    ObjectMapper om = new ObjectMapper();
    JsonNode run = om.readTree(dir.resolve(RunDirectory.METRICS).toFile()).path("runs").get(0);
    JsonNode windows = run.path("faultWindows");
    assertEquals(1, windows.size(), "one window: " + windows);
    JsonNode w = windows.get(0);
    assertEquals(FAULT, w.path("label").asText());
    long start = w.path("startMicros").asLong();
    long end = w.path("endMicros").asLong();
    assertTrue(start >= 0 && end > start, "a window of positive length: " + w);
    assertTrue(end - start <= 300_000, "the 300 ms period (model time at time-scale 1), or less when the arm ended"
        + " first: " + w);
    assertTrue(start <= run.path("lastMicros").asLong(), "the window lies within the record's timeline: " + w
        + " last " + run.path("lastMicros"));
    assertEquals(1, run.path("counters").path("faults").path("injected").asLong(), "injected faults counted");
    assertEquals(2, run.path("counters").path("clock").path("nodesAligned").asLong(),
        "cpu0's and gpu1's clocks aligned: " + run.path("counters").path("clock"));

    JsonNode evs = om.readTree(dir.resolve(RunDirectory.TRACE).toFile()).path("traceEvents");
    int faultPid = -1;
    for (JsonNode e : evs) {
      if (e.path("ph").asText().equals("M") && e.path("args").path("name").asText().endsWith(": fault injection")) {
        faultPid = e.path("pid").asInt();
      }
    }
    assertTrue(faultPid >= 0, "a fault-injection process in trace.json");
    boolean drawn = false;
    for (JsonNode e : evs) {
      drawn |= e.path("pid").asInt() == faultPid && e.path("name").asText().equals(FAULT)
          && e.path("ts").asLong() == start;
    }
    assertTrue(drawn, "the window is a slice on the fault-injection track at its start");
    assertTrue(Files.readString(dir.resolve(RunDirectory.REPORT)).contains(FAULT), "report.html carries the window");
  }
}
