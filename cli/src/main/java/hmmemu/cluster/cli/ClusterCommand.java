package hmmemu.cluster.cli;

import hmmemu.node.link.FaultRoutes;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.ProcessCluster;
import hmmemu.cluster.SettingsException;
import hmmemu.cluster.demo.DemoReport;
import hmmemu.cluster.demo.Experiment;
import hmmemu.cluster.ClusterHandle;
import hmmemu.cluster.check.ClockAlignment;
import hmmemu.cluster.check.Recording;
import hmmemu.node.ModelClock;
import hmmemu.node.link.FaultSchedule;
import hmmemu.node.link.InjectedFaults;
import hmmemu.report.RunRecorder;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hmm-emu cluster}: the headline experiment on a local cluster of separate JVM processes. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
    description = {"Runs the headline experiment on 1 CPU node and N GPU nodes, each a separate JVM.",
        "This process is the controller and hosts the invariant checker. It waits until every member is Up, runs "
            + "the experiment across them and stops every child, also on Ctrl-C, on failure or when it is killed."})
final class ClusterCommand implements Callable<Integer> {
  @Option(names = "--cpu", defaultValue = "1", description = "CPU nodes (only 1 is supported: one host mm).")
  int cpuNodes;
  @Option(names = "--gpu", defaultValue = "2",
      description = "GPU nodes (default ${DEFAULT-VALUE}; with --scenario: the scenario's, or N when given and more).")
  int gpuNodes;
  @Option(names = "--json", description = "Print the result as one JSON object on the last line of stdout.")
  boolean json;
  @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file that overrides reference.conf.")
  File config;
  @Option(names = "--seed", description = "Seed for the counter choice (default: hmm-emu.demo.seed).") Long seed;
  @Option(names = "--warps", description = "Warps per device (default: hmm-emu.demo.warps-per-device, 2).")
  Integer warps;
  @Option(names = "--ops-per-warp", description = "Atomic increments per warp (default: hmm-emu.demo.ops-per-warp, 4).")
  Integer opsPerWarp;
  @Option(names = "--cpu-threads", description = "CPU threads (default: hmm-emu.demo.cpu-threads, 2).")
  Integer cpuThreads;
  @Option(names = "--ops-per-thread",
      description = "Atomic increments per CPU thread (default: hmm-emu.demo.ops-per-thread, 100).")
  Integer opsPerThread;
  @Option(names = "--time-scale", description = "Real µs per model µs (default: hmm-emu.time-scale, 1.0).")
  Double timeScale;
  @Option(names = "--arms", split = ",", description = "Arms to run: kernel, early-unlock (default both).")
  List<String> arms;
  @Option(names = "--fault", paramLabel = "LINE",
      description = "A fault-schedule line, repeatable, e.g. \"at 5s crash gpu1\", \"at 2s pause gpu2 for 1s\" "
          + "(SIGSTOP/SIGCONT), \"at 8s restart gpu1\" (a new JVM under the next node index, e.g. gpu3) or "
          + "\"at 1s add 5ms to cpu0->gpu1 for 3s\". Times count from the start of each arm's workload.")
  List<String> faultLines = List.of();
  @Option(names = "--faults", paramLabel = "FILE", description = "A file of fault-schedule lines (as --fault).")
  File faultsFile;
  @Option(names = "--scenario", paramLabel = "FILE",
      description = {"Run a scenario file (or every *.conf of a directory) across separate JVMs instead of the "
          + "experiment: same output, verdict and exit codes as 'hmm-emu run' (0 passed, 1 a failure, 2 a malformed "
          + "scenario, or one whose restarts would go beyond gpu15). Pause points and invalidation counts travel as "
          + "cluster messages; a crash is a SIGKILL of the node's JVM, a restart a new JVM (docs/SCENARIOS.md, "
          + "\"Across separate JVMs\"). Consecutive files reuse the running node JVMs (a new node incarnation per "
          + "file: new node actors, checker and links; messages of an earlier file are dropped); a file with a faults "
          + "block or a crash or restart step, or that needs another number of GPU node JVMs, gets new ones."})
  File scenario;
  @Option(names = "--fresh-jvms",
      description = "With --scenario: start new node JVMs for every file (and every kernel profile of a file) instead "
          + "of reusing the running ones.")
  boolean freshJvms;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @CommandLine.Mixin TlsOptions tls = new TlsOptions();

  @picocli.CommandLine.Mixin RecordOptions record;

  @Override
  public Integer call() throws Exception {
    record.check();
    if (cpuNodes != 1) throw new SettingsException("--cpu: only 1 CPU node is supported (one host mm), got " + cpuNodes);
    if (gpuNodes < 1 || gpuNodes > 15) throw new SettingsException("--gpu: must be in [1, 15], got " + gpuNodes);
    if (scenario != null) return runScenarios();
    if (freshJvms) throw new SettingsException("--fresh-jvms applies only with --scenario");
    FaultSchedule faults = faults();
    Map<String, Object> o = new HashMap<>(tls.overrides());
    o.put("hmm-emu.demo.gpu-nodes", gpuNodes);
    if (seed != null) o.put("hmm-emu.demo.seed", seed);
    if (warps != null) o.put("hmm-emu.demo.warps-per-device", warps);
    if (opsPerWarp != null) o.put("hmm-emu.demo.ops-per-warp", opsPerWarp);
    if (cpuThreads != null) o.put("hmm-emu.demo.cpu-threads", cpuThreads);
    if (opsPerThread != null) o.put("hmm-emu.demo.ops-per-thread", opsPerThread);
    if (timeScale != null) o.put("hmm-emu.time-scale", timeScale);
    HmmEmuSettings settings = HmmEmuSettings.load(config, o);
    hmmemu.cluster.NodeConfig.Tls.of(settings.config).validated();
    // the children refuse a bad hmm-emu.link value at start-up: refuse it here, before any JVM starts (exit 2)
    hmmemu.cluster.demo.SimDemo.link(settings, -1);
    List<String> selected = WorkloadOptions.arms(arms); // all checked before the first arm's JVMs start
    List<Experiment.RunResult> results = new ArrayList<>();
    List<hmmemu.report.RunRecorder> recorders = new ArrayList<>();
    int processes = 0;
    Progress progress = new Progress("operations", Experiment.operations(settings.demo) * selected.size(), record.quiet);
    try {
    for (String a : selected) {
      if (!a.equals("kernel") && !a.equals("early-unlock")) {
        throw new SettingsException("--arms: unknown arm '" + a + "' (kernel, early-unlock)");
      }
      boolean kernel = a.equals("kernel");
      Map<String, String> sets = new HashMap<>();
      sets.put("hmm-emu.model.folio-lock-until-mapped", Boolean.toString(kernel));
      sets.put("hmm-emu.time-scale", Double.toString(settings.timeScale));
      String name = kernel ? "folio-lock (kernel)" : "early-unlock (ablation)";
      if (!json) progress.say(System.out, "launching 1 CPU + " + gpuNodes + " GPU node JVMs for arm '" + name + "'...");
      long started = System.nanoTime();
      // The children read the same --config file (link model, Pekko settings) as this controller.
      List<String> childArgs = config == null ? List.of() : List.of("--config", config.getAbsolutePath());
      try (ProcessCluster c = ProcessCluster.start(settings.config, gpuNodes, sets, childArgs, Duration.ofSeconds(60))) {
        if (!json && c.managementUri() != null) {
          String hp = c.managementUri().replaceFirst("^http://", "").replaceFirst("/$", "");
          progress.say(System.out, "management at " + c.managementUri() + " (hmm-emu inject --node " + hp
              + " \"FAULT\"; hmm-emu status --node " + hp + ")");
          progress.say(System.out, "management token " + c.managementToken() + " (in "
              + hmmemu.node.link.FaultRoutes.tokenFile(java.net.URI.create(c.managementUri()).getPort())
              + ", where hmm-emu inject and status on this machine read it)");
        }
        List<CompletableFuture<Void>> running = new ArrayList<>();
        // Each JVM's model clock counts from its own start: the record brings every node's times to this
        // controller's model clock (docs/OBSERVABILITY.md, "Clocks"), on which the fault windows are drawn.
        ModelClock clock = ModelClock.scaledWall(settings.timeScale);
        hmmemu.report.RunRecorder recorder = new hmmemu.report.RunRecorder(name, record.cap());
        recorders.add(recorder);
        ClockAlignment.Result aligned = ClockAlignment.measure(c.controlSystem(), clock, Duration.ofSeconds(5));
        aligned.offsets().forEach(recorder::clockOffset);
        recorder.counter("clock", "nodesAligned", aligned.offsets().size());
        recorder.counter("clock", "alignmentUncertaintyMicros", aligned.uncertaintyMicros());
        recorder.origin(clock.nowMicros());
        hmmemu.cluster.check.Recording.attach(c, recorder);
        FaultWindows windows = new FaultWindows(c, clock, settings.timeScale);
        progress.stage("arm '" + name + "'");
        try (AutoCloseable injected = InjectedFaults.of(c.controlSystem()).listen(windows::injected)) {
          results.add(Experiment.run(name, settings, c, started, () -> {
            if (!faults.isEmpty()) {
              running.add(c.runFaults(faults, line -> {
                if (!json) progress.say(System.out, "  " + line);
              }, windows::step));
            }
          }, progress::one));
        } finally {
          running.forEach(f -> f.cancel(false));
          windows.close();
        }
        hmmemu.cluster.check.Recording.detach(c);
        processes = Math.max(processes, c.processes());
      }
    }
    } finally {
      progress.close();
    }
    DemoReport.print(System.out, settings, results, json, processes);
    com.fasterxml.jackson.databind.node.ObjectNode shown = DemoCommand.settingsNode(settings, selected, true);
    shown.put("processes", processes);
    shown.put("faults", String.join("; ", faultLines));
    record.write("cluster", DemoReport.toJson(results, processes), shown, recorders, null,
        json ? System.err : System.out);
    return results.stream().allMatch(Experiment.RunResult::ok) ? 0 : 1;
  }

  /**
   * The run record's fault windows of one arm, on the controller's model clock, as {@code run} draws a scenario's
   * (docs/OBSERVABILITY.md): a step with {@code for} is a window from its start to its end (a link fault's: its
   * {@code for} long, as each node ends it itself), one without is a point;
   * a schedule injected through the management endpoint ({@code hmm-emu inject}) is drawn from its entries' times.
   * A restarted node (a new JVM) gets its clock aligned when it has joined.
   */
  static final class FaultWindows {
    private final ClusterHandle cluster;
    private final ModelClock clock;
    private final double timeScale;
    private final Map<FaultSchedule.Entry, Long> starts = new java.util.concurrent.ConcurrentHashMap<>();

    private final java.util.function.LongSupplier nanoTime;

    FaultWindows(ClusterHandle cluster, ModelClock clock, double timeScale) {
      this(cluster, clock, timeScale, System::nanoTime);
    }

    /** As above, reading {@code nanoTime} as System.nanoTime (tests). */
    FaultWindows(ClusterHandle cluster, ModelClock clock, double timeScale, java.util.function.LongSupplier nanoTime) {
      this.cluster = cluster;
      this.clock = clock;
      this.timeScale = timeScale;
      this.nanoTime = nanoTime;
    }

    /**
     * A --fault step ran ({@link ProcessCluster#runFaults}); it began at {@code beganNanos} (the nodes apply a link
     * line when it reaches them, within the round trip of the step).
     */
    void step(FaultSchedule.Entry e, boolean end, long beganNanos) {
      long now = clock.nowMicros() - model(Duration.ofNanos(Math.max(0, nanoTime.getAsLong() - beganNanos)));
      if (!end && e.action().forDuration() != null) {
        starts.put(e, now);
      } else {
        Long start = starts.remove(e);
        long from = start == null ? now : start;
        Recording.fault(cluster, new RunRecorder.FaultWindow(e.text(), from, end ? until(e, from, now) : now));
      }
      if (!end && e.action() instanceof FaultSchedule.Restart) {
        Recording.clockOffsets(cluster,
            ClockAlignment.measure(cluster.controlSystem(), clock, Duration.ofSeconds(5)).offsets());
      }
    }

    /**
     * Where the {@code for} period of {@code e}, begun at {@code from}, ends: a pause ends when the controller sent
     * SIGCONT ({@code now}); a link fault's end is each node's own, {@code for} after the line reached it, so the
     * period is drawn {@code for} long from its start (the nodes got the line within the step's round trip).
     */
    private long until(FaultSchedule.Entry e, long from, long now) {
      if (e.action() instanceof FaultSchedule.Pause) return now;
      return from + model(e.action().forDuration());
    }

    /** A schedule was injected now through the management endpoint; its times count from now (real time). */
    void injected(FaultSchedule s) {
      long now = clock.nowMicros();
      for (FaultSchedule.Entry e : s.entries()) {
        long start = now + model(e.at());
        Duration d = e.action().forDuration();
        Recording.fault(cluster, new RunRecorder.FaultWindow("injected: " + e.text(), start,
            d == null ? start : start + model(d)));
      }
    }

    private long model(Duration real) { return (long) (real.toNanos() / 1000.0 / timeScale); }

    /** The arm ended: {@code for} periods still open become windows that end now (the end of the record). */
    void close() {
      long now = clock.nowMicros();
      for (var e : new java.util.ArrayList<>(starts.entrySet())) {
        if (starts.remove(e.getKey()) != null) {
          long to = Math.min(now, until(e.getKey(), e.getValue(), now));
          Recording.fault(cluster, new RunRecorder.FaultWindow(e.getKey().text(), e.getValue(), Math.max(e.getValue(), to)));
        }
      }
    }
  }

  /**
   * {@code --scenario}: every file parsed and checked first (a malformed one, or one that needs more GPU node
   * indexes than there are: one line naming it, exit 2), then each runs on its own cluster of separate JVMs
   * ({@link hmmemu.cluster.scenario.ScenarioRunner.SeparateJvms}) and is reported as {@code hmm-emu run} does.
   */
  private int runScenarios() {
    if (faultsFile != null || !faultLines.isEmpty()) {
      throw new SettingsException("--scenario: --fault and --faults do not apply (a scenario has its own steps)");
    }
    if (arms != null) throw new SettingsException("--scenario: --arms does not apply (it selects experiment arms)");
    boolean gpuGiven = spec != null && spec.commandLine() != null && spec.commandLine().getParseResult() != null
        && spec.commandLine().getParseResult().hasMatchedOption("--gpu");
    java.util.List<java.nio.file.Path> files;
    java.util.List<hmmemu.cluster.scenario.Scenario> scenarios = new ArrayList<>();
    try {
      files = RunCommand.scenarioFiles(scenario.toPath());
      for (java.nio.file.Path f : files) scenarios.add(hmmemu.cluster.scenario.ScenarioParser.parse(f));
    } catch (hmmemu.cluster.scenario.ScenarioException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    if (files.isEmpty()) {
      System.err.println("hmm-emu cluster: no scenario files (*.conf) in " + scenario);
      return 2;
    }
    for (hmmemu.cluster.scenario.Scenario s : scenarios) {
      if (gpuGiven && gpuNodes < s.gpuNodes()) {
        throw new SettingsException("--gpu " + gpuNodes + ": " + s.file() + " needs " + s.gpuNodes() + " GPU nodes");
      }
      // a restart is a new JVM under the next node index (docs/FAULTS.md "Restart"), as on the embedded cluster
      int last = hmmemu.cluster.scenario.ScenarioRunner.lastRestartIndex(s, Math.max(s.gpuNodes(), gpuGiven ? gpuNodes : 0));
      if (last > hmmemu.node.link.LinkControl.MAX_NODE) {
        throw new SettingsException((gpuGiven ? "--gpu " + gpuNodes + ": " : "") + s.file() + ": its last restart would be gpu"
            + last + ", beyond the " + hmmemu.node.link.LinkControl.MAX_NODE + " GPU node indexes (docs/FAULTS.md, Restart)");
      }
    }
    Map<String, Object> o = new HashMap<>(tls.overrides());
    if (timeScale != null) o.put("hmm-emu.time-scale", timeScale);
    HmmEmuSettings settings = HmmEmuSettings.load(config, o);
    hmmemu.cluster.NodeConfig.Tls.of(settings.config).validated();
    // the children refuse a bad hmm-emu.link value at start-up: refuse it here, before any JVM starts (exit 2)
    hmmemu.cluster.demo.SimDemo.link(settings, -1);
    List<String> childArgs = config == null ? List.of() : List.of("--config", config.getAbsolutePath());
    try (hmmemu.cluster.scenario.JvmPool pool = freshJvms ? null : new hmmemu.cluster.scenario.JvmPool()) {
      return RunCommand.runAll(files, scenarios, scenarioOptions(settings, gpuGiven ? gpuNodes : 0, childArgs, pool),
          json, record, System.out);
    }
  }

  /** The runner's options for separate JVMs: the same code path for the CLI and the it-tests. */
  static hmmemu.cluster.scenario.ScenarioRunner.Options scenarioOptions(HmmEmuSettings settings, int gpuNodes,
      List<String> childArgs, hmmemu.cluster.scenario.JvmPool pool) {
    return new hmmemu.cluster.scenario.ScenarioRunner.Options(settings.config,
        hmmemu.cluster.EmbeddedCluster.SystemFactory.PLAIN, Duration.ofSeconds(60), settings.timeScale,
        new hmmemu.cluster.scenario.ScenarioRunner.SeparateJvms(gpuNodes, childArgs, pool));
  }

  /** The --fault lines and the --faults file, parsed and checked against the cluster's nodes (exit 2 if bad). */
  private FaultSchedule faults() {
    StringBuilder text = new StringBuilder();
    if (faultsFile != null) {
      try {
        text.append(Files.readString(faultsFile.toPath())).append('\n');
      } catch (IOException e) {
        String why = e instanceof java.nio.file.NoSuchFileException ? "no such file"
            : e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.getMessage();
        throw new SettingsException("--faults: cannot read " + faultsFile + ": " + why);
      }
    }
    for (String l : faultLines) text.append(l).append('\n');
    try {
      FaultSchedule s = FaultSchedule.parse(text.toString());
      ProcessCluster.validate(s, gpuNodes);
      return s;
    } catch (IllegalArgumentException e) {
      throw new SettingsException((faultsFile != null ? "--faults " + faultsFile : "--fault") + ": " + e.getMessage());
    }
  }
}
