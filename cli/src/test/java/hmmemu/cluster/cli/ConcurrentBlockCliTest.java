package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A malformed concurrent block (docs/SCENARIOS.md "Concurrent blocks") is refused by the validator before anything
 * runs: one line {@code FILE:LINE: what is wrong} on stderr and exit 2, from {@code hmm-emu run} and {@code sim}.
 */
class ConcurrentBlockCliTest {
  @TempDir
  Path dir;

  @Test
  void aBadBlockIsOneLineAndExit2() throws Exception {
    Path f = dir.resolve("bad.conf");
    Files.writeString(f, String.join("\n",
        "name = bad",
        "devices = [{name = D0, node = 1, driver = dmirror}]",
        "vmas = [{name = buf, start = \"0x7f0000000000\", pages = 1}]",
        "steps = [",
        "  { concurrent = [",
        "      { id = a, T1 { read = \"buf+0\" } }",
        "      { D0 { read = buf } }",
        "  ] }",
        "]", ""));
    for (String cmd : List.of("run", "sim")) {
      PrintStream oldOut = System.out;
      PrintStream oldErr = System.err;
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code;
      try {
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        code = Main.run(cmd, f.toString());
      } finally {
        System.setOut(oldOut);
        System.setErr(oldErr);
      }
      List<String> lines = err.toString(StandardCharsets.UTF_8).lines().toList();
      assertEquals(2, code, cmd + ": " + lines);
      assertEquals(List.of(f + ":7: concurrent: every step of a block needs an id, so that an await step can name it"),
          lines, cmd);
    }
  }
}
