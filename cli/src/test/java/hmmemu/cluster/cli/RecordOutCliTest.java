package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@code --out DIR} that cannot become the run directory (an existing file, or a path below one) is refused
 * before the run (one line, exit 2, nothing printed on stdout); every command that leaves a run record used to run
 * the whole workload first, then print "could not write the run record" and exit 0.
 */
class RecordOutCliTest {
  static final String C11 = "../scenarios/cases/c11-madvise-before-check.conf";

  @Test
  void anOutThatIsAFileIsRefusedBeforeTheRun(@TempDir Path tmp) throws Exception {
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    String below = file.resolve("sub").toString();
    List<List<String>> commands = List.of(
        List.of("sim", C11, "--out", file.toString()),
        List.of("demo", "--sim", "--gpu-nodes", "1", "--out", file.toString()),
        List.of("demo", "--out", below),
        List.of("run", C11, "--out", below),
        List.of("sweep", "--sim", "--latencies", "1us", "--repeats", "1", "--out", file.toString()),
        List.of("cluster", "--out", file.toString()));
    for (List<String> c : commands) {
      CliRun r = CliRun.run(c.toArray(String[]::new));
      assertEquals(2, r.code(), c + ": " + r);
      assertEquals(1, r.err().size(), c + ": " + r.err());
      String line = r.err().get(0);
      assertTrue(line.contains("--out: ") && (line.contains("exists and is not a directory")
          || line.contains("is not a writable directory")), c + ": " + line);
      assertTrue(r.out().isEmpty(), c + " ran before refusing: " + r.out());
    }
  }
}
