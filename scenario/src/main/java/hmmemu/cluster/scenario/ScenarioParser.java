package hmmemu.cluster.scenario;

import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import hmmemu.node.link.FaultSchedule;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads a scenario file (HOCON, docs/SCENARIOS.md) and validates all of it before anything runs: unknown keys, bad
 * values, unknown actors, pauses and steps, and addresses outside every VMA are each reported as one
 * {@link ScenarioException} line {@code FILE:LINE: what is wrong}, with the line from the HOCON value's origin.
 *
 * <p>The work is split: {@link ScenarioReader} (HOCON to a tree with lines, typed values), {@link SetupParser}
 * (switches, processes, devices, VMAs, faults), {@link StepParser} (steps), {@link ExpectationParser} (expect
 * blocks) and {@link ScenarioValidator} (what earlier steps did: ids, async steps, pause points, crashes). This class
 * reads the top-level keys in order and hands each part to its parser, so the first problem in the file is reported.
 */
public final class ScenarioParser {
  /** The default bound on how long a step may take before the runner reports a deadlock. */
  public static final Duration DEFAULT_STEP_TIMEOUT = Duration.ofSeconds(10);

  private static final Set<String> TOP_KEYS = Set.of("name", "case", "description", "profile", "switches", "gpu-nodes",
      "step-timeout", "time-scale", "processes", "devices", "vmas", "steps", "faults", "link",
      "liveness", "order");

  private final String file;
  private final ScenarioReader r;
  private final SetupParser setup;

  private ScenarioParser(String file) {
    this.file = file;
    this.r = new ScenarioReader(file);
    this.setup = new SetupParser(r);
  }

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
    ConfigObject root = r.read(text);
    r.checkKeys(root, TOP_KEYS, "the scenario", 1);
    String name = r.string(r.required(root, "name", "the scenario", 1), "name");
    String caseId = root.containsKey("case") ? r.string(root.get("case"), "case") : null;
    String description = root.containsKey("description") ? r.string(root.get("description"), "description") : "";
    ModelSwitches switches = ModelSwitches.kernel();
    List<KernelProfile> profiles = List.of(KernelProfile.V6_15);
    if (root.containsKey("profile")) {
      ConfigValue v = root.get("profile");
      List<ConfigValue> names = v.valueType() == ConfigValueType.LIST ? r.list(v, "profile") : List.of(v);
      List<KernelProfile> ps = new ArrayList<>();
      for (ConfigValue x : names) {
        String p = r.string(x, "profile");
        KernelProfile kp = p.equals("v6.15") ? KernelProfile.V6_15 : p.equals("v5.14") ? KernelProfile.V5_14 : null;
        if (kp == null) throw r.err(x, "profile: expected \"v6.15\" or \"v5.14\" (or a list of them), got \"" + p + "\"");
        if (ps.contains(kp)) throw r.err(x, "profile: " + p + " is listed twice");
        ps.add(kp);
      }
      if (ps.isEmpty()) throw r.err(v, "profile: name at least one profile");
      profiles = List.copyOf(ps);
      switches = switches.withKernelProfile(profiles.get(0));
    }
    if (root.containsKey("switches")) switches = setup.switches(r.object(root.get("switches"), "switches"), switches);
    Duration stepTimeout = root.containsKey("step-timeout")
        ? r.positive(root.get("step-timeout"), "step-timeout") : DEFAULT_STEP_TIMEOUT;
    double timeScale = 0;
    if (root.containsKey("time-scale")) {
      ConfigValue v = root.get("time-scale");
      if (v.valueType() != ConfigValueType.NUMBER) {
        throw r.err(v, "time-scale: expected a number (real µs per model µs), got " + v.render());
      }
      timeScale = ((Number) v.unwrapped()).doubleValue();
      if (!(timeScale > 0) || Double.isInfinite(timeScale)) {
        throw r.err(v, "time-scale: must be a positive number, got " + v.render());
      }
    }
    boolean lanes = false;
    if (root.containsKey("link")) { // link { lanes = per-thread | off } (hmm-emu.link.lanes, docs/PROTOCOL.md §5.8)
      ConfigObject link = r.object(root.get("link"), "link");
      r.checkKeys(link, Set.of("lanes"), "link", ScenarioReader.line(root.get("link")));
      if (link.containsKey("lanes")) {
        ConfigValue v = link.get("lanes");
        try {
          lanes = hmmemu.node.link.LinkSettings.lanes(r.string(v, "link.lanes"));
        } catch (IllegalArgumentException e) {
          throw r.err(v, "link." + e.getMessage());
        }
      }
    }

    Duration livelockSpan = null;
    if (root.containsKey("liveness")) { // liveness { livelock-span = 40us } (docs/SCENARIOS.md "Liveness verdicts")
      ConfigObject liveness = r.object(root.get("liveness"), "liveness");
      r.checkKeys(liveness, Set.of("livelock-span"), "liveness", ScenarioReader.line(root.get("liveness")));
      if (liveness.containsKey("livelock-span")) {
        ConfigValue v = liveness.get("livelock-span");
        livelockSpan = r.positive(v, "liveness.livelock-span");
      }
    }

    if (root.containsKey("processes")) {
      for (ConfigValue v : r.list(root.get("processes"), "processes")) setup.process(r.object(v, "a process"));
    } else {
      setup.processes().put("P1", new Scenario.Process("P1", 1, 1));
    }
    if (setup.processes().isEmpty()) throw r.err(root.get("processes"), "processes: declare at least one process");
    if (root.containsKey("devices")) {
      for (ConfigValue v : r.list(root.get("devices"), "devices")) setup.device(r.object(v, "a device"));
    }
    int maxNode = 0;
    for (Scenario.Device d : setup.devices().values()) maxNode = Math.max(maxNode, d.node());
    int gpuNodes = Math.max(1, maxNode);
    if (root.containsKey("gpu-nodes")) {
      ConfigValue v = root.get("gpu-nodes");
      gpuNodes = (int) r.integer(v, "gpu-nodes");
      if (gpuNodes < 1 || gpuNodes > 15) throw r.err(v, "gpu-nodes: must be in [1, 15], got " + gpuNodes);
      if (gpuNodes < maxNode) throw r.err(v, "gpu-nodes: " + gpuNodes + " nodes, but a device sits on node " + maxNode);
    }
    for (ConfigValue v : r.list(r.required(root, "vmas", "the scenario", 1), "vmas")) setup.vma(r.object(v, "a VMA"));
    ScenarioValidator validator = new ScenarioValidator(r, gpuNodes);
    validator.profiles(profiles);
    FaultSchedule faults = root.containsKey("faults") ? setup.faults(root.get("faults"), gpuNodes, validator)
        : FaultSchedule.none();
    StepParser stepParser = new StepParser(r, setup, validator);

    List<Scenario.Step> steps = new ArrayList<>();
    int index = 0;
    for (ConfigValue v : r.list(r.required(root, "steps", "the scenario", 1), "steps")) {
      steps.add(stepParser.step(++index, r.object(v, "a step")));
    }
    List<Scenario.OrderEntry> order = new ArrayList<>();
    if (root.containsKey("order")) {
      for (ConfigValue v : r.list(root.get("order"), "order")) order.add(orderEntry(v));
      if (order.isEmpty()) throw r.err(root.get("order"), "order: name at least one message");
      pausesOffOrderedDirections(steps, order);
    }
    return new Scenario(file, name, caseId, description, switches, gpuNodes, stepTimeout, timeScale,
        List.copyOf(setup.processes().values()), List.copyOf(setup.devices().values()),
        List.copyOf(setup.vmas().values()), List.copyOf(steps), faults, profiles, lanes, livelockSpan,
        List.copyOf(order));
  }

  /**
   * Refuses a link pause point on a direction the file's {@code order} pins (docs/SCENARIOS.md "Pinning every
   * order"): the order already fixes every input sequence of the receiving node, so a pause point there cannot change
   * an order, only stall the pinned one (a deadlock when its resume waits for a step that needs the held message),
   * and the order gate and the pause gate would stack differently on the hosts. A controller hold may combine with
   * an order (both are the controller's, {@link ControllerHolds}: the order's gate first, then the hold). Not a
   * kernel rule.
   */
  private void pausesOffOrderedDirections(List<Scenario.Step> steps, List<Scenario.OrderEntry> order) {
    for (Scenario.Step st : steps) {
      if (st.action() instanceof Scenario.ConcurrentOp c) pausesOffOrderedDirections(c.steps(), order);
      if (!(st.action() instanceof Scenario.PauseOp p) || p.controller()) continue;
      for (Scenario.OrderEntry e : order) {
        if (e.fromNode() == p.fromNode() && e.toNode() == p.toNode()) {
          throw new ScenarioException(file, st.line(), "pause " + p.pauseId() + " (" + p.from() + " -> " + p.to()
              + "): the order pins that direction (\"" + e.text() + "\", line " + e.line()
              + "); a pause point and an order do not combine on one direction");
        }
      }
    }
  }

  /**
   * One entry of {@code order = [...]} (docs/SCENARIOS.md "Pinning every order"): {@code "FROM>TO Type SENT[/DELIVERED]"},
   * FROM and TO {@code cpu} and a device (a link message) or {@code controller} and {@code cpu} or a device (a step's
   * request).
   */
  private Scenario.OrderEntry orderEntry(ConfigValue v) {
    String text = r.string(v, "order");
    String[] w = text.trim().split("\\s+");
    String[] ends = w.length == 3 ? w[0].split(">", -1) : new String[0];
    String[] n = w.length == 3 ? w[2].split("/", -1) : new String[0];
    if (ends.length != 2 || n.length < 1 || n.length > 2) {
      throw r.err(v, "order: \"" + text + "\" is not \"FROM>TO Type SENT[/DELIVERED]\" (e.g. \"G>cpu FolioUnlockPut 0\")");
    }
    int sent;
    int delivered;
    try {
      sent = Integer.parseInt(n[0]);
      delivered = n.length == 2 ? Integer.parseInt(n[1]) : sent;
    } catch (NumberFormatException e) {
      throw r.err(v, "order: \"" + text + "\": SENT and DELIVERED are counts from 0");
    }
    if (sent < 0 || delivered < 0) throw r.err(v, "order: \"" + text + "\": SENT and DELIVERED are counts from 0");
    try {
      Class.forName("hmmemu.protocol.msg.HmmProtocol$" + w[1]);
    } catch (ClassNotFoundException e) {
      throw r.err(v, "order: \"" + text + "\": " + w[1] + " is not a protocol message type");
    }
    boolean request = ends[0].equals("controller");
    Scenario.Device dev = null;
    for (String end : new String[] {ends[0], ends[1]}) {
      if (end.equals("cpu") || end.equals("controller")) continue;
      dev = setup.devices().get(end);
      if (dev == null) throw r.err(v, "order: \"" + text + "\": " + end + " is no declared device (nor cpu, controller)");
    }
    boolean cpuEnd = ends[0].equals("cpu") || ends[1].equals("cpu");
    if (ends[1].equals("controller") || (request ? false : !cpuEnd || dev == null) || ends[0].equals(ends[1])) {
      throw r.err(v, "order: \"" + text + "\": a link message goes between cpu and a device, a request from controller");
    }
    int fromNode = request ? -1 : ends[0].equals("cpu") ? 0 : dev.node();
    int toNode = ends[1].equals("cpu") ? 0 : dev.node();
    return new Scenario.OrderEntry(fromNode, toNode, ends[0], ends[1], w[1], request ? -1 : dev.id(), sent,
        delivered, ScenarioReader.line(v));
  }
}
