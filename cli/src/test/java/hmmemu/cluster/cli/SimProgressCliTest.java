package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The simulator hosts' progress (demo --sim, sweep --sim, sim: Progress with hmmemu.cluster.demo.SimRuns#events) goes to
 * standard error only: a --json run's standard output is its one JSON line, and --quiet leaves standard error empty.
 * (The ticker's period is wall time, 5 s off a terminal: ProgressTest checks the line it prints.)
 */
class SimProgressCliTest {
  private static final String[] TINY = {"--gpu-nodes", "1", "--warps", "1", "--ops-per-warp", "1", "--cpu-threads", "1",
      "--ops-per-thread", "1"};

  private static String[] args(String... head) {
    return java.util.stream.Stream.concat(java.util.Arrays.stream(head), java.util.Arrays.stream(TINY))
        .toArray(String[]::new);
  }

  @Test
  void demoSimJsonKeepsStdoutToTheJsonLine() {
    CliRun r = CliRun.run(args("demo", "--sim", "--json", "--quiet"));
    assertEquals(0, r.code(), r.toString());
    assertEquals(1, r.out().size(), r.out().toString());
    assertTrue(r.last().startsWith("{\"ok\": true") && r.last().endsWith("}"), r.last());
    assertEquals(java.util.List.of(), r.err(), "--quiet: nothing on stderr");
    CliRun text = CliRun.run(args("demo", "--sim", "--quiet"));
    assertEquals(0, text.code(), text.toString());
    assertTrue(text.out().stream().filter(l -> l.startsWith("  arm '")).count() == 2, text.out().toString());
  }
}
