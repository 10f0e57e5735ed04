package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import hmmemu.cluster.ClusterHandle;
import hmmemu.cluster.check.CheckerActor;
import hmmemu.node.link.FaultSchedule;
import hmmemu.report.RunRecorder;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hmm-emu cluster}'s fault windows (issue 15): the steps of a --fault schedule and the schedules injected
 * through the management endpoint become the record's windows, on the controller's model clock.
 */
class ClusterFaultWindowsTest {
  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void stop() { kit.shutdownTestKit(); }

  private static ClusterHandle handle(TestProbe<Object> checker) {
    return new ClusterHandle() {
      @Override public ActorSystem<?> controlSystem() { return kit.system(); }
      @Override public ActorRef<?> cpu() { return null; }
      @Override public ActorRef<?> gpu(int k) { return null; }
      @Override public int gpuCount() { return 1; }
      @Override public ActorRef<Object> checker() { return checker.ref(); }
      @Override public int processes() { return 3; }
      @Override public void close() {}
    };
  }

  private static RunRecorder.FaultWindow window(TestProbe<Object> p) {
    return p.expectMessageClass(CheckerActor.RecordFault.class).window();
  }

  @Test
  void aForPeriodIsAWindowFromItsStartToItsEndAndAOneOffIsAPoint() {
    TestProbe<Object> checker = kit.createTestProbe();
    AtomicLong now = new AtomicLong(1000);
    long nanos = 50_000_000;
    ClusterCommand.FaultWindows w = new ClusterCommand.FaultWindows(handle(checker), now::get, 2.0, () -> nanos);
    FaultSchedule s = FaultSchedule.parse("at 1s add 200us to cpu0->gpu1 for 2s\nat 2s crash gpu1\nat 3s pause gpu1 for 1s\n");
    // The step began 2 ms (real) before it was reported: 1 ms of model time at time-scale 2.
    w.step(s.entries().get(0), false, nanos - 2_000_000);
    now.set(1500);
    w.step(s.entries().get(1), false, nanos);
    assertEquals(new RunRecorder.FaultWindow("at 2s crash gpu1", 1500, 1500), window(checker), "a crash is a point");
    now.set(1_200_000);
    w.step(s.entries().get(0), true, nanos);
    // Each node ends a link fault itself, 'for' (2 s real: 1 s of model time) after the line reached it.
    assertEquals(new RunRecorder.FaultWindow("at 1s add 200us to cpu0->gpu1 for 2s", 0, 1_000_000), window(checker));
    now.set(2000);
    w.step(s.entries().get(2), false, nanos);
    now.set(2600);
    w.step(s.entries().get(2), true, nanos);
    assertEquals(new RunRecorder.FaultWindow("at 3s pause gpu1 for 1s", 2000, 2600), window(checker),
        "a pause ends when the controller sent SIGCONT");
    w.step(s.entries().get(0), false, nanos);
    w.step(s.entries().get(2), false, nanos);
    now.set(3000);
    w.close();
    // A link fault and a pause still on when the arm ends end with the record.
    assertEquals(java.util.Set.of(new RunRecorder.FaultWindow("at 1s add 200us to cpu0->gpu1 for 2s", 2600, 3000),
        new RunRecorder.FaultWindow("at 3s pause gpu1 for 1s", 2600, 3000)),
        java.util.Set.of(window(checker), window(checker)));
    checker.expectNoMessage(java.time.Duration.ofMillis(50));
  }

  @Test
  void anInjectedScheduleIsDrawnFromItsTimesInModelTime() {
    TestProbe<Object> checker = kit.createTestProbe();
    ClusterCommand.FaultWindows w = new ClusterCommand.FaultWindows(handle(checker), () -> 10_000, 2.0);
    // time-scale 2: two real microseconds per model microsecond, so 1 s real is 500 ms of model time
    w.injected(hmmemu.node.link.LinkControl.parse("partition gpu1 for 1s\nat 2s heal gpu1"));
    RunRecorder.FaultWindow a = window(checker);
    assertEquals(10_000, a.startMicros());
    assertEquals(510_000, a.endMicros());
    assertEquals(true, a.label().startsWith("injected: ") && a.label().contains("partition gpu1 for 1s"), a.label());
    RunRecorder.FaultWindow b = window(checker);
    assertEquals(1_010_000, b.startMicros());
    assertEquals(1_010_000, b.endMicros(), "a heal is a point");
  }
}
