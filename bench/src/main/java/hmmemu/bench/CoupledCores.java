package hmmemu.bench;

import hmmemu.cpu.core.CpuMm;
import hmmemu.gpu.core.GpuNode;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Msgs;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.trace.VectorClock;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The pure CPU core (node 0) and one GPU core (node 1, device 16) coupled in one thread, without actors: what a
 * core sends is queued (FIFO, as one Artery association per direction keeps it) and stepped into the other core.
 * Trace events are stamped with vector clocks exactly as the node shells stamp them (one tick per event, the
 * sender's clock on every message), so the recorded stream is one a checker accepts as the nodes' own.
 * Replies to the controller are kept in {@link #lastReply}. Model time advances 1 µs per step.
 */
final class CoupledCores {
  static final int MM = 1;
  static final int DEV = 16;
  static final long BASE = CpuMm.MMAP_BASE;

  private record InFlight(int toNode, int fromDevice, HmmProtocol.Msg msg, long[] vc) {}

  final CpuMm cpu;
  final GpuNode gpu;
  private final VectorClock[] clocks = {new VectorClock(0), new VectorClock(1)};
  private final ArrayDeque<InFlight> queue = new ArrayDeque<>();
  private final Consumer<Stamped> sink;
  private long now;
  private long nextReq = 1;
  long steps;
  HmmProtocol.Msg lastReply;

  /** @param sink receives every stamped trace event in emission order (null: events are dropped) */
  CoupledCores(Consumer<Stamped> sink) {
    ModelSwitches s = ModelSwitches.kernel();
    cpu = new CpuMm(s);
    gpu = new GpuNode(1, s);
    gpu.addDevice(DEV);
    this.sink = sink;
  }

  long reqId() { return hmmemu.protocol.msg.Ids.controllerReqId(nextReq++); }

  /** Sends a controller request to node 0 (CPU) or 1 (GPU) and runs both cores until nothing is in flight. */
  HmmProtocol.Msg call(int node, HmmProtocol.Msg m) {
    lastReply = null;
    queue.add(new InFlight(node, -1, m, null));
    drain();
    return lastReply;
  }

  private void drain() {
    InFlight f;
    while ((f = queue.poll()) != null) {
      VectorClock c = clocks[f.toNode];
      if (f.vc != null) c.merge(f.vc);
      Ready r = f.toNode == 0 ? cpu.step(f.fromDevice, f.msg, now++) : gpu.step(f.msg, now++);
      steps++;
      if (sink != null) for (Trace.Event e : r.events) sink.accept(new Stamped(f.toNode, c.tick(), e));
      for (Outbound o : r.out) route(f.toNode, o, c);
    }
  }

  private void route(int fromNode, Outbound o, VectorClock c) {
    HmmProtocol.Msg m = o.msg();
    if (o.to() instanceof hmmemu.protocol.model.Destination.Device) {
      queue.add(new InFlight(1, -1, m, c.snapshot()));
    } else if (o.to() instanceof hmmemu.protocol.model.Destination.Cpu) {
      queue.add(new InFlight(0, Msgs.isFromDriver(m) ? Msgs.deviceIdOf(m) : -1, m, c.snapshot()));
    } else {
      lastReply = m;
    }
  }

  // ------------------------------------------------------------------ the workloads the bench drives

  /** Binds device 16 (nouveau) to mm 1 and maps {@code pages} anonymous RW pages at {@link #BASE}. */
  void setUp(int pages) {
    call(1, new HmmProtocol.BindMm(reqId(), DEV, MM, DriverFlavour.NOUVEAU));
    mmap(pages);
  }

  void mmap(int pages) {
    HmmProtocol.Msg r = call(0, new HmmProtocol.Syscall(reqId(), MM, HmmProtocol.SyscallKind.MMAP, BASE,
        (long) pages * Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, 0));
    if (!(r instanceof HmmProtocol.SyscallDone d) || d.errno() != hmmemu.protocol.model.Errno.OK) {
      throw new IllegalStateException("mmap failed: " + r);
    }
  }

  /** One CPU write of one word (do_anonymous_page on a fresh page, restore of a DEVEXCL entry, or a plain store). */
  void cpuWrite(long va, long value) {
    HmmProtocol.Msg r = call(0, new HmmProtocol.CpuAccess(reqId(), 1, MM, va, Access.WRITE, value));
    if (!(r instanceof HmmProtocol.CpuAccessDone)) throw new IllegalStateException("CPU write: " + r);
  }

  /** One GPU atomic increment by one warp (nouveau_atomic_range_fault when the device has no atomic entry). */
  void gpuAtomic(long va) {
    HmmProtocol.Msg r = call(1, new HmmProtocol.DeviceAccess(reqId(), DEV, MM, va, Access.ATOMIC, 1));
    if (!(r instanceof HmmProtocol.DeviceAccessDone)) throw new IllegalStateException("GPU atomic: " + r);
  }

  static long va(long page) { return BASE + page * Page.SIZE; }

  /** Interval subscription of a driver inserted directly at the CPU core (no GPU core): for the CPU-only loop. */
  static HmmProtocol.NotifierInsert intervalInsert(long subId) {
    return new HmmProtocol.NotifierInsert(subId, DEV, MM, NotifierKind.INTERVAL, 0, Page.TASK_SIZE);
  }
}
