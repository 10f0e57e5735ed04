package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.node.link.LinkSettings;
import hmmemu.sim.FastForward;
import hmmemu.sim.Sim;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The fast-forward (hmmemu.sim.FastForward) on the scenario files whose driver loop spins to nouveau's 1000 ms
 * deadline and that SimSeedSweepTest sweeps with the jump on (SimSeedSweepTest.JUMPED_SPINNERS: c08, c09, c12, c12b,
 * c13, r7), against the unskipped run, seed by seed: the same expectation
 * verdicts and failures, the same figures (trace events incl. skipped ones, agenda events, model time, the checker's
 * per-kind counts, the scenario host's invalidate callbacks in order and per device) and the same final state picture
 * but for the identity families; and the spin was jumped. {@code -Dhmm.ffSpin.files=a,b} and
 * {@code -Dhmm.ffSpin.seeds=N} change it (default: every jumped spinner, seeds 1..2).
 */
class FastForwardSpinnerTest {
  private static final List<String> FILES = System.getProperty("hmm.ffSpin.files") == null
      ? SimSeedSweepTest.JUMPED_SPINNERS.stream().sorted().toList()
      : List.of(System.getProperty("hmm.ffSpin.files").split(","));
  private static final int SEEDS = Integer.getInteger("hmm.ffSpin.seeds", JumpedSpinners.PROVEN_SEEDS);

  /** One run's host and its failures. */
  record Run(SimHost host, List<String> failures, long wallNanos) {
    Sim sim() { return host.sim(); }
  }

  /** Runs a single-profile scenario file with {@code seed} as SimScenarioRunner does, the fast-forward on or off. */
  static Run run(Scenario scenario, long seed, boolean fastForward) {
    long t0 = System.nanoTime();
    Verdict verdict = new Verdict(scenario);
    SimHost host = SimScenarioRunner.runHost(scenario, seed, LinkSettings.fromConfig(SimSeedSweepTest.BASE),
        hmmemu.cpu.core.CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS, sim -> {
          if (fastForward) sim.fastForward();
          else sim.noFastForward();
        }, verdict);
    return new Run(host, verdict.result(0).failures(), System.nanoTime() - t0);
  }

  /** A diagnostic (off unless -Dhmm.ffSpin.probe=true): each file's fast-forwarded runs, their jumps and refusals. */
  @Test
  void probe() {
    if (!Boolean.getBoolean("hmm.ffSpin.probe")) return;
    for (String f : FILES) {
      Scenario scenario = ScenarioParser.parse(SimScenariosTest.CASES.resolve(f));
      for (long seed = 1; seed <= SEEDS; seed++) {
        Run ff = run(scenario, seed, true);
        FastForward j = ff.sim().fastForwardOrNull();
        System.out.printf("probe %s seed %d: %.2f s, ok=%s, %d events, %d spins (%d jumped), %d attempts, %d pictures in %.2f s, %d events fired, jumps %s bounded by %s, too close %s, refusals %s%n  %s%n",
            f, seed, ff.wallNanos() / 1e9, ff.failures().isEmpty(), ff.sim().traceEvents(), j.spins(), j.spinsJumped(),
            j.attempts(), j.pictures, j.pictureNanos / 1e9, ff.sim().fired() - j.skippedRounds() * 0, j.jumps(), j.boundedBy, j.tooClose, j.refusals(), FastForward.leavesBySite(ff.sim(), 25));
      }
    }
  }

  /**
   * The (file, seed) pairs are independent (each run builds its own simulated world from the file and the seed, as in
   * SimScenariosTest), so they run on {@link #THREADS} threads ({@code -Dhmm.ffSpin.threads=N}; by default one per
   * core, at most 2), each pair's plain and fast-forwarded runs and their comparison in one task. Every pair's
   * failure is collected and reported together; the printed lines keep the file and seed order.
   */
  static final int THREADS = Math.max(1, Integer.getInteger("hmm.ffSpin.threads",
      Math.min(2, Runtime.getRuntime().availableProcessors())));

  @Test
  void spinnersFastForwardedAsSimulated() throws InterruptedException {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(THREADS, r -> {
      Thread t = new Thread(r, "ff-spinner");
      t.setDaemon(true);
      return t;
    });
    List<String> whats = new ArrayList<>();
    List<java.util.concurrent.Future<String>> pairs = new ArrayList<>();
    try {
      for (String f : FILES) {
        Path file = SimScenariosTest.CASES.resolve(f);
        Scenario scenario = ScenarioParser.parse(file);
        assertTrue(scenario.profiles().size() <= 1, f + ": one kernel profile");
        for (long seed = 1; seed <= SEEDS; seed++) {
          long s = seed;
          whats.add(f + " seed " + seed);
          pairs.add(pool.submit(() -> pair(f, scenario, s)));
        }
      }
    } finally {
      pool.shutdown(); // the queued pairs still run; the threads end after the last
    }
    List<String> lines = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i++) {
      try {
        lines.add(pairs.get(i).get());
      } catch (java.util.concurrent.ExecutionException e) {
        failures.add(whats.get(i) + ": " + e.getCause());
        lines.add(whats.get(i) + ": FAILED");
      }
    }
    System.out.println("FastForwardSpinnerTest (" + THREADS + " threads):\n  " + String.join("\n  ", lines));
    assertTrue(failures.isEmpty(), failures.size() + " of " + pairs.size() + " (file, seed) pairs failed:\n  "
        + String.join("\n  ", failures));
  }

  /** One (file, seed) pair: the unskipped and the fast-forwarded run, every check; its line for the output. */
  private static String pair(String f, Scenario scenario, long seed) {
    String what = f + " seed " + seed;
    Run plain = run(scenario, seed, false), ff = run(scenario, seed, true);
    FastForward j = ff.sim().fastForwardOrNull();
    assertFalse(j.jumps().isEmpty(), what + ": the spin was jumped (refusals: " + j.refusals() + ")");
    // looked at soon: within 10 ms of model time (~1,000 failed rounds), not after the checker's rings of 4,096
    // filled (45 ms) as before the rings were refilled by the jump (NotifierShadow#refillEnded)
    assertTrue(j.jumps().get(0).atNanos() < 10_000_000, what + ": the first jump at " + j.jumps().get(0)
        + " (refusals: " + j.refusals() + ", too close: " + j.tooClose + ")");
    assertTrue(plain.failures().isEmpty(), what + ": the unskipped run holds the file's expectations: " + plain.failures());
    assertEquals(plain.failures(), ff.failures(), what + ": the verdict and its failures");
    assertEquals(plain.sim().traceEvents(), ff.sim().traceEvents(), what + ": trace events");
    assertEquals(plain.sim().fired(), ff.sim().fired(), what + ": agenda events");
    assertEquals(plain.sim().nowNanos(), ff.sim().nowNanos(), what + ": model time");
    assertEquals(plain.sim().checker().eventCounts(), ff.sim().checker().eventCounts(), what + ": events per kind");
    for (int d = 0; d < 64; d++) {
      assertEquals(plain.host().observer().callbacks(d, null), ff.host().observer().callbacks(d, null),
          what + ": device " + d + "'s invalidate callbacks");
      assertEquals(plain.host().observer().rangeFaults(d, null), ff.host().observer().rangeFaults(d, null),
          what + ": device " + d + "'s hmm_range_fault answers");
    }
    Map<String, String> differ = FastForward.differences(plain.sim(), ff.sim());
    assertTrue(differ.isEmpty(), what + ": final state leaves that differ: " + differ);
    return String.format("%s: %d jumps, %d rounds skipped, %d events; %.2f s unskipped, %.2f s fast-forwarded",
        what, j.jumps().size(), j.skippedRounds(), ff.sim().traceEvents(), plain.wallNanos() / 1e9, ff.wallNanos() / 1e9);
  }
}
