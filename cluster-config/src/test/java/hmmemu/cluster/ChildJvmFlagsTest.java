package hmmemu.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ChildJvmFlags: a child JVM keeps the 4 MB stacks the cores need and the serial GC, gets only the C1 compiler, and
 * {@code HMM_EMU_CHILD_JAVA_OPTS} replaces the whole list (how the before/after start-up times were measured).
 */
class ChildJvmFlagsTest {
  @Test
  void theDefaultKeepsTheStacksAndStopsAtC1() {
    assertEquals(List.of("-Xss4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"), ChildJvmFlags.of(null));
    assertEquals(ChildJvmFlags.DEFAULT, ChildJvmFlags.of("  "));
    assertTrue(ChildJvmFlags.DEFAULT.contains("-Xss4m"), "the cores recurse: a child needs 4 MB stacks");
  }

  @Test
  void theEnvironmentReplacesEveryFlag() {
    assertEquals(List.of("-Xss4m", "-XX:+UseSerialGC"), ChildJvmFlags.of(" -Xss4m \t-XX:+UseSerialGC "));
  }

  /** The test-only extra flags follow the others and are passed on; unset or blank, the flags are the environment's. */
  @Test
  void extraFlagsAreAddedAndPassedOn() {
    String before = System.getProperty(ChildJvmFlags.EXTRA_PROPERTY);
    try {
      System.clearProperty(ChildJvmFlags.EXTRA_PROPERTY);
      assertEquals(ChildJvmFlags.fromEnv(), ChildJvmFlags.flags(), "unset: the environment's flags only");
      System.setProperty(ChildJvmFlags.EXTRA_PROPERTY, " ");
      assertEquals(ChildJvmFlags.fromEnv(), ChildJvmFlags.flags(), "blank: the environment's flags only");
      System.setProperty(ChildJvmFlags.EXTRA_PROPERTY, " -Da=1 \t-Db=2 ");
      List<String> want = new java.util.ArrayList<>(ChildJvmFlags.fromEnv());
      want.addAll(List.of("-Da=1", "-Db=2", "-D" + ChildJvmFlags.EXTRA_PROPERTY + "=-Da=1 \t-Db=2"));
      assertEquals(want, ChildJvmFlags.flags());
      List<String> cmd = ChildJvmFlags.javaCommand();
      assertEquals(want, cmd.subList(1, 1 + want.size()), cmd.toString());
    } finally {
      if (before == null) System.clearProperty(ChildJvmFlags.EXTRA_PROPERTY);
      else System.setProperty(ChildJvmFlags.EXTRA_PROPERTY, before);
    }
  }

  @Test
  void anArchiveTakesTheJarsOfTheClassPathFirst() {
    String sep = java.io.File.pathSeparator;
    String cp = String.join(sep, "/t/test-classes", "/t/classes", "/a.jar", "/b.jar");
    assertEquals(String.join(sep, "/a.jar", "/b.jar"), ChildJvmFlags.jarsOf(cp));
    assertEquals(String.join(sep, "/a.jar", "/b.jar", "/t/test-classes", "/t/classes"), ChildJvmFlags.jarsFirst(cp));
  }

  @Test
  void withoutAnArchiveTheCommandIsTheFlagsAndThisClassPath() {
    String before = System.getProperty(ChildJvmFlags.ARCHIVE_PROPERTY);
    try {
      System.setProperty(ChildJvmFlags.ARCHIVE_PROPERTY, "/no/such/archive.jsa");
      List<String> cmd = ChildJvmFlags.javaCommand();
      assertEquals(ChildJvmFlags.flags(), cmd.subList(1, cmd.size() - 2), "a missing archive changes nothing");
      assertEquals(List.of("-cp", System.getProperty("java.class.path")), cmd.subList(cmd.size() - 2, cmd.size()));
    } finally {
      if (before == null) System.clearProperty(ChildJvmFlags.ARCHIVE_PROPERTY);
      else System.setProperty(ChildJvmFlags.ARCHIVE_PROPERTY, before);
    }
  }

  @Test
  void anExistingArchiveIsMappedAndPassedOn(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path a = java.nio.file.Files.createFile(dir.resolve("c.jsa"));
    String before = System.getProperty(ChildJvmFlags.ARCHIVE_PROPERTY);
    try {
      System.setProperty(ChildJvmFlags.ARCHIVE_PROPERTY, a.toString());
      List<String> cmd = ChildJvmFlags.javaCommand();
      assertTrue(cmd.contains("-XX:SharedArchiveFile=" + a), cmd.toString());
      assertTrue(cmd.contains("-D" + ChildJvmFlags.ARCHIVE_PROPERTY + "=" + a), cmd.toString());
      assertEquals(ChildJvmFlags.jarsFirst(System.getProperty("java.class.path")), cmd.get(cmd.size() - 1));
    } finally {
      if (before == null) System.clearProperty(ChildJvmFlags.ARCHIVE_PROPERTY);
      else System.setProperty(ChildJvmFlags.ARCHIVE_PROPERTY, before);
    }
  }
}
