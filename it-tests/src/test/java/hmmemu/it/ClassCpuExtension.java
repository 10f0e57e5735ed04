package hmmemu.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Not a kernel structure: a measuring aid. Appends one line per test class (and one per test method, indented) to
 * {@code target/class-cpu.txt}: the
 * class's wall time and the test JVM's CPU during it (user, sys, from /proc/self/stat), and the CPU of the child
 * processes it reaped meanwhile (cutime, cstime: the node JVMs a class launches). Registered through the service file
 * but off unless {@code -Djunit.jupiter.extensions.autodetection.enabled=true} (docs/TESTING.md "Session 18: itcpu").
 */
public final class ClassCpuExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(ClassCpuExtension.class);
  private static final double TICK = 100.0; // USER_HZ on Linux

  /** utime, stime, cutime, cstime of this process in ticks, and the wall clock in ns. */
  private static long[] sample() {
    try {
      String s = Files.readString(Path.of("/proc/self/stat"));
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      // after "pid (comm) ": field 3 is f[0]; utime is field 14 -> f[11]
      return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[13]), Long.parseLong(f[14]),
          System.nanoTime()};
    } catch (IOException | RuntimeException e) {
      return new long[] {0, 0, 0, 0, System.nanoTime()};
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    context.getStore(NS).put("start", sample());
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    context.getStore(NS).put("start", sample());
  }

  @Override
  public void afterEach(ExtensionContext context) throws IOException {
    write(context, "  " + context.getRequiredTestMethod().getName());
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    write(context, context.getRequiredTestClass().getSimpleName());
  }

  private static void write(ExtensionContext context, String name) throws IOException {
    long[] a = context.getStore(NS).get("start", long[].class);
    long[] b = sample();
    String line = String.format("%-50s wall %7.1f  self %6.1f + %5.1f  children %6.1f + %5.1f  total %7.1f%n",
        name, (b[4] - a[4]) / 1e9, (b[0] - a[0]) / TICK, (b[1] - a[1]) / TICK, (b[2] - a[2]) / TICK,
        (b[3] - a[3]) / TICK, (b[0] - a[0] + b[1] - a[1] + b[2] - a[2] + b[3] - a[3]) / TICK);
    Files.writeString(Path.of("target", "class-cpu.txt"), line, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }
}
