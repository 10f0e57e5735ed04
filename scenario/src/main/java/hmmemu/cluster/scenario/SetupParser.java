package hmmemu.cluster.scenario;

import static hmmemu.cluster.scenario.ScenarioReader.NAME;
import static hmmemu.cluster.scenario.ScenarioReader.hex;
import static hmmemu.cluster.scenario.ScenarioReader.line;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import hmmemu.node.link.FaultSchedule;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The set-up part of a scenario: switches, processes, devices, VMAs and the faults block, in declaration order, and
 * the look-ups the step and expectation parsers resolve names with (a device, a process's mm, an address range).
 */
final class SetupParser {
  private static final Set<String> SWITCH_KEYS = Set.of("folio-lock-until-mapped", "owner-filter",
      "driver-lock-across-conversion", "leak-folio-on-retry", "dmirror-seq-check", "hmm-pfn-exclusive",
      "driver-deadline", "mutants");

  private final ScenarioReader r;
  private final String file;
  private final Map<String, Scenario.Process> processes = new LinkedHashMap<>();
  private final Map<String, Scenario.Device> devices = new LinkedHashMap<>();
  private final Map<String, Scenario.Vma> vmas = new LinkedHashMap<>();

  SetupParser(ScenarioReader r) {
    this.r = r;
    this.file = r.file();
  }

  /** The processes declared so far, by name, in order. */
  Map<String, Scenario.Process> processes() { return processes; }

  /** The devices declared so far, by name, in order. */
  Map<String, Scenario.Device> devices() { return devices; }

  /** The VMAs declared so far, by name, in order. */
  Map<String, Scenario.Vma> vmas() { return vmas; }

  /**
   * The {@code faults} block: a list of FaultSchedule lines (docs/LATENCY.md syntax, e.g. {@code "at 2s add 5ms to
   * cpu0->gpu1 for 3s"}) or one multi-line string. Errors name the file and the line of the bad entry.
   */
  FaultSchedule faults(ConfigValue v, int gpuNodes, ScenarioValidator validator) {
    List<String> lines = new ArrayList<>();
    List<Integer> origins = new ArrayList<>();
    if (v.valueType() == ConfigValueType.LIST) {
      for (ConfigValue e : (ConfigList) v) {
        if (e.valueType() != ConfigValueType.STRING) throw r.err(e, "faults: expected a string like \"at 2s partition gpu1 for 1s\"");
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
      throw r.err(v, "faults: expected a list of schedule lines or a string");
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
    validator.faultTimeline(schedule, en -> origins.get(Math.min(origins.size(), en.line()) - 1));
    return schedule;
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

  ModelSwitches switches(ConfigObject o, ModelSwitches s) {
    r.checkKeys(o, SWITCH_KEYS, "switches", line(o));
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      String k = e.getKey();
      ConfigValue v = e.getValue();
      switch (k) {
        case "folio-lock-until-mapped": s = s.withFolioLockUntilMapped(r.bool(v, k)); break;
        case "owner-filter": s = s.withOwnerFilter(r.bool(v, k)); break;
        case "driver-lock-across-conversion": s = s.withDriverLockAcrossConversion(r.bool(v, k)); break;
        case "leak-folio-on-retry": s = s.withLeakFolioOnRetry(r.bool(v, k)); break;
        case "dmirror-seq-check": s = s.withDmirrorSeqCheck(r.bool(v, k)); break;
        case "hmm-pfn-exclusive": s = s.withHmmPfnExclusive(r.bool(v, k)); break;
        case "driver-deadline": {
          long micros = r.duration(v, k).toNanos() / 1000;
          if (micros <= 0) throw r.err(v, "driver-deadline: must be > 0");
          s = s.withDriverDeadlineMicros(micros);
          break;
        }
        case "mutants": { // deliberate model mutations (docs/TESTING.md), by kebab-case name
          for (ConfigValue x : r.list(v, k)) {
            try {
              s = s.withMutant(hmmemu.protocol.model.Mutant.parse(r.string(x, k)));
            } catch (IllegalArgumentException ex) {
              throw r.err(x, "mutants: " + ex.getMessage());
            }
          }
          break;
        }
        default: throw r.err(v, "unknown switch '" + k + "'");
      }
    }
    return s;
  }

  void process(ConfigObject o) {
    r.checkKeys(o, Set.of("name", "mm"), "a process", line(o));
    ConfigValue nv = r.required(o, "name", "a process", line(o));
    String name = newName(nv, "process");
    ConfigValue mv = r.required(o, "mm", "process " + name, line(o));
    int mm = (int) r.integer(mv, "mm");
    if (mm < 1) throw r.err(mv, "mm: must be >= 1, got " + mm);
    for (Scenario.Process p : processes.values()) {
      if (p.mm() == mm) throw r.err(mv, "mm " + mm + " already belongs to process " + p.name());
    }
    processes.put(name, new Scenario.Process(name, mm, line(o)));
  }

  void device(ConfigObject o) {
    r.checkKeys(o, Set.of("name", "node", "driver", "index", "bind"), "a device", line(o));
    String name = newName(r.required(o, "name", "a device", line(o)), "device");
    ConfigValue nodeV = r.required(o, "node", "device " + name, line(o));
    int node = (int) r.integer(nodeV, "node");
    if (node < 1 || node > 15) throw r.err(nodeV, "node: GPU nodes are numbered 1..15, got " + node);
    ConfigValue drvV = r.required(o, "driver", "device " + name, line(o));
    String drv = r.string(drvV, "driver");
    DriverFlavour flavour;
    if (drv.equals("dmirror")) {
      flavour = DriverFlavour.DMIRROR;
    } else if (drv.equals("nouveau")) {
      flavour = DriverFlavour.NOUVEAU;
    } else {
      throw r.err(drvV, "driver: expected dmirror or nouveau, got \"" + drv + "\"");
    }
    int index = 0;
    for (Scenario.Device d : devices.values()) if (d.node() == node) index = Math.max(index, d.index() + 1);
    if (o.containsKey("index")) {
      ConfigValue iv = o.get("index");
      index = (int) r.integer(iv, "index");
      if (index < 0 || index > 15) throw r.err(iv, "index: must be in [0, 15], got " + index);
      for (Scenario.Device d : devices.values()) {
        if (d.node() == node && d.index() == index) throw r.err(iv, "index " + index + " on node " + node + " is device " + d.name());
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

  void vma(ConfigObject o) {
    r.checkKeys(o, Set.of("name", "mm", "start", "pages", "prot", "kind", "mapped", "fill", "fill-words", "thp"), "a VMA",
        line(o));
    ConfigValue nv = r.required(o, "name", "a VMA", line(o));
    String name = r.string(nv, "name");
    if (!NAME.matcher(name).matches()) throw r.err(nv, "name: '" + name + "' is not a plain name (letters, digits, _ and -)");
    if (vmas.containsKey(name)) throw r.err(nv, "VMA " + name + " is declared twice");
    int mm = o.containsKey("mm") ? mm(o.get("mm")) : processes.values().iterator().next().mm();
    ConfigValue sv = r.required(o, "start", "VMA " + name, line(o));
    long start = r.integer(sv, "start");
    if ((start & (Page.SIZE - 1)) != 0 || start <= 0) throw r.err(sv, "start: must be a page-aligned address > 0, got " + hex(start));
    ConfigValue pv = r.required(o, "pages", "VMA " + name, line(o));
    long pages = r.integer(pv, "pages");
    if (pages < 1 || pages > (1 << 20)) throw r.err(pv, "pages: must be in [1, 1048576], got " + pages);
    // Compared without forming start + size, which wraps past Long.MAX_VALUE for a start near it.
    if (start >= Page.TASK_SIZE || pages * Page.SIZE > Page.TASK_SIZE - start) {
      throw r.err(sv, "VMA " + name + " ends beyond TASK_SIZE");
    }
    int prot = o.containsKey("prot") ? prot(o.get("prot")) : Prot.RW;
    VmaKind kind = VmaKind.ANON_PRIVATE;
    if (o.containsKey("kind")) {
      ConfigValue kv = o.get("kind");
      String k = r.string(kv, "kind");
      switch (k) {
        case "anon-private": kind = VmaKind.ANON_PRIVATE; break;
        case "anon-shared": kind = VmaKind.ANON_SHARED; break;
        case "file-private": kind = VmaKind.FILE_PRIVATE; break;
        case "hugetlb": kind = VmaKind.HUGETLB; break;
        default: throw r.err(kv, "kind: expected anon-private, anon-shared, file-private or hugetlb, got \"" + k + "\"");
      }
    }
    boolean mapped = !o.containsKey("mapped") || r.bool(o.get("mapped"), "mapped");
    Scenario.Fill fill = Scenario.Fill.NONE;
    if (o.containsKey("fill")) {
      ConfigValue fv = o.get("fill");
      String f = r.string(fv, "fill");
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
        default: throw r.err(fv, "fill: expected none, zero or index, got \"" + f + "\"");
      }
      if (fill.populate() && (prot & Prot.WRITE) == 0) throw r.err(fv, "fill: VMA " + name + " is not writable, a fill would SIGSEGV");
      if (fill.populate() && !mapped) throw r.err(fv, "fill: VMA " + name + " is not mapped at the start");
    } else if (o.containsKey("fill-words")) {
      throw r.err(o.get("fill-words"), "fill-words without fill");
    }
    int thpOrder = 0;
    if (o.containsKey("thp")) { // madvise(MADV_HUGEPAGE) after the mmap, before the fill
      ConfigValue tv = o.get("thp");
      if (tv.valueType() == ConfigValueType.BOOLEAN) {
        thpOrder = r.bool(tv, "thp") ? 9 : 0;
      } else {
        long n = r.integer(tv, "thp");
        if (n < 2 || n > 9) throw r.err(tv, "thp: true (PMD THP) or a folio order 2..9 (mTHP), got " + n);
        thpOrder = (int) n;
      }
      if (thpOrder != 0 && kind != VmaKind.ANON_PRIVATE) throw r.err(tv, "thp: only an anon-private VMA can be THP-backed");
      if (thpOrder != 0 && !mapped) throw r.err(tv, "thp: VMA " + name + " is not mapped at the start; use a madvise-hugepage step after its mmap");
    }
    Scenario.Vma vma = new Scenario.Vma(name, mm, start, (int) pages, prot, kind, mapped, fill, line(o), thpOrder);
    for (Scenario.Vma other : vmas.values()) {
      if (other.mm() == mm && start < other.end() && other.start() < vma.end()) {
        throw r.err(sv, "VMA " + name + " overlaps VMA " + other.name() + " of mm " + mm);
      }
    }
    vmas.put(name, vma);
  }

  private int[] wordRange(ConfigValue v) {
    if (v.valueType() == ConfigValueType.NUMBER) {
      int w = (int) r.integer(v, "fill-words");
      if (w < 0 || w >= Page.WORDS) throw r.err(v, "fill-words: word " + w + " is outside the page (0.." + (Page.WORDS - 1) + ")");
      return new int[] {w, w};
    }
    String s = r.string(v, "fill-words");
    String[] parts = s.split("\\.\\.", -1);
    try {
      int a = Integer.parseInt(parts[0].trim());
      int b = parts.length == 2 ? Integer.parseInt(parts[1].trim()) : a;
      if (parts.length > 2 || a < 0 || b < a || b >= Page.WORDS) throw new NumberFormatException();
      return new int[] {a, b};
    } catch (NumberFormatException e) {
      throw r.err(v, "fill-words: expected N or N..M with 0 <= N <= M <= " + (Page.WORDS - 1) + ", got \"" + s + "\"");
    }
  }

  Scenario.Device device(String name, ConfigValue v) {
    Scenario.Device d = devices.get(name);
    if (d == null) throw r.err(v, "unknown device '" + name + "' (declared: " + String.join(", ", devices.keySet()) + ")");
    return d;
  }

  PageRange range(ConfigValue v) {
    String s = r.string(v, "address");
    try {
      return PageRange.parse(s, vmas);
    } catch (IllegalArgumentException e) {
      throw r.err(v, e.getMessage());
    }
  }

  int mm(ConfigValue v) {
    if (v.valueType() == ConfigValueType.NUMBER) {
      long mm = r.integer(v, "mm");
      if (mm < 1 || mm > Integer.MAX_VALUE) throw r.err(v, "mm: must be >= 1, got " + mm);
      return (int) mm;
    }
    String s = r.string(v, "mm");
    Scenario.Process p = processes.get(s);
    if (p == null) throw r.err(v, "unknown process '" + s + "' (declared: " + String.join(", ", processes.keySet()) + ")");
    return p.mm();
  }

  int prot(ConfigValue v) {
    String s = r.string(v, "prot");
    switch (s) {
      case "rw": return Prot.RW;
      case "r": return Prot.READ;
      case "w": return Prot.WRITE;
      case "none": return Prot.NONE;
      default: throw r.err(v, "prot: expected rw, r, w or none, got \"" + s + "\"");
    }
  }

  private String newName(ConfigValue v, String what) {
    String name = r.string(v, "name");
    if (!NAME.matcher(name).matches()) throw r.err(v, "name: '" + name + "' is not a plain name (letters, digits, _ and -)");
    if (StepParser.THREAD.matcher(name).matches()) throw r.err(v, "name: " + name + " is reserved for CPU threads (T<n>)");
    if (name.equals("cpu") || StepParser.META_KEYS.contains(name) || StepParser.CONTROL_ACTIONS.contains(name)) {
      throw r.err(v, "name: '" + name + "' is a keyword");
    }
    if (processes.containsKey(name) || devices.containsKey(name)) throw r.err(v, what + " name '" + name + "' is already used");
    return name;
  }
}
