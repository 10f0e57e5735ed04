package hmmemu.cluster.scenario;

/**
 * One choice point of a concurrent block, as the explore scheduler sees it ({@link hmmemu.sim.Scheduler.Enabled}):
 * {@code options[i]} is, for {@link Kind#START_ORDER}, the position in the block of the step that option i starts
 * next, for {@link Kind#START_GAP} the model time (ns) before the next start; index 0 is the seeded draw. Each
 * option is a source of its own (a step of the block, or a gap length), so PCT keeps a priority per step. Not a
 * kernel structure.
 */
final class BlockChoice implements hmmemu.sim.Scheduler.Enabled {
  /** Which draw of the block: the next step to start, or the model time before it. */
  enum Kind {
    START_ORDER("start-order"), START_GAP("start-gap");

    final String label;

    Kind(String label) { this.label = label; }
  }

  /** Sources of block options: below every source the simulator hands out (those count down from -1). */
  private static final long SOURCE_BASE = Long.MIN_VALUE / 2;

  final Kind kind;
  final long[] options;
  private final long atNanos;

  BlockChoice(Kind kind, long[] options, long atNanos) {
    this.kind = kind;
    this.options = options;
    this.atNanos = atNanos;
  }

  @Override
  public int size() { return options.length; }

  @Override
  public long source(int i) {
    return kind == Kind.START_ORDER ? SOURCE_BASE + options[i] : SOURCE_BASE - 1 - (options[i] == 0 ? 0 : 1);
  }

  @Override
  public long atNanos(int i) { return atNanos; }

  @Override
  public hmmemu.sim.Scheduler.LinkEvent link(int i) { return null; }
}
