package hmmemu.cluster.scenario;

import com.typesafe.config.Config;
import hmmemu.node.link.LinkSettings;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.sim.TraceHash;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Runs one validated {@link Scenario} in the deterministic simulator ({@link SimHost}) with one seed: the same
 * {@link StepExecutor}, expectations and {@link Verdict} as {@link ScenarioRunner} on the embedded cluster, so a file
 * means the same on both hosts. A seed replays a run exactly (the same trace hash). A file the simulator cannot run
 * yet is a counted skip with its reason ({@link #unsupported}), never a pass.
 */
public final class SimScenarioRunner {
  /** Config key of the lease on a dead driver's folio lock (as CpuNodeActor reads it). */
  private static final String LEASE_KEY = "hmm-emu.faults.folio-lock-lease";

  /**
   * One run: {@code skipped} is the reason when the simulator cannot run the file (then {@code ok} is false and
   * nothing ran); {@code traceHash} the hash of every trace event (each profile's run folded in, in order);
   * {@code events} the trace events the checker judged.
   */
  public record Result(String file, String name, long seed, boolean ok, String skipped, List<String> failures,
      long traceHash, long events, long wallNanos) {
    public Result {
      failures = List.copyOf(failures);
    }

    public boolean ran() { return skipped == null; }

    /** The line that replays this run. */
    public String replayLine() { return "hmm-emu sim " + file + " --seed " + seed; }

    public String traceHashHex() { return TraceHash.hex(traceHash); }
  }

  private SimScenarioRunner() {}

  /**
   * Why the simulator cannot run {@code scenario}, or null. Null for every file today: a faults block's link faults go
   * to the simulator's link stage, its pauses to the nodes, and its crash and restart lines to the scenario host's
   * crash bookkeeping (SimHost.faultCallbacks: incarnations, await-gone, ENODEV for the crashed node's steps, devices
   * bound again), as on the cluster. Kept so that a future file the simulator cannot run is a counted skip, never a
   * pass.
   */
  public static String unsupported(Scenario scenario) {
    return null;
  }

  /** Runs the scenario with {@code seed}, once per kernel profile it names; {@code base} gives hmm-emu.link and the lease. */
  public static Result run(Scenario scenario, long seed, Config base) { return run(scenario, seed, base, null); }

  /**
   * As {@link #run(Scenario, long, Config)}, handing every trace event the checker is offered (stamped with model
   * time) to {@code onEvent} too, e.g. a run record's RunRecorder; null for none.
   */
  public static Result run(Scenario scenario, long seed, Config base,
      java.util.function.Consumer<hmmemu.protocol.trace.Stamped> onEvent) {
    return run(scenario, seed, base, onEvent, sim -> { });
  }

  /**
   * As {@link #run(Scenario, long, Config, java.util.function.Consumer)}, handing each fresh simulator (one per kernel
   * profile) to {@code onSim} before set-up, e.g. to set a command's fast-forward flag (an emulator-only host hook).
   */
  public static Result run(Scenario scenario, long seed, Config base,
      java.util.function.Consumer<hmmemu.protocol.trace.Stamped> onEvent, java.util.function.Consumer<hmmemu.sim.Sim> onSim) {
    long started = System.nanoTime();
    String why = unsupported(scenario);
    if (why != null) {
      return new Result(scenario.file(), scenario.name(), seed, false, why, List.of(), 0, 0, System.nanoTime() - started);
    }
    LinkSettings link;
    long leaseMicros;
    try {
      link = LinkSettings.fromConfig(base);
      leaseMicros = base.hasPath(LEASE_KEY) ? base.getDuration(LEASE_KEY).toNanos() / 1000
          : hmmemu.cpu.core.CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS;
    } catch (RuntimeException e) {
      return new Result(scenario.file(), scenario.name(), seed, false, null,
          List.of(scenario.file() + ":1: hmm-emu settings: " + e.getMessage()), 0, 0, System.nanoTime() - started);
    }
    List<KernelProfile> profiles = scenario.profiles().size() <= 1 ? List.of() : scenario.profiles();
    if (profiles.isEmpty()) {
      Once one = runOnce(scenario, seed, link, leaseMicros, onEvent, onSim);
      return new Result(scenario.file(), scenario.name(), seed, one.failures.isEmpty(), null, one.failures, one.hash,
          one.events, System.nanoTime() - started);
    }
    List<String> failures = new ArrayList<>();
    long hash = 0;
    long events = 0;
    for (KernelProfile p : profiles) {
      Once one = runOnce(scenario.forProfile(p), seed, link, leaseMicros, onEvent, onSim);
      String tag = "[" + (p == KernelProfile.V5_14 ? "v5.14" : "v6.15") + "] ";
      for (String f : one.failures) {
        int at = f.startsWith(scenario.file() + ":") ? f.indexOf(": ", scenario.file().length() + 1) : -1;
        failures.add(at < 0 ? tag + f : f.substring(0, at + 2) + tag + f.substring(at + 2));
      }
      hash = hash * 0x9E3779B97F4A7C15L + one.hash;
      events += one.events;
    }
    return new Result(scenario.file(), scenario.name(), seed, failures.isEmpty(), null, failures, hash, events,
        System.nanoTime() - started);
  }

  private record Once(List<String> failures, long hash, long events) {}

  private static Once runOnce(Scenario scenario, long seed, LinkSettings link, long leaseMicros,
      java.util.function.Consumer<hmmemu.protocol.trace.Stamped> onEvent, java.util.function.Consumer<hmmemu.sim.Sim> onSim) {
    Verdict verdict = new Verdict(scenario);
    SimHost host = runHost(scenario, seed, link, leaseMicros, sim -> {
      onSim.accept(sim);
      if (onEvent != null) sim.onTrace(onEvent);
    }, verdict);
    CaseResult r = verdict.result(0);
    return new Once(r.failures(), host.sim().traceHash(), host.sim().traceEvents());
  }

  /**
   * One run of a single-profile {@code scenario} on a fresh {@link SimHost}, its outcome judged into {@code verdict}:
   * {@code configure} sees the simulator before set-up (an emulator-only host mechanism, no kernel function).
   */
  static SimHost runHost(Scenario scenario, long seed, LinkSettings link, long leaseMicros,
      java.util.function.Consumer<hmmemu.sim.Sim> configure, Verdict verdict) {
    SimHost host = new SimHost(scenario, seed, link, leaseMicros);
    host.sim().keepStateKey(false); // a plain run never asks for it (ScheduleRun, which does, keeps it)
    configure.accept(host.sim());
    StepExecutor steps = new StepExecutor(scenario, host, verdict);
    host.onCrash(steps::crashed);
    try {
      host.setUp(scenario);
      // The faults block: the same schedule, in model time from here (after set-up, as on the cluster).
      if (!scenario.faults().entries().isEmpty()) host.sim().faults(scenario.faults(), host.faultCallbacks());
      for (Scenario.Step step : scenario.steps()) steps.runStep(step);
      steps.finish();
      verdict.expectNoViolations(() -> host.checker().violations());
    } catch (ScenarioCluster.SetupFailure e) {
      verdict.fail(e.getMessage());
    } catch (RuntimeException e) {
      verdict.fail(scenario.file() + ":1: the run failed: " + e);
    } finally {
      steps.releasePauses();
    }
    return host;
  }

  /**
   * The kind of a failure line, for comparing hosts: {@code deadlock}, {@code livelock}, {@code timeout} (a step
   * did not complete), {@code violation} (the invariant checker), {@code setup}, {@code error} (the run failed) or
   * {@code expectation} (a stated outcome did not hold).
   */
  public static String failureKind(String failure) {
    if (failure.contains(" got a deadlock")) return "deadlock";
    if (failure.contains(" got a livelock")) return "livelock";
    if (failure.contains(" got a timeout")) return "timeout";
    if (failure.contains("expected no invariant violation")) return "violation";
    if (failure.contains(": set-up: ")) return "setup";
    if (failure.contains(": the run failed: ")) return "error";
    return "expectation";
  }

  /** The kinds of {@code failures}, in first-seen order. */
  public static List<String> failureKinds(List<String> failures) {
    Set<String> out = new LinkedHashSet<>();
    for (String f : failures) out.add(failureKind(f));
    return List.copyOf(out);
  }
}
