package hmmemu.sim;

import hmmemu.node.cost.HostCost;
import hmmemu.protocol.model.ModelSwitches;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A diagnostic, not a check (off unless -Dhmm.ffProbe=true): runs the sweep's workload (-Dprobe.gpus, default 2)
 * with a short driver deadline and the fast-forward on (-Dprobe.jump=false: detect only), and prints its jumps,
 * cycles and refusals.
 */
@EnabledIfSystemProperty(named = "hmm.ffProbe", matches = "true")
class FastForwardProbeTest {
  @Test
  void probe() {
    long seed = Long.getLong("probe.seed", 42);
    int gpus = Integer.getInteger("probe.gpus", 2);
    SimConfig c = new SimConfig(seed, gpus, 1, ModelSwitches.kernel().withDriverDeadlineMicros(Long.getLong("probe.deadline", 20_000)),
        hmmemu.cpu.core.CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS, SimLongHopArmsTest.hop(1.0), 1.0, true, Boolean.getBoolean("probe.noHostCost") ? HostCost.OFF : HostCost.DEFAULTS);
    FastForward[] ff = new FastForward[1];
    String out = System.getProperty("probe.leaveOut", "");
    if (!out.isEmpty()) StateWalk.leftOut = java.util.Set.of(out.split(","));
    boolean on = !Boolean.getBoolean("probe.off");
    long t0 = System.nanoTime();
    SimExperiment.Result r = SimExperiment.run("kernel", c, new SimExperiment.Workload(gpus, 2, 4, 2, 100, 4, 2, seed, false),
        3_600_000_000L, Long.MAX_VALUE, null, null, s -> {
          if (on) ff[0] = s.fastForward().minStreak(Integer.getInteger("probe.minStreak", 64))
              .jump(!"false".equals(System.getProperty("probe.jump")));
          else s.noFastForward();
        });
    System.out.println("ok=" + r.ok() + " events=" + r.traceEvents() + " iters=" + r.driverIterations() + " timeouts="
        + r.driverTimeouts() + " model us=" + r.modelMicros() + " checked=" + r.eventsChecked() + " hash="
        + TraceHash.hex(r.traceHash()) + " wall ms=" + (System.nanoTime() - t0) / 1_000_000);
    if (!on) return;
    System.out.println("jumps: " + ff[0].jumps());
    System.out.println("spins " + ff[0].spins() + " jumped " + ff[0].spinsJumped() + " attempts " + ff[0].attempts()
        + " pictures " + ff[0].pictures + " in " + ff[0].pictureNanos / 1_000_000 + " ms; bounded by " + ff[0].boundedBy);
    ff[0].refusals().forEach((k, v) -> System.out.println("refused x" + v + ": " + k));
    ff[0].moving.forEach((k, v) -> System.out.println("moving " + k + " " + v));
  }
}
