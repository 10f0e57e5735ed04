package hmmemu.cluster;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import hmmemu.node.link.FaultSchedule;
import org.junit.jupiter.api.Test;

/** ProcessCluster.validate: a restart adds the next node index (gpuN+1), which later lines may name. */
class ProcessClusterValidateTest {
  @Test
  void aRestartAddsTheNextNodeIndex() {
    assertDoesNotThrow(() -> ProcessCluster.validate(
        FaultSchedule.parse("at 1s crash gpu1\nat 2s restart gpu1\nat 5s partition gpu3 for 1s"), 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProcessCluster.validate(
        FaultSchedule.parse("at 1s crash gpu1\nat 5s partition gpu3 for 1s"), 2));
    assertEquals("line 2 (at 5s partition gpu3 for 1s): no node gpu3 (the cluster has gpu1..gpu2 then)", e.getMessage());
    IllegalArgumentException early = assertThrows(IllegalArgumentException.class, () -> ProcessCluster.validate(
        FaultSchedule.parse("at 1s crash gpu1\nat 3s restart gpu1\nat 2s crash gpu3"), 2));
    assertEquals("line 3 (at 2s crash gpu3): no node gpu3 (the cluster has gpu1..gpu2 then)", early.getMessage());
  }
}
