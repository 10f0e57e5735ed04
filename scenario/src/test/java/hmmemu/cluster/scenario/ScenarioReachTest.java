package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.trace.TraceFields;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The issue-14 reach of the language (docs/SCENARIOS.md): invalidation ranges, hmm_range_fault answers, filtered
 * trace counts, violations-include and files run under both kernel profiles. Each malformed use is one exact
 * FILE:LINE line (hmm-emu run exits 2 on it).
 */
class ScenarioReachTest {
  /** Lines 1-5: a dmirror D0 on node 1 and a 4-page buffer; steps start at line 6. */
  private static final String HEAD = String.join("\n",
      "name = \"t\"",
      "devices = [{name = D0, node = 1, driver = dmirror}]",
      "vmas = [{name = buf, mm = 1, start = \"0x7f0000000000\", pages = 4, fill = index}]",
      "# steps follow",
      "steps = [");

  private static Scenario parse(String steps) { return parse("", steps); }

  private static Scenario parse(String top, String steps) { return ScenarioText.parse(top + HEAD, steps); }

  private static String error(String steps) { return error("", steps); }

  private static String error(String top, String steps) { return ScenarioText.error(top + HEAD, steps); }

  private static Expectation only(Scenario s) {
    List<Expectation> e = s.steps().get(0).expect();
    assertEquals(1, e.size(), e.toString());
    return e.get(0);
  }

  @Test
  @DisplayName("invalidations ranges: EVENT and pages or a hex range, canonical [start, end)")
  void invalidationRanges() {
    Scenario s = parse("  { D0 { exclusive = buf }, expect { invalidations { D0 { interval { ranges = ["
        + "\"EXCLUSIVE buf+0\", \"CLEAR buf+1..3\", \"UNMAP 0x7f0000000000..0x7f0000004000\"] } } } } }");
    Expectation.InvalidationRanges r = assertInstanceOf(Expectation.InvalidationRanges.class, only(s));
    assertEquals(NotifierKind.INTERVAL, r.kind());
    assertEquals(List.of("EXCLUSIVE [0x7f0000000000, 0x7f0000001000)", "CLEAR [0x7f0000001000, 0x7f0000004000)",
        "UNMAP [0x7f0000000000, 0x7f0000004000)"), r.expected());
    assertEquals("t.conf:6: ranges: unknown event 'CLEARED' ([UNMAP, CLEAR, PROTECTION_VMA, PROTECTION_PAGE,"
        + " SOFT_DIRTY, RELEASE, MIGRATE, EXCLUSIVE])",
        error("  { expect { invalidations { D0 { ranges = [\"CLEARED buf+0\"] } } } }").replace("\n", ""));
    assertEquals("t.conf:6: ranges: an invalidation covers whole pages; drop the word part of buf+0:word1",
        error("  { expect { invalidations { D0 { ranges = [\"CLEAR buf+0:word1\"] } } } }"));
    assertEquals("t.conf:6: ranges: expected \"EVENT RANGE\" (e.g. \"CLEAR buf+0..3\"), got \"CLEAR\"",
        error("  { expect { invalidations { D0 { ranges = [\"CLEAR\"] } } } }"));
    assertEquals("t.conf:6: ranges: 0x1000..0x1000 must be page-aligned with start < end (end exclusive)",
        error("  { expect { invalidations { D0 { ranges = [\"CLEAR 0x1000..0x1000\"] } } } }"));
  }

  @Test
  @DisplayName("hmm-range-fault: answers per device, by errno or in total")
  void rangeFaultAnswers() {
    Scenario s = parse("  { D0 { read = buf }, expect { hmm-range-fault { D0 { EBUSY = \">= 1\", total = 2 } } } }");
    java.util.Set<Errno> errnos = new java.util.HashSet<>();
    for (Expectation x : s.steps().get(0).expect()) errnos.add(((Expectation.RangeFaults) x).errno());
    assertEquals(new java.util.HashSet<>(java.util.Arrays.asList(Errno.EBUSY, null)), errnos);
    assertEquals("t.conf:6: hmm-range-fault: expected total, OK or an errno (EBUSY, EFAULT, EPERM...), got 'BUSY'",
        error("  { expect { hmm-range-fault { D0 { BUSY = 1 } } } }"));
    assertEquals("t.conf:6: unknown device 'D7' (declared: D0)", error("  { expect { hmm-range-fault { D7 { EBUSY = 1 } } } }"));
  }

  @Test
  @DisplayName("trace counts filtered by one field: enums in any case, errnos as -EBUSY, strings, booleans")
  void filteredTraceCounts() {
    Scenario s = parse("  { T1 { read = buf }, expect { trace { CpuFaulted { kind = anon, count = 4 },"
        + " PteChanged = [{ state = devexcl, count = 0 }, { cause = \"restore\", count = \">= 0\" }],"
        + " DriverFaultHandled { errno = \"-EBUSY\", count = 0 }, InvalidateEnded { applied = true, count = \"> 0\" } } } }");
    java.util.Set<String> keys = s.steps().get(0).expect().stream().map(x -> ((Expectation.TraceCount) x).type())
        .collect(java.util.stream.Collectors.toSet());
    assertEquals(java.util.Set.of("CpuFaulted.kind=anon", "PteChanged.state=DEVEXCL", "PteChanged.cause=restore",
        "DriverFaultHandled.errno=EBUSY", "InvalidateEnded.applied=true"), keys);
    assertEquals("t.conf:6: trace CpuFaulted: cannot filter by 'va' (threadId, mmId, kind; and count)",
        error("  { expect { trace { CpuFaulted { va = 1, count = 1 } } } }"));
    assertEquals("t.conf:6: trace CpuFaulted: filter by one field, got threadId and kind",
        error("  { expect { trace { CpuFaulted { threadId = 1, kind = anon, count = 1 } } } }"));
    assertEquals("t.conf:6: trace PteChanged state: unknown value 'GONE'",
        error("  { expect { trace { PteChanged { state = GONE, count = 1 } } } }"));
    assertEquals("t.conf:6: trace CpuFaulted: missing required key 'count'",
        error("  { expect { trace { CpuFaulted { kind = anon } } } }"));
    // what the checker counts: one key per filterable field of each delivered event
    assertEquals(List.of("CpuFaulted.threadId=1", "CpuFaulted.mmId=1", "CpuFaulted.kind=wp"),
        TraceFields.keys(new Trace.CpuFaulted(1, 1, 0x7f0000000000L, "wp")));
  }

  @Test
  @DisplayName("violations-include: at least these; exactly-these stays violations")
  void violationsInclude() {
    Expectation.Violations v = assertInstanceOf(Expectation.Violations.class,
        only(parse("  { expect { violations-include = [I7] } }")));
    assertTrue(v.include());
    assertEquals("t.conf:6: violations-include: name at least one invariant",
        error("  { expect { violations-include = [] } }"));
    assertEquals("t.conf:6: violations-include: invariants are named I1..I13, got \"I14\"",
        error("  { expect { violations-include = [I14] } }"));
  }

  @Test
  @DisplayName("profile = [v6.15, v5.14]: one file, both profiles, per-profile expect blocks")
  void bothProfiles() {
    Scenario s = parse("profile = [\"v6.15\", \"v5.14\"]\n",
        "  { D0 { exclusive = buf }, expect { result = 0, \"v5.14\" { pte { page = buf, state = DEVEXCL } } } }");
    assertEquals(List.of(KernelProfile.V6_15, KernelProfile.V5_14), s.profiles());
    assertEquals(KernelProfile.V6_15, s.switches().kernelProfile());
    assertEquals(KernelProfile.V5_14, s.forProfile(KernelProfile.V5_14).switches().kernelProfile());
    Expectation.ForProfile f = assertInstanceOf(Expectation.ForProfile.class, s.steps().get(0).expect().get(1));
    assertEquals(KernelProfile.V5_14, f.profile());
    assertEquals(7, f.line());
    assertEquals("t.conf:6: v5.14: this file does not run under v5.14 (profile = [V6_15])",
        error("  { expect { \"v5.14\" { result = 0 } } }"));
    assertEquals("t.conf:1: profile: v5.14 is listed twice", error("profile = [\"v5.14\", \"v5.14\"]\n", ""));
    assertEquals("t.conf:1: profile: expected \"v6.15\" or \"v5.14\" (or a list of them), got \"v4\"",
        error("profile = [\"v4\"]\n", ""));
  }
}
