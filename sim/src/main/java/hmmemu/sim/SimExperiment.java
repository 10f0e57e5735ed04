package hmmemu.sim;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * The headline experiment (hmmemu.cluster.demo.Experiment) in the simulator: CPU threads and GPU warps on N GPU
 * nodes atomically increment the same few 64-bit counters in shared anonymous pages. The same set-up (BindMm per
 * device, mmap, a first write per counter), the same lanes (each thread and warp issues its next increment when the
 * previous one completed, on its own node: CpuThreadRun, WarpRun), the same counter choices (the same per-lane
 * seeds), the same figures.
 */
public final class SimExperiment {
  /** The process whose pages the counters live in. */
  public static final int MM = 1;
  /** Where the counter pages are mapped. */
  public static final long BASE = 0x7f00_0000_0000L;
  /** Bound of one set-up or inspection call, model time. */
  private static final long CALL_BOUND_NANOS = 10_000_000_000L;

  /**
   * The workload's shape (the keys of hmm-emu.demo). {@code cpuThreadsViaController}: each CPU thread's access is a
   * controller round trip (the controller hop, {@link SimConfig#controllerHopMicros}, twice per access), the way
   * both hosts drove CPU threads before CpuThreadRun; off (the default, what the cluster does), a thread's loop runs
   * on the CPU node (HmmProtocol.CpuThreadRun) with no hop between two accesses, as a user thread runs on its CPU.
   * {@code cpuThinkMicros}: model µs a CPU thread works between two increments (CpuThreadRun.thinkMicros; honoured
   * on the CPU node only, not by the controller-paced threads). {@code warpsViaController}: each warp access is a
   * controller round trip (DeviceAccess), the way both hosts drove warps before WarpRun; off (the default, what the
   * cluster does), a warp's loop runs on the GPU node (HmmProtocol.WarpRun), as a warp runs on its device.
   */
  public record Workload(int gpuNodes, int warpsPerDevice, int opsPerWarp, int cpuThreads, int opsPerThread,
      int counters, int counterPages, long seed, boolean cpuSpin, boolean cpuThreadsViaController,
      long cpuThinkMicros, boolean warpsViaController) {
    /** Warps run on the GPU node (WarpRun). */
    public Workload(int gpuNodes, int warpsPerDevice, int opsPerWarp, int cpuThreads, int opsPerThread, int counters,
        int counterPages, long seed, boolean cpuSpin, boolean cpuThreadsViaController, long cpuThinkMicros) {
      this(gpuNodes, warpsPerDevice, opsPerWarp, cpuThreads, opsPerThread, counters, counterPages, seed, cpuSpin,
          cpuThreadsViaController, cpuThinkMicros, false);
    }

    /** CPU threads run on the CPU node (CpuThreadRun), with no think time. */
    public Workload(int gpuNodes, int warpsPerDevice, int opsPerWarp, int cpuThreads, int opsPerThread, int counters,
        int counterPages, long seed, boolean cpuSpin) {
      this(gpuNodes, warpsPerDevice, opsPerWarp, cpuThreads, opsPerThread, counters, counterPages, seed, cpuSpin,
          false, 0);
    }

    /** The same workload with each CPU access a controller round trip (the pre-CpuThreadRun driving). */
    public Workload viaController() {
      return new Workload(gpuNodes, warpsPerDevice, opsPerWarp, cpuThreads, opsPerThread, counters, counterPages, seed,
          cpuSpin, true, cpuThinkMicros, warpsViaController);
    }

    /** The same workload with each warp access a controller round trip (the driving before WarpRun). */
    public Workload withWarpsViaController() {
      return new Workload(gpuNodes, warpsPerDevice, opsPerWarp, cpuThreads, opsPerThread, counters, counterPages, seed,
          cpuSpin, cpuThreadsViaController, cpuThinkMicros, true);
    }

    /** The same workload with a think time of {@code micros} model µs between a CPU thread's increments. */
    public Workload withCpuThink(long micros) {
      return new Workload(gpuNodes, warpsPerDevice, opsPerWarp, cpuThreads, opsPerThread, counters, counterPages, seed,
          cpuSpin, cpuThreadsViaController, micros, warpsViaController);
    }
  }

  /**
   * One arm's figures, the fields of the cluster's Experiment.RunResult (latencies in model µs), plus the
   * simulator's own: model time, trace events, messages, the trace hash and whether every lane finished.
   */
  public record Result(String name, long cpuAtomics, long gpuAtomics, long gpuCancelled, long finalValue,
      long expectedValue, long faultRounds, long driverIterations, long driverIterationsMax, long driverTimeouts,
      long invalidations, long faultsHandled, Histogram gpuLatency, Histogram cpuLatency, long cpuFaults,
      List<String> violations, long eventsChecked, boolean checkerCaughtUp, long modelMicros, long traceEvents,
      long messages, long traceHash, boolean finished, long wallNanos, String liveness, List<String> linkStats,
      List<String> faultLog) {
    /** No violation, every lane finished, the checker caught up, and the counters hold every increment. */
    public boolean ok() {
      return violations.isEmpty() && finished && checkerCaughtUp && finalValue == expectedValue;
    }
  }

  private SimExperiment() {}

  /** Virtual address of counter c (as Experiment.counterVa). */
  public static long counterVa(int c, int pages) {
    return BASE + (long) (c % pages) * Page.SIZE + (long) (c / pages) * Long.BYTES;
  }

  /**
   * Runs one arm on a fresh simulator. {@code maxModelMicros} bounds model time (a run that has not finished then is
   * reported unfinished, e.g. a livelock); {@code maxEvents} bounds the agenda events.
   */
  public static Result run(String name, SimConfig config, Workload w, long maxModelMicros, long maxEvents) {
    return run(name, config, w, maxModelMicros, maxEvents, null);
  }

  /**
   * {@link #run}, with {@code onTrace} (when not null) offered every trace event in the order the checker judges
   * it (a run recorder, for instance); it sees the set-up as well as the workload.
   */
  public static Result run(String name, SimConfig config, Workload w, long maxModelMicros, long maxEvents,
      java.util.function.Consumer<hmmemu.protocol.trace.Stamped> onTrace) {
    return run(name, config, w, maxModelMicros, maxEvents, onTrace, null);
  }

  /**
   * {@link #run(String, SimConfig, Workload, long, long, java.util.function.Consumer)} with {@code faults} (when not
   * null) started when the workload starts, after the set-up: its instants are model time from then.
   */
  public static Result run(String name, SimConfig config, Workload w, long maxModelMicros, long maxEvents,
      java.util.function.Consumer<hmmemu.protocol.trace.Stamped> onTrace, hmmemu.node.link.FaultSchedule faults) {
    return run(name, config, w, maxModelMicros, maxEvents, onTrace, faults, null);
  }

  /** {@link #run(String, SimConfig, Workload, long, long, java.util.function.Consumer, hmmemu.node.link.FaultSchedule)}
   * with {@code onSim} (when not null) handed the fresh simulator before anything runs (e.g. to turn on its
   * fast-forward). */
  public static Result run(String name, SimConfig config, Workload w, long maxModelMicros, long maxEvents,
      java.util.function.Consumer<hmmemu.protocol.trace.Stamped> onTrace, hmmemu.node.link.FaultSchedule faults,
      java.util.function.Consumer<Sim> onSim) {
    long wall0 = System.nanoTime();
    Sim sim = new Sim(config);
    sim.keepStateKey(false); // nothing here asks for it
    if (onSim != null) onSim.accept(sim);
    if (onTrace != null) sim.onTrace(onTrace);
    List<Integer> devices = new ArrayList<>();
    for (int k = 1; k <= w.gpuNodes(); k++) {
      int dev = Ids.deviceId(k, 0);
      devices.add(dev);
      expect(sim.call(k, new HmmProtocol.BindMm(sim.nextReqId(), dev, MM, DriverFlavour.NOUVEAU), CALL_BOUND_NANOS),
          HmmProtocol.MmBound.class);
    }
    HmmProtocol.Msg mm = sim.call(0, new HmmProtocol.Syscall(sim.nextReqId(), MM, HmmProtocol.SyscallKind.MMAP, BASE,
        w.counterPages() * Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, 0), CALL_BOUND_NANOS);
    if (!(mm instanceof HmmProtocol.SyscallDone sd) || sd.errno() != Errno.OK) {
      throw new IllegalStateException("mmap of the counter pages failed: " + mm);
    }
    for (int c = 0; c < w.counters(); c++) {
      expect(sim.call(0, new HmmProtocol.CpuAccess(sim.nextReqId(), 0, MM, counterVa(c, w.counterPages()), Access.WRITE, 0),
          CALL_BOUND_NANOS), HmmProtocol.CpuAccessDone.class);
    }

    if (faults != null) sim.faults(faults);
    long[] cpuDone = {0}, gpuDone = {0}, gpuCancelled = {0}, faultRounds = {0}, cpuFaults = {0};
    int[] lanesLeft = {0};
    long[] lastProgress = {sim.nowMicros()};
    java.util.TreeMap<String, String> waiting = new java.util.TreeMap<>();
    Histogram cpuLatency = new Histogram(3_600_000_000L, 3);
    Histogram gpuLatency = new Histogram(3_600_000_000L, 3);
    for (int t = 0; t < w.cpuThreads(); t++) {
      hmmemu.node.link.SplitMix64 rng = new hmmemu.node.link.SplitMix64(w.seed() * 1_000_003L + t);
      int thread = t + 1;
      if (w.opsPerThread() == 0) continue;
      lanesLeft[0]++;
      if (w.cpuThreadsViaController()) {
        viaController(sim, w, thread, rng, waiting, lastProgress, cpuDone, cpuFaults, cpuLatency, lanesLeft);
        continue;
      }
      // The thread's loop runs on the CPU node (HmmProtocol.CpuThreadRun), as a user thread runs on its CPU: one
      // controller message starts it, one reports it done; no controller hop between two of its accesses.
      List<Long> vas = new ArrayList<>(w.opsPerThread());
      for (int i = 0; i < w.opsPerThread(); i++) vas.add(counterVa(rng.nextInt(w.counters()), w.counterPages()));
      long reqId = sim.nextReqId();
      waiting.put("CPU thread T" + thread, w.opsPerThread() + " atomic increments (reqId " + reqId + ") since "
          + sim.nowMicros() + " µs");
      sim.ask(0, new HmmProtocol.CpuThreadRun(reqId, thread, MM, vas, Access.ATOMIC, 1, w.cpuSpin(),
          w.cpuThinkMicros()), r -> {
        waiting.remove("CPU thread T" + thread);
        lastProgress[0] = sim.nowMicros();
        HmmProtocol.CpuThreadDone done = expect(r, HmmProtocol.CpuThreadDone.class);
        if (done.errno() != Errno.OK) throw new IllegalStateException("CPU thread " + thread + ": " + done);
        cpuDone[0] += done.ops();
        cpuFaults[0] += done.faults();
        for (long micros : done.latencyMicros()) {
          cpuLatency.recordValue(Math.min(Math.max(0, micros), cpuLatency.getHighestTrackableValue()));
        }
        lanesLeft[0]--;
      });
    }
    for (int k = 0; k < devices.size(); k++) {
      int dev = devices.get(k);
      int node = k + 1;
      for (int wp = 0; wp < w.warpsPerDevice(); wp++) {
        hmmemu.node.link.SplitMix64 rng = new hmmemu.node.link.SplitMix64(w.seed() * 7_000_003L + dev * 4096L + wp);
        int warp = wp;
        if (w.opsPerWarp() == 0) continue;
        lanesLeft[0]++;
        String lane = "device " + dev + " warp " + warp;
        if (w.warpsViaController()) {
          warpViaController(sim, w, node, dev, lane, rng, waiting, lastProgress, gpuDone, gpuCancelled, faultRounds,
              gpuLatency, lanesLeft);
          continue;
        }
        // The warp's loop runs on the GPU node (HmmProtocol.WarpRun), as a warp runs on its device: one controller
        // message starts it, one reports it done; each access is issued when the previous one completed or was
        // cancelled, with no controller hop in between.
        List<Long> vas = new ArrayList<>(w.opsPerWarp());
        for (int i = 0; i < w.opsPerWarp(); i++) vas.add(counterVa(rng.nextInt(w.counters()), w.counterPages()));
        long reqId = sim.nextReqId();
        waiting.put(lane, w.opsPerWarp() + " atomic increments (reqId " + reqId + ") since " + sim.nowMicros()
            + " µs");
        sim.ask(node, new HmmProtocol.WarpRun(reqId, dev, warp, MM, vas, Access.ATOMIC, 1), r -> {
          waiting.remove(lane);
          lastProgress[0] = sim.nowMicros();
          HmmProtocol.WarpDone done = expect(r, HmmProtocol.WarpDone.class);
          gpuDone[0] += done.completed();
          gpuCancelled[0] += done.cancelled();
          faultRounds[0] += done.faultRounds();
          for (int i = 0; i < done.errnos().size(); i++) {
            if (done.errnos().get(i) != Errno.OK) continue;
            gpuLatency.recordValue(Math.min(Math.max(0, done.latencyMicros().get(i)),
                gpuLatency.getHighestTrackableValue()));
          }
          lanesLeft[0]--;
        });
      }
    }
    // Livelock: no progress for this span of model time while lanes wait (longer than any legitimate wait: a
    // driver loop spinning to its deadline, then a folio-lock lease). Progress is a lane's reply, a warp's access
    // that ended (DeviceAccessCompleted, inside its WarpRun loop) or a driver fault loop that ended (DriverFaultHandled): the deadline ends every loop, so a device whose faults queue behind
    // one another (a stale fault entry spinning to the deadline, then the next: §8 R7, four warps on one device)
    // makes progress once per deadline even when no reply comes for several deadlines.
    long span = 2 * config.switches().driverDeadlineMicros() + config.folioLockLeaseMicros()
        + w.cpuThinkMicros() * w.opsPerThread(); // a thinking CPU thread's loop replies once, at its end
    sim.onTrace(st -> {
      if (st.event() instanceof hmmemu.protocol.trace.Trace.DriverFaultHandled
          || st.event() instanceof hmmemu.protocol.trace.Trace.DeviceAccessCompleted) {
        lastProgress[0] = st.atMicros(); // a warp's access ended: a reply before WarpRun, still progress inside it
      }
    });
    boolean[] stalled = {false};
    boolean finished = sim.runUntil(() -> {
      if (lanesLeft[0] == 0) return true;
      if (sim.nowMicros() - lastProgress[0] > span) stalled[0] = true;
      return stalled[0];
    }, sim.nowNanos() + maxModelMicros * 1000, maxEvents) && !stalled[0];
    long workloadEnd = sim.nowMicros();
    String liveness = null;
    if (!finished) {
      List<String> suspects = new ArrayList<>();
      for (int k = 1; k <= w.gpuNodes(); k++) suspects.addAll(sim.gpu(k).deadlockSuspects());
      if (sim.idle()) {
        liveness = "deadlock at " + workloadEnd + " model µs: no event enabled while " + waiting.size()
            + " lane(s) wait: " + waiting + (suspects.isEmpty() ? "" : "; driver locks: " + suspects);
      } else {
        liveness = "livelock: no progress (no reply, no driver fault loop ended) from " + lastProgress[0] + " to " + workloadEnd
            + " model µs while " + waiting.size() + " lane(s) wait: " + waiting
            + (suspects.isEmpty() ? "" : "; driver locks: " + suspects);
      }
    }

    long finalValue = 0;
    if (finished) {
      for (int c = 0; c < w.counters(); c++) {
        long va = counterVa(c, w.counterPages());
        HmmProtocol.PageInfo p = expect(sim.call(0, new HmmProtocol.InspectPage(sim.nextReqId(), MM, va), CALL_BOUND_NANOS),
            HmmProtocol.PageInfo.class);
        int wi = Page.wordIndex(va);
        finalValue += wi < p.words().size() ? p.words().get(wi) : (wi == 0 ? p.word0() : 0);
      }
    }
    long iterations = 0, iterMax = 0, timeouts = 0, invalidations = 0, handled = 0;
    for (int k = 0; k < devices.size(); k++) {
      HmmProtocol.DeviceInfo info = finished
          ? expect(sim.call(k + 1, new HmmProtocol.InspectDevice(sim.nextReqId(), devices.get(k)), CALL_BOUND_NANOS),
              HmmProtocol.DeviceInfo.class)
          : null;
      if (info == null) continue;
      iterations += info.driverIterations();
      iterMax = Math.max(iterMax, info.driverIterationsMax());
      timeouts += info.driverTimeouts();
      invalidations += info.invalidations();
      handled += info.faultsHandled();
    }
    List<String> violations = new ArrayList<>();
    sim.violations().forEach(v -> violations.add(v.toString()));
    boolean caughtUp = sim.checker().caughtUp(sim.eventCounts());
    return new Result(name, cpuDone[0], gpuDone[0], gpuCancelled[0], finalValue, cpuDone[0] + gpuDone[0],
        faultRounds[0], iterations, iterMax, timeouts, invalidations, handled, gpuLatency, cpuLatency, cpuFaults[0],
        violations, sim.checker().delivered(), caughtUp, workloadEnd, sim.traceEvents(), sim.messages(),
        sim.traceHash(), finished, System.nanoTime() - wall0, liveness, sim.linkStage().stats(), sim.faultLog());
  }

  /** One CPU thread whose every access is a controller round trip (Workload.cpuThreadsViaController). */
  private static void viaController(Sim sim, Workload w, int thread, hmmemu.node.link.SplitMix64 rng,
      java.util.Map<String, String> waiting, long[] lastProgress, long[] cpuDone, long[] cpuFaults,
      Histogram cpuLatency, int[] lanesLeft) {
    new Object() {
      int issued;

      void next() {
        long t0 = sim.nowMicros();
        issued++;
        boolean spin = w.cpuSpin() && issued < w.opsPerThread();
        long va = counterVa(rng.nextInt(w.counters()), w.counterPages());
        long reqId = sim.nextReqId();
        waiting.put("CPU thread T" + thread, "atomic increment " + issued + " of va 0x" + Long.toHexString(va)
            + " (reqId " + reqId + ") since " + t0 + " µs");
        sim.ask(0, new HmmProtocol.CpuAccess(reqId, thread, MM, va, Access.ATOMIC, 1, spin), r -> {
          waiting.remove("CPU thread T" + thread);
          lastProgress[0] = sim.nowMicros();
          HmmProtocol.CpuAccessDone done = expect(r, HmmProtocol.CpuAccessDone.class);
          if (done.errno() != Errno.OK) throw new IllegalStateException("CPU thread " + thread + ": " + done);
          cpuDone[0]++;
          cpuFaults[0] += done.faults();
          cpuLatency.recordValue(Math.min(sim.nowMicros() - t0, cpuLatency.getHighestTrackableValue()));
          if (issued < w.opsPerThread()) next();
          else lanesLeft[0]--;
        });
      }
    }.next();
  }

  /** One warp whose every access is a controller round trip (Workload.warpsViaController). */
  private static void warpViaController(Sim sim, Workload w, int node, int dev, String lane,
      hmmemu.node.link.SplitMix64 rng, java.util.Map<String, String> waiting, long[] lastProgress, long[] gpuDone,
      long[] gpuCancelled, long[] faultRounds, Histogram gpuLatency, int[] lanesLeft) {
    new Object() {
      int issued;

      void next() {
        issued++;
        long va = counterVa(rng.nextInt(w.counters()), w.counterPages());
        long reqId = sim.nextReqId();
        waiting.put(lane, "atomic increment " + issued + " of va 0x" + Long.toHexString(va) + " (reqId " + reqId
            + ") since " + sim.nowMicros() + " µs");
        sim.ask(node, new HmmProtocol.DeviceAccess(reqId, dev, MM, va, Access.ATOMIC, 1), r -> {
          waiting.remove(lane);
          lastProgress[0] = sim.nowMicros();
          HmmProtocol.DeviceAccessDone done = expect(r, HmmProtocol.DeviceAccessDone.class);
          if (done.errno() == Errno.OK) {
            gpuDone[0]++;
            faultRounds[0] += done.faultRounds();
            gpuLatency.recordValue(Math.min(Math.max(0, done.latencyMicros()), gpuLatency.getHighestTrackableValue()));
          } else {
            gpuCancelled[0]++;
          }
          if (issued < w.opsPerWarp()) next();
          else lanesLeft[0]--;
        });
      }
    }.next();
  }

  static <T> T expect(HmmProtocol.Msg m, Class<T> type) {
    if (!type.isInstance(m)) throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + m);
    return type.cast(m);
  }
}
