package hmmemu.cluster.scenario;

import com.typesafe.config.Config;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.protocol.model.KernelProfile;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Runs one validated {@link Scenario} on a fresh embedded cluster: binds the devices, maps and fills the VMAs, then
 * carries out the steps in order (async steps run concurrently until awaited; pause points hold a link direction
 * through a {@link hmmemu.node.link.GateLink}) and checks each step's expectations right after it. Every wait is bounded:
 * a step that does not complete in time is reported as a deadlock naming what is pending, never a hang.
 *
 * <p>The work is split: {@link ScenarioCluster} (start and stop, set-up, faults, crash and restart, node handles and
 * introspection), {@link StepExecutor} (the steps, pause points, deadlock reports) and {@link Verdict} (the failures
 * collected, one {@code FILE:LINE:} line each, and the {@link CaseResult}).
 */
public final class ScenarioRunner {
  /**
   * How a runner builds clusters: the base config, the ActorSystem factory, the time scale; {@code jvms} null: an
   * embedded cluster, else one JVM per node ({@link SeparateJvms}).
   */
  public record Options(Config base, EmbeddedCluster.SystemFactory factory, Duration clusterUpTimeout,
      double timeScale, SeparateJvms jvms) {
    /** An embedded cluster. */
    public Options(Config base, EmbeddedCluster.SystemFactory factory, Duration clusterUpTimeout, double timeScale) {
      this(base, factory, clusterUpTimeout, timeScale, null);
    }

    public static Options plain(Config base) {
      return new Options(base, EmbeddedCluster.SystemFactory.PLAIN, Duration.ofSeconds(30), 1.0);
    }
  }

  /**
   * Run each scenario on a {@link hmmemu.cluster.ProcessCluster}: this JVM is the controller (and the checker's
   * host), the CPU node and every GPU node a child JVM ({@code hmm-emu node --pause-points}); pause points and
   * invalidation counts travel as gate.proto messages (docs/SCENARIOS.md, "Across separate JVMs").
   * {@code gpuNodes}: GPU node JVMs at least (the scenario's own count when higher); {@code childArgs} are added to
   * every child's command line (e.g. {@code --config FILE}). {@code pool} (null: a fresh cluster per file, {@code
   * --fresh-jvms}) holds the node JVMs that consecutive files reuse ({@link JvmPool}). Not a kernel structure.
   */
  public record SeparateJvms(int gpuNodes, java.util.List<String> childArgs, JvmPool pool) {
    public SeparateJvms {
      childArgs = java.util.List.copyOf(childArgs);
    }

    /** A fresh cluster per file. */
    public SeparateJvms(int gpuNodes, java.util.List<String> childArgs) { this(gpuNodes, childArgs, null); }
  }

  /**
   * The node index the last restart of {@code scenario} gets on a cluster of {@code gpuNodes} GPU nodes (a restart
   * is a new member under the next index, docs/FAULTS.md "Restart"), or {@code gpuNodes} when it restarts none:
   * restart steps and the faults block's restart lines together.
   */
  public static int lastRestartIndex(Scenario scenario, int gpuNodes) {
    int k = gpuNodes;
    for (hmmemu.node.link.FaultSchedule.Entry e : scenario.faults().entries()) {
      if (e.action() instanceof hmmemu.node.link.FaultSchedule.Restart) k++;
    }
    for (Scenario.Step s : scenario.steps()) k += restarts(s);
    return k;
  }

  private static int restarts(Scenario.Step s) {
    if (s.action() instanceof Scenario.ConcurrentOp c) {
      int n = 0;
      for (Scenario.Step inner : c.steps()) n += restarts(inner);
      return n;
    }
    return s.action() instanceof Scenario.RestartOp ? 1 : 0;
  }

  private ScenarioRunner() {}

  /** Runs the scenario on a fresh cluster and returns its verdict; never throws for a failing or stuck scenario. */
  public static CaseResult run(Scenario scenario, Options options) { return run(scenario, options, null); }

  /**
   * Runs the scenario on a fresh cluster, once per kernel profile it names, and returns its verdict; never throws
   * for a failing or stuck scenario. With several profiles each failure names its profile after its line
   * ({@code FILE:LINE: [v5.14] expected ...}). {@code recorder} (null: none) records the run, attached to the
   * checker once the cluster is up and taken back after the verdict (docs/OBSERVABILITY.md); with several profiles
   * it records the first profile's run.
   */
  public static CaseResult run(Scenario scenario, Options options, hmmemu.report.RunRecorder recorder) {
    if (scenario.profiles().size() <= 1) return runOnce(scenario, options, recorder);
    List<CaseResult> each = new ArrayList<>();
    boolean first = true;
    for (KernelProfile p : scenario.profiles()) {
      each.add(runOnce(scenario.forProfile(p), options, first ? recorder : null));
      first = false;
    }
    return merged(scenario, each);
  }

  /** One verdict of the runs of a file under each of its profiles, in order: each failure names its profile. */
  private static CaseResult merged(Scenario scenario, List<CaseResult> each) {
    List<String> failures = new ArrayList<>();
    long millis = 0;
    for (int i = 0; i < each.size(); i++) {
      KernelProfile p = scenario.profiles().get(i);
      CaseResult one = each.get(i);
      String tag = "[" + (p == KernelProfile.V5_14 ? "v5.14" : "v6.15") + "] ";
      for (String f : one.failures()) {
        int at = f.startsWith(scenario.file() + ":") ? f.indexOf(": ", scenario.file().length() + 1) : -1;
        failures.add(at < 0 ? tag + f : f.substring(0, at + 2) + tag + f.substring(at + 2));
      }
      millis += one.wallMillis();
    }
    return new CaseResult(scenario.file(), scenario.name(), failures.isEmpty(), failures, millis);
  }

  private static CaseResult runOnce(Scenario scenario, Options options, hmmemu.report.RunRecorder recorder) {
    return runOn(scenario, new ScenarioCluster(scenario, options), false, null, recorder, null);
  }

  /**
   * A scenario's own fresh cluster, started ahead of its run (an emulator-only host mechanism): a suite of files
   * starts the next file's cluster while the current file runs ({@link #prepare}, {@link #run(Prepared,
   * java.util.concurrent.Executor)}). The cluster is made for this file alone, as {@link #run(Scenario, Options)}
   * makes it; only when it starts changes. A start that failed is the run's set-up failure, with the same line.
   */
  public static final class Prepared {
    /** The whole file; {@link #run} the scenario its cluster is for (the file under its first profile). */
    private final Scenario scenario;
    private final Scenario run;
    private final Options options;
    private final ScenarioCluster cluster;
    private final RuntimeException startFailure;

    private Prepared(Scenario scenario, Scenario run, Options options, ScenarioCluster cluster,
        RuntimeException startFailure) {
      this.scenario = scenario;
      this.run = run;
      this.options = options;
      this.cluster = cluster;
      this.startFailure = startFailure;
    }

    /** The scenario the cluster was started for. */
    public Scenario scenario() { return scenario; }

    /** Stops the cluster of a file whose run never came; safe after a failed start. */
    public void discard() { cluster.stop(); }
  }

  /**
   * Starts {@code scenario}'s fresh cluster now (for a file with several kernel profiles: its first profile's), for
   * a later {@link #run(Prepared, java.util.concurrent.Executor)}. Never throws for a cluster that does not start
   * (the run reports it).
   */
  public static Prepared prepare(Scenario scenario, Options options) {
    Scenario run = scenario.profiles().size() <= 1 ? scenario : scenario.forProfile(scenario.profiles().get(0));
    ScenarioCluster cluster = new ScenarioCluster(run, options);
    try {
      cluster.start();
      return new Prepared(scenario, run, options, cluster, null);
    } catch (RuntimeException e) {
      return new Prepared(scenario, run, options, cluster, e);
    }
  }

  /**
   * Runs a {@link #prepare}d scenario on its cluster and returns its verdict, as {@link #run(Scenario, Options)}
   * does; the cluster's stop (after the verdict, which it cannot change) goes to {@code closer}, e.g. a thread that
   * closes one file's cluster while the next file runs (null: stopped before the verdict is taken, as
   * {@link #run(Scenario, Options)} does). A file with several kernel profiles runs under each on a fresh cluster,
   * the next profile's started while the one before runs. Never throws for a failing or stuck scenario.
   */
  public static CaseResult run(Prepared prepared, java.util.concurrent.Executor closer) {
    if (prepared.scenario.profiles().size() <= 1) {
      return runOn(prepared.run, prepared.cluster, true, prepared.startFailure, null, closer);
    }
    List<KernelProfile> profiles = prepared.scenario.profiles();
    List<CaseResult> each = new ArrayList<>();
    Prepared current = prepared;
    for (int i = 0; i < profiles.size(); i++) {
      Scenario next = i + 1 < profiles.size() ? prepared.scenario.forProfile(profiles.get(i + 1)) : null;
      CompletableFuture<Prepared> ahead = next == null ? null
          : CompletableFuture.supplyAsync(() -> prepare(next, prepared.options), ScenarioRunner::startAhead);
      each.add(runOn(current.run, current.cluster, true, current.startFailure, null, closer));
      if (ahead != null) current = ahead.join();
    }
    return merged(prepared.scenario, each);
  }

  /** A daemon thread that starts the next profile's cluster (an emulator-only host mechanism). */
  private static void startAhead(Runnable r) {
    Thread t = new Thread(r, "scenario-start-ahead");
    t.setDaemon(true);
    t.start();
  }

  private static CaseResult runOn(Scenario scenario, ScenarioCluster cluster, boolean started,
      RuntimeException startFailure, hmmemu.report.RunRecorder recorder, java.util.concurrent.Executor closer) {
    long begun = System.nanoTime();
    Verdict verdict = new Verdict(scenario);
    StepExecutor steps = new StepExecutor(scenario, cluster, verdict);
    cluster.onCrash(steps::crashed);
    try {
      try {
        if (startFailure != null) throw startFailure;
        if (!started) cluster.start();
        cluster.record(recorder);
        cluster.setUp(scenario);
        cluster.startFaults();
        for (Scenario.Step step : scenario.steps()) steps.runStep(step);
        cluster.finishFaults(verdict);
        steps.finish();
        verdict.expectNoViolations(() -> cluster.checker().violations());
      } catch (ScenarioCluster.SetupFailure e) {
        verdict.fail(e.getMessage());
      } catch (RuntimeException e) {
        verdict.fail(scenario.file() + ":1: the run failed: " + e);
      } finally {
        try {
          steps.releasePauses();
        } catch (RuntimeException e) { // across JVMs a node may not answer any more; the run is over anyway
          System.err.println(scenario.file() + ": releasing the pause points failed: " + e.getMessage());
        }
        try {
          cluster.stopRecording();
        } catch (RuntimeException e) { // the record is an observation: it does not change the verdict
          System.err.println(scenario.file() + ": the run record could not be taken: " + e.getMessage());
        }
        if (closer == null) cluster.stop();
      }
      return verdict.result((System.nanoTime() - begun) / 1_000_000);
    } finally {
      if (closer != null) closer.execute(cluster::stop); // after the verdict was taken: nothing changes it now
    }
  }
}
