package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Issue 16, item 1: {@code hmm-emu cluster} started as a real process, GPU node 2's JVM frozen by its fault
 * schedule ({@code pause gpu2 for 60s}, SIGSTOP), then the controller SIGKILLed: every child JVM, the frozen one
 * included, must be gone soon after (a frozen JVM cannot read its stdin EOF; ProcessCluster's watchdogs thaw and
 * kill it).
 */
class ControllerSigkillTest {

  /** Linux process state from /proc/PID/stat ('T' stopped, 'Z' zombie), or 0 when the process is gone. */
  private static char state(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2);
    } catch (IOException e) {
      return 0;
    }
  }

  private static boolean gone(long pid) {
    char s = state(pid);
    return s == 0 || s == 'Z' || s == 'X';
  }

  private static void await(BooleanSupplier cond, long seconds, Supplier<String> what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) fail("not within " + seconds + " s: " + what.get());
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }

  @Test
  void sigkillOfTheControllerEndsEveryChildEvenAFrozenOne() throws Exception {
    Path log = Files.createTempFile("hmm-emu-controller-", ".log");
    Process controller = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xss4m", "-cp", System.getProperty("java.class.path"), "hmmemu.cluster.cli.Main", "cluster",
        "--gpu", "2", "--arms", "kernel", "--ops-per-thread", "1000000", "--ops-per-warp", "100000",
        "--fault", "at 0s pause gpu2 for 60s")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    List<ProcessHandle> children = List.of();
    try {
      // The schedule logs "SIGSTOP gpu2" once gpu2's JVM is frozen.
      await(() -> {
        try {
          return Files.readString(log).contains("SIGSTOP gpu2") || !controller.isAlive();
        } catch (IOException e) {
          return false;
        }
      }, 120, () -> "the controller froze gpu2 (log " + log + ")");
      assertTrue(controller.isAlive(), "the controller exited early: " + Files.readString(log));
      children = controller.toHandle().descendants().collect(Collectors.toList());
      List<Long> frozen = children.stream().map(ProcessHandle::pid).filter(p -> state(p) == 'T').toList();
      assertTrue(!frozen.isEmpty(), "a stopped child (gpu2) after SIGSTOP; children " + children);
      controller.destroyForcibly(); // SIGKILL: no shutdown hook runs
      assertTrue(controller.waitFor(10, TimeUnit.SECONDS), "the controller survived SIGKILL");
      List<ProcessHandle> all = children;
      await(() -> all.stream().allMatch(h -> gone(h.pid())), 30,
          () -> "every child of the SIGKILLed controller gone; still there: " + all.stream()
              .filter(h -> !gone(h.pid())).map(h -> h.pid() + " state " + state(h.pid())).toList());
    } finally {
      controller.destroyForcibly();
      for (ProcessHandle h : children) {
        if (!gone(h.pid())) {
          new ProcessBuilder("kill", "-CONT", Long.toString(h.pid())).start().waitFor(5, TimeUnit.SECONDS);
          h.destroyForcibly();
        }
      }
      Files.deleteIfExists(log);
    }
  }
}
