package hmmemu.cluster.cli;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.demo.DemoReport;
import hmmemu.cluster.demo.Experiment;
import hmmemu.node.link.Link;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hmmemu.report.RunRecorder;
import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hmm-emu demo}: the headline experiment on an embedded one-JVM cluster (1 CPU node, N GPU nodes). */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Runs the headline experiment with the kernel's folio lock and with it released early.",
        "Both arms use the same seed: (a) the kernel's folio lock, (b) the folio unlocked right after conversion "
            + "(docs/PROTOCOL.md §8 R9). Prints a table; exits 1 on a violated invariant or a lost increment."})
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--json", description = "Print the result as one JSON object on the last line of stdout.")
  boolean json;
  @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file that overrides reference.conf.")
  File config;
  @Mixin WorkloadOptions workload;
  @Option(names = "--arms", split = ",", description = "Arms to run: kernel, early-unlock (default both).")
  List<String> arms;
  @Option(names = "--link", description = "Send host-device traffic through the modelled link of hmm-emu.link "
      + "(delays, faults and the data link layer; docs/LATENCY.md, docs/FAULTS.md) instead of directly.")
  boolean link;
  @picocli.CommandLine.Mixin FastForwardOptions fastForward;

  @Option(names = "--sim", description = "Run in the deterministic simulator (one thread, virtual time, the "
      + "modelled link of hmm-emu.link; --seed replays a run exactly) instead of an embedded cluster.")
  boolean sim;
  @Option(names = "--one-way", paramLabel = "DURATION", description = "With --sim: a constant one-way delay (model "
      + "time) on every host-device direction instead of hmm-emu.link's delays, as a sweep --sim row has (its replay "
      + "lines use it).")
  String oneWay;
  @Option(names = "--seeds", paramLabel = "N", description = "With --sim: run N seeds (--first-seed S, default 1:"
      + " seeds S..S+N-1), every selected arm of each, in one JVM; judge each seed as a single-seed run (no violation,"
      + " no lost increment) and print a summary: the failing seeds with a replay line each, per arm the cancels and"
      + " driver deadline spins as proportions over the seeds, events per CPU second, the fast-forward totals. Exit 1"
      + " when a seed failed. Not with --seed (a replay) or --out.")
  Integer seeds;
  @Option(names = "--first-seed", paramLabel = "S", description = "With --seeds: the first seed (default 1).")
  Long firstSeed;
  @Option(names = "--threads", paramLabel = "T", description = "With --seeds: seeds simulated at once, one per thread"
      + " (each run is single-threaded and deterministic; results come back in seed order, so the output does not"
      + " depend on it, except the times; default: the available processors).")
  Integer threads;
  @Mixin RecordOptions record;
  @Option(names = "--no-warm-up", description = "On the embedded cluster: measure the first arm on a cold JVM (by "
      + "default the first selected arm first runs once, unmeasured, at time-scale 1.0 with a short workload: a cold JVM's "
      + "first steps take milliseconds of real time, model time at a high time scale; docs/RESULTS.md \"The first arm "
      + "ran on a cold JVM\").")
  boolean noWarmUp;

  /** The flags of a run of many seeds, checked before anything runs: a bad combination is one line, exit 2. */
  private void checkSeeds() {
    String only = seeds != null ? "--seeds" : firstSeed != null ? "--first-seed" : threads != null ? "--threads" : null;
    if (only == null) return;
    if (!sim) throw new hmmemu.cluster.SettingsException(only + ": only with --sim");
    if (seeds == null) throw new hmmemu.cluster.SettingsException(only + ": only with --seeds N");
    if (workload.seed != null) {
      throw new hmmemu.cluster.SettingsException("give --seeds N [--first-seed S] or --seed S (a replay), not both");
    }
    if (seeds < 1) throw new hmmemu.cluster.SettingsException("--seeds: must be at least 1, got " + seeds);
    if (threads != null && threads < 1) {
      throw new hmmemu.cluster.SettingsException("--threads: must be at least 1, got " + threads);
    }
    if (firstSeed != null && (firstSeed < 0 || firstSeed > Long.MAX_VALUE - seeds)) {
      throw new hmmemu.cluster.SettingsException("--first-seed: must be between 0 and " + (Long.MAX_VALUE - seeds)
          + ", got " + firstSeed);
    }
    if (record.out != null) {
      throw new hmmemu.cluster.SettingsException("--out: not with --seeds (a run record keeps one seed's run: replay"
          + " it with --seed S --out DIR)");
    }
  }

  /** What the report shows at the top: the workload and the switches that differ between runs. */
  static ObjectNode settingsNode(HmmEmuSettings s, List<String> arms, boolean link) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    HmmEmuSettings.Demo d = s.demo;
    o.put("arms", String.join(", ", arms));
    o.put("gpuNodes", d.gpuNodes());
    o.put("warpsPerDevice", d.warpsPerDevice());
    o.put("opsPerWarp", d.opsPerWarp());
    o.put("cpuThreads", d.cpuThreads());
    o.put("opsPerThread", d.opsPerThread());
    o.put("counters", d.counters());
    o.put("counterPages", d.counterPages());
    o.put("seed", d.seed());
    o.put("timeScale", s.timeScale);
    o.put("link", link ? "modelled (hmm-emu.link)" : "direct");
    return o;
  }

  @Override
  public Integer call() {
    record.check();
    Map<String, Object> o = new HashMap<>();
    workload.putInto(o);
    HmmEmuSettings settings = HmmEmuSettings.load(config, o);
    // a bad hmm-emu.link value is refused here (exit 2, one line) even when the run never uses the link (an
    // embedded cluster without --link), as every command refuses a bad setting before anything runs
    hmmemu.cluster.demo.SimDemo.link(settings, -1);
    List<String> selected = WorkloadOptions.arms(arms);
    if (oneWay != null && !sim) throw new hmmemu.cluster.SettingsException("--one-way: only with --sim");
    checkSeeds();
    if (sim) {
      double hop = oneWay == null ? -1 : SimSweep.oneWayMicros("--one-way", oneWay, settings);
      if (seeds != null) {
        hmmemu.cluster.demo.SimRuns runs = fastForward.runs();
        String replayFlags = (oneWay != null ? " --one-way " + oneWay : "") + workload.flags()
            + (config != null ? " --config " + config.getPath() : "")
            + (runs.fastForward() ? " --fast-forward" : hmmemu.sim.Sim.fastForwardByDefault() ? " --no-fast-forward" : "");
        return SimDemoSeeds.run(System.out, settings, selected, hop, firstSeed != null ? firstSeed : 1, seeds,
            threads != null ? threads : Runtime.getRuntime().availableProcessors(), json, record.quiet, replayFlags,
            runs);
      }
      String replay = "hmm-emu demo --sim --seed " + settings.demo.seed() + (oneWay != null ? " --one-way " + oneWay : "")
          + " --arms " + String.join(",", selected) + workload.flags()
          + (config != null ? " --config " + config.getPath() : "");
      // The simulator leaves a run record only when asked (--out): a 2-GPU-node arm makes tens of millions of events.
      List<RunRecorder> recs = record.out != null ? new ArrayList<>() : null;
      hmmemu.cluster.demo.SimRuns runs = fastForward.runs();
      int code;
      // a two-GPU-node arm simulates for minutes: progress on stderr (the arm, its seed, the events so far)
      try (Progress progress = new Progress("arms", selected.size(), record.quiet).events(runs::events)) {
        code = hmmemu.cluster.demo.SimDemo.run(System.out, settings, selected, json, hop, recs, record.cap(), replay,
            runs, new hmmemu.cluster.demo.SimDemo.Watch() {
              @Override
              public void arm(String name, long seed) { progress.stage("arm '" + name + "', seed " + seed); }

              @Override
              public void armDone() { progress.one(); }

              @Override
              public void say(String line) { progress.say(System.out, line); }

              @Override
              public void allDone() { progress.close(); }
            });
      }
      if (recs != null) {
        ObjectNode shown = settingsNode(settings, selected, true);
        shown.put("simulated", true);
        if (oneWay != null) shown.put("oneWay", oneWay);
        record.write("demo", "{\"ok\": " + (code == 0) + ", \"simulated\": true}", shown, recs, null,
            json ? System.err : System.out);
      }
      return code;
    }
    if (!json) System.out.println("starting an embedded cluster (1 CPU node, "
        + settings.demo.gpuNodes() + " GPU nodes) per arm...");
    if (!noWarmUp && !json) System.out.println("warming the JVM up: the first arm once at time-scale 1.0, not measured...");
    hmmemu.cluster.demo.WarmUp.Summary warm = hmmemu.cluster.demo.WarmUp.unless(noWarmUp, settings, selected, link, json);
    List<Experiment.RunResult> results = new ArrayList<>();
    List<RunRecorder> recorders = new ArrayList<>();
    int cap = record.cap();
    Progress progress = new Progress("operations", Experiment.operations(settings.demo) * selected.size(), record.quiet);
    try {
    for (String a : selected) {
      boolean kernel = a.equals("kernel");
      String name = kernel ? "folio-lock (kernel)" : "early-unlock (ablation)";
      RunRecorder recorder = new RunRecorder(name, cap);
      recorders.add(recorder);
      Experiment.Hooks hooks = new Experiment.Hooks(recorder, progress::one);
      progress.stage("arm '" + name + "'");
      if (!link) {
        results.add(Experiment.runArm(name, settings, settings.switches.withFolioLockUntilMapped(kernel), Link.DIRECT,
            hooks));
      } else {
        LinkSettings ls;
        try {
          ls = LinkSettings.fromConfig(settings.config);
        } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
          throw new hmmemu.cluster.SettingsException(e.getMessage());
        }
        try (ModeledLink modeled = new ModeledLink(ls, settings.demo.seed(), settings.timeScale, Link.DIRECT)) {
          results.add(Experiment.runArm(name, settings, settings.switches.withFolioLockUntilMapped(kernel), modeled,
              hooks));
          hmmemu.cluster.check.Recording.linkStats(recorder, modeled);
          if (!json) modeled.stats().values().forEach(st -> System.out.println("    link " + st));
        }
      }
      if (!json) System.out.println("  arm '" + name + "' done");
    }
    } finally {
      progress.close();
    }
    DemoReport.print(System.out, settings, results, json);
    ObjectNode shown = settingsNode(settings, selected, link);
    shown.put("warmUp", warm == null ? "none (--no-warm-up): the first arm ran on a cold JVM" : warm.toString());
    // The record's path goes to stdout unless --json keeps stdout to the one JSON line; then to stderr.
    record.write("demo", DemoReport.toJson(results, 0), shown, recorders, null, json ? System.err : System.out);
    return results.stream().allMatch(Experiment.RunResult::ok) ? 0 : 1;
  }
}
