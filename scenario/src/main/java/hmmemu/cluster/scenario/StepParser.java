package hmmemu.cluster.scenario;

import static hmmemu.cluster.scenario.ScenarioReader.NAME;
import static hmmemu.cluster.scenario.ScenarioReader.line;
import static hmmemu.cluster.scenario.ScenarioReader.sorted;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.msg.HmmProtocol;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code steps} list: one action per step (a CPU thread, a device, a process's syscall, a pause point or a
 * node control action) with its meta keys (id, async, wait, expect). Ordering checks go to the
 * {@link ScenarioValidator}, expectations to the {@link ExpectationParser}.
 */
final class StepParser {
  /** The keys of a step besides its one action. */
  static final Set<String> META_KEYS = Set.of("id", "async", "wait", "within", "at-least", "expect", "comment");
  static final Set<String> CONTROL_ACTIONS = Set.of("pause", "await", "await-paused", "resume", "crash",
      "restart", "await-gone", "await-restarted", "kthread");
  /** Messages a driver sends to the CPU node (pause direction device -> cpu): the DriverToHost family. */
  static final Set<String> FROM_DEVICE = names(hmmemu.protocol.msg.HmmProtocol.DriverToHost.class);
  /** Messages the CPU node sends to a driver (pause direction cpu -> device): the HostToDriver family. */
  static final Set<String> FROM_CPU = names(hmmemu.protocol.msg.HmmProtocol.HostToDriver.class);

  private static Set<String> names(Class<?> family) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (Class<?> c : family.getPermittedSubclasses()) out.add(c.getSimpleName());
    return java.util.Collections.unmodifiableSet(out);
  }
  /** A CPU thread's name: T1, T2, ... */
  static final java.util.regex.Pattern THREAD = java.util.regex.Pattern.compile("T([0-9]{1,6})");

  private final ScenarioReader r;
  private final String file;
  private final SetupParser setup;
  private final ScenarioValidator validator;
  private final ExpectationParser expectations;

  StepParser(ScenarioReader r, SetupParser setup, ScenarioValidator validator) {
    this.r = r;
    this.file = r.file();
    this.setup = setup;
    this.validator = validator;
    this.expectations = new ExpectationParser(r, setup, validator);
  }

  Scenario.Step step(int index, ConfigObject o) {
    if (o.containsKey("concurrent")) return concurrent(index, o);
    return step(index, o, false);
  }

  /**
   * A concurrent block (docs/SCENARIOS.md "Concurrent blocks"): {@code concurrent = [step, step, ...]} (and an
   * optional {@code comment}); each step runs (a thread, process or device step), has an id and is async by being
   * in the block; expectations go on the await steps after it. The steps are validated in file order, so a CPU
   * thread that appears twice in a block is rejected as a thread still running an async step.
   */
  private Scenario.Step concurrent(int index, ConfigObject o) {
    int line = line(o);
    for (String k : o.keySet()) {
      if (!k.equals("concurrent") && !k.equals("comment")) {
        throw r.err(o.get(k), "a concurrent block takes only concurrent = [...] and comment, got '" + k
            + "' (put expectations on the await steps after the block)");
      }
    }
    List<? extends ConfigValue> list = r.list(o.get("concurrent"), "concurrent");
    if (list.size() < 2) throw r.err(o.get("concurrent"), "concurrent: a block needs at least two steps, got " + list.size());
    List<Scenario.Step> steps = new ArrayList<>();
    for (ConfigValue v : list) {
      ConfigObject s = r.object(v, "a step of a concurrent block");
      if (s.containsKey("concurrent")) throw r.err(s.get("concurrent"), "concurrent: blocks do not nest");
      if (s.containsKey("async")) {
        throw r.err(s.get("async"), "async: every step of a concurrent block is async already; drop the key");
      }
      for (String k : List.of("expect", "within", "at-least")) {
        if (s.containsKey(k)) {
          throw r.err(s.get(k), k + ": a step of a concurrent block has its outcome once awaited; put " + k
              + " on the await step after the block");
        }
      }
      if (!s.containsKey("id")) {
        throw new ScenarioException(file, line(s), "concurrent: every step of a block needs an id, so that an await"
            + " step can name it");
      }
      steps.add(step(index, s, true));
    }
    return new Scenario.Step(index, null, line, new Scenario.ConcurrentOp(List.copyOf(steps)), false, null, List.of());
  }

  private Scenario.Step step(int index, ConfigObject o, boolean inBlock) {
    int line = line(o);
    String id = null;
    if (o.containsKey("id")) {
      ConfigValue iv = o.get("id");
      id = r.string(iv, "id");
      if (!NAME.matcher(id).matches()) throw r.err(iv, "id: '" + id + "' is not a plain name");
      validator.stepId(iv, id);
    }
    List<String> actionKeys = new ArrayList<>();
    for (String k : o.keySet()) if (!META_KEYS.contains(k)) actionKeys.add(k);
    if (actionKeys.size() > 1) {
      throw r.err(o.get(actionKeys.get(1)), "one action per step, got " + String.join(" and ", actionKeys)
          + " (split them into steps; use async = true for concurrency)");
    }
    boolean async = inBlock || o.containsKey("async") && r.bool(o.get("async"), "async");
    Duration wait = o.containsKey("wait") ? r.positive(o.get("wait"), "wait") : null;
    Scenario.Action action;
    if (actionKeys.isEmpty()) {
      if (!o.containsKey("expect")) throw new ScenarioException(file, line, "step " + index + " has no action and no expect");
      action = new Scenario.CheckOp();
    } else {
      String key = actionKeys.get(0);
      ConfigValue v = o.get(key);
      action = action(key, v);
    }
    if (inBlock && !action.hasOutcome()) {
      throw new ScenarioException(file, line, "concurrent: a step of a block must run (a thread, process or device"
          + " step), got '" + action.describe() + "'");
    }
    if (async && !action.hasOutcome()) throw r.err(o.get("async"), "async = true needs an action that runs (a thread, process or device step)");
    if (async && id == null) throw r.err(o.get("async"), "an async step needs an id, so that an await step can name it");

    // A CPU thread runs one thing at a time.
    if (action instanceof Scenario.CpuOp) validator.threadIdle(((Scenario.CpuOp) action).actor(), ((Scenario.CpuOp) action).thread(), line);
    if (action instanceof Scenario.KthreadOp k) validator.kthreadIdle(k.kthread(), line);
    if (action instanceof Scenario.SyscallOp && ((Scenario.SyscallOp) action).thread() != 0) {
      validator.threadIdle("T" + ((Scenario.SyscallOp) action).thread(), ((Scenario.SyscallOp) action).thread(), line);
    }
    Scenario.Step awaitedStep = null;
    if (action instanceof Scenario.AwaitOp) {
      awaitedStep = validator.await(((Scenario.AwaitOp) action).stepIds(), o.get("await"));
    }

    List<Expectation> expect = new ArrayList<>();
    if (o.containsKey("expect")) {
      Scenario.Action outcomeOf = awaitedStep != null ? awaitedStep.action() : action;
      expect = expectations.expectations(r.object(o.get("expect"), "expect"), outcomeOf);
      refuseUncountedAtomics(expect, outcomeOf);
      for (Expectation e : expect) {
        if (e.needsOutcome() && (async || !action.hasOutcome())) {
          throw new ScenarioException(file, e.line(), async
              ? "this expectation needs the step's outcome, which an async step has only when awaited: put it on the await step"
              : "this expectation needs a step outcome, and '" + action.describe() + "' has none");
        }
      }
    }
    for (String bound : List.of("within", "at-least")) {
      if (!o.containsKey(bound)) continue;
      ConfigValue wv = o.get(bound);
      Duration d = r.positive(wv, bound);
      if (async) throw r.err(wv, bound + ": an async step's model time is known once it is awaited; put " + bound + " on the await step");
      Scenario.Action of = awaitedStep != null ? awaitedStep.action() : action;
      if (!reportsModelTime(of)) {
        throw r.err(wv, bound + ": model time is reported for CPU thread steps, syscalls, device accesses and dmirror"
            + " ioctls only (their replies' latencyMicros); '" + of.describe() + "' has none");
      }
      long micros = d.toNanos() / 1000;
      String text = String.valueOf(wv.unwrapped());
      expect.add(bound.equals("within") ? new Expectation.Within(line(wv), micros, text)
          : new Expectation.AtLeast(line(wv), micros, text));
    }
    // HOCON objects do not keep key order: check (and report) expectations top-down by line.
    expect.sort(java.util.Comparator.comparingInt(Expectation::line));
    Scenario.Step step = new Scenario.Step(index, id, line, action, async, wait, List.copyOf(expect));
    validator.record(step);
    return step;
  }

  /** Steps whose replies carry latencyMicros (CpuAccessDone, SyscallDone, DeviceAccessDone, DmirrorReply). */
  private static boolean reportsModelTime(Scenario.Action a) {
    return a instanceof Scenario.CpuOp || a instanceof Scenario.SyscallOp || a instanceof Scenario.WarpOp
        || a instanceof Scenario.DmirrorOp;
  }

  private Scenario.Action action(String key, ConfigValue v) {
    switch (key) {
      case "kthread": return kthreadOp(r.object(v, "kthread"));
      case "pause": return pause(r.object(v, "pause"));
      case "await": {
        List<String> ids = new ArrayList<>();
        if (v.valueType() == ConfigValueType.LIST) {
          for (ConfigValue x : (ConfigList) v) ids.add(r.string(x, "await"));
        } else {
          ids.add(r.string(v, "await"));
        }
        if (ids.isEmpty()) throw r.err(v, "await: name at least one step id");
        return new Scenario.AwaitOp(List.copyOf(ids));
      }
      case "await-paused": {
        String p = r.string(v, "await-paused");
        validator.awaitPaused(v, p);
        return new Scenario.AwaitPausedOp(p);
      }
      case "resume": {
        String p = r.string(v, "resume");
        validator.resume(v, p);
        return new Scenario.ResumeOp(p);
      }
      case "crash":
      case "restart":
      case "await-gone":
      case "await-restarted":
        return validator.nodeOp(key, gpuNode(v, key), v);
      default:
        break;
    }
    java.util.regex.Matcher t = THREAD.matcher(key);
    if (t.matches()) return cpuOp(key, Integer.parseInt(t.group(1)), r.object(v, key));
    if (setup.devices().containsKey(key)) return deviceOp(setup.devices().get(key), r.object(v, key));
    if (setup.processes().containsKey(key)) return syscallOp(setup.processes().get(key), r.object(v, key));
    List<String> known = new ArrayList<>();
    known.add("T<n> (CPU threads)");
    known.addAll(setup.devices().keySet());
    known.addAll(setup.processes().keySet());
    known.addAll(new java.util.TreeSet<>(CONTROL_ACTIONS));
    throw r.err(v, "unknown actor '" + key + "' (known: " + String.join(", ", known) + ")");
  }

  /** The one operation key of an actor's object among {@code ops}; everything else must be a modifier. */
  private String opKey(ConfigObject o, String actor, Set<String> ops, Set<String> modifiers) {
    String op = null;
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      String k = e.getKey();
      if (ops.contains(k)) {
        if (op != null) throw r.err(e.getValue(), actor + ": one operation per step, got " + op + " and " + k);
        op = k;
      } else if (!modifiers.contains(k)) {
        throw r.err(e.getValue(), "unknown key '" + k + "' for " + actor + " (operations: " + sorted(ops)
            + "; modifiers: " + sorted(modifiers) + ")");
      }
    }
    if (op == null) throw new ScenarioException(file, line(o), actor + ": no operation (one of " + sorted(ops) + ")");
    return op;
  }

  private Scenario.Action cpuOp(String actor, int thread, ConfigObject o) {
    Set<String> ops = Set.of("read", "write", "atomic", "increment", "fill");
    String op = opKey(o, actor, ops, Set.of("value", "mm", "pattern", "plus", "repeat", "spin", "for"));
    ConfigValue av = o.get(op);
    PageRange at = setup.range(av);
    boolean spin = o.containsKey("spin") && r.bool(o.get("spin"), "spin");
    if (spin && (at.firstPage() != at.lastPage() || at.firstWord() != at.lastWord())) {
      throw r.err(o.get("spin"), "spin: a spinning thread loops on one word, but " + op + " names " + at.text());
    }
    int mm = o.containsKey("mm") ? setup.mm(o.get("mm")) : at.vma().mm();
    Scenario.CpuOpKind kind = Scenario.CpuOpKind.valueOf(op.toUpperCase());
    long value = 0;
    Pattern pattern = null;
    if (kind == Scenario.CpuOpKind.WRITE || kind == Scenario.CpuOpKind.FILL) {
      pattern = r.valuePattern(o, actor + " " + op, kind == Scenario.CpuOpKind.FILL);
    } else if (kind == Scenario.CpuOpKind.ATOMIC) {
      value = o.containsKey("value") ? r.integer(o.get("value"), "value") : 1;
      r.forbid(o, actor + " atomic", "pattern", "plus");
    } else {
      r.forbid(o, actor + " " + op, "value", "pattern", "plus");
    }
    long forMicros = 0;
    if (o.containsKey("for")) { // the loop repeats until this much model time passed (docs/SCENARIOS.md)
      if (o.containsKey("repeat")) throw r.err(o.get("for"), "for: give repeat or for, not both");
      forMicros = r.duration(o.get("for"), "for").toNanos() / 1000;
      if (forMicros < 1) throw r.err(o.get("for"), "for: must be at least 1us of model time");
    }
    Scenario.CpuOp cpu = new Scenario.CpuOp(actor, thread, kind, at, mm, value, pattern, repeat(o), spin, forMicros);
    if (cpu.onNode()) {
      onNodeLoop = o.get("spin");
      refuseHeldLoop();
      if (forMicros > 0 && kind == Scenario.CpuOpKind.ATOMIC) timedAtomicSpins.put(cpu, line(o));
    }
    return cpu;
  }

  /** Spinning atomic loops bounded by {@code for}, with their lines, for {@link #refuseUncountedAtomics}. */
  private final Map<Scenario.CpuOp, Integer> timedAtomicSpins = new java.util.IdentityHashMap<>();

  /**
   * A spinning loop bounded by {@code for} does not simulate its accesses between conversions one by one (its word
   * counts its first and last atomic only: docs/SCENARIOS.md "Spinning"), so no expectation may read that count: a
   * {@code memory} of its word, or the {@code value} its awaited step returns. {@code repeat} counts them.
   */
  private void refuseUncountedAtomics(List<Expectation> expect, Scenario.Action outcomeOf) {
    for (Expectation e0 : expect) {
      Expectation e = e0 instanceof Expectation.ForProfile fp ? fp.inner() : e0;
      for (Map.Entry<Scenario.CpuOp, Integer> loop : timedAtomicSpins.entrySet()) {
        Scenario.CpuOp l = loop.getKey();
        long va = l.at().wordVa(l.at().firstPage(), l.at().firstWord());
        boolean reads = e instanceof Expectation.Value && outcomeOf == l
            || e instanceof Expectation.Memory m && m.mm() == l.mm() && covers(m.at(), va);
        if (!reads) continue;
        throw new ScenarioException(file, e.line(), (e instanceof Expectation.Value ? "value" : "memory")
            + ": reads the count of " + l.actor() + "'s spinning atomic loop bounded by for (line " + loop.getValue()
            + "), whose accesses between conversions are not simulated one by one; bound the loop with repeat to"
            + " count its atomics");
      }
    }
  }

  /** Whether word address {@code va} lies in {@code r}'s pages and words. */
  private static boolean covers(PageRange r, long va) {
    for (int p = r.firstPage(); p <= r.lastPage(); p++) {
      for (int w = r.firstWord(); w <= r.lastWord(); w++) {
        if (r.wordVa(p, w) == va) return true;
      }
    }
    return false;
  }

  /** The first spinning loop that runs on the CPU node (Scenario.CpuOp#onNode), for {@link #refuseHeldLoop}. */
  private ConfigValue onNodeLoop;
  /** The first controller hold or until naming a CPU access request or its reply, for {@link #refuseHeldLoop}. */
  private ConfigValue cpuAccessMatch;

  /**
   * A spinning loop runs on the CPU node as one CpuThreadRun, so its accesses are no controller requests: a file
   * with one cannot also hold or wait for a CpuAccess or CpuAccessDone of the controller (docs/SCENARIOS.md "Spinning").
   */
  private void refuseHeldLoop() {
    if (onNodeLoop == null || cpuAccessMatch == null) return;
    throw r.err(onNodeLoop, "spin: a spinning loop runs on the CPU node (one CpuThreadRun, no CpuAccess request per"
        + " access), so this file cannot also name the controller's CpuAccess or CpuAccessDone (line "
        + line(cpuAccessMatch) + "); drop spin or the pause point");
  }

  /** Notes a controller hold or until on a CPU access or its reply (see {@link #refuseHeldLoop}). */
  private void cpuAccessNamed(ConfigValue at, String msg) {
    if (!msg.equals("CpuAccess") && !msg.equals("CpuAccessDone")) return;
    if (cpuAccessMatch == null) cpuAccessMatch = at;
    refuseHeldLoop();
  }

  /**
   * {@code kthread { lock-folio = "buf+0", for = 5ms, name = kcompactd0, mm = P1 }}: a kernel thread holds the
   * folio lock of one page for {@code for} of model time (docs/SCENARIOS.md "Kernel threads").
   */
  private Scenario.Action kthreadOp(ConfigObject o) {
    String op = opKey(o, "kthread", Set.of("lock-folio"), Set.of("for", "name", "mm"));
    ConfigValue av = o.get(op);
    PageRange at = setup.range(av);
    if (at.pages() != 1 || at.wordsNamed()) {
      throw r.err(av, "kthread lock-folio: names one page (the folio mapped there), got '" + at.text() + "'");
    }
    ConfigValue fv = o.get("for");
    if (fv == null) throw new ScenarioException(file, line(o), "kthread lock-folio: needs for = <model time> (how long the thread holds the lock)");
    long forMicros = r.duration(fv, "for").toNanos() / 1000;
    if (forMicros < 1) throw r.err(fv, "for: must be at least 1us of model time");
    String name = "kthread";
    if (o.containsKey("name")) {
      name = r.string(o.get("name"), "name");
      if (!NAME.matcher(name).matches()) throw r.err(o.get("name"), "name: '" + name + "' is not a plain name");
    }
    int mm = o.containsKey("mm") ? setup.mm(o.get("mm")) : at.vma().mm();
    return new Scenario.KthreadOp(name, at, mm, forMicros);
  }

  private int repeat(ConfigObject o) {
    if (!o.containsKey("repeat")) return 1;
    ConfigValue v = o.get("repeat");
    long n = r.integer(v, "repeat");
    if (n < 1 || n > 10_000_000) throw r.err(v, "repeat: must be in [1, 10000000], got " + n);
    return (int) n;
  }

  private Scenario.Action syscallOp(Scenario.Process p, ConfigObject o) {
    Set<String> ops = Set.of("mmap", "munmap", "mprotect", "madvise-dontneed", "fork", "exit", "soft-dirty-reset",
        "oom-reap", "madvise-hugepage", "madvise-pageout", "migrate", "offline", "ksm-scan", "khugepaged-scan");
    String op = opKey(o, p.name(), ops, Set.of("prot", "thread", "order"));
    Scenario.SyscallOp call = syscallOp(p, o, op);
    if (!o.containsKey("thread")) return call;
    ConfigValue tv = o.get("thread");
    java.util.regex.Matcher t = THREAD.matcher(r.string(tv, "thread"));
    if (!t.matches()) throw r.err(tv, "thread: expected a user thread T<n> (T1, T2, ...), got '" + r.string(tv, "thread") + "'");
    int thread = Integer.parseInt(t.group(1));
    if (thread < 1) throw r.err(tv, "thread: thread ids count from 1, got T" + thread);
    return call.byThread(thread);
  }

  private Scenario.SyscallOp syscallOp(Scenario.Process p, ConfigObject o, String op) {
    ConfigValue v = o.get(op);
    if (!op.equals("mprotect")) r.forbid(o, p.name() + " " + op, "prot");
    if (!op.equals("madvise-hugepage")) r.forbid(o, p.name() + " " + op, "order");
    switch (op) {
      // docs/PROTOCOL.md §3.8: THP, reclaim, migration, memory offline, ksm and khugepaged over whole pages
      case "madvise-hugepage": {
        int order = 9;
        if (o.containsKey("order")) {
          long n = r.integer(o.get("order"), "order");
          if (n < 2 || n > 9) throw r.err(o.get("order"), "order: the largest folio order, 2..9 (9 = PMD THP), got " + n);
          order = (int) n;
        }
        return rangeSyscall(p, HmmProtocol.SyscallKind.MADV_HUGEPAGE, v, order);
      }
      case "madvise-pageout": return rangeSyscall(p, HmmProtocol.SyscallKind.MADV_PAGEOUT, v, 0);
      case "migrate": return rangeSyscall(p, HmmProtocol.SyscallKind.MIGRATE_PAGES, v, 0);
      case "offline": return rangeSyscall(p, HmmProtocol.SyscallKind.OFFLINE_PAGES, v, 0);
      case "ksm-scan": return rangeSyscall(p, HmmProtocol.SyscallKind.KSM_SCAN, v, 0);
      case "khugepaged-scan": return rangeSyscall(p, HmmProtocol.SyscallKind.KHUGEPAGED_SCAN, v, 0);
      case "mmap": {
        String vn = r.string(v, "mmap");
        Scenario.Vma vma = setup.vmas().get(vn);
        if (vma == null) throw r.err(v, "mmap: unknown VMA '" + vn + "' (declared: " + String.join(", ", setup.vmas().keySet()) + ")");
        return new Scenario.SyscallOp(p.name(), p.mm(), HmmProtocol.SyscallKind.MMAP, null, vma, vma.prot(), 0);
      }
      case "munmap": return rangeSyscall(p, HmmProtocol.SyscallKind.MUNMAP, v, 0);
      case "madvise-dontneed": return rangeSyscall(p, HmmProtocol.SyscallKind.MADV_DONTNEED, v, 0);
      case "soft-dirty-reset": return rangeSyscall(p, HmmProtocol.SyscallKind.SOFT_DIRTY_RESET, v, 0);
      case "mprotect": {
        if (!o.containsKey("prot")) throw new ScenarioException(file, line(o), p.name() + " mprotect: needs prot = rw|r|w|none");
        return rangeSyscall(p, HmmProtocol.SyscallKind.MPROTECT, v, setup.prot(o.get("prot")));
      }
      case "fork": {
        String child = r.string(v, "fork");
        Scenario.Process c = setup.processes().get(child);
        if (c == null) throw r.err(v, "fork: the child must be a declared process, got '" + child + "'");
        if (c.mm() == p.mm()) throw r.err(v, "fork: a process cannot be its own child");
        return new Scenario.SyscallOp(p.name(), p.mm(), HmmProtocol.SyscallKind.FORK, null, null, 0, c.mm());
      }
      case "exit":
      case "oom-reap": {
        if (!r.bool(v, op)) throw r.err(v, op + ": write " + op + " = true");
        HmmProtocol.SyscallKind k = op.equals("exit") ? HmmProtocol.SyscallKind.EXIT : HmmProtocol.SyscallKind.OOM_REAP;
        return new Scenario.SyscallOp(p.name(), p.mm(), k, null, null, 0, 0);
      }
      default: throw new IllegalStateException("unhandled syscall " + op);
    }
  }

  private Scenario.SyscallOp rangeSyscall(Scenario.Process p, HmmProtocol.SyscallKind kind, ConfigValue v, int prot) {
    PageRange at = setup.range(v);
    if (at.wordsNamed()) throw r.err(v, kind.name().toLowerCase() + " works on whole pages; drop the word part of '" + at.text() + "'");
    return new Scenario.SyscallOp(p.name(), p.mm(), kind, at, null, prot, 0);
  }

  private Scenario.Action deviceOp(Scenario.Device d, ConfigObject o) {
    if (d.driver() == DriverFlavour.DMIRROR) {
      Set<String> ops = Set.of("read", "write", "exclusive", "check-exclusive", "snapshot", "migrate-to-dev",
          "migrate-to-sys", "bind");
      String op = opKey(o, d.name(), ops, Set.of("mm", "value", "pattern", "plus"));
      ConfigValue v = o.get(op);
      if (op.equals("bind")) {
        r.forbid(o, d.name() + " bind", "mm", "value", "pattern", "plus");
        return new Scenario.BindOp(d, setup.mm(v));
      }
      PageRange at = setup.range(v);
      if (at.wordsNamed()) throw r.err(v, "dmirror " + op + " works on whole pages; drop the word part of '" + at.text() + "'");
      int mm = o.containsKey("mm") ? setup.mm(o.get("mm")) : at.vma().mm();
      Pattern data = null;
      if (op.equals("write")) {
        data = r.valuePattern(o, d.name() + " write", true);
      } else {
        r.forbid(o, d.name() + " " + op, "value", "pattern", "plus");
      }
      HmmProtocol.DmirrorOp kind = HmmProtocol.DmirrorOp.valueOf(op.toUpperCase().replace('-', '_'));
      return new Scenario.DmirrorOp(d, kind, at, mm, data);
    }
    Set<String> ops = Set.of("read", "write", "atomic", "bind");
    String op = opKey(o, d.name(), ops, Set.of("mm", "value", "repeat"));
    ConfigValue v = o.get(op);
    if (op.equals("bind")) {
      r.forbid(o, d.name() + " bind", "mm", "value", "repeat");
      return new Scenario.BindOp(d, setup.mm(v));
    }
    PageRange at = setup.range(v);
    if (at.pages() != 1 || at.words() != 1) throw r.err(v, d.name() + " " + op + ": a device access is one word; '" + at.text() + "' names more");
    int mm = o.containsKey("mm") ? setup.mm(o.get("mm")) : at.vma().mm();
    Access access = Access.valueOf(op.toUpperCase());
    long value;
    if (access == Access.READ) {
      r.forbid(o, d.name() + " read", "value");
      value = 0;
    } else if (access == Access.ATOMIC) {
      value = o.containsKey("value") ? r.integer(o.get("value"), "value") : 1;
    } else {
      if (!o.containsKey("value")) throw new ScenarioException(file, line(o), d.name() + " write: needs value = N");
      value = r.integer(o.get("value"), "value");
    }
    return new Scenario.WarpOp(d, access, at, mm, value, repeat(o));
  }

  /** Controller requests a controller hold may catch, per receiving side: the CPU node, a device's GPU node. */
  static final Set<String> CONTROLLER_TO_CPU = Set.of("CpuAccess", "Syscall", "KthreadFolioLock", "KthreadFolioUnlock");
  static final Set<String> CONTROLLER_TO_GPU = Set.of("DeviceAccess", "DmirrorCmd", "BindMm");

  private Scenario.Action pause(ConfigObject o) {
    ConfigValue idv = r.required(o, "id", "pause", line(o));
    String id = r.string(idv, "id");
    validator.pauseId(idv, id);
    ConfigValue fv = r.required(o, "from", "pause " + id, line(o));
    boolean controller = r.string(fv, "from").equals(Scenario.PauseOp.CONTROLLER);
    if (controller) {
      r.checkKeys(o, Set.of("id", "from", "to", "at", "skip", "until"), "pause " + id + " (from = controller)", line(o));
    }
    Scenario.PauseOp op = controller ? requestMatch(o, id)
        : linkMatch(o, "pause", id, Set.of("id", "from", "to", "at", "event", "kind", "skip", "until"));
    if (o.containsKey("until")) {
      ConfigObject u = r.object(o.get("until"), "until");
      ConfigValue uf = r.required(u, "from", "pause " + id + " until", line(u));
      Scenario.PauseOp until;
      ConfigValue ut = r.required(u, "to", "pause " + id + " until", line(u));
      if (r.string(uf, "from").equals(Scenario.PauseOp.CONTROLLER)) {
        r.checkKeys(u, Set.of("from", "to", "at", "skip"), "pause " + id + " until (from = controller)", line(u));
        until = requestMatch(u, id);
      } else if (r.string(ut, "to").equals(Scenario.PauseOp.CONTROLLER)) {
        r.checkKeys(u, Set.of("from", "to", "at", "skip"), "pause " + id + " until (to = controller)", line(u));
        until = replyMatch(u, id);
      } else {
        until = linkMatch(u, "until", id, Set.of("from", "to", "at", "event", "kind", "skip"));
      }
      op = new Scenario.PauseOp(op.pauseId(), op.from(), op.to(), op.fromNode(), op.toNode(), op.message(), op.event(),
          op.kind(), op.deviceId(), op.skip(), until);
    }
    validator.arm(idv, op);
    return op;
  }

  /** Replies the controller gets: from the CPU node, from a device's GPU node (introspection left out). */
  static final Set<String> CPU_TO_CONTROLLER = Set.of("CpuAccessDone", "SyscallDone", "KthreadFolioDone");
  static final Set<String> GPU_TO_CONTROLLER = Set.of("DeviceAccessDone", "DmirrorReply", "MmBound");

  /**
   * A reply to the controller ({@code to = controller}): the node it comes from ({@code from}: cpu or a device), its
   * type ({@code at}) and {@code skip}; an {@code until} naming a step's reply (the request completed).
   */
  private Scenario.PauseOp replyMatch(ConfigObject o, String id) {
    ConfigValue fv = o.get("from");
    String from = r.string(fv, "from");
    Scenario.Device dev = null;
    if (!from.equals("cpu")) {
      dev = setup.devices().get(from);
      if (dev == null) {
        throw r.err(fv, "until: from: expected cpu or a device for a reply to the controller, got '" + from
            + "' (declared: " + String.join(", ", setup.devices().keySet()) + ")");
      }
    }
    ConfigValue mv = r.required(o, "at", "pause " + id + " until", line(o));
    String msg = r.string(mv, "at");
    Set<String> allowed = dev == null ? CPU_TO_CONTROLLER : GPU_TO_CONTROLLER;
    if (!allowed.contains(msg)) {
      throw r.err(mv, "at: '" + msg + "' is not a reply from " + from + " to the controller (" + sorted(allowed) + ")");
    }
    cpuAccessNamed(mv, msg);
    return new Scenario.PauseOp(id, from, Scenario.PauseOp.CONTROLLER, dev == null ? 0 : dev.node(), -1, msg, null,
        null, dev == null ? -1 : dev.id(), skip(o));
  }

  /**
   * A controller request ({@code from = controller}): the node it goes to ({@code to}: cpu or a device), its type
   * ({@code at}) and {@code skip}; a controller hold's own match, or an {@code until} naming a request.
   */
  private Scenario.PauseOp requestMatch(ConfigObject o, String id) {
    ConfigValue tv = r.required(o, "to", "pause " + id, line(o));
    String to = r.string(tv, "to");
    Scenario.Device dev = null;
    if (!to.equals("cpu")) {
      dev = setup.devices().get(to);
      if (dev == null) {
        throw r.err(tv, "pause: to: expected cpu or a device for a controller request, got '" + to + "' (declared: "
            + String.join(", ", setup.devices().keySet()) + ")");
      }
    }
    ConfigValue mv = r.required(o, "at", "pause " + id, line(o));
    String msg = r.string(mv, "at");
    Set<String> allowed = dev == null ? CONTROLLER_TO_CPU : CONTROLLER_TO_GPU;
    if (!allowed.contains(msg)) {
      boolean other = (dev == null ? CONTROLLER_TO_GPU : CONTROLLER_TO_CPU).contains(msg);
      throw r.err(mv, "at: " + (other ? msg + " goes to " + (dev == null ? "a device" : "the CPU node")
          : "'" + msg + "' is not a controller request") + " (from controller to " + to + ": " + sorted(allowed) + ")");
    }
    cpuAccessNamed(mv, msg);
    return new Scenario.PauseOp(id, Scenario.PauseOp.CONTROLLER, to, -1, dev == null ? 0 : dev.node(), msg, null,
        null, dev == null ? -1 : dev.id(), skip(o));
  }

  /**
   * A link message between the CPU node and a device: its direction ({@code from}, {@code to}), type ({@code at}),
   * {@code event}, subscription {@code kind} and {@code skip}; {@code what} is "pause" or "until".
   */
  private Scenario.PauseOp linkMatch(ConfigObject o, String what, String id, Set<String> keys) {
    r.checkKeys(o, keys, what.equals("pause") ? "pause" : "pause " + id + " until", line(o));
    String where = what.equals("pause") ? "pause " + id : "pause " + id + " until";
    ConfigValue fv = r.required(o, "from", where, line(o));
    ConfigValue tv = r.required(o, "to", where, line(o));
    String from = r.string(fv, "from");
    String to = r.string(tv, "to");
    boolean fromCpu = from.equals("cpu");
    boolean toCpu = to.equals("cpu");
    if (fromCpu == toCpu) throw r.err(fv, what + ": exactly one of from/to must be cpu (the link runs between the CPU node and a device's GPU node)");
    String devName = fromCpu ? to : from;
    Scenario.Device dev = setup.devices().get(devName);
    if (dev == null) throw r.err(fromCpu ? tv : fv, what + ": unknown device '" + devName + "' (declared: " + String.join(", ", setup.devices().keySet()) + ")");
    ConfigValue mv = r.required(o, "at", where, line(o));
    String msg = r.string(mv, "at");
    Set<String> allowed = fromCpu ? FROM_CPU : FROM_DEVICE;
    if (!allowed.contains(msg)) {
      boolean other = (fromCpu ? FROM_DEVICE : FROM_CPU).contains(msg);
      throw r.err(mv, "at: " + (other ? msg + " travels the other way" : "unknown message '" + msg + "'")
          + " (from " + from + " to " + to + ": " + sorted(allowed) + ")");
    }
    NotifyEvent event = null;
    if (o.containsKey("event")) {
      ConfigValue ev = o.get("event");
      if (!msg.equals("InvalidateStart") && !msg.equals("InvalidateAck")) throw r.err(ev, "event: only InvalidateStart and InvalidateAck carry an event");
      String e = r.string(ev, "event");
      try {
        event = NotifyEvent.valueOf(e);
      } catch (IllegalArgumentException x) {
        throw r.err(ev, "event: unknown notifier event '" + e + "' (" + java.util.Arrays.toString(NotifyEvent.values()) + ")");
      }
    }
    NotifierKind kind = null;
    if (o.containsKey("kind")) {
      ConfigValue kv = o.get("kind");
      if (!msg.startsWith("Invalidate")) throw r.err(kv, "kind: only InvalidateStart, InvalidateAck and InvalidateEnd go to a subscription");
      String k = r.string(kv, "kind");
      if (k.equals("classic")) kind = NotifierKind.CLASSIC;
      else if (k.equals("interval")) kind = NotifierKind.INTERVAL;
      else throw r.err(kv, "kind: expected classic or interval, got \"" + k + "\"");
    }
    int fromNode = fromCpu ? 0 : dev.node();
    int toNode = toCpu ? 0 : dev.node();
    return new Scenario.PauseOp(id, from, to, fromNode, toNode, msg, event, kind, dev.id(), skip(o));
  }

  private int skip(ConfigObject o) {
    int skip = 0;
    if (o.containsKey("skip")) {
      skip = (int) r.integer(o.get("skip"), "skip");
      if (skip < 0) throw r.err(o.get("skip"), "skip: must be >= 0");
    }
    return skip;
  }

  /** {@code gpuK} (a scenario GPU node) or a device name (its node). */
  private int gpuNode(ConfigValue v, String what) {
    String s = r.string(v, what);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("gpu([0-9]{1,2})").matcher(s);
    int node;
    if (m.matches()) {
      node = Integer.parseInt(m.group(1));
    } else if (setup.devices().containsKey(s)) {
      node = setup.devices().get(s).node();
    } else {
      throw r.err(v, what + ": expected gpuK (K = 1.." + validator.gpuNodes() + ") or a device name, got \"" + s + "\"");
    }
    if (node < 1 || node > validator.gpuNodes()) {
      throw r.err(v, what + ": gpu" + node + " does not exist (the scenario has " + validator.gpuNodes() + " GPU node(s))");
    }
    return node;
  }
}
