package hmmemu.cluster.scenario;

import com.typesafe.config.ConfigValue;
import hmmemu.node.link.FaultSchedule;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * What the steps so far have done, and the checks that depend on it: step ids, async steps in flight and awaited,
 * pause points armed and resumed (one per link direction), GPU nodes crashed and restarted (by steps and by the
 * faults block), and the names bound by {@code pfn = "@X"}. The parsers call it in file order, so the first problem
 * in the file is the one reported.
 */
final class ScenarioValidator {
  private final ScenarioReader r;
  private final String file;
  private final int gpuNodeCount;
  /** Step ids seen so far, with their step. */
  private final Map<String, Scenario.Step> stepsById = new HashMap<>();
  /** Async steps started and not yet awaited, by id. */
  private final Map<String, Scenario.Step> inFlight = new LinkedHashMap<>();
  /** Pause points armed (and whether resumed), by id. */
  private final Map<String, Boolean> pauses = new HashMap<>();
  private final Map<String, Scenario.PauseOp> pauseOps = new HashMap<>();
  private final Map<String, String> openDirections = new HashMap<>();
  /** GPU nodes down by the steps so far (a crash step or an await-gone, until a restart or await-restarted). */
  private final Set<Integer> downNodes = new java.util.HashSet<>();
  /** Per GPU node: crashes and restarts by earlier steps, plus the faults block's (all of them). */
  private final Map<Integer, Integer> crashesSeen = new HashMap<>();
  private final Map<Integer, Integer> restartsSeen = new HashMap<>();
  private final Map<Integer, Integer> awaitedGone = new HashMap<>();
  private final Map<Integer, Integer> awaitedRestarts = new HashMap<>();
  /** Names bound by pfn = "@X" expectations so far. */
  private final java.util.Set<String> pfnNames = new java.util.HashSet<>();

  ScenarioValidator(ScenarioReader r, int gpuNodeCount) {
    this.r = r;
    this.file = r.file();
    this.gpuNodeCount = gpuNodeCount;
  }

  private List<hmmemu.protocol.model.KernelProfile> profiles = List.of(hmmemu.protocol.model.KernelProfile.V6_15);

  /** The kernel profiles the file runs under (its {@code profile}). */
  List<hmmemu.protocol.model.KernelProfile> profiles() { return profiles; }

  void profiles(List<hmmemu.protocol.model.KernelProfile> p) { profiles = List.copyOf(p); }

  /** The number of GPU nodes the scenario has. */
  int gpuNodes() { return gpuNodeCount; }

  // ------------------------------------------------------------------------------------------------ crash and restart

  static String needsAnotherNode() {
    return "at least one other GPU node must stay up: with one CPU node and one GPU node, the Split Brain Resolver's"
        + " keep-majority cannot tell which side survives and may down the CPU node (docs/FAULTS.md); add a device on"
        + " another node or gpu-nodes = 2";
  }

  /**
   * The faults block's crash and restart lines, in time order: a crash needs a live node and another live GPU node
   * (keep-majority cannot tell which side of one CPU + one GPU node survives), a restart a crashed node.
   * {@code lineOf} gives an entry's line in the scenario file.
   */
  void faultTimeline(FaultSchedule schedule, ToIntFunction<FaultSchedule.Entry> lineOf) {
    Set<Integer> down = new java.util.HashSet<>();
    for (FaultSchedule.Entry en : schedule.entries()) {
      int at = lineOf.applyAsInt(en);
      if (en.action() instanceof FaultSchedule.Crash c) {
        if (c.node() == 0) throw new ScenarioException(file, at, "faults: \"" + en.text() + "\": only GPU nodes can be crashed in a scenario (the CPU node hosts the runner's checker)");
        if (down.contains(c.node())) throw new ScenarioException(file, at, "faults: \"" + en.text() + "\": gpu" + c.node() + " is already crashed (restart it first)");
        if (gpuNodeCount - down.size() < 2) throw new ScenarioException(file, at, "faults: \"" + en.text() + "\": " + needsAnotherNode());
        down.add(c.node());
        crashesSeen.merge(c.node(), 1, Integer::sum);
      } else if (en.action() instanceof FaultSchedule.Restart rs) {
        if (!down.remove(rs.node())) throw new ScenarioException(file, at, "faults: \"" + en.text() + "\": gpu" + rs.node() + " is not crashed at that time (crash it first)");
        restartsSeen.merge(rs.node(), 1, Integer::sum);
      }
    }
  }

  /** The crash, restart, await-gone and await-restarted steps, checked against what happened before them. */
  Scenario.Action nodeOp(String key, int node, ConfigValue v) {
    switch (key) {
      case "crash":
        if (downNodes.contains(node)) throw r.err(v, "crash: gpu" + node + " is already crashed (restart it first)");
        if (gpuNodeCount - downNodes.size() < 2) throw r.err(v, "crash: " + needsAnotherNode());
        downNodes.add(node);
        crashesSeen.merge(node, 1, Integer::sum);
        return new Scenario.CrashOp(node);
      case "restart":
        if (!downNodes.remove(node)) {
          throw r.err(v, "restart: gpu" + node + " is not known to be crashed here (crash it, or await-gone after a"
              + " faults-block crash, first)");
        }
        restartsSeen.merge(node, 1, Integer::sum);
        return new Scenario.RestartOp(node);
      case "await-gone": {
        int nth = awaitedGone.merge(node, 1, Integer::sum);
        if (nth > crashesSeen.getOrDefault(node, 0)) {
          throw r.err(v, "await-gone: gpu" + node + " has " + crashesSeen.getOrDefault(node, 0) + " crash(es) before this"
              + " step (crash steps and faults-block lines), so crash number " + nth + " never comes");
        }
        downNodes.add(node);
        return new Scenario.AwaitGoneOp(node, nth);
      }
      default: { // await-restarted
        int nth = awaitedRestarts.merge(node, 1, Integer::sum);
        if (nth > restartsSeen.getOrDefault(node, 0)) {
          throw r.err(v, "await-restarted: gpu" + node + " has " + restartsSeen.getOrDefault(node, 0) + " restart(s)"
              + " before this step (restart steps and faults-block lines), so restart number " + nth + " never comes");
        }
        downNodes.remove(node);
        return new Scenario.AwaitRestartedOp(node, nth);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ steps

  /** A new step id: not used by an earlier step. */
  void stepId(ConfigValue iv, String id) {
    if (stepsById.containsKey(id)) throw r.err(iv, "step id '" + id + "' is used twice (first at line " + stepsById.get(id).line() + ")");
  }

  /** A CPU thread runs one thing at a time: an access loop or a syscall it makes. */
  void threadIdle(String actor, int thread, int line) {
    for (Scenario.Step s : inFlight.values()) {
      boolean busy = s.action() instanceof Scenario.CpuOp && ((Scenario.CpuOp) s.action()).thread() == thread
          || s.action() instanceof Scenario.SyscallOp && ((Scenario.SyscallOp) s.action()).thread() == thread;
      if (busy) {
        throw new ScenarioException(file, line, actor + " is still running step '" + s.id() + "' (async, line "
            + s.line() + "); await it first");
      }
    }
  }

  /** A kernel thread holds one folio lock at a time: a kthread step while the same thread's async one runs is an error. */
  void kthreadIdle(String kthread, int line) {
    for (Scenario.Step s : inFlight.values()) {
      if (s.action() instanceof Scenario.KthreadOp k && k.kthread().equals(kthread)) {
        throw new ScenarioException(file, line, "kthread " + kthread + " is still running step '" + s.id()
            + "' (async, line " + s.line() + "); await it first");
      }
    }
  }

  /** An await step: each id names an async step in flight; returns the awaited step when there is one, else null. */
  Scenario.Step await(List<String> ids, ConfigValue v) {
    for (String sid : ids) {
      if (!inFlight.containsKey(sid)) {
        String why = stepsById.containsKey(sid) ? "it is not async, or was awaited already" : "no earlier step has that id";
        throw r.err(v, "await: cannot await step '" + sid + "': " + why);
      }
    }
    Scenario.Step awaited = ids.size() == 1 ? inFlight.get(ids.get(0)) : null;
    for (String sid : ids) inFlight.remove(sid);
    return awaited;
  }

  /** Records a parsed step: its id, and (when async) that it is in flight until awaited. */
  void record(Scenario.Step step) {
    if (step.id() != null) stepsById.put(step.id(), step);
    if (step.async()) inFlight.put(step.id(), step);
  }

  /** Whether {@code id} names an earlier async step (pending and completed expectations). */
  boolean isEarlierAsync(String id) {
    Scenario.Step s = stepsById.get(id);
    return s != null && s.async();
  }

  // ------------------------------------------------------------------------------------------------ pause points

  /** A new pause point id. */
  void pauseId(ConfigValue idv, String id) {
    if (pauses.containsKey(id)) throw r.err(idv, "pause point '" + id + "' is declared twice");
  }

  /**
   * Arms pause point {@code op}: its direction must not be held by another pause point. A controller hold holds one
   * request, not a direction: several may be armed at once.
   */
  void arm(ConfigValue idv, Scenario.PauseOp op) {
    String dir = op.fromNode() + "->" + op.toNode();
    if (op.controller()) {
      pauses.put(op.pauseId(), false);
      pauseOps.put(op.pauseId(), op);
      return;
    }
    if (openDirections.containsKey(dir)) {
      throw r.err(idv, "pause: pause point '" + openDirections.get(dir) + "' already holds the direction " + op.from()
          + " -> " + op.to() + "; resume it first");
    }
    openDirections.put(dir, op.pauseId());
    pauses.put(op.pauseId(), false);
    pauseOps.put(op.pauseId(), op);
  }

  /** An await-paused step names an earlier pause point. */
  void awaitPaused(ConfigValue v, String p) {
    if (!pauses.containsKey(p)) throw r.err(v, "await-paused: no earlier pause point '" + p + "'");
  }

  /** A resume step names an earlier pause point not resumed yet; it frees the point's direction. */
  void resume(ConfigValue v, String p) {
    Boolean resumed = pauses.get(p);
    if (resumed == null) throw r.err(v, "resume: no earlier pause point '" + p + "'");
    if (resumed) throw r.err(v, "resume: pause point '" + p + "' was resumed already");
    pauses.put(p, true);
    Scenario.PauseOp op = pauseOps.get(p);
    if (!op.controller()) openDirections.remove(op.fromNode() + "->" + op.toNode());
  }

  // ------------------------------------------------------------------------------------------------ pfn names

  /** {@code pfn = "!@X"} needs an earlier {@code pfn = "@X"}. */
  void pfnUse(ConfigValue pv, String name, boolean differs) {
    if (differs && !pfnNames.contains(name)) throw r.err(pv, "pfn: @" + name + " is not named by an earlier pfn = \"@" + name + "\"");
  }

  /** Binds pfn name {@code name} (the first {@code pfn = "@X"} names the page). */
  void pfnBind(String name) { pfnNames.add(name); }
}
