package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.trace.Stamped;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark stream is correct: judged without actors it yields no violation (not a timed test). */
class SyntheticTraceTest {
  @Test
  void theSyntheticStreamHasNoViolation() {
    List<Stamped> events = new ArrayList<>();
    SyntheticTrace t = new SyntheticTrace(64).prefill(events::add);
    t.cycles(300, events::add);
    InvariantChecker c = InvariantChecker.judge(KernelProfile.V6_15, events);
    assertEquals(List.of(), c.violations());
    assertEquals(events.size(), c.delivered());
    assertTrue(c.caughtUp(t.perNodeCounts()));
  }
}
