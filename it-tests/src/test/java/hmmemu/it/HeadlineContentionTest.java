package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.cluster.demo.Experiment;
import hmmemu.node.link.Link;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The demo's contention workload on a real 3-node cluster: exact sums and zero violations in both arms. */
class HeadlineContentionTest {

  private static HmmEmuSettings small() {
    return HmmEmuSettings.fromConfig(ConfigFactory.parseMap(Map.of(
            "hmm-emu.demo.warps-per-device", 2,
            "hmm-emu.demo.ops-per-warp", 4,
            "hmm-emu.demo.cpu-threads", 2,
            "hmm-emu.demo.ops-per-thread", 40,
            "hmm-emu.demo.counters", 2,
            "hmm-emu.demo.counter-pages", 1))
        .withFallback(ConfigFactory.load("application-test")));
  }

  /** With the kernel's folio lock no increment is lost and no invariant is violated. */
  @Test
  @DisplayName("contention with the folio lock: exact counter sums, zero violations")
  void contentionWithFolioLockKeepsEveryIncrement() {
    HmmEmuSettings s = small();
    Experiment.RunResult r = Experiment.runArm("kernel", s, s.switches, Link.DIRECT);
    assertTrue(r.violations().isEmpty(), () -> "violations: " + r.violations());
    assertTrue(r.checkerCaughtUp(), "checker caught up with every node");
    assertEquals(r.expectedValue(), r.finalValue(), "final counter sum == completed increments");
    assertEquals(2 * 40, r.cpuAtomics(), "every CPU increment completes");
    assertEquals(2 * 2 * 4, r.gpuAtomics() + r.gpuCancelled(), "every GPU increment completes or is cancelled");
    assertTrue(r.eventsChecked() > 0, "the checker saw the run");
  }

  /** With the folio released right after conversion the model still loses nothing and violates nothing. */
  @Test
  @DisplayName("contention with early unlock: exact counter sums, zero violations")
  void contentionWithEarlyUnlockKeepsEveryIncrement() {
    HmmEmuSettings s = small();
    Experiment.RunResult r = Experiment.runArm("early-unlock", s, s.switches.withFolioLockUntilMapped(false),
        Link.DIRECT);
    assertTrue(r.violations().isEmpty(), () -> "violations: " + r.violations());
    assertEquals(r.expectedValue(), r.finalValue(), "final counter sum == completed increments");
    assertEquals(2 * 40, r.cpuAtomics(), "every CPU increment completes");
  }
}
