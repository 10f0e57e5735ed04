package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.ModelSwitches;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link DelayBound} (issue 13, {@code hmm-emu explore --max-delay}): under a scheduler that always postpones the
 * earliest event as far as it is offered, no event fires more than the bound after its due instant, while the same
 * scheduler unbounded postpones events by far more; the CLI's duration text.
 */
class DelayBoundTest {
  /** The latest lateness (fire instant minus due instant, ns) of 400 timer chains under an always-latest scheduler. */
  private static long worstLateness(Scheduler s) {
    Sim sim = new Sim(SimConfig.of(9, 1, ModelSwitches.kernel()));
    sim.scheduler(s);
    SplittableRandom r = new SplittableRandom(5);
    long[] worst = {0};
    List<Runnable> chains = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      chains.add(new Runnable() {
        int left = 50;

        @Override
        public void run() {
          if (left-- == 0) return;
          long due = sim.nowNanos() + r.nextLong(1_000, 2_000_000); // a timer 1 µs - 2 ms ahead
          sim.at(due, () -> {
            worst[0] = Math.max(worst[0], sim.nowNanos() - due);
            run();
          });
        }
      });
    }
    for (Runnable c : chains) c.run();
    sim.runToQuiescence(Long.MAX_VALUE, Long.MAX_VALUE);
    return worst[0];
  }

  /** Always the last enabled event: the most postponing choice there is. */
  private static final Scheduler LATEST = (sim, e) -> e.size() - 1;

  @Test
  void noEventFiresLaterThanTheBoundPastItsDueInstant() {
    for (long d : new long[] {0, 10_000, 100_000}) {
      long worst = worstLateness(DelayBound.bounded(LATEST, d));
      assertTrue(worst <= d, "bound " + d + " ns: an event fired " + worst + " ns late");
    }
    // unbounded, the same scheduler postpones events by far more (the chains' timers run ms ahead of each other)
    assertTrue(worstLateness(LATEST) > 1_000_000, "unbounded: the scheduler did not postpone anything");
  }

  @Test
  void theAllowedEventsAreThoseDueByTheEarliestPlusTheBound() {
    Scheduler.Enabled e = new Scheduler.Enabled() {
      final long[] at = {100, 100, 150, 151, 400};

      @Override public int size() { return at.length; }
      @Override public long source(int i) { return -i - 1; }
      @Override public long atNanos(int i) { return at[i]; }
      @Override public Scheduler.LinkEvent link(int i) { return null; }
    };
    assertEquals(2, DelayBound.allowed(e, 0));   // simultaneous events may still be reordered
    assertEquals(3, DelayBound.allowed(e, 50));
    assertEquals(4, DelayBound.allowed(e, 51));
    assertEquals(5, DelayBound.allowed(e, DelayBound.UNBOUNDED));
    assertEquals(5, DelayBound.allowed(e, Long.MAX_VALUE)); // no overflow
  }

  @Test
  void durationsAsTheCliTakesThem() {
    assertEquals(50_000, DelayBound.parseNanos("50us"));
    assertEquals(50_000, DelayBound.parseNanos("50µs"));
    assertEquals(1_000_000, DelayBound.parseNanos("1ms"));
    assertEquals(2_000_000_000L, DelayBound.parseNanos("2s"));
    assertEquals(0, DelayBound.parseNanos("0"));
    assertEquals(DelayBound.UNBOUNDED, DelayBound.parseNanos("unbounded"));
    for (String bad : new String[] {"50", "-5us", "1.5ms", "abc", "", "99999999999999999s"}) {
      assertThrows(IllegalArgumentException.class, () -> DelayBound.parseNanos(bad), bad);
    }
    assertEquals("50us", DelayBound.text(50_000));
    assertEquals("40ms", DelayBound.text(40_000_000));
    assertEquals("1500ns", DelayBound.text(1_500));
    assertEquals("unbounded", DelayBound.text(DelayBound.UNBOUNDED));
  }
}
