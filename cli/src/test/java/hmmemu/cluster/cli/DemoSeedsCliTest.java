package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.scenario.DemoSeeds;
import hmmemu.cluster.scenario.SimDemoArm;
import hmmemu.node.link.LinkSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code hmm-emu demo --sim --seeds N [--first-seed S] [--threads T]} (SimDemoSeeds, DemoSeeds): its flags and bad
 * input, a failing seed's replay line and exit 1, and determinism: the thread count changes neither the output (but
 * its times) nor any seed's result. A small workload (1 GPU node, 20 CPU atomics per thread, a 2 ms driver deadline)
 * keeps each seed at milliseconds.
 */
class DemoSeedsCliTest {
  static final String[] SMALL = SimSweepTest.SMALL; // --gpu-nodes 1 --ops-per-thread 20 --quiet --config (2 ms deadline)
  static final ObjectMapper JSON = new ObjectMapper();

  static String[] demo(String... more) {
    String[] a = new String[2 + SMALL.length + more.length];
    a[0] = "demo";
    a[1] = "--sim";
    System.arraycopy(SMALL, 0, a, 2, SMALL.length);
    System.arraycopy(more, 0, a, 2 + SMALL.length, more.length);
    return a;
  }

  /** The JSON line without its times (events per CPU second, CPU seconds). */
  static JsonNode withoutTimes(String line) throws Exception {
    ObjectNode o = (ObjectNode) JSON.readTree(line);
    o.remove("eventsPerCpuSecond");
    o.remove("cpuSeconds");
    return o;
  }

  @Test
  void badFlagCombinationsAreOneLineAndExitTwo() {
    String[][] bad = {
        {"demo", "--seeds", "3"},
        {"demo", "--sim", "--first-seed", "3"},
        {"demo", "--sim", "--threads", "2"},
        {"demo", "--sim", "--seeds", "3", "--seed", "7"},
        {"demo", "--sim", "--seeds", "0"},
        {"demo", "--sim", "--seeds", "-4"},
        {"demo", "--sim", "--seeds", "3", "--threads", "0"},
        {"demo", "--sim", "--seeds", "3", "--first-seed", "-1"},
        {"demo", "--sim", "--seeds", "3", "--out", "/tmp/x"},
        {"demo", "--sim", "--seeds", "three"},
        {"demo", "--sim", "--seeds", "2", "--arms", "kernel,nope"},
    };
    String[] says = {"--seeds: only with --sim", "--first-seed: only with --seeds N", "--threads: only with --seeds N",
        "not both", "--seeds: must be at least 1", "--seeds: must be at least 1", "--threads: must be at least 1",
        "--first-seed: must be between", "--out: not with --seeds", "three", "unknown arm"};
    for (int i = 0; i < bad.length; i++) {
      CliRun r = CliRun.run(bad[i]);
      assertEquals(2, r.code(), String.join(" ", bad[i]) + ": " + r.err());
      assertEquals(1, r.err().size(), "one line: " + r.err());
      assertTrue(r.err().get(0).contains(says[i]), String.join(" ", bad[i]) + ": " + r.err());
      assertTrue(r.out().isEmpty(), "nothing ran: " + r.out());
    }
  }

  @Test
  void theSummaryAndItsJsonDoNotDependOnTheThreadCount() throws Exception {
    CliRun one = CliRun.run(demo("--seeds", "4", "--first-seed", "3", "--threads", "1", "--json", "--fast-forward"));
    assertEquals(0, one.code(), one.out() + "\n" + one.err());
    JsonNode j = JSON.readTree(one.last());
    assertTrue(j.path("ok").asBoolean() && j.path("seeds").asInt() == 4 && j.path("firstSeed").asInt() == 3
        && j.path("failed").asInt() == 0 && j.path("failingSeeds").isEmpty(), one.last());
    assertEquals(2, j.path("arms").size(), one.last());
    for (JsonNode a : j.path("arms")) {
      assertEquals(4, a.path("seeds").asInt(), a.toString());
      assertTrue(a.has("cancelPerGpuAtomic") && a.has("seedsWithCancelRate") && a.has("driverTimeoutPerFault")
          && a.has("gpuAtomicLatencyP99Micros"), a.toString());
      assertEquals(4 * 2 * 20, a.path("cpuAtomics").asInt(), "two CPU threads x 20 atomics per seed: " + a);
    }
    assertTrue(j.path("fastForward").path("on").asBoolean(), one.last());
    CliRun three = CliRun.run(demo("--seeds", "4", "--first-seed", "3", "--threads", "3", "--json", "--fast-forward"));
    assertEquals(withoutTimes(one.last()), withoutTimes(three.last()), "the thread count changes no figure");
    // The text summary names the seeds and ends with the fast-forward totals.
    CliRun text = CliRun.run(demo("--seeds", "2", "--threads", "2"));
    assertEquals(0, text.code(), text.out() + "\n" + text.err());
    assertTrue(text.out().stream().anyMatch(l -> l.startsWith("2 seed(s) run, 0 failed: no violation, no lost increment")),
        String.join("\n", text.out()));
    assertTrue(text.last().startsWith("fast-forward off"), text.last());
  }

  @Test
  void eachSeedsResultIsTheSameOnOneThreadAndOnThree() {
    HmmEmuSettings settings = HmmEmuSettings.load(SMALL_CONFIG.toFile(), Map.of("hmm-emu.demo.gpu-nodes", 1,
        "hmm-emu.demo.ops-per-thread", 20));
    LinkSettings link = SimDemoArm.link(settings, -1);
    List<String> arms = List.of("kernel", "early-unlock");
    List<List<DemoSeeds.Seed>> got = new ArrayList<>();
    for (int threads : new int[] {1, 3}) {
      List<DemoSeeds.Seed> seeds = new ArrayList<>();
      DemoSeeds.run(arms, 10, 5, threads, (arm, seed) -> SimDemoArm.run(settings, link, arm, seed, null, null),
          seeds::add);
      got.add(seeds);
    }
    for (int i = 0; i < 5; i++) {
      DemoSeeds.Seed a = got.get(0).get(i), b = got.get(1).get(i);
      assertEquals(10 + i, a.seed(), "seed order");
      assertEquals(a.seed(), b.seed(), "seed order");
      for (int k = 0; k < arms.size(); k++) {
        DemoSeeds.Arm x = a.arms().get(k), y = b.arms().get(k);
        assertEquals(x.traceHash(), y.traceHash(), "seed " + a.seed() + " " + x.arm());
        assertEquals(List.of(x.ok(), x.cpuAtomics(), x.gpuAtomics(), x.gpuCancelled(), x.driverTimeouts(),
            x.traceEvents(), x.modelMicros(), x.finalValue()), List.of(y.ok(), y.cpuAtomics(), y.gpuAtomics(),
            y.gpuCancelled(), y.driverTimeouts(), y.traceEvents(), y.modelMicros(), y.finalValue()),
            "seed " + a.seed() + " " + x.arm());
        assertEquals(java.util.Arrays.toString(x.gpuLatencies()), java.util.Arrays.toString(y.gpuLatencies()));
      }
    }
  }

  static final Path SMALL_CONFIG = Path.of(SMALL[SMALL.length - 1]);

  @Test
  void aFailingSeedPrintsItsReplayLineAndExitsOne() throws Exception {
    // C10 (docs/SCENARIOS.md): nouveau's svmm mutex held across make_device_exclusive: every seed is caught (I7).
    Path conf = Files.createTempFile("demoseeds-c10", ".conf");
    conf.toFile().deleteOnExit();
    Files.writeString(conf, "hmm-emu.model.driver-deadline = 500us\nhmm-emu.model.driver-lock-across-conversion = true\n");
    String[] args = {"demo", "--sim", "--seeds", "3", "--first-seed", "2", "--gpu-nodes", "1", "--ops-per-warp", "3",
        "--ops-per-thread", "8", "--cpu-think", "0", "--arms", "kernel", "--config", conf.toString(), "--quiet"};
    CliRun r = CliRun.run(args);
    assertEquals(1, r.code(), String.join("\n", r.out()));
    String replay = "replay: hmm-emu demo --sim --seed 3 --arms kernel --gpu-nodes 1 --ops-per-warp 3 --ops-per-thread 8"
        + " --cpu-think 0 --config " + conf;
    assertTrue(r.out().stream().anyMatch(l -> l.trim().equals(replay)), replay + " in:\n" + String.join("\n", r.out()));
    assertTrue(r.out().stream().anyMatch(l -> l.startsWith("  seed 2 FAILED: kernel: ") && l.contains("I7")),
        String.join("\n", r.out()));
    String[] withJson = java.util.Arrays.copyOf(args, args.length + 1);
    withJson[args.length] = "--json";
    CliRun j = CliRun.run(withJson);
    assertEquals(1, j.code());
    JsonNode o = JSON.readTree(j.last());
    assertTrue(!o.path("ok").asBoolean() && o.path("failed").asInt() == 3, j.last());
    assertEquals("[2,3,4]", o.path("failingSeeds").toString());
    assertEquals(replay.substring("replay: ".length()), o.path("replays").get(1).asText());
  }
}
