package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * Issue 16, item 3: values that were accepted and then failed minutes later (or reported a false deadlock) are
 * refused at parse time with one FILE:LINE line.
 */
class ScenarioBoundsTest {
  private static String errorOf(String text) {
    return assertThrows(ScenarioException.class, () -> ScenarioParser.parse("t.conf", text)).getMessage();
  }

  private static final String VMA = "vmas = [{name = buf, mm = 1, start = \"0x7f0000000000\", pages = 4}]\n";

  @Test
  void stepTimeoutMustBePositive() {
    assertEquals("t.conf:2: step-timeout: must be > 0, got \"0s\"", errorOf("name = t\nstep-timeout = 0s\nvmas = []\nsteps = []\n"));
    assertEquals("t.conf:2: step-timeout: must be > 0, got \"-5s\"", errorOf("name = t\nstep-timeout = -5s\nvmas = []\nsteps = []\n"));
  }

  @Test
  void waitMustBePositive() {
    assertEquals("t.conf:4: wait: must be > 0, got \"-1s\"",
        errorOf("name = t\n" + VMA + "steps = [\n  { T1 { read = \"buf+0\" }, wait = -1s }\n]\n"));
  }

  @Test
  void aVmaEndingPastLongMaxIsBeyondTaskSize() {
    assertEquals("t.conf:2: VMA big ends beyond TASK_SIZE", errorOf(
        "name = t\nvmas = [{name = big, mm = 1, start = \"0x7ffffffffffff000\", pages = 16}]\nsteps = []\n"));
  }
}
