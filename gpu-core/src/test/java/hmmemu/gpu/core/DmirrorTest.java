package hmmemu.gpu.core;

import static hmmemu.gpu.core.CpuScript.DEV;
import static hmmemu.gpu.core.CpuScript.MM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.DmirrorOp;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The dmirror driver of lib/test_hmm.c (docs/PROTOCOL.md §4.6), with the CPU node played by hand. */
class DmirrorTest {
  static final long B = 0x40_0000L;
  static final long PFN = 0x1000L;

  private CpuScript script;
  private long sub;

  private void boot(ModelSwitches switches) {
    script = new CpuScript(switches);
    HmmProtocol.NotifierInsert insert = script.bind(DriverFlavour.DMIRROR);
    assertEquals(NotifierKind.INTERVAL, insert.kind());
    assertEquals(Page.TASK_SIZE, insert.end());
    sub = insert.subId();
  }

  private static long page(int i) { return B + ((long) i << Page.SHIFT); }

  /** Answers every unread DeviceMemoryAccess READ with {@code base + page index}; WRITEs with 0. */
  private void answerHostAccesses(long base) {
    while (script.unreadCount(HmmProtocol.DeviceMemoryAccess.class) > 0) {
      HmmProtocol.DeviceMemoryAccess a = script.take(HmmProtocol.DeviceMemoryAccess.class);
      script.step(new HmmProtocol.DeviceMemoryAccessReply(a.reqId(), base + (a.pfn() - PFN)));
    }
  }

  /** The CPU node's make_device_exclusive for dmirror: EXCLUSIVE with owner NULL on its notifier, end, reply. */
  private void convert(HmmProtocol.MakeDeviceExclusive mde) {
    long seq = script.nextOddSeq();
    long inv = script.invalidate(sub, mde.va(), mde.va() + Page.SIZE, NotifyEvent.EXCLUSIVE, 0, true, seq);
    HmmProtocol.InvalidateAck ack = script.ackOf(inv);
    assertTrue(ack.ok());
    script.step(new HmmProtocol.InvalidateEnd(sub, seq + 1));
    script.step(new HmmProtocol.MakeDeviceExclusiveReply(mde.reqId(), Errno.OK, PFN + ((mde.va() - B) >> 12)));
  }

  /**
   * C01 (hmm-tests exclusive) + §4.6: EXCLUSIVE converts each page with owner NULL, stores ATOMIC entries without
   * a seq check, unlocks+puts each folio once, reads the data back; CHECK_EXCLUSIVE then reports -EPERM.
   */
  @Test
  void exclusiveStoresAtomicEntriesAndCheckExclusiveSeesThem() {
    boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DmirrorCmd(50, DEV, MM, DmirrorOp.EXCLUSIVE, B, 3, List.of()));
    for (int i = 0; i < 3; i++) {
      HmmProtocol.MakeDeviceExclusive mde = script.take(HmmProtocol.MakeDeviceExclusive.class);
      assertEquals(page(i), mde.va());
      assertEquals(0L, mde.owner(), "dmirror passes owner NULL");
      convert(mde);
      assertEquals(mde.reqId(), script.take(HmmProtocol.FolioUnlockPut.class).reqId());
    }
    assertTrue(script.events(Trace.ReadRetryChecked.class).isEmpty(), "no read_begin/read_retry upstream");
    for (Trace.DeviceEntryInstalled e : script.events(Trace.DeviceEntryInstalled.class)) assertEquals(-1, e.seq());
    answerHostAccesses(100);
    HmmProtocol.DmirrorReply reply = script.take(HmmProtocol.DmirrorReply.class);
    assertEquals(new HmmProtocol.DmirrorReply(50, Errno.OK, 0, 3, List.of(100L, 101L, 102L)), reply);
    assertEquals(3, script.node.entries(DEV).size());
    for (HmmProtocol.DeviceEntry e : script.node.entries(DEV)) {
      assertTrue(e.read() && e.atomic() && !e.write(), "ATOMIC tag: read + atomic, no write path: " + e);
    }
    script.step(new HmmProtocol.DmirrorCmd(51, DEV, MM, DmirrorOp.CHECK_EXCLUSIVE, B, 3, List.of()));
    assertEquals(Errno.EPERM, script.take(HmmProtocol.DmirrorReply.class).errno());
  }

  /**
   * dmirror_interval_invalidate erases indices start>>12 .. end>>12 INCLUSIVE: a CPU restore of page 1 also drops
   * page 2's entry (harmless over-invalidation); page 0 keeps its ATOMIC entry.
   */
  @Test
  void invalidateErasesOnePageBeyondTheRange() {
    boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DmirrorCmd(50, DEV, MM, DmirrorOp.EXCLUSIVE, B, 3, List.of()));
    for (int i = 0; i < 3; i++) {
      convert(script.take(HmmProtocol.MakeDeviceExclusive.class));
    }
    answerHostAccesses(0);
    script.take(HmmProtocol.DmirrorReply.class);
    long inv = script.invalidate(sub, page(1), page(2), NotifyEvent.CLEAR, 0, true, script.nextOddSeq());
    assertTrue(script.ackOf(inv).ok());
    List<HmmProtocol.DeviceEntry> left = script.node.entries(DEV);
    assertEquals(1, left.size());
    assertEquals(page(0), left.get(0).va());
    script.step(new HmmProtocol.DmirrorCmd(52, DEV, MM, DmirrorOp.CHECK_EXCLUSIVE, page(1), 2, List.of()));
    assertEquals(Errno.OK, script.take(HmmProtocol.DmirrorReply.class).errno());
    script.step(new HmmProtocol.DmirrorCmd(53, DEV, MM, DmirrorOp.CHECK_EXCLUSIVE, B, 3, List.of()));
    assertEquals(Errno.EPERM, script.take(HmmProtocol.DmirrorReply.class).errno());
  }

  /**
   * dmirror_read/dmirror_fault: a missing entry faults the rest of the range with REQ_FAULT under the seq
   * protocol (-EBUSY retried), the entry tag follows HMM_PFN_WRITE, then the copy resumes; faults counts rounds.
   */
  @Test
  void readFaultsMissingPagesThenCopies() {
    boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DmirrorCmd(60, DEV, MM, DmirrorOp.READ, B, 2, List.of()));
    HmmProtocol.HmmRangeFault fault = script.take(HmmProtocol.HmmRangeFault.class);
    assertEquals(sub, fault.subId());
    assertEquals(List.of(HmmPfn.REQ_FAULT, HmmPfn.REQ_FAULT), fault.reqFlags());
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.EBUSY, List.of()));
    fault = script.take(HmmProtocol.HmmRangeFault.class);
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.OK,
        List.of(HmmPfn.VALID | HmmPfn.WRITE | PFN, HmmPfn.VALID | (PFN + 1))));
    assertEquals(List.of(new HmmProtocol.DeviceEntry(MM, page(0), PFN, true, true, false),
        new HmmProtocol.DeviceEntry(MM, page(1), PFN + 1, true, false, false)), script.node.entries(DEV));
    answerHostAccesses(7);
    assertEquals(new HmmProtocol.DmirrorReply(60, Errno.OK, 1, 2, List.of(7L, 8L)),
        script.take(HmmProtocol.DmirrorReply.class));

    // WRITE: page 0 has the WRITE tag, page 1 does not: copy page 0, fault page 1 for write, copy it.
    script.step(new HmmProtocol.DmirrorCmd(61, DEV, MM, DmirrorOp.WRITE, B, 2, List.of(70L, 80L)));
    HmmProtocol.DeviceMemoryAccess w0 = script.take(HmmProtocol.DeviceMemoryAccess.class);
    assertEquals(Access.WRITE, w0.access());
    assertEquals(70L, w0.value());
    script.assertNone(HmmProtocol.HmmRangeFault.class);
    script.step(new HmmProtocol.DeviceMemoryAccessReply(w0.reqId(), 7));
    fault = script.take(HmmProtocol.HmmRangeFault.class);
    assertEquals(page(1), fault.start());
    assertEquals(List.of(HmmPfn.REQ_FAULT | HmmPfn.REQ_WRITE), fault.reqFlags());
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.OK,
        List.of(HmmPfn.VALID | HmmPfn.WRITE | (PFN + 1))));
    HmmProtocol.DeviceMemoryAccess w1 = script.take(HmmProtocol.DeviceMemoryAccess.class);
    assertEquals(80L, w1.value());
    script.step(new HmmProtocol.DeviceMemoryAccessReply(w1.reqId(), 8));
    assertEquals(new HmmProtocol.DmirrorReply(61, Errno.OK, 1, 2, List.of()),
        script.take(HmmProtocol.DmirrorReply.class));
  }

  /** C02 (hmm-tests exclusive_mprotect): the write fault gets -EPERM, returned before counters are copied back. */
  @Test
  void writeFaultErrorIsReturned() {
    boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DmirrorCmd(62, DEV, MM, DmirrorOp.WRITE, B, 1, List.of(1L)));
    HmmProtocol.HmmRangeFault fault = script.take(HmmProtocol.HmmRangeFault.class);
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.EPERM, List.of()));
    assertEquals(new HmmProtocol.DmirrorReply(62, Errno.EPERM, 0, 0, List.of()),
        script.take(HmmProtocol.DmirrorReply.class));
    assertTrue(script.node.entries(DEV).isEmpty());
  }

  /** §2 read side for dmirror: an invalidation between hmm_range_fault and the locked check forces a retry. */
  @Test
  void faultRetriesWhenTheSeqMoved() {
    boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DmirrorCmd(63, DEV, MM, DmirrorOp.READ, B, 1, List.of()));
    HmmProtocol.HmmRangeFault fault = script.take(HmmProtocol.HmmRangeFault.class);
    long seq = script.nextOddSeq();
    script.ackOf(script.invalidate(sub, B, B + Page.SIZE, NotifyEvent.CLEAR, 0, true, seq));
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.OK, List.of(HmmPfn.VALID | PFN)));
    assertTrue(script.events(Trace.ReadRetryChecked.class).get(0).retry());
    assertTrue(script.node.entries(DEV).isEmpty());
    script.assertNone(HmmProtocol.HmmRangeFault.class); // read_begin waits for the end
    script.step(new HmmProtocol.InvalidateEnd(sub, seq + 1));
    fault = script.take(HmmProtocol.HmmRangeFault.class);
    assertEquals(seq, fault.seq());
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.OK, List.of(HmmPfn.VALID | PFN)));
    assertEquals(1, script.node.entries(DEV).size());
    answerHostAccesses(0);
    assertEquals(Errno.OK, script.take(HmmProtocol.DmirrorReply.class).errno());
  }

  /**
   * C20 + dmirror's copy under its mutex: a non-blockable callback fails its trylock while a READ copies; a
   * blockable one waits for the copy to finish, then erases and acks.
   */
  @Test
  void callbacksWaitForTheCopyHoldingTheMutex() {
    boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DmirrorCmd(64, DEV, MM, DmirrorOp.READ, B, 1, List.of()));
    HmmProtocol.HmmRangeFault fault = script.take(HmmProtocol.HmmRangeFault.class);
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.OK, List.of(HmmPfn.VALID | PFN)));
    HmmProtocol.DeviceMemoryAccess copy = script.take(HmmProtocol.DeviceMemoryAccess.class);
    long reaper = script.invalidate(sub, 0, Page.TASK_SIZE, NotifyEvent.UNMAP, 0, false, script.nextOddSeq());
    assertFalse(script.ackOf(reaper).ok());
    long zap = script.invalidate(sub, B, B + Page.SIZE, NotifyEvent.CLEAR, 0, true, script.nextOddSeq());
    assertFalse(script.acked(zap));
    assertEquals(1, script.node.entries(DEV).size());
    assertTrue(script.node.deadlockSuspects().get(0).contains("dmirror READ"));
    script.step(new HmmProtocol.DeviceMemoryAccessReply(copy.reqId(), 5));
    assertTrue(script.ackOf(zap).ok());
    assertTrue(script.node.entries(DEV).isEmpty());
    assertEquals(new HmmProtocol.DmirrorReply(64, Errno.OK, 1, 1, List.of(5L)),
        script.take(HmmProtocol.DmirrorReply.class));
  }

  /** dmirror_snapshot(): a temporary interval notifier per chunk and hmm_range_fault without fault flags. */
  @Test
  void snapshotUsesATemporaryNotifierAndNoFaultFlags() {
    boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DmirrorCmd(65, DEV, MM, DmirrorOp.SNAPSHOT, B, 2, List.of()));
    HmmProtocol.NotifierInsert window = script.insertWindow();
    assertEquals(B, window.start());
    assertEquals(page(2), window.end());
    HmmProtocol.HmmRangeFault snap = script.take(HmmProtocol.HmmRangeFault.class);
    assertEquals(window.subId(), snap.subId());
    assertEquals(List.of(0, 0), snap.reqFlags());
    script.step(new HmmProtocol.HmmRangeFaultReply(snap.reqId(), Errno.OK, List.of(0L, HmmPfn.VALID | PFN)));
    assertEquals(window.subId(), script.take(HmmProtocol.NotifierRemove.class).subId());
    assertEquals(new HmmProtocol.DmirrorReply(65, Errno.OK, 0, 2, List.of(0L, HmmPfn.VALID | PFN)),
        script.take(HmmProtocol.DmirrorReply.class));
    assertTrue(script.node.entries(DEV).isEmpty());
  }

  /**
   * §4.6 note: dmirror's own conversion (owner NULL) bumps its own seq, so the EXCLUSIVE path with a seq check
   * (the dmirrorSeqCheck ablation) fails every iteration until the deadline; upstream skips the check.
   */
  @Test
  void seqCheckAblationLivelocksOnTheOwnConversion() {
    boot(ModelSwitches.kernel().withDmirrorSeqCheck(true).withDriverDeadlineMicros(500));
    script.step(new HmmProtocol.DmirrorCmd(66, DEV, MM, DmirrorOp.EXCLUSIVE, B, 1, List.of()));
    int conversions = 0;
    while (script.unreadCount(HmmProtocol.MakeDeviceExclusive.class) > 0) {
      script.now += 200;
      convert(script.take(HmmProtocol.MakeDeviceExclusive.class));
      conversions++;
    }
    assertEquals(3, conversions);
    assertEquals(3, script.count(HmmProtocol.FolioUnlockPut.class));
    assertEquals(Errno.EBUSY, script.replyAfterUnlockFence().errno());
    assertTrue(script.node.entries(DEV).isEmpty());
  }

  /** A DeviceAccess to an mm bound by dmirror (no svmm) is cancelled by nouveau_svm_fault. */
  @Test
  void warpFaultWithoutSvmmIsCancelled() {
    boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DeviceAccess(1, DEV, MM, B, Access.READ, 0));
    HmmProtocol.DeviceAccessDone done = script.take(HmmProtocol.DeviceAccessDone.class);
    assertEquals(Errno.CANCELLED, done.errno());
    assertEquals(1, done.faultRounds());
    assertEquals(1, script.node.counters(DEV).cancels());
  }
}
