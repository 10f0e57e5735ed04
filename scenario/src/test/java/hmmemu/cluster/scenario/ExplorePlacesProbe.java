package hmmemu.cluster.scenario;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.sim.Scheduler;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Not a test (surefire runs no *Probe class by default): a measurement of where an exhaustive search's branch points
 * lie (the frames of the scenario classes at each, "kind of place") and whether a kept copy was there, with the CPU of
 * each phase of a run and the simulator events replayed, checkpoints off then on (docs/PERFORMANCE.md "Session 23:
 * xpoints"). Run with -Dtest=ExplorePlacesProbe -Dprobe.files=FILE:BUDGET:DEPTH,... -Dprobe.passes=N
 * [-Dprobe.detail=true]. Emulator-only host mechanism.
 */
class ExplorePlacesProbe {
  static final Config BASE = ConfigFactory.load();

  static long cpu() { return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime(); }

  static String place(Scheduler.Enabled e) {
    if (e instanceof BlockChoice) return "block-draw";
    return StackWalker.getInstance().walk(fs -> {
      StringBuilder sb = new StringBuilder();
      List<StackWalker.StackFrame> l = fs.toList();
      for (int i = l.size() - 1; i >= 0; i--) {
        StackWalker.StackFrame f = l.get(i);
        String c = f.getClassName();
        if (!c.startsWith("hmmemu.cluster.scenario.") || c.contains("ScheduleRun") || c.contains("Probe")
            || c.contains("Explorer")) continue;
        String cs = c.substring(c.lastIndexOf('.') + 1);
        if (cs.contains("$")) continue;
        sb.append(cs).append('.').append(f.getMethodName());
        if (cs.equals("StepExecutor")) sb.append(':').append(f.getLineNumber());
        sb.append(' ');
      }
      return sb.toString().trim();
    });
  }

  static boolean checkpointing;

  @Test
  void probe() {
    String files = System.getProperty("probe.files",
        "explore/c-fork-enomem.conf:6000:3,cases/c01-exclusive.conf:300:3");
    for (String spec : files.split(",")) {
      String[] p = spec.split(":");
      for (int pass = 0; pass < Integer.getInteger("probe.passes", 2); pass++) {
        for (boolean cp : new boolean[] {false, true}) {
          checkpointing = cp;
          run(p[0], Integer.parseInt(p[1]), Integer.parseInt(p[2]), pass);
        }
      }
    }
  }

  void run(String file, int budget, int maxDeviations, int pass) {
    Scenario scenario = ScenarioParser.parse(Path.of("..", "scenarios").resolve(file));
    hmmemu.node.link.LinkSettings link = hmmemu.node.link.LinkSettings.fromConfig(BASE);
    long lease = hmmemu.cpu.core.CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS;
    ScheduleRun.Snapshot snapshot = new ScheduleRun.Snapshot();
    KeyTable visited = new KeyTable();
    ScheduleRun.KeyMemo memo = new ScheduleRun.KeyMemo();
    ExhaustiveCopies mids = new ExhaustiveCopies(maxDeviations);
    mids.checkpointing = checkpointing;
    int[] prefix = new int[0];
    boolean lastAtBranch = false;
    String[] places = new String[0];
    int[] lastEnabled = {0};
    Map<String, long[]> byPlace = new TreeMap<>(); // place -> {schedules branching there, resumed exactly, replayed points, replay cpu}
    long[] tot = new long[8]; // runs, cpu, cpu to first point, cpu replay (first point..branch), cpu after branch, copies kept, copy cpu, points
    long c00 = cpu();
    long[] replayEvents = {0};
    for (int n = 1; n <= budget; n++) {
      final int[] pp = prefix;
      int branch = pp.length - 1;
      MidStepStart from = mids.forBranch(branch, lastAtBranch);
      int fromPoint = from == null ? -1 : from.point();
      int[] dev = {0};
      for (int i = 0; from != null && i < from.point(); i++) if (pp[i] != 0) dev[0]++;
      memo.resumeAt = branch;
      String[] newPlaces = java.util.Arrays.copyOf(places, Math.max(places.length, 1));
      long[] t = {cpu(), -1, -1};
      final String[][] np = {newPlaces};
      final long[] fired = {0}, f0 = {0};
      final String[] oldPlaces = places;
      final class S implements ScheduleRun.Strategy, ScheduleRun.SeesSim {
        Scheduler.Enabled last;
        @Override public void at(hmmemu.sim.Sim sim) { fired[0] = sim.fired(); }
        @Override
        public int choose(int point, long key, Scheduler.Enabled e) {
          if (t[1] < 0) {
            t[1] = cpu();
            f0[0] = fired[0];
          }
          if (point == branch) {
            t[2] = cpu();
            replayEvents[0] += fired[0] - f0[0];
          }
          if (point >= branch || point >= oldPlaces.length) {
            if (np[0].length <= point) np[0] = java.util.Arrays.copyOf(np[0], point * 2 + 2);
            if (point > branch || np[0][point] == null) np[0][point] = place(e);
          }
          return ExhaustiveChoice.choose(pp, point, key, e.size(), dev, visited);
        }
      }
      MidStepStart.Keeper k = mids.keeper(pp.length, () -> dev[0]);
      long[] copyT = {0};
      MidStepStart.Keeper timed = k == null ? null : new MidStepStart.Keeper() {
        @Override public boolean wants(int point, int enabled, int taken) {
          boolean w = k.wants(point, enabled, taken);
          if (w) copyT[0] = cpu();
          return w;
        }
        @Override public void keep(MidStepStart s) {
          tot[6] += cpu() - copyT[0];
          tot[5]++;
          k.keep(s);
        }
      };
      ScheduleRun.Outcome o = ScheduleRun.run(scenario, 1, link, lease, false, true, new S(), memo, snapshot, null,
          null, from, timed);
      long end = cpu();
      mids.ran(o.choices());
      tot[0]++;
      tot[1] += end - t[0];
      if (t[1] >= 0) tot[2] += t[1] - t[0];
      if (t[2] >= 0 && t[1] >= 0) {
        tot[3] += t[2] - t[1];
        tot[4] += end - t[2];
      }
      tot[7] += o.choices().size();
      if (branch >= 0) {
        String pl = places[branch];
        long[] a = byPlace.computeIfAbsent(pl, x -> new long[4]);
        a[0]++;
        if (fromPoint == branch) a[1]++;
        a[2] += branch - Math.max(fromPoint, 0);
        if (t[2] >= 0 && t[1] >= 0) a[3] += t[2] - t[1];
        if (fromPoint != branch && Boolean.getBoolean("probe.detail")) {
          System.out.printf("     schedule %d branch %d (%d enabled) from copy %d: replay %.1f ms, %s%n", n, branch,
              lastEnabled[0], fromPoint, (t[2] - t[1]) / 1e6, pl);
        }
      }
      places = np[0];
      if (o.failed()) break;
      List<ScheduleRun.Choice> cs = o.choices();
      int next = ExhaustiveChoice.nextBranch(cs, maxDeviations);
      if (next < 0) break;
      lastEnabled[0] = cs.get(next).enabled();
      prefix = new int[next + 1];
      for (int i = 0; i < next; i++) prefix[i] = cs.get(i).taken();
      prefix[next] = cs.get(next).taken() + 1;
      lastAtBranch = prefix[next] + 1 >= cs.get(next).enabled();
    }
    long all = cpu() - c00;
    System.out.printf("%s checkpoints %s pass %d: %d runs, %d points, total %.0f ms (runs %.0f), to first point %.0f, first->branch %.0f,"
        + " after branch %.0f, copies kept %d in %.0f ms, resumed %d, checkpoints kept %d used %d, replayed events %d%n", file, checkpointing, pass, tot[0], tot[7], all / 1e6,
        tot[1] / 1e6, tot[2] / 1e6, tot[3] / 1e6, tot[4] / 1e6, tot[5], tot[6] / 1e6, mids.resumed, mids.checkpointsKept, mids.fromCheckpoints, replayEvents[0]);
    for (Map.Entry<String, long[]> e : byPlace.entrySet()) {
      long[] a = e.getValue();
      System.out.printf("   %6d branches (%6d at a copy), replayed points %8d, replay %.0f ms: %s%n", a[0], a[1], a[2],
          a[3] / 1e6, e.getKey());
    }
  }
}
