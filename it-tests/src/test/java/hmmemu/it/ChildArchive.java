package hmmemu.it;

import hmmemu.cluster.ChildJvmFlags;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Not a kernel structure: the class-data-sharing archive of the child JVMs the tests launch (node JVMs, a
 * {@code hmm-emu cluster} controller), made once per set of jars under {@code target/child-cds/} by one JVM that runs
 * C05 on the embedded cluster with {@code -XX:ArchiveClassesAtExit} (Pekko, Artery, the nodes' and the protocol's
 * classes), and named to {@link ChildJvmFlags#ARCHIVE_PROPERTY} for this JVM's launches. A child maps those classes
 * instead of loading and verifying them: about 1.8 of 4.6 CPU s per start (docs/TESTING.md "Session 18: itcpu").
 * Only the start-up cost changes: a child's flags, class path entries and everything it runs stay the same. If the
 * archive cannot be made, the children start without it, as before; {@code -Dit.child-archive=false} starts them
 * without it (to measure the difference).
 */
final class ChildArchive {
  private ChildArchive() {}

  private static final Path DIR = Path.of("target", "child-cds");

  /** Whether this JVM already tried and failed to make the archive (not tried again: each try is a JVM start). */
  private static boolean failed;

  /** Makes the archive if it is missing (one JVM at a time, a file lock) and names it for this JVM's children. */
  static synchronized void ensure() {
    if (!Boolean.parseBoolean(System.getProperty("it.child-archive", "true")) || failed) return;
    try {
      String jars = ChildJvmFlags.jarsOf(System.getProperty("java.class.path"));
      if (jars.isEmpty()) return;
      // The archive's run needs the CLI in a jar: in a `test` run of the reactor (no package phase) the modules are
      // target/classes directories, which a dynamic archive cannot hold, and the run could not even find Main.
      String cli = String.valueOf(hmmemu.cluster.cli.Main.class.getProtectionDomain().getCodeSource().getLocation());
      if (!cli.endsWith(".jar")) {
        failed = true;
        System.out.println("ChildArchive: no archive, the CLI is not in a jar (" + cli + "; run `verify`, not `test`)");
        return;
      }
      Path archive = DIR.resolve(key(jars) + ".jsa").toAbsolutePath();
      if (!Files.isRegularFile(archive)) {
        Files.createDirectories(DIR);
        try (FileChannel ch = FileChannel.open(DIR.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = ch.lock()) {
          if (!Files.isRegularFile(archive)) make(jars, archive);
        }
      }
      if (Files.isRegularFile(archive)) System.setProperty(ChildJvmFlags.ARCHIVE_PROPERTY, archive.toString());
    } catch (IOException | InterruptedException | RuntimeException e) {
      failed = true;
      System.out.println("ChildArchive: no archive, the children start without one: " + e);
    }
  }

  /** A name for the jars (paths, sizes, times), the JDK and the flags: a rebuilt jar gets a new archive. */
  private static String key(String jars) throws IOException {
    StringBuilder b = new StringBuilder(System.getProperty("java.home")).append('\n')
        .append(ChildJvmFlags.flags()).append('\n');
    for (String j : jars.split(java.io.File.pathSeparator)) {
      Path p = Path.of(j);
      b.append(j).append(' ').append(Files.size(p)).append(' ').append(Files.getLastModifiedTime(p).toMillis())
          .append('\n');
    }
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(b.toString().getBytes(StandardCharsets.UTF_8));
      StringBuilder h = new StringBuilder();
      for (int i = 0; i < 8; i++) h.append(String.format("%02x", d[i]));
      return h.toString();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One JVM with the children's flags and the jars runs C05 embedded and writes the archive at its exit. */
  private static void make(String jars, Path archive) throws IOException, InterruptedException {
    Path tmp = Files.createTempFile(DIR, "making-", ".jsa");
    Files.delete(tmp);
    Path out = Files.createTempDirectory(DIR, "run-");
    Path log = DIR.resolve("make.log");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(ChildJvmFlags.flags());
    cmd.add("-XX:ArchiveClassesAtExit=" + tmp.toAbsolutePath());
    cmd.addAll(List.of("-cp", jars, "hmmemu.cluster.cli.Main", "run",
        ScenarioCasesTest.CASES.resolve("c05-nouveau-atomic.conf").toString(), "--quiet", "--out", out.toString()));
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS)) throw new IllegalStateException("the archive's run took over 120 s");
    } finally {
      p.destroyForcibly();
    }
    if (p.exitValue() != 0 || !Files.isRegularFile(tmp)) {
      throw new IllegalStateException("the archive's run exited with " + p.exitValue() + " (log: " + log + ")");
    }
    Files.move(tmp, archive, StandardCopyOption.ATOMIC_MOVE);
    // an archive of jars since rebuilt is of no more use (about 60 MB each)
    try (var old = Files.newDirectoryStream(DIR, "*.jsa")) {
      for (Path f : old) if (!f.getFileName().equals(archive.getFileName())) Files.deleteIfExists(f);
    }
    System.out.printf("ChildArchive: %s made in %.1f s%n", archive, (System.nanoTime() - t0) / 1e9);
    try (var s = Files.walk(out)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
}
