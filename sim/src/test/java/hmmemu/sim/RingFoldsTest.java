package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.node.cost.HostCost;
import hmmemu.protocol.model.ModelSwitches;
import org.junit.jupiter.api.Test;

/**
 * The fast-forward's kept ring folds ({@link RingFolds}): in a deadline spin every picture with them is the picture
 * without them, leaf for leaf (FastForwardDiagnostics#sameWithoutFolds throws otherwise), most of the ended ring's
 * entries are folded again rather than walked, and the run jumps as often and as far as with the folds off.
 */
class RingFoldsTest {
  private static FastForward spin(boolean check, boolean folds) {
    SimConfig c = new SimConfig(3, 2, 1, ModelSwitches.kernel().withDriverDeadlineMicros(20_000),
        hmmemu.cpu.core.CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS, SimLongHopArmsTest.hop(1.0), 1.0, true, HostCost.DEFAULTS);
    FastForward[] ff = new FastForward[1];
    SimExperiment.Result r = SimExperiment.run("kernel", c, new SimExperiment.Workload(2, 2, 2, 1, 20, 4, 2, 3, false),
        3_600_000_000L, Long.MAX_VALUE, null, null, s -> {
          ff[0] = s.fastForward();
          ff[0].ringFolds.check = check;
          ff[0].ringFolds.on = folds;
        });
    assertTrue(r.ok(), r.liveness() + " " + r.violations());
    return ff[0];
  }

  @Test
  void picturesWithKeptFoldsAreThePicturesWithout() {
    FastForward on = spin(true, true), off = spin(false, false);
    assertTrue(on.jumps().size() > 0, "the spin is jumped");
    RingFolds folds = on.ringFolds;
    assertTrue(folds.hits > folds.walks / 4, "ring entries folded again " + folds.hits + ", walked " + folds.walks);
    assertEquals(off.jumps(), on.jumps(), "the same jumps with the folds off");
    assertEquals(0, off.ringFolds.hits, "none folded again with the folds off");
  }
}
