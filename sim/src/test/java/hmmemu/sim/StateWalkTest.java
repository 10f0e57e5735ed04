package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.ModelSwitches;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fast-forward's picture of the simulator: deterministic per seed (no identity hashes), and it sees a difference. */
class StateWalkTest {
  private static List<Long> picture(long seed) {
    Sim[] sim = new Sim[1];
    SimExperiment.Result r = SimExperiment.run("kernel", Sim.Config.of(seed, 1, ModelSwitches.kernel().withDriverDeadlineMicros(2_000)),
        new SimExperiment.Workload(1, 2, 3, 1, 5, 2, 1, seed, false), 3_600_000_000L, Long.MAX_VALUE, null, null,
        s -> sim[0] = s);
    assertTrue(r.ok(), "seed " + seed + ": " + r.liveness() + " " + r.violations());
    StateWalk w = StateWalk.of(sim[0]);
    assertNull(w.opaque, "every object of the simulator can be opened");
    List<Long> out = new ArrayList<>();
    for (StateWalk.Leaf l : w.leaves) {
      out.add(l.where());
      out.add(l.value());
    }
    StateWalk named = StateWalk.of(sim[0], true);
    assertEquals(w.leaves.size(), named.leaves.size(), "a named picture has the same leaves");
    assertEquals("sim.now", named.leaves.stream().filter(l -> l.path().equals("sim.now")).findFirst().orElseThrow().path());
    return out;
  }

  @Test
  void theSameSeedGivesTheSamePictureAndAnotherSeedAnother() {
    List<Long> a = picture(7), b = picture(7), c = picture(8);
    assertTrue(a.size() > 1000, "a picture of the whole simulator: " + a.size() / 2 + " leaves");
    assertEquals(a, b, "two runs of one seed: the same picture, leaf for leaf");
    assertNotEquals(a, c, "another seed: another picture");
  }
}
