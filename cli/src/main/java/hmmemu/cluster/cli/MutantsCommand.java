package hmmemu.cluster.cli;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.scenario.CaseResult;
import hmmemu.cluster.scenario.Scenario;
import hmmemu.cluster.scenario.ScenarioException;
import hmmemu.cluster.scenario.ScenarioParser;
import hmmemu.cluster.scenario.ScenarioRunner;
import hmmemu.cluster.scenario.SimScenarioRunner;
import hmmemu.protocol.model.Mutant;
import java.io.File;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hmm-emu mutants [--json] [--only NAME,...] [--host cluster|sim [--seeds N]] [PATH...]}: the mutation score
 * of the scenario suite (docs/TESTING.md), each file run on a fresh embedded cluster (the default) or in the
 * deterministic simulator. Runs every file once without mutants (the baseline), then, per {@link Mutant}, the files that
 * passed at the baseline with that mutant active, until one fails: the mutant is killed by that file, or survived
 * when none fails. Exit 0 when every mutant was killed, 1 with a survivor (or a baseline failure), 2 bad input.
 */
@Command(name = "mutants", mixinStandardHelpOptions = true,
    description = {"Runs the scenario suite against each deliberate model mutation and reports which were killed.",
        "A mutant is killed when a file that passes without it fails with it. Default PATHs: scenarios/cases and "
            + "scenarios/faults. Exit 0 all killed, 1 a survivor or a baseline failure, 2 bad input."})
final class MutantsCommand implements Callable<Integer> {
  @Parameters(arity = "0..*", paramLabel = "PATH",
      description = "Scenario files or directories (default: scenarios/cases scenarios/faults).")
  List<File> paths;
  @Option(names = "--only", split = ",", paramLabel = "NAME",
      description = "Only these mutants (kebab-case names, comma separated).")
  List<String> only;
  @Option(names = "--list", description = "List the mutants (name, kernel function, description) and exit.")
  boolean list;
  @Option(names = "--json", description = "End with one JSON line: {\"mutants\", \"killed\", \"survivors\", ...}; "
      + "with --list: {\"mutants\": [{\"name\", \"module\", \"kernelFunction\", \"description\"}]}.")
  boolean json;
  @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file that overrides reference.conf.")
  File config;
  @Option(names = "--time-scale", description = "Real µs per model µs (default: hmm-emu.time-scale).")
  Double timeScale;
  @Option(names = {"-q", "--quiet"}, description = "No progress on stderr.")
  boolean quiet;
  @Option(names = "--host", paramLabel = "HOST",
      description = "Where each file runs: cluster (default: a fresh embedded cluster per run, as hmm-emu run) or sim"
          + " (the deterministic simulator, as hmm-emu sim: much faster; files it cannot run are left out, named).")
  String host = "cluster";
  @Option(names = "--seeds", paramLabel = "N",
      description = "With --host sim: run each file with seeds 1..N (default 1); a file fails when one seed fails.")
  Integer seeds;
  @Option(names = "--skip-baseline",
      description = "Take every file as passing without mutants (only after a full run showed it: saves one suite).")
  boolean skipBaseline;

  /** What one mutant did to the suite: the killing file and its first failure, or null killer when it survived. */
  record Outcome(Mutant mutant, String killedBy, String failure, int filesRun, long wallMillis) {
    boolean killed() { return killedBy != null; }
  }

  @Override
  public Integer call() {
    PrintStream out = System.out;
    if (list) {
      StringBuilder js = new StringBuilder("{\"mutants\": [");
      for (Mutant m : Mutant.values()) {
        out.println(m.cliName() + "  [" + m.module() + ": " + m.kernelFunction() + "] " + m.description());
        if (js.charAt(js.length() - 1) != '[') js.append(", ");
        js.append("{\"name\": ").append(RunCommand.quote(m.cliName())).append(", \"module\": ")
            .append(RunCommand.quote(m.module())).append(", \"kernelFunction\": ")
            .append(RunCommand.quote(m.kernelFunction())).append(", \"description\": ")
            .append(RunCommand.quote(m.description())).append('}');
      }
      if (json) out.println(js.append("]}"));
      return 0;
    }
    Set<Mutant> chosen;
    try {
      chosen = chosen(only);
    } catch (IllegalArgumentException e) {
      System.err.println("hmm-emu mutants: " + e.getMessage());
      return 2;
    }
    boolean sim = "sim".equals(host);
    if (!sim && !"cluster".equals(host)) {
      System.err.println("hmm-emu mutants: --host: expected sim or cluster, got '" + host + "'");
      return 2;
    }
    if (seeds != null && (!sim || seeds < 1)) {
      System.err.println("hmm-emu mutants: --seeds " + seeds + ": " + (sim ? "must be at least 1" : "needs --host sim"));
      return 2;
    }
    List<File> roots = paths == null || paths.isEmpty()
        ? List.of(new File("scenarios/cases"), new File("scenarios/faults")) : paths;
    List<Scenario> scenarios = new ArrayList<>();
    try {
      for (File p : roots) for (Path f : RunCommand.scenarioFiles(p.toPath())) scenarios.add(ScenarioParser.parse(f));
    } catch (ScenarioException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    if (scenarios.isEmpty()) {
      System.err.println("hmm-emu mutants: no scenario files (*.conf) in " + roots);
      return 2;
    }
    if (sim) { // files the simulator cannot run yet are named and left out, never counted as passing
      List<Scenario> runnable = new ArrayList<>();
      for (Scenario s : scenarios) {
        String why = SimScenarioRunner.unsupported(s);
        if (why == null) runnable.add(s);
        else out.println("SKIP " + s.file() + " (the simulator: " + why + ")");
      }
      scenarios = runnable;
    }
    Map<String, Object> overrides = new HashMap<>();
    if (timeScale != null) overrides.put("hmm-emu.time-scale", timeScale);
    // A mutant may recurse without end (a restore that never finds its folio): the StackOverflowError must fail
    // that run, not end the JVM and the whole score (Pekko exits on a fatal error by default).
    overrides.put("pekko.jvm-exit-on-fatal-error", false);
    HmmEmuSettings settings = HmmEmuSettings.load(config, overrides);
    // a bad hmm-emu.link value is refused here (exit 2, one line), not as a FAIL of each file that reads it
    hmmemu.cluster.demo.SimDemo.link(settings, -1);
    ScenarioRunner.Options options = new ScenarioRunner.Options(settings.config,
        hmmemu.cluster.EmbeddedCluster.SystemFactory.PLAIN, java.time.Duration.ofSeconds(30), settings.timeScale);
    Function<Scenario, CaseResult> runner = sim ? simRunner(settings.config, seeds == null ? 1 : seeds)
        : s -> ScenarioRunner.run(s, options);
    return report(score(scenarios, chosen, runner, out), out);
  }

  /**
   * {@code --host sim}: one file in the deterministic simulator ({@link SimScenarioRunner}, as {@code hmm-emu sim})
   * with seeds 1..{@code seeds}, stopping at the first failing seed, whose failures (after the line that replays
   * it) are the file's verdict.
   */
  static Function<Scenario, CaseResult> simRunner(com.typesafe.config.Config base, int seeds) {
    return s -> {
      long started = System.nanoTime();
      for (long seed = 1; seed <= seeds; seed++) {
        SimScenarioRunner.Result r;
        try {
          r = SimScenarioRunner.run(s, seed, base);
        } catch (StackOverflowError e) { // a mutant's model recursing without end fails that run, not the score
          return new CaseResult(s.file(), s.name(), false, List.of(s.file() + ":1: the run failed: " + e
              + " (hmm-emu sim " + s.file() + " --seed " + seed + ")"), (System.nanoTime() - started) / 1_000_000);
        }
        if (!r.ok()) {
          List<String> failures = new ArrayList<>();
          for (String f : r.failures()) failures.add(f + " (" + r.replayLine() + ")");
          if (failures.isEmpty()) failures.add(s.file() + ":1: " + (r.ran() ? "failed" : "skipped: " + r.skipped()));
          return new CaseResult(s.file(), s.name(), false, failures, (System.nanoTime() - started) / 1_000_000);
        }
      }
      return new CaseResult(s.file(), s.name(), true, List.of(), (System.nanoTime() - started) / 1_000_000);
    };
  }

  /** The mutants named by --only (all of them without it). */
  static Set<Mutant> chosen(List<String> only) {
    if (only == null || only.isEmpty()) return EnumSet.allOf(Mutant.class);
    Set<Mutant> out = new LinkedHashSet<>();
    for (String n : only) if (!n.isBlank()) out.add(Mutant.parse(n));
    if (out.isEmpty()) throw new IllegalArgumentException("--only names no mutant");
    return out;
  }

  /** The result of a whole score: the baseline's failing files and one outcome per mutant. */
  record Score(List<String> baselineFailures, List<Outcome> outcomes) {}

  /**
   * The baseline, then each mutant against the files that passed it, stopping at the first failing file.
   * {@code runner} runs one scenario to its verdict (the embedded cluster today; any host with the same contract).
   */
  Score score(List<Scenario> scenarios, Set<Mutant> mutants, Function<Scenario, CaseResult> runner, PrintStream out) {
    List<Scenario> passing = new ArrayList<>();
    List<String> baselineFailures = new ArrayList<>();
    try (Progress progress = new Progress("runs", scenarios.size() * (1L + mutants.size()), quiet)) {
      for (Scenario s : scenarios) {
        progress.stage("baseline " + s.file());
        CaseResult r = skipBaseline ? new CaseResult(s.file(), s.name(), true, List.of(), 0) : runner.apply(s);
        progress.add(1);
        if (r.ok()) {
          passing.add(s);
        } else {
          baselineFailures.add(s.file());
          out.println("BASELINE FAIL " + s.file() + " (left out of the score)");
          for (String f : r.failures()) out.println("  " + f);
        }
      }
      out.println("baseline: " + passing.size() + " of " + scenarios.size() + " files pass");
      out.flush();
      List<Outcome> outcomes = new ArrayList<>();
      for (Mutant m : mutants) {
        long started = System.nanoTime();
        Outcome o = null;
        int run = 0;
        for (Scenario s : passing) {
          progress.stage(m.cliName() + " " + s.file());
          CaseResult r = runner.apply(s.withMutants(Set.of(m)));
          run++;
          progress.add(1);
          if (!r.ok()) {
            String first = r.failures().isEmpty() ? "failed" : r.failures().get(0);
            o = new Outcome(m, s.file(), first, run, (System.nanoTime() - started) / 1_000_000);
            break;
          }
        }
        progress.add(passing.size() - run);
        if (o == null) o = new Outcome(m, null, null, run, (System.nanoTime() - started) / 1_000_000);
        outcomes.add(o);
        out.println((o.killed() ? "KILLED   " : "SURVIVED ") + m.cliName() + " (" + m.kernelFunction() + ", "
            + o.filesRun() + " files, " + o.wallMillis() + " ms)" + (o.killed() ? " by " + o.killedBy() : ""));
        if (o.killed()) out.println("  " + o.failure());
        out.flush();
      }
      return new Score(baselineFailures, outcomes);
    }
  }

  private int report(Score score, PrintStream out) {
    List<Outcome> os = score.outcomes();
    long killed = os.stream().filter(Outcome::killed).count();
    out.println(killed + " of " + os.size() + " mutants killed ("
        + (os.isEmpty() ? 0 : Math.round(1000.0 * killed / os.size()) / 10.0) + " %)");
    if (json) out.println(toJson(score));
    return killed == os.size() && score.baselineFailures().isEmpty() ? 0 : 1;
  }

  /** {"mutants", "killed", "survivors": [names], "baselineFailures": [files], "results": [{name, killedBy}]}. */
  static String toJson(Score score) {
    List<Outcome> os = score.outcomes();
    StringBuilder sb = new StringBuilder();
    sb.append("{\"mutants\": ").append(os.size()).append(", \"killed\": ")
        .append(os.stream().filter(Outcome::killed).count()).append(", \"survivors\": [");
    String sep = "";
    for (Outcome o : os) {
      if (o.killed()) continue;
      sb.append(sep).append(RunCommand.quote(o.mutant().cliName()));
      sep = ", ";
    }
    sb.append("], \"baselineFailures\": [");
    sep = "";
    for (String f : score.baselineFailures()) {
      sb.append(sep).append(RunCommand.quote(f));
      sep = ", ";
    }
    sb.append("], \"results\": [");
    sep = "";
    for (Outcome o : os) {
      sb.append(sep).append("{\"name\": ").append(RunCommand.quote(o.mutant().cliName()))
          .append(", \"kernelFunction\": ")
          .append(RunCommand.quote(o.mutant().kernelFunction())).append(", \"killedBy\": ")
          .append(o.killed() ? RunCommand.quote(o.killedBy()) : "null").append("}");
      sep = ", ";
    }
    return sb.append("]}").toString();
  }
}
