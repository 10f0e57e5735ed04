package hmmemu.cluster.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hmmemu.report.RunDirectory;
import hmmemu.report.RunRecorder;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options of every command that leaves a run record (docs/OBSERVABILITY.md): where ({@code --out}), how much
 * timeline ({@code --trace-cap}) and whether to show progress ({@code --quiet}); and the writing of the record.
 */
final class RecordOptions {
  static final int DEFAULT_TRACE_CAP = 200_000;

  @Option(names = "--out", paramLabel = "DIR", description = "Where to leave the run record (result.json, "
      + "metrics.json, trace.json, report.html; docs/OBSERVABILITY.md). The default is runs/<UTC timestamp>-<name>/.")
  File out;

  @Option(names = "--trace-cap", paramLabel = "N", description = "Most timeline records trace.json keeps per run "
      + "(default " + DEFAULT_TRACE_CAP + "). Metrics stay exact; a capped trace says so.")
  Integer traceCap;

  @Option(names = "--quiet", description = "Shows no progress on stderr.")
  boolean quiet;

  /**
   * Refuses a bad {@code --trace-cap} or an {@code --out} that cannot become the run directory (an existing file, or
   * below a file or an unwritable directory) before a run starts, not after it (exit 2, one line).
   */
  void check() {
    cap();
    if (out == null) return;
    Path p = out.toPath().toAbsolutePath();
    if (Files.exists(p) && !Files.isDirectory(p)) {
      throw new hmmemu.cluster.SettingsException("--out: " + out + " exists and is not a directory");
    }
    Path q = p;
    while (q != null && !Files.exists(q)) q = q.getParent();
    if (q == null || !Files.isDirectory(q) || !Files.isWritable(q)) {
      throw new hmmemu.cluster.SettingsException("--out: cannot create " + out + ": " + q + " is not a writable directory");
    }
  }

  /** An I/O failure in words: NoSuchFileException's message is only the path. */
  static String inWords(Exception e) {
    String m = e.getMessage() == null ? "" : e.getMessage().replace('\n', ' ');
    if (e instanceof java.nio.file.NoSuchFileException) return "no such file or directory: " + m;
    if (e instanceof java.nio.file.AccessDeniedException) return "permission denied: " + m;
    if (e instanceof java.nio.file.FileAlreadyExistsException) return "already exists: " + m;
    if (e instanceof java.nio.file.NotDirectoryException) return "not a directory: " + m;
    return e.getClass().getSimpleName() + (m.isEmpty() ? "" : ": " + m);
  }

  int cap() {
    if (traceCap != null && traceCap < 0) {
      throw new hmmemu.cluster.SettingsException("--trace-cap: must be at least 0, got " + traceCap);
    }
    return traceCap == null ? DEFAULT_TRACE_CAP : traceCap;
  }

  Path dir(String name) { return out != null ? out.toPath() : RunDirectory.defaultFor(name, Instant.now()); }

  /**
   * Writes the record into {@link #dir} and prints its path (and whether a trace was capped) on {@code say}; an
   * I/O failure is reported on stderr and returns false (the run's own verdict stands).
   */
  boolean write(String name, String resultJson, ObjectNode settings, List<RunRecorder> runs, ArrayNode sweep,
      PrintStream say) {
    Path dir = dir(name);
    try {
      RunDirectory.write(dir, name, resultJson, settings, runs, sweep);
    } catch (IOException | RuntimeException e) {
      System.err.println("hmm-emu: could not write the run record to " + dir + ": " + inWords(e));
      return false;
    }
    long dropped = runs.stream().mapToLong(RunRecorder::droppedMarks).sum();
    if (dropped > 0) {
      say.println("trace.json capped at " + cap() + " records per run: " + dropped
          + " left out (metrics are exact; raise --trace-cap to keep more)");
    }
    say.println("run record: " + dir);
    return true;
  }
}
