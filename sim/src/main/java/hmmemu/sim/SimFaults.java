package hmmemu.sim;

import hmmemu.node.link.Direction;
import hmmemu.node.link.FaultSchedule;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Carries out a {@link FaultSchedule} on a {@link Sim} in virtual time (hmmemu.node.link.FaultScheduleRunner's
 * order: time, then ends of {@code for} periods before starts, then line order; each instant is one agenda event,
 * so the order never depends on tie keys). Link actions go to the sim's {@link LinkStage}; pause and resume to
 * {@link Sim#pauseNode}/{@link Sim#resumeNode}; crash and restart to {@link Sim#crashGpuNode} and
 * {@link Sim#restartGpuNodeAsNew}, or, when the caller gives {@link FaultSchedule.Callbacks} (a scenario host with its
 * incarnation bookkeeping, as ScenarioCluster gives FaultScheduleRunner), to its {@code crash} and {@code restart}.
 * Not a kernel structure.
 */
final class SimFaults {
  private SimFaults() {}

  private record FaultStep(long atNanos, boolean end, int order, FaultSchedule.Entry entry) {}

  /**
   * Starts {@code schedule} now: each entry's instant and {@code for} duration are model time from this call. Steps
   * run in time order, ends of {@code for} periods before starts at the same instant, then in line order (as
   * FaultScheduleRunner runs them on the cluster), each at its instant as one agenda event, so their order does not
   * depend on the tie keys. A step that cannot be carried out (crash of cpu0, restart of a live node, a node that
   * does not exist) is logged as failed and the schedule goes on, as on the cluster.
   */
  static void start(Sim sim, FaultSchedule schedule, FaultSchedule.Callbacks hooks) {
    List<FaultStep> steps = new ArrayList<>();
    int order = 0;
    long t0 = sim.nowNanos();
    for (FaultSchedule.Entry e : schedule.entries()) {
      steps.add(new FaultStep(t0 + e.at().toNanos(), false, order++, e));
      if (e.action().forDuration() != null) {
        steps.add(new FaultStep(t0 + e.at().toNanos() + e.action().forDuration().toNanos(), true, order++, e));
      }
    }
    steps.sort(Comparator.comparingLong(FaultStep::atNanos).thenComparing(f -> !f.end()).thenComparingInt(FaultStep::order));
    Map<FaultSchedule.Entry, List<Long>> delayIds = new HashMap<>();
    new Object() {
      int next;

      void arm() {
        if (next < steps.size()) sim.at(steps.get(next).atNanos(), this::runDue);
      }

      void runDue() {
        while (next < steps.size() && steps.get(next).atNanos() <= sim.nowNanos()) {
          FaultStep f = steps.get(next++);
          try {
            sim.logFault(f.end() ? end(sim, f.entry(), delayIds) : start(sim, f.entry(), delayIds, hooks));
          } catch (RuntimeException ex) {
            sim.logFault("failed: " + f.entry().text() + ": " + ex.getMessage());
          }
        }
        arm();
      }
    }.arm();
  }

  private static String start(Sim sim, FaultSchedule.Entry e, Map<FaultSchedule.Entry, List<Long>> delayIds,
      FaultSchedule.Callbacks hooks) {
    FaultSchedule.Action a = e.action();
    if (a instanceof FaultSchedule.AddDelay d) {
      long until = d.forDuration() == null ? Long.MAX_VALUE : sim.nowNanos() + d.forDuration().toNanos();
      List<Long> ids = new ArrayList<>();
      for (Direction dir : d.directions()) {
        checkDirection(sim, dir);
        ids.add(sim.linkStage().addDelay(dir.from(), dir.to(), d.micros(), d.jitterMicros(), until));
      }
      delayIds.put(e, ids);
    } else if (a instanceof FaultSchedule.SetProbability p) {
      for (Direction dir : p.directions()) {
        checkDirection(sim, dir);
        sim.linkStage().setProbability(p.fault(), dir.from(), dir.to(), p.p());
      }
    } else if (a instanceof FaultSchedule.Partition p) {
      sim.paused(p.node());
      sim.linkStage().partition(p.node(), p.mode());
    } else if (a instanceof FaultSchedule.Heal h) {
      sim.paused(h.node());
      sim.linkStage().heal(h.node());
    } else if (a instanceof FaultSchedule.Pause p) {
      sim.pauseNode(p.node());
    } else if (a instanceof FaultSchedule.Resume r) {
      sim.resumeNode(r.node());
    } else if (a instanceof FaultSchedule.Crash c) {
      if (c.node() == 0) throw new IllegalArgumentException("crash cpu0: the simulator models crashes of GPU nodes only");
      if (hooks != null) hooks.crash(c.node());
      else sim.crashGpuNode(c.node(), "crashed by the fault schedule (" + e + ")");
    } else if (a instanceof FaultSchedule.Restart r) {
      if (r.node() == 0) throw new IllegalArgumentException("restart cpu0: the simulator models GPU node restarts only");
      if (hooks != null) {
        hooks.restart(r.node());
        return "start: " + e.text();
      }
      int index = sim.restartGpuNodeAsNew(r.node());
      return "start: " + e.text() + " (gpu" + r.node() + " restarted as gpu" + index + ")";
    } else if (a instanceof FaultSchedule.Clear) {
      sim.linkStage().clearFaults();
      for (int k = 0; k <= sim.gpuNodes(); k++) sim.resumeNode(k);
    }
    return "start: " + e.text();
  }

  private static String end(Sim sim, FaultSchedule.Entry e, Map<FaultSchedule.Entry, List<Long>> delayIds) {
    FaultSchedule.Action a = e.action();
    if (a instanceof FaultSchedule.AddDelay) {
      for (long id : delayIds.getOrDefault(e, List.of())) sim.linkStage().removeDelay(id);
      delayIds.remove(e);
    } else if (a instanceof FaultSchedule.SetProbability p) {
      for (Direction dir : p.directions()) sim.linkStage().setProbability(p.fault(), dir.from(), dir.to(), null);
    } else if (a instanceof FaultSchedule.Partition p) {
      sim.linkStage().heal(p.node());
    } else if (a instanceof FaultSchedule.Pause p) {
      sim.resumeNode(p.node());
    }
    return "end: " + e.text();
  }

  /** Refuses a direction naming a node that does not exist (Sim.paused checks the index). */
  private static void checkDirection(Sim sim, Direction d) {
    sim.paused(d.from());
    sim.paused(d.to());
  }
}
