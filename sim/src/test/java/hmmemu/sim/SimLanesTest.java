package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.node.link.Distribution;
import hmmemu.node.link.Lanes;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.LinkSpec;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import org.junit.jupiter.api.Test;

/** Lanes per sending kernel thread in the simulator's link stage (docs/PROTOCOL.md §5.8, hmmemu.node.link.Lanes). */
class SimLanesTest {

  /** A minimal agenda: runs scheduled actions in time order (ties in scheduling order). */
  static final class Agenda implements LinkStage.Host {
    record Item(long at, long n, Runnable r) {}

    final PriorityQueue<Item> q = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at)
        : Long.compare(a.n, b.n));
    final List<HmmProtocol.Msg> arrived = new ArrayList<>();
    long now;
    long n;

    @Override public long nowNanos() { return now; }

    @Override public void at(long atNanos, Runnable r) { q.add(new Item(atNanos, n++, r)); }

    @Override public void arrive(int from, int to, HmmProtocol.Msg msg, long[] vc) { arrived.add(msg); }

    void run() {
      for (Item i; (i = q.poll()) != null;) {
        now = i.at();
        i.r().run();
      }
    }
  }

  static final int DEV = Ids.deviceId(1, 0);

  /** Message i: odd i the fault worker's FolioUnlockPut(reqId i), even i a callback's InvalidateAck(invId i). */
  static HmmProtocol.Msg msg(long i) {
    return i % 2 == 1 ? new HmmProtocol.FolioUnlockPut(i, DEV, 7) : new HmmProtocol.InvalidateAck(i, Ids.subId(DEV, 1), true);
  }

  static long number(HmmProtocol.Msg m) {
    return m instanceof HmmProtocol.FolioUnlockPut u ? u.reqId() : ((HmmProtocol.InvalidateAck) m).invId();
  }

  static List<Long> run(LinkSettings settings, long seed, int count) {
    Agenda a = new Agenda();
    ModeledLinkStage stage = new ModeledLinkStage(settings, seed, a, null);
    for (long i = 1; i <= count; i++) {
      stage.send(1, 0, msg(i), new long[] {i});
      a.now += 1_000; // 1 us apart
    }
    a.run();
    List<Long> out = new ArrayList<>();
    for (HmmProtocol.Msg m : a.arrived) out.add(number(m));
    return out;
  }

  static LinkSettings random() {
    return LinkSettings.of(LinkSpec.ideal().withDelay(new Distribution.Uniform(0, 200)));
  }

  @Test
  void fifoWithinEachLaneAndLanesOvertake() {
    assertNotEquals(Lanes.of(msg(1)), Lanes.of(msg(2)));
    boolean overtook = false;
    for (long seed = 1; seed <= 5; seed++) {
      List<Long> got = run(random().withLanes(true), seed, 40);
      assertEquals(40, got.size());
      long lastOdd = 0;
      for (long x : got) {
        if (x % 2 == 1) {
          assertTrue(x > lastOdd, "the worker's lane is FIFO, seed " + seed + ": " + got);
          lastOdd = x;
        }
      }
      List<Long> sorted = new ArrayList<>(got);
      sorted.sort(null);
      overtook |= !sorted.equals(got);
    }
    assertTrue(overtook, "some seed lets a callback's ack overtake the worker's messages");
  }

  @Test
  void lanesOffIsOneFifoPerDirection() {
    for (long seed = 1; seed <= 5; seed++) {
      List<Long> got = run(random(), seed, 40);
      List<Long> sorted = new ArrayList<>(got);
      sorted.sort(null);
      assertEquals(sorted, got, "seed " + seed);
    }
  }

  @Test
  void theHeadlineWorkloadStaysSafeWithLanes() {
    SimExperiment.Workload w = new SimExperiment.Workload(2, 2, 3, 2, 8, 4, 2, 5, false);
    LinkSettings link = LinkSettings.of(LinkSpec.ideal().withDelay(new Distribution.Uniform(0, 5))).withLanes(true);
    for (long seed = 1; seed <= 3; seed++) {
      SimConfig c = SimConfig.of(seed, w.gpuNodes(), ModelSwitches.kernel().withDriverDeadlineMicros(500))
          .withLink(link);
      SimExperiment.Result r = SimExperiment.run("lanes", c, w, 60_000_000L, 50_000_000L, null, null);
      assertTrue(r.finished(), "seed " + seed + ": " + r.liveness());
      assertTrue(r.violations().isEmpty(), "seed " + seed + ": " + r.violations());
      assertEquals(r.expectedValue(), r.finalValue(), "seed " + seed + ": no lost increment");
    }
  }
}
