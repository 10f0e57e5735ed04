package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input as a new user types it (docs/OPERATIONS.md "Commands": exit 2, one line on stderr): each line names
 * the flag or the thing that is wrong, in words, and nothing runs.
 */
class BadInputCliTest {
  /** Runs {@code args}, expects exit 2 and one stderr line, and returns that line. */
  private static String refused(String... args) {
    CliRun r = CliRun.run(args);
    assertEquals(2, r.code(), String.join(" ", args) + ": " + r);
    assertEquals(1, r.err().size(), String.join(" ", args) + ": " + r.err());
    assertTrue(r.out().isEmpty(), String.join(" ", args) + " printed: " + r.out());
    return r.err().get(0);
  }

  /** --fresh-jvms (a fresh cluster per scenario file instead of reused node JVMs) means nothing without --scenario. */
  @Test
  void freshJvmsNeedsAScenario() {
    assertEquals("hmm-emu: --fresh-jvms applies only with --scenario", refused("cluster", "--gpu", "1", "--fresh-jvms"));
  }

  @Test
  void aBadCpuThinkNamesTheFlag() {
    assertEquals("hmm-emu: --cpu-think: not a duration: '1xs' (e.g. 20us, 70ms, 0)",
        refused("demo", "--sim", "--cpu-think", "1xs"));
    assertEquals("hmm-emu: --cpu-think: must be between 0 and 1s, got -1ms",
        refused("sweep", "--sim", "--cpu-think", "-1ms"));
  }

  /** A bad duration in a --config file: the key, the value as typed (not java.time's PT-0.001S) and the file's line. */
  @Test
  void aBadDurationInAConfigFileSpeaksTheUsersUnits(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bad.conf");
    java.nio.file.Files.writeString(f, "# the think time\nhmm-emu.demo.cpu-think = -1ms\n");
    for (String[] cmd : new String[][] {{"demo", "--sim"}, {"sweep", "--sim"}, {"demo"}}) {
      String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(cmd), java.util.stream.Stream.of("--config",
          f.toString())).toArray(String[]::new);
      assertEquals("hmm-emu: " + f + ":2: hmm-emu.demo.cpu-think = -1ms: must be between 0 and 1s", refused(args));
    }
    String[][] cases = {
        {"hmm-emu.demo.cpu-think = 1500ms", "hmm-emu.demo.cpu-think = 1500ms: must be between 0 and 1s"},
        {"hmm-emu.demo.cpu-think = soon", "hmm-emu.demo.cpu-think = soon: not a duration (e.g. 20us, 70ms, 2s)"},
        {"hmm-emu.demo.run-timeout = -1s", "hmm-emu.demo.run-timeout = -1s: must be > 0"},
        {"hmm-emu.model.driver-deadline = 500ns", "hmm-emu.model.driver-deadline = 500ns: must be at least 1us"},
        {"hmm-emu.faults.folio-lock-lease = -5ms", "hmm-emu.faults.folio-lock-lease = -5ms: must be >= 0"},
        {"hmm-emu.sim.controller-hop = -1us", "hmm-emu.sim.controller-hop = -1us: must be >= 0"},
        {"hmm-emu.demo.gpu-nodes = two", "hmm-emu.demo.gpu-nodes = two: not a whole number"}};
    for (String[] c : cases) {
      java.nio.file.Files.writeString(f, c[0] + "\n");
      assertEquals("hmm-emu: " + f + ":1: " + c[1], refused("demo", "--sim", "--config", f.toString()));
    }
    java.nio.file.Files.writeString(f, "hmm-emu.link.default.delay = -2us\n");
    assertEquals("hmm-emu: hmm-emu.link.default: delay = -2us: must be >= 0 (set in " + f + ":1)",
        refused("demo", "--sim", "--config", f.toString()));
    java.nio.file.Files.writeString(f, "hmm-emu.host-cost.cpu-page-fault = -1us\n");
    assertEquals("hmm-emu: hmm-emu.host-cost.cpu-page-fault = -1us: must be >= 0 (set in " + f + ":1)",
        refused("sweep", "--sim", "--config", f.toString()));
  }

  /**
   * A bad hmm-emu.link value in a --config file is refused before any file runs by the scenario commands too (sim
   * printed FAIL with trace 0000000000000000 for every file and exited 1; run passed files without a faults block),
   * by explore (it said 'explore failed', exit 1), and by cluster before it starts a JVM (it launched them, its CPU
   * node refused the value, and it exited 1).
   */
  @Test
  void aBadLinkValueIsRefusedBeforeAnyScenarioRuns(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bad.conf");
    java.nio.file.Files.writeString(f, "hmm-emu.link.default.jitter = -2us\n");
    String want = "hmm-emu: hmm-emu.link.default: jitter = -2us: must be >= 0 (set in " + f + ":1)";
    assertEquals(want, refused("sim", "../scenarios/cases/c05-nouveau-atomic.conf", "--config", f.toString()));
    assertEquals(want, refused("run", "../scenarios/cases/c05-nouveau-atomic.conf", "--config", f.toString()));
    assertEquals(want, refused("mutants", "--host", "sim", "--only", "exclusive-skip-folio-lock",
        "../scenarios/cases/c05-nouveau-atomic.conf", "--config", f.toString()));
    // explore said 'explore failed: ...' and exited 1
    assertEquals(want, refused("explore", "../scenarios/cases/c05-nouveau-atomic.conf", "--budget", "1", "--config",
        f.toString()));
    // cluster launched its JVMs, whose CPU node refused the value, and exited 1 some 20 s later
    assertEquals(want, refused("cluster", "--gpu", "1", "--config", f.toString()));
    assertEquals(want, refused("cluster", "--scenario", "../scenarios/cases/c05-nouveau-atomic.conf", "--config",
        f.toString()));
  }

  /**
   * demo on an embedded cluster without --link never uses hmm-emu.link, yet a bad value there is refused before anything
   * runs (it was accepted silently; docs/OPERATIONS.md: bad settings are refused first), as with --link and --sim.
   */
  @Test
  void demoWithoutLinkRefusesABadLinkValue(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bad.conf");
    java.nio.file.Files.writeString(f, "hmm-emu.link.default.jitter = -2us\n");
    String want = "hmm-emu: hmm-emu.link.default: jitter = -2us: must be >= 0 (set in " + f + ":1)";
    assertEquals(want, refused("demo", "--config", f.toString()));
    assertEquals(want, refused("demo", "--link", "--config", f.toString()));
    assertEquals(want, refused("demo", "--sim", "--config", f.toString()));
  }

  /** A typo in a --config file's key would leave the default in force silently: refused, with the nearest key. */
  @Test
  void anUnknownKeyInAConfigFileIsRefused(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("typo.conf");
    java.nio.file.Files.writeString(f, "hmm-emu {\n  demo {\n    cpu-thnik = 5ms\n  }\n}\n");
    assertEquals("hmm-emu: " + f + ":3: hmm-emu.demo.cpu-thnik: unknown key (did you mean cpu-think?)",
        refused("demo", "--sim", "--config", f.toString()));
    java.nio.file.Files.writeString(f, "hmm-emu.link.default.tail { p = 0.1, alpah = 2 }\n");
    assertEquals("hmm-emu: " + f + ":1: hmm-emu.link.default.tail.alpah: unknown key (did you mean alpha?)",
        refused("sim", "../scenarios/cases/c05-nouveau-atomic.conf", "--config", f.toString()));
    java.nio.file.Files.writeString(f, "hmm-emu.sim.controller-hopp = 1us\n");
    assertEquals("hmm-emu: " + f + ":1: hmm-emu.sim.controller-hopp: unknown key (did you mean controller-hop?)",
        refused("demo", "--sim", "--config", f.toString()));
    java.nio.file.Files.writeString(f, "hmm-emu.frobnicate = 1\n");
    assertEquals("hmm-emu: " + f + ":1: hmm-emu.frobnicate: unknown key (reference.conf lists the keys)",
        refused("explore", "../scenarios/cases/c05-nouveau-atomic.conf", "--config", f.toString()));
  }

  /** A flag's bad value names the flag (not the key it sets); a bare number is not silently milliseconds. */
  @Test
  void aFlagsBadValueNamesTheFlagAndABareNumberNeedsAUnit() {
    assertEquals("hmm-emu: --gpu-nodes 99: must be in [1, 15]", refused("demo", "--sim", "--gpu-nodes", "99"));
    assertEquals("hmm-emu: --one-way: '5' has no unit (e.g. 5us, 5ms)", refused("demo", "--sim", "--one-way", "5"));
    assertEquals("hmm-emu: --latencies: '5' has no unit (e.g. 5us, 5ms)",
        refused("sweep", "--sim", "--latencies", "1us,5"));
    assertEquals("hmm-emu: --cpu-think: '20' has no unit (e.g. 20us, 20ms)", refused("sweep", "--cpu-think", "20"));
  }

  /** Every arm is checked before the first runs: cluster started the first arm's JVMs before refusing the second. */
  @Test
  void armsAreCheckedBeforeAnyRuns() {
    assertEquals("hmm-emu: --arms: unknown arm 'bogus' (kernel, early-unlock)",
        refused("cluster", "--gpu", "1", "--arms", "kernel,bogus"));
    assertEquals("hmm-emu: --arms: 'kernel' given twice", refused("demo", "--sim", "--arms", "kernel,kernel"));
    assertEquals("hmm-emu: --arms: 'early-unlock' given twice",
        refused("sweep", "--sim", "--arms", "early-unlock,kernel,early-unlock"));
  }

  /** A file named twice runs once; among several paths a directory without a *.conf (a mistyped path) is refused. */
  @Test
  void scenarioPathsRunEachFileOnceAndAnEmptyDirectoryAmongThemIsRefused(@TempDir Path dir) {
    String c05 = "../scenarios/cases/c05-nouveau-atomic.conf";
    CliRun twice = CliRun.run("sim", c05, "../scenarios/cases/../cases/c05-nouveau-atomic.conf", "--seed", "1", "--json",
        "--quiet", "--out", dir.resolve("rec").toString());
    assertEquals(0, twice.code(), twice.toString());
    assertTrue(twice.last().startsWith("{\"ok\": true, \"passed\": 1, \"failed\": 0,"), twice.last());
    assertEquals(dir + ":1: no scenario files (*.conf) in this directory", refused("sim", c05, dir.toString()));
  }

  @Test
  void noCommandSaysSoOnce() {
    assertEquals("hmm-emu: missing command, e.g. demo (try --help)", refused());
  }

  @Test
  void exploreOnADirectorySaysItIsOne(@TempDir Path dir) {
    assertEquals("hmm-emu explore: " + dir + " is a directory: explore takes one scenario file",
        refused("explore", dir.toString()));
  }

  @Test
  void anAddressNobodyServesIsARefusedConnectionInWords() {
    for (String cmd : new String[] {"status", "inject"}) {
      String line = cmd.equals("status") ? refused("status", "--node", "127.0.0.1:1", "--timeout", "5s")
          : refused("inject", "--node", "127.0.0.1:1", "--timeout", "5s", "clear");
      assertTrue(line.startsWith("hmm-emu: " + cmd + ": cannot reach the management endpoint http://127.0.0.1:1/")
          && line.contains(": connection refused"), line);
    }
  }

  @Test
  void aMissingFaultsFileSaysSo(@TempDir Path dir) {
    Path f = dir.resolve("nosuch.faults");
    assertEquals("hmm-emu: --faults: cannot read " + f + ": no such file", refused("cluster", "--faults", f.toString()));
  }
}
