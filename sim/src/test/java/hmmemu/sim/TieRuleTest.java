package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.node.link.Lanes;
import hmmemu.protocol.model.ModelSwitches;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The order of events due at the same instant ({@link TieRule}, docs/ARCHITECTURE.md "Ties"): it draws nothing from
 * the run's PRNG, events of one identity fire first scheduled first, and the priority of two identities goes either
 * way for about half the seeds.
 */
class TieRuleTest {
  @Test
  void simultaneousEventsDrawNothingAndFireFirstScheduledFirst() {
    Sim sim = new Sim(SimConfig.of(7, 1, ModelSwitches.kernel()));
    long draws = sim.random().draws();
    List<Integer> fired = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      int k = i;
      sim.at(1_000, () -> fired.add(k));
    }
    sim.runToQuiescence(Long.MAX_VALUE, Long.MAX_VALUE);
    assertEquals(draws, sim.random().draws(), "scheduling drew from the run's PRNG");
    List<Integer> inOrder = new ArrayList<>();
    for (int i = 0; i < 50; i++) inOrder.add(i);
    assertEquals(inOrder, fired, "events of one identity due at the same instant fire in the order they were scheduled");
  }

  @Test
  void aPairOfIdentitiesGoesEitherWayForAboutHalfTheSeeds() {
    long a = TieRule.link(0, 1, Lanes.subscription(1)), b = TieRule.link(0, 2, Lanes.subscription(2));
    long c = TieRule.STEP_DONE, d = TieRule.link(1, 0, Lanes.callback(5, 1));
    int aFirst = 0, cFirst = 0;
    for (long seed = 1; seed <= 1000; seed++) {
      TieRule r = new TieRule(seed);
      if (r.priority(a) < r.priority(b)) aFirst++;
      if (r.priority(c) < r.priority(d)) cFirst++;
    }
    assertTrue(aFirst > 430 && aFirst < 570, "cpu0->gpu1 before cpu0->gpu2 at " + aFirst + " of 1000 seeds");
    assertTrue(cFirst > 430 && cFirst < 570, "the CPU node's StepDone before gpu1's ack at " + cFirst + " of 1000 seeds");
    // a callback invocation's lane counts by its kind only: the next invocation ties the same way
    assertEquals(TieRule.link(1, 0, Lanes.callback(5, 1)), TieRule.link(1, 0, Lanes.callback(6, 1)));
  }
}
