package hmmemu.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@link ProcessCluster}'s child process plumbing: the watchdog beside each child, ending children, log tails. */
final class ChildProcesses {
  private ChildProcesses() {}

  /**
   * A {@code /bin/sh} beside {@code child} that blocks reading a pipe from this process and, when the pipe closes
   * (this process exited, however: even SIGKILL closes it), thaws the child (SIGCONT) and SIGKILLs it 2 s later
   * if its own stdin watchdog has not ended it by then. The child's stdin pipe is not enough: a SIGSTOPped JVM
   * reads nothing, and the SIGCONT was due from this process. It ignores SIGINT and SIGHUP (the terminal's
   * Ctrl-C and hang-up reach it too) and is destroyed when the child exits, so it never signals a reused pid.
   */
  static Process watchdog(Process child) throws IOException {
    String pid = Long.toString(child.pid());
    String script = "trap '' INT HUP; read -r _; kill -CONT " + pid + " 2>/dev/null; sleep 2; kill -KILL " + pid
        + " 2>/dev/null; exit 0";
    return new ProcessBuilder("/bin/sh", "-c", script).redirectInput(ProcessBuilder.Redirect.PIPE)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  /** The last 5 lines of a child's log, joined by ' | '. */
  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  /** Closes each child's stdin, thaws it (SIGCONT) and ends it: SIGTERM, then SIGKILL after 5 s. */
  static void kill(List<Process> all) {
    for (Process p : all) {
      try {
        p.getOutputStream().close();
      } catch (IOException ignored) {
        // the child notices the closed pipe, or is killed below
      }
      if (p.isAlive()) {
        // A frozen (SIGSTOPped) child does not act on SIGTERM until it is thawed.
        try {
          new ProcessBuilder("kill", "-CONT", Long.toString(p.pid())).start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException ignored) {
          // destroyForcibly below
        }
      }
      p.destroy();
    }
    for (Process p : all) {
      try {
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

}
