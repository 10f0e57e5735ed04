package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file whose {@code order} pins a link direction that a pause point also holds (docs/SCENARIOS.md "Pinning every
 * order") is refused by every command that loads a scenario file, before anything runs: one line {@code FILE:LINE:
 * what is wrong} on stderr and exit 2 ({@code run}, {@code sim}, {@code explore}, {@code cluster --scenario}).
 */
class OrderPauseCliTest {
  @TempDir
  Path dir;

  @Test
  void aPausePointOnAnOrderedDirectionIsOneLineAndExit2() throws Exception {
    Path f = dir.resolve("bad.conf");
    Files.writeString(f, String.join("\n",
        "name = bad",
        "devices = [{name = G, node = 1, driver = nouveau}]",
        "vmas = [{name = x, start = \"0x7f0000000000\", pages = 1}]",
        "steps = [",
        "  { pause { id = p, from = G, to = cpu, at = MakeDeviceExclusive } }",
        "  { G { atomic = \"x+0:word0\" } }",
        "]",
        "order = [\"controller>G DeviceAccess 0\", \"G>cpu NotifierInsert 0\"]", ""));
    String line = f + ":5: pause p (G -> cpu): the order pins that direction (\"G>cpu NotifierInsert 0\", line 8);"
        + " a pause point and an order do not combine on one direction";
    for (List<String> cmd : List.of(List.of("run", f.toString()), List.of("sim", f.toString()),
        List.of("explore", f.toString()), List.of("cluster", "--scenario", f.toString()))) {
      CliRun r = CliRun.run(cmd.toArray(String[]::new));
      int code = r.code();
      List<String> lines = r.err();
      assertEquals(2, code, cmd + ": " + lines);
      assertEquals(List.of(line), lines, cmd.toString());
    }
  }
}
