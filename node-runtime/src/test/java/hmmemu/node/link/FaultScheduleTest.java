package hmmemu.node.link;

import static hmmemu.node.link.Msgs.WAIT;
import static hmmemu.node.link.Msgs.env;
import static hmmemu.node.link.Msgs.id;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.node.link.FaultSchedule.AddDelay;
import hmmemu.node.link.FaultSchedule.Clear;
import hmmemu.node.link.FaultSchedule.Crash;
import hmmemu.node.link.FaultSchedule.Heal;
import hmmemu.node.link.FaultSchedule.Partition;
import hmmemu.node.link.FaultSchedule.Pause;
import hmmemu.node.link.FaultSchedule.Restart;
import hmmemu.node.link.FaultSchedule.Resume;
import hmmemu.node.link.FaultSchedule.SetProbability;
import hmmemu.node.link.ModeledLink.Fault;
import hmmemu.node.link.ModeledLink.PartitionMode;
import hmmemu.protocol.wire.pb.Envelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class FaultScheduleTest {
  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void shutdown() { kit.shutdownTestKit(); }

  private static final Direction C0G1 = Direction.of(0, 1);
  private static final Direction G1C0 = Direction.of(1, 0);

  @Test
  void parsesTheDocumentedLines() {
    FaultSchedule s = FaultSchedule.parse(String.join("\n",
        "# a comment line",
        "at 2s add 5ms to cpu0->gpu1 for 3s",
        "at 6s partition gpu1 for 2s",
        "at 1s loss 0.05 on gpu1->cpu0",
        "at 3s pause gpu2 for 500ms   # trailing comment",
        "",
        "at 6s crash gpu1",
        "at 8s restart gpu1"));
    List<FaultSchedule.Entry> e = s.entries();
    assertEquals(6, e.size());
    // sorted by instant, line order kept at equal instants
    assertEquals(new SetProbability(Fault.LOSS, List.of(G1C0), 0.05, null), e.get(0).action());
    assertEquals(Duration.ofSeconds(1), e.get(0).at());
    assertEquals(4, e.get(0).line());
    assertEquals(new AddDelay(List.of(C0G1), 5000, 0, Duration.ofSeconds(3)), e.get(1).action());
    assertEquals(Duration.ofSeconds(2), e.get(1).at());
    assertEquals(new Pause(2, Duration.ofMillis(500)), e.get(2).action());
    assertEquals(new Partition(1, PartitionMode.BOTH, Duration.ofSeconds(2)), e.get(3).action());
    assertEquals(new Crash(1), e.get(4).action());
    assertEquals(new Restart(1), e.get(5).action());
    assertEquals(Duration.ofSeconds(8), e.get(5).at());
  }

  @Test
  void parsesVariants() {
    FaultSchedule s = FaultSchedule.parse("at 2s add 5ms jitter 1ms to cpu0\u2192gpu1 for 3s; at 6s crash gpu1; "
        + "at 8s restart it\nat 1.5s duplication 10% on cpu0 <-> gpu2\nat 100ms reorder 0.2 on gpu2->cpu0 for 1s\n"
        + "at 0s partition gpu3 one-way\nat 0s partition gpu3 in for 10us\nat 9s heal gpu3\nat 9s resume gpu2\n"
        + "at 10s clear\nat 2min pause gpu1");
    List<FaultSchedule.Entry> e = s.entries();
    assertEquals(List.of(
        new Partition(3, PartitionMode.OUTGOING, null),
        new Partition(3, PartitionMode.INCOMING, Duration.ofNanos(10_000)),
        new SetProbability(Fault.REORDERING, List.of(Direction.of(2, 0)), 0.2, Duration.ofSeconds(1)),
        new SetProbability(Fault.DUPLICATION, List.of(Direction.of(0, 2), Direction.of(2, 0)), 0.1, null),
        new AddDelay(List.of(C0G1), 5000, 1000, Duration.ofSeconds(3)),
        new Crash(1),
        new Restart(1),
        new Heal(3),
        new Resume(2),
        new Clear(),
        new Pause(1, null)), e.stream().map(FaultSchedule.Entry::action).toList());
    assertEquals(Duration.ofMillis(1500), e.get(3).at());
    assertEquals(Duration.ofMinutes(2), e.get(10).at());
    assertTrue(FaultSchedule.parse("  \n# nothing\n").isEmpty());
  }

  @Test
  void malformedLinesAreRefusedWithOneLineNamingLineAndProblem() {
    String[][] bad = {
        {"at 2 add 5ms to cpu0->gpu1", "bad time '2'"},
        {"add 5ms to cpu0->gpu1", "expected 'at'"},
        {"at 2s add 5ms cpu0->gpu1", "expected 'to'"},
        {"at 2s add 5ms to cpu0-gpu1", "bad direction"},
        {"at 2s add 5ms to cpu0->cpu0", "same node"},
        {"at 2s add 5ms to cpu0->gpu0", "unknown node"},
        {"at 2s add 5ms to cpu0->gpu1 for", "missing duration"},
        {"at 2s add 5ms to cpu0->gpu1 for 0s", "> 0"},
        {"at 2s add 5ms to cpu0->gpu1 please", "unexpected 'please'"},
        {"at 1s loss 1.5 on gpu1->cpu0", "not in [0, 1]"},
        {"at 1s loss often on gpu1->cpu0", "bad probability"},
        {"at 1s loss 0.1 gpu1->cpu0", "expected 'on'"},
        {"at 6s partition gpu1 sideways", "unknown partition mode"},
        {"at 6s partition", "missing node"},
        {"at 6s explode gpu1", "unknown action 'explode'"},
        {"at 6s restart it", "'it'"},
        {"at 6s crash gpux", "unknown node"},
        {"at 3s pause gpu2 for 5 ms", "bad time '5'"},
    };
    for (String[] b : bad) {
      String text = "at 0s clear\n\n" + b[0];
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FaultSchedule.parse(text), b[0]);
      String m = e.getMessage();
      assertTrue(m.startsWith("fault schedule line 3 \"" + b[0] + "\": "), m);
      assertTrue(m.contains(b[1]), m + " should say " + b[1]);
      assertFalse(m.contains("\n"), m);
    }
  }

  @Test
  void runsStepsInOrderAndHandsCrashAndRestartToTheCaller() throws Exception {
    ScheduledExecutorService ses = Executors.newScheduledThreadPool(2);
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.ideal()), 1, 1.0, Link.DIRECT)) {
      List<String> log = Collections.synchronizedList(new ArrayList<>());
      FaultSchedule s = FaultSchedule.parse(String.join("\n",
          "at 0s partition gpu1 for 20ms",
          "at 0s crash gpu2",
          "at 10ms add 5ms to cpu0->gpu1 for 10ms",
          "at 20ms partition gpu1 one-way for 10ms",
          "at 40ms restart gpu2",
          "at 40ms loss 1 on cpu0->gpu1",
          "at 40ms pause gpu3"));
      FaultSchedule.Running run = s.start(link, ses, new FaultSchedule.Callbacks() {
        @Override public void crash(int node) { log.add("crash " + node); }

        @Override public void restart(int node) { log.add("restart " + node); }

        @Override public void applied(FaultSchedule.Entry entry, String what) {
          log.add(what + " | partitions=" + link.partitions());
        }
      });
      run.done().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertEquals(List.of(
          "start: at 0s partition gpu1 for 20ms | partitions={1=BOTH}",
          "crash 2",
          "start: at 0s crash gpu2 | partitions={1=BOTH}",
          "start: at 10ms add 5ms to cpu0->gpu1 for 10ms | partitions={1=BOTH}",
          "end: at 0s partition gpu1 for 20ms | partitions={}",
          "end: at 10ms add 5ms to cpu0->gpu1 for 10ms | partitions={}",
          "start: at 20ms partition gpu1 one-way for 10ms | partitions={1=OUTGOING}",
          "end: at 20ms partition gpu1 one-way for 10ms | partitions={}",
          "restart 2",
          "start: at 40ms restart gpu2 | partitions={}",
          "start: at 40ms loss 1 on cpu0->gpu1 | partitions={}",
          "start: at 40ms pause gpu3 | partitions={}"), log);
      TestProbe<Envelope> p = kit.createTestProbe(Envelope.class);
      link.send(0, 1, p.ref(), env(1));
      assertEquals(1, link.stats(0, 1).dropped(), "loss 1 is in force");
      assertEquals(java.util.Set.of(3), link.pausedNodes());
      link.clearFaults();
      link.send(0, 1, p.ref(), env(2));
      assertEquals(2, id(p.receiveMessage(WAIT)));
    } finally {
      ses.shutdownNow();
    }
  }

  @Test
  void cancelStopsFurtherSteps() throws Exception {
    ScheduledExecutorService ses = Executors.newSingleThreadScheduledExecutor();
    try (ModeledLink link = new ModeledLink(LinkSettings.of(LinkSpec.ideal()), 1, 1.0, Link.DIRECT)) {
      List<Integer> crashed = Collections.synchronizedList(new ArrayList<>());
      FaultSchedule.Running run = FaultSchedule.parse("at 60min crash gpu1").start(link, ses,
          new FaultSchedule.Callbacks() {
            @Override public void crash(int node) { crashed.add(node); }

            @Override public void restart(int node) {}
          });
      run.cancel();
      run.done().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertTrue(crashed.isEmpty());
    } finally {
      ses.shutdownNow();
    }
  }
}
