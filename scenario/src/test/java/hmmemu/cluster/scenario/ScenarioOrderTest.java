package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A file's {@code order} (docs/SCENARIOS.md "Pinning every order"): how it is read, what it refuses, and that it is
 * what makes b's found file fail: without its order the same file holds in the simulator.
 */
class ScenarioOrderTest {
  private static final String HEAD = String.join("\n",
      "name = \"t\"",
      "devices = [{name = G, node = 1, driver = nouveau}]",
      "vmas = [{name = x, start = \"0x7f0000000000\", pages = 1}]",
      "steps = [ { T1 { write = \"x+0:word0\", value = 0 } } ]");

  private static Scenario parse(String order) { return ScenarioParser.parse("t.conf", HEAD + "\norder = " + order + "\n"); }

  private static String error(String order) {
    return assertThrows(ScenarioException.class, () -> parse(order)).getMessage();
  }

  @Test
  void entriesNameLinkMessagesAndRequests() {
    Scenario s = parse("[\"controller>cpu CpuAccess 0\", \"G>cpu MakeDeviceExclusive 2/3\", \"cpu>G InvalidateStart 1\"]");
    List<Scenario.OrderEntry> o = s.order();
    assertEquals(3, o.size());
    assertEquals(new Scenario.OrderEntry(-1, 0, "controller", "cpu", "CpuAccess", -1, 0, 0, 5), o.get(0));
    assertEquals(new Scenario.OrderEntry(1, 0, "G", "cpu", "MakeDeviceExclusive", 16, 2, 3, 5), o.get(1));
    assertEquals(new Scenario.OrderEntry(0, 1, "cpu", "G", "InvalidateStart", 16, 1, 1, 5), o.get(2));
    assertEquals("G>cpu MakeDeviceExclusive 2/3", o.get(1).text());
    assertEquals("cpu>G InvalidateStart 1", o.get(2).text());
  }

  @Test
  void badEntriesAreRefusedWithTheirLine() {
    assertTrue(error("[\"G cpu FolioUnlockPut 0\"]").startsWith("t.conf:5: order: \"G cpu FolioUnlockPut 0\" is not"));
    assertTrue(error("[\"G>cpu Unlock 0\"]").contains("Unlock is not a protocol message type"));
    assertTrue(error("[\"H>cpu FolioUnlockPut 0\"]").contains("H is no declared device"));
    assertTrue(error("[\"G>cpu FolioUnlockPut -1\"]").contains("counts from 0"));
    assertTrue(error("[\"cpu>cpu FolioUnlockPut 0\"]").contains("a link message goes between cpu and a device"));
    assertTrue(error("[\"G>controller FolioUnlockPut 0\"]").contains("a link message goes between cpu and a device"));
    assertTrue(error("[]").contains("order: name at least one message"));
  }

  /** A file with {@code pause} as its first step and {@code order} as its order. */
  private static String withPause(String pause, String order) {
    return String.join("\n",
        "name = \"t\"",
        "devices = [{name = G, node = 1, driver = nouveau}]",
        "vmas = [{name = x, start = \"0x7f0000000000\", pages = 1}]",
        "steps = [",
        "  " + pause,
        "  { G { atomic = \"x+0:word0\" } }",
        "]",
        "order = " + order, "");
  }

  @Test
  void aPausePointOnAnOrderedDirectionIsRefused() {
    String order = "[\"controller>G DeviceAccess 0\", \"G>cpu NotifierInsert 0\"]";
    ScenarioException e = assertThrows(ScenarioException.class, () -> ScenarioParser.parse("t.conf",
        withPause("{ pause { id = p, from = G, to = cpu, at = MakeDeviceExclusive } }", order)));
    assertEquals("t.conf:5: pause p (G -> cpu): the order pins that direction (\"G>cpu NotifierInsert 0\", line 8);"
        + " a pause point and an order do not combine on one direction", e.getMessage());
    // the other direction, and a controller hold (the controller's own gates, ControllerHolds), still combine
    assertEquals(2, ScenarioParser.parse("t.conf",
        withPause("{ pause { id = p, from = cpu, to = G, at = InvalidateStart } }", order)).order().size());
    assertEquals(2, ScenarioParser.parse("t.conf", withPause("{ pause { id = p, from = controller, to = G, at = "
        + "DeviceAccess, until { from = G, to = cpu, at = NotifierInsert } } }", order)).order().size());
  }

  @Test
  void bsFoundFileFailsOnlyWithItsOrder() throws Exception {
    Path f = Path.of("..", "scenarios", "found", "b-no-folio-lock-progress-livelock-found.conf");
    String text = Files.readString(f);
    Scenario pinned = ScenarioParser.parse(f.toString(), text);
    assertFalse(pinned.order().isEmpty());
    SimScenarioRunner.Result r = SimScenarioRunner.run(pinned, 2, ExplorerTest.BASE);
    assertFalse(r.ok(), "the pinned file held");
    assertEquals("livelock", SimScenarioRunner.failureKind(r.failures().get(0)), r.failures().toString());
    // the same file without its order: the seeded order holds (the livelock is the order's, not the seed's)
    String unpinned = text.substring(0, text.indexOf("\norder = [")) + "\n";
    SimScenarioRunner.Result u = SimScenarioRunner.run(ScenarioParser.parse(f.toString(), unpinned), 2, ExplorerTest.BASE);
    assertTrue(u.ok(), "without its order: " + u.failures());
  }
}
