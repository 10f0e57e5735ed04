package hmmemu.cluster.cli;

import hmmemu.report.RunDirectory;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code hmm-emu report DIR}: rebuilds report.html of a run record from its result.json and metrics.json. */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = {"Rebuilds report.html of a run record from its result.json and metrics.json.",
        "A run record is the directory a demo, run, sim, sweep or cluster command leaves (--out DIR; "
            + "docs/OBSERVABILITY.md). "
            + "Exit 0 rebuilt, 2 when DIR is not a run record."})
final class ReportCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "DIR", description = "The run record's directory.")
  File dir;

  @Override
  public Integer call() {
    if (!dir.exists()) {
      System.err.println("hmm-emu report: no such directory: " + dir);
      return 2;
    }
    if (!dir.isDirectory()) {
      System.err.println("hmm-emu report: " + dir + " is a file: give the run record's directory (it holds result.json)");
      return 2;
    }
    try {
      Path out = RunDirectory.rebuild(dir.toPath());
      System.out.println("report: " + out);
      return 0;
    } catch (IOException e) {
      System.err.println("hmm-emu report: " + dir + " is not a run record: " + e.getMessage());
      return 2;
    }
  }
}
