package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.demo.WarmUp;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code demo} on the embedded cluster warms the JVM up before its measured arms (WarmUp, an emulator-only host
 * mechanism): a cold JVM's first steps cost milliseconds of real time, which a high time scale turns into model
 * time on the first arm only (docs/RESULTS.md "The first arm ran on a cold JVM").
 */
class DemoWarmUpTest {
  @TempDir Path dir;

  /** The warm-up keeps the measured run's switches, link and workload shape, at time-scale 1.0 and short. */
  @Test
  void warmUpSettingsKeepTheWorkloadShapeAtTimeScaleOne() {
    HmmEmuSettings measured = HmmEmuSettings.load(null, Map.of("hmm-emu.time-scale", 100.0,
        "hmm-emu.demo.gpu-nodes", 1, "hmm-emu.demo.warps-per-device", 4, "hmm-emu.demo.ops-per-warp", 4,
        "hmm-emu.demo.ops-per-thread", 100, "hmm-emu.demo.cpu-think", "10ms", "hmm-emu.demo.cpu-spin", true,
        "hmm-emu.link.default.delay", Map.of("dist", "constant", "value", "100us")));
    HmmEmuSettings w = WarmUp.settings(measured);
    assertEquals(1.0, w.timeScale);
    assertEquals(50, w.demo.opsPerThread());
    assertEquals(1000, w.demo.cpuThinkMicros());
    assertEquals(100_000, w.switches.driverDeadlineMicros());
    assertEquals(measured.switches.withFolioLockUntilMapped(true),
        w.switches.withFolioLockUntilMapped(true).withDriverDeadlineMicros(measured.switches.driverDeadlineMicros()));
    assertEquals(measured.demo.warpsPerDevice(), w.demo.warpsPerDevice());
    assertEquals(measured.demo.opsPerWarp(), w.demo.opsPerWarp());
    assertEquals(measured.demo.cpuThreads(), w.demo.cpuThreads());
    assertEquals(measured.demo.cpuSpin(), w.demo.cpuSpin());
    assertEquals(measured.demo.seed(), w.demo.seed());
    assertEquals("100us", w.config.getString("hmm-emu.link.default.delay.value"));
  }

  /** The measured arm runs after a warm-up arm; the run record says so and holds the measured arm only. */
  @Test
  void demoOnTheClusterWarmsUpBeforeItsMeasuredArms() throws Exception {
    File out = dir.resolve("rec").toFile();
    CliRun run = smallClusterRun(out, "demo", "--link");
    String trace = Files.readString(out.toPath().resolve("trace.json"));
    assertTrue(trace.contains("folio-lock (kernel): cpu node"), "the measured arm is in the trace");
    assertFalse(trace.contains("warm-up"), "the warm-up arm is not in the trace");
    JsonNode result = new ObjectMapper().readTree(run.last());
    assertEquals(1, result.path("runs").size(), "one measured arm in the result");
  }

  /** {@code sweep} on the embedded cluster warms up the same way before its first row (its first run is measured). */
  @Test
  void sweepOnTheClusterWarmsUpBeforeItsFirstRow() throws Exception {
    File out = dir.resolve("sweep").toFile();
    smallClusterRun(out, "sweep", "--latencies", "10us");
    assertFalse(Files.readString(out.toPath().resolve("trace.json")).contains("warm-up"),
        "the warm-up arm is not in the trace");
  }

  /**
   * Runs {@code command} with {@code options} on a small embedded-cluster workload (kernel arm, time-scale 2) recording
   * into {@code out}, and asserts it passed and that its metrics.json reports the one-arm warm-up.
   */
  private static CliRun smallClusterRun(File out, String command, String... options) throws Exception {
    String[] args = new String[options.length + 21];
    args[0] = command;
    System.arraycopy(options, 0, args, 1, options.length);
    System.arraycopy(new String[] {"--gpu-nodes", "1", "--warps", "1", "--ops-per-warp", "2", "--cpu-threads", "1",
        "--ops-per-thread", "2", "--cpu-think", "0", "--arms", "kernel", "--time-scale", "2", "--json", "--quiet",
        "--out", out.getPath()}, 0, args, 1 + options.length, 20);
    CliRun run = CliRun.run(args);
    assertEquals(0, run.code(), () -> command + " failed: " + run.out() + " " + run.err());
    JsonNode metrics = new ObjectMapper().readTree(Files.readString(out.toPath().resolve("metrics.json")));
    String warm = metrics.path("settings").path("warmUp").asText();
    assertTrue(warm.startsWith("1 arm(s) (kernel) at time-scale 1.0, 1 ok"), () -> "no warm-up reported: '" + warm
        + "' in " + metrics.path("settings"));
    return run;
  }
}
