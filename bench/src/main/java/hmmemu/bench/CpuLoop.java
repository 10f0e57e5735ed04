package hmmemu.bench;

import hmmemu.cpu.core.CpuMm;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.ArrayDeque;

/**
 * The pure CPU core ({@link CpuMm}) alone on one thread, playing the driver's part by hand as cpu-core's test
 * Harness does: every InvalidateStart is acked at once. One {@link #cycle()} is a make_device_exclusive
 * conversion of one page (mm/rmap.c), the driver's folio_unlock()+folio_put(), and a CPU write that restores the
 * PTE (remove_device_exclusive_entry, mm/memory.c). {@link #steps} counts {@code CpuMm.step} calls.
 */
final class CpuLoop {
  static final int MM = 1;
  static final int DEV = 16;
  static final long SUB = ((long) DEV << 32) | 1;
  static final long OWNER = hmmemu.protocol.msg.Ids.nouveauOwner(DEV);

  final CpuMm cpu = new CpuMm(ModelSwitches.kernel());
  private final ArrayDeque<HmmProtocol.InvalidateStart> callbacks = new ArrayDeque<>();
  private long now;
  private long nextReq = 1;
  private HmmProtocol.Msg reply;
  long steps;
  private final long va;

  /** A core with one mm, {@code pages} RW anonymous pages at MMAP_BASE and one interval subscription of device 16. */
  CpuLoop(int pages) {
    step(-1, new HmmProtocol.Syscall(nextReq++, MM, HmmProtocol.SyscallKind.MMAP, CpuMm.MMAP_BASE,
        (long) pages * Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, 0));
    step(DEV, CoupledCores.intervalInsert(SUB));
    va = CpuMm.MMAP_BASE;
    write(va, 1);
  }

  private void step(int from, HmmProtocol.Msg m) {
    Ready r = cpu.step(from, m, now++);
    steps++;
    for (Outbound o : r.out) {
      if (o.msg() instanceof HmmProtocol.InvalidateStart s) callbacks.add(s);
      else reply = o.msg();
    }
    HmmProtocol.InvalidateStart s;
    while ((s = callbacks.poll()) != null) step(DEV, new HmmProtocol.InvalidateAck(s.invId(), s.subId(), true));
  }

  /** One CPU write of one word at va (the first on a page populates it: do_anonymous_page). */
  void write(long va, long value) {
    step(-1, new HmmProtocol.CpuAccess(nextReq++, 1, MM, va, Access.WRITE, value));
  }

  /** make_device_exclusive + unlock/put + a CPU write that restores the entry; returns the steps it took. */
  long cycle() {
    long before = steps;
    long id = hmmemu.protocol.msg.Ids.reqId(DEV, nextReq++);
    step(DEV, new HmmProtocol.MakeDeviceExclusive(id, DEV, MM, va, OWNER));
    if (!(reply instanceof HmmProtocol.MakeDeviceExclusiveReply r) || r.errno() != Errno.OK) {
      throw new IllegalStateException("make_device_exclusive: " + reply);
    }
    step(DEV, new HmmProtocol.FolioUnlockPut(id, DEV, r.pfn()));
    write(va, now);
    return steps - before;
  }
}
