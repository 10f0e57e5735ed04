package hmmemu.cluster.cli;

import picocli.CommandLine.Option;

/**
 * The fast-forward flags of the simulator hosts ({@code sim}, {@code demo --sim}, {@code sweep --sim}, {@code explore}): an
 * emulator-only mechanism, no kernel structure (hmmemu.sim.FastForward; docs/RESULTS.md "Fast-forward, session 8" and "session 9").
 */
final class FastForwardOptions {
  @Option(names = "--fast-forward", description = "In the simulator: jump over the repeated rounds of a deadline spin"
      + " when the whole state repeats (off by default: exact on the tested workloads, where it saves 17-37 %% of the"
      + " time; it jumps the 1-GPU spins and the files c09, c12, c12b, c13, r7, not c08 or the 2-GPU workload;"
      + " docs/RESULTS.md \"Fast-forward, session 9\" and \"session 10\"). Under explore a run jumps only while it has"
      + " met no choice point (of the spinners: c09 and c13; hmmemu.sim.ScheduledJump).")
  void fastForward(boolean on) { if (on) System.setProperty("hmm-emu.sim.fast-forward", "true"); }

  @Option(names = "--no-fast-forward", description = "In the simulator: simulate every round of a deadline spin (the"
      + " default).")
  void noFastForward(boolean off) { if (off) System.setProperty("hmm-emu.sim.fast-forward", "false"); }
}
