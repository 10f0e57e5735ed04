package hmmemu.cluster.cli;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.scenario.Explorer;
import hmmemu.cluster.scenario.Scenario;
import hmmemu.cluster.scenario.ScenarioException;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
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
 * {@code hmm-emu explore-bench [FILE...]}: issue 13's speed target (exhaustive search at 100,000 states per second on
 * one thread) measured on the explore files: for each, one exhaustive exploration (as {@code hmm-emu explore FILE
 * --strategy exhaustive}) and its states per second of wall and CPU time, three ways: every choice point run (the
 * replayed prefixes included), the states generated (the TLC-like count, without replays) and the distinct states.
 * It measures, so it exits 0 whether the target is met or MISSED. Emulator-only host mechanism.
 */
@Command(name = "explore-bench", mixinStandardHelpOptions = true,
    description = {"Measures exhaustive exploration's speed on scenario files (default: every file in "
        + "scenarios/explore): states per second of wall and CPU time counted three ways (every choice point run, "
        + "replayed prefixes included; states generated, the TLC-like count; distinct states), each against issue "
        + "13's target of 100,000 per second on one thread (met or MISSED).",
        "Exit 0 measured (met or MISSED), 2 bad input (nothing is measured then)."})
final class ExploreBenchCommand implements Callable<Integer> {
  /** Issue 13's target: states per second on one thread. */
  static final double TARGET = 100_000;

  @Parameters(arity = "0..*", paramLabel = "PATH", description = "Scenario files or directories (every *.conf "
      + "inside, sorted; default: scenarios/explore).")
  List<File> files = new ArrayList<>();
  @Option(names = "--budget", paramLabel = "N", description = "Schedules per file (default: ${DEFAULT-VALUE}).")
  int budget = 6000;
  @Option(names = "--depth", paramLabel = "D", description = "Deviation bound (default: ${DEFAULT-VALUE}).")
  int depth = 3;
  @Option(names = "--seed", paramLabel = "S", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed = 1;
  @Option(names = "--passes", paramLabel = "P", description = "Explorations per file in this JVM; the table shows "
      + "the last (later passes run with the JIT warm), a line the cheapest (default: ${DEFAULT-VALUE}).")
  int passes = 1;
  @Option(names = "--json", description = "End with one JSON line: {file: {schedules, states, generatedStates, "
      + "distinctStates, wallMillis, cpuMillis, statesPerSecond, statesPerCpuSecond, generatedStatesPerSecond, "
      + "generatedStatesPerCpuSecond, distinctStatesPerSecond, distinctStatesPerCpuSecond, copyMicros, copyObjects, "
      + "choicePointMicros, replayedPerGenerated, failed}}.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    PrintStream o = System.out;
    if (budget < 1) return usage("--budget must be at least 1, got " + budget);
    if (depth < 1) return usage("--depth must be at least 1, got " + depth);
    if (passes < 1) return usage("--passes must be at least 1, got " + passes);
    List<Path> paths = new ArrayList<>();
    if (files.isEmpty()) {
      Path dir = Path.of("scenarios", "explore");
      if (!Files.isDirectory(dir)) return usage("no files given and no " + dir + " here");
      files.add(dir.toFile());
    }
    // every file is read and parsed before the first measurement: bad input is one line and exit 2, not a table cut short
    List<Scenario> scenarios;
    try {
      scenarios = RunCommand.parseAll(files, paths);
      if (paths.isEmpty()) return usage("no scenario files (*.conf) in " + files);
    } catch (ScenarioException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    HmmEmuSettings settings = HmmEmuSettings.load(null, Map.of());
    o.println("hmm-emu explore-bench: exhaustive, --budget " + budget + " --depth " + depth + " --seed " + seed
        + (passes > 1 ? ", the last of " + passes + " passes per file" : "")
        + "; target " + fmt(TARGET) + " states/s on one thread; " + Runtime.getRuntime().availableProcessors()
        + " CPUs, Java " + System.getProperty("java.version"));
    o.println(String.format(Locale.ROOT, "%-36s %6s %8s %8s %8s %7s | %9s %-16s | %9s %-16s | %9s %-16s",
        "file", "sched", "states", "gener.", "distinct", "cpu ms", "states/s", "/cpu-s", "gener./s", "/cpu-s",
        "dist./s", "/cpu-s"));
    StringBuilder js = new StringBuilder("{");
    for (int i = 0; i < paths.size(); i++) {
      Path p = paths.get(i);
      Scenario scenario = scenarios.get(i);
      Explorer x = new Explorer(scenario, seed, settings.config);
      String why = x.unsupported();
      if (why != null) {
        o.println(p.getFileName() + ": not supported in the simulator: " + why);
        continue;
      }
      Explorer.Report r = null;
      StringBuilder cpu = new StringBuilder();
      long best = Long.MAX_VALUE;
      for (int pass = 0; pass < passes; pass++) {
        r = x.explore(Explorer.Strategy.EXHAUSTIVE, budget, depth);
        cpu.append(cpu.length() == 0 ? "" : ", ").append(r.cpuNanos() / 1_000_000);
        if (r.cpuNanos() > 0) best = Math.min(best, r.cpuNanos());
      }
      String name = p.getFileName().toString();
      // every pass explores the same schedules (one seed), so the cheapest pass is the least disturbed by other load
      if (passes > 1) o.println(name + ": CPU ms per pass: " + cpu + (best == Long.MAX_VALUE ? "" : String.format(
          Locale.ROOT, "; the cheapest pass (%d ms): %s states, %s generated, %s distinct per CPU second", best / 1_000_000,
          fmt(r.states() / (best / 1e9)), fmt(r.generatedStates() / (best / 1e9)), fmt(r.distinctStates() / (best / 1e9)))));
      o.println(String.format(Locale.ROOT, "%-36s %6d %8d %8d %8d %7d | %9s %-16s | %9s %-16s | %9s %-16s%s",
          name, r.schedules(), r.states(), r.generatedStates(), r.distinctStates(), r.cpuNanos() / 1_000_000,
          fmt(r.statesPerSecond()), mark(r.statesPerCpuSecond()), fmt(r.generatedStatesPerSecond()),
          mark(r.generatedStatesPerCpuSecond()), fmt(r.distinctStatesPerSecond()),
          mark(r.distinctStatesPerCpuSecond()), r.failure() == null ? "" : "  (stopped: " + r.failure().kind()
          + " in schedule " + r.failure().scheduleNumber() + ")"));
      // what a snapshot (restored instead of a replayed prefix) would cost against what the replay costs
      long[] cp = x.copyProbe(5);
      double copyMicros = cp[1] == 0 ? 0 : cp[2] / 1e3 / cp[1];
      double pointMicros = r.cpuNanos() / 1e3 / Math.max(1, r.states());
      double replayPerGenerated = (double) (r.states() - r.generatedStates()) / Math.max(1, r.generatedStates());
      o.println(String.format(Locale.ROOT, "%-36s snapshot probe: a deep copy of the simulator at a choice point "
          + "costs %.1f µs of CPU (%d objects, %d array slots, the longest array %d; %d copies over the %d choice "
          + "points of the seeded schedule); a choice "
          + "point run costs %.1f µs, and the search replayed %.1f of them per state generated (%.1f µs)", "",
          copyMicros, cp[3], cp[4], cp[5], cp[1], cp[0], pointMicros, replayPerGenerated, replayPerGenerated * pointMicros));
      if (js.length() > 1) js.append(", ");
      js.append(RunCommand.quote(name)).append(": {\"schedules\": ").append(r.schedules())
          .append(", \"states\": ").append(r.states()).append(", \"generatedStates\": ").append(r.generatedStates())
          .append(", \"distinctStates\": ").append(r.distinctStates())
          .append(", \"wallMillis\": ").append(r.wallNanos() / 1_000_000)
          .append(", \"cpuMillis\": ").append(r.cpuNanos() / 1_000_000)
          .append(", \"statesPerSecond\": ").append(fmt(r.statesPerSecond()))
          .append(", \"statesPerCpuSecond\": ").append(fmt(r.statesPerCpuSecond()))
          .append(", \"generatedStatesPerSecond\": ").append(fmt(r.generatedStatesPerSecond()))
          .append(", \"generatedStatesPerCpuSecond\": ").append(fmt(r.generatedStatesPerCpuSecond()))
          .append(", \"distinctStatesPerSecond\": ").append(fmt(r.distinctStatesPerSecond()))
          .append(", \"distinctStatesPerCpuSecond\": ").append(fmt(r.distinctStatesPerCpuSecond()))
          .append(", \"copyMicros\": ").append(String.format(Locale.ROOT, "%.1f", copyMicros))
          .append(", \"copyObjects\": ").append(cp[3])
          .append(", \"choicePointMicros\": ").append(String.format(Locale.ROOT, "%.1f", pointMicros))
          .append(", \"replayedPerGenerated\": ").append(String.format(Locale.ROOT, "%.1f", replayPerGenerated))
          .append(", \"failed\": ").append(r.failure() != null).append('}');
    }
    o.println("per CPU second: \"*\" marks a figure that meets " + fmt(TARGET) + "/s, \"MISSED\" one that does not;"
        + " a file whose first schedule fails stops there (too few states to measure)");
    if (json) o.println(js.append('}'));
    return 0;
  }

  private static int usage(String what) {
    System.err.println("hmm-emu explore-bench: " + what);
    return 2;
  }

  /** A per-CPU-second figure with its verdict against the target. */
  private static String mark(double v) { return fmt(v) + (v >= TARGET ? "*" : " MISSED"); }

  private static String fmt(double v) { return String.format(Locale.ROOT, "%.0f", v); }
}
