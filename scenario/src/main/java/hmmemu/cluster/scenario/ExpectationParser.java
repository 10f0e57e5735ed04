package hmmemu.cluster.scenario;

import static hmmemu.cluster.scenario.ScenarioReader.NAME;
import static hmmemu.cluster.scenario.ScenarioReader.line;
import static hmmemu.cluster.scenario.ScenarioReader.sorted;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A step's {@code expect} block: each key becomes one or more {@link Expectation}s, with its line. Names resolve
 * through the {@link SetupParser}; the earlier steps' ids and pfn names come from the {@link ScenarioValidator}.
 */
final class ExpectationParser {
  private static final Set<String> EXPECT_KEYS = Set.of("pte", "folio", "memory", "device", "result", "value",
      "counters", "data", "snapshot", "invalidations", "cpu-faults", "total-cpu-faults", "driver-iterations", "driver-timeouts",
      "violations", "violations-include", "deadlock", "hmm-range-fault", "v6.15", "v5.14", "pending", "completed", "trace",
      "notifier");
  /** The trace event types (hmmemu.protocol.trace.Trace.Event) a {@code trace} expectation may count. */
  static final Set<String> TRACE_EVENTS = java.util.Arrays.stream(
      hmmemu.protocol.trace.Trace.Event.class.getPermittedSubclasses()).map(Class::getSimpleName)
      .collect(java.util.stream.Collectors.toUnmodifiableSet());

  private final ScenarioReader r;
  private final String file;
  private final SetupParser setup;
  private final ScenarioValidator validator;

  ExpectationParser(ScenarioReader r, SetupParser setup, ScenarioValidator validator) {
    this.r = r;
    this.file = r.file();
    this.setup = setup;
    this.validator = validator;
  }

  /** The expectations of one step; {@code outcomeOf} is the action whose outcome they may read (data, snapshot). */
  List<Expectation> expectations(ConfigObject o, Scenario.Action outcomeOf) {
    r.checkKeys(o, EXPECT_KEYS, "expect", line(o));
    List<Expectation> out = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      String k = e.getKey();
      ConfigValue v = e.getValue();
      switch (k) {
        case "pte":
          for (ConfigObject x : r.objects(v, "pte")) out.add(pte(x));
          break;
        case "folio":
          for (ConfigObject x : r.objects(v, "folio")) out.add(folio(x));
          break;
        case "memory":
          memory(r.object(v, "memory"), out);
          break;
        case "device":
          for (Map.Entry<String, ConfigValue> d : r.object(v, "device").entrySet()) {
            deviceExpect(setup.device(d.getKey(), d.getValue()), r.object(d.getValue(), d.getKey()), out);
          }
          break;
        case "result": {
          String s = v.valueType() == ConfigValueType.NUMBER ? String.valueOf(r.integer(v, "result")) : r.string(v, "result");
          Errno errno = Expectation.errno(s);
          if (errno == null) throw r.err(v, "result: unknown errno '" + s + "' (" + Expectation.errnoNames() + ")");
          out.add(new Expectation.Result(line(v), errno));
          break;
        }
        case "value":
          out.add(new Expectation.Value(line(v), r.integer(v, "value")));
          break;
        case "counters": {
          ConfigObject c = r.object(v, "counters");
          r.checkKeys(c, Set.of("faults", "cpages"), "counters", line(c));
          for (Map.Entry<String, ConfigValue> x : c.entrySet()) {
            out.add(new Expectation.Counters(line(x.getValue()), x.getKey(), r.bound(x.getValue(), x.getKey())));
          }
          break;
        }
        case "data":
          data(v, outcomeOf, out);
          break;
        case "snapshot":
          snapshot(r.object(v, "snapshot"), outcomeOf, out);
          break;
        case "invalidations":
          for (Map.Entry<String, ConfigValue> d : r.object(v, "invalidations").entrySet()) {
            invalidations(setup.device(d.getKey(), d.getValue()), r.object(d.getValue(), d.getKey()), null, out);
          }
          break;
        case "cpu-faults":
          out.add(new Expectation.CpuFaults(line(v), r.bound(v, k), false));
          break;
        case "total-cpu-faults":
          out.add(new Expectation.CpuFaults(line(v), r.bound(v, k), true));
          break;
        case "driver-iterations":
        case "driver-timeouts":
          for (Map.Entry<String, ConfigValue> d : r.object(v, k).entrySet()) {
            out.add(new Expectation.Device(line(d.getValue()), setup.device(d.getKey(), d.getValue()),
                k.equals("driver-iterations") ? "iterations" : "timeouts", r.bound(d.getValue(), k), null, null));
          }
          break;
        case "violations":
        case "violations-include": {
          List<String> ids = new ArrayList<>();
          for (ConfigValue x : r.list(v, k)) {
            String s = r.string(x, k);
            if (!s.matches("I([1-9]|1[0-3])")) throw r.err(x, k + ": invariants are named I1..I13, got \"" + s + "\"");
            ids.add(s);
          }
          if (k.equals("violations-include") && ids.isEmpty()) throw r.err(v, "violations-include: name at least one invariant");
          out.add(new Expectation.Violations(line(v), List.copyOf(ids), k.equals("violations-include")));
          break;
        }
        case "deadlock":
          out.add(new Expectation.Deadlock(line(v), r.bool(v, k)));
          break;
        case "notifier":
          for (Map.Entry<String, ConfigValue> d : r.object(v, k).entrySet()) {
            out.add(notifier(setup.device(d.getKey(), d.getValue()), r.object(d.getValue(), d.getKey())));
          }
          break;
        case "hmm-range-fault":
          for (Map.Entry<String, ConfigValue> d : r.object(v, k).entrySet()) {
            Scenario.Device dev = setup.device(d.getKey(), d.getValue());
            for (Map.Entry<String, ConfigValue> x : r.object(d.getValue(), d.getKey()).entrySet()) {
              Errno errno = null;
              if (!x.getKey().equals("total")) {
                errno = Expectation.errno(x.getKey());
                if (errno == null || errno == Errno.OK && !x.getKey().equals("OK")) {
                  throw r.err(x.getValue(), "hmm-range-fault: expected total, OK or an errno (EBUSY, EFAULT, EPERM...), got '"
                      + x.getKey() + "'");
                }
              }
              out.add(new Expectation.RangeFaults(line(x.getValue()), dev, errno, r.bound(x.getValue(), x.getKey())));
            }
          }
          break;
        case "v6.15":
        case "v5.14": {
          if (!validator.profiles().contains(profileOf(k))) {
            throw r.err(v, k + ": this file does not run under " + k + " (profile = " + validator.profiles() + ")");
          }
          for (Expectation x : expectations(r.object(v, k), outcomeOf)) {
            if (x instanceof Expectation.ForProfile) throw r.err(v, k + ": per-profile blocks do not nest");
            out.add(new Expectation.ForProfile(profileOf(k), x));
          }
          break;
        }
        case "trace":
          for (Map.Entry<String, ConfigValue> t : r.object(v, "trace").entrySet()) {
            if (!TRACE_EVENTS.contains(t.getKey())) {
              throw r.err(t.getValue(), "trace: unknown trace event '" + t.getKey() + "' (" + sorted(TRACE_EVENTS) + ")");
            }
            traceCount(t.getKey(), t.getValue(), out);
          }
          break;
        case "pending":
        case "completed": {
          List<String> ids = new ArrayList<>();
          if (v.valueType() == ConfigValueType.LIST) {
            for (ConfigValue x : (ConfigList) v) ids.add(r.string(x, k));
          } else {
            ids.add(r.string(v, k));
          }
          for (String id : ids) {
            if (!validator.isEarlierAsync(id)) throw r.err(v, k + ": '" + id + "' is not an earlier async step");
          }
          out.add(k.equals("pending") ? new Expectation.Pending(line(v), List.copyOf(ids))
              : new Expectation.Completed(line(v), List.copyOf(ids)));
          break;
        }
        default:
          throw r.err(v, "unknown expectation '" + k + "'");
      }
    }
    return out;
  }

  /**
   * {@code CpuFaulted = 3}, {@code CpuFaulted { kind = anon, count = 2 }}, or a list of such objects: trace events of
   * the type, or only those whose field (one of TraceFields.filterable) has the value.
   */
  private void traceCount(String type, ConfigValue v, List<Expectation> out) {
    if (v.valueType() != ConfigValueType.OBJECT && v.valueType() != ConfigValueType.LIST) {
      out.add(new Expectation.TraceCount(line(v), type, r.bound(v, type)));
      return;
    }
    @SuppressWarnings("unchecked")
    Class<? extends hmmemu.protocol.trace.Trace.Event> cls = (Class<? extends hmmemu.protocol.trace.Trace.Event>)
        java.util.Arrays.stream(hmmemu.protocol.trace.Trace.Event.class.getPermittedSubclasses())
            .filter(c -> c.getSimpleName().equals(type)).findFirst().orElseThrow();
    List<String> fields = hmmemu.protocol.trace.TraceFields.filterable(cls);
    for (ConfigObject f : r.objects(v, "trace " + type)) {
      String field = null;
      for (String k : f.keySet()) {
        if (k.equals("count")) continue;
        if (!fields.contains(k)) {
          throw r.err(f.get(k), "trace " + type + ": cannot filter by '" + k + "' (" + String.join(", ", fields)
              + "; and count)");
        }
        if (field != null) throw r.err(f.get(k), "trace " + type + ": filter by one field, got " + field + " and " + k);
        field = k;
      }
      if (field == null) throw r.err(f, "trace " + type + ": name a field to filter by (" + String.join(", ", fields) + ")");
      ConfigValue fv = f.get(field);
      String value = fv.valueType() == ConfigValueType.STRING || fv.valueType() == ConfigValueType.NUMBER
          || fv.valueType() == ConfigValueType.BOOLEAN ? String.valueOf(fv.unwrapped()) : null;
      if (value == null) throw r.err(fv, "trace " + type + " " + field + ": expected a value, got " + fv.render());
      String known = knownValue(cls, field, value);
      if (known == null) throw r.err(fv, "trace " + type + " " + field + ": unknown value '" + value + "'");
      ConfigValue count = r.required(f, "count", "trace " + type, line(f));
      out.add(new Expectation.TraceCount(line(count), hmmemu.protocol.trace.TraceFields.key(type, field, known),
          r.bound(count, "count")));
    }
  }

  /** The value as the checker spells it: an enum constant (any case, "-EBUSY" for an errno), a boolean, a number, a string. */
  private static String knownValue(Class<?> type, String field, String value) {
    Class<?> t;
    try {
      t = type.getMethod(field).getReturnType();
    } catch (NoSuchMethodException e) {
      return null;
    }
    if (t.isEnum()) {
      String v = value.startsWith("-") ? value.substring(1) : value;
      for (Object c : t.getEnumConstants()) if (((Enum<?>) c).name().equalsIgnoreCase(v)) return ((Enum<?>) c).name();
      if (t == Errno.class && Expectation.errno(value) != null) return Expectation.errno(value).name();
      return null;
    }
    if (t == boolean.class) return value.equals("true") || value.equals("false") ? value : null;
    if (t == int.class) return value.matches("-?\\d+") ? value : null;
    return value;
  }

  private Expectation pte(ConfigObject o) {
    r.checkKeys(o, Set.of("page", "mm", "state", "write", "dirty", "young", "pfn"), "pte", line(o));
    PageRange at = setup.range(r.required(o, "page", "pte", line(o)));
    int mm = o.containsKey("mm") ? setup.mm(o.get("mm")) : at.vma().mm();
    PteState state = null;
    if (o.containsKey("state")) {
      ConfigValue sv = o.get("state");
      String s = r.string(sv, "state");
      try {
        state = PteState.valueOf(s);
      } catch (IllegalArgumentException e) {
        throw r.err(sv, "state: unknown PTE state '" + s + "' (" + java.util.Arrays.toString(PteState.values()) + ")");
      }
    }
    String pfnName = null;
    boolean differs = false;
    if (o.containsKey("pfn")) {
      ConfigValue pv = o.get("pfn");
      String p = r.string(pv, "pfn");
      differs = p.startsWith("!");
      String n = differs ? p.substring(1) : p;
      if (!n.startsWith("@") || !NAME.matcher(n.substring(1)).matches()) {
        throw r.err(pv, "pfn: expected \"@NAME\" (the same page as the first @NAME) or \"!@NAME\" (another page), got \"" + p + "\"");
      }
      pfnName = n.substring(1);
      validator.pfnUse(pv, pfnName, differs);
      if (at.pages() != 1) throw r.err(pv, "pfn: names one page; '" + at.text() + "' has " + at.pages());
      validator.pfnBind(pfnName);
    }
    return new Expectation.Pte(line(o), at, mm, state, r.optBool(o, "write"), r.optBool(o, "dirty"), r.optBool(o, "young"),
        pfnName, differs);
  }

  private Expectation folio(ConfigObject o) {
    r.checkKeys(o, Set.of("page", "pfn", "mm", "locked", "refcount", "mapcount", "mapped", "dirty", "anon-exclusive"),
        "folio", line(o));
    if (o.containsKey("pfn")) {
      ConfigValue pv = o.get("pfn");
      if (o.containsKey("page")) throw r.err(pv, "folio: name the folio by page or by pfn, not both");
      if (o.containsKey("mm")) throw r.err(o.get("mm"), "folio: a folio named by pfn belongs to no mm; drop mm");
      String p = r.string(pv, "pfn");
      if (!p.startsWith("@") || !NAME.matcher(p.substring(1)).matches()) {
        throw r.err(pv, "pfn: expected \"@NAME\" (a page named by an earlier pte { pfn = \"@NAME\" }), got \"" + p + "\"");
      }
      validator.pfnUse(pv, p.substring(1), true);
      return new Expectation.Folio(line(o), null, 0, r.optBool(o, "locked"), r.optInt(o, "refcount"),
          r.optInt(o, "mapcount"), r.optBool(o, "dirty"), r.optBool(o, "anon-exclusive"), r.optBool(o, "mapped"),
          p.substring(1));
    }
    PageRange at = setup.range(r.required(o, "page", "folio", line(o)));
    int mm = o.containsKey("mm") ? setup.mm(o.get("mm")) : at.vma().mm();
    return new Expectation.Folio(line(o), at, mm, r.optBool(o, "locked"), r.optInt(o, "refcount"), r.optInt(o, "mapcount"),
        r.optBool(o, "dirty"), r.optBool(o, "anon-exclusive"), r.optBool(o, "mapped"), null);
  }

  private Expectation notifier(Scenario.Device d, ConfigObject o) {
    r.checkKeys(o, Set.of("mm", "kind", "seq", "live", "deferred", "deferred-insert", "deferred-remove", "count",
        "mm-seq", "active-ranges"), "notifier " + d.name(), line(o));
    int mm = o.containsKey("mm") ? setup.mm(o.get("mm"))
        : !d.bind().isEmpty() ? d.bind().get(0) : setup.processes().values().iterator().next().mm();
    NotifierKind kind = null;
    if (o.containsKey("kind")) {
      String k = r.string(o.get("kind"), "kind");
      if (k.equals("interval")) kind = NotifierKind.INTERVAL;
      else if (k.equals("classic")) kind = NotifierKind.CLASSIC;
      else throw r.err(o.get("kind"), "kind: expected interval or classic, got '" + k + "'");
    }
    Long seq = o.containsKey("seq") ? r.integer(o.get("seq"), "seq") : null;
    Long mmSeq = o.containsKey("mm-seq") ? r.integer(o.get("mm-seq"), "mm-seq") : null;
    return new Expectation.Notifier(line(o), d, mm, kind, seq, r.optBool(o, "live"), r.optBool(o, "deferred"),
        r.optBool(o, "deferred-insert"), r.optBool(o, "deferred-remove"),
        o.containsKey("count") ? r.bound(o.get("count"), "count") : null, mmSeq,
        o.containsKey("active-ranges") ? r.bound(o.get("active-ranges"), "active-ranges") : null);
  }

  private void memory(ConfigObject o, List<Expectation> out) {
    Integer mm = o.containsKey("mm") ? setup.mm(o.get("mm")) : null;
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      if (e.getKey().equals("mm")) continue;
      ConfigValue v = e.getValue();
      PageRange at;
      try {
        at = PageRange.parse(e.getKey(), setup.vmas());
      } catch (IllegalArgumentException x) {
        throw r.err(v, "memory: " + x.getMessage() + " (quote addresses: \"buf+0:word0\" = 6)");
      }
      Pattern p;
      if (v.valueType() == ConfigValueType.OBJECT) {
        ConfigObject po = (ConfigObject) v;
        r.checkKeys(po, Set.of("pattern", "plus", "value"), "memory " + e.getKey(), line(po));
        p = r.valuePattern(po, "memory " + e.getKey(), false);
      } else {
        p = Pattern.constant(r.integer(v, "memory " + e.getKey()));
      }
      out.add(new Expectation.Memory(line(v), at, mm == null ? at.vma().mm() : mm, p));
    }
  }

  private void deviceExpect(Scenario.Device d, ConfigObject o, List<Expectation> out) {
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      String k = e.getKey();
      ConfigValue v = e.getValue();
      if (k.equals("entry")) {
        for (Map.Entry<String, ConfigValue> x : r.object(v, "entry").entrySet()) {
          PageRange at;
          try {
            at = PageRange.parse(x.getKey(), setup.vmas());
          } catch (IllegalArgumentException ex) {
            throw r.err(x.getValue(), "entry: " + ex.getMessage());
          }
          String bits = r.string(x.getValue(), "entry");
          if (!bits.matches("none|R?W?A?") || bits.isEmpty()) {
            throw r.err(x.getValue(), "entry: expected none or the bits R, W, A in that order (e.g. RWA), got \"" + bits + "\"");
          }
          out.add(new Expectation.Device(line(x.getValue()), d, null, null, at, bits));
        }
      } else if (Expectation.Device.COUNTERS.contains(k)) {
        out.add(new Expectation.Device(line(v), d, k, r.bound(v, k), null, null));
      } else {
        throw r.err(v, "unknown key '" + k + "' for device " + d.name() + " (" + sorted(Expectation.Device.COUNTERS) + ", entry)");
      }
    }
  }

  private void invalidations(Scenario.Device d, ConfigObject o, NotifierKind kind, List<Expectation> out) {
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      String k = e.getKey();
      ConfigValue v = e.getValue();
      if (kind == null && (k.equals("classic") || k.equals("interval"))) {
        invalidations(d, r.object(v, k), k.equals("classic") ? NotifierKind.CLASSIC : NotifierKind.INTERVAL, out);
      } else if (k.equals("total")) {
        out.add(new Expectation.Invalidations(line(v), d, kind, null, r.bound(v, k)));
      } else if (k.equals("ranges")) {
        List<String> expected = new ArrayList<>();
        for (ConfigValue x : r.list(v, "ranges")) expected.add(callback(x));
        out.add(new Expectation.InvalidationRanges(line(v), d, kind, List.copyOf(expected)));
      } else {
        try {
          NotifyEvent.valueOf(k);
        } catch (IllegalArgumentException x) {
          throw r.err(v, "invalidations: unknown event '" + k + "' (" + java.util.Arrays.toString(NotifyEvent.values())
              + ", total, ranges" + (kind == null ? ", classic { }, interval { }" : "") + ")");
        }
        out.add(new Expectation.Invalidations(line(v), d, kind, k, r.bound(v, k)));
      }
    }
  }

  /**
   * One callback of a {@code ranges} list, "EVENT RANGE": RANGE is pages of a VMA ({@code buf+0..3}, no word part)
   * or {@code 0xSTART..0xEND} (end exclusive, page-aligned); the canonical form {@code EVENT [0xSTART, 0xEND)}.
   */
  private String callback(ConfigValue x) {
    String s = r.string(x, "ranges").trim();
    String[] parts = s.split("\\s+");
    if (parts.length != 2) throw r.err(x, "ranges: expected \"EVENT RANGE\" (e.g. \"CLEAR buf+0..3\"), got \"" + s + "\"");
    try {
      NotifyEvent.valueOf(parts[0]);
    } catch (IllegalArgumentException e) {
      throw r.err(x, "ranges: unknown event '" + parts[0] + "' (" + java.util.Arrays.toString(NotifyEvent.values()) + ")");
    }
    java.util.regex.Matcher hex = java.util.regex.Pattern.compile("0x([0-9a-fA-F]+)\\.\\.0x([0-9a-fA-F]+)").matcher(parts[1]);
    long start;
    long end;
    if (hex.matches()) {
      start = Long.parseUnsignedLong(hex.group(1), 16);
      end = Long.parseUnsignedLong(hex.group(2), 16);
      if (end <= start || start % hmmemu.protocol.model.Page.SIZE != 0 || end % hmmemu.protocol.model.Page.SIZE != 0) {
        throw r.err(x, "ranges: " + parts[1] + " must be page-aligned with start < end (end exclusive)");
      }
    } else {
      PageRange at;
      try {
        at = PageRange.parse(parts[1], setup.vmas());
      } catch (IllegalArgumentException e) {
        throw r.err(x, "ranges: " + e.getMessage());
      }
      if (at.wordsNamed()) throw r.err(x, "ranges: an invalidation covers whole pages; drop the word part of " + parts[1]);
      start = at.start();
      end = at.start() + at.length();
    }
    return Expectation.InvalidationRanges.describe(parts[0], start, end);
  }

  static hmmemu.protocol.model.KernelProfile profileOf(String key) {
    return key.equals("v5.14") ? hmmemu.protocol.model.KernelProfile.V5_14 : hmmemu.protocol.model.KernelProfile.V6_15;
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
        at = PageRange.parse(e.getKey(), setup.vmas());
      } catch (IllegalArgumentException x) {
        throw r.err(v, "snapshot: " + x.getMessage());
      }
      if (at.vma() != range.vma() || at.firstPage() < range.firstPage() || at.lastPage() > range.lastPage()) {
        throw r.err(v, "snapshot: " + at.text() + " is outside the snapshot's range " + range.text());
      }
      java.util.SortedSet<String> flags = new java.util.TreeSet<>();
      for (String t : r.string(v, "snapshot").trim().split("\\s+")) {
        if (t.equals("NONE") || t.equals("VALID") || t.equals("WRITE") || t.equals("ERROR") || t.equals("PMD")) {
          flags.add(t);
        } else if (t.startsWith("EXCLUSIVE:") && setup.devices().containsKey(t.substring("EXCLUSIVE:".length()))) {
          flags.add("EXCLUSIVE:" + setup.devices().get(t.substring("EXCLUSIVE:".length())).id());
        } else {
          throw r.err(v, "snapshot: unknown flag '" + t + "' (NONE, VALID, WRITE, ERROR, PMD, EXCLUSIVE:<device>)");
        }
      }
      if (flags.contains("NONE") && flags.size() > 1) throw r.err(v, "snapshot: NONE stands alone");
      out.add(new Expectation.Snapshot(line(v), range, at, flags));
    }
  }

  private void data(ConfigValue v, Scenario.Action outcomeOf, List<Expectation> out) {
    if (!(outcomeOf instanceof Scenario.DmirrorOp)) throw r.err(v, "data: only a dmirror ioctl returns data");
    PageRange range = ((Scenario.DmirrorOp) outcomeOf).at();
    if (v.valueType() == ConfigValueType.LIST) {
      List<Long> values = new ArrayList<>();
      for (ConfigValue x : (ConfigList) v) values.add(r.integer(x, "data"));
      out.add(new Expectation.Data(line(v), List.copyOf(values), null, range, range));
      return;
    }
    ConfigObject o = r.object(v, "data");
    Set<String> patternKeys = Set.of("pattern", "plus", "value");
    if (o.keySet().stream().anyMatch(patternKeys::contains)) {
      r.checkKeys(o, patternKeys, "data", line(o));
      out.add(new Expectation.Data(line(v), null, r.valuePattern(o, "data", false), range, range));
      return;
    }
    // Per-range form: data { "buf+0..1" = 0, "buf+2..1023" = { pattern = index } }
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      ConfigValue x = e.getValue();
      PageRange at;
      try {
        at = PageRange.parse(e.getKey(), setup.vmas());
      } catch (IllegalArgumentException ex) {
        throw r.err(x, "data: " + ex.getMessage());
      }
      if (at.vma() != range.vma() || at.firstPage() < range.firstPage() || at.lastPage() > range.lastPage()) {
        throw r.err(x, "data: " + at.text() + " is outside the ioctl's range " + range.text());
      }
      Pattern p;
      if (x.valueType() == ConfigValueType.OBJECT) {
        ConfigObject po = (ConfigObject) x;
        r.checkKeys(po, patternKeys, "data " + e.getKey(), line(po));
        p = r.valuePattern(po, "data " + e.getKey(), false);
      } else {
        p = Pattern.constant(r.integer(x, "data " + e.getKey()));
      }
      out.add(new Expectation.Data(line(x), null, p, range, at));
    }
  }
}
