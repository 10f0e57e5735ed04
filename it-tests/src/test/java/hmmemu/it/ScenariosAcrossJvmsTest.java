package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, item 4: a scenario file gives the same verdict on the embedded cluster ({@code hmm-emu run FILE}) and
 * across separate JVMs ({@code hmm-emu cluster --scenario FILE}: a CPU node JVM and one JVM per GPU node, pause
 * points and invalidation counts carried by gate.proto messages). Both run through the CLI's own entry point
 * ({@code Main.run}, through {@link CliCapture}); the test compares their exit codes and their JSON verdict lines (ok, failures per file).
 * Representative files: C04 (invalidation counts and device introspection on two GPU nodes), a copy of C11 (a pause
 * point with event and kind filters, await-paused, resume, invalidation counts) whose count is wrong on purpose,
 * which must fail the same way on both with only that count (the counts really travel, and every other
 * expectation of C11 holds), two found files with controller holds and {@code until}s, a crash and restart file (a
 * SIGKILL of a GPU node's JVM, a new JVM under the next node index) and a busy-loop livelock. Every wait is the
 * runner's, bounded; ports are free ones picked by the nodes. Every file but the crash file runs across JVMs in one
 * {@code hmm-emu cluster --scenario DIR} ({@link #childArchive}) on reused node JVMs, after two dirty files
 * (docs/SCENARIOS.md "Reused node JVMs"); each test reads its file's verdict from that run.
 *
 * <p>Where a file passes, its embedded verdict is {@code ScenarioCasesTest}'s (every file of scenarios/cases and
 * scenarios/faults on the embedded cluster, held to its expectations and compared with the simulator), so only its
 * run across JVMs is made here, and "the same verdict" is: it passes there too. (Issue 12: no run is made twice.
 * B double_map, plain dmirror reads on two GPU nodes, is no longer run across JVMs: C04 runs dmirror on two GPU
 * node JVMs with device introspection, and the messages double_map adds are serialized on the embedded cluster by
 * serialize-messages; ScenarioCasesTest holds it on both hosts.)
 */
class ScenariosAcrossJvmsTest {
  /**
   * The across-JVM files of this test, run once as one directory by {@code hmm-emu cluster --scenario DIR}: on reused
   * node JVMs (docs/SCENARIOS.md "Across separate JVMs"; the crash file is the one that gets its own). The dirty files
   * come first: the busy-loop livelock leaves G's driver fault loop spinning and the wrong C11 count fails mid-way, so
   * the files after them (whose verdicts each test holds to the embedded one, or to the file's found kind) run on
   * node JVMs a stale loop or message could reach. C04 needs two GPU node JVMs: new ones, after the one-GPU files.
   */
  private static Path batch;
  private static Run batchRun;
  private static final java.util.Map<String, Path> BATCH_FILES = new java.util.LinkedHashMap<>();

  /** The child JVMs map the shared class archive ({@link ChildArchive}): cheaper starts, the same runs. */
  @org.junit.jupiter.api.BeforeAll
  static void childArchive() throws IOException {
    ChildArchive.ensure();
    batch = Files.createTempDirectory("scenarios-across-jvms");
    String wrong = wrongC11Count();
    copy("1-busy-loop-no-folio-lock.conf", Files.readString(ClusterLivenessTest.DIR.resolve("busy-loop-no-folio-lock.conf")));
    copy("2-c11-wrong-count.conf", wrong);
    for (String f : List.of("b-no-folio-lock-progress-livelock-found.conf", "c-fork-enomem-expectation-found.conf",
        "d-dmirror-exclusive-dontneed-violation-found.conf")) {
      copy("3-" + f, Files.readString(Path.of("..", "scenarios", "found", f)));
    }
    copy("4-c04-two-devices.conf", Files.readString(CASES.resolve("c04-two-devices.conf")));
    Path out = Files.createTempDirectory("scenarios-across-jvms-out");
    long reusedBefore = hmmemu.cluster.scenario.JvmPool.reusesInThisJvm();
    batchRun = cliRun("cluster", "--scenario", batch.toString(), "--json", "--quiet", "--out", out.toString());
    assertTrue(batchRun.verdict() != null, "a JSON verdict line: " + batchRun.out() + batchRun.err());
    assertTrue(!batchRun.err().contains("could not be reused"), "the node JVMs were reused: " + batchRun.err());
    // the five one-GPU files: one start and four reuses (C04 needs two GPU node JVMs: new ones)
    assertEquals(4, hmmemu.cluster.scenario.JvmPool.reusesInThisJvm() - reusedBefore,
        "runs on reused node JVMs: " + batchRun.out() + batchRun.err());
  }

  @org.junit.jupiter.api.AfterAll
  static void deleteBatch() throws IOException {
    if (batch == null) return;
    try (var files = Files.walk(batch)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  private static void copy(String name, String text) throws IOException {
    Path f = batch.resolve(name);
    Files.writeString(f, text);
    BATCH_FILES.put(name, f);
  }

  /** {@code name}'s copy in the batch directory. */
  private static Path batchFile(String name) {
    Path f = BATCH_FILES.get(name);
    assertTrue(f != null, "not in the batch: " + name);
    return f;
  }

  /**
   * The batch run's verdict of one file, in the form of a run of that file alone: exit code 0 if it passed, 1 if it
   * failed; its JSON case alone; the batch's output.
   */
  private static Run acrossJvmsInBatch(Path f) {
    for (JsonNode c : batchRun.verdict().get("cases")) {
      if (!c.get("file").asText().equals(f.toString())) continue;
      com.fasterxml.jackson.databind.node.ObjectNode v = JSON.createObjectNode();
      v.put("ok", c.get("ok").asBoolean());
      v.putArray("cases").add(c);
      return new Run(c.get("ok").asBoolean() ? 0 : 1, v, batchRun.out(), batchRun.err());
    }
    throw new AssertionError("no verdict of " + f + " in the batch run: " + batchRun.out() + batchRun.err());
  }

  private static String wrongC11Count() throws IOException {
    String text = Files.readString(CASES.resolve("c11-madvise-before-check.conf"));
    String wrong = text.replace("invalidations { G { interval { CLEAR = 1 } } }",
        "invalidations { G { interval { CLEAR = 2 } } }");
    assertTrue(!wrong.equals(text), "the C11 file no longer has the count this test changes");
    return wrong;
  }

  private static final Path CASES = Path.of("..", "scenarios", "cases");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  /**
   * The found files (scenarios/found) this test runs on the embedded cluster ({@code hmm-emu run}) as well as across
   * JVMs: for them it also makes ExploreFilesTest's cluster check (the first failure has the kind of the file's
   * {@code # explore-verdict}), and ExploreFilesTest does not run them on the cluster again (issue 12).
   */
  static final java.util.Set<String> FOUND_FILES_ON_THE_CLUSTER_HERE = java.util.Set.of(
      "b-no-folio-lock-progress-livelock-found.conf", "c-fork-enomem-expectation-found.conf",
      "d-dmirror-exclusive-dontneed-violation-found.conf");

  /** ExploreFilesTest's cluster check: the first failure's kind is the file's {@code # explore-verdict}. */
  private static void firstFailureHasTheFoundKind(Path f, Run r, String why) throws IOException {
    java.util.regex.Matcher v = java.util.regex.Pattern.compile("(?m)^# explore-verdict = (\\w+)$")
        .matcher(Files.readString(f));
    assertTrue(v.find(), f + ": no '# explore-verdict' header");
    List<String> lines = failures(r.verdict());
    assertTrue(!lines.isEmpty(), "the simulator's " + v.group(1) + " was not confirmed: " + why);
    assertEquals(v.group(1), hmmemu.cluster.scenario.SimScenarioRunner.failureKind(lines.get(0)), why);
  }

  private record Run(int code, JsonNode verdict, String out, String err) {}

  private Run cli(String... args) { return cliRun(args); }

  private static Run cliRun(String... args) {
    CliCapture.Run r = CliCapture.run(args);
    int code = r.code();
    String o = r.out();
    String e = r.err();
    // the verdict lines with their wall times, for the test's log
    o.lines().filter(l -> l.startsWith("PASS ") || l.startsWith("FAIL ")).forEach(l -> System.out.println(args[0] + ": " + l));
    JsonNode verdict = null;
    for (String line : o.lines().toList()) {
      if (line.startsWith("{\"ok\"")) {
        try {
          verdict = JSON.readTree(line);
        } catch (IOException ex) {
          throw new AssertionError("not JSON: " + line, ex);
        }
      }
    }
    return new Run(code, verdict, o, e);
  }

  private Run embedded(Path file) throws IOException {
    return cli("run", file.toString(), "--json", "--quiet", "--out", Files.createTempDirectory(tmp, "run").toString());
  }

  private Run acrossJvms(Path file) throws IOException {
    return cli("cluster", "--scenario", file.toString(), "--json", "--quiet", "--out",
        Files.createTempDirectory(tmp, "cluster").toString());
  }

  /** Same exit code, same ok and same failure lines (they name file, line and what differed). */
  /** The file and both runs' output, for a failure message. */
  private static String why(Path file, Run embedded, Run jvms) {
    return file + "\nembedded:\n" + embedded.out() + embedded.err() + "\nseparate JVMs:\n" + jvms.out() + jvms.err();
  }

  private static void assertSameVerdict(Path file, Run embedded, Run jvms, int expectedCode) {
    String why = why(file, embedded, jvms);
    assertEquals(expectedCode, embedded.code(), "embedded exit code: " + why);
    assertEquals(expectedCode, jvms.code(), "separate JVMs exit code: " + why);
    assertTrue(embedded.verdict() != null && jvms.verdict() != null, "a JSON verdict line from both: " + why);
    assertEquals(embedded.verdict().get("ok"), jvms.verdict().get("ok"), why);
    assertEquals(failures(embedded.verdict()), failures(jvms.verdict()), why);
  }

  private static List<String> failures(JsonNode verdict) {
    List<String> out = new ArrayList<>();
    for (JsonNode c : verdict.get("cases")) for (JsonNode f : c.get("failures")) out.add(f.asText());
    return out;
  }

  /**
   * A file that passes on the embedded cluster (ScenarioCasesTest holds every file there to its expectations):
   * across JVMs it passes too, exit 0, ok, no failure line.
   */
  private void passesAcrossJvmsAsEmbedded(Path f) throws IOException {
    assertTrue(Files.isRegularFile(f), "no scenario " + f.toAbsolutePath());
    passesAcrossJvmsAsEmbedded(f, acrossJvms(f));
  }

  private static void passesAcrossJvmsAsEmbedded(Path f, Run jvms) {
    String why = f + " (passes on the embedded cluster: ScenarioCasesTest)\nseparate JVMs:\n" + jvms.out() + jvms.err();
    assertEquals(0, jvms.code(), "separate JVMs exit code: " + why);
    assertTrue(jvms.verdict() != null, "a JSON verdict line: " + why);
    assertTrue(jvms.verdict().get("ok").asBoolean(), why);
    assertEquals(List.of(), failures(jvms.verdict()), why);
  }

  @Test
  void invalidationCountsOnTwoGpuNodes() throws IOException {
    Path f = batchFile("4-c04-two-devices.conf");
    passesAcrossJvmsAsEmbedded(f, acrossJvmsInBatch(f));
  }

  /**
   * A file's {@code order} (docs/SCENARIOS.md "Pinning every order"): the senders' order gates hold each message until
   * the controller permits it (gate.proto order, permit), the receivers report the deliveries (DeliveryWatch,
   * Delivered), so every node takes its inputs in the listed sequence as on the embedded cluster. The file fails on
   * purpose (the found fork ENOMEM expectation, C12b), with the same lines on both. It was written with two holds
   * before, which left every other order to timing: under load G's driver deadline (500 µs of model time, 100 ms of
   * wall time at time-scale 200) could end its fault before the second InvalidateStart a hold waited for
   * (a clean-clone CI run: "nothing completed within 10000 ms").
   */
  @Test
  void anOrderGivesTheSameVerdict() throws IOException {
    Path f = batchFile("3-c-fork-enomem-expectation-found.conf");
    Run embedded = embedded(f);
    assertSameVerdict(f, embedded, acrossJvmsInBatch(f), 1);
    // the found expectation, not an order whose next input never came (that would be a deadlock line)
    assertTrue(failures(embedded.verdict()).stream().noneMatch(l -> l.contains("deadlock")), embedded.out());
    firstFailureHasTheFoundKind(f, embedded, embedded.out());
  }

  /**
   * Explore target (b)'s livelock, which no placement of pause points reproduced (its schedule needs 30 deviations):
   * its found file pins every node's inputs up to the verdict, so both hosts replay the simulator's schedule and
   * judge G's loop a livelock (the counts and times in the line differ run by run: the kinds and the form are
   * compared, as for the busy-loop file below).
   */
  @Test
  void theFoundLivelockReplaysAcrossJvms() throws IOException {
    Path f = batchFile("3-b-no-folio-lock-progress-livelock-found.conf");
    Run embedded = embedded(f);
    Run jvms = acrossJvmsInBatch(f);
    String why = why(f, embedded, jvms);
    for (Run r : List.of(embedded, jvms)) {
      assertEquals(1, r.code(), why);
      assertTrue(r.verdict() != null, "a JSON verdict line: " + why);
      List<String> lines = failures(r.verdict());
      assertEquals("livelock", hmmemu.cluster.scenario.SimScenarioRunner.failureKinds(lines).get(0), why);
      assertTrue(lines.get(0).contains("(a party busy without progress: G's driver fault loop failed "), why);
    }
    assertEquals(hmmemu.cluster.scenario.SimScenarioRunner.failureKinds(failures(embedded.verdict())),
        hmmemu.cluster.scenario.SimScenarioRunner.failureKinds(failures(jvms.verdict())), why);
    firstFailureHasTheFoundKind(f, embedded, why);
  }

  /**
   * The dmirror EXCLUSIVE vs MADV_DONTNEED race, forced by its order (the CPU node takes D0's MakeDeviceExclusive,
   * then the madvise: the shortest prefix after which every schedule the simulator tried leaves the stale entry):
   * both runs leave the stale atomic entry the file was found for and fail at the same line with the same
   * expectation and violations I1 and I2. Which further violations the checker reports after that (I5 when the
   * mirror installs its entry after acking the CLEAR, I8 when the folio is freed first) depends on the wall-time
   * order of the remaining messages on either host (the explorer's simulator run reported I5, I1, I2), so the lists
   * themselves are not compared.
   */
  @Test
  void untilRaceLeavesTheSameStaleEntry() throws IOException {
    Path f = batchFile("3-d-dmirror-exclusive-dontneed-violation-found.conf");
    Run embedded = embedded(f);
    Run jvms = acrossJvmsInBatch(f);
    String why = why(f, embedded, jvms);
    assertEquals(1, embedded.code(), "embedded exit code: " + why);
    assertEquals(1, jvms.code(), "separate JVMs exit code: " + why);
    assertTrue(embedded.verdict() != null && jvms.verdict() != null, "a JSON verdict line from both: " + why);
    for (Run r : List.of(embedded, jvms)) {
      List<String> lines = failures(r.verdict());
      assertEquals(1, lines.size(), why);
      String l = lines.get(0);
      assertTrue(l.startsWith(f + ":28: expected no invariant violation, got "), why);
      assertTrue(l.contains("I1 at mm1 va=0x7f0000000000 pfn=0x1000 dev16") && l.contains("I2 at mm1 va=0x7f0000000000"),
          "the stale atomic entry: " + why);
    }
    firstFailureHasTheFoundKind(f, embedded, why);
  }

  /**
   * Crash and restart as steps: GPU node 1 is killed (embedded: its ActorSystem terminated; across JVMs: SIGKILL of
   * its JVM) while a pause point holds its driver's folio_unlock; the CPU node declares it gone, the folio-lock lease
   * runs out, T1's fault restores the dead device's entry; the restart is a new member whose G is bound again and
   * converts the page in one iteration. The file asserts the counts (NodeGone, FolioLockLeaseExpired, cpu-faults,
   * driver-iterations) on both hosts. The one crash file in this test: each run takes a minute or two across JVMs
   * (the failure detector and the Split Brain Resolver take seconds of wall time); M10, X06 and
   * faults/crash-restart.conf (the faults block's crash and restart lines) go the same way.
   */
  @Test
  void crashAndRestartStepsGiveTheSameVerdict() throws IOException {
    Path f = Path.of("..", "scenarios", "faults", "crash-holding-folio-lock.conf");
    passesAcrossJvmsAsEmbedded(f);
  }

  /**
   * A wrong invalidation count fails on both with the same line: the count is the nodes', not a default. C11's
   * pause point with event and kind filters, await-paused and resume: the copy fails across JVMs with that one line
   * only, the count got being C11's (1), so every other expectation of C11 held there, as C11 itself does on the
   * embedded cluster (ScenarioCasesTest). (C11 itself no longer runs across JVMs: this run shows the same.)
   */
  @Test
  void aWrongCountFailsTheSameWay() throws IOException {
    Path f = batchFile("2-c11-wrong-count.conf");
    Run embedded = embedded(f);
    Run jvms = acrossJvmsInBatch(f);
    assertSameVerdict(f, embedded, jvms, 1);
    List<String> lines = failures(jvms.verdict());
    assertEquals(1, lines.size(), "only the count fails: " + lines);
    assertTrue(lines.get(0).matches(".*:\\d+: expected 2 CLEAR invalidation callbacks to G .*, got 1"),
        "the failure names the count, and the count got is C11's: " + lines);
  }

  /**
   * {@code liveness { livelock-span }} across JVMs: the checker runs in the controller's JVM and feeds the busy-loop
   * watch as embedded (ClusterLivenessTest's file), so G's loop without the folio lock is a livelock there too, named
   * in the simulator's form (the counts and times differ run by run, so the kinds and the form are compared). The
   * embedded cluster's run of the same file, with the same kinds and form, is ClusterLivenessTest's (issue 12: not
   * made twice); the CLI's exit code 1 for a failing file on the embedded cluster is shown by the runs above.
   */
  @Test
  void aBusyLoopLivelockIsJudgedAcrossJvmsToo() throws IOException {
    Path f = batchFile("1-busy-loop-no-folio-lock.conf");
    Run jvms = acrossJvmsInBatch(f);
    String why = f + "\nseparate JVMs:\n" + jvms.out() + jvms.err();
    assertEquals(1, jvms.code(), why);
    assertTrue(jvms.verdict() != null, "a JSON verdict line: " + why);
    List<String> lines = failures(jvms.verdict());
    assertEquals(List.of("livelock", "expectation"), hmmemu.cluster.scenario.SimScenarioRunner.failureKinds(lines), why);
    assertTrue(lines.get(0).contains("got a livelock: nothing completed at ")
        && lines.get(0).contains("(a party busy without progress: G's driver fault loop failed "), why);
  }
}
