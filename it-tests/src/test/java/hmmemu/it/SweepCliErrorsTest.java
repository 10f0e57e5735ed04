package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Bad flags of {@code hmm-emu sweep}: one line on stderr and exit 2, before any cluster starts. */
class SweepCliErrorsTest {

  private static void assertUsage(String contains, String... args) {
    CliCapture.Run r = CliCapture.run(args);
    String err = r.err().strip();
    assertEquals(2, r.code(), "exit code; stderr: " + err);
    assertTrue(err.contains(contains), "stderr should mention '" + contains + "': " + err);
    assertEquals(1, err.lines().count(), "one line: " + err);
  }

  @Test
  void badArmLatencyAndFlag() {
    assertUsage("unknown arm 'bogus'", "sweep", "--arms", "kernel,bogus");
    assertUsage("not a duration: 'soon'", "sweep", "--latencies", "1us,soon");
    assertUsage("negative duration '-5us'", "sweep", "--latencies", "-5us");
    assertUsage("--gpu-nodes", "sweep", "--gpu-nodes", "two");
    assertUsage("--repeats: must be at least 1", "sweep", "--repeats", "0");
    assertUsage("longer than the driver deadline", "sweep", "--latencies", "1000000d");
  }
}
