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
 * Issue 16, item 1: {@code hmm-emu cluster} started as a real process, GPU node 2's JVM frozen (SIGSTOP, what
 * {@code --fault "pause gpu2"} sends), then the controller SIGKILLed: every child JVM, the frozen one included, must
 * be gone soon after (a frozen JVM cannot read its stdin EOF; ProcessCluster's watchdogs thaw and kill it).
 */
class ControllerSigkillTest {
  /** The child JVMs map the shared class archive ({@link ChildArchive}): cheaper starts, the same runs. */
  @org.junit.jupiter.api.BeforeAll
  static void childArchive() { ChildArchive.ensure(); }


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

  private static String cmdline(ProcessHandle h) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(h.pid()), "cmdline")).replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }

  private static long nodeJvms(Process controller) {
    return controller.toHandle().children().filter(h -> cmdline(h).contains(" node --role ")).count();
  }

  /** The child JVM running GPU node {@code k} among {@code controller}'s descendants, if launched yet. */
  private static ProcessHandle gpuChild(Process controller, int k) {
    return controller.toHandle().children()
        .filter(h -> cmdline(h).contains(" node --role gpu --node-index " + k + " ")).findFirst().orElse(null);
  }

  @Test
  void sigkillOfTheControllerEndsEveryChildEvenAFrozenOne() throws Exception {
    Path log = Files.createTempFile("hmm-emu-controller-", ".log");
    Process controller = new ProcessBuilder(CliCapture.childCommand("cluster",
        "--gpu", "2", "--arms", "kernel"))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    java.util.Set<ProcessHandle> children = new java.util.LinkedHashSet<>();
    try {
      // Freeze gpu2's JVM as `--fault "pause gpu2"` does (SIGSTOP), as soon as it is launched: the watchdogs must
      // not depend on the cluster having formed.
      ProcessHandle[] gpu2 = new ProcessHandle[1];
      await(() -> (gpu2[0] = gpuChild(controller, 2)) != null || !controller.isAlive(), 120,
          () -> "the controller launched gpu2's JVM");
      assertTrue(controller.isAlive(), "the controller exited early: " + Files.readString(log));
      children.add(gpu2[0]);
      Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(gpu2[0].pid())).start();
      assertTrue(stop.waitFor(10, TimeUnit.SECONDS) && stop.exitValue() == 0, "kill -STOP gpu2");
      await(() -> state(gpu2[0].pid()) == 'T', 10, () -> "gpu2 stopped (state " + state(gpu2[0].pid()) + ")");
      // Every process the controller started by now: the three node JVMs are launched together.
      await(() -> gpuChild(controller, 1) != null && nodeJvms(controller) == 3, 30,
          () -> "three node JVMs launched: " + controller.toHandle().children().toList());
      children.addAll(controller.toHandle().descendants().collect(Collectors.toList()));
      controller.destroyForcibly(); // SIGKILL: no shutdown hook runs
      assertTrue(controller.waitFor(10, TimeUnit.SECONDS), "the controller survived SIGKILL");
      List<ProcessHandle> all = List.copyOf(children);
      await(() -> all.stream().allMatch(h -> gone(h.pid())), 30,
          () -> "every child of the SIGKILLed controller gone; still there: " + all.stream()
              .filter(h -> !gone(h.pid())).map(h -> h.pid() + " state " + state(h.pid())).toList());
    } finally {
      if (controller.isAlive()) children.addAll(controller.toHandle().descendants().collect(Collectors.toList()));
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
