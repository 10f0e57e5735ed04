package hmmemu.cluster;

import java.util.List;

/**
 * The flags of the child JVMs {@link ProcessCluster} launches (an emulator-only host mechanism, no kernel
 * structure): the cores recurse (4 MB stacks), one GC thread, and only the C1 compiler. A child node lives seconds to
 * minutes on a few shared cores, where C2's compile threads compete with the nodes' own during start-up and the
 * first requests (docs/TESTING.md, "Child JVM flags (measured)"). {@value #ENV} replaces them all.
 */
public final class ChildJvmFlags {
  /** The environment variable whose value (split on white space) replaces {@link #DEFAULT} on every child. */
  public static final String ENV = "HMM_EMU_CHILD_JAVA_OPTS";

  /** The flags a child gets when {@link #ENV} is unset or blank. */
  public static final List<String> DEFAULT = List.of("-Xss4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  private ChildJvmFlags() {}

  /** The flags for this process's children: {@link #of} the environment's {@link #ENV}. */
  public static List<String> fromEnv() { return of(System.getenv(ENV)); }

  /** {@code value} split on white space, or {@link #DEFAULT} when it is null or blank. */
  public static List<String> of(String value) {
    if (value == null || value.isBlank()) return DEFAULT;
    return List.of(value.trim().split("\\s+"));
  }
}
