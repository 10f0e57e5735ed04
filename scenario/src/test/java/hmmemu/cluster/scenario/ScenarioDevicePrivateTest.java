package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The scenario language's device-private additions (docs/SCENARIOS.md, "dmirror devices" and section 4): the
 * dmirror steps migrate-to-dev / migrate-to-sys (HMM_DMIRROR_MIGRATE_TO_DEV / _TO_SYS of lib/test_hmm.c), PTE state
 * DEVICE_PRIVATE in {@code pte} expectations, the LIVELOCK result and invariant I13.
 */
class ScenarioDevicePrivateTest {
  private static final String HEAD = String.join("\n",
      "name = \"t\"",
      "devices = [{name = D0, node = 1, driver = dmirror}]",
      "vmas = [{name = buf, mm = 1, start = \"0x7f0000000000\", pages = 4, fill = index}]",
      "steps = [");

  private static Scenario parse(String steps) { return ScenarioText.parse(HEAD, steps); }

  @Test
  @DisplayName("migrate-to-dev and migrate-to-sys are dmirror ioctls over whole pages")
  void migrateSteps() {
    Scenario s = parse(String.join("\n",
        "  { D0 { migrate-to-dev = buf }, expect { result = 0, counters { cpages = 4 }, data { pattern = index },",
        "    pte { page = buf, state = DEVICE_PRIVATE, write = true }, violations-include = [\"I13\"] } }",
        "  { D0 { migrate-to-sys = \"buf+1..2\" }, expect { counters { cpages = 2 } } }",
        "  { T1 { read = \"buf+0:word0\" }, expect { result = LIVELOCK } }"));
    Scenario.DmirrorOp to = (Scenario.DmirrorOp) s.steps().get(0).action();
    assertEquals(HmmProtocol.DmirrorOp.MIGRATE_TO_DEV, to.op());
    assertEquals(4, to.at().pages());
    assertEquals("D0 migrate-to-dev buf", to.describe());
    Scenario.DmirrorOp back = (Scenario.DmirrorOp) s.steps().get(1).action();
    assertEquals(HmmProtocol.DmirrorOp.MIGRATE_TO_SYS, back.op());
    assertEquals(2, back.at().pages());
    Expectation.Pte pte = (Expectation.Pte) s.steps().get(0).expect().stream()
        .filter(e -> e instanceof Expectation.Pte).findFirst().orElseThrow();
    assertEquals(PteState.DEVICE_PRIVATE, pte.state());
    Expectation.Result livelock = (Expectation.Result) s.steps().get(2).expect().stream()
        .filter(e -> e instanceof Expectation.Result).findFirst().orElseThrow();
    assertEquals(Errno.LIVELOCK, livelock.expected());
  }

  @Test
  @DisplayName("a migrate step takes whole pages, like every dmirror ioctl")
  void migrateTakesPages() {
    assertEquals("t.conf:5: dmirror migrate-to-dev works on whole pages; drop the word part of 'buf+0:word1'",
        assertThrows(ScenarioException.class, () -> parse("  { D0 { migrate-to-dev = \"buf+0:word1\" } }"))
            .getMessage());
  }
}
