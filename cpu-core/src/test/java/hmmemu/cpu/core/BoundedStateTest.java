package hmmemu.cpu.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.ArrayDeque;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the core retains does not grow with the number of operations it carried out (issue 11): a long run of
 * make_device_exclusive + folio_unlock/put + CPU restore on one page keeps every internal collection at the size
 * it had after the first cycles. Drives the core directly (the {@link Harness} keeps every message it saw).
 */
class BoundedStateTest {
  private static final int MM = Harness.MM;
  private static final int D0 = Harness.D0;
  private static final int D1 = Harness.D1;
  private static final long B = Harness.B;

  private final CpuMm cpu = new CpuMm(ModelSwitches.kernel());
  private final ArrayDeque<HmmProtocol.InvalidateStart> callbacks = new ArrayDeque<>();
  private long now;
  private long localReq = 1;
  private long deviceReq = 1;
  private long lastPfn;
  private int replies;

  /** One step; every callback it sends is acked at once, as the drivers do. */
  private void step(int from, HmmProtocol.Msg m) {
    Ready r = cpu.step(from, m, now++);
    for (Outbound o : r.out) {
      if (o.msg() instanceof HmmProtocol.InvalidateStart s) callbacks.add(s);
      if (o.msg() instanceof HmmProtocol.MakeDeviceExclusiveReply x) {
        lastPfn = x.pfn();
        replies++;
      }
    }
    HmmProtocol.InvalidateStart s;
    while ((s = callbacks.poll()) != null) {
      step((int) (s.subId() >>> 32), new HmmProtocol.InvalidateAck(s.invId(), s.subId(), true));
    }
  }

  /** Conversion to DEVEXCL, the driver's unlock + put, then a CPU atomic that restores the PTE. */
  private void cycle() {
    long id = ((long) D0 << 40) | deviceReq++;
    step(D0, new HmmProtocol.MakeDeviceExclusive(id, D0, MM, B, Harness.OWNER0));
    step(D0, new HmmProtocol.FolioUnlockPut(id, D0, lastPfn));
    step(-1, new HmmProtocol.CpuAccess(localReq++, 1, MM, B, Access.ATOMIC, 1));
  }

  private void setUp() {
    step(D0, new HmmProtocol.NotifierInsert(Harness.S0, D0, MM, NotifierKind.INTERVAL, 0, Page.TASK_SIZE));
    step(-1, new HmmProtocol.Syscall(localReq++, MM, HmmProtocol.SyscallKind.MMAP, B, Page.SIZE, Prot.RW,
        VmaKind.ANON_PRIVATE, 0));
    step(-1, new HmmProtocol.CpuAccess(localReq++, 1, MM, B, Access.WRITE, 0));
  }

  @Test
  void conversionRestoreLoopRetainsNothingPerCycle() {
    setUp();
    for (int i = 0; i < 1_000; i++) cycle();
    Map<String, Integer> early = cpu.collectionSizes();
    for (int i = 1_000; i < 200_000; i++) cycle();
    assertEquals(early, cpu.collectionSizes(), "internal collections after 1,000 vs 200,000 cycles");
    assertEquals(200_000, replies, "every make_device_exclusive returned");
    assertEquals(200_000, cpu.word(lastPfn, 0), "every CPU atomic was carried out once");
    assertEquals(0, cpu.outstandingGrants());
    assertEquals(0, cpu.duplicateRequests());
  }

  @Test
  void duplicateDeliveredRightAfterItsOriginalIsDroppedWhileOtherRequestersInterleave() {
    setUp();
    step(D1, new HmmProtocol.NotifierInsert(Harness.S1, D1, MM, NotifierKind.INTERVAL, 0, Page.TASK_SIZE));
    HmmProtocol.DeviceMemoryAccess a = new HmmProtocol.DeviceMemoryAccess(((long) D0 << 40) | 1, D0, 0, 0, Access.ATOMIC, 1);
    step(D0, a);
    step(-1, new HmmProtocol.CpuAccess(localReq++, 2, MM, B, Access.READ, 0)); // another requester in between
    step(D1, new HmmProtocol.DeviceMemoryAccess(((long) D1 << 40) | 1, D1, 0, 0, Access.ATOMIC, 1));
    step(D0, a); // the link's second copy: nothing else from D0 came between the two
    assertEquals(1, cpu.duplicateRequests());
    assertEquals(2, cpu.unknownPfnAccesses(), "both distinct device accesses to (unallocated) pfn 0 were carried out");
  }
}
