package hmmemu.cluster.scenario;

import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.SettingsException;
import hmmemu.cpu.core.CpuMm;
import hmmemu.node.cost.HostCost;
import hmmemu.node.link.Direction;
import hmmemu.node.link.Distribution;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.LinkSpec;
import hmmemu.protocol.trace.Stamped;
import hmmemu.sim.Sim;
import hmmemu.sim.SimConfig;
import hmmemu.sim.SimExperiment;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Not a kernel structure: one arm of the headline experiment (hmm-emu.demo) in the simulator, from the settings. The
 * one place {@code demo --sim}, {@code demo --sim --seeds}, {@code sweep --sim} (through hmmemu.cluster.demo.SimDemo,
 * which delegates here) and the demo-seeds test make an arm's simulator, so their runs and replay lines are the same
 * run. Moved from SimDemo (module cli) so that a test of this module can run the demo workload.
 */
public final class SimDemoArm {
  /** Config key of the lease on a dead driver's folio lock (as CpuNodeActor reads it). */
  private static final String LEASE_KEY = "hmm-emu.faults.folio-lock-lease";
  /** Config key of the simulator's controller hop (one way, model time; absent: 1 µs). */
  private static final String CONTROLLER_HOP_KEY = "hmm-emu.sim.controller-hop";
  /** Agenda events one arm may fire before it is reported unfinished. */
  public static final long MAX_EVENTS = 4_000_000_000L;

  private SimDemoArm() {}

  /** The arm's display name ("kernel" or "early-unlock"). */
  public static String armName(String arm) {
    return arm.equals("kernel") ? "folio-lock (kernel)" : "early-unlock (ablation)";
  }

  /**
   * The link of hmm-emu.link; with {@code oneWayMicros} >= 0, every host-device direction (the default and each
   * override) gets a constant one-way delay of that many model µs, the rest of its spec unchanged.
   */
  public static LinkSettings link(HmmEmuSettings settings, double oneWayMicros) {
    LinkSettings link;
    try {
      link = LinkSettings.fromConfig(settings.config);
    } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
      throw new SettingsException(e.getMessage());
    }
    if (oneWayMicros < 0) return link;
    Distribution.Constant c = new Distribution.Constant(oneWayMicros);
    Map<Direction, LinkSpec> dirs = new HashMap<>();
    link.directions().forEach((d, sp) -> dirs.put(d, sp.withDelay(c)));
    return new LinkSettings(link.defaults().withDelay(c), dirs, link.reliable(), link.replayTimeoutMicros(),
        link.replayBuffer(), link.receiveWindow(), link.lanes());
  }

  /**
   * The simulator's controller hop in model µs (hmm-emu.sim.controller-hop; 1 µs when absent): each hop of a
   * workload request and its reply is drawn uniformly in [h/2, 3h/2): the set-up, each CPU thread's start and end
   * (HmmProtocol.CpuThreadRun) and each GPU warp's (HmmProtocol.WarpRun); their accesses take no hop. The
   * cluster's controller talks over its transport (~150 µs one way at time-scale 1.0). A bad value is a settings
   * error.
   */
  public static double controllerHopMicros(HmmEmuSettings settings) {
    if (!settings.config.hasPath(CONTROLLER_HOP_KEY)) return 1.0;
    java.time.Duration d = HmmEmuSettings.duration(settings.config, CONTROLLER_HOP_KEY);
    if (d.isNegative()) throw HmmEmuSettings.bad(settings.config, CONTROLLER_HOP_KEY, "must be >= 0");
    return d.toNanos() / 1000.0;
  }

  /** The host-side cost model of hmm-emu.host-cost (docs/LATENCY.md); a bad value is a settings error. */
  public static HostCost hostCost(HmmEmuSettings settings) {
    try {
      return HostCost.fromConfig(settings.config);
    } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
      throw new SettingsException(e.getMessage());
    }
  }

  /**
   * One arm of the workload of {@code settings} (hmm-emu.demo, its seed replaced by {@code seed}) on a fresh
   * simulator whose seed is {@code seed}; {@code onTrace} (or null) sees every trace event the checker judges, and
   * {@code onSim} (or null) is handed the fresh simulator before anything runs (its fast-forward flag, a watch).
   */
  public static SimExperiment.Result run(HmmEmuSettings settings, LinkSettings link, String arm, long seed,
      Consumer<Stamped> onTrace, Consumer<Sim> onSim) {
    HmmEmuSettings.Demo d = settings.demo;
    long lease = settings.config.hasPath(LEASE_KEY)
        ? HmmEmuSettings.micros(settings.config, LEASE_KEY, false) : CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS;
    SimExperiment.Workload w = new SimExperiment.Workload(d.gpuNodes(), d.warpsPerDevice(), d.opsPerWarp(),
        d.cpuThreads(), d.opsPerThread(), d.counters(), d.counterPages(), seed, d.cpuSpin())
        .withCpuThink(d.cpuThinkMicros());
    // The run timeout bounds model time here: a run still going then is a livelock candidate, reported as such.
    long maxModelMicros = d.runTimeout().toNanos() / 1000;
    SimConfig c = new SimConfig(seed, d.gpuNodes(), 1,
        settings.switches.withFolioLockUntilMapped(arm.equals("kernel")), lease, link, controllerHopMicros(settings),
        true, hostCost(settings));
    return SimExperiment.run(armName(arm), c, w, maxModelMicros, MAX_EVENTS, onTrace, null, onSim);
  }
}
