package hmmemu.cluster.scenario;

/**
 * A lean exhaustive-search run's world (verdict, {@link SimHost} with its simulator, {@link StepExecutor}) copied with
 * {@link hmmemu.sim.SimCopy} at a choice point inside a step's wait (the run was in {@link StepExecutor#runStep} ->
 * {@link SimWait} -> {@link hmmemu.sim.Sim#runUntil} -> the scheduler, and nowhere else: {@link #inOneWait}), with
 * the run's choices before that point and the concurrent blocks' draws taken: a later run whose choices up to that
 * point are the same reaches it in this very state, so it goes on from a copy of it ({@link SimWait#resume},
 * {@link StepExecutor#resumeStep}: the event loop picks the same enabled events again and asks the strategy at the
 * same point) instead of replaying the prefix ({@link ScheduleRun#run}). Kept by {@link ExhaustiveCopies}.
 * ExploreMidStepTest compares whole explorations with and without. Emulator-only host mechanism.
 */
final class MidStepStart {
  final Object[] world;
  final int step;
  final ScheduleRun.ChoiceList choices;
  final long draws;
  /** Whether the run resumed here takes this world itself (its keeper no longer needs it), not a copy of it. */
  boolean consumed;
  /** Kept below its run's window ({@link ExhaustiveCopies#keeper}'s checkpoints). */
  boolean checkpoint;

  MidStepStart(Object[] world, int step, ScheduleRun.ChoiceList choices, long draws) {
    this.world = world;
    this.step = step;
    this.choices = choices;
    this.draws = draws;
  }

  /** The choice point a run resumed here is asked at first (the choices made before it). */
  int point() { return choices.size(); }

  /** Which choice points of a run to copy the world at; Emulator-only host mechanism. */
  interface Keeper {
    /** Whether to keep the world at choice point {@code point}, where the strategy took {@code taken} of {@code enabled}. */
    boolean wants(int point, int enabled, int taken);

    /** Keeps {@code s} (null: the world could not be copied; the keeper is not asked again in that run). */
    void keep(MidStepStart s);
  }

  /**
   * Whether the current thread's stack holds exactly one simulator event loop, under exactly one {@link SimWait}, under
   * one step of {@link StepExecutor} (its {@code runStep} or {@code resumeStep}): only there does a copy of the world
   * hold all that the rest of the run needs. No event handler runs a nested loop.
   */
  static boolean inOneWait() {
    return WALKER.walk(frames -> {
      int[] n = new int[3];
      frames.forEach(f -> {
        // compared by class (no class name read) and a frame's method name resolved (a call into the JVM) only for
        // the three classes counted: the stack is ~60 frames deep, most of them the cores' and the simulator's
        Class<?> c = f.getDeclaringClass();
        if (c == hmmemu.sim.Sim.class) {
          if (f.getMethodName().equals("runUntil")) n[0]++;
        } else if (c == SimWait.class) {
          if (f.getMethodName().equals("loop")) n[1]++;
        } else if (c == StepExecutor.class) {
          String m = f.getMethodName();
          if (m.equals("runStep") || m.equals("resumeStep")) n[2]++;
        }
      });
      return n[0] == 1 && n[1] == 1 && n[2] == 1;
    });
  }

  /** {@link #inOneWait}'s walker: frames with their classes. */
  private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);
}
