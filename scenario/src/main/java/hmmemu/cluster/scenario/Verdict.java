package hmmemu.cluster.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * A scenario run's verdict: the failures collected in order, each one line {@code FILE:LINE: what went wrong}, the
 * expectation mismatches of each step, and the final check that the invariant checker saw no violation (unless a step
 * states the violations it expects). The result is a {@link CaseResult}.
 */
final class Verdict {
  private final Scenario scenario;
  private final List<String> failures = new ArrayList<>();

  Verdict(Scenario scenario) { this.scenario = scenario; }

  /** Adds one failure line (already prefixed with its {@link #line}). */
  void fail(String failure) { failures.add(failure); }

  /** How many failure lines so far. */
  int count() { return failures.size(); }

  /** Adds failure lines, in order. */
  void failAll(List<String> more) { failures.addAll(more); }

  /** The {@code FILE:LINE: } prefix of a failure at {@code line} of the scenario file. */
  String line(int line) { return scenario.file() + ":" + line + ": "; }

  /** What a failed future or call threw: its class and message. */
  static String cause(Throwable e) {
    Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    return c.getClass().getSimpleName() + ": " + c.getMessage();
  }

  /** Checks each of {@code step}'s expectations against {@code o}; every mismatch is a failure at its line. */
  void check(Scenario.Step step, Observed o) {
    for (Expectation e : step.expect()) {
      List<String> mismatches = new ArrayList<>();
      try {
        e.check(o, mismatches);
      } catch (RuntimeException ex) {
        mismatches.add("could not check: " + ex.getMessage());
      }
      for (String m : mismatches) failures.add(line(e.line()) + m);
    }
  }

  /**
   * Unless a step states the violations it expects, the checker must have seen none: they are reported (the first
   * three) at the last step's line.
   */
  void expectNoViolations(Supplier<List<String>> violations) {
    boolean violationsChecked = false;
    for (Scenario.Step s : scenario.steps()) {
      for (Expectation e : s.expect()) {
        Expectation x = e instanceof Expectation.ForProfile f ? f.inner() : e;
        if (x instanceof Expectation.Violations) violationsChecked = true;
      }
    }
    if (!violationsChecked) {
      List<String> v = violations.get();
      if (!v.isEmpty()) {
        int lastLine = scenario.steps().isEmpty() ? 1 : scenario.steps().get(scenario.steps().size() - 1).line();
        failures.add(line(lastLine) + "expected no invariant violation, got " + v.size() + ": "
            + String.join("; ", v.subList(0, Math.min(3, v.size()))));
      }
    }
  }

  /** The case result: passed when nothing failed. */
  CaseResult result(long millis) {
    return new CaseResult(scenario.file(), scenario.name(), failures.isEmpty(), failures, millis);
  }
}
