package hmmemu.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The flags of the child JVMs {@link ProcessCluster} launches (an emulator-only host mechanism, no kernel
 * structure): the cores recurse (4 MB stacks), one GC thread, and only the C1 compiler. A child node lives seconds to
 * minutes on a few shared cores, where C2's compile threads compete with the nodes' own during start-up and the
 * first requests (docs/TESTING.md, "Child JVM flags (measured)"). {@value #ENV} replaces them all. With the system
 * property {@value #ARCHIVE_PROPERTY} naming an existing class-data-sharing archive (the tests make one,
 * docs/TESTING.md "Session 18: itcpu"), a child also maps that archive and gets its class path's jars first.
 */
public final class ChildJvmFlags {
  /** The environment variable whose value (split on white space) replaces {@link #DEFAULT} on every child. */
  public static final String ENV = "HMM_EMU_CHILD_JAVA_OPTS";

  /** The flags a child gets when {@link #ENV} is unset or blank. */
  public static final List<String> DEFAULT = List.of("-Xss4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  /**
   * A system property naming a dynamic CDS archive ({@code -XX:ArchiveClassesAtExit}) made with these flags and
   * {@link #jarsOf} this class path: when the file exists, {@link #javaCommand} adds {@code -XX:SharedArchiveFile}
   * (and the property itself, for a child that launches children), so a child maps the classes instead of loading
   * and verifying them (about 1.8 of 4.6 CPU s of a start, measured). Unset: nothing changes.
   */
  public static final String ARCHIVE_PROPERTY = "hmm-emu.child.shared-archive";

  /**
   * A system property whose value (split on white space) is added after {@link #fromEnv} on every child, and passed
   * on to the child (a controller passes it to its nodes). Test-only (it-tests sets it: fewer Pekko threads per
   * child, docs/TESTING.md "Session 20: itcut3"); unset, as in every user run, nothing changes.
   */
  public static final String EXTRA_PROPERTY = "hmm-emu.child.extra-java-opts";

  private ChildJvmFlags() {}

  /** The flags for this process's children: {@link #of} the environment's {@link #ENV}. */
  public static List<String> fromEnv() { return of(System.getenv(ENV)); }

  /**
   * Every flag a child of this process gets before its class path: {@link #fromEnv}, then {@link #EXTRA_PROPERTY}'s
   * flags and the property itself (for the child's own children) when it is set and not blank.
   */
  public static List<String> flags() {
    List<String> out = new ArrayList<>(fromEnv());
    String extra = System.getProperty(EXTRA_PROPERTY, "");
    if (!extra.isBlank()) {
      out.addAll(List.of(extra.trim().split("\\s+")));
      out.add("-D" + EXTRA_PROPERTY + "=" + extra.trim());
    }
    return out;
  }

  /** {@code value} split on white space, or {@link #DEFAULT} when it is null or blank. */
  public static List<String> of(String value) {
    if (value == null || value.isBlank()) return DEFAULT;
    return List.of(value.trim().split("\\s+"));
  }

  /**
   * {@code java}, this process's children's {@link #flags} and {@code -cp} with this process's class path: the start of a
   * child's command line, the main class and its arguments to follow. With an archive ({@link #ARCHIVE_PROPERTY}),
   * the class path's jars come first and its directories after them (a dynamic archive is valid only for a class
   * path that starts with the jars it was made with, and JDK 17 makes none with a non-empty directory in it).
   */
  public static List<String> javaCommand() {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(flags());
    String classPath = System.getProperty("java.class.path");
    String archive = System.getProperty(ARCHIVE_PROPERTY, "");
    if (!archive.isEmpty() && Files.isRegularFile(Path.of(archive))) {
      cmd.add("-XX:SharedArchiveFile=" + archive);
      cmd.add("-D" + ARCHIVE_PROPERTY + "=" + archive);
      classPath = jarsFirst(classPath);
    }
    cmd.add("-cp");
    cmd.add(classPath);
    return cmd;
  }

  /** The entries of {@code classPath} that end in {@code .jar}, in order, joined again: an archive's class path. */
  public static String jarsOf(String classPath) {
    List<String> jars = new ArrayList<>();
    for (String e : classPath.split(java.io.File.pathSeparator)) if (e.endsWith(".jar")) jars.add(e);
    return String.join(java.io.File.pathSeparator, jars);
  }

  /** {@code classPath} with its jars first (in order), then its other entries (in order). */
  public static String jarsFirst(String classPath) {
    List<String> out = new ArrayList<>();
    for (String e : classPath.split(java.io.File.pathSeparator)) if (e.endsWith(".jar")) out.add(e);
    for (String e : classPath.split(java.io.File.pathSeparator)) if (!e.endsWith(".jar") && !e.isEmpty()) out.add(e);
    return String.join(java.io.File.pathSeparator, out);
  }
}
