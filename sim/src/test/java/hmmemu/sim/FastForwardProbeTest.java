package hmmemu.sim;

import hmmemu.node.cost.HostCost;
import hmmemu.protocol.model.ModelSwitches;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A diagnostic, not a check (off unless -Dhmm.ffProbe=true): runs the sweep's 2-GPU workload with a short driver
 * deadline and the fast-forward's detector on, and prints the cycles it found (period, moving leaves) or the first
 * structural difference of the pictures that did not repeat.
 */
@EnabledIfSystemProperty(named = "hmm.ffProbe", matches = "true")
class FastForwardProbeTest {
  @Test
  void probe() {
    long seed = Long.getLong("probe.seed", 42);
    Sim.Config c = new Sim.Config(seed, 2, 1, ModelSwitches.kernel().withDriverDeadlineMicros(Long.getLong("probe.deadline", 20_000)),
        hmmemu.cpu.core.CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS, SimLongHopArmsTest.hop(1.0), 1.0, true, Boolean.getBoolean("probe.noHostCost") ? HostCost.OFF : HostCost.DEFAULTS);
    FastForward[] ff = new FastForward[1];
    String out = System.getProperty("probe.leaveOut", "");
    if (!out.isEmpty()) StateWalk.leftOut = java.util.Set.of(out.split(","));
    long t0 = System.nanoTime();
    SimExperiment.Result r = SimExperiment.run("kernel", c, new SimExperiment.Workload(2, 2, 4, 2, 100, 4, 2, seed, false),
        3_600_000_000L, Long.MAX_VALUE, null, null, s -> ff[0] = s.fastForward().minStreak(Integer.getInteger("probe.minStreak", 64)));
    System.out.println("ok=" + r.ok() + " events=" + r.traceEvents() + " iters=" + r.driverIterations() + " wall ms="
        + (System.nanoTime() - t0) / 1_000_000);
    System.out.println("refusals: " + ff[0].refusals());
    for (FastForward.Cycle cy : ff[0].cycles()) {
      System.out.println("CYCLE dev " + cy.device() + " rounds " + cy.rounds() + " P " + cy.periodNanos());
      for (String m : cy.moving()) System.out.println("   " + m);
    }
    System.out.println("cycles: " + ff[0].cycles().size());
    ff[0].structural().forEach(System.out::println);
  }
}
