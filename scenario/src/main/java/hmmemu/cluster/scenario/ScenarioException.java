package hmmemu.cluster.scenario;

/**
 * A malformed scenario, found before anything runs: its message is the one line {@code FILE:LINE: what is wrong}
 * that {@code hmm-emu run} prints before exiting with code 2.
 */
public final class ScenarioException extends RuntimeException {
  private final String file;
  private final int line;
  private final String problem;

  public ScenarioException(String file, int line, String problem) {
    super(file + ":" + Math.max(line, 1) + ": " + problem);
    this.file = file;
    this.line = Math.max(line, 1);
    this.problem = problem;
  }

  public String file() { return file; }

  public int line() { return line; }

  /** What is wrong, without the file and line. */
  public String problem() { return problem; }
}
