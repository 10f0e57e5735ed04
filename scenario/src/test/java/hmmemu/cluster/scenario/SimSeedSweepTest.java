package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 12's seed budget inside {@code mvn -B verify}: every scenario file of {@code scenarios/cases} and
 * {@code scenarios/faults} holds in the simulator for seeds 1..100, except a file a driver fault loop keeps
 * busy until nouveau's 1000 ms deadline without a jump ({@link #DEADLINE_SPINNERS}: 2-3 M checked events per seed;
 * SimScenariosTest runs it with its three seeds; none since c08's CPU thread loops on its node). A failing seed is listed with the line that replays it
 * ({@code hmm-emu sim FILE --seed S}).
 *
 * <p>The deadline spinners ({@link #JUMPED_SPINNERS}) run with the fast-forward on (hmmemu.sim.FastForward,
 * {@code --fast-forward}; off in every other run), which jumps their spin after ~130 failed rounds instead of
 * simulating ~99,000, and each of their seeds must jump. Why the jump is trusted here: it is exact by construction up
 * to the assumptions docs/RESULTS.md "Fast-forward" lists (every leaf of the state must move by the same amount each
 * period, or be on a list that says how the jump writes it; the checker's rings are refilled as the skipped periods
 * leave them), and FastForwardSpinnerTest compares each of these files, seeds 1 and 2, jumped against unskipped:
 * the same failures, trace events, agenda events, model time, checker counts, callbacks, hmm_range_fault answers and
 * final state picture. A jumped run still checks every event it simulates and the file's expectations.
 *
 * <p>A file outside that list whose seed-1 run checks more than {@link #SPIN_EVENTS} events fails the test, so a
 * new deadline spinner cannot slow verify down unnoticed: it goes into the list knowingly, with the reason.
 * {@code -Dhmm.scenario=a,b} narrows the files as in SimScenariosTest; {@code -Dhmm.sim.sweep-seeds=N} sets N.
 */
class SimSeedSweepTest {
  /** Files whose runs spin a driver fault loop to the 1000 ms deadline (docs/PERFORMANCE.md, "Every scenario file x 100 seeds"). */
  static final Set<String> DEADLINE_SPINNERS = Set.of();
  /**
   * Deadline spinners the fast-forward jumps exactly (FastForwardSpinnerTest checks each against the unskipped run):
   * swept with it on ({@link JumpedSpinners#FILES}).
   */
  static final Set<String> JUMPED_SPINNERS = JumpedSpinners.FILES;
  /** More checked events than this in one seed's run marks a file as a deadline spinner. */
  static final long SPIN_EVENTS = 1_000_000;
  static final int SEEDS = Integer.getInteger("hmm.sim.sweep-seeds", 100);
  static final Config BASE = ConfigFactory.load();
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** Seeds per task after seed 1: small enough that both threads finish together, large enough to parse rarely. */
  static final int CHUNK = 10;

  /**
   * Seed 1 of every file first (its checked events flag a new deadline spinner, whose other seeds are then not run,
   * and measure the file's cost); then seeds 2..SEEDS in chunks of {@link #CHUNK}, the costliest files' chunks
   * first, so that the two threads end within one cheap chunk of each other (longest-processing-time order).
   */
  @Test
  void everyFileHoldsForAHundredSeeds() throws Exception {
    List<Path> files = new ArrayList<>();
    for (Path dir : List.of(SimScenariosTest.CASES, SimScenariosTest.FAULTS)) {
      for (Path f : SimScenariosTest.files(dir)) {
        if (!DEADLINE_SPINNERS.contains(f.getFileName().toString())) files.add(f);
      }
    }
    assertTrue(!files.isEmpty(), "no scenario file selected");
    ExecutorService pool = Executors.newFixedThreadPool(2);
    long started = System.nanoTime();
    try {
      List<Future<Sweep>> firsts = new ArrayList<>();
      for (Path f : files) firsts.add(pool.submit(() -> sweep(f, 1, 1)));
      List<Sweep> done = new ArrayList<>();
      for (Future<Sweep> r : firsts) done.add(r.get(20, TimeUnit.MINUTES));
      List<Sweep> costliestFirst = new ArrayList<>(done);
      costliestFirst.removeIf(Sweep::spinner);
      costliestFirst.sort(Comparator.comparingLong(Sweep::nanos).reversed());
      List<Future<Sweep>> rest = new ArrayList<>();
      for (Sweep first : costliestFirst) {
        for (long from = 2; from <= SEEDS; from += CHUNK) {
          long a = from, b = Math.min(SEEDS, from + CHUNK - 1);
          rest.add(pool.submit(() -> sweep(first.file(), a, b)));
        }
      }
      for (Future<Sweep> r : rest) done.add(r.get(20, TimeUnit.MINUTES));
      done.sort(Comparator.comparing((Sweep w) -> w.file().toString()).thenComparingLong(Sweep::from));
      List<String> failures = new ArrayList<>();
      long cpu = 0;
      for (Sweep w : done) {
        failures.addAll(w.failures());
        cpu += w.cpuNanos();
      }
      // a figure to compare runs by (CPU time moves less with the machine's load than wall time), not a bound
      System.out.printf("SimSeedSweepTest: %d files x %d seeds in %.1f s wall, %.1f s CPU of the sweep threads%n",
          files.size(), SEEDS, (System.nanoTime() - started) / 1e9, cpu / 1e9);
      assertTrue(failures.isEmpty(), () -> failures.size() + " failure(s) in " + files.size() + " files x " + SEEDS
          + " seeds:\n  " + String.join("\n  ", failures));
    } finally {
      pool.shutdownNow();
    }
  }

  /** Seeds {@code from..to} of one file: their failures (each with its replay line) and the CPU-side cost. */
  private record Sweep(Path file, long from, List<String> failures, boolean spinner, long nanos, long cpuNanos) {}

  /** A jumped spinner's seed with the fast-forward on: its failures, and a failure if its spin was not jumped. */
  private static List<String> fastForwarded(Scenario scenario, long seed) {
    Verdict verdict = new Verdict(scenario);
    SimHost host = SimScenarioRunner.runHost(scenario, seed, hmmemu.node.link.LinkSettings.fromConfig(BASE),
        hmmemu.cpu.core.CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS, sim -> sim.fastForward(), verdict);
    List<String> out = new ArrayList<>();
    String replay = "hmm-emu sim " + scenario.file() + " --seed " + seed + " --fast-forward";
    for (String f : verdict.result(0).failures()) out.add(replay + ": " + f);
    hmmemu.sim.FastForward ff = host.sim().fastForwardOrNull();
    if (ff.jumps().isEmpty()) out.add(replay + ": the spin was not jumped (" + ff.refusals() + ")");
    return out;
  }

  /** One file for seeds from..to; at seed 1 also the deadline-spinner check. */
  private static Sweep sweep(Path file, long from, long to) {
    long started = System.nanoTime();
    long cpu = THREADS.getCurrentThreadCpuTime();
    Scenario scenario = ScenarioParser.parse(file);
    List<String> failures = new ArrayList<>();
    boolean jumped = JUMPED_SPINNERS.contains(file.getFileName().toString());
    for (long seed = from; seed <= to; seed++) {
      if (jumped) {
        failures.addAll(fastForwarded(scenario, seed));
        continue;
      }
      SimScenarioRunner.Result r = SimScenarioRunner.run(scenario, seed, BASE);
      if (!r.ran()) {
        failures.add(file + " seed " + seed + " was skipped: " + r.skipped());
      } else if (!r.ok()) {
        failures.add(r.replayLine() + ": " + String.join(" | ", r.failures()));
      }
      if (seed == 1 && r.events() > SPIN_EVENTS) {
        failures.add(file + ": " + r.events() + " checked events at seed 1 (more than " + SPIN_EVENTS
            + "): a deadline spinner? Add it to DEADLINE_SPINNERS with the reason, knowingly");
        return new Sweep(file, from, failures, true, System.nanoTime() - started, THREADS.getCurrentThreadCpuTime() - cpu);
      }
    }
    return new Sweep(file, from, failures, false, System.nanoTime() - started, THREADS.getCurrentThreadCpuTime() - cpu);
  }
}
