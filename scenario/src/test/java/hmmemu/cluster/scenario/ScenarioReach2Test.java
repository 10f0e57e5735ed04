package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import hmmemu.protocol.model.NotifierKind;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The second part of issue 14's reach (docs/SCENARIOS.md): notifier seq values and the deferred list, folios named by
 * pfn, syscalls made by a named thread, and bounds on model time. Each malformed use is one exact FILE:LINE line
 * (hmm-emu run exits 2 on it).
 */
class ScenarioReach2Test {
  /** Lines 1-5: a dmirror D0 on node 1, a nouveau G on node 2 and a 4-page buffer; steps start at line 6. */
  private static final String HEAD = String.join("\n",
      "name = \"t\"",
      "devices = [{name = D0, node = 1, driver = dmirror}, {name = G, node = 2, driver = nouveau}]",
      "vmas = [{name = buf, mm = 1, start = \"0x7f0000000000\", pages = 4, fill = index}]",
      "# steps follow",
      "steps = [");

  private static Scenario parse(String steps) { return ScenarioText.parse(HEAD, steps); }

  private static String error(String steps) { return ScenarioText.error(HEAD, steps).replace("\n", ""); }

  private static List<Expectation> expect(Scenario s, int step) { return s.steps().get(step).expect(); }

  @Test
  @DisplayName("notifier: seq, deferred, live, count and the mm's seq of a device's subscriptions")
  void notifier() {
    Scenario s = parse("  { D0 { exclusive = buf }, expect { notifier {"
        + " D0 { seq = 3, deferred = false, live = true, count = 1, mm-seq = 4, active-ranges = 0 },"
        + " G { kind = interval, count = 0, mm = 1 } } } }");
    List<Expectation> e = expect(s, 0);
    assertEquals(2, e.size());
    Expectation.Notifier d0 = e.stream().map(Expectation.Notifier.class::cast)
        .filter(n -> n.device().name().equals("D0")).findFirst().orElseThrow();
    assertEquals(3L, d0.seq());
    assertEquals(false, d0.deferred());
    assertEquals(true, d0.live());
    assertEquals(4L, d0.mmSeq());
    assertEquals(1, d0.mm());
    assertNull(d0.kind());
    Expectation.Notifier g = e.stream().map(Expectation.Notifier.class::cast)
        .filter(n -> n.device().name().equals("G")).findFirst().orElseThrow();
    assertEquals(NotifierKind.INTERVAL, g.kind());
    assertEquals("t.conf:6: unknown key 'sequence' in notifier D0 (expected one of: active-ranges, count, deferred,"
        + " deferred-insert, deferred-remove, kind, live, mm, mm-seq, seq)",
        error("  { expect { notifier { D0 { sequence = 3 } } } }"));
    assertEquals("t.conf:6: kind: expected interval or classic, got 'tree'",
        error("  { expect { notifier { D0 { kind = tree } } } }"));
    assertEquals("t.conf:6: unknown device 'D9' (declared: D0, G)",
        error("  { expect { notifier { D9 { seq = 1 } } } }"));
  }

  @Test
  @DisplayName("folio by pfn: a page named earlier, mapped or not")
  void folioByPfn() {
    Scenario s = parse("  { expect { pte { page = \"buf+0\", pfn = \"@X\" } } }\n"
        + "  { P1 { munmap = buf }, expect { folio { pfn = \"@X\", refcount = 0, locked = false, mapped = false } } }");
    Expectation.Folio f = assertInstanceOf(Expectation.Folio.class, expect(s, 1).get(0));
    assertEquals("X", f.pfnName());
    assertEquals(false, f.mapped());
    assertEquals(0, f.refcount());
    assertEquals("t.conf:6: pfn: @Y is not named by an earlier pfn = \"@Y\"",
        error("  { expect { folio { pfn = \"@Y\", refcount = 1 } } }"));
    assertEquals("t.conf:7: folio: name the folio by page or by pfn, not both",
        error("  { expect { pte { page = \"buf+0\", pfn = \"@X\" } } }\n"
            + "  { expect { folio { pfn = \"@X\", page = \"buf+0\" } } }"));
    assertEquals("t.conf:7: pfn: expected \"@NAME\" (a page named by an earlier pte { pfn = \"@NAME\" }), got \"X\"",
        error("  { expect { pte { page = \"buf+0\", pfn = \"@X\" } } }\n"
            + "  { expect { folio { pfn = \"X\" } } }"));
  }

  @Test
  @DisplayName("a syscall made by a named thread, which then runs one thing at a time")
  void syscallByThread() {
    Scenario s = parse("  { P1 { munmap = \"buf+1\", thread = T2 } }");
    Scenario.SyscallOp op = assertInstanceOf(Scenario.SyscallOp.class, s.steps().get(0).action());
    assertEquals(2, op.thread());
    assertEquals("P1 (T2) munmap buf+1", op.describe());
    assertEquals(0, assertInstanceOf(Scenario.SyscallOp.class, parse("  { P1 { munmap = \"buf+1\" } }")
        .steps().get(0).action()).thread());
    assertEquals("t.conf:6: thread: expected a user thread T<n> (T1, T2, ...), got 'D0'",
        error("  { P1 { munmap = \"buf+1\", thread = D0 } }"));
    assertEquals("t.conf:7: T2 is still running step 'a' (async, line 6); await it first",
        error("  { id = a, T2 { read = \"buf+0\" }, async = true }\n  { P1 { mprotect = buf, prot = r, thread = T2 } }"));
    assertEquals("t.conf:7: T2 is still running step 'm' (async, line 6); await it first",
        error("  { id = m, P1 { munmap = \"buf+3\", thread = T2 }, async = true }\n  { T2 { read = \"buf+0\" } }"));
  }

  @Test
  @DisplayName("within: a bound on a device access's model time, on the step or its await")
  void within() {
    Scenario s = parse("  { G { atomic = \"buf+0:word0\" }, within = 5ms }\n"
        + "  { id = g, G { read = \"buf+1:word0\" }, async = true }\n"
        + "  { await = g, within = 2s }");
    Expectation.Within w = assertInstanceOf(Expectation.Within.class, expect(s, 0).get(0));
    assertEquals(5000, w.micros());
    assertEquals(2_000_000, assertInstanceOf(Expectation.Within.class, expect(s, 2).get(0)).micros());
    assertEquals(7000, assertInstanceOf(Expectation.Within.class,
        expect(parse("  { D0 { read = buf }, within = 7ms }"), 0).get(0)).micros());
    // CPU thread steps and syscalls report model time too (CpuAccessDone / SyscallDone latencyMicros)
    assertEquals(5000, assertInstanceOf(Expectation.Within.class,
        expect(parse("  { P1 { munmap = buf }, within = 5ms }"), 0).get(0)).micros());
    Scenario cpu = parse("  { T1 { read = \"buf+0\" }, within = 6ms, at-least = 1ms }\n"
        + "  { id = t, T2 { read = \"buf+1\" }, async = true }\n"
        + "  { await = t, at-least = 3ms }");
    List<Expectation> e = expect(cpu, 0);
    assertEquals(6000, assertInstanceOf(Expectation.Within.class, e.stream().filter(x -> x instanceof Expectation.Within)
        .findFirst().orElseThrow()).micros());
    assertEquals(1000, assertInstanceOf(Expectation.AtLeast.class, e.stream().filter(x -> x instanceof Expectation.AtLeast)
        .findFirst().orElseThrow()).micros());
    assertEquals(3000, assertInstanceOf(Expectation.AtLeast.class, expect(cpu, 2).get(0)).micros());
    assertEquals("t.conf:6: within: model time is reported for CPU thread steps, syscalls, device accesses and dmirror"
        + " ioctls only (their replies' latencyMicros); 'D0 bind mm 1' has none",
        error("  { D0 { bind = P1 }, within = 5ms }"));
    assertEquals("t.conf:6: at-least: model time is reported for CPU thread steps, syscalls, device accesses and"
        + " dmirror ioctls only (their replies' latencyMicros); 'kthread kthread lock-folio buf+0 for 5000 model µs'"
        + " has none",
        error("  { kthread { lock-folio = \"buf+0\", for = 5ms }, at-least = 5ms }"));
    assertEquals("t.conf:6: at-least: an async step's model time is known once it is awaited; put at-least on the"
        + " await step", error("  { id = t, T1 { read = \"buf+1\" }, async = true, at-least = 5ms }"));
    assertEquals("t.conf:6: within: an async step's model time is known once it is awaited; put within on the await step",
        error("  { id = g, G { read = \"buf+1:word0\" }, async = true, within = 5ms }"));
    assertEquals("t.conf:6: within: must be > 0, got 0",
        error("  { G { read = \"buf+1:word0\" }, within = 0 }"));
  }

  @Test
  @DisplayName("kthread: a kernel thread holds a page's folio lock for model time")
  void kthread() {
    Scenario s = parse("  { id = k, kthread { lock-folio = \"buf+2\", for = 5ms, name = kcompactd0 }, async = true }\n"
        + "  { kthread { lock-folio = \"0x7f0000001000\", for = 1s, mm = P1 } }\n"
        + "  { await = k, expect { result = 0 } }");
    Scenario.KthreadOp k = assertInstanceOf(Scenario.KthreadOp.class, s.steps().get(0).action());
    assertEquals("kcompactd0", k.kthread());
    assertEquals(2, k.at().firstPage());
    assertEquals(5000, k.forMicros());
    assertEquals(1, k.mm());
    Scenario.KthreadOp d = assertInstanceOf(Scenario.KthreadOp.class, s.steps().get(1).action());
    assertEquals("kthread", d.kthread());
    assertEquals(1_000_000, d.forMicros());
    assertEquals(1, d.at().firstPage());
    assertEquals("t.conf:6: kthread lock-folio: needs for = <model time> (how long the thread holds the lock)",
        error("  { kthread { lock-folio = \"buf+0\" } }"));
    assertEquals("t.conf:6: kthread lock-folio: names one page (the folio mapped there), got 'buf+0..1'",
        error("  { kthread { lock-folio = \"buf+0..1\", for = 5ms } }"));
    assertEquals("t.conf:6: kthread lock-folio: names one page (the folio mapped there), got 'buf+0:word1'",
        error("  { kthread { lock-folio = \"buf+0:word1\", for = 5ms } }"));
    assertEquals("t.conf:6: unknown key 'hold' for kthread (operations: lock-folio; modifiers: for, mm, name)",
        error("  { kthread { lock-folio = \"buf+0\", hold = 5ms } }"));
    assertEquals("t.conf:7: kthread kswapd0 is still running step 'a' (async, line 6); await it first",
        error("  { id = a, kthread { lock-folio = \"buf+0\", for = 5ms, name = kswapd0 }, async = true }\n"
            + "  { kthread { lock-folio = \"buf+1\", for = 5ms, name = kswapd0 } }"));
  }
}
