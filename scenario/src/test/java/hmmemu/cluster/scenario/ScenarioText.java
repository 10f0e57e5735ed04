package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Scenario files as text for the parser tests: a head (name, devices, vmas, up to {@code steps = [}) followed by the
 * steps under test, so that an error's FILE:LINE is known from the head's line count.
 */
final class ScenarioText {
  private ScenarioText() {}

  /** Lines 1-6: a dmirror D0 on node 1 and a 4-page buffer; steps start at line 7. */
  static final String DMIRROR_HEAD = String.join("\n",
      "name = \"t\"",
      "case = C01",
      "devices = [{name = D0, node = 1, driver = dmirror}]",
      "vmas = [{name = buf, mm = 1, start = \"0x7f0000000000\", pages = 4, fill = index}]",
      "# steps follow",
      "steps = [");

  /** The file {@code head}, {@code steps}, {@code ]}, parsed as {@code t.conf}. */
  static Scenario parse(String head, String steps) {
    return ScenarioParser.parse("t.conf", head + "\n" + steps + "\n]\n");
  }

  /** The one-line error the parser gives for that file (it must refuse it). */
  static String error(String head, String steps) {
    return assertThrows(ScenarioException.class, () -> parse(head, steps)).getMessage();
  }
}
