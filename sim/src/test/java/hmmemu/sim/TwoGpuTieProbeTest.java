package hmmemu.sim;

import hmmemu.node.cost.HostCost;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A diagnostic, not a check (off unless -Dhmm.ff2Probe=true): the two-GPU workload of FastForwardProbeTest, fast-forward
 * watching but never looking, prints what ties in its deadline spins. Per failed round of the first spinning device
 * (past 128 in a row): the round's model time, events and draws of the run's PRNG (histograms), and per kind of tied
 * pair (the two events due at the same instant) how often each was taken first. -Dprobe.from/-Dprobe.to dump those
 * rounds event by event. Emulator-only.
 */
@EnabledIfSystemProperty(named = "hmm.ff2Probe", matches = "true")
class TwoGpuTieProbeTest {
  private static String describe(EventQueue.Event e) {
    return e.isLink() ? String.valueOf(e.link()) : e.getClass().getSimpleName();
  }

  @Test
  void probe() {
    long seed = Long.getLong("probe.seed", 42);
    SimConfig c = new SimConfig(seed, 2, 1, ModelSwitches.kernel().withDriverDeadlineMicros(Long.getLong("probe.deadline", 20_000)),
        hmmemu.cpu.core.CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS, SimLongHopArmsTest.hop(1.0), 1.0, true, HostCost.DEFAULTS);
    int from = Integer.getInteger("probe.from", 0), to = Integer.getInteger("probe.to", -1);
    Map<Integer, Integer> streak = new TreeMap<>();
    int[] watched = {-1};
    Sim[] sim = new Sim[1];
    long[] last = new long[3]; // now, fired, draws at the watched device's last failed round
    List<String> round = new ArrayList<>();
    Map<String, Integer> periods = new TreeMap<>();
    Map<String, int[]> ties = new TreeMap<>();
    SimExperiment.run("kernel", c, new SimExperiment.Workload(2, 2, 4, 2, 100, 4, 2, seed, false),
        3_600_000_000L, Long.MAX_VALUE, st -> {
          Trace.Event e = st.event();
          Sim s = sim[0];
          if (e instanceof Trace.ReadRetryChecked r && r.retry()) {
            int d = r.deviceId();
            int k = streak.merge(d, 1, Integer::sum);
            if (watched[0] < 0) watched[0] = d;
            if (d == watched[0]) {
              if (k > 128) {
                periods.merge((s.nowNanos() - last[0]) + " ns, " + (s.fired() - last[1]) + " events, "
                    + (s.random().draws() - last[2]) + " draws", 1, Integer::sum);
              }
              if (k >= from && k <= to) {
                System.out.println("round " + k + " of device " + d + " at " + s.nowNanos() + " (+" + (s.nowNanos() - last[0]) + " ns)");
                round.forEach(System.out::println);
              }
              round.clear();
              last[0] = s.nowNanos();
              last[1] = s.fired();
              last[2] = s.random().draws();
            }
          } else if (e instanceof Trace.DriverFaultHandled h) {
            Integer k = streak.remove(h.deviceId());
            if (k != null && k > 128) System.out.println("device " + h.deviceId() + ": a loop of " + k + " failed rounds ended, " + h.errno());
          }
          if (s != null && watched[0] >= 0 && streak.getOrDefault(watched[0], 0) >= from && streak.getOrDefault(watched[0], 0) <= to) {
            round.add("  " + s.nowNanos() + " node " + st.node() + " " + e);
          }
        }, null, s -> {
          sim[0] = s;
          FastForward ff = s.fastForward().minStreak(Integer.MAX_VALUE);
          ff.onTie = (a, b) -> {
            if (watched[0] < 0 || streak.getOrDefault(watched[0], 0) <= 128) return;
            String x = describe(a), y = describe(b);
            boolean ordered = x.compareTo(y) <= 0;
            ties.computeIfAbsent(ordered ? x + " | " + y : y + " | " + x, q -> new int[2])[ordered ? 0 : 1]++;
            if (streak.get(watched[0]) >= from && streak.get(watched[0]) <= to) round.add("  TIE " + s.nowNanos() + " first " + x + ", then " + y);
          };
        });
    System.out.println("per failed round of device " + watched[0] + " past 128 in a row (model time, events, draws): " + periods);
    ties.forEach((k, v) -> System.out.println("tie " + k + ": left first " + v[0] + "x, right first " + v[1] + "x"));
  }
}
