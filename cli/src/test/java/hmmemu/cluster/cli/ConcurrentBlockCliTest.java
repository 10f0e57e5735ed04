package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
      CliRun r = CliRun.run(cmd, f.toString());
      int code = r.code();
      List<String> lines = r.err();
      assertEquals(2, code, cmd + ": " + lines);
      assertEquals(List.of(f + ":7: concurrent: every step of a block needs an id, so that an await step can name it"),
          lines, cmd);
    }
  }
}
