package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.checker.Violation;
import hmmemu.cluster.ControlClient;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.cluster.check.CheckerActor;
import hmmemu.cluster.demo.Experiment;
import hmmemu.node.link.GateLink;
import hmmemu.node.link.Link;
import hmmemu.node.ModelClock;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.VectorClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Node crash and downing on a real 1 CPU + 2 GPU node cluster (one ActorSystem per node, ActorTestKit-made):
 * a GPU node's ActorSystem is terminated without leaving (a crash), Pekko's failure detector marks it unreachable
 * and the Split Brain Resolver downs it (application-crash.conf makes that take seconds); the CPU node unbinds its
 * devices and serves the others. Also the CPU node crashing under GPU nodes that must stop rather than hang.
 */
class NodeCrashTest {
  static final Duration TIMEOUT = Duration.ofSeconds(20);
  static final Duration DOWNING = Duration.ofSeconds(40);
  static final int MM = Experiment.MM;
  static final int COUNTERS = 2;
  static final int PAGES = 1;
  static final int WARPS = 2;
  /**
   * The driver fault loop's deadline (HMM_RANGE_DEFAULT_TIMEOUT, 1000 ms in the kernel): 500 ms here. In about half
   * the runs GPU node 1's atomic faults around GPU node 2's crash spin to the deadline one after another
   * (docs/PROTOCOL.md §8 R7), a second of invalidation rounds each at time scale 1 (up to 12 of them). These tests are
   * about the crash, the downing and the restart, none of which needs the long spin; 500 ms still lets a GPU node 2
   * fault outlast the CPU lanes' thrash as at 1000 ms (250 ms cancelled it: docs/TESTING.md "Session 21: crashcut").
   */
  static final long DRIVER_DEADLINE_MICROS = 500_000;

  final List<ActorTestKit> kits = new ArrayList<>();
  final GateLink gate = new GateLink(Link.DIRECT);
  EmbeddedCluster cluster;

  private EmbeddedCluster start(int gpus) {
    Config base = EmbeddedCluster.crashable(ConfigFactory.load("application-crash"));
    cluster = EmbeddedCluster.start(base, gpus, ModelSwitches.kernel().withDriverDeadlineMicros(DRIVER_DEADLINE_MICROS),
        ModelClock.scaledWall(1.0), gate, TIMEOUT,
        (name, config) -> {
          ActorTestKit kit = ActorTestKit.create(name, config);
          kits.add(kit);
          return kit.system();
        });
    return cluster;
  }

  @AfterEach
  void stop() {
    if (cluster != null) cluster.close();
  }

  private static <T> T expect(HmmProtocol.Msg m, Class<T> type) {
    if (!type.isInstance(m)) throw new AssertionError("expected " + type.getSimpleName() + ", got " + m);
    return type.cast(m);
  }

  private static void await(BooleanSupplier condition, Duration bound, String what) {
    long deadline = System.nanoTime() + bound.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("not within " + bound.toSeconds() + " s: " + what);
      try {
        TimeUnit.MILLISECONDS.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }

  private static boolean isMember(org.apache.pekko.actor.typed.ActorSystem<?> observer, Address a) {
    for (var m : Cluster.get(observer).state().getMembers()) if (m.address().equals(a)) return true;
    return false;
  }

  private long counterSum(ControlClient client) {
    long sum = 0;
    for (int c = 0; c < COUNTERS; c++) {
      long va = Experiment.counterVa(c, PAGES);
      HmmProtocol.PageInfo p = expect(client.call(cluster.cpu(),
          new HmmProtocol.InspectPage(client.nextReqId(), MM, va)), HmmProtocol.PageInfo.class);
      sum += p.words().get(Page.wordIndex(va));
    }
    return sum;
  }

  private CheckerActor.VerdictReply verdict(long[] until) {
    try {
      return AskPattern.<Object, CheckerActor.VerdictReply>ask(cluster.checker(),
          replyTo -> new CheckerActor.Verdict(until, replyTo), TIMEOUT, cluster.cpuSystem.scheduler())
          .toCompletableFuture().get(TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("the checker gave no verdict within " + TIMEOUT.toSeconds() + " s: " + e);
    }
  }

  private static void assertNoViolations(CheckerActor.VerdictReply v) {
    assertTrue(v.caughtUp(), () -> "the checker did not catch up: " + v.pending() + " pending\n" + v.recent());
    assertTrue(v.violations().isEmpty(), () -> "violations:\n"
        + String.join("\n", v.violations().stream().map(Violation::toString).toList()));
  }

  /** Runs {@code ops} operations one after another while {@code go} holds; each completes before the next starts. */
  private static CompletableFuture<Void> lane(int ops, AtomicBoolean go,
      java.util.function.Supplier<CompletionStage<Void>> op) {
    if (ops == 0 || !go.get()) return CompletableFuture.completedFuture(null);
    return op.get().toCompletableFuture().thenCompose(v -> lane(ops - 1, go, op));
  }

  /**
   * The contention workload runs on the CPU node and two GPU nodes; GPU node 2 crashes once it completed an
   * access. The CPU node and GPU node 1 finish their work; every acknowledged increment is in memory (those of
   * GPU node 2's warps included; an increment GPU node 2 executed on the host but whose completion the crash
   * swallowed may be there too, at most one per warp); the checker sees no violation. Then GPU node 2 restarts
   * as node 3, rejoins, registers its driver and does work, with exact counts.
   */
  @Test
  @DisplayName("GPU node crash mid-run: survivors progress, acknowledged increments kept, restart rejoins")
  void gpuNodeCrashMidRunThenRestart() throws Exception {
    start(2);
    ControlClient client = new ControlClient(cluster.cpuSystem, TIMEOUT);
    ControlClient toDying = new ControlClient(cluster.cpuSystem, Duration.ofSeconds(10));
    for (int k = 1; k <= 2; k++) {
      expect(client.call(cluster.gpu(k), new HmmProtocol.BindMm(client.nextReqId(), k * 16, MM, DriverFlavour.NOUVEAU)),
          HmmProtocol.MmBound.class);
    }
    expect(client.call(cluster.cpu(), new HmmProtocol.Syscall(client.nextReqId(), MM, HmmProtocol.SyscallKind.MMAP,
        Experiment.BASE, PAGES * Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, 0)), HmmProtocol.SyscallDone.class);
    for (int c = 0; c < COUNTERS; c++) {
      expect(client.call(cluster.cpu(), new HmmProtocol.CpuAccess(client.nextReqId(), 0, MM,
          Experiment.counterVa(c, PAGES), Access.WRITE, 0)), HmmProtocol.CpuAccessDone.class);
    }

    // GPU node 2 first works alone: its acknowledged atomics must survive its crash.
    long node2Solo = 0;
    for (int i = 0; i < 3; i++) {
      HmmProtocol.DeviceAccessDone d = expect(client.call(cluster.gpu(2), new HmmProtocol.DeviceAccess(
          client.nextReqId(), 32, MM, Experiment.counterVa(i % COUNTERS, PAGES), Access.ATOMIC, 1)),
          HmmProtocol.DeviceAccessDone.class);
      if (d.errno() == Errno.OK) node2Solo++;
    }
    assertTrue(node2Solo > 0, "GPU node 2's uncontended atomics complete");

    AtomicBoolean running = new AtomicBoolean(true);
    AtomicBoolean node2Alive = new AtomicBoolean(true);
    AtomicBoolean crashed = new AtomicBoolean(false);
    AtomicLong cpuOk = new AtomicLong();
    AtomicLong cpuOkAfterCrash = new AtomicLong();
    AtomicLong[] gpuOk = {new AtomicLong(), new AtomicLong()};
    AtomicLong[] gpuCancelled = {new AtomicLong(), new AtomicLong()};
    AtomicLong gpu1DoneAfterCrash = new AtomicLong();
    AtomicLong node2Lost = new AtomicLong();
    CompletableFuture<Void> node2Worked = new CompletableFuture<>();
    List<CompletableFuture<Void>> survivors = new ArrayList<>();
    List<CompletableFuture<Void>> dying = new ArrayList<>();
    for (int t = 1; t <= 2; t++) {
      int thread = t;
      SplittableRandom rng = new SplittableRandom(42L + t);
      survivors.add(lane(150, running, () -> client.ask(cluster.cpu(), new HmmProtocol.CpuAccess(client.nextReqId(),
          thread, MM, Experiment.counterVa(rng.nextInt(COUNTERS), PAGES), Access.ATOMIC, 1)).thenAccept(r -> {
            assertEquals(Errno.OK, expect(r, HmmProtocol.CpuAccessDone.class).errno());
            cpuOk.incrementAndGet();
            if (crashed.get()) cpuOkAfterCrash.incrementAndGet();
          })));
    }
    for (int k = 1; k <= 2; k++) {
      int node = k;
      int dev = k * 16;
      for (int w = 0; w < WARPS; w++) {
        SplittableRandom rng = new SplittableRandom(7L * dev + w);
        java.util.function.Supplier<CompletionStage<Void>> op = () -> (node == 2 ? toDying : client)
            .ask(cluster.gpu(node), new HmmProtocol.DeviceAccess(client.nextReqId(), dev, MM,
                Experiment.counterVa(rng.nextInt(COUNTERS), PAGES), Access.ATOMIC, 1))
            .handle((r, err) -> {
              if (err != null) { // no reply: the node crashed with this access in flight
                if (node == 2 && !node2Alive.get()) {
                  node2Lost.incrementAndGet();
                  return null;
                }
                throw new IllegalStateException("GPU node " + node + " did not answer: " + err);
              }
              HmmProtocol.DeviceAccessDone d = expect(r, HmmProtocol.DeviceAccessDone.class);
              if (d.errno() == Errno.OK) gpuOk[node - 1].incrementAndGet();
              else gpuCancelled[node - 1].incrementAndGet();
              if (node == 1 && crashed.get()) gpu1DoneAfterCrash.incrementAndGet();
              if (node == 2) node2Worked.complete(null);
              return null;
            });
        (node == 1 ? survivors : dying).add(lane(node == 1 ? 6 : 1_000, node == 1 ? running : node2Alive, op));
      }
    }

    node2Worked.get(60, TimeUnit.SECONDS);
    Address node2 = Cluster.get(cluster.gpuSystem(2)).selfMember().address();
    node2Alive.set(false);
    cluster.crashGpu(2, TIMEOUT);
    crashed.set(true);
    long crashedAt = System.nanoTime();

    CompletableFuture.allOf(survivors.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
    CompletableFuture.allOf(dying.toArray(new CompletableFuture[0])).get(30, TimeUnit.SECONDS);
    await(() -> !isMember(cluster.cpuSystem, node2), DOWNING, "GPU node 2 downed and removed by the SBR");
    long boundedMillis = (System.nanoTime() - crashedAt) / 1_000_000;

    assertEquals(300, cpuOk.get(), "every CPU increment completes");
    assertEquals(2L * 6, gpuOk[0].get() + gpuCancelled[0].get(), "every access of the surviving GPU node ends");
    assertTrue(cpuOkAfterCrash.get() > 0 || gpu1DoneAfterCrash.get() > 0, "progress after the crash");
    long acknowledged = node2Solo + cpuOk.get() + gpuOk[0].get() + gpuOk[1].get();
    long sum = counterSum(client);
    assertTrue(sum >= acknowledged && sum <= acknowledged + WARPS, "counters " + sum + ": every acknowledged increment ("
        + acknowledged + ") is in memory, plus at most one unacknowledged increment per crashed warp");
    long[] until = client.clock();
    VectorClock merged = new VectorClock(0);
    merged.merge(until);
    merged.merge(toDying.clock());
    assertNoViolations(verdict(merged.snapshot()));

    // Restart: a new incarnation (node 3) joins, binds its driver and does work with exact counts.
    int k3 = cluster.restartGpu(TIMEOUT);
    assertEquals(3, k3);
    int dev3 = k3 * 16;
    expect(client.call(cluster.gpu(k3), new HmmProtocol.BindMm(client.nextReqId(), dev3, MM, DriverFlavour.NOUVEAU)),
        HmmProtocol.MmBound.class);
    long before = counterSum(client);
    for (int c = 0; c < COUNTERS; c++) { // the CPU takes the pages back from whoever holds them
      expect(client.call(cluster.cpu(), new HmmProtocol.CpuAccess(client.nextReqId(), 1, MM,
          Experiment.counterVa(c, PAGES), Access.ATOMIC, 1)), HmmProtocol.CpuAccessDone.class);
    }
    int ok3 = 0;
    for (int i = 0; i < 3; i++) {
      HmmProtocol.DeviceAccessDone d = expect(client.call(cluster.gpu(k3), new HmmProtocol.DeviceAccess(
          client.nextReqId(), dev3, MM, Experiment.counterVa(0, PAGES), Access.ATOMIC, 1)),
          HmmProtocol.DeviceAccessDone.class);
      assertEquals(Errno.OK, d.errno(), "the restarted node's uncontended atomic completes: " + d);
      ok3++;
    }
    assertEquals(before + COUNTERS + ok3, counterSum(client), "exact counts after the restart");
    assertNoViolations(verdict(client.clock()));
    System.out.printf("gpu crash: cpu ok %d, gpu1 ok/cancelled %d/%d, gpu2 ok solo %d + contended %d (lost in flight"
        + " %d), counters %d, acknowledged %d, crash to removal %d ms%n", cpuOk.get(), gpuOk[0].get(),
        gpuCancelled[0].get(), node2Solo, gpuOk[1].get(), node2Lost.get(), sum, acknowledged, boundedMillis);
  }

  /**
   * The CPU node crashes while each GPU node has an atomic fault waiting for the CPU node (NotifierInserted); the
   * GPU nodes see it downed by the SBR, stop their warps and fail the pending accesses with ENODEV in bounded
   * time; a later access fails at once.
   */
  @Test
  @DisplayName("CPU node crash: GPU nodes stop their warps and report ENODEV instead of hanging")
  void cpuNodeCrashStopsTheGpuNodes() throws Exception {
    start(2);
    ControlClient client = new ControlClient(cluster.cpuSystem, TIMEOUT);
    // The controller of the GPU accesses lives on GPU node 1's system, which survives the crash.
    ControlClient onGpu = new ControlClient(cluster.gpuSystem(1), Duration.ofSeconds(60));
    List<ActorRef<Object>> gpus = List.of(cluster.gpuLocal(1), ActorRefResolver.get(cluster.gpuSystem(1))
        .resolveActorRef(ActorRefResolver.get(cluster.gpuSystem(2)).toSerializationFormat(cluster.gpuLocal(2))));
    for (int k = 1; k <= 2; k++) {
      expect(client.call(cluster.gpu(k), new HmmProtocol.BindMm(client.nextReqId(), k * 16, MM, DriverFlavour.NOUVEAU)),
          HmmProtocol.MmBound.class);
    }
    expect(client.call(cluster.cpu(), new HmmProtocol.Syscall(client.nextReqId(), MM, HmmProtocol.SyscallKind.MMAP,
        Experiment.BASE, 2 * Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, 0)), HmmProtocol.SyscallDone.class);
    List<CompletableFuture<HmmProtocol.Msg>> held = new ArrayList<>();
    List<CompletableFuture<HmmProtocol.Msg>> accesses = new ArrayList<>();
    for (int k = 1; k <= 2; k++) {
      long va = Experiment.BASE + (k - 1) * Page.SIZE;
      expect(client.call(cluster.cpu(), new HmmProtocol.CpuAccess(client.nextReqId(), 0, MM, va, Access.WRITE, 0)),
          HmmProtocol.CpuAccessDone.class);
      held.add(gate.holdWhen(0, k, m -> m instanceof HmmProtocol.NotifierInserted));
      accesses.add(onGpu.ask(gpus.get(k - 1), new HmmProtocol.DeviceAccess(client.nextReqId(), k * 16, MM, va,
          Access.ATOMIC, 1)).toCompletableFuture());
    }
    for (CompletableFuture<HmmProtocol.Msg> h : held) h.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    for (CompletableFuture<HmmProtocol.Msg> a : accesses) assertTrue(!a.isDone(), "the warp waits for the CPU node");

    Address cpuAddress = Cluster.get(cluster.cpuSystem).selfMember().address();
    long crashedAt = System.nanoTime();
    cluster.crashCpu(TIMEOUT);
    for (CompletableFuture<HmmProtocol.Msg> a : accesses) {
      HmmProtocol.DeviceAccessDone d = expect(a.get(DOWNING.toMillis(), TimeUnit.MILLISECONDS),
          HmmProtocol.DeviceAccessDone.class);
      assertEquals(Errno.ENODEV, d.errno(), "the pending access fails with ENODEV: " + d);
    }
    long stoppedMillis = (System.nanoTime() - crashedAt) / 1_000_000;
    for (int k = 1; k <= 2; k++) {
      int node = k;
      await(() -> !isMember(cluster.gpuSystem(node), cpuAddress), DOWNING, "the CPU node removed on GPU node " + node);
      HmmProtocol.DeviceAccessDone late = expect(onGpu.call(gpus.get(k - 1), new HmmProtocol.DeviceAccess(
          client.nextReqId(), k * 16, MM, Experiment.BASE, Access.ATOMIC, 1)), HmmProtocol.DeviceAccessDone.class);
      assertEquals(Errno.ENODEV, late.errno(), "new work is refused at once");
    }
    System.out.printf("cpu crash: both GPU nodes failed their pending accesses with ENODEV %d ms after the crash%n",
        stoppedMillis);
  }
}
