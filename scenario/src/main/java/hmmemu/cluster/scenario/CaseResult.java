package hmmemu.cluster.scenario;

import java.util.List;

/**
 * The verdict on one scenario file: ok when every expectation held, no unexpected invariant violation was found and
 * nothing deadlocked unexpectedly; otherwise one {@code file:line: expected X, got Y} line per failure.
 */
public record CaseResult(String file, String name, boolean ok, List<String> failures, long wallMillis) {
  public CaseResult {
    failures = List.copyOf(failures);
  }
}
