package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import hmmemu.protocol.msg.HmmProtocol.SyscallKind;
import org.junit.jupiter.api.Test;

/**
 * docs/SCENARIOS.md "vmas" {@code thp} and the §3.8 steps (madvise-hugepage, madvise-pageout, migrate, offline,
 * ksm-scan, khugepaged-scan): what they parse into, and each malformed use as one FILE:LINE line.
 */
class ScenarioThpTest {
  private static String head(String vma) {
    return String.join("\n", "name = \"t\"", "devices = [{name = D0, node = 1, driver = dmirror}]",
        "vmas = [" + vma + "]", "steps = [");
  }

  private static Scenario parse(String vma, String steps) {
    return ScenarioParser.parse("t.conf", head(vma) + "\n" + steps + "\n]\n");
  }

  private static String error(String vma, String steps) {
    return assertThrows(ScenarioException.class, () -> parse(vma, steps)).getMessage().replace("\n", "");
  }

  private static final String BUF = "{name = buf, start = \"0x7f0000000000\", pages = 512, fill = index}";

  @Test
  void thpKeyGivesTheFolioOrder() {
    assertEquals(9, parse("{name = b, start = \"0x7f0000000000\", pages = 512, thp = true}", "").vmas().get(0).thpOrder());
    assertEquals(4, parse("{name = b, start = \"0x7f0000000000\", pages = 512, thp = 4}", "").vmas().get(0).thpOrder());
    assertEquals(0, parse("{name = b, start = \"0x7f0000000000\", pages = 512, thp = false}", "").vmas().get(0).thpOrder());
    assertEquals(0, parse(BUF, "").vmas().get(0).thpOrder());
  }

  @Test
  void thpKeyErrors() {
    assertEquals("t.conf:3: thp: true (PMD THP) or a folio order 2..9 (mTHP), got 1",
        error("{name = b, start = \"0x7f0000000000\", pages = 512, thp = 1}", ""));
    assertEquals("t.conf:3: thp: only an anon-private VMA can be THP-backed",
        error("{name = b, start = \"0x7f0000000000\", pages = 512, kind = anon-shared, thp = true}", ""));
    assertEquals("t.conf:3: thp: VMA b is not mapped at the start; use a madvise-hugepage step after its mmap",
        error("{name = b, start = \"0x7f0000000000\", pages = 512, mapped = false, thp = true}", ""));
  }

  @Test
  void steps() {
    Scenario s = parse(BUF, String.join("\n",
        "  { P1 { madvise-hugepage = buf } }",
        "  { P1 { madvise-hugepage = buf, order = 4 } }",
        "  { P1 { madvise-pageout = \"buf+1\" }, expect { result = 0, value = 1 } }",
        "  { P1 { migrate = \"buf+1\" }, expect { result = EBUSY } }",
        "  { P1 { offline = \"buf+1..2\" } }",
        "  { P1 { ksm-scan = buf } }",
        "  { P1 { khugepaged-scan = buf } }"));
    SyscallKind[] kinds = {SyscallKind.MADV_HUGEPAGE, SyscallKind.MADV_HUGEPAGE, SyscallKind.MADV_PAGEOUT,
        SyscallKind.MIGRATE_PAGES, SyscallKind.OFFLINE_PAGES, SyscallKind.KSM_SCAN, SyscallKind.KHUGEPAGED_SCAN};
    for (int i = 0; i < kinds.length; i++) {
      Scenario.SyscallOp op = (Scenario.SyscallOp) s.steps().get(i).action();
      assertEquals(kinds[i], op.kind(), "step " + i);
    }
    assertEquals(9, ((Scenario.SyscallOp) s.steps().get(0).action()).prot(), "PMD order by default");
    assertEquals(4, ((Scenario.SyscallOp) s.steps().get(1).action()).prot());
    Scenario.SyscallOp off = (Scenario.SyscallOp) s.steps().get(4).action();
    assertEquals(2 * 4096, off.at().length());
  }

  @Test
  void stepErrors() {
    assertEquals("t.conf:5: order: the largest folio order, 2..9 (9 = PMD THP), got 10",
        error(BUF, "  { P1 { madvise-hugepage = buf, order = 10 } }"));
    assertEquals("t.conf:5: madv_pageout works on whole pages; drop the word part of 'buf+1:word0'",
        error(BUF, "  { P1 { madvise-pageout = \"buf+1:word0\" } }"));
  }
}
