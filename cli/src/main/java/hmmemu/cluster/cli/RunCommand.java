package hmmemu.cluster.cli;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.scenario.CaseResult;
import hmmemu.cluster.scenario.Scenario;
import hmmemu.cluster.scenario.ScenarioException;
import hmmemu.cluster.scenario.ScenarioParser;
import hmmemu.cluster.scenario.ScenarioRunner;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hmmemu.report.RunRecorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hmm-emu run PATH...}: runs scenario files (docs/SCENARIOS.md), each on a fresh embedded cluster. Every file
 * is validated before anything runs (a malformed one: one line {@code FILE:LINE: what is wrong}, exit 2). Exit 0
 * only when every expectation of every file held.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Runs scenario files on an embedded cluster and checks their expectations.",
        "A scenario is a HOCON file; a directory stands for every *.conf inside, sorted. Prints PASS/FAIL per file "
            + "and each failed expectation as FILE:LINE: expected X, got Y. Exit 0 all passed, 1 a failure, "
            + "2 a malformed scenario."})
final class RunCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "PATH", description = "Scenario files or directories.")
  List<File> paths;
  @Option(names = "--json", description = "End with one JSON line: {\"ok\", \"passed\", \"failed\", \"cases\"}.")
  boolean json;
  @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file that overrides reference.conf.")
  File config;
  @Option(names = "--time-scale", description = "Real µs per model µs (default: hmm-emu.time-scale).")
  Double timeScale;
  @Mixin RecordOptions record;

  @Override
  public Integer call() {
    PrintStream out = System.out;
    record.check();
    List<Path> files = new ArrayList<>();
    try {
      files.addAll(filesOf(paths));
    } catch (ScenarioException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    if (files.isEmpty()) {
      System.err.println("hmm-emu run: no scenario files (*.conf) in " + paths);
      return 2;
    }
    List<Scenario> scenarios = new ArrayList<>();
    for (Path f : files) {
      try {
        scenarios.add(ScenarioParser.parse(f));
      } catch (ScenarioException e) {
        System.err.println(e.getMessage());
        return 2;
      }
    }
    Map<String, Object> overrides = new HashMap<>();
    if (timeScale != null) overrides.put("hmm-emu.time-scale", timeScale);
    HmmEmuSettings settings = HmmEmuSettings.load(config, overrides);
    // a bad hmm-emu.link value is refused here (exit 2, one line), not as a FAIL of each file that reads it
    hmmemu.cluster.demo.SimDemo.link(settings, -1);
    ScenarioRunner.Options options = new ScenarioRunner.Options(settings.config,
        hmmemu.cluster.EmbeddedCluster.SystemFactory.PLAIN, java.time.Duration.ofSeconds(30), settings.timeScale);
    return runAll(files, scenarios, options, json, record, out);
  }

  /**
   * Runs parsed scenarios with {@code options} (an embedded cluster each, or separate JVMs: {@code hmm-emu cluster
   * --scenario}) and prints PASS/FAIL per file, each failure, the totals and (with {@code json}) the JSON line;
   * writes the run record. Returns the exit code: 0 every expectation held, 1 a failure.
   */
  static int runAll(List<Path> files, List<Scenario> scenarios, ScenarioRunner.Options options, boolean json,
      RecordOptions record, PrintStream out) {
    List<CaseResult> results = new ArrayList<>();
    List<RunRecorder> recorders = new ArrayList<>();
    int cap = record.cap();
    int capPerRun = Math.max(Math.min(1000, cap), cap / scenarios.size());
    Progress progress = new Progress("scenarios", scenarios.size(), record.quiet);
    for (Scenario s : scenarios) {
      progress.stage(s.file());
      RunRecorder recorder = new RunRecorder(label(s), capPerRun);
      CaseResult r = ScenarioRunner.run(s, options, recorder);
      progress.one();
      recorders.add(recorder);
      results.add(r);
      out.println((r.ok() ? "PASS " : "FAIL ") + r.file() + " (" + label(s) + ", " + r.wallMillis() + " ms)");
      for (String f : r.failures()) out.println("  " + f);
      out.flush();
    }
    long passed = results.stream().filter(CaseResult::ok).count();
    long failed = results.size() - passed;
    progress.close();
    out.println(passed + " passed, " + failed + " failed");
    if (json) out.println(toJson(results));
    ObjectNode shown = JsonNodeFactory.instance.objectNode();
    shown.put("scenarios", files.size());
    shown.put("files", files.stream().map(Path::toString).collect(Collectors.joining(", ")));
    shown.put("timeScale", options.timeScale());
    if (options.jvms() != null) shown.put("separateJvms", true);
    String name = files.size() == 1 ? files.get(0).getFileName().toString().replaceFirst("\\.conf$", "") : "run";
    record.write(name, toJson(results), shown, recorders, null, json ? System.err : out);
    return failed == 0 ? 0 : 1;
  }

  private static String label(Scenario s) { return (s.caseId() == null ? "" : s.caseId() + ": ") + s.name(); }

  /** A file as given, or every *.conf under a directory, sorted by path. */
  /**
   * Every scenario file the given files and directories name ({@link #scenarioFiles}), appended to {@code into}, then
   * parsed in that order: bad input is one {@link ScenarioException} before anything runs. Emulator-only CLI plumbing.
   */
  static List<Scenario> parseAll(List<File> given, List<Path> into) {
    into.addAll(filesOf(given));
    List<Scenario> parsed = new ArrayList<>();
    for (Path p : into) parsed.add(ScenarioParser.parse(p));
    return parsed;
  }

  /**
   * The scenario files of {@code given}, each once (a file named twice, or also inside a directory given, runs once);
   * among several paths, a directory without a *.conf is bad input (a mistyped path would otherwise pass unseen).
   */
  static List<Path> filesOf(List<File> given) {
    java.util.Set<Path> seen = new java.util.HashSet<>();
    List<Path> out = new ArrayList<>();
    for (File f : given) {
      List<Path> found = scenarioFiles(f.toPath());
      if (found.isEmpty() && given.size() > 1) {
        throw new ScenarioException(f.toString(), 1, "no scenario files (*.conf) in this directory");
      }
      for (Path p : found) if (seen.add(p.toAbsolutePath().normalize())) out.add(p);
    }
    return out;
  }

  static List<Path> scenarioFiles(Path p) {
    if (Files.isRegularFile(p)) return List.of(p);
    if (!Files.isDirectory(p)) throw new ScenarioException(p.toString(), 1, "no such file or directory");
    try (Stream<Path> s = Files.walk(p)) {
      return s.filter(f -> Files.isRegularFile(f) && f.getFileName().toString().endsWith(".conf")).sorted()
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw new ScenarioException(p.toString(), 1, "cannot list the directory: " + e.getMessage());
    }
  }

  static String toJson(List<CaseResult> results) {
    long passed = results.stream().filter(CaseResult::ok).count();
    StringBuilder sb = new StringBuilder();
    sb.append("{\"ok\": ").append(passed == results.size()).append(", \"passed\": ").append(passed)
        .append(", \"failed\": ").append(results.size() - passed).append(", \"cases\": [");
    for (int i = 0; i < results.size(); i++) {
      CaseResult r = results.get(i);
      if (i > 0) sb.append(", ");
      sb.append("{\"file\": ").append(quote(r.file())).append(", \"ok\": ").append(r.ok()).append(", \"failures\": [");
      for (int j = 0; j < r.failures().size(); j++) {
        if (j > 0) sb.append(", ");
        sb.append(quote(r.failures().get(j)));
      }
      sb.append("]}");
    }
    return sb.append("]}").toString();
  }

  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"': sb.append("\\\""); break;
        case '\\': sb.append("\\\\"); break;
        case '\n': sb.append("\\n"); break;
        case '\r': sb.append("\\r"); break;
        case '\t': sb.append("\\t"); break;
        default:
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c)); else sb.append(c);
      }
    }
    return sb.append('"').toString();
  }
}
