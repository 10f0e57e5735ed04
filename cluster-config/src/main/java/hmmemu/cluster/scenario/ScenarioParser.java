package hmmemu.cluster.scenario;

import hmmemu.node.link.FaultSchedule;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a scenario file (HOCON, docs/SCENARIOS.md) and validates all of it before anything runs: unknown keys, bad
 * values, unknown actors, pauses and steps, and addresses outside every VMA are each reported as one
 * {@link ScenarioException} line {@code FILE:LINE: what is wrong}, with the line from the HOCON value's origin.
 */
public final class ScenarioParser {
  /** The default bound on how long a step may take before the runner reports a deadlock. */
  public static final Duration DEFAULT_STEP_TIMEOUT = Duration.ofSeconds(10);

  private static final Set<String> TOP_KEYS = Set.of("name", "case", "description", "profile", "switches", "gpu-nodes",
      "step-timeout", "time-scale", "processes", "devices", "vmas", "steps", "faults");
  private static final Set<String> SWITCH_KEYS = Set.of("folio-lock-until-mapped", "owner-filter",
      "driver-lock-across-conversion", "leak-folio-on-retry", "dmirror-seq-check", "hmm-pfn-exclusive",
      "driver-deadline");
  private static final Set<String> META_KEYS = Set.of("id", "async", "wait", "expect", "comment");
  private static final Set<String> CONTROL_ACTIONS = Set.of("pause", "await", "await-paused", "resume", "crash",
      "restart", "await-gone", "await-restarted");
  private static final Set<String> EXPECT_KEYS = Set.of("pte", "folio", "memory", "device", "result", "value",
      "counters", "data", "snapshot", "invalidations", "cpu-faults", "total-cpu-faults", "driver-iterations", "driver-timeouts",
      "violations", "deadlock", "pending", "completed", "trace");
  /** Messages a driver sends to the CPU node (pause direction device -> cpu). */
  static final Set<String> FROM_DEVICE = Set.of("NotifierInsert", "NotifierRemove", "MakeDeviceExclusive",
      "FolioUnlockPut", "HmmRangeFault", "DeviceMemoryAccess", "InvalidateAck");
  /** Messages the CPU node sends to a driver (pause direction cpu -> device). */
  static final Set<String> FROM_CPU = Set.of("NotifierInserted", "NotifierRemoved", "InvalidateStart", "InvalidateEnd",
      "MakeDeviceExclusiveReply", "HmmRangeFaultReply", "DeviceMemoryAccessReply");
  /** The trace event types (hmmemu.protocol.trace.Trace.Event) a {@code trace} expectation may count. */
  static final Set<String> TRACE_EVENTS = java.util.Arrays.stream(
      hmmemu.protocol.trace.Trace.Event.class.getPermittedSubclasses()).map(Class::getSimpleName)
      .collect(java.util.stream.Collectors.toUnmodifiableSet());
  private static final java.util.regex.Pattern THREAD = java.util.regex.Pattern.compile("T([0-9]{1,6})");
  private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_-]*");

  private final String file;
  private final Map<String, Scenario.Process> processes = new LinkedHashMap<>();
  private final Map<String, Scenario.Device> devices = new LinkedHashMap<>();
  private final Map<String, Scenario.Vma> vmas = new LinkedHashMap<>();
  /** Step ids seen so far, with their step. */
  private final Map<String, Scenario.Step> stepsById = new HashMap<>();
  /** Async steps started and not yet awaited, by id. */
  private final Map<String, Scenario.Step> inFlight = new LinkedHashMap<>();
  /** Pause points armed (and whether resumed), by id. */
  private final Map<String, Boolean> pauses = new HashMap<>();
  private final Map<String, Scenario.PauseOp> pauseOps = new HashMap<>();
  private final Map<String, String> openDirections = new HashMap<>();
  private int gpuNodeCount;
  /** GPU nodes down by the steps so far (a crash step or an await-gone, until a restart or await-restarted). */
  private final Set<Integer> downNodes = new java.util.HashSet<>();
  /** Per GPU node: crashes and restarts by earlier steps, plus the faults block's (all of them). */
  private final Map<Integer, Integer> crashesSeen = new HashMap<>();
  private final Map<Integer, Integer> restartsSeen = new HashMap<>();
  private final Map<Integer, Integer> awaitedGone = new HashMap<>();
  private final Map<Integer, Integer> awaitedRestarts = new HashMap<>();
  /** Names bound by pfn = "@X" expectations so far. */
  private final java.util.Set<String> pfnNames = new java.util.HashSet<>();

  private ScenarioParser(String file) { this.file = file; }

  /** Reads and validates the scenario at {@code path}; the file name in messages is the path as given. */
  public static Scenario parse(Path path) {
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ScenarioException(path.toString(), 1, "cannot read the file: " + e.getMessage());
    }
    return parse(path.toString(), text);
  }

  /** Validates scenario {@code text}, naming it {@code fileName} in messages. */
  public static Scenario parse(String fileName, String text) {
    return new ScenarioParser(fileName).parseText(text);
  }

  // ------------------------------------------------------------------------------------------------ top level

  private Scenario parseText(String text) {
    Config config;
    try {
      config = ConfigFactory.parseString(text, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF)
          .setOriginDescription(file)).resolve();
    } catch (ConfigException e) {
      int line = e.origin() == null ? 1 : e.origin().lineNumber();
      String msg = e.getMessage();
      String prefix = e.origin() == null ? null : e.origin().description() + ": ";
      if (prefix != null && msg.startsWith(prefix)) msg = msg.substring(prefix.length());
      throw new ScenarioException(file, line, "HOCON syntax: " + msg.replace('\n', ' '));
    }
    ConfigObject root = config.root();
    checkKeys(root, TOP_KEYS, "the scenario", 1);
    String name = string(required(root, "name", "the scenario", 1), "name");
    String caseId = root.containsKey("case") ? string(root.get("case"), "case") : null;
    String description = root.containsKey("description") ? string(root.get("description"), "description") : "";
    ModelSwitches switches = ModelSwitches.kernel();
    if (root.containsKey("profile")) {
      ConfigValue v = root.get("profile");
      String p = string(v, "profile");
      if (p.equals("v6.15")) {
        switches = switches.withKernelProfile(KernelProfile.V6_15);
      } else if (p.equals("v5.14")) {
        switches = switches.withKernelProfile(KernelProfile.V5_14);
      } else {
        throw err(v, "profile: expected \"v6.15\" or \"v5.14\", got \"" + p + "\"");
      }
    }
    if (root.containsKey("switches")) switches = switches(object(root.get("switches"), "switches"), switches);
    Duration stepTimeout = root.containsKey("step-timeout")
        ? positive(root.get("step-timeout"), "step-timeout") : DEFAULT_STEP_TIMEOUT;
    double timeScale = 0;
    if (root.containsKey("time-scale")) {
      ConfigValue v = root.get("time-scale");
      if (v.valueType() != ConfigValueType.NUMBER) {
        throw err(v, "time-scale: expected a number (real µs per model µs), got " + v.render());
      }
      timeScale = ((Number) v.unwrapped()).doubleValue();
      if (!(timeScale > 0) || Double.isInfinite(timeScale)) {
        throw err(v, "time-scale: must be a positive number, got " + v.render());
      }
    }

    if (root.containsKey("processes")) {
      for (ConfigValue v : list(root.get("processes"), "processes")) process(object(v, "a process"));
    } else {
      processes.put("P1", new Scenario.Process("P1", 1, 1));
    }
    if (processes.isEmpty()) throw err(root.get("processes"), "processes: declare at least one process");
    if (root.containsKey("devices")) {
      for (ConfigValue v : list(root.get("devices"), "devices")) device(object(v, "a device"));
    }
    int maxNode = 0;
    for (Scenario.Device d : devices.values()) maxNode = Math.max(maxNode, d.node());
    int gpuNodes = Math.max(1, maxNode);
    if (root.containsKey("gpu-nodes")) {
      ConfigValue v = root.get("gpu-nodes");
      gpuNodes = (int) integer(v, "gpu-nodes");
      if (gpuNodes < 1 || gpuNodes > 15) throw err(v, "gpu-nodes: must be in [1, 15], got " + gpuNodes);
      if (gpuNodes < maxNode) throw err(v, "gpu-nodes: " + gpuNodes + " nodes, but a device sits on node " + maxNode);
    }
    for (ConfigValue v : list(required(root, "vmas", "the scenario", 1), "vmas")) vma(object(v, "a VMA"));
    gpuNodeCount = gpuNodes;
    FaultSchedule faults = root.containsKey("faults") ? faults(root.get("faults"), gpuNodes) : FaultSchedule.none();

    List<Scenario.Step> steps = new ArrayList<>();
    int index = 0;
    for (ConfigValue v : list(required(root, "steps", "the scenario", 1), "steps")) {
      steps.add(step(++index, object(v, "a step")));
    }
    return new Scenario(file, name, caseId, description, switches, gpuNodes, stepTimeout, timeScale,
        List.copyOf(processes.values()), List.copyOf(devices.values()), List.copyOf(vmas.values()), List.copyOf(steps),
        faults);
  }

  /**
   * The {@code faults} block: a list of FaultSchedule lines (docs/LATENCY.md syntax, e.g. {@code "at 2s add 5ms to
   * cpu0->gpu1 for 3s"}) or one multi-line string. Errors name the file and the line of the bad entry.
   */
  private FaultSchedule faults(ConfigValue v, int gpuNodes) {
    List<String> lines = new ArrayList<>();
    List<Integer> origins = new ArrayList<>();
    if (v.valueType() == ConfigValueType.LIST) {
      for (ConfigValue e : (ConfigList) v) {
        if (e.valueType() != ConfigValueType.STRING) throw err(e, "faults: expected a string like \"at 2s partition gpu1 for 1s\"");
        lines.add((String) e.unwrapped());
        origins.add(line(e));
      }
    } else if (v.valueType() == ConfigValueType.STRING) {
      String[] ls = ((String) v.unwrapped()).split("\n", -1);
      for (int i = 0; i < ls.length; i++) {
        lines.add(ls[i]);
        origins.add(line(v) + i);
      }
    } else {
      throw err(v, "faults: expected a list of schedule lines or a string");
    }
    FaultSchedule schedule;
    try {
      schedule = FaultSchedule.parse(String.join("\n", lines));
    } catch (IllegalArgumentException e) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("^fault schedule line (\\d+) ").matcher(e.getMessage());
      int at = m.find() ? origins.get(Math.min(origins.size(), Integer.parseInt(m.group(1))) - 1) : line(v);
      throw new ScenarioException(file, at, "faults: " + e.getMessage());
    }
    for (FaultSchedule.Entry en : schedule.entries()) {
      int at = origins.get(Math.min(origins.size(), en.line()) - 1);
      for (int node : nodesOf(en.action())) {
        if (node > gpuNodes) {
          throw new ScenarioException(file, at, "faults: \"" + en.text() + "\" names gpu" + node + ", but the scenario has "
              + gpuNodes + " GPU node(s)");
        }
      }
    }
    // Crash and restart lines, in time order: a crash needs a live node and another live GPU node (keep-majority
    // cannot tell which side of one CPU + one GPU node survives), a restart a crashed node.
    Set<Integer> down = new java.util.HashSet<>();
    for (FaultSchedule.Entry en : schedule.entries()) {
      int at = origins.get(Math.min(origins.size(), en.line()) - 1);
      if (en.action() instanceof FaultSchedule.Crash c) {
        if (c.node() == 0) throw new ScenarioException(file, at, "faults: \"" + en.text() + "\": only GPU nodes can be crashed in a scenario (the CPU node hosts the runner's checker)");
        if (down.contains(c.node())) throw new ScenarioException(file, at, "faults: \"" + en.text() + "\": gpu" + c.node() + " is already crashed (restart it first)");
        if (gpuNodes - down.size() < 2) throw new ScenarioException(file, at, "faults: \"" + en.text() + "\": " + needsAnotherNode());
        down.add(c.node());
        crashesSeen.merge(c.node(), 1, Integer::sum);
      } else if (en.action() instanceof FaultSchedule.Restart r) {
        if (!down.remove(r.node())) throw new ScenarioException(file, at, "faults: \"" + en.text() + "\": gpu" + r.node() + " is not crashed at that time (crash it first)");
        restartsSeen.merge(r.node(), 1, Integer::sum);
      }
    }
    return schedule;
  }

  private static String needsAnotherNode() {
    return "at least one other GPU node must stay up: with one CPU node and one GPU node, the Split Brain Resolver's"
        + " keep-majority cannot tell which side survives and may down the CPU node (docs/FAULTS.md); add a device on"
        + " another node or gpu-nodes = 2";
  }

  /** {@code gpuK} (a scenario GPU node) or a device name (its node). */
  private int gpuNode(ConfigValue v, String what) {
    String s = string(v, what);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("gpu([0-9]{1,2})").matcher(s);
    int node;
    if (m.matches()) {
      node = Integer.parseInt(m.group(1));
    } else if (devices.containsKey(s)) {
      node = devices.get(s).node();
    } else {
      throw err(v, what + ": expected gpuK (K = 1.." + gpuNodeCount + ") or a device name, got \"" + s + "\"");
    }
    if (node < 1 || node > gpuNodeCount) {
      throw err(v, what + ": gpu" + node + " does not exist (the scenario has " + gpuNodeCount + " GPU node(s))");
    }
    return node;
  }

  /** The crash, restart, await-gone and await-restarted steps, checked against what happened before them. */
  private Scenario.Action nodeOp(String key, ConfigValue v) {
    int node = gpuNode(v, key);
    switch (key) {
      case "crash":
        if (downNodes.contains(node)) throw err(v, "crash: gpu" + node + " is already crashed (restart it first)");
        if (gpuNodeCount - downNodes.size() < 2) throw err(v, "crash: " + needsAnotherNode());
        downNodes.add(node);
        crashesSeen.merge(node, 1, Integer::sum);
        return new Scenario.CrashOp(node);
      case "restart":
        if (!downNodes.remove(node)) {
          throw err(v, "restart: gpu" + node + " is not known to be crashed here (crash it, or await-gone after a"
              + " faults-block crash, first)");
        }
        restartsSeen.merge(node, 1, Integer::sum);
        return new Scenario.RestartOp(node);
      case "await-gone": {
        int nth = awaitedGone.merge(node, 1, Integer::sum);
        if (nth > crashesSeen.getOrDefault(node, 0)) {
          throw err(v, "await-gone: gpu" + node + " has " + crashesSeen.getOrDefault(node, 0) + " crash(es) before this"
              + " step (crash steps and faults-block lines), so crash number " + nth + " never comes");
        }
        downNodes.add(node);
        return new Scenario.AwaitGoneOp(node, nth);
      }
      default: { // await-restarted
        int nth = awaitedRestarts.merge(node, 1, Integer::sum);
        if (nth > restartsSeen.getOrDefault(node, 0)) {
          throw err(v, "await-restarted: gpu" + node + " has " + restartsSeen.getOrDefault(node, 0) + " restart(s)"
              + " before this step (restart steps and faults-block lines), so restart number " + nth + " never comes");
        }
        downNodes.remove(node);
        return new Scenario.AwaitRestartedOp(node, nth);
      }
    }
  }

  private static List<Integer> nodesOf(FaultSchedule.Action a) {
    List<Integer> n = new ArrayList<>();
    if (a instanceof FaultSchedule.AddDelay d) d.directions().forEach(x -> { n.add(x.from()); n.add(x.to()); });
    else if (a instanceof FaultSchedule.SetProbability p) p.directions().forEach(x -> { n.add(x.from()); n.add(x.to()); });
    else if (a instanceof FaultSchedule.Partition p) n.add(p.node());
    else if (a instanceof FaultSchedule.Heal h) n.add(h.node());
    else if (a instanceof FaultSchedule.Pause p) n.add(p.node());
    else if (a instanceof FaultSchedule.Resume r) n.add(r.node());
    else if (a instanceof FaultSchedule.Crash c) n.add(c.node());
    else if (a instanceof FaultSchedule.Restart r) n.add(r.node());
    return n;
  }

  private ModelSwitches switches(ConfigObject o, ModelSwitches s) {
    checkKeys(o, SWITCH_KEYS, "switches", line(o));
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      String k = e.getKey();
      ConfigValue v = e.getValue();
      switch (k) {
        case "folio-lock-until-mapped": s = s.withFolioLockUntilMapped(bool(v, k)); break;
        case "owner-filter": s = s.withOwnerFilter(bool(v, k)); break;
        case "driver-lock-across-conversion": s = s.withDriverLockAcrossConversion(bool(v, k)); break;
        case "leak-folio-on-retry": s = s.withLeakFolioOnRetry(bool(v, k)); break;
        case "dmirror-seq-check": s = s.withDmirrorSeqCheck(bool(v, k)); break;
        case "hmm-pfn-exclusive": s = s.withHmmPfnExclusive(bool(v, k)); break;
        case "driver-deadline": {
          long micros = duration(v, k).toNanos() / 1000;
          if (micros <= 0) throw err(v, "driver-deadline: must be > 0");
          s = s.withDriverDeadlineMicros(micros);
          break;
        }
        default: throw err(v, "unknown switch '" + k + "'");
      }
    }
    return s;
  }

  private void process(ConfigObject o) {
    checkKeys(o, Set.of("name", "mm"), "a process", line(o));
    ConfigValue nv = required(o, "name", "a process", line(o));
    String name = newName(nv, "process");
    ConfigValue mv = required(o, "mm", "process " + name, line(o));
    int mm = (int) integer(mv, "mm");
    if (mm < 1) throw err(mv, "mm: must be >= 1, got " + mm);
    for (Scenario.Process p : processes.values()) {
      if (p.mm() == mm) throw err(mv, "mm " + mm + " already belongs to process " + p.name());
    }
    processes.put(name, new Scenario.Process(name, mm, line(o)));
  }

  private void device(ConfigObject o) {
    checkKeys(o, Set.of("name", "node", "driver", "index", "bind"), "a device", line(o));
    String name = newName(required(o, "name", "a device", line(o)), "device");
    ConfigValue nodeV = required(o, "node", "device " + name, line(o));
    int node = (int) integer(nodeV, "node");
    if (node < 1 || node > 15) throw err(nodeV, "node: GPU nodes are numbered 1..15, got " + node);
    ConfigValue drvV = required(o, "driver", "device " + name, line(o));
    String drv = string(drvV, "driver");
    DriverFlavour flavour;
    if (drv.equals("dmirror")) {
      flavour = DriverFlavour.DMIRROR;
    } else if (drv.equals("nouveau")) {
      flavour = DriverFlavour.NOUVEAU;
    } else {
      throw err(drvV, "driver: expected dmirror or nouveau, got \"" + drv + "\"");
    }
    int index = 0;
    for (Scenario.Device d : devices.values()) if (d.node() == node) index = Math.max(index, d.index() + 1);
    if (o.containsKey("index")) {
      ConfigValue iv = o.get("index");
      index = (int) integer(iv, "index");
      if (index < 0 || index > 15) throw err(iv, "index: must be in [0, 15], got " + index);
      for (Scenario.Device d : devices.values()) {
        if (d.node() == node && d.index() == index) throw err(iv, "index " + index + " on node " + node + " is device " + d.name());
      }
    }
    List<Integer> bind = new ArrayList<>();
    if (o.containsKey("bind")) {
      ConfigValue bv = o.get("bind");
      if (bv.valueType() == ConfigValueType.LIST) {
        for (ConfigValue x : (ConfigList) bv) bind.add(mm(x));
      } else {
        bind.add(mm(bv));
      }
    } else {
      bind.add(processes.values().iterator().next().mm());
    }
    devices.put(name, new Scenario.Device(name, node, index, flavour, List.copyOf(bind), line(o)));
  }

  private void vma(ConfigObject o) {
    checkKeys(o, Set.of("name", "mm", "start", "pages", "prot", "kind", "mapped", "fill", "fill-words"), "a VMA", line(o));
    ConfigValue nv = required(o, "name", "a VMA", line(o));
    String name = string(nv, "name");
    if (!NAME.matcher(name).matches()) throw err(nv, "name: '" + name + "' is not a plain name (letters, digits, _ and -)");
    if (vmas.containsKey(name)) throw err(nv, "VMA " + name + " is declared twice");
    int mm = o.containsKey("mm") ? mm(o.get("mm")) : processes.values().iterator().next().mm();
    ConfigValue sv = required(o, "start", "VMA " + name, line(o));
    long start = integer(sv, "start");
    if ((start & (Page.SIZE - 1)) != 0 || start <= 0) throw err(sv, "start: must be a page-aligned address > 0, got " + hex(start));
    ConfigValue pv = required(o, "pages", "VMA " + name, line(o));
    long pages = integer(pv, "pages");
    if (pages < 1 || pages > (1 << 20)) throw err(pv, "pages: must be in [1, 1048576], got " + pages);
    // Compared without forming start + size, which wraps past Long.MAX_VALUE for a start near it.
    if (start >= Page.TASK_SIZE || pages * Page.SIZE > Page.TASK_SIZE - start) {
      throw err(sv, "VMA " + name + " ends beyond TASK_SIZE");
    }
    int prot = o.containsKey("prot") ? prot(o.get("prot")) : Prot.RW;
    VmaKind kind = VmaKind.ANON_PRIVATE;
    if (o.containsKey("kind")) {
      ConfigValue kv = o.get("kind");
      String k = string(kv, "kind");
      switch (k) {
        case "anon-private": kind = VmaKind.ANON_PRIVATE; break;
        case "anon-shared": kind = VmaKind.ANON_SHARED; break;
        case "file-private": kind = VmaKind.FILE_PRIVATE; break;
        case "hugetlb": kind = VmaKind.HUGETLB; break;
        default: throw err(kv, "kind: expected anon-private, anon-shared, file-private or hugetlb, got \"" + k + "\"");
      }
    }
    boolean mapped = !o.containsKey("mapped") || bool(o.get("mapped"), "mapped");
    Scenario.Fill fill = Scenario.Fill.NONE;
    if (o.containsKey("fill")) {
      ConfigValue fv = o.get("fill");
      String f = string(fv, "fill");
      int firstWord = 0;
      int lastWord = 0;
      if (o.containsKey("fill-words")) {
        ConfigValue wv = o.get("fill-words");
        int[] w = wordRange(wv);
        firstWord = w[0];
        lastWord = w[1];
      }
      switch (f) {
        case "none": break;
        case "zero": fill = new Scenario.Fill(true, Pattern.constant(0), firstWord, lastWord); break;
        case "index": fill = new Scenario.Fill(true, Pattern.index(0), firstWord, lastWord); break;
        default: throw err(fv, "fill: expected none, zero or index, got \"" + f + "\"");
      }
      if (fill.populate() && (prot & Prot.WRITE) == 0) throw err(fv, "fill: VMA " + name + " is not writable, a fill would SIGSEGV");
      if (fill.populate() && !mapped) throw err(fv, "fill: VMA " + name + " is not mapped at the start");
    } else if (o.containsKey("fill-words")) {
      throw err(o.get("fill-words"), "fill-words without fill");
    }
    Scenario.Vma vma = new Scenario.Vma(name, mm, start, (int) pages, prot, kind, mapped, fill, line(o));
    for (Scenario.Vma other : vmas.values()) {
      if (other.mm() == mm && start < other.end() && other.start() < vma.end()) {
        throw err(sv, "VMA " + name + " overlaps VMA " + other.name() + " of mm " + mm);
      }
    }
    vmas.put(name, vma);
  }

  private int[] wordRange(ConfigValue v) {
    if (v.valueType() == ConfigValueType.NUMBER) {
      int w = (int) integer(v, "fill-words");
      if (w < 0 || w >= Page.WORDS) throw err(v, "fill-words: word " + w + " is outside the page (0.." + (Page.WORDS - 1) + ")");
      return new int[] {w, w};
    }
    String s = string(v, "fill-words");
    String[] parts = s.split("\\.\\.", -1);
    try {
      int a = Integer.parseInt(parts[0].trim());
      int b = parts.length == 2 ? Integer.parseInt(parts[1].trim()) : a;
      if (parts.length > 2 || a < 0 || b < a || b >= Page.WORDS) throw new NumberFormatException();
      return new int[] {a, b};
    } catch (NumberFormatException e) {
      throw err(v, "fill-words: expected N or N..M with 0 <= N <= M <= " + (Page.WORDS - 1) + ", got \"" + s + "\"");
    }
  }

  // ------------------------------------------------------------------------------------------------ steps

  private Scenario.Step step(int index, ConfigObject o) {
    int line = line(o);
    String id = null;
    if (o.containsKey("id")) {
      ConfigValue iv = o.get("id");
      id = string(iv, "id");
      if (!NAME.matcher(id).matches()) throw err(iv, "id: '" + id + "' is not a plain name");
      if (stepsById.containsKey(id)) throw err(iv, "step id '" + id + "' is used twice (first at line " + stepsById.get(id).line() + ")");
    }
    List<String> actionKeys = new ArrayList<>();
    for (String k : o.keySet()) if (!META_KEYS.contains(k)) actionKeys.add(k);
    if (actionKeys.size() > 1) {
      throw err(o.get(actionKeys.get(1)), "one action per step, got " + String.join(" and ", actionKeys)
          + " (split them into steps; use async = true for concurrency)");
    }
    boolean async = o.containsKey("async") && bool(o.get("async"), "async");
    Duration wait = o.containsKey("wait") ? positive(o.get("wait"), "wait") : null;
    Scenario.Action action;
    if (actionKeys.isEmpty()) {
      if (!o.containsKey("expect")) throw new ScenarioException(file, line, "step " + index + " has no action and no expect");
      action = new Scenario.CheckOp();
    } else {
      String key = actionKeys.get(0);
      ConfigValue v = o.get(key);
      action = action(key, v);
    }
    if (async && !action.hasOutcome()) throw err(o.get("async"), "async = true needs an action that runs (a thread, process or device step)");
    if (async && id == null) throw err(o.get("async"), "an async step needs an id, so that an await step can name it");

    // A CPU thread runs one thing at a time.
    if (action instanceof Scenario.CpuOp) {
      Scenario.CpuOp c = (Scenario.CpuOp) action;
      for (Scenario.Step s : inFlight.values()) {
        if (s.action() instanceof Scenario.CpuOp && ((Scenario.CpuOp) s.action()).thread() == c.thread()) {
          throw new ScenarioException(file, line, c.actor() + " is still running step '" + s.id() + "' (async, line "
              + s.line() + "); await it first");
        }
      }
    }
    Scenario.Step awaitedStep = null;
    if (action instanceof Scenario.AwaitOp) {
      List<String> ids = ((Scenario.AwaitOp) action).stepIds();
      for (String sid : ids) {
        if (!inFlight.containsKey(sid)) {
          String why = stepsById.containsKey(sid) ? "it is not async, or was awaited already" : "no earlier step has that id";
          throw err(o.get("await"), "await: cannot await step '" + sid + "': " + why);
        }
      }
      if (ids.size() == 1) awaitedStep = inFlight.get(ids.get(0));
      for (String sid : ids) inFlight.remove(sid);
    }

    List<Expectation> expect = new ArrayList<>();
    if (o.containsKey("expect")) {
      Scenario.Action outcomeOf = awaitedStep != null ? awaitedStep.action() : action;
      expect = expectations(object(o.get("expect"), "expect"), outcomeOf);
      for (Expectation e : expect) {
        if (e.needsOutcome() && (async || !action.hasOutcome())) {
          throw new ScenarioException(file, e.line(), async
              ? "this expectation needs the step's outcome, which an async step has only when awaited: put it on the await step"
              : "this expectation needs a step outcome, and '" + action.describe() + "' has none");
        }
      }
    }
    // HOCON objects do not keep key order: check (and report) expectations top-down by line.
    expect.sort(java.util.Comparator.comparingInt(Expectation::line));
    Scenario.Step step = new Scenario.Step(index, id, line, action, async, wait, List.copyOf(expect));
    if (id != null) stepsById.put(id, step);
    if (async) inFlight.put(id, step);
    return step;
  }

  private Scenario.Action action(String key, ConfigValue v) {
    switch (key) {
      case "pause": return pause(object(v, "pause"));
      case "await": {
        List<String> ids = new ArrayList<>();
        if (v.valueType() == ConfigValueType.LIST) {
          for (ConfigValue x : (ConfigList) v) ids.add(string(x, "await"));
        } else {
          ids.add(string(v, "await"));
        }
        if (ids.isEmpty()) throw err(v, "await: name at least one step id");
        return new Scenario.AwaitOp(List.copyOf(ids));
      }
      case "await-paused": {
        String p = string(v, "await-paused");
        if (!pauses.containsKey(p)) throw err(v, "await-paused: no earlier pause point '" + p + "'");
        return new Scenario.AwaitPausedOp(p);
      }
      case "resume": {
        String p = string(v, "resume");
        Boolean resumed = pauses.get(p);
        if (resumed == null) throw err(v, "resume: no earlier pause point '" + p + "'");
        if (resumed) throw err(v, "resume: pause point '" + p + "' was resumed already");
        pauses.put(p, true);
        Scenario.PauseOp op = pauseOps.get(p);
        openDirections.remove(op.fromNode() + "->" + op.toNode());
        return new Scenario.ResumeOp(p);
      }
      case "crash":
      case "restart":
      case "await-gone":
      case "await-restarted":
        return nodeOp(key, v);
      default:
        break;
    }
    java.util.regex.Matcher t = THREAD.matcher(key);
    if (t.matches()) return cpuOp(key, Integer.parseInt(t.group(1)), object(v, key));
    if (devices.containsKey(key)) return deviceOp(devices.get(key), object(v, key));
    if (processes.containsKey(key)) return syscallOp(processes.get(key), object(v, key));
    List<String> known = new ArrayList<>();
    known.add("T<n> (CPU threads)");
    known.addAll(devices.keySet());
    known.addAll(processes.keySet());
    known.addAll(new java.util.TreeSet<>(CONTROL_ACTIONS));
    throw err(v, "unknown actor '" + key + "' (known: " + String.join(", ", known) + ")");
  }

  /** The one operation key of an actor's object among {@code ops}; everything else must be a modifier. */
  private String opKey(ConfigObject o, String actor, Set<String> ops, Set<String> modifiers) {
    String op = null;
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      String k = e.getKey();
      if (ops.contains(k)) {
        if (op != null) throw err(e.getValue(), actor + ": one operation per step, got " + op + " and " + k);
        op = k;
      } else if (!modifiers.contains(k)) {
        throw err(e.getValue(), "unknown key '" + k + "' for " + actor + " (operations: " + sorted(ops)
            + "; modifiers: " + sorted(modifiers) + ")");
      }
    }
    if (op == null) throw new ScenarioException(file, line(o), actor + ": no operation (one of " + sorted(ops) + ")");
    return op;
  }

  private Scenario.Action cpuOp(String actor, int thread, ConfigObject o) {
    Set<String> ops = Set.of("read", "write", "atomic", "increment", "fill");
    String op = opKey(o, actor, ops, Set.of("value", "mm", "pattern", "plus", "repeat", "spin"));
    ConfigValue av = o.get(op);
    PageRange at = range(av);
    boolean spin = o.containsKey("spin") && bool(o.get("spin"), "spin");
    if (spin && (at.firstPage() != at.lastPage() || at.firstWord() != at.lastWord())) {
      throw err(o.get("spin"), "spin: a spinning thread loops on one word, but " + op + " names " + at.text());
    }
    int mm = o.containsKey("mm") ? mm(o.get("mm")) : at.vma().mm();
    Scenario.CpuOpKind kind = Scenario.CpuOpKind.valueOf(op.toUpperCase());
    long value = 0;
    Pattern pattern = null;
    if (kind == Scenario.CpuOpKind.WRITE || kind == Scenario.CpuOpKind.FILL) {
      pattern = valuePattern(o, actor + " " + op, kind == Scenario.CpuOpKind.FILL);
    } else if (kind == Scenario.CpuOpKind.ATOMIC) {
      value = o.containsKey("value") ? integer(o.get("value"), "value") : 1;
      forbid(o, actor + " atomic", "pattern", "plus");
    } else {
      forbid(o, actor + " " + op, "value", "pattern", "plus");
    }
    return new Scenario.CpuOp(actor, thread, kind, at, mm, value, pattern, repeat(o), spin);
  }

  private int repeat(ConfigObject o) {
    if (!o.containsKey("repeat")) return 1;
    ConfigValue v = o.get("repeat");
    long n = integer(v, "repeat");
    if (n < 1 || n > 10_000_000) throw err(v, "repeat: must be in [1, 10000000], got " + n);
    return (int) n;
  }

  /** A count: a number, or a string bound such as ">= 2" (see {@link Bound}). */
  private Bound bound(ConfigValue v, String what) {
    if (v.valueType() == ConfigValueType.NUMBER) return Bound.exactly(integer(v, what));
    try {
      return Bound.parse(string(v, what));
    } catch (IllegalArgumentException e) {
      throw err(v, what + ": " + e.getMessage());
    }
  }

  /** value = N, or pattern = index|value with plus = N; {@code fill} defaults to the index pattern. */
  private Pattern valuePattern(ConfigObject o, String what, boolean defaultIndex) {
    if (o.containsKey("value")) {
      forbid(o, what + " with value", "pattern", "plus");
      return Pattern.constant(integer(o.get("value"), "value"));
    }
    long plus = o.containsKey("plus") ? integer(o.get("plus"), "plus") : 0;
    if (o.containsKey("pattern")) {
      ConfigValue pv = o.get("pattern");
      String p = string(pv, "pattern");
      if (p.equals("index")) return Pattern.index(plus);
      if (p.equals("neg-index")) return Pattern.negIndex(plus);
      if (p.equals("value")) return Pattern.constant(plus);
      throw err(pv, "pattern: expected index, neg-index or value, got \"" + p + "\"");
    }
    if (defaultIndex) return Pattern.index(plus);
    throw new ScenarioException(file, line(o), what + ": needs value = N or pattern = index");
  }

  private void forbid(ConfigObject o, String what, String... keys) {
    for (String k : keys) if (o.containsKey(k)) throw err(o.get(k), "'" + k + "' does not apply to " + what);
  }

  private Scenario.Action syscallOp(Scenario.Process p, ConfigObject o) {
    Set<String> ops = Set.of("mmap", "munmap", "mprotect", "madvise-dontneed", "fork", "exit", "soft-dirty-reset",
        "oom-reap");
    String op = opKey(o, p.name(), ops, Set.of("prot"));
    ConfigValue v = o.get(op);
    if (!op.equals("mprotect")) forbid(o, p.name() + " " + op, "prot");
    switch (op) {
      case "mmap": {
        String vn = string(v, "mmap");
        Scenario.Vma vma = vmas.get(vn);
        if (vma == null) throw err(v, "mmap: unknown VMA '" + vn + "' (declared: " + String.join(", ", vmas.keySet()) + ")");
        return new Scenario.SyscallOp(p.name(), p.mm(), HmmProtocol.SyscallKind.MMAP, null, vma, vma.prot(), 0);
      }
      case "munmap": return rangeSyscall(p, HmmProtocol.SyscallKind.MUNMAP, v, 0);
      case "madvise-dontneed": return rangeSyscall(p, HmmProtocol.SyscallKind.MADV_DONTNEED, v, 0);
      case "soft-dirty-reset": return rangeSyscall(p, HmmProtocol.SyscallKind.SOFT_DIRTY_RESET, v, 0);
      case "mprotect": {
        if (!o.containsKey("prot")) throw new ScenarioException(file, line(o), p.name() + " mprotect: needs prot = rw|r|w|none");
        return rangeSyscall(p, HmmProtocol.SyscallKind.MPROTECT, v, prot(o.get("prot")));
      }
      case "fork": {
        String child = string(v, "fork");
        Scenario.Process c = processes.get(child);
        if (c == null) throw err(v, "fork: the child must be a declared process, got '" + child + "'");
        if (c.mm() == p.mm()) throw err(v, "fork: a process cannot be its own child");
        return new Scenario.SyscallOp(p.name(), p.mm(), HmmProtocol.SyscallKind.FORK, null, null, 0, c.mm());
      }
      case "exit":
      case "oom-reap": {
        if (!bool(v, op)) throw err(v, op + ": write " + op + " = true");
        HmmProtocol.SyscallKind k = op.equals("exit") ? HmmProtocol.SyscallKind.EXIT : HmmProtocol.SyscallKind.OOM_REAP;
        return new Scenario.SyscallOp(p.name(), p.mm(), k, null, null, 0, 0);
      }
      default: throw new IllegalStateException("unhandled syscall " + op);
    }
  }

  private Scenario.Action rangeSyscall(Scenario.Process p, HmmProtocol.SyscallKind kind, ConfigValue v, int prot) {
    PageRange at = range(v);
    if (at.wordsNamed()) throw err(v, kind.name().toLowerCase() + " works on whole pages; drop the word part of '" + at.text() + "'");
    return new Scenario.SyscallOp(p.name(), p.mm(), kind, at, null, prot, 0);
  }

  private Scenario.Action deviceOp(Scenario.Device d, ConfigObject o) {
    if (d.driver() == DriverFlavour.DMIRROR) {
      Set<String> ops = Set.of("read", "write", "exclusive", "check-exclusive", "snapshot", "bind");
      String op = opKey(o, d.name(), ops, Set.of("mm", "value", "pattern", "plus"));
      ConfigValue v = o.get(op);
      if (op.equals("bind")) {
        forbid(o, d.name() + " bind", "mm", "value", "pattern", "plus");
        return new Scenario.BindOp(d, mm(v));
      }
      PageRange at = range(v);
      if (at.wordsNamed()) throw err(v, "dmirror " + op + " works on whole pages; drop the word part of '" + at.text() + "'");
      int mm = o.containsKey("mm") ? mm(o.get("mm")) : at.vma().mm();
      Pattern data = null;
      if (op.equals("write")) {
        data = valuePattern(o, d.name() + " write", true);
      } else {
        forbid(o, d.name() + " " + op, "value", "pattern", "plus");
      }
      HmmProtocol.DmirrorOp kind = HmmProtocol.DmirrorOp.valueOf(op.toUpperCase().replace('-', '_'));
      return new Scenario.DmirrorOp(d, kind, at, mm, data);
    }
    Set<String> ops = Set.of("read", "write", "atomic", "bind");
    String op = opKey(o, d.name(), ops, Set.of("mm", "value", "repeat"));
    ConfigValue v = o.get(op);
    if (op.equals("bind")) {
      forbid(o, d.name() + " bind", "mm", "value", "repeat");
      return new Scenario.BindOp(d, mm(v));
    }
    PageRange at = range(v);
    if (at.pages() != 1 || at.words() != 1) throw err(v, d.name() + " " + op + ": a device access is one word; '" + at.text() + "' names more");
    int mm = o.containsKey("mm") ? mm(o.get("mm")) : at.vma().mm();
    Access access = Access.valueOf(op.toUpperCase());
    long value;
    if (access == Access.READ) {
      forbid(o, d.name() + " read", "value");
      value = 0;
    } else if (access == Access.ATOMIC) {
      value = o.containsKey("value") ? integer(o.get("value"), "value") : 1;
    } else {
      if (!o.containsKey("value")) throw new ScenarioException(file, line(o), d.name() + " write: needs value = N");
      value = integer(o.get("value"), "value");
    }
    return new Scenario.WarpOp(d, access, at, mm, value, repeat(o));
  }

  private Scenario.Action pause(ConfigObject o) {
    checkKeys(o, Set.of("id", "from", "to", "at", "event", "kind", "skip"), "pause", line(o));
    ConfigValue idv = required(o, "id", "pause", line(o));
    String id = string(idv, "id");
    if (pauses.containsKey(id)) throw err(idv, "pause point '" + id + "' is declared twice");
    ConfigValue fv = required(o, "from", "pause " + id, line(o));
    ConfigValue tv = required(o, "to", "pause " + id, line(o));
    String from = string(fv, "from");
    String to = string(tv, "to");
    boolean fromCpu = from.equals("cpu");
    boolean toCpu = to.equals("cpu");
    if (fromCpu == toCpu) throw err(fv, "pause: exactly one of from/to must be cpu (the link runs between the CPU node and a device's GPU node)");
    String devName = fromCpu ? to : from;
    Scenario.Device dev = devices.get(devName);
    if (dev == null) throw err(fromCpu ? tv : fv, "pause: unknown device '" + devName + "' (declared: " + String.join(", ", devices.keySet()) + ")");
    ConfigValue mv = required(o, "at", "pause " + id, line(o));
    String msg = string(mv, "at");
    Set<String> allowed = fromCpu ? FROM_CPU : FROM_DEVICE;
    if (!allowed.contains(msg)) {
      boolean other = (fromCpu ? FROM_DEVICE : FROM_CPU).contains(msg);
      throw err(mv, "at: " + (other ? msg + " travels the other way" : "unknown message '" + msg + "'")
          + " (from " + from + " to " + to + ": " + sorted(allowed) + ")");
    }
    NotifyEvent event = null;
    if (o.containsKey("event")) {
      ConfigValue ev = o.get("event");
      if (!msg.equals("InvalidateStart") && !msg.equals("InvalidateAck")) throw err(ev, "event: only InvalidateStart and InvalidateAck carry an event");
      String e = string(ev, "event");
      try {
        event = NotifyEvent.valueOf(e);
      } catch (IllegalArgumentException x) {
        throw err(ev, "event: unknown notifier event '" + e + "' (" + java.util.Arrays.toString(NotifyEvent.values()) + ")");
      }
    }
    NotifierKind kind = null;
    if (o.containsKey("kind")) {
      ConfigValue kv = o.get("kind");
      if (!msg.startsWith("Invalidate")) throw err(kv, "kind: only InvalidateStart, InvalidateAck and InvalidateEnd go to a subscription");
      String k = string(kv, "kind");
      if (k.equals("classic")) kind = NotifierKind.CLASSIC;
      else if (k.equals("interval")) kind = NotifierKind.INTERVAL;
      else throw err(kv, "kind: expected classic or interval, got \"" + k + "\"");
    }
    int skip = 0;
    if (o.containsKey("skip")) {
      skip = (int) integer(o.get("skip"), "skip");
      if (skip < 0) throw err(o.get("skip"), "skip: must be >= 0");
    }
    int fromNode = fromCpu ? 0 : dev.node();
    int toNode = toCpu ? 0 : dev.node();
    String dir = fromNode + "->" + toNode;
    if (openDirections.containsKey(dir)) {
      throw err(idv, "pause: pause point '" + openDirections.get(dir) + "' already holds the direction " + from + " -> " + to
          + "; resume it first");
    }
    openDirections.put(dir, id);
    pauses.put(id, false);
    Scenario.PauseOp op = new Scenario.PauseOp(id, from, to, fromNode, toNode, msg, event, kind, dev.id(), skip);
    pauseOps.put(id, op);
    return op;
  }

  // ------------------------------------------------------------------------------------------------ expectations

  private List<Expectation> expectations(ConfigObject o, Scenario.Action outcomeOf) {
    checkKeys(o, EXPECT_KEYS, "expect", line(o));
    List<Expectation> out = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      String k = e.getKey();
      ConfigValue v = e.getValue();
      switch (k) {
        case "pte":
          for (ConfigObject x : objects(v, "pte")) out.add(pte(x));
          break;
        case "folio":
          for (ConfigObject x : objects(v, "folio")) out.add(folio(x));
          break;
        case "memory":
          memory(object(v, "memory"), out);
          break;
        case "device":
          for (Map.Entry<String, ConfigValue> d : object(v, "device").entrySet()) {
            deviceExpect(device(d.getKey(), d.getValue()), object(d.getValue(), d.getKey()), out);
          }
          break;
        case "result": {
          String s = v.valueType() == ConfigValueType.NUMBER ? String.valueOf(integer(v, "result")) : string(v, "result");
          Errno errno = Expectation.errno(s);
          if (errno == null) throw err(v, "result: unknown errno '" + s + "' (" + Expectation.errnoNames() + ")");
          out.add(new Expectation.Result(line(v), errno));
          break;
        }
        case "value":
          out.add(new Expectation.Value(line(v), integer(v, "value")));
          break;
        case "counters": {
          ConfigObject c = object(v, "counters");
          checkKeys(c, Set.of("faults", "cpages"), "counters", line(c));
          for (Map.Entry<String, ConfigValue> x : c.entrySet()) {
            out.add(new Expectation.Counters(line(x.getValue()), x.getKey(), bound(x.getValue(), x.getKey())));
          }
          break;
        }
        case "data":
          data(v, outcomeOf, out);
          break;
        case "snapshot":
          snapshot(object(v, "snapshot"), outcomeOf, out);
          break;
        case "invalidations":
          for (Map.Entry<String, ConfigValue> d : object(v, "invalidations").entrySet()) {
            invalidations(device(d.getKey(), d.getValue()), object(d.getValue(), d.getKey()), null, out);
          }
          break;
        case "cpu-faults":
          out.add(new Expectation.CpuFaults(line(v), bound(v, k), false));
          break;
        case "total-cpu-faults":
          out.add(new Expectation.CpuFaults(line(v), bound(v, k), true));
          break;
        case "driver-iterations":
        case "driver-timeouts":
          for (Map.Entry<String, ConfigValue> d : object(v, k).entrySet()) {
            out.add(new Expectation.Device(line(d.getValue()), device(d.getKey(), d.getValue()),
                k.equals("driver-iterations") ? "iterations" : "timeouts", bound(d.getValue(), k), null, null));
          }
          break;
        case "violations": {
          List<String> ids = new ArrayList<>();
          for (ConfigValue x : list(v, "violations")) {
            String s = string(x, "violations");
            if (!s.matches("I([1-9]|1[0-2])")) throw err(x, "violations: invariants are named I1..I12, got \"" + s + "\"");
            ids.add(s);
          }
          out.add(new Expectation.Violations(line(v), List.copyOf(ids)));
          break;
        }
        case "deadlock":
          out.add(new Expectation.Deadlock(line(v), bool(v, k)));
          break;
        case "trace":
          for (Map.Entry<String, ConfigValue> t : object(v, "trace").entrySet()) {
            if (!TRACE_EVENTS.contains(t.getKey())) {
              throw err(t.getValue(), "trace: unknown trace event '" + t.getKey() + "' (" + sorted(TRACE_EVENTS) + ")");
            }
            out.add(new Expectation.TraceCount(line(t.getValue()), t.getKey(), bound(t.getValue(), t.getKey())));
          }
          break;
        case "pending":
        case "completed": {
          List<String> ids = new ArrayList<>();
          if (v.valueType() == ConfigValueType.LIST) {
            for (ConfigValue x : (ConfigList) v) ids.add(string(x, k));
          } else {
            ids.add(string(v, k));
          }
          for (String id : ids) {
            Scenario.Step s = stepsById.get(id);
            if (s == null || !s.async()) throw err(v, k + ": '" + id + "' is not an earlier async step");
          }
          out.add(k.equals("pending") ? new Expectation.Pending(line(v), List.copyOf(ids))
              : new Expectation.Completed(line(v), List.copyOf(ids)));
          break;
        }
        default:
          throw err(v, "unknown expectation '" + k + "'");
      }
    }
    return out;
  }

  private Expectation pte(ConfigObject o) {
    checkKeys(o, Set.of("page", "mm", "state", "write", "dirty", "young", "pfn"), "pte", line(o));
    PageRange at = range(required(o, "page", "pte", line(o)));
    int mm = o.containsKey("mm") ? mm(o.get("mm")) : at.vma().mm();
    PteState state = null;
    if (o.containsKey("state")) {
      ConfigValue sv = o.get("state");
      String s = string(sv, "state");
      try {
        state = PteState.valueOf(s);
      } catch (IllegalArgumentException e) {
        throw err(sv, "state: unknown PTE state '" + s + "' (" + java.util.Arrays.toString(PteState.values()) + ")");
      }
    }
    String pfnName = null;
    boolean differs = false;
    if (o.containsKey("pfn")) {
      ConfigValue pv = o.get("pfn");
      String p = string(pv, "pfn");
      differs = p.startsWith("!");
      String n = differs ? p.substring(1) : p;
      if (!n.startsWith("@") || !NAME.matcher(n.substring(1)).matches()) {
        throw err(pv, "pfn: expected \"@NAME\" (the same page as the first @NAME) or \"!@NAME\" (another page), got \"" + p + "\"");
      }
      pfnName = n.substring(1);
      if (differs && !pfnNames.contains(pfnName)) throw err(pv, "pfn: @" + pfnName + " is not named by an earlier pfn = \"@" + pfnName + "\"");
      if (at.pages() != 1) throw err(pv, "pfn: names one page; '" + at.text() + "' has " + at.pages());
      pfnNames.add(pfnName);
    }
    return new Expectation.Pte(line(o), at, mm, state, optBool(o, "write"), optBool(o, "dirty"), optBool(o, "young"),
        pfnName, differs);
  }

  private Expectation folio(ConfigObject o) {
    checkKeys(o, Set.of("page", "mm", "locked", "refcount", "mapcount", "dirty", "anon-exclusive"), "folio", line(o));
    PageRange at = range(required(o, "page", "folio", line(o)));
    int mm = o.containsKey("mm") ? mm(o.get("mm")) : at.vma().mm();
    return new Expectation.Folio(line(o), at, mm, optBool(o, "locked"), optInt(o, "refcount"), optInt(o, "mapcount"),
        optBool(o, "dirty"), optBool(o, "anon-exclusive"));
  }

  private void memory(ConfigObject o, List<Expectation> out) {
    Integer mm = o.containsKey("mm") ? mm(o.get("mm")) : null;
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      if (e.getKey().equals("mm")) continue;
      ConfigValue v = e.getValue();
      PageRange at;
      try {
        at = PageRange.parse(e.getKey(), vmas);
      } catch (IllegalArgumentException x) {
        throw err(v, "memory: " + x.getMessage() + " (quote addresses: \"buf+0:word0\" = 6)");
      }
      Pattern p;
      if (v.valueType() == ConfigValueType.OBJECT) {
        ConfigObject po = (ConfigObject) v;
        checkKeys(po, Set.of("pattern", "plus", "value"), "memory " + e.getKey(), line(po));
        p = valuePattern(po, "memory " + e.getKey(), false);
      } else {
        p = Pattern.constant(integer(v, "memory " + e.getKey()));
      }
      out.add(new Expectation.Memory(line(v), at, mm == null ? at.vma().mm() : mm, p));
    }
  }

  private void deviceExpect(Scenario.Device d, ConfigObject o, List<Expectation> out) {
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      String k = e.getKey();
      ConfigValue v = e.getValue();
      if (k.equals("entry")) {
        for (Map.Entry<String, ConfigValue> x : object(v, "entry").entrySet()) {
          PageRange at;
          try {
            at = PageRange.parse(x.getKey(), vmas);
          } catch (IllegalArgumentException ex) {
            throw err(x.getValue(), "entry: " + ex.getMessage());
          }
          String bits = string(x.getValue(), "entry");
          if (!bits.matches("none|R?W?A?") || bits.isEmpty()) {
            throw err(x.getValue(), "entry: expected none or the bits R, W, A in that order (e.g. RWA), got \"" + bits + "\"");
          }
          out.add(new Expectation.Device(line(x.getValue()), d, null, null, at, bits));
        }
      } else if (Expectation.Device.COUNTERS.contains(k)) {
        out.add(new Expectation.Device(line(v), d, k, bound(v, k), null, null));
      } else {
        throw err(v, "unknown key '" + k + "' for device " + d.name() + " (" + sorted(Expectation.Device.COUNTERS) + ", entry)");
      }
    }
  }

  private void invalidations(Scenario.Device d, ConfigObject o, NotifierKind kind, List<Expectation> out) {
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      String k = e.getKey();
      ConfigValue v = e.getValue();
      if (kind == null && (k.equals("classic") || k.equals("interval"))) {
        invalidations(d, object(v, k), k.equals("classic") ? NotifierKind.CLASSIC : NotifierKind.INTERVAL, out);
      } else if (k.equals("total")) {
        out.add(new Expectation.Invalidations(line(v), d, kind, null, bound(v, k)));
      } else {
        try {
          NotifyEvent.valueOf(k);
        } catch (IllegalArgumentException x) {
          throw err(v, "invalidations: unknown event '" + k + "' (" + java.util.Arrays.toString(NotifyEvent.values())
              + ", total" + (kind == null ? ", classic { }, interval { }" : "") + ")");
        }
        out.add(new Expectation.Invalidations(line(v), d, kind, k, bound(v, k)));
      }
    }
  }

  private void snapshot(ConfigObject o, Scenario.Action outcomeOf, List<Expectation> out) {
    if (!(outcomeOf instanceof Scenario.DmirrorOp)
        || ((Scenario.DmirrorOp) outcomeOf).op() != HmmProtocol.DmirrorOp.SNAPSHOT) {
      throw new ScenarioException(file, line(o), "snapshot: only a dmirror snapshot step returns snapshot flags");
    }
    PageRange range = ((Scenario.DmirrorOp) outcomeOf).at();
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      ConfigValue v = e.getValue();
      PageRange at;
      try {
        at = PageRange.parse(e.getKey(), vmas);
      } catch (IllegalArgumentException x) {
        throw err(v, "snapshot: " + x.getMessage());
      }
      if (at.vma() != range.vma() || at.firstPage() < range.firstPage() || at.lastPage() > range.lastPage()) {
        throw err(v, "snapshot: " + at.text() + " is outside the snapshot's range " + range.text());
      }
      java.util.SortedSet<String> flags = new java.util.TreeSet<>();
      for (String t : string(v, "snapshot").trim().split("\\s+")) {
        if (t.equals("NONE") || t.equals("VALID") || t.equals("WRITE") || t.equals("ERROR")) {
          flags.add(t);
        } else if (t.startsWith("EXCLUSIVE:") && devices.containsKey(t.substring("EXCLUSIVE:".length()))) {
          flags.add("EXCLUSIVE:" + devices.get(t.substring("EXCLUSIVE:".length())).id());
        } else {
          throw err(v, "snapshot: unknown flag '" + t + "' (NONE, VALID, WRITE, ERROR, EXCLUSIVE:<device>)");
        }
      }
      if (flags.contains("NONE") && flags.size() > 1) throw err(v, "snapshot: NONE stands alone");
      out.add(new Expectation.Snapshot(line(v), range, at, flags));
    }
  }

  private void data(ConfigValue v, Scenario.Action outcomeOf, List<Expectation> out) {
    if (!(outcomeOf instanceof Scenario.DmirrorOp)) throw err(v, "data: only a dmirror ioctl returns data");
    PageRange range = ((Scenario.DmirrorOp) outcomeOf).at();
    if (v.valueType() == ConfigValueType.LIST) {
      List<Long> values = new ArrayList<>();
      for (ConfigValue x : (ConfigList) v) values.add(integer(x, "data"));
      out.add(new Expectation.Data(line(v), List.copyOf(values), null, range, range));
      return;
    }
    ConfigObject o = object(v, "data");
    Set<String> patternKeys = Set.of("pattern", "plus", "value");
    if (o.keySet().stream().anyMatch(patternKeys::contains)) {
      checkKeys(o, patternKeys, "data", line(o));
      out.add(new Expectation.Data(line(v), null, valuePattern(o, "data", false), range, range));
      return;
    }
    // Per-range form: data { "buf+0..1" = 0, "buf+2..1023" = { pattern = index } }
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      ConfigValue x = e.getValue();
      PageRange at;
      try {
        at = PageRange.parse(e.getKey(), vmas);
      } catch (IllegalArgumentException ex) {
        throw err(x, "data: " + ex.getMessage());
      }
      if (at.vma() != range.vma() || at.firstPage() < range.firstPage() || at.lastPage() > range.lastPage()) {
        throw err(x, "data: " + at.text() + " is outside the ioctl's range " + range.text());
      }
      Pattern p;
      if (x.valueType() == ConfigValueType.OBJECT) {
        ConfigObject po = (ConfigObject) x;
        checkKeys(po, patternKeys, "data " + e.getKey(), line(po));
        p = valuePattern(po, "data " + e.getKey(), false);
      } else {
        p = Pattern.constant(integer(x, "data " + e.getKey()));
      }
      out.add(new Expectation.Data(line(x), null, p, range, at));
    }
  }

  // ------------------------------------------------------------------------------------------------ values

  private Scenario.Device device(String name, ConfigValue v) {
    Scenario.Device d = devices.get(name);
    if (d == null) throw err(v, "unknown device '" + name + "' (declared: " + String.join(", ", devices.keySet()) + ")");
    return d;
  }

  private PageRange range(ConfigValue v) {
    String s = string(v, "address");
    try {
      return PageRange.parse(s, vmas);
    } catch (IllegalArgumentException e) {
      throw err(v, e.getMessage());
    }
  }

  private int mm(ConfigValue v) {
    if (v.valueType() == ConfigValueType.NUMBER) {
      long mm = integer(v, "mm");
      if (mm < 1 || mm > Integer.MAX_VALUE) throw err(v, "mm: must be >= 1, got " + mm);
      return (int) mm;
    }
    String s = string(v, "mm");
    Scenario.Process p = processes.get(s);
    if (p == null) throw err(v, "unknown process '" + s + "' (declared: " + String.join(", ", processes.keySet()) + ")");
    return p.mm();
  }

  private int prot(ConfigValue v) {
    String s = string(v, "prot");
    switch (s) {
      case "rw": return Prot.RW;
      case "r": return Prot.READ;
      case "w": return Prot.WRITE;
      case "none": return Prot.NONE;
      default: throw err(v, "prot: expected rw, r, w or none, got \"" + s + "\"");
    }
  }

  private String newName(ConfigValue v, String what) {
    String name = string(v, "name");
    if (!NAME.matcher(name).matches()) throw err(v, "name: '" + name + "' is not a plain name (letters, digits, _ and -)");
    if (THREAD.matcher(name).matches()) throw err(v, "name: " + name + " is reserved for CPU threads (T<n>)");
    if (name.equals("cpu") || META_KEYS.contains(name) || CONTROL_ACTIONS.contains(name)) {
      throw err(v, "name: '" + name + "' is a keyword");
    }
    if (processes.containsKey(name) || devices.containsKey(name)) throw err(v, what + " name '" + name + "' is already used");
    return name;
  }

  private ScenarioException err(ConfigValue v, String msg) { return new ScenarioException(file, line(v), msg); }

  private static int line(ConfigValue v) {
    if (v == null || v.origin() == null) return 1;
    int l = v.origin().lineNumber();
    return l < 1 ? 1 : l;
  }

  private ConfigValue required(ConfigObject o, String key, String where, int line) {
    ConfigValue v = o.get(key);
    if (v == null) throw new ScenarioException(file, line, where + ": missing required key '" + key + "'");
    return v;
  }

  private void checkKeys(ConfigObject o, Set<String> allowed, String where, int line) {
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      if (!allowed.contains(e.getKey())) {
        throw err(e.getValue(), "unknown key '" + e.getKey() + "' in " + where + " (expected one of: " + sorted(allowed) + ")");
      }
    }
  }

  private static String sorted(Set<String> s) { return String.join(", ", new java.util.TreeSet<>(s)); }

  private String string(ConfigValue v, String what) {
    if (v.valueType() != ConfigValueType.STRING) {
      throw err(v, what + ": expected a string, got " + v.valueType().name().toLowerCase() + " " + v.render());
    }
    return ((String) v.unwrapped()).trim();
  }

  private long integer(ConfigValue v, String what) {
    if (v.valueType() == ConfigValueType.NUMBER) {
      Number n = (Number) v.unwrapped();
      if (n instanceof Double || n instanceof Float) {
        double d = n.doubleValue();
        if (d != Math.rint(d)) throw err(v, what + ": expected an integer, got " + v.render());
        return (long) d;
      }
      return n.longValue();
    }
    if (v.valueType() == ConfigValueType.STRING) {
      String s = ((String) v.unwrapped()).trim().replace("_", "");
      try {
        if (s.startsWith("0x") || s.startsWith("0X")) return Long.parseUnsignedLong(s.substring(2), 16);
        if (s.startsWith("-0x")) return -Long.parseLong(s.substring(3), 16);
        return Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw err(v, what + ": expected an integer, got \"" + v.unwrapped() + "\"");
      }
    }
    throw err(v, what + ": expected an integer, got " + v.valueType().name().toLowerCase() + " " + v.render());
  }

  private boolean bool(ConfigValue v, String what) {
    if (v.valueType() == ConfigValueType.BOOLEAN) return (Boolean) v.unwrapped();
    if (v.valueType() == ConfigValueType.STRING) {
      String s = ((String) v.unwrapped()).trim();
      if (s.equals("true") || s.equals("yes") || s.equals("on")) return true;
      if (s.equals("false") || s.equals("no") || s.equals("off")) return false;
    }
    throw err(v, what + ": expected true or false, got " + v.render());
  }

  private Boolean optBool(ConfigObject o, String k) { return o.containsKey(k) ? bool(o.get(k), k) : null; }

  private Integer optInt(ConfigObject o, String k) { return o.containsKey(k) ? (int) integer(o.get(k), k) : null; }

  private Duration duration(ConfigValue v, String what) {
    try {
      return ConfigFactory.empty().withValue("d", v).getDuration("d");
    } catch (ConfigException e) {
      throw err(v, what + ": expected a duration such as 500ms or 10s, got " + v.render());
    }
  }

  private Duration positive(ConfigValue v, String what) {
    Duration d = duration(v, what);
    if (d.isNegative() || d.isZero()) throw err(v, what + ": must be > 0, got " + v.render());
    return d;
  }

    private ConfigObject object(ConfigValue v, String what) {
    if (v.valueType() != ConfigValueType.OBJECT) {
      throw err(v, what + ": expected an object { ... }, got " + v.valueType().name().toLowerCase() + " " + v.render());
    }
    return (ConfigObject) v;
  }

  private List<ConfigObject> objects(ConfigValue v, String what) {
    List<ConfigObject> out = new ArrayList<>();
    if (v.valueType() == ConfigValueType.LIST) {
      for (ConfigValue x : (ConfigList) v) out.add(object(x, what));
    } else {
      out.add(object(v, what));
    }
    return out;
  }

  private ConfigList list(ConfigValue v, String what) {
    if (v.valueType() != ConfigValueType.LIST) {
      throw err(v, what + ": expected a list [ ... ], got " + v.valueType().name().toLowerCase() + " " + v.render());
    }
    return (ConfigList) v;
  }

  private static String hex(long v) { return "0x" + Long.toHexString(v); }
}
