package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Concurrent blocks (docs/SCENARIOS.md "Concurrent blocks"): {@code concurrent = [...]} parses into async steps
 * awaited later; every misuse is one exact FILE:LINE line; in the simulator the seed picks the interleaving (a seed
 * replays it, different seeds give different ones) and x08's expectations hold in all of them.
 */
class ScenarioConcurrentTest {
  private static final String HEAD = ScenarioText.DMIRROR_HEAD;

  private static Scenario parse(String steps) { return ScenarioText.parse(HEAD, steps); }

  private static String error(String steps) { return ScenarioText.error(HEAD, steps); }

  @Test
  @DisplayName("a concurrent block is one step holding async steps with ids, awaited like async steps")
  void blockParses() {
    Scenario s = parse(String.join("\n",
        "  { concurrent = [",
        "      { id = a, T1 { increment = \"buf+0:word0\" } }",
        "      { id = b, D0 { exclusive = \"buf+0\" } }",
        "      { id = c, P1 { madvise-dontneed = \"buf+1\" }, wait = 2s }",
        "    ], comment = \"any order\" }",
        "  { await = [a, b], expect { completed = [a, b] } }",
        "  { await = c, expect { result = 0 } }"));
    assertEquals(3, s.steps().size());
    Scenario.ConcurrentOp block = assertInstanceOf(Scenario.ConcurrentOp.class, s.steps().get(0).action());
    assertEquals(7, s.steps().get(0).line());
    assertEquals(List.of("a", "b", "c"), block.steps().stream().map(Scenario.Step::id).toList());
    for (Scenario.Step in : block.steps()) assertTrue(in.async(), in.label());
    assertInstanceOf(Scenario.CpuOp.class, block.steps().get(0).action());
    assertInstanceOf(Scenario.DmirrorOp.class, block.steps().get(1).action());
    assertEquals(java.time.Duration.ofSeconds(2), block.steps().get(2).waitLimit());
    assertEquals("concurrent a, b, c", block.describe());
  }

  @Test
  @DisplayName("misused blocks are one FILE:LINE line each")
  void misuse() {
    assertEquals("t.conf:7: concurrent: a block needs at least two steps, got 1",
        error("  { concurrent = [ { id = a, T1 { read = \"buf+0\" } } ] }"));
    assertEquals("t.conf:8: concurrent: every step of a block needs an id, so that an await step can name it",
        error("  { concurrent = [\n    { T1 { read = \"buf+0\" } }\n    { id = b, D0 { read = buf } } ] }"));
    assertEquals("t.conf:7: async: every step of a concurrent block is async already; drop the key",
        error("  { concurrent = [ { id = a, T1 { read = \"buf+0\" }, async = true }, { id = b, D0 { read = buf } } ] }"));
    assertEquals("t.conf:7: expect: a step of a concurrent block has its outcome once awaited; put expect on the"
        + " await step after the block",
        error("  { concurrent = [ { id = a, T1 { read = \"buf+0\" }, expect { result = 0 } }, { id = b, D0 { read = buf } } ] }"));
    assertEquals("t.conf:8: concurrent: a step of a block must run (a thread, process or device step), got"
        + " 'pause p at FolioUnlockPut from D0 to cpu'",
        error("  { concurrent = [\n    { id = a, pause { id = p, from = D0, to = cpu, at = FolioUnlockPut } }\n"
            + "    { id = b, D0 { read = buf } } ] }"));
    assertEquals("t.conf:7: concurrent: blocks do not nest",
        error("  { concurrent = [ { id = a, concurrent = [] }, { id = b, D0 { read = buf } } ] }"));
    assertEquals("t.conf:9: T1 is still running step 'a' (async, line 8); await it first",
        error("  { concurrent = [\n    { id = a, T1 { read = \"buf+0\" } }\n    { id = b, T1 { read = \"buf+1\" } } ] }"));
    assertEquals("t.conf:7: a concurrent block takes only concurrent = [...] and comment, got 'id' (put expectations"
        + " on the await steps after the block)",
        error("  { id = x, concurrent = [ { id = a, T1 { read = \"buf+0\" } }, { id = b, D0 { read = buf } } ] }"));
    assertEquals("t.conf:7: step id 'a' is used twice (first at line 7)",
        error("  { concurrent = [ { id = a, T1 { read = \"buf+0\" } }, { id = a, D0 { read = buf } } ] }"));
    assertEquals("t.conf:9: await: cannot await step 'a': it is not async, or was awaited already",
        error("  { concurrent = [ { id = a, T1 { read = \"buf+0\" } }, { id = b, D0 { read = buf } } ] }\n"
            + "  { await = a }\n  { await = a }"));
  }

  /**
   * The simulator draws the start order and the gaps from the seed: one seed gives one trace twice; over a few
   * seeds the runs differ (the interleaving is the scheduler's), and x08's expectations hold in every one.
   */
  @Test
  void theSeedPicksTheInterleaving() {
    Scenario s = ScenarioParser.parse(Path.of("..", "scenarios", "cases", "x08-concurrent-cpu-gpu-atomics.conf"));
    SimScenarioRunner.Result a = SimScenarioRunner.run(s, 11, ConfigFactory.load());
    SimScenarioRunner.Result again = SimScenarioRunner.run(s, 11, ConfigFactory.load());
    assertEquals(a.traceHashHex(), again.traceHashHex(), "seed 11 replays one interleaving");
    Set<String> hashes = new HashSet<>();
    for (long seed = 1; seed <= 8; seed++) {
      SimScenarioRunner.Result r = SimScenarioRunner.run(s, seed, ConfigFactory.load());
      assertTrue(r.ok(), () -> r.replayLine() + ": " + r.failures());
      hashes.add(r.traceHashHex());
    }
    assertTrue(hashes.size() >= 4, "8 seeds gave only " + hashes.size() + " distinct interleavings");
  }

  /** The start order itself comes from the seed: both orders of a two-step block occur over a few seeds. */
  @Test
  void theStartOrderComesFromTheSeed() {
    Scenario s = parse(String.join("\n",
        "  { concurrent = [ { id = a, T1 { write = \"buf+0:word0\", value = 1 } },"
            + " { id = b, T2 { write = \"buf+0:word0\", value = 2 } } ] }",
        "  { await = [a, b] }"));
    Set<Long> finals = new HashSet<>();
    for (long seed = 1; seed <= 16; seed++) {
      SimHost host = new SimHost(s, seed, hmmemu.node.link.LinkSettings.builtIn(), 2_000_000);
      Verdict v = new Verdict(s);
      StepExecutor ex = new StepExecutor(s, host, v);
      host.setUp(s);
      for (Scenario.Step step : s.steps()) ex.runStep(step);
      ex.finish();
      assertTrue(v.result(0).ok(), v.result(0).failures().toString());
      finals.add(host.inspectPage(1, 0x7f0000000000L).word0());
    }
    assertEquals(Set.of(1L, 2L), finals, "the last write differs between seeds");
    assertFalse(finals.isEmpty());
    assertNotEquals(1, finals.size());
  }
}
