package hmmemu.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import hmmemu.node.link.FaultSchedule;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * LinkLines.renamed: a scenario's link fault lines name its GPU nodes by number; after gpu1 restarted as cluster node
 * 3, {@code ProcessCluster.runFaults} sends them with node 3 (the current incarnation), and the identity keeps them.
 */
class LinkLinesTest {
  private static final IntUnaryOperator GPU1_IS_3 = n -> n == 1 ? 3 : n;

  private static String line(String entry, IntUnaryOperator node) {
    return LinkLines.of(LinkLines.renamed(FaultSchedule.parse(entry).entries().get(0).action(), node));
  }

  @Test
  void everyNodeALinkLineNamesIsRenamed() {
    assertEquals("add 200.000us to cpu0->gpu3 for 1000000000ns", line("at 0s add 200us to cpu0->gpu1 for 1s", GPU1_IS_3));
    assertEquals("loss 0.050000 on gpu3->cpu0", line("at 0s loss 0.05 on gpu1->cpu0", GPU1_IS_3));
    assertEquals("partition gpu3 two-way", line("at 0s partition gpu1", GPU1_IS_3));
    assertEquals("heal gpu3", line("at 0s heal gpu1", GPU1_IS_3));
    assertEquals("partition gpu2 two-way", line("at 0s partition gpu2", GPU1_IS_3));
    assertEquals("add 200.000us to cpu0->gpu1 for 1000000000ns", line("at 0s add 200us to cpu0->gpu1 for 1s", n -> n));
  }
}
