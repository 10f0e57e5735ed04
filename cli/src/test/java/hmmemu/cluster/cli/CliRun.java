package hmmemu.cluster.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Test helper (emulator-only, no kernel function): one {@code hmm-emu} command run in-process, its exit code and output lines. */
record CliRun(int code, List<String> out, List<String> err) {
  /** The last line of standard output (the JSON line of a {@code --json} run). */
  String last() { return out.get(out.size() - 1); }

  /** Runs {@code Main.run(args)} with standard output and error captured. */
  static CliRun run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = Main.run(args);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
    return new CliRun(code, out.toString(StandardCharsets.UTF_8).lines().toList(),
        err.toString(StandardCharsets.UTF_8).lines().toList());
  }
}
