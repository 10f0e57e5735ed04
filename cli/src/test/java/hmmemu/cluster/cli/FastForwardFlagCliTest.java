package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --fast-forward} travels with its command (FastForwardOptions, hmmemu.cluster.demo.SimRuns), not as a JVM-wide
 * property: two commands in one JVM (as Main.run from a test or an embedding caller) do not share it, and each JSON's
 * fast-forward figures are its own runs'. {@code -Dhmm-emu.sim.fast-forward=true} stays the default when no flag is given.
 * The spinner: C13 with a 50 ms driver deadline (its R7 spin of ~4,000 rounds, jumped in one look; ~1 s unjumped).
 */
class FastForwardFlagCliTest {
  private static final String PROPERTY = "hmm-emu.sim.fast-forward";

  private static Path spinner(Path dir) throws Exception {
    String c13 = Files.readString(Path.of("../scenarios/cases/c13-fork-then-gpu-atomic.conf"));
    Path f = dir.resolve("c13-short-deadline.conf");
    Files.writeString(f, c13.replaceFirst("(?m)^case = C13$", "case = C13\nswitches { driver-deadline = 50ms }"));
    return f;
  }

  private static String sim(Path file, Path out, String... flags) {
    String[] args = new String[5 + flags.length];
    args[0] = "sim";
    args[1] = file.toString();
    args[2] = "--json";
    args[3] = "--quiet";
    args[4] = "--out=" + out;
    System.arraycopy(flags, 0, args, 5, flags.length);
    CliRun r = CliRun.run(args);
    assertEquals(0, r.code(), String.join(" ", args) + ": " + r);
    return r.last();
  }

  @Test
  void aFlagDoesNotLeakIntoTheNextCommand(@TempDir Path dir) throws Exception {
    String before = System.getProperty(PROPERTY);
    System.clearProperty(PROPERTY);
    try {
      Path f = spinner(dir);
      String on = sim(f, dir.resolve("a"), "--fast-forward");
      assertTrue(on.contains("\"fastForward\": {\"on\": true, \"fastForwards\": 1, \"skippedRounds\": 4820,"), on);
      String next = sim(f, dir.resolve("b"));
      assertTrue(next.contains("\"fastForward\": {\"on\": false, \"fastForwards\": 0, \"skippedRounds\": 0,"), next);
      assertEquals(null, System.getProperty(PROPERTY), "a flag sets no JVM-wide property");
      // the same file and seed: the same verdict either way (the fast-forward is exact), a different trace
      assertEquals(on.replaceAll(", \"eventsPerSecond\": \\d+", "").replaceAll(", \"fastForward\": .*", ""),
          next.replaceAll(", \"eventsPerSecond\": \\d+", "").replaceAll(", \"fastForward\": .*", ""));
      // explore: its text line says so only when on
      CliRun x = CliRun.run("explore", f.toString(), "--budget", "1", "--no-shrink", "--fast-forward");
      assertTrue(x.out().stream().anyMatch(l -> l.startsWith("fast-forward on: 1 jumps, 4820 driver rounds")), x.toString());
      CliRun y = CliRun.run("explore", f.toString(), "--budget", "1", "--no-shrink");
      assertFalse(y.out().stream().anyMatch(l -> l.startsWith("fast-forward")), y.toString());
    } finally {
      if (before == null) System.clearProperty(PROPERTY);
      else System.setProperty(PROPERTY, before);
    }
  }

  @Test
  void thePropertyIsTheDefaultAndAFlagOverridesIt(@TempDir Path dir) throws Exception {
    String before = System.getProperty(PROPERTY);
    System.setProperty(PROPERTY, "true");
    try {
      Path f = spinner(dir);
      String byDefault = sim(f, dir.resolve("a"));
      assertTrue(byDefault.contains("\"fastForward\": {\"on\": true, \"fastForwards\": 1,"), byDefault);
      String off = sim(f, dir.resolve("b"), "--no-fast-forward");
      assertTrue(off.contains("\"fastForward\": {\"on\": false, \"fastForwards\": 0,"), off);
      CliRun both = CliRun.run("sim", f.toString(), "--fast-forward", "--no-fast-forward");
      assertEquals(2, both.code(), both.toString());
      assertEquals(java.util.List.of("hmm-emu: give --fast-forward or --no-fast-forward, not both"), both.err());
    } finally {
      if (before == null) System.clearProperty(PROPERTY);
      else System.setProperty(PROPERTY, before);
    }
  }
}
