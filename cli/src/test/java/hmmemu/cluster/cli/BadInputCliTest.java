package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input as a new user types it (docs/OPERATIONS.md "Commands": exit 2, one line on stderr): each line names
 * the flag or the thing that is wrong, in words, and nothing runs.
 */
class BadInputCliTest {
  /** Runs {@code args}, expects exit 2 and one stderr line, and returns that line. */
  private static String refused(String... args) {
    CliRun r = CliRun.run(args);
    assertEquals(2, r.code(), String.join(" ", args) + ": " + r);
    assertEquals(1, r.err().size(), String.join(" ", args) + ": " + r.err());
    assertTrue(r.out().isEmpty(), String.join(" ", args) + " printed: " + r.out());
    return r.err().get(0);
  }

  @Test
  void aBadCpuThinkNamesTheFlag() {
    assertEquals("hmm-emu: --cpu-think: not a duration: '1xs' (e.g. 20us, 70ms, 0)",
        refused("demo", "--sim", "--cpu-think", "1xs"));
    assertEquals("hmm-emu: --cpu-think: must be between 0 and 1s, got -1ms",
        refused("sweep", "--sim", "--cpu-think", "-1ms"));
  }

  @Test
  void noCommandSaysSoOnce() {
    assertEquals("hmm-emu: missing command, e.g. demo (try --help)", refused());
  }

  @Test
  void exploreOnADirectorySaysItIsOne(@TempDir Path dir) {
    assertEquals("hmm-emu explore: " + dir + " is a directory: explore takes one scenario file",
        refused("explore", dir.toString()));
  }

  @Test
  void anAddressNobodyServesIsARefusedConnectionInWords() {
    for (String cmd : new String[] {"status", "inject"}) {
      String line = cmd.equals("status") ? refused("status", "--node", "127.0.0.1:1", "--timeout", "5s")
          : refused("inject", "--node", "127.0.0.1:1", "--timeout", "5s", "clear");
      assertTrue(line.startsWith("hmm-emu: " + cmd + ": cannot reach the management endpoint http://127.0.0.1:1/")
          && line.contains(": connection refused"), line);
    }
  }

  @Test
  void aMissingFaultsFileSaysSo(@TempDir Path dir) {
    Path f = dir.resolve("nosuch.faults");
    assertEquals("hmm-emu: --faults: cannot read " + f + ": no such file", refused("cluster", "--faults", f.toString()));
  }
}
