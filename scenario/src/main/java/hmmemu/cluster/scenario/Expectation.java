package hmmemu.cluster.scenario;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One expectation of a step's {@code expect} block (docs/SCENARIOS.md). {@link #check} appends one
 * {@code expected X, got Y} line per mismatch; the runner prefixes the file and the expectation's line.
 */
public interface Expectation {
  /** The line of the expectation in the scenario file. */
  int line();

  /** True when the expectation needs the step's outcome (result, value, counters, data, cpu-faults). */
  default boolean needsOutcome() { return false; }

  void check(Observed o, List<String> mismatches);

  /** At most this many per-page mismatches are listed one by one; the rest are counted. */
  int LISTED = 4;

  /** Reports page-by-page mismatches compactly: the first few, then how many more. */
  final class Collector {
    private final List<String> out;
    private int count;

    Collector(List<String> out) { this.out = out; }

    void add(String s) {
      if (count++ < LISTED) out.add(s);
    }

    void finish() {
      if (count > LISTED) out.add("... and " + (count - LISTED) + " more mismatches of the same expectation");
    }
  }

  /** {@code pte { page, mm, state, write, dirty, young }}: the CPU PTE of every page of the range. */
  record Pte(int line, PageRange at, int mm, PteState state, Boolean write, Boolean dirty, Boolean young,
      String pfnName, boolean pfnDiffers) implements Expectation {
    @Override
    public void check(Observed o, List<String> mismatches) {
      Collector c = new Collector(mismatches);
      for (int p = at.firstPage(); p <= at.lastPage(); p++) {
        HmmProtocol.PageInfo info = o.page(mm, at.pageVa(p));
        if (state != null && info.pte() != state) c.add("expected " + where(p) + " " + state + ", got " + info.pte());
        if (pfnName != null) {
          Long named = o.pfnNames().get(pfnName);
          if (pfnDiffers) {
            if (named == null) {
              c.add("expected " + where(p) + " pfn other than @" + pfnName + ", got no pfn named @" + pfnName + " yet");
            } else if (info.pfn() == named) {
              c.add("expected " + where(p) + " pfn other than @" + pfnName + " (" + hex(named) + "), got the same");
            }
          } else if (named == null) {
            o.pfnNames().put(pfnName, info.pfn());
          } else if (info.pfn() != named) {
            c.add("expected " + where(p) + " pfn @" + pfnName + " (" + hex(named) + "), got " + hex(info.pfn()));
          }
        }
        if (write != null && info.write() != write) c.add("expected " + where(p) + " write=" + write + ", got " + describe(info));
        if (dirty != null && info.dirty() != dirty) c.add("expected " + where(p) + " dirty=" + dirty + ", got " + describe(info));
        if (young != null && info.young() != young) c.add("expected " + where(p) + " young=" + young + ", got " + describe(info));
      }
      c.finish();
    }

    /** How a mismatch names page {@code p}: spelled only when there is a mismatch to report. */
    private String where(int p) {
      return "PTE of " + at.namePage(p) + (mm != at.vma().mm() ? " in mm " + mm : "");
    }

    static String hex(long v) { return "0x" + Long.toHexString(v); }

    static String describe(HmmProtocol.PageInfo i) {
      return i.pte() + "(write=" + i.write() + ", dirty=" + i.dirty() + ", young=" + i.young() + ")";
    }
  }

  /**
   * {@code folio { page, mm, locked, refcount, mapcount, mapped, dirty, anon-exclusive }}: the folio behind each page;
   * or {@code folio { pfn = "@X", ... }}: the folio named @X by an earlier {@code pte} expectation, mapped or not.
   */
  record Folio(int line, PageRange at, int mm, Boolean locked, Integer refcount, Integer mapcount, Boolean dirty,
      Boolean anonExclusive, Boolean mapped, String pfnName) implements Expectation {
    Folio(int line, PageRange at, int mm, Boolean locked, Integer refcount, Integer mapcount, Boolean dirty,
        Boolean anonExclusive) {
      this(line, at, mm, locked, refcount, mapcount, dirty, anonExclusive, null, null);
    }

    @Override
    public void check(Observed o, List<String> mismatches) {
      Collector c = new Collector(mismatches);
      if (pfnName != null) {
        Long pfn = o.pfnNames().get(pfnName);
        if (pfn == null) {
          c.add("expected a folio named @" + pfnName + ", got no pfn named @" + pfnName + " yet");
        } else {
          compare(o.folio(pfn), "folio @" + pfnName + " (" + Pte.hex(pfn) + ")", c);
        }
        c.finish();
        return;
      }
      for (int p = at.firstPage(); p <= at.lastPage(); p++) {
        HmmProtocol.PageInfo i = o.page(mm, at.pageVa(p));
        String where = "folio of " + at.namePage(p) + (mm != at.vma().mm() ? " in mm " + mm : "");
        compare(i, where, c);
      }
      c.finish();
    }

    private void compare(HmmProtocol.PageInfo i, String where, Collector c) {
      {
        if (locked != null && i.folioLocked() != locked) c.add("expected " + where + " locked=" + locked + ", got " + i.folioLocked());
        if (refcount != null && i.refcount() != refcount) c.add("expected " + where + " refcount=" + refcount + ", got " + i.refcount());
        if (mapcount != null && i.mapcount() != mapcount) c.add("expected " + where + " mapcount=" + mapcount + ", got " + i.mapcount());
        if (dirty != null && i.folioDirty() != dirty) c.add("expected " + where + " dirty=" + dirty + ", got " + i.folioDirty());
        if (anonExclusive != null && i.anonExclusive() != anonExclusive) {
          c.add("expected " + where + " anon-exclusive=" + anonExclusive + ", got " + i.anonExclusive());
        }
        if (mapped != null && (i.mapcount() > 0) != mapped) {
          c.add("expected " + where + " mapped=" + mapped + ", got mapcount " + i.mapcount());
        }
      }
    }
  }

  /**
   * {@code notifier { D0 { seq, live, deferred, deferred-insert, deferred-remove, count, mm-seq, active-ranges } }}:
   * the device's notifier subscriptions on mm (of {@code kind}, or all when null), each of which must match; the
   * mm's invalidate_seq and active_invalidate_ranges.
   */
  record Notifier(int line, Scenario.Device device, int mm, NotifierKind kind, Long seq, Boolean live,
      Boolean deferred, Boolean deferredInsert, Boolean deferredRemove, Bound count, Long mmSeq, Bound activeRanges)
      implements Expectation {
    @Override
    public void check(Observed o, List<String> mismatches) {
      HmmProtocol.NotifierInfo info = o.notifiers(device, mm);
      String who = device.name() + "'s " + (kind == null ? "" : kind.name().toLowerCase() + " ") + "notifier";
      if (mmSeq != null && info.mmSeq() != mmSeq) {
        mismatches.add("expected mm " + mm + " invalidate_seq " + mmSeq + ", got " + info.mmSeq());
      }
      if (activeRanges != null && !activeRanges.test(info.activeRanges())) {
        mismatches.add("expected mm " + mm + " active_invalidate_ranges " + activeRanges + ", got " + info.activeRanges());
      }
      List<HmmProtocol.NotifierState> subs = new ArrayList<>();
      for (HmmProtocol.NotifierState s : info.subscriptions()) if (kind == null || s.kind() == kind) subs.add(s);
      if (count != null && !count.test(subs.size())) {
        mismatches.add("expected " + count + " " + who + "s, got " + subs.size());
      }
      if (subs.isEmpty() && (seq != null || live != null || deferred != null || deferredInsert != null
          || deferredRemove != null)) {
        mismatches.add("expected a " + who + " on mm " + mm + ", got none");
      }
      for (HmmProtocol.NotifierState s : subs) {
        String w = who + " 0x" + Long.toHexString(s.subId());
        boolean def = s.deferredInsert() || s.deferredRemove();
        if (seq != null && s.seq() != seq) mismatches.add("expected " + w + " seq=" + seq + ", got " + describe(s));
        if (live != null && s.live() != live) mismatches.add("expected " + w + " live=" + live + ", got " + describe(s));
        if (deferred != null && def != deferred) mismatches.add("expected " + w + " deferred=" + deferred + ", got " + describe(s));
        if (deferredInsert != null && s.deferredInsert() != deferredInsert) {
          mismatches.add("expected " + w + " deferred-insert=" + deferredInsert + ", got " + describe(s));
        }
        if (deferredRemove != null && s.deferredRemove() != deferredRemove) {
          mismatches.add("expected " + w + " deferred-remove=" + deferredRemove + ", got " + describe(s));
        }
      }
    }

    static String describe(HmmProtocol.NotifierState s) {
      return "seq=" + s.seq() + " live=" + s.live() + " deferred-insert=" + s.deferredInsert() + " deferred-remove="
          + s.deferredRemove();
    }
  }

  /** {@code memory { "buf+0:word0" = 6 }} or {@code = { pattern = index, plus = 1 }}: page contents, word by word. */
  record Memory(int line, PageRange at, int mm, Pattern expected) implements Expectation {
    @Override
    public void check(Observed o, List<String> mismatches) {
      Collector c = new Collector(mismatches);
      for (int p = at.firstPage(); p <= at.lastPage(); p++) {
        HmmProtocol.PageInfo i = o.page(mm, at.pageVa(p));
        for (int w = at.firstWord(); w <= at.lastWord(); w++) {
          long got = word(i, w);
          long want = expected.at(p, w);
          if (got != want) c.add("expected " + at.name(p, w) + " = " + want + ", got " + got);
        }
      }
      c.finish();
    }

    /** Word w of the page: PageInfo.words when it holds it, else word0 for w = 0, else 0. */
    static long word(HmmProtocol.PageInfo i, int w) {
      if (i.words() instanceof hmmemu.protocol.msg.PageWords p && w < p.size()) return p.word(w); // unboxed
      if (i.words() != null && w < i.words().size()) return i.words().get(w);
      return w == 0 ? i.word0() : 0;
    }
  }

  /**
   * {@code device { D0 { entries, atomic-entries, write-entries, read-entries, faults, iterations, ...,
   * entry { "buf+0" = RWA } } }}: a device's page table and counters.
   */
  record Device(int line, Scenario.Device device, String counter, Bound expected, PageRange at, String entryBits)
      implements Expectation {
    static final Set<String> COUNTERS = Set.of("entries", "atomic-entries", "write-entries", "read-entries", "faults",
        "iterations", "iterations-max", "timeouts", "cancels", "invalidations", "replays", "faults-handled",
        "deadlock-suspects");

    @Override
    public void check(Observed o, List<String> mismatches) {
      HmmProtocol.DeviceInfo d = o.device(device);
      if (at != null) {
        Collector c = new Collector(mismatches);
        for (int p = at.firstPage(); p <= at.lastPage(); p++) {
          long va = at.pageVa(p);
          String got = "none";
          for (HmmProtocol.DeviceEntry e : d.entries()) {
            if (e.mmId() == at.vma().mm() && Page.alignDown(e.va()) == va) got = bits(e);
          }
          if (!got.equals(entryBits)) {
            c.add("expected " + device.name() + " entry at " + at.namePage(p) + " " + entryBits + ", got " + got);
          }
        }
        c.finish();
        return;
      }
      long got = value(d, counter);
      if (!expected.test(got)) {
        mismatches.add("expected " + device.name() + " " + counter + " " + expected.phrase() + ", got " + got);
      }
    }

    static String bits(HmmProtocol.DeviceEntry e) {
      String s = (e.read() ? "R" : "") + (e.write() ? "W" : "") + (e.atomic() ? "A" : "");
      return s.isEmpty() ? "-" : s;
    }

    static long value(HmmProtocol.DeviceInfo d, String counter) {
      switch (counter) {
        case "entries": return d.entries().size();
        case "atomic-entries": return d.entries().stream().filter(HmmProtocol.DeviceEntry::atomic).count();
        case "write-entries": return d.entries().stream().filter(HmmProtocol.DeviceEntry::write).count();
        case "read-entries": return d.entries().stream().filter(HmmProtocol.DeviceEntry::read).count();
        case "faults": return d.faults();
        case "iterations": return d.driverIterations();
        case "iterations-max": return d.driverIterationsMax();
        case "timeouts": return d.driverTimeouts();
        case "cancels": return d.cancels();
        case "invalidations": return d.invalidations();
        case "replays": return d.replays();
        case "faults-handled": return d.faultsHandled();
        case "deadlock-suspects": return d.deadlockSuspects().size();
        default: throw new IllegalStateException("unknown device counter " + counter);
      }
    }
  }

  /** {@code result = "-EPERM"}: the step's errno (0 for success, SIGSEGV, CANCELLED, ENOMEM...). */
  record Result(int line, Errno expected) implements Expectation {
    @Override
    public boolean needsOutcome() { return true; }

    @Override
    public void check(Observed o, List<String> mismatches) {
      Outcome out = o.outcome();
      if (out == null) {
        mismatches.add("expected result " + expected.kernelName() + ", got no result (the step did not complete)");
      } else if (out.errno() != expected) {
        mismatches.add("expected result " + expected.kernelName() + ", got " + out.errno().kernelName());
      }
    }
  }

  /**
   * A step's {@code within = 5ms}: the model time the step took (its CPU accesses', syscall's, device accesses' or
   * dmirror ioctl's latency, as the node measured it in model µs) is at most {@code micros}.
   */
  record Within(int line, long micros, String text) implements Expectation {
    @Override
    public boolean needsOutcome() { return true; }

    @Override
    public void check(Observed o, List<String> mismatches) {
      String got = modelTimeMiss(o.outcome(), out -> out.modelMicros() <= micros);
      if (got != null) mismatches.add("expected to complete within " + text + " of model time, got " + got);
    }
  }

  /** What a bound on the step's model time got when {@code holds} fails on it (null when it holds). */
  private static String modelTimeMiss(Outcome out, java.util.function.Predicate<Outcome> holds) {
    if (out == null) return "no completion";
    if (out.modelMicros() < 0) return "no model time";
    return holds.test(out) ? null : out.modelMicros() + " µs";
  }

  /** {@code at-least = 4ms}: the model time the step took (read as {@link Within} reads it) is at least {@code micros}. */
  record AtLeast(int line, long micros, String text) implements Expectation {
    @Override
    public boolean needsOutcome() { return true; }

    @Override
    public void check(Observed o, List<String> mismatches) {
      String got = modelTimeMiss(o.outcome(), out -> out.modelMicros() >= micros);
      if (got != null) mismatches.add("expected to take at least " + text + " of model time, got " + got);
    }
  }

  /** {@code value = 5}: the value of the step's last access (a load's value, a fetch-and-add's old value). */
  record Value(int line, long expected) implements Expectation {
    @Override
    public boolean needsOutcome() { return true; }

    @Override
    public void check(Observed o, List<String> mismatches) {
      Outcome out = o.outcome();
      if (out == null) {
        mismatches.add("expected value " + expected + ", got no result (the step did not complete)");
      } else if (out.value() != expected) {
        mismatches.add("expected value " + expected + ", got " + out.value());
      }
    }
  }

  /** {@code counters { faults = 1024, cpages = 1024 }}: a dmirror ioctl's counters. */
  record Counters(int line, String counter, Bound expected) implements Expectation {
    @Override
    public boolean needsOutcome() { return true; }

    @Override
    public void check(Observed o, List<String> mismatches) {
      Outcome out = o.outcome();
      if (out == null || !out.hasCounters()) {
        mismatches.add("expected dmirror counter " + counter + " " + expected.phrase() + ", got no dmirror result");
        return;
      }
      long got = counter.equals("faults") ? out.faults() : out.cpages();
      if (!expected.test(got)) {
        mismatches.add("expected dmirror counter " + counter + " " + expected.phrase() + ", got " + got);
      }
    }
  }

  /** {@code data = [..]} or {@code data { pattern = index, plus = 0 }}: the words a dmirror ioctl returned (word 0 per page). */
  record Data(int line, List<Long> values, Pattern pattern, PageRange range, PageRange at) implements Expectation {
    @Override
    public boolean needsOutcome() { return true; }

    @Override
    public void check(Observed o, List<String> mismatches) {
      Outcome out = o.outcome();
      if (out == null) {
        mismatches.add("expected data, got no result (the step did not complete)");
        return;
      }
      List<Long> got = out.data();
      if (values != null) {
        if (!values.equals(got)) mismatches.add("expected data " + values + ", got " + got);
        return;
      }
      Collector c = new Collector(mismatches);
      int n = range.pages();
      if (got.size() != n) {
        mismatches.add("expected data of " + n + " pages, got " + got.size() + " words");
        return;
      }
      for (int p = at.firstPage(); p <= at.lastPage(); p++) {
        int k = p - range.firstPage();
        long want = pattern.at(p, 0);
        if (got.get(k) != want) c.add("expected data[" + k + "] (" + range.namePage(p) + ") = " + want + ", got " + got.get(k));
      }
      c.finish();
    }
  }

  /**
   * {@code snapshot { "buf+0" = "VALID WRITE", "buf+1" = NONE }}: the HMM_PFN flags a dmirror SNAPSHOT returned
   * per page (VALID, WRITE, ERROR, and with hmm-pfn-exclusive EXCLUSIVE:&lt;device&gt;); NONE is the word 0.
   */
  record Snapshot(int line, PageRange range, PageRange at, java.util.SortedSet<String> flags) implements Expectation {
    @Override
    public boolean needsOutcome() { return true; }

    @Override
    public void check(Observed o, List<String> mismatches) {
      Outcome out = o.outcome();
      if (out == null) {
        mismatches.add("expected a snapshot, got no result (the step did not complete)");
        return;
      }
      Collector c = new Collector(mismatches);
      for (int p = at.firstPage(); p <= at.lastPage(); p++) {
        int k = p - range.firstPage();
        if (k < 0 || k >= out.data().size()) {
          c.add("expected a snapshot word for " + at.namePage(p) + ", got none (the snapshot covered "
              + range.text() + ")");
          continue;
        }
        java.util.SortedSet<String> got = flagsOf(out.data().get(k));
        if (!got.equals(flags)) {
          c.add("expected snapshot of " + at.namePage(p) + " " + String.join(" ", flags) + ", got "
              + String.join(" ", got));
        }
      }
      c.finish();
    }

    static java.util.SortedSet<String> flagsOf(long word) {
      java.util.SortedSet<String> s = new TreeSet<>();
      if ((word & ~hmmemu.protocol.model.HmmPfn.PFN_MASK) == 0) {
        s.add("NONE");
        return s;
      }
      if ((word & hmmemu.protocol.model.HmmPfn.VALID) != 0) s.add("VALID");
      if ((word & hmmemu.protocol.model.HmmPfn.WRITE) != 0) s.add("WRITE");
      if ((word & hmmemu.protocol.model.HmmPfn.ERROR) != 0) s.add("ERROR");
      if ((word & hmmemu.protocol.model.HmmPfn.EXCLUSIVE) != 0) {
        s.add("EXCLUSIVE:" + hmmemu.protocol.model.HmmPfn.holder(word));
      }
      // dmirror_mkentry(): hmm_pfn_to_map_order(entry) + PAGE_SHIFT == PMD_SHIFT -> HMM_DMIRROR_PROT_PMD
      int order = hmmemu.protocol.model.HmmPfn.mapOrder(word);
      if (order == 9) s.add("PMD");
      else if (order != 0) s.add("ORDER:" + order);
      return s;
    }
  }

  /** {@code invalidations { D0 { CLEAR = 1024 } }} or {@code { G { classic { EXCLUSIVE = 1 } } }}: callbacks delivered so far. */
  record Invalidations(int line, Scenario.Device device, NotifierKind kind, String event, Bound expected)
      implements Expectation {
    @Override
    public void check(Observed o, List<String> mismatches) {
      long got = o.invalidations(device.id(), kind, event);
      if (!expected.test(got)) {
        mismatches.add("expected " + (expected.min() == expected.max() ? expected.text() : "(" + expected.text() + ")")
            + " " + (event == null ? "" : event + " ") + "invalidation callbacks to "
            + device.name() + (kind == null ? "" : " (" + kind.name().toLowerCase() + " subscriptions)") + ", got " + got);
      }
    }
  }

  /**
   * {@code invalidations { D0 { ranges = ["EXCLUSIVE buf+0", "CLEAR buf+0..3"] } }}: exactly these callbacks, in order,
   * to the device's subscriptions (of {@code kind}, all when null), each with its event and range [start, end).
   */
  record InvalidationRanges(int line, Scenario.Device device, NotifierKind kind, List<String> expected)
      implements Expectation {
    @Override
    public void check(Observed o, List<String> mismatches) {
      List<String> got = o.invalidationRanges(device.id(), kind);
      if (!got.equals(expected)) {
        mismatches.add("expected invalidation callbacks to " + device.name()
            + (kind == null ? "" : " (" + kind.name().toLowerCase() + " subscriptions)") + " " + expected + ", got " + got);
      }
    }

    /** One callback as the language compares it: {@code EXCLUSIVE [0x7f0000000000, 0x7f0000001000)}. */
    static String describe(String event, long start, long end) {
      return event + " [" + Pte.hex(start) + ", " + Pte.hex(end) + ")";
    }
  }

  /** {@code hmm-range-fault { D0 { EBUSY = 1, total = 3 } }}: the device's hmm_range_fault calls by their answer. */
  record RangeFaults(int line, Scenario.Device device, Errno errno, Bound expected) implements Expectation {
    @Override
    public void check(Observed o, List<String> mismatches) {
      long got = o.rangeFaults(device.id(), errno);
      if (!expected.test(got)) {
        mismatches.add("expected hmm_range_fault calls of " + device.name()
            + (errno == null ? "" : " returning " + errno.kernelName()) + " " + expected.phrase() + ", got " + got);
      }
    }
  }

  /**
   * A per-profile expectation ({@code expect { "v5.14" { result = "-EBUSY" } }}): checked only when the run models
   * {@code profile}, in a file that runs under several profiles.
   */
  record ForProfile(hmmemu.protocol.model.KernelProfile profile, Expectation inner) implements Expectation {
    @Override
    public int line() { return inner.line(); }

    @Override
    public boolean needsOutcome() { return inner.needsOutcome(); }

    @Override
    public void check(Observed o, List<String> mismatches) {
      if (o.profile() == profile) inner.check(o, mismatches);
    }
  }

  /**
   * {@code trace { NodeGone = 1, FolioLockLeaseExpired = 1 }}: trace events of that type (docs/PROTOCOL.md, Trace) the
   * invariant checker delivered so far, from every node, once it delivered every event the controller has seen.
   * {@code type} is {@code CpuFaulted} or, filtered by a field, {@code CpuFaulted.kind=anon} (TraceFields).
   */
  record TraceCount(int line, String type, Bound expected) implements Expectation {
    @Override
    public void check(Observed o, List<String> mismatches) {
      long got = o.traceCount(type);
      String what = type.contains(".") ? type.substring(0, type.indexOf('.')) + " trace events with "
          + type.substring(type.indexOf('.') + 1) : type + " trace events";
      if (!expected.test(got)) mismatches.add("expected " + what + " " + expected.phrase() + ", got " + got);
    }
  }

  /** {@code cpu-faults = 1024} (this step's CPU accesses) or {@code total-cpu-faults} (every CPU step so far). */
  record CpuFaults(int line, Bound expected, boolean total) implements Expectation {
    @Override
    public boolean needsOutcome() { return !total; }

    @Override
    public void check(Observed o, List<String> mismatches) {
      long got;
      if (total) {
        got = o.totalCpuFaults();
      } else {
        Outcome out = o.outcome();
        if (out == null) {
          mismatches.add("expected CPU faults " + expected.phrase() + ", got no result (the step did not complete)");
          return;
        }
        got = out.cpuFaults();
      }
      if (!expected.test(got)) {
        mismatches.add("expected " + (total ? "CPU faults in total " : "CPU faults ") + expected.phrase() + ", got " + got);
      }
    }
  }

  /**
   * {@code violations = []} or {@code ["I8"]}: the distinct invariants the checker found broken so far are exactly
   * these; with {@code include} ({@code violations-include = ["I7"]}) they include these, and maybe others.
   */
  record Violations(int line, List<String> expected, boolean include) implements Expectation {
    @Override
    public void check(Observed o, List<String> mismatches) {
      List<String> all = o.violations();
      Set<String> got = new TreeSet<>();
      for (String v : all) got.add(v.split(" ", 2)[0]);
      if (include ? !got.containsAll(expected) : !got.equals(new TreeSet<>(expected))) {
        List<String> shown = new ArrayList<>(all.subList(0, Math.min(3, all.size())));
        mismatches.add("expected violations " + (include ? "including " : "") + expected + ", got " + got
            + (shown.isEmpty() ? "" : ": " + shown));
      }
    }
  }

  /** {@code deadlock = true}: the step (or what it awaits) did not complete within its bounded wait. */
  record Deadlock(int line, boolean expected) implements Expectation {
    @Override
    public void check(Observed o, List<String> mismatches) {
      if (o.deadlocked() != expected) {
        mismatches.add(expected ? "expected a deadlock, got none (the step completed)"
            : "expected no deadlock, got one: " + o.deadlockReport());
      }
    }
  }

  /** {@code pending = [id]}: these async steps have not completed yet. */
  record Pending(int line, List<String> stepIds) implements Expectation {
    @Override
    public void check(Observed o, List<String> mismatches) {
      for (String id : stepIds) {
        if (o.completed(id)) mismatches.add("expected step '" + id + "' still pending, got completed");
      }
    }
  }

  /** {@code completed = [id]}: these async steps have completed (without waiting for them). */
  record Completed(int line, List<String> stepIds) implements Expectation {
    @Override
    public void check(Observed o, List<String> mismatches) {
      for (String id : stepIds) {
        if (!o.completed(id)) mismatches.add("expected step '" + id + "' completed, got still pending");
      }
    }
  }

  /** Names of the errno spellings a scenario may use: 0, OK, EPERM, -EPERM, SIGSEGV, CANCELLED... */
  static Errno errno(String s) {
    String t = s.trim();
    if (t.equals("0") || t.equalsIgnoreCase("OK")) return Errno.OK;
    if (t.startsWith("-")) t = t.substring(1);
    for (Errno e : Errno.values()) {
      if (e.name().equalsIgnoreCase(t)) return e;
    }
    return null;
  }

  /** Every errno spelling, for error messages. */
  static String errnoNames() {
    List<String> names = new ArrayList<>();
    for (Errno e : Errno.values()) names.add(e.kernelName());
    return String.join(", ", names);
  }
}
