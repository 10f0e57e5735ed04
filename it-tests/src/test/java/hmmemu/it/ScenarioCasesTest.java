package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.scenario.CaseResult;
import hmmemu.cluster.scenario.JumpedSpinners;
import hmmemu.cluster.scenario.Scenario;
import hmmemu.cluster.scenario.ScenarioParser;
import hmmemu.cluster.scenario.ScenarioRunner;
import hmmemu.cluster.scenario.SimScenarioRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every scenario file of scenarios/cases (docs/SCENARIOS.md C01-C20 and variants) and of scenarios/faults (one per
 * link fault kind, docs/FAULTS.md) runs as one dynamic test on a fresh
 * embedded cluster of ActorTestKit-made systems with serialize-messages on (started while the file before it runs,
 * closed while the file after it runs: {@link Ahead}); the files whose run waits on wall time by design (a node
 * crash, an expected deadlock) run on a second lane beside the others ({@link #waitingLane}). Each expectation
 * states the kernel's outcome; a failure lists every mismatch as {@code file:line: expected X, got Y}. The runner bounds every wait
 * (a stuck step is reported as a deadlock, never a hang) and uses no sleeps. {@code -Dhmm.scenario=c05} runs only
 * the files whose name contains that text.
 *
 * <p><b>Same verdict on both hosts</b> (issue 12): each file also runs in the deterministic simulator (seed 1; the
 * run costs milliseconds to a second, against seconds for the cluster's, and goes on in a thread beside the
 * cluster's runs) and both hosts must agree on pass/fail and on the kinds of their failures. A disagreement is a defect of one host, never something to tolerate; none is
 * pinned (docs/SCENARIOS.md, "Same verdict on both hosts"). The cluster cannot tell a deadlock from a livelock or a
 * timeout (each is a bounded wait that ran out), so the simulator's three liveness kinds compare as the cluster's
 * one "deadlock". The representative files of {@link #MORE_SEEDS} (C05, an uncontended nouveau atomic; C07, the
 * folio-lock thrash, an async race of a CPU loop and a GPU atomic; C08b, a spinning CPU thread against a GPU atomic;
 * C10, an expected driver-lock deadlock; C12, fork inside the driver's window, held by pause points) are compared
 * with seeds 1, 2 and 3 (they were SimClusterAgreementTest's files). The scenario module's SimScenariosTest holds
 * every file to its expectations in the simulator with more seeds.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class ScenarioCasesTest {
  /** Where the case files live, relative to the it-tests module (Maven runs tests there). */
  static final Path CASES = Path.of("..", "scenarios", "cases");

  /** The link fault files (one per fault kind, each with a faults block; docs/FAULTS.md). */
  static final Path FAULTS = Path.of("..", "scenarios", "faults");

  /** The simulator's seeds every file is compared with. */
  static final long[] SEEDS = {1};

  /** Files compared with seeds 1, 2 and 3: an uncontended atomic, two async races, an expected deadlock, pause points. */
  static final Set<String> MORE_SEEDS = Set.of("c05-nouveau-atomic.conf", "c07-thrash-folio-lock.conf",
      "c08b-spin-with-folio-lock.conf", "c10-driver-lock-deadlock.conf", "c12-fork-in-driver-window.conf");
  static final long[] MORE = {1, 2, 3};

  @TestFactory
  @org.junit.jupiter.api.Order(1) // the case files first, the fault files after: the waiting lane's order
  Stream<DynamicTest> everyCaseFileHoldsOnTheClusterAndTheSimulatorAgrees() throws IOException {
    return filesIn(CASES);
  }

  @TestFactory
  @org.junit.jupiter.api.Order(2)
  Stream<DynamicTest> everyFaultFileHoldsOnTheClusterAndTheSimulatorAgrees() throws IOException {
    return filesIn(FAULTS);
  }

  private static Stream<DynamicTest> filesIn(Path dir) throws IOException {
    List<Path> files = list(dir);
    // The simulator's runs of every file start now, one after another on one thread beside the cluster's runs
    // (which mostly wait on wall time); each file's test joins its own. They share nothing with the cluster's run,
    // not even the parsed file.
    Config base = TEST_CONFIG;
    List<CompletableFuture<List<SimScenarioRunner.Result>>> sims = new ArrayList<>();
    for (Path f : files) sims.add(CompletableFuture.supplyAsync(() -> simRuns(f, base), SIM));
    java.util.Map<Path, Lane> waiting = waitingLane(CompletableFuture.allOf(sims.toArray(CompletableFuture[]::new)));
    List<Path> inTurn = files.stream().filter(f -> !waiting.containsKey(f) && !RECORDED.contains(name(f)))
        .collect(Collectors.toList());
    Ahead ahead = new Ahead(inTurn);
    return java.util.stream.IntStream.range(0, files.size()).mapToObj(i -> {
      Path f = files.get(i);
      Lane w = waiting.get(f);
      return DynamicTest.dynamicTest(f.getFileName().toString(), w != null
          ? () -> {
            w.claim();
            check(f, joinResult(w.result), sims.get(i));
          }
          : RECORDED.contains(name(f)) ? () -> recordedCase(f, sims.get(i))
          : () -> runCase(f, sims.get(i), ahead, inTurn.indexOf(f)));
    });
  }

  private static String name(Path f) { return f.getFileName().toString(); }

  /**
   * The files whose cluster run here also leaves a run record, held to RunRecordTest's checks of it
   * ({@link RunRecordTest#c01RecordHolds}): C01's known counts in metrics.json and a trace of every node with paired
   * flows. Issue 12, no run made twice: RunRecordTest ran this same file on a cluster of its own for them.
   */
  static final Set<String> RECORDED = Set.of("c01-exclusive.conf");

  /** A {@link #RECORDED} file: its own fresh cluster (not started ahead) with a recorder, the same checks, then the record's. */
  private static void recordedCase(Path file, CompletableFuture<List<SimScenarioRunner.Result>> sims) throws Exception {
    Scenario scenario = ScenarioParser.parse(file);
    hmmemu.report.RunRecorder recorder = new hmmemu.report.RunRecorder(scenario.caseId(), 1_000_000);
    check(file, ScenarioRunner.run(scenario, options(scenario), recorder), sims);
    RunRecordTest.c01RecordHolds(recorder);
  }

  /** The {@code *.conf} files of {@code dir} whose name contains {@code -Dhmm.scenario}, sorted. */
  private static List<Path> list(Path dir) throws IOException {
    assertTrue(Files.isDirectory(dir), "no scenario directory at " + dir.toAbsolutePath());
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".conf"))
          .filter(p -> p.getFileName().toString().contains(System.getProperty("hmm.scenario", ""))).sorted()
          .collect(Collectors.toList());
    }
    assertTrue(!files.isEmpty() || !System.getProperty("hmm.scenario", "").isEmpty(),
        "no *.conf scenario in " + dir.toAbsolutePath());
    return files;
  }

  /**
   * A file whose cluster run mostly waits on wall time by design: it crashes a GPU node (failure detection, the
   * Split Brain Resolver's downing, the folio-lock lease: seconds of wall time) or one of its steps expects a
   * deadlock (that step's whole bounded wait, 2-3 s, runs out). A file that does not parse is not one (its own test
   * reports the parse error, as before).
   */
  static boolean waitsOnWallTime(Path file) {
    Scenario s;
    try {
      s = ScenarioParser.parse(file);
    } catch (RuntimeException e) {
      return false;
    }
    if (s.crashes()) return true;
    for (Scenario.Step step : s.steps()) {
      for (hmmemu.cluster.scenario.Expectation e : step.expect()) {
        if (e instanceof hmmemu.cluster.scenario.Expectation.Deadlock d && d.expected()) return true;
      }
    }
    return false;
  }

  /**
   * The waiting lane (CI time, issue 12): the files that {@link #waitsOnWallTime wait on wall time} (of both
   * directories, in the order their tests come: the case files, then the fault files) run one after another on their
   * own thread, {@link #WAITER}, while the other files run in turn. The lane starts once the first factory's
   * simulator runs ended ({@code after}), so that it does not add a third busy thread to the class's first seconds;
   * a file's test that comes before the lane took the file runs it itself ({@link Lane#claim}). Either way each
   * such file's test makes the same checks as every other file's on the cluster
   * {@link ScenarioRunner#run(Scenario, ScenarioRunner.Options)} would make (fresh ActorSystems on new ports, its own
   * checker, link and model clock), so two files' runs share nothing; what differs is only that another file's
   * cluster runs on the same cores meanwhile (as a neighbour's start and close already did, {@link Ahead}).
   */
  private static synchronized java.util.Map<Path, Lane> waitingLane(CompletableFuture<?> after) throws IOException {
    if (waiting == null) {
      java.util.Map<Path, Lane> lane = new java.util.LinkedHashMap<>();
      for (Path dir : List.of(CASES, FAULTS)) {
        for (Path f : list(dir)) if (waitsOnWallTime(f)) lane.put(f, new Lane(f));
      }
      waiting = lane;
      after.handle((x, e) -> null).thenRunAsync(() -> lane.values().forEach(Lane::claim), WAITER);
    }
    return waiting;
  }

  /** One waiting-lane file's run: made once, by whichever of the lane and the file's test claims it first. */
  private static final class Lane {
    private final Path file;
    private final java.util.concurrent.atomic.AtomicBoolean claimed = new java.util.concurrent.atomic.AtomicBoolean();
    final CompletableFuture<CaseResult> result = new CompletableFuture<>();

    Lane(Path file) { this.file = file; }

    /** Runs the file on its own fresh cluster here, unless it was claimed before. */
    void claim() {
      if (!claimed.compareAndSet(false, true)) return;
      try {
        result.complete(ScenarioRunner.run(prepare(file), CLOSER));
      } catch (Throwable t) {
        result.completeExceptionally(t);
      }
    }
  }

  /** The waiting lane's runs by file, made by the first test factory. */
  private static java.util.Map<Path, Lane> waiting;

  /** One thread that runs the waiting lane's files one after another (a daemon; drained after the class). */
  static final java.util.concurrent.ExecutorService WAITER = daemon("scenario-cases-wait");

  /** A waiting-lane run's result, or what it threw, as if thrown here. */
  private static CaseResult joinResult(CompletableFuture<CaseResult> f) throws Throwable {
    try {
      return f.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause();
    }
  }

  /**
   * Each file's own fresh cluster is started while the file before it runs (one ahead at most, on {@link #STARTER}),
   * and closed on {@link #CLOSER} while the file after it runs: a file's run mostly waits on wall time, so the next
   * start and the last close hide in it. Nothing is shared between two files' clusters (each is new ActorSystems on
   * new ports, with its own checker, link and model clock); {@link ScenarioRunner#prepare} makes exactly the cluster
   * {@link ScenarioRunner#run(Scenario, ScenarioRunner.Options)} would make (for a file with several kernel
   * profiles: its first profile's; the next profile's is started while the one before runs).
   */
  private static final class Ahead {
    private final List<Path> files;
    private final java.util.Map<Integer, CompletableFuture<ScenarioRunner.Prepared>> started =
        new java.util.concurrent.ConcurrentHashMap<>();

    Ahead(List<Path> files) { this.files = files; }

    /** File {@code i}'s cluster (started ahead, or now), then file i+1's start on {@link #STARTER}. */
    ScenarioRunner.Prepared take(int i) {
      CompletableFuture<ScenarioRunner.Prepared> mine = started.remove(i);
      if (mine != null) UNUSED.remove(mine);
      ScenarioRunner.Prepared p = mine != null ? mine.join() : prepare(files.get(i));
      if (i + 1 < files.size() && !started.containsKey(i + 1)) {
        Path next = files.get(i + 1);
        CompletableFuture<ScenarioRunner.Prepared> f = CompletableFuture.supplyAsync(() -> prepare(next), STARTER);
        UNUSED.add(f);
        started.put(i + 1, f);
      }
      return p;
    }
  }

  /** Started clusters whose file's test did not run (a filtered run): closed after the class. */
  static final java.util.Set<CompletableFuture<ScenarioRunner.Prepared>> UNUSED =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** One thread that starts the next file's cluster ahead (a daemon). */
  static final java.util.concurrent.ExecutorService STARTER = daemon("scenario-cases-start");

  /** One thread that closes each file's cluster after its verdict (a daemon; drained after the class). */
  static final java.util.concurrent.ExecutorService CLOSER = daemon("scenario-cases-close");

  private static java.util.concurrent.ExecutorService daemon(String name) {
    return java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }

  /** Every cluster is closed before the next test class starts (bounded: a system not closed by then is abandoned). */
  @org.junit.jupiter.api.AfterAll
  static void closeEveryCluster() throws InterruptedException {
    WAITER.shutdown(); // every waiting-lane file's test joined its run; a run no test took still ends, bounded
    assertTrue(WAITER.awaitTermination(300, java.util.concurrent.TimeUnit.SECONDS),
        "the waiting lane's runs did not end within 300 s");
    for (CompletableFuture<ScenarioRunner.Prepared> f : UNUSED) {
      ScenarioRunner.Prepared p = f.join();
      CLOSER.execute(p::discard);
    }
    CLOSER.shutdown();
    assertTrue(CLOSER.awaitTermination(120, java.util.concurrent.TimeUnit.SECONDS),
        "the scenario files' clusters did not close within 120 s");
  }

  /**
   * The simulator's runs of {@code file}: seed 1, or seeds 1-3 for the files of {@link #MORE_SEEDS}; a
   * {@link #JUMPED_SPINNERS} file's seeds up to {@link #JUMPED_SEEDS_UP_TO} with the fast-forward on, each of whose
   * spins must have been jumped.
   */
  private static List<SimScenarioRunner.Result> simRuns(Path file, Config base) {
    Scenario own = ScenarioParser.parse(file);
    List<SimScenarioRunner.Result> out = new ArrayList<>();
    for (long seed : MORE_SEEDS.contains(file.getFileName().toString()) ? MORE : SEEDS) {
      if (!JUMPED_SPINNERS.contains(file.getFileName().toString()) || seed > JUMPED_SEEDS_UP_TO) {
        out.add(SimScenarioRunner.run(own, seed, base));
        continue;
      }
      List<hmmemu.sim.Sim> sims = new ArrayList<>();
      out.add(SimScenarioRunner.run(own, seed, base, null, sim -> {
        sim.fastForward();
        sims.add(sim);
      }));
      for (hmmemu.sim.Sim sim : sims) {
        if (sim.fastForwardOrNull().jumps().isEmpty()) {
          throw new IllegalStateException(file + " seed " + seed + ": the fast-forward jumped no spin (ScenarioCasesTest"
              + ".JUMPED_SPINNERS is stale?): " + sim.fastForwardOrNull().refusals());
        }
      }
    }
    return out;
  }

  /**
   * The deadline spinners (a driver fault loop spinning to nouveau's 1000 ms deadline: ~2.1-2.4 M checked events and
   * ~3 CPU s per seed here, all of the simulator's side but 2 s) that the simulator runs with the fast-forward
   * (hmmemu.sim.FastForward) on for the seeds up to {@link #JUMPED_SEEDS_UP_TO}: exactly the files and seeds for which
   * the sim-tests lane's FastForwardSpinnerTest proves the jumped run equal to the unskipped one (the same failures,
   * trace and agenda events, model time, checker counts, callbacks and final state picture): the one list
   * {@link JumpedSpinners}, which {@link #jumpedSpinnersAreThoseProvenExact} holds those tests to. C12's seed 3
   * ({@link #MORE_SEEDS}) stays unskipped.
   */
  static final Set<String> JUMPED_SPINNERS = JumpedSpinners.FILES;
  static final long JUMPED_SEEDS_UP_TO = JumpedSpinners.PROVEN_SEEDS;

  /** {@link #JUMPED_SPINNERS} and {@link #JUMPED_SEEDS_UP_TO} are the files and seeds FastForwardSpinnerTest compares. */
  @org.junit.jupiter.api.Test
  @org.junit.jupiter.api.Order(0)
  void jumpedSpinnersAreThoseProvenExact() throws IOException {
    Path tests = Path.of("..", "scenario", "src", "test", "java", "hmmemu", "cluster", "scenario");
    String sweep = Files.readString(tests.resolve("SimSeedSweepTest.java"));
    assertTrue(sweep.contains("Set<String> JUMPED_SPINNERS = JumpedSpinners.FILES;"),
        "SimSeedSweepTest.JUMPED_SPINNERS (FastForwardSpinnerTest's files) is no longer JumpedSpinners.FILES");
    String ff = Files.readString(tests.resolve("FastForwardSpinnerTest.java"));
    assertTrue(ff.contains("SimSeedSweepTest.JUMPED_SPINNERS.stream()"),
        "FastForwardSpinnerTest no longer compares SimSeedSweepTest.JUMPED_SPINNERS");
    assertTrue(ff.contains("Integer.getInteger(\"hmm.ffSpin.seeds\", JumpedSpinners.PROVEN_SEEDS)"),
        "FastForwardSpinnerTest no longer compares seeds 1.." + JUMPED_SEEDS_UP_TO);
  }

  /**
   * For a file that crashes a GPU node: failure detection and downing as in application-crash.conf (NodeCrashTest's
   * values, docs/FAULTS.md "Timings"), so that a crash is downed in about 4-5 s instead of about 12 s. Only Pekko's
   * timing of the downing changes; the model's (the folio-lock lease, a model time) stays reference.conf's, and the
   * files wait for the downing with {@code await-gone}, whenever it comes.
   */
  static final Config FAST_DOWNING = ConfigFactory.parseString(
      "pekko.cluster.failure-detector.heartbeat-interval = 500ms\n"
      + "pekko.cluster.failure-detector.acceptable-heartbeat-pause = 2s\n"
      + "pekko.cluster.split-brain-resolver.stable-after = 2s\n");

  /**
   * application-test.conf, loaded once (it includes every reference.conf of the class path: parsing it per file cost
   * ~3 % of the class's CPU); a Config is immutable, so every file's cluster gets the same settings as before.
   */
  static final Config TEST_CONFIG = ConfigFactory.load("application-test");

  /**
   * The threads of each node's ActorSystem (a measured CPU cut, docs/TESTING.md "Session 19: itcut2"): the default
   * and internal dispatchers run on 2 threads (the machine's cores; Pekko's default is at least 8 and 4 per system,
   * and a file's cluster is 3-5 systems in this JVM, two or three clusters alive at once), and Artery decodes inbound
   * messages on one lane (its reference.conf: the lowest latency; 4 by default). Only which thread runs an actor
   * changes: each actor still processes one message at a time, Artery keeps each sender-receiver pair's order, and no
   * actor of ours blocks a thread (the controller's asks block test threads, not dispatchers). Not used by
   * {@code hmm-emu} itself: users' clusters keep Pekko's defaults. (Since session 20 it-tests/pom.xml gives every
   * ActorSystem of the module's test JVMs and child JVMs the same, as system properties; this keeps the class lean
   * when run without that pom, from an IDE.)
   */
  static final Config LEAN_THREADS = ConfigFactory.parseString(
      "pekko.actor.default-dispatcher.fork-join-executor { parallelism-min = 2, parallelism-max = 2 }\n"
      + "pekko.actor.internal-dispatcher.fork-join-executor { parallelism-min = 2, parallelism-max = 2 }\n"
      + "pekko.remote.artery.advanced.inbound-lanes = 1\n");

  /** What every file's cluster is made with: {@link #LEAN_THREADS} over {@link #TEST_CONFIG}. */
  static final Config CLUSTER_CONFIG = LEAN_THREADS.withFallback(TEST_CONFIG);

  /** The options a file's cluster is made with: FAST_DOWNING for a file that crashes a node. */
  static ScenarioRunner.Options options(Scenario scenario) {
    Config clusterBase = scenario.crashes() ? FAST_DOWNING.withFallback(CLUSTER_CONFIG) : CLUSTER_CONFIG;
    return new ScenarioRunner.Options(clusterBase, (name, config) -> ActorTestKit.create(name, config).system(),
        Duration.ofSeconds(30), 1.0);
  }

  /** {@code file}'s fresh cluster, started now. */
  static ScenarioRunner.Prepared prepare(Path file) {
    Scenario scenario = ScenarioParser.parse(file);
    return ScenarioRunner.prepare(scenario, options(scenario));
  }

  private static void runCase(Path file, CompletableFuture<List<SimScenarioRunner.Result>> sims, Ahead ahead, int i) {
    ScenarioRunner.Prepared prepared = ahead.take(i);
    check(file, ScenarioRunner.run(prepared, CLOSER), sims);
  }

  /** The file's cluster run agrees with its simulator runs, and holds every expectation. */
  private static void check(Path file, CaseResult r, CompletableFuture<List<SimScenarioRunner.Result>> sims) {
    Scenario scenario = ScenarioParser.parse(file);
    agree(file, r, sims.join());
    assertTrue(r.ok(), () -> (scenario.caseId() == null ? "" : scenario.caseId() + " ") + scenario.name() + ": "
        + r.failures().size() + " failed expectation(s):\n  " + String.join("\n  ", r.failures()));
  }

  /** One thread for the simulator's runs (a daemon: it never holds the JVM). */
  static final java.util.concurrent.Executor SIM = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "scenario-cases-sim");
    t.setDaemon(true);
    return t;
  });

  /** The simulator's verdict on {@code file} equals the cluster's (pass/fail and failure kinds), seed by seed. */
  private static void agree(Path file, CaseResult cluster, List<SimScenarioRunner.Result> sims) {
    List<String> clusterKinds = SimScenarioRunner.failureKinds(cluster.failures());
    for (SimScenarioRunner.Result sim : sims) {
      assertTrue(sim.ran(), file + " is not supported in the simulator: " + sim.skipped());
      String both = "\n  cluster: " + (cluster.ok() ? "ok" : String.join("\n    ", cluster.failures()))
          + "\n  sim (" + sim.replayLine() + "): " + (sim.ok() ? "ok" : String.join("\n    ", sim.failures()));
      assertEquals(cluster.ok(), sim.ok(), file + ": the hosts disagree on pass/fail" + both);
      assertEquals(clusterKinds, normalised(sim.failures()),
          file + ": the hosts disagree on the failure kinds" + both);
    }
  }

  /**
   * The simulator's livelock and timeout are, on the cluster, a bounded wait that ran out: a "deadlock". A busy-loop
   * livelock ({@code liveness { livelock-span }}, "a party busy without progress") is judged by both hosts with the
   * same watch and stays a "livelock".
   */
  private static List<String> normalised(List<String> failures) {
    List<String> out = new ArrayList<>();
    for (String f : failures) {
      String k = SimScenarioRunner.failureKind(f);
      boolean busy = k.equals("livelock") && f.contains("(a party busy without progress: ");
      String n = !busy && (k.equals("livelock") || k.equals("timeout")) ? "deadlock" : k;
      if (!out.contains(n)) out.add(n);
    }
    return out;
  }
}
