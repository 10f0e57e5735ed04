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
}
