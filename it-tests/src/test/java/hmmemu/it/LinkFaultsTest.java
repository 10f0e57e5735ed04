package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.node.ModelClock;
import hmmemu.cluster.demo.Experiment;
import hmmemu.node.link.Direction;
import hmmemu.node.link.FaultSchedule;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import java.time.Duration;
import hmmemu.node.link.Link;
import hmmemu.node.link.LinkReliability;
import hmmemu.protocol.wire.pb.Envelope;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The demo's contention workload (CPU threads and warps of two GPU nodes incrementing shared counters) on a real
 * 3-node cluster (3 ActorSystems, Artery) whose host-device traffic goes through a {@link ModeledLink} with link
 * faults: each run must end with zero invariant violations, counters equal to the acknowledged increments exactly,
 * and every operation answered (progress after a partition heals or a pause ends).
 *
 * <p>Four clusters: loss, duplication and reordering; the two partitions (two-way on gpu1, one-way on gpu2) in one
 * run; added delay and a pause (of another node) in one run; the data link layer off. The model's side of each
 * fault kind, with a seed that replays, is the simulator's SimFaultsTest; this test keeps what only the cluster
 * shows: the {@code ModeledLink} (wall-clock timers, the data link layer's replays over Artery) and a frozen node.
 */
class LinkFaultsTest {

  private static HmmEmuSettings settings() {
    return HmmEmuSettings.fromConfig(ConfigFactory.parseMap(Map.of(
            "hmm-emu.demo.warps-per-device", 2,
            "hmm-emu.demo.ops-per-warp", 3,
            "hmm-emu.demo.cpu-threads", 2,
            "hmm-emu.demo.ops-per-thread", 30,
            "hmm-emu.demo.counters", 2,
            "hmm-emu.demo.counter-pages", 1,
            "hmm-emu.demo.run-timeout", "20s"))
        .withFallback(ConfigFactory.load("application-test")));
  }

  private record Run(Experiment.RunResult result, Map<Direction, ModeledLink.DirectionStats> stats) {}

  /**
   * A link stage in front of the model that completes {@link #busy} when the {@code n}-th message is sent (from node
   * {@code from} only, when it is not -1), so a fault schedule starts while the workload's traffic flows (not during
   * start-up), whatever the machine's speed.
   */
  private static final class Trigger implements Link {
    final Link next;
    final long n;
    final int from;
    final ScheduledExecutorService schedule;
    final AtomicLong sent = new AtomicLong();
    final CompletableFuture<Void> busy = new CompletableFuture<>();

    Trigger(Link next, long n, int from, ScheduledExecutorService schedule) {
      this.next = next;
      this.n = n;
      this.from = from;
      this.schedule = schedule;
    }

    @Override
    public void send(int fromNode, int toNode, ActorRef<Envelope> to, Envelope envelope) {
      if ((from < 0 || fromNode == from) && sent.incrementAndGet() == n) {
        busy.complete(null); // starts the fault schedule in this thread (its stage was registered before the cluster)
        // Its "at 0ms" steps run on the schedule's one thread: wait for them, so that the n-th message itself meets
        // the faults that start at 0 ms (a wall-clock window that began later could miss a node gone quiet).
        try {
          schedule.schedule(() -> { }, 0, TimeUnit.NANOSECONDS).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
          throw new IllegalStateException("the fault schedule's 0 ms steps did not run within 10 s", e);
        }
      }
      next.send(fromNode, toNode, to, envelope);
    }

    @Override public LinkReliability reliability() { return next.reliability(); }

    @Override
    public void count(int fromNode, int toNode, LinkReliability.Event event, long k) { next.count(fromNode, toNode, event, k); }
  }

  /** Runs the workload through a ModeledLink; {@code schedule} starts once 200 messages crossed the link. */
  private static Run run(String name, LinkSettings ls, String schedule) throws Exception {
    return run(name, ls, schedule, 200, -1);
  }

  /** As {@link #run(String, LinkSettings, String)}, the schedule starting at the {@code n}-th message from {@code from}. */
  private static Run run(String name, LinkSettings ls, String schedule, long n, int from) throws Exception {
    return run(name, ls, List.of(new Start(schedule, n, from)));
  }

  /** A fault schedule that starts at the {@code n}-th message sent by node {@code from} (any node when -1). */
  private record Start(String schedule, long n, int from) {}

  /**
   * Runs the workload through a ModeledLink with fault schedules, each started by its own {@link Trigger} (the
   * triggers in a chain in front of the link, each with its own schedule thread).
   */
  private static Run run(String name, LinkSettings ls, List<Start> starts) throws Exception {
    HmmEmuSettings s = settings();
    List<ScheduledExecutorService> executors = new ArrayList<>();
    try (ModeledLink link = new ModeledLink(ls, 7, s.timeScale, Link.DIRECT)) {
      java.util.concurrent.atomic.AtomicReference<EmbeddedCluster> running = new java.util.concurrent.atomic.AtomicReference<>();
      FaultSchedule.Callbacks callbacks = new FaultSchedule.Callbacks() {
        @Override public void crash(int node) { throw new UnsupportedOperationException("crash"); }
        @Override public void restart(int node) { throw new UnsupportedOperationException("restart"); }
        @Override public void pause(int node) { running.get().pauseGpu(node); } // the node frozen, not only its link
        @Override public void resume(int node) { running.get().resumeGpu(node); }
      };
      Link front = link;
      List<CompletableFuture<FaultSchedule.Running>> started = new ArrayList<>();
      for (Start st : starts) {
        ScheduledExecutorService ex = Executors.newSingleThreadScheduledExecutor();
        executors.add(ex);
        Trigger trigger = new Trigger(front, st.n(), st.from(), ex);
        started.add(trigger.busy.thenApply(v -> FaultSchedule.parse(st.schedule()).start(link, ex, callbacks)));
        front = trigger;
      }
      try (EmbeddedCluster cluster = EmbeddedCluster.start(s.config, s.demo.gpuNodes(), s.switches,
          ModelClock.scaledWall(s.timeScale), front, Duration.ofSeconds(30))) {
        running.set(cluster);
        return runOn(name, s, link, cluster, started);
      }
    } finally {
      executors.forEach(ScheduledExecutorService::shutdownNow);
    }
  }

  private static Run runOn(String name, HmmEmuSettings s, ModeledLink link, EmbeddedCluster cluster,
      List<CompletableFuture<FaultSchedule.Running>> started) throws Exception {
    {
      Experiment.RunResult r;
      try {
        r = Experiment.run(name, s, cluster, System.nanoTime());
      } catch (IllegalStateException e) {
        throw new AssertionError(e.getMessage() + "; link: " + link.stats(), e);
      }
      for (CompletableFuture<FaultSchedule.Running> f : started) {
        assertTrue(f.isDone(), "the workload sent each trigger's message, so every fault schedule started");
        f.get().done().get(30, TimeUnit.SECONDS); // every step (heal, resume) ran
      }
      assertTrue(link.awaitQuiescent(Duration.ofSeconds(10)), "the link drains");
      System.out.println("[" + name + "] " + r + "\n  link: " + link.stats().values());
      return new Run(r, link.stats());
    }
  }

  private static void assertExact(Run run) {
    HmmEmuSettings s = settings();
    Experiment.RunResult r = run.result();
    assertTrue(r.violations().isEmpty(), () -> "violations: " + r.violations());
    assertTrue(r.checkerCaughtUp(), "checker caught up with every node");
    assertEquals(r.expectedValue(), r.finalValue(), "final counter sum == acknowledged increments");
    assertEquals(2L * 30, r.cpuAtomics(), "every CPU increment completes");
    assertEquals(2L * 2 * 3, r.gpuAtomics() + r.gpuCancelled(), "every GPU increment completes or is cancelled");
  }

  private static long sum(Run run, java.util.function.ToLongFunction<ModeledLink.DirectionStats> f) {
    return run.stats().values().stream().mapToLong(f).sum();
  }

  @Test
  @DisplayName("loss, duplication and reordering on every direction: replayed, deduplicated, resequenced; exact")
  void lossDuplicationReorderingAreRepairedByTheDataLinkLayer() throws Exception {
    LinkSettings ls = LinkSettings.fromConfig(ConfigFactory.parseString(
        "hmm-emu.link.default { loss = 0.05, duplication = 0.05, reordering = 0.1 }"));
    Run run = run("loss-dup-reorder", ls, "");
    assertExact(run);
    assertTrue(sum(run, ModeledLink.DirectionStats::dropped) > 0, () -> "some messages were lost: " + run.stats());
    assertTrue(sum(run, ModeledLink.DirectionStats::replayed) > 0, () -> "lost messages were replayed: " + run.stats());
    assertTrue(sum(run, ModeledLink.DirectionStats::duplicatesDropped) > 0,
        () -> "duplicates were dropped by sequence number: " + run.stats());
    assertTrue(sum(run, ModeledLink.DirectionStats::resequenced) > 0,
        () -> "overtaken messages were resequenced: " + run.stats());
  }

  /**
   * Two fault kinds on different nodes in one run (issue 12: a cluster start per fault kind was most of this test's
   * time): gpu1 cut both ways while gpu2 is not heard, 300 ms each, then both heal. Each kind's effect is
   * asserted on its own node's directions, so neither can stand in for the other. The schedule starts at gpu2's 20th
   * message to cpu0, so gpu2 is mid-fault when it stops being heard: since a warp's loop runs on its GPU node
   * (WarpRun) the GPU phase is short, and a window 50 ms after the 200th message of all once met a silent gpu2 (clean
   * clone CI, 2026-12-06: "gpu2 was not heard", 0 dropped), and so did one started at gpu2's 20th message (the lead's
   * it-tests run, 2026-12-06), because the window began on the schedule's thread after that message had passed. Now
   * the 20th message waits until the 0 ms steps ran ({@link Trigger}), so it is itself not heard. Each partition
   * starts at its own node's 20th message (session 11: the one window opened at gpu2's message met a quiet gpu1, and
   * "the two-way partition of gpu1 dropped messages" failed in 6 of 9 runs at load 6-11), so each node's trigger
   * message is itself cut: the windows overlap when both nodes are busy at once, and neither can miss its node.
   */
  @Test
  @DisplayName("two-way partition of gpu1 and one-way partition of gpu2 (not heard) for 300 ms, then heal: exact")
  void partitionsAndHeal() throws Exception {
    Run run = run("partitions", LinkSettings.builtIn(), List.of(
        new Start("at 0ms partition gpu1 for 300ms", 20, 1),
        new Start("at 0ms partition gpu2 one-way for 300ms", 20, 2)));
    assertExact(run);
    Direction toGpu1 = new Direction(0, 1);
    Direction fromGpu1 = new Direction(1, 0);
    assertTrue(run.stats().get(toGpu1).dropped() + run.stats().get(fromGpu1).dropped() > 0,
        () -> "the two-way partition of gpu1 dropped messages: " + run.stats());
    assertTrue(run.stats().get(toGpu1).replayed() + run.stats().get(fromGpu1).replayed() > 0,
        () -> "and they were replayed: " + run.stats());
    assertTrue(run.stats().get(new Direction(2, 0)).dropped() > 0, () -> "gpu2 was not heard: " + run.stats());
    assertEquals(0, run.stats().get(new Direction(0, 2)).dropped(), () -> "gpu2 still heard: " + run.stats());
  }

  /**
   * Added delay on cpu0->gpu1 for the whole run and gpu2 paused for 300 ms, in one run: the delay shows on gpu1's
   * direction, the held messages on gpu2's (a pause holds, it never delays a direction of another node). As in
   * {@link #partitionsAndHeal}, the schedule starts at gpu2's 20th message to cpu0, so gpu2 is busy when it is paused.
   */
  @Test
  @DisplayName("added delay on one link (cpu0->gpu1), and gpu2 paused for 300 ms (its actor frozen, its traffic held both ways), then resumed: exact")
  void addedDelayOnOneLinkAndPauseAndResume() throws Exception {
    Run run = run("delay-pause", LinkSettings.builtIn(), "at 0s add 300us jitter 100us to cpu0->gpu1; at 0ms pause gpu2 for 300ms",
        20, 2);
    assertExact(run);
    assertTrue(run.stats().get(new Direction(0, 1)).maxDelayMicros() >= 200, () -> "the delay applied: " + run.stats());
    assertTrue(run.stats().get(new Direction(0, 2)).held() + run.stats().get(new Direction(2, 0)).held() > 0,
        () -> "the pause held gpu2's messages: " + run.stats());
  }

  @Test
  @DisplayName("data link layer off: every message the link loses is reported by name, never silently")
  void rawLossIsDetected() throws Exception {
    HmmEmuSettings s = settings();
    LinkSettings ls = LinkSettings.fromConfig(ConfigFactory.parseString(
        "hmm-emu.link { reliable = off, replay-timeout = 100ms, directions { \"cpu0<->gpu1\" { loss = 0.05 } } }"));
    try (ModeledLink link = new ModeledLink(ls, 11, s.timeScale, Link.DIRECT);
        EmbeddedCluster cluster = EmbeddedCluster.start(s.config.withFallback(ConfigFactory.parseString(
            "hmm-emu.demo.run-timeout = 8s")), s.demo.gpuNodes(), s.switches, ModelClock.scaledWall(s.timeScale),
            link, Duration.ofSeconds(30))) {
      String outcome;
      try {
        HmmEmuSettings shortRun = HmmEmuSettings.fromConfig(ConfigFactory.parseString("hmm-emu.demo.run-timeout = 8s")
            .withFallback(s.config));
        Experiment.RunResult r = Experiment.run("raw-loss", shortRun, cluster, System.nanoTime());
        outcome = "completed: " + r;
      } catch (IllegalStateException e) {
        outcome = "did not complete (a lost request or reply leaves its waiter waiting): " + e.getMessage();
      }
      long dropped = link.stats(0, 1).dropped() + link.stats(1, 0).dropped();
      var detected = link.detectedLosses();
      System.out.println("[raw-loss] " + outcome + "\n  dropped=" + dropped + " detected=" + detected.size()
          + "\n  first: " + detected.stream().limit(3).toList());
      assertTrue(dropped > 0, "the link lost messages");
      assertTrue(!detected.isEmpty(), () -> "losses were reported: " + link.stats());
      for (ModeledLink.DetectedLoss d : detected) {
        assertTrue(d.direction().equals(new Direction(0, 1)) || d.direction().equals(new Direction(1, 0)),
            () -> "only lossy directions report losses: " + d);
        assertTrue(!d.what().isBlank(), () -> "a report names the message: " + d);
      }
    }
  }
}
