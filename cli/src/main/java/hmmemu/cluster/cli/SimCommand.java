package hmmemu.cluster.cli;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.scenario.Scenario;
import hmmemu.cluster.scenario.ScenarioException;
import hmmemu.cluster.scenario.SimScenarioRunner;
import java.io.File;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hmm-emu sim PATH... [--seeds N | --seed S] [--json]}: runs scenario files in the deterministic simulator
 * (docs/SCENARIOS.md "hmm-emu sim"), each seed a full run with that seed. Every file is validated before anything
 * runs (a malformed one: one line {@code FILE:LINE: what is wrong}, exit 2). Every run prints its trace hash; a
 * failing run prints the line that replays it. A file the simulator cannot run yet is a counted skip, never a pass.
 * Exit 0 when no run failed, 1 when one did, 2 on bad input.
 */
@Command(name = "sim", mixinStandardHelpOptions = true,
    description = {"Runs scenario files in the deterministic simulator (model time, one seed per run).",
        "The same files and expectations as 'run'. Each seed is a full run; each run prints its trace hash and a "
            + "failing one the line that replays it (hmm-emu sim FILE --seed S). Exit 0 no run failed, 1 a failure, "
            + "2 bad input."})
final class SimCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "PATH", description = "Scenario files or directories.")
  List<File> paths;
  @Option(names = "--seeds", paramLabel = "N", description = "Run seeds 1..N of every file (default 1).")
  Integer seeds;
  @Option(names = "--seed", paramLabel = "S", description = "Run only seed S (a replay).")
  Long seed;
  @picocli.CommandLine.Mixin FastForwardOptions fastForward;

  @Option(names = "--json", description = "End with one JSON line: {\"ok\", \"passed\", \"failed\", \"skipped\", "
      + "\"seeds\", \"eventsPerSecond\", \"cases\"} (with \"traceHash\" for one FILE --seed S).")
  boolean json;
  @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file over reference.conf (hmm-emu.link, "
      + "hmm-emu.faults.folio-lock-lease).")
  File config;
  @picocli.CommandLine.Mixin RecordOptions record;

  /** One file's runs. */
  private record FileRuns(Scenario scenario, String skipped, List<SimScenarioRunner.Result> failed, int runs) {}

  @Override
  public Integer call() {
    PrintStream out = System.out;
    if (seeds != null && seed != null) return usage("give --seeds N or --seed S, not both");
    if (seeds != null && seeds < 1) return usage("--seeds must be at least 1, got " + seeds);
    List<Path> files = new ArrayList<>();
    List<Scenario> scenarios;
    try {
      scenarios = RunCommand.parseAll(paths, files);
      if (files.isEmpty()) return usage("no scenario files (*.conf) in " + paths);
    } catch (ScenarioException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    HmmEmuSettings settings = HmmEmuSettings.load(config, Map.of());
    // a bad hmm-emu.link value is refused here (exit 2, one line), not as a FAIL of each file that reads it
    hmmemu.cluster.demo.SimDemo.link(settings, -1);
    long[] seedList = seedList();
    List<FileRuns> all = new ArrayList<>();
    long events = 0;
    long wallNanos = 0;
    Long onlyHash = null;
    List<hmmemu.report.RunRecorder> recorders = new ArrayList<>();
    int cap;
    try {
      record.check();
      cap = record.cap();
    } catch (RuntimeException e) {
      return usage(e.getMessage());
    }
    int capPerRun = Math.max(Math.min(1000, cap), cap / scenarios.size());
    hmmemu.cluster.demo.SimRuns runs = fastForward.runs();
    Progress progress = new Progress("simulated runs", (long) scenarios.size() * seedList.length, record.quiet)
        .events(runs::events);
    try {
    for (Scenario s : scenarios) {
      progress.stage(s.file());
      String skipped = SimScenarioRunner.unsupported(s);
      if (skipped != null) {
        progress.say(out, "SKIP " + s.file() + ": not supported in the simulator: " + skipped);
        all.add(new FileRuns(s, skipped, List.of(), 0));
        continue;
      }
      List<SimScenarioRunner.Result> failed = new ArrayList<>();
      List<String> lines = new ArrayList<>();
      for (long sd : seedList) {
        // the run record keeps each file's first seed (its timeline, metrics and report; docs/OBSERVABILITY.md)
        hmmemu.report.RunRecorder rec = sd == seedList[0] ? new hmmemu.report.RunRecorder(label(s) + " seed " + sd,
            capPerRun) : null;
        if (rec != null) recorders.add(rec);
        progress.stage(s.file() + ", seed " + sd);
        SimScenarioRunner.Result r = runs.run(onSim -> SimScenarioRunner.run(s, sd, settings.config,
            rec == null ? null : rec::onEvent, onSim));
        progress.one();
        events += r.events();
        wallNanos += r.wallNanos();
        onlyHash = r.traceHash();
        if (r.ok()) {
          lines.add("  seed " + sd + " ok, trace " + r.traceHashHex() + ", " + r.events() + " events");
        } else {
          failed.add(r);
          lines.add("  seed " + sd + " FAIL, trace " + r.traceHashHex() + "; replay: " + r.replayLine());
          for (String f : r.failures()) lines.add("    " + f);
        }
      }
      lines.add(0, (failed.isEmpty() ? "PASS " : "FAIL ") + s.file() + " (" + label(s) + ", " + seedList.length
          + (seedList.length == 1 ? " seed" : " seeds") + (failed.isEmpty() ? "" : ", " + failed.size() + " failed") + ")");
      progress.say(out, String.join(System.lineSeparator(), lines));
      all.add(new FileRuns(s, null, failed, seedList.length));
    }
    } finally {
      progress.close();
    }
    long passed = all.stream().filter(f -> f.skipped() == null && f.failed().isEmpty()).count();
    long failedFiles = all.stream().filter(f -> f.skipped() == null && !f.failed().isEmpty()).count();
    long skipped = all.stream().filter(f -> f.skipped() != null).count();
    double eps = wallNanos == 0 ? 0 : events / (wallNanos / 1e9);
    out.println(passed + " passed, " + failedFiles + " failed, " + skipped + " skipped (not supported in the simulator); "
        + seedList.length + (seedList.length == 1 ? " seed" : " seeds") + " per file; "
        + String.format(Locale.ROOT, "%.0f", eps) + " events/s");
    boolean oneRun = scenarios.size() == 1 && seed != null && skipped == 0;
    String result = toJson(all, passed, failedFiles, skipped, seedList.length, eps, oneRun ? onlyHash : null);
    out.println(runs.totalsLine());
    result = result.substring(0, result.length() - 1) + ", " + runs.totalsJson() + "}";
    if (json) out.println(result);
    com.fasterxml.jackson.databind.node.ObjectNode shown = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    shown.put("host", "simulator");
    shown.put("scenarios", files.size());
    shown.put("files", files.stream().map(Path::toString).collect(java.util.stream.Collectors.joining(", ")));
    shown.put("seeds", seedList.length == 1 ? Long.toString(seedList[0]) : "1.." + seedList.length);
    shown.put("recorded", "the first seed of each file");
    String name = "sim-" + (files.size() == 1 ? files.get(0).getFileName().toString().replaceFirst("\\.conf$", "") : "scenarios");
    record.write(name, result, shown, recorders, null, json ? System.err : out);
    return failedFiles == 0 ? 0 : 1;
  }

  private long[] seedList() {
    if (seed != null) return new long[] {seed};
    int n = seeds == null ? 1 : seeds;
    long[] out = new long[n];
    for (int i = 0; i < n; i++) out[i] = i + 1;
    return out;
  }

  private static int usage(String what) {
    System.err.println("hmm-emu sim: " + what);
    return 2;
  }

  private static String label(Scenario s) { return (s.caseId() == null ? "" : s.caseId() + ": ") + s.name(); }

  /** The last line with --json; a skipped case has "ok": false and its "skipped" reason (it is not a pass). */
  private static String toJson(List<FileRuns> all, long passed, long failed, long skipped, int seeds, double eps,
      Long traceHash) {
    StringBuilder sb = new StringBuilder();
    sb.append("{\"ok\": ").append(failed == 0).append(", \"passed\": ").append(passed).append(", \"failed\": ")
        .append(failed).append(", \"skipped\": ").append(skipped).append(", \"seeds\": ").append(seeds)
        .append(", \"eventsPerSecond\": ").append(String.format(Locale.ROOT, "%.0f", eps));
    if (traceHash != null) sb.append(", \"traceHash\": \"").append(hmmemu.sim.TraceHash.hex(traceHash)).append('"');
    sb.append(", \"cases\": [");
    for (int i = 0; i < all.size(); i++) {
      FileRuns f = all.get(i);
      if (i > 0) sb.append(", ");
      boolean ok = f.skipped() == null && f.failed().isEmpty();
      sb.append("{\"file\": ").append(RunCommand.quote(f.scenario().file())).append(", \"ok\": ").append(ok);
      if (f.skipped() != null) sb.append(", \"skipped\": ").append(RunCommand.quote(f.skipped()));
      sb.append(", \"failures\": [");
      int n = 0;
      for (SimScenarioRunner.Result r : f.failed()) {
        for (String line : r.failures()) {
          if (n == 20) break;
          sb.append(n++ > 0 ? ", " : "").append(RunCommand.quote("seed " + r.seed() + ": " + line));
        }
      }
      sb.append("], \"failingSeeds\": [");
      for (int j = 0; j < f.failed().size(); j++) sb.append(j > 0 ? ", " : "").append(f.failed().get(j).seed());
      sb.append("]}");
    }
    return sb.append("]}").toString();
  }
}
