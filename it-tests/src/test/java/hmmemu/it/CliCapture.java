package hmmemu.it;

import hmmemu.cluster.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the CLI ({@code Main.run}) in this JVM with its stdout and stderr captured. A test helper, not a kernel structure. */
final class CliCapture {
  private CliCapture() {}

  /**
   * The command line of {@code hmm-emu args...} in a child JVM of this one's java, class path and the node JVMs'
   * flags ({@link hmmemu.cluster.ChildJvmFlags}: -Xss4m, serial GC, C1, and the archive of {@link ChildArchive} when
   * made), for tests that need the CLI as a process.
   */
  static java.util.List<String> childCommand(String... args) {
    java.util.List<String> cmd = new java.util.ArrayList<>(hmmemu.cluster.ChildJvmFlags.javaCommand());
    cmd.add(Main.class.getName());
    cmd.addAll(java.util.List.of(args));
    return cmd;
  }

  /** One CLI run: its exit code and what it printed on each stream. */
  record Run(int code, String out, String err) {}

  /** Runs {@code hmm-emu args...}; System.out and System.err are restored afterwards, also on a throw. */
  static Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = Main.run(args);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
