package hmmemu.cluster.scenario;

import java.util.Set;

/**
 * The scenario files whose driver fault loop spins to nouveau's 1000 ms deadline and whose spin the simulator's
 * fast-forward (hmmemu.sim.FastForward) jumps exactly, with the seeds on which that is proven: the sim-tests lane's
 * FastForwardSpinnerTest compares each (file, seed) pair against the unskipped run, SimSeedSweepTest sweeps these files
 * with the jump on, and it-tests' ScenarioCasesTest runs their simulator side jumped for the proven seeds. One list for
 * the three, so that none can jump a pair the others do not prove. Emulator-only test fixture, not a kernel structure.
 */
public final class JumpedSpinners {
  private JumpedSpinners() {}

  /**
   * The files. c08 is among them since its spinning CPU thread loops on the CPU node (one CpuThreadRun, no controller
   * hop per access whose random delay set the timing: docs/RESULTS.md "c08's spinning thread on its node").
   */
  public static final Set<String> FILES = Set.of("c08-thrash-no-folio-lock.conf", "c09-no-owner-filter.conf",
      "c12-fork-in-driver-window.conf", "c12b-fork-enomem.conf", "c13-fork-then-gpu-atomic.conf",
      "r7-stale-fault-next-batch.conf");

  /** FastForwardSpinnerTest compares seeds 1 to this by default. */
  public static final int PROVEN_SEEDS = 2;
}
