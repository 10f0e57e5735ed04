package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sweep --sim}: rows with their intervals, the same JSON for the same seed, replay lines that replay. */
class SimSweepTest {
  /**
   * A small workload on one GPU node with a 2 ms driver deadline (instead of 1000 ms: a §8 R7 spin to the deadline
   * then costs ~10^2 loop iterations instead of ~10^5), so that a row of a few seeds takes well under a second.
   */
  static final String[] SMALL;

  static {
    try {
      Path conf = Files.createTempFile("simsweep", ".conf");
      Files.writeString(conf, "hmm-emu.model.driver-deadline = 2ms\n");
      conf.toFile().deleteOnExit();
      SMALL = new String[] {"--gpu-nodes", "1", "--ops-per-thread", "20", "--quiet", "--config", conf.toString()};
    } catch (java.io.IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  static String[] args(String... more) {
    String[] a = new String[SMALL.length + more.length];
    System.arraycopy(SMALL, 0, a, 0, SMALL.length);
    System.arraycopy(more, 0, a, SMALL.length, more.length);
    return a;
  }

  /** Runs the CLI with stdout captured; returns {exit code, stdout}. */
  static Object[] run(String... argv) {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
      System.setOut(p);
      int code = Main.run(argv);
      return new Object[] {code, buf.toString(StandardCharsets.UTF_8)};
    } finally {
      System.setOut(old);
    }
  }

  static String lastLine(String out) {
    List<String> lines = out.lines().toList();
    return lines.get(lines.size() - 1);
  }

  @Test
  void rowsCarryIntervalsAroundTheirRatesAndOneSeedGivesTheSameJson() throws Exception {
    String[] a = new String[] {"sweep", "--sim", "--latencies", "1us,100us", "--repeats", "4", "--seed", "7", "--json"};
    String[] argv = concat(a, args());
    Object[] first = run(argv);
    Object[] second = run(argv);
    String json = lastLine((String) first[1]);
    assertEquals(json, lastLine((String) second[1]), "same seed, same JSON");
    JsonNode root = new ObjectMapper().readTree(json);
    assertEquals(0, first[0], "exit code; output:\n" + first[1]);
    assertTrue(root.path("ok").asBoolean(), json);
    JsonNode rows = root.path("rows");
    assertEquals(4, rows.size(), "2 latencies x 2 arms: " + json);
    for (JsonNode r : rows) {
      assertEquals(4, r.path("seeds").asInt());
      for (String k : new String[] {"cancel", "seedsWithCancel", "deadlineSpin", "seedsWithDeadlineSpin"}) {
        double lo = r.path(k + "Lo").asDouble(), rate = r.path(k + "Rate").asDouble(), hi = r.path(k + "Hi").asDouble();
        assertTrue(0 <= lo && lo <= rate && rate <= hi && hi <= 1, k + ": " + lo + " <= " + rate + " <= " + hi + " in " + r);
      }
      for (String k : new String[] {"P50", "P99"}) {
        long lo = r.path("gpuAtomicLatency" + k + "Lo").asLong(), hi = r.path("gpuAtomicLatency" + k + "Hi").asLong();
        long est = r.path("gpuAtomicLatency" + k + "Micros").asLong();
        assertTrue(lo <= est && est <= hi, k + ": " + lo + " <= " + est + " <= " + hi + " in " + r);
      }
      assertEquals(16, r.path("traceHash").asText().length(), r.toString());
      assertEquals(r.path("expectedValue").asLong(), r.path("finalValue").asLong(), r.toString());
    }
    assertTrue(rows.get(0).path("hopMicros").asDouble() == 1.0 && rows.get(2).path("hopMicros").asDouble() == 100.0);
  }

  @Test
  void aRowsFirstSeedIsWhatDemoSimReplays() throws Exception {
    Object[] sweep = run(concat(new String[] {"sweep", "--sim", "--latencies", "100us", "--arms", "early-unlock",
        "--repeats", "1", "--seed", "3", "--json"}, args()));
    String hash = new ObjectMapper().readTree(lastLine((String) sweep[1])).path("rows").get(0).path("traceHash").asText();
    Object[] demo = run(concat(new String[] {"demo", "--sim", "--one-way", "100us", "--arms", "early-unlock",
        "--seed", "3", "--json"}, args()));
    JsonNode d = new ObjectMapper().readTree(lastLine((String) demo[1]));
    assertEquals(hash, d.path("armTraceHashes").get(0).asText(), "the replay line runs the same run");
  }

  @Test
  void demoSimLeavesARunRecordWithOut(@TempDir Path dir) {
    Object[] demo = run(concat(new String[] {"demo", "--sim", "--arms", "kernel", "--out", dir.toString()}, args()));
    assertEquals(0, demo[0], (String) demo[1]);
    assertTrue(Files.exists(dir.resolve("metrics.json")) && Files.exists(dir.resolve("report.html")), (String) demo[1]);
  }

  @Test
  void theR9GridRunsBothGpuNodeCountsAndBothSpinSettingsAndTheSameJsonOnAnyThreadCount() throws Exception {
    String[] small = {"--ops-per-thread", "10", "--ops-per-warp", "2", "--quiet", "--config", SMALL[SMALL.length - 1]};
    String[] a = concat(new String[] {"sweep", "--sim", "--r9", "--latencies", "1us", "--arms", "kernel", "--repeats",
        "3", "--seed", "5", "--json", "--threads", "1"}, small);
    Object[] one = run(a);
    assertEquals(0, one[0], "exit code; output:\n" + one[1]);
    String json = lastLine((String) one[1]);
    com.fasterxml.jackson.databind.JsonNode rows = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json)
        .path("rows");
    assertEquals(4, rows.size(), "spin off/on x 1/2 GPU nodes: " + json);
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (com.fasterxml.jackson.databind.JsonNode r : rows) {
      seen.add(r.path("gpuNodes").asInt() + "/" + r.path("cpuSpin").asBoolean());
      assertTrue(r.has("cancelLo") && r.has("cancelHi") && r.has("gpuAtomicLatencyP99Lo"), r.toString());
    }
    assertEquals(java.util.Set.of("1/false", "2/false", "1/true", "2/true"), seen);
    a[a.length - small.length - 1] = "2";
    Object[] two = run(a);
    assertEquals(json, lastLine((String) two[1]), "the thread count does not change the output");
    assertEquals(2, run("sweep", "--r9")[0], "--r9 needs --sim");
    String[] md = concat(new String[] {"sweep", "--sim", "--latencies", "1us", "--arms", "kernel", "--repeats", "1",
        "--markdown"}, small);
    String table = (String) run(md)[1];
    assertTrue(table.contains("| GPU nodes | CPU spin | one-way | arm |") && table.contains("| 1us | folio-lock (kernel) |"),
        table);
  }

  @Test
  void wilsonAndBootstrapIntervals() {
    double[] w = SimSweep.wilson(0, 10);
    assertEquals(0, w[0]);
    assertTrue(w[1] > 0.27 && w[1] < 0.28, "Wilson 0/10 upper bound ~0.278: " + w[1]);
    long[] b = SimSweep.bootstrap(List.of(new long[] {5, 5}, new long[] {5}), 50, new SplittableRandom(1));
    assertEquals(5, b[0]);
    assertEquals(5, b[1]);
    assertEquals(3, SimSweep.percentile(new long[] {1, 2, 3, 4}, 75));
  }

  /** The bootstrap as it was before session 21 (each resample pooled, sorted, its percentile read): the reference. */
  static long[] bootstrapBySorting(List<long[]> runs, double q, SplittableRandom rng) {
    int n = runs.size();
    if (n == 0) return new long[] {0, 0};
    long[] est = new long[SimSweep.BOOTSTRAP];
    long[] buf = new long[runs.stream().mapToInt(a -> a.length).max().orElse(0) * n];
    for (int b = 0; b < SimSweep.BOOTSTRAP; b++) {
      int len = 0;
      for (int i = 0; i < n; i++) {
        long[] r = runs.get(rng.nextInt(n));
        System.arraycopy(r, 0, buf, len, r.length);
        len += r.length;
      }
      long[] s = java.util.Arrays.copyOf(buf, len);
      java.util.Arrays.sort(s);
      est[b] = SimSweep.percentile(s, q);
    }
    java.util.Arrays.sort(est);
    int bs = SimSweep.BOOTSTRAP;
    return new long[] {est[(int) Math.floor(0.025 * (bs - 1))], est[(int) Math.ceil(0.975 * (bs - 1))]};
  }

  /**
   * The bootstrap by counts of distinct values gives the intervals the pooled-and-sorted one gives, and leaves the
   * random stream where it left it (p50's interval, then p99's, from one PRNG as a row draws them): random rows of
   * 1-60 seeds with 0-15 values each, few distinct values or many, unsorted, empty runs among them.
   */
  @Test
  void theBootstrapByCountsIsTheBootstrapBySorting() {
    SplittableRandom gen = new SplittableRandom(2026);
    for (int t = 0; t < 30; t++) {
      int n = 1 + gen.nextInt(60), spread = gen.nextBoolean() ? 4 : 100_000;
      List<long[]> runs = new java.util.ArrayList<>();
      for (int i = 0; i < n; i++) {
        long[] r = new long[gen.nextInt(16)];
        for (int j = 0; j < r.length; j++) r[j] = 3 + gen.nextInt(spread) * 16L;
        runs.add(r);
      }
      SplittableRandom a = new SplittableRandom(t), b = new SplittableRandom(t);
      for (double q : new double[] {50, 99, 0, 100}) {
        long[] want = bootstrapBySorting(runs, q, a), got = SimSweep.bootstrap(runs, q, b);
        assertEquals(want[0], got[0], "case " + t + ", q " + q + ": lo");
        assertEquals(want[1], got[1], "case " + t + ", q " + q + ": hi");
      }
      assertEquals(a.nextLong(), b.nextLong(), "case " + t + ": the PRNG advanced alike");
    }
  }

  static String[] concat(String[] a, String[] b) {
    String[] c = new String[a.length + b.length];
    System.arraycopy(a, 0, c, 0, a.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  /** hmm-emu.sim.controller-hop: 1 µs when absent, a duration otherwise, a negative one a settings error. */
  @Test
  void theControllerHopIsReadFromTheConfig() {
    com.typesafe.config.Config ref = com.typesafe.config.ConfigFactory.load();
    assertEquals(1.0, hmmemu.cluster.demo.SimDemo.controllerHopMicros(hmmemu.cluster.HmmEmuSettings.fromConfig(ref)));
    assertEquals(150.0, hmmemu.cluster.demo.SimDemo.controllerHopMicros(hmmemu.cluster.HmmEmuSettings.fromConfig(
        com.typesafe.config.ConfigFactory.parseString("hmm-emu.sim.controller-hop = 150us").withFallback(ref))));
    org.junit.jupiter.api.Assertions.assertThrows(hmmemu.cluster.SettingsException.class, () ->
        hmmemu.cluster.demo.SimDemo.controllerHopMicros(hmmemu.cluster.HmmEmuSettings.fromConfig(
            com.typesafe.config.ConfigFactory.parseString("hmm-emu.sim.controller-hop = -1us").withFallback(ref))));
  }
}
