package hmmemu.cluster.cli;

import picocli.CommandLine.Option;

/**
 * The fast-forward flags of the simulator hosts ({@code sim}, {@code demo --sim}, {@code sweep --sim}, {@code explore}): an
 * emulator-only mechanism, no kernel structure (hmmemu.sim.FastForward; docs/RESULTS.md "Fast-forward, session 8" onwards).
 * The flag travels with the command ({@link #runs}, {@link #on}) to the simulators it makes; neither flag: the
 * simulator's default, {@code -Dhmm-emu.sim.fast-forward} (off unless "true"). Nothing is set JVM-wide, so a second
 * command in the same JVM (a test, an embedding caller) does not inherit the first one's flag.
 */
final class FastForwardOptions {
  private boolean yes;
  private boolean no;

  /** Whether this command's simulators fast-forward; both flags given is a settings error. */
  boolean on() {
    if (yes && no) throw new hmmemu.cluster.SettingsException("give --fast-forward or --no-fast-forward, not both");
    return yes || !no && hmmemu.sim.Sim.fastForwardByDefault();
  }

  /** This command's simulator runs, carrying its flag. */
  hmmemu.cluster.demo.SimRuns runs() { return new hmmemu.cluster.demo.SimRuns(on()); }

  @Option(names = "--fast-forward", description = "In the simulator: jump over the repeated rounds of a deadline spin"
      + " (a driver that re-faults until its timeout) when the whole state repeats, exactly: the figures and the final"
      + " state equal the unskipped run's, only the trace hash differs (off by default; it jumps one- and two-GPU-node"
      + " spins and the spinner files c08, c09, c12, c12b, c13, r7; docs/ARCHITECTURE.md's sim row, docs/RESULTS.md"
      + " \"Fast-forward, session 8\" to \"session 12\" and \"Ties ordered by a per-seed priority\"). Under explore a"
      + " run jumps a spin where the rounds it observed met no choice point (a run that met choice points before its"
      + " jump must read no state key after it), or, under PCT with no state key, where every observed round met the"
      + " same choice points and PCT decided them alike with no draw or change point before the jump's end"
      + " (hmmemu.sim.ScheduledJump; docs/TESTING.md \"Session 19: xspin2\").")
  void fastForward(boolean on) { yes = on; }

  @Option(names = "--no-fast-forward", description = "In the simulator: simulate every round of a deadline spin (the"
      + " default, unless -Dhmm-emu.sim.fast-forward=true).")
  void noFastForward(boolean off) { no = off; }
}
