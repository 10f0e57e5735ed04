package hmmemu.cluster.scenario;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A step of {@link StepExecutor#runStep} as data while it runs: its outcome so far, whether it is stuck and why, its
 * problems, and the wait in progress (a sync step's run, or an await step's ids, the one waited on now and the
 * common deadline), so that a run copied inside the wait ({@link hmmemu.sim.SimCopy}) can finish the step from the
 * copy ({@link StepExecutor#resumeStep}). Not a kernel structure.
 */
final class StepWait {
  final Scenario.Step step;
  final Duration limit;
  Outcome outcome;
  boolean deadlocked;
  String deadlockReport = "";
  String kind = "deadlock";
  final List<String> problems = new ArrayList<>();
  /** A sync step: the run it waits on. */
  StepExecutor.StepRun run;
  /** An await step: the ids, the one waited on now, the deadline (clock ns), the first stuck wait. */
  List<String> ids;
  int next;
  long deadline;
  ScenarioHost.Waited first;

  StepWait(Scenario.Step step, Duration limit) {
    this.step = step;
    this.limit = limit;
  }
}
