package hmmemu.cluster.cli;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.scenario.Explorer;
import hmmemu.cluster.scenario.Scenario;
import hmmemu.cluster.scenario.ScenarioException;
import hmmemu.cluster.scenario.ScenarioParser;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hmm-emu explore FILE [--strategy random|pct|exhaustive] [--budget N] [--depth D] [--seed S]
 * [--max-delay D] [--max-runs R] [--max-states S] [--out DIR] [--json] [--quiet]}: explores the schedules of one scenario file in the simulator (issue 13,
 * docs/TESTING.md "Exploration"; hmmemu.cluster.scenario.Explorer), with each event's delay bounded by
 * {@code --max-delay} (hmmemu.sim.DelayBound) or not, until one fails, then shrinks the failing schedule and writes it as a scenario
 * file with pause points. Exit 0 when no schedule failed, 1 when one did, 2 on bad input.
 */
@Command(name = "explore", mixinStandardHelpOptions = true,
    description = {"Explores the interleavings of a scenario file in the simulator (random walk, PCT, or bounded "
        + "exhaustive search with state caching) until a schedule fails (violation, expectation, deadlock, livelock, "
        + "timeout), shrinks it (ddmin) and writes a replayable scenario file with pause points.",
        "Exit 0 no failing schedule within the budget, 1 one failed, 2 bad input."})
final class ExploreCommand implements Callable<Integer> {
  @Parameters(arity = "1", paramLabel = "FILE", description = "A scenario file.")
  File file;
  @Option(names = "--strategy", paramLabel = "S", description = "random, pct (default) or exhaustive.")
  String strategy = "pct";
  @Option(names = "--budget", paramLabel = "N", description = "At most N schedules (default "
      + Explorer.DEFAULT_BUDGET + ").")
  int budget = Explorer.DEFAULT_BUDGET;
  @Option(names = "--depth", paramLabel = "D", description = "pct: the bug depth d (default "
      + Explorer.DEFAULT_PCT_DEPTH + "); exhaustive: at most D deviations from the seeded order (default "
      + Explorer.DEFAULT_EXHAUSTIVE_DEPTH + ").")
  Integer depth;
  @Option(names = "--seed", paramLabel = "S", description = "The simulator's seed and the strategy's (default 1).")
  long seed = 1;
  @Option(names = "--out", paramLabel = "DIR", description = "Where the shrunk reproduction goes (default: a new "
      + "directory under the system's temporary directory, printed).")
  File out;
  @Option(names = "--links-only", description = "Offer only link arrivals as choices, not controller hops and replies "
      + "or timers (which keep their seeded timing): every found schedule can then be written with pause points.")
  boolean linksOnly;
  @Option(names = "--order", description = "Write the shrunk failure with every node's inputs pinned (an order block,"
      + " docs/SCENARIOS.md \"Pinning every order\"); pause points only if that does not replay.")
  boolean order;
  @Option(names = "--max-delay", paramLabel = "D", description = "Bounded delay: the scheduler may reorder events "
      + "but postpone none more than D of model time past the instant it was due (50us, 1ms, 0, unbounded; default "
      + "unbounded). Models bounded preemption and IRQ latency, which timed expectations assume.")
  String maxDelay = "unbounded";
  @Option(names = "--max-runs", paramLabel = "R", description = "random, pct: stop once R runs were simulated, even "
      + "within the budget (a schedule repeating one already run is counted, not simulated again; default: no limit).")
  Integer maxRuns;
  @Option(names = "--max-states", paramLabel = "S", description = "exhaustive: stop, not exhausted, once the runs "
      + "visited S choice points in all (replayed prefixes included), even within the budget (default: no limit).")
  Long maxStates;
  @Option(names = "--no-shrink", description = "Report the failing schedule without shrinking it.")
  boolean noShrink;
  /** --fast-forward: each run jumps a deadline spin whose observed rounds met no choice point (hmmemu.sim.ScheduledJump). */
  @picocli.CommandLine.Mixin FastForwardOptions fastForward;
  @Option(names = "--json", description = "End with one JSON line: {\"ok\", \"strategy\", \"schedules\", "
      + "\"exhausted\", \"simulatedRuns\", "
      + "\"distinctStates\", \"statesPerSecond\", \"statesPerCpuSecond\", \"states\", \"distinctStatesPerSecond\", "
      + "\"distinctStatesPerCpuSecond\", \"generatedStates\", \"generatedStatesPerSecond\", "
      + "\"generatedStatesPerCpuSecond\", \"choicePoints\": {kind: count}, \"maxDelayNanos\": null | ns, "
      + "\"failure\": null | {\"kind\", \"schedule\", \"shrunkFile\", \"shrunkSteps\", \"scheduleNumber\", "
      + "\"shrunkDeviations\"}}.")
  boolean json;
  @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file over reference.conf (hmm-emu.link, "
      + "hmm-emu.faults.folio-lock-lease).")
  File config;
  @Option(names = {"-q", "--quiet"}, description = "No progress on stderr (schedules tried of the budget, failures "
      + "found, every few seconds).")
  boolean quiet;

  @Override
  public Integer call() {
    PrintStream o = System.out;
    Explorer.Strategy st;
    try {
      st = Explorer.Strategy.valueOf(strategy.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return usage("--strategy: expected random, pct or exhaustive, got \"" + strategy + "\"");
    }
    if (budget < 1) return usage("--budget must be at least 1, got " + budget);
    if (maxStates != null && maxStates < 1) return usage("--max-states must be at least 1, got " + maxStates);
    if (maxRuns != null && maxRuns < 1) return usage("--max-runs must be at least 1, got " + maxRuns);
    if (depth != null && depth < 1) return usage("--depth must be at least 1, got " + depth);
    long bound;
    try {
      bound = hmmemu.sim.DelayBound.parseNanos(maxDelay);
    } catch (IllegalArgumentException e) {
      return usage("--max-delay: " + e.getMessage());
    }
    if (file.isDirectory()) return usage(file + " is a directory: explore takes one scenario file");
    if (!file.isFile()) return usage("no such file: " + file);
    Scenario scenario;
    try {
      scenario = ScenarioParser.parse(file.toPath());
    } catch (ScenarioException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    HmmEmuSettings settings = HmmEmuSettings.load(config, Map.of());
    // a bad hmm-emu.link value is refused here (exit 2, one line), not as 'explore failed' (exit 1) from a run
    hmmemu.cluster.demo.SimDemo.link(settings, -1);
    Explorer x = new Explorer(scenario, seed, settings.config).linksOnly(linksOnly).pinOrder(order).maxDelay(bound)
        .maxRuns(maxRuns == null ? 0 : maxRuns).maxStates(maxStates == null ? 0 : maxStates)
        .fastForward(fastForward.on());
    String why = x.unsupported();
    if (why != null) return usage(file + ": not supported in the simulator: " + why);
    String name = st.name().toLowerCase(Locale.ROOT);
    long[] ff0 = hmmemu.cluster.demo.SimRuns.jvmTotals();
    // a long file at budget 1,000 explores for minutes: progress on stderr, read from the explorer by the ticker
    // thread (display only: nothing enters the exploration); stdout's lines go through say (no garbled bar)
    Progress progress = new Progress("schedules", budget, quiet).done(x::schedulesTried);
    try {
      progress.stage("0 failures found");
      Explorer.Report r = x.explore(st, budget, depth == null ? 0 : depth);
      hmmemu.cluster.demo.SimRuns runs = fastForward.runs();
      runs.addSince(ff0); // the explorer makes its simulators: the JVM's figures since it started
      String delayArg = bound < 0 ? "" : " --max-delay " + hmmemu.sim.DelayBound.text(bound);
      progress.say(o, "explore " + file + " --strategy " + name + " --seed " + seed + delayArg + ": " + r.schedules() + " schedule(s)"
          + (r.exhausted() ? " (the bounded space is exhausted)" : "")
          + (st != Explorer.Strategy.EXHAUSTIVE && x.simulatedRuns() < r.schedules() ? " (" + x.simulatedRuns()
          + " simulated, the others repeat one of them)" : "") + ", " + r.states() + " states visited, "
          + r.distinctStates() + " distinct, " + fmt(r.statesPerSecond()) + " states/s ("
          + fmt(r.distinctStatesPerSecond()) + " distinct/s) in " + r.wallNanos() / 1_000_000 + " ms"
          + (r.cpuNanos() > 0 ? "; " + fmt(r.statesPerCpuSecond()) + " states per CPU second of the exploring thread ("
          + r.cpuNanos() / 1_000_000 + " ms of CPU)" : "")
          + (r.generatedStates() != r.states() ? "; " + r.generatedStates() + " states generated (without the "
          + (r.states() - r.generatedStates()) + " replayed): " + fmt(r.generatedStatesPerSecond()) + "/s"
          + (r.cpuNanos() > 0 ? ", " + fmt(r.generatedStatesPerCpuSecond()) + " per CPU second" : "") : ""));
      Explorer.Shrunk s = null;
      String shrunkFile = null;
      if (runs.fastForward()) progress.say(o, runs.totalsLine());
      if (r.failure() == null) {
        progress.say(o, "no failing schedule");
      } else {
        Explorer.Failure f = r.failure();
        progress.say(o, "FAIL " + f.kind() + " in schedule " + f.scheduleNumber() + " (" + f.schedule().length
            + " choice points): " + f.firstFailure());
        progress.say(o, "  schedule: " + compact(f.schedule()));
        progress.stage("1 failure found (schedule " + f.scheduleNumber() + ")" + (noShrink ? "" : ", shrinking (ddmin)"));
        if (!noShrink) {
          try {
            Path dir = out != null ? out.toPath() : Files.createTempDirectory("hmm-emu-explore-");
            String cmd = "hmm-emu explore " + file + " --strategy " + name + " --seed " + seed
                + (depth == null ? "" : " --depth " + depth) + delayArg + (linksOnly ? " --links-only" : "") + (order ? " --order" : "")
                + (maxRuns == null ? "" : " --max-runs " + maxRuns) + (maxStates == null ? "" : " --max-states " + maxStates);
            s = x.shrink(f, file.toPath(), dir, cmd);
          } catch (IOException e) {
            return usage("cannot write the shrunk file: " + e.getMessage());
          }
          progress.say(o, "  shrunk (ddmin, " + s.replays() + " replays): " + s.deviations() + " deviation(s) from the seeded"
              + " order, schedule " + compact(s.schedule()));
          if (s.file() != null) {
            shrunkFile = s.file().toString();
            progress.say(o, "  reproduction: " + shrunkFile + " (" + s.fileSteps() + " steps; replay: hmm-emu sim "
                + shrunkFile + ", hmm-emu run " + shrunkFile + ")");
          } else {
            progress.say(o, "  no pause-point file: " + s.why());
          }
        }
      }
      progress.close(); // the bar ends before the JSON line (stdout's last)
      if (json) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\"ok\": ").append(r.failure() == null).append(", \"strategy\": \"").append(name)
            .append("\", \"schedules\": ").append(r.schedules())
            // exhausted: an exhaustive search ran every schedule within its deviation bound (fewer than the budget)
            .append(", \"exhausted\": ").append(r.exhausted())
            .append(", \"simulatedRuns\": ")
            .append(st == Explorer.Strategy.EXHAUSTIVE ? r.schedules() : x.simulatedRuns())
            .append(", \"distinctStates\": ")
            .append(r.distinctStates()).append(", \"statesPerSecond\": ").append(fmt(r.statesPerSecond()))
            .append(", \"statesPerCpuSecond\": ").append(fmt(r.statesPerCpuSecond()))
            // states counts every choice point of every run, the replayed prefixes included; distinct states count
            // each state key once (docs/TESTING.md "States per second")
            .append(", \"states\": ").append(r.states())
            .append(", \"distinctStatesPerSecond\": ").append(fmt(r.distinctStatesPerSecond()))
            .append(", \"distinctStatesPerCpuSecond\": ").append(fmt(r.distinctStatesPerCpuSecond()))
            // generated states: the TLC-like count, without the choice points of replayed prefixes
            .append(", \"generatedStates\": ").append(r.generatedStates())
            .append(", \"generatedStatesPerSecond\": ").append(fmt(r.generatedStatesPerSecond()))
            .append(", \"generatedStatesPerCpuSecond\": ").append(fmt(r.generatedStatesPerCpuSecond()))
            .append(", \"choicePoints\": {");
        String sep = "";
        for (java.util.Map.Entry<String, Long> k : r.choicePoints().entrySet()) {
          sb.append(sep).append(RunCommand.quote(k.getKey())).append(": ").append(k.getValue());
          sep = ", ";
        }
        sb.append("}, \"maxDelayNanos\": ").append(bound < 0 ? "null" : Long.toString(bound));
        sb.append(", \"failure\": ");
        if (r.failure() == null) {
          sb.append("null");
        } else {
          int[] sched = s != null ? s.schedule() : r.failure().schedule();
          sb.append("{\"kind\": \"").append(r.failure().kind()).append("\", \"schedule\": ")
              .append(Arrays.toString(sched).replace(" ", "")).append(", \"shrunkFile\": ")
              .append(shrunkFile == null ? "null" : RunCommand.quote(shrunkFile)).append(", \"shrunkSteps\": ")
              .append(s == null || s.file() == null ? "null" : Integer.toString(s.fileSteps()))
              .append(", \"scheduleNumber\": ").append(r.failure().scheduleNumber())
              .append(", \"shrunkDeviations\": ").append(s == null ? "null" : Integer.toString(s.deviations()))
              .append('}');
        }
        o.println(sb.append('}'));
      }
      return r.failure() == null ? 0 : 1;
    } finally {
      progress.close();
    }
  }

  /** A schedule with its runs of the seeded choice folded: 0x12,2,0x5. */
  private static String compact(int[] s) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < s.length;) {
      int j = i;
      while (j < s.length && s[j] == s[i]) j++;
      if (sb.length() > 1) sb.append(',');
      sb.append(s[i]);
      if (j - i > 1) sb.append('x').append(j - i);
      i = j;
    }
    return sb.append("] (value x count)").toString();
  }

  private static String fmt(double v) { return String.format(Locale.ROOT, "%.0f", v); }

  private static int usage(String what) {
    System.err.println("hmm-emu explore: " + what);
    return 2;
  }
}
