package hmmemu.gpu.core;

import static hmmemu.gpu.core.CpuScript.DEV;
import static hmmemu.gpu.core.CpuScript.MM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;

/** nouveau_range_fault() (docs/PROTOCOL.md §4.3) and the batch/replay logic of nouveau_svm_fault() (§4.1). */
class NouveauRangeFaultTest {
  static final long Y = 0x30_0000L;
  static final long PFN = 0x2222L;

  private CpuScript boot(ModelSwitches switches) {
    CpuScript script = new CpuScript(switches);
    script.bind(DriverFlavour.NOUVEAU);
    return script;
  }

  /**
   * §4.3: a WRITE fault asks hmm_range_fault for REQ_FAULT|REQ_WRITE on the Gt window, retries on -EBUSY, maps
   * V|W from the returned word under the mutex after read_retry, removes Gt, and the replay writes the host.
   */
  @Test
  void writeFaultRetriesBusyAndMapsWritable() {
    CpuScript script = boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DeviceAccess(7, DEV, MM, Y + 16, Access.WRITE, 99));
    HmmProtocol.NotifierInsert gt = script.insertWindow();
    HmmProtocol.HmmRangeFault fault = script.take(HmmProtocol.HmmRangeFault.class);
    assertEquals(gt.subId(), fault.subId());
    assertEquals(Y, fault.start());
    assertEquals(List.of(HmmPfn.REQ_FAULT | HmmPfn.REQ_WRITE), fault.reqFlags());
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.EBUSY, List.of()));
    fault = script.take(HmmProtocol.HmmRangeFault.class);
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.OK,
        List.of(HmmPfn.VALID | HmmPfn.WRITE | PFN)));
    assertEquals(List.of(new HmmProtocol.DeviceEntry(MM, Y, PFN, true, true, false)), script.node.entries(DEV));
    assertEquals(gt.subId(), script.take(HmmProtocol.NotifierRemove.class).subId());
    assertEquals(2, script.events(Trace.DriverFaultHandled.class).get(0).iterations());
    HmmProtocol.DeviceMemoryAccess write = script.take(HmmProtocol.DeviceMemoryAccess.class);
    assertEquals(new HmmProtocol.DeviceMemoryAccess(write.reqId(), DEV, PFN, 2, Access.WRITE, 99), write);
    script.step(new HmmProtocol.DeviceMemoryAccessReply(write.reqId(), 0));
    assertEquals(Errno.OK, script.take(HmmProtocol.DeviceAccessDone.class).errno());
    script.assertNone(HmmProtocol.MakeDeviceExclusive.class);
  }

  /** §4.1 step 5: an hmm_range_fault error (e.g. -EFAULT, no VMA) cancels the fault: "GPU SIGSEGV". */
  @Test
  void rangeFaultErrorCancels() {
    CpuScript script = boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DeviceAccess(7, DEV, MM, Y, Access.READ, 0));
    script.insertWindow();
    HmmProtocol.HmmRangeFault fault = script.take(HmmProtocol.HmmRangeFault.class);
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.EFAULT, List.of()));
    HmmProtocol.DeviceAccessDone done = script.take(HmmProtocol.DeviceAccessDone.class);
    assertEquals(Errno.CANCELLED, done.errno());
    assertEquals(Errno.EFAULT, script.events(Trace.DriverFaultHandled.class).get(0).errno());
    assertEquals(0, script.node.counters(DEV).replays());
    assertEquals(1, script.node.counters(DEV).cancels());
    assertTrue(script.node.faultWorkerIdle(DEV));
  }

  /**
   * §4.1 steps 2 and 4: faults on one page sort least severe first (nouveau_svm_fault_cmp() with
   * nouveau_svm_fault_priority(), docs/PROTOCOL.md §10); the READ is handled with REQ_FAULT only; the V bit satisfies
   * it, so the WRITE of the same page is skipped. The CPU PTE was writable, so hmm_range_fault reported WRITE and
   * the entry got W: both re-execute through it after the single REPLAY. (Before the correction the WRITE was
   * handled first.)
   */
  @Test
  void samePageFaultsAreHandledOnceAndBothReplay() {
    CpuScript script = boot(ModelSwitches.kernel());
    long z = 0x70_0000L;
    script.step(new HmmProtocol.DeviceAccess(1, DEV, MM, z, Access.READ, 0)); // occupies the worker
    script.insertWindow();
    script.step(new HmmProtocol.DeviceAccess(2, DEV, MM, Y, Access.READ, 0));
    script.step(new HmmProtocol.DeviceAccess(3, DEV, MM, Y + 8, Access.WRITE, 5));
    HmmProtocol.HmmRangeFault first = script.take(HmmProtocol.HmmRangeFault.class);
    script.step(new HmmProtocol.HmmRangeFaultReply(first.reqId(), Errno.OK, List.of(HmmPfn.VALID | 0x9000L)));
    script.take(HmmProtocol.DeviceMemoryAccess.class);

    script.insertWindow();
    HmmProtocol.HmmRangeFault fault = script.take(HmmProtocol.HmmRangeFault.class);
    assertEquals(List.of(HmmPfn.REQ_FAULT), fault.reqFlags(), "the READ is handled first");
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.OK,
        List.of(HmmPfn.VALID | HmmPfn.WRITE | PFN)));
    script.assertNone(HmmProtocol.HmmRangeFault.class);
    assertEquals(2, script.unreadCount(HmmProtocol.DeviceMemoryAccess.class), "both replayed");
    assertEquals(2, script.node.counters(DEV).faultsHandled());
    assertEquals(2, script.node.counters(DEV).replays());
  }

  /**
   * §3.8/§4.3: a word with map order 9 (a PMD-mapped THP) makes nouveau_hmm_convert_pfn() map the whole aligned
   * 2 MiB (512 entries, consecutive pfns); nouveau_svm_fault()'s limit = args.i.p.addr + args.i.p.size then skips
   * the batch's other fault inside it, and both replay. A fault past the 2 MiB is handled on its own.
   */
  @Test
  void aPmdMappedPageIsMappedAsOneLargePageAndSatisfiesTheBatchInsideIt() {
    CpuScript script = boot(ModelSwitches.kernel());
    long base = 0x4000_0000L; // 2 MiB aligned
    long z = 0x70_0000L;
    script.step(new HmmProtocol.DeviceAccess(1, DEV, MM, z, Access.READ, 0)); // occupies the worker
    script.insertWindow();
    script.step(new HmmProtocol.DeviceAccess(2, DEV, MM, base + 5 * Page.SIZE, Access.READ, 0));
    script.step(new HmmProtocol.DeviceAccess(3, DEV, MM, base + 300 * Page.SIZE, Access.READ, 0));
    script.step(new HmmProtocol.DeviceAccess(4, DEV, MM, base + 512 * Page.SIZE, Access.READ, 0));
    HmmProtocol.HmmRangeFault first = script.take(HmmProtocol.HmmRangeFault.class);
    script.step(new HmmProtocol.HmmRangeFaultReply(first.reqId(), Errno.OK, List.of(HmmPfn.VALID | 0x9000L)));
    script.take(HmmProtocol.DeviceMemoryAccess.class);

    script.insertWindow();
    HmmProtocol.HmmRangeFault fault = script.take(HmmProtocol.HmmRangeFault.class);
    assertEquals(base + 5 * Page.SIZE, fault.start());
    long head = 0x10_0000L;
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.OK,
        List.of(HmmPfn.VALID | HmmPfn.WRITE | HmmPfn.orderFlags(9) | (head + 5))));
    List<HmmProtocol.DeviceEntry> entries = script.node.entries(DEV).stream().filter(e -> e.va() >= base).toList();
    assertEquals(512, entries.size(), "the whole 2 MiB is mapped");
    assertEquals(new HmmProtocol.DeviceEntry(MM, base, head, true, true, false), entries.get(0));
    assertEquals(new HmmProtocol.DeviceEntry(MM, base + 511 * Page.SIZE, head + 511, true, true, false),
        entries.get(511));
    // page 300's fault is inside the limit and skipped; the fault past it is the next one handled
    script.insertWindow();
    HmmProtocol.HmmRangeFault next = script.take(HmmProtocol.HmmRangeFault.class);
    assertEquals(base + 512 * Page.SIZE, next.start(), "page 300 was satisfied by the large page");
    script.step(new HmmProtocol.HmmRangeFaultReply(next.reqId(), Errno.OK, List.of(HmmPfn.VALID | 0x7777L)));
    assertEquals(3, script.node.counters(DEV).faultsHandled());
  }

  /**
   * §4.3 with a CPU restore between hmm_range_fault and the locked check: read_retry fails, nothing is mapped, the
   * loop restarts after the invalidation ended.
   */
  @Test
  void rangeFaultRetriesWhenGtWasInvalidated() {
    CpuScript script = boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DeviceAccess(7, DEV, MM, Y, Access.READ, 0));
    HmmProtocol.NotifierInsert gt = script.insertWindow();
    HmmProtocol.HmmRangeFault fault = script.take(HmmProtocol.HmmRangeFault.class);
    long seq = script.nextOddSeq();
    script.ackOf(script.invalidate(gt.subId(), Y, Y + Page.SIZE, NotifyEvent.CLEAR, 0, true, seq));
    script.step(new HmmProtocol.HmmRangeFaultReply(fault.reqId(), Errno.OK, List.of(HmmPfn.VALID | PFN)));
    assertTrue(script.events(Trace.ReadRetryChecked.class).get(0).retry());
    assertTrue(script.node.entries(DEV).isEmpty());
    script.assertNone(HmmProtocol.HmmRangeFault.class);
    script.step(new HmmProtocol.InvalidateEnd(gt.subId(), seq + 1));
    fault = script.take(HmmProtocol.HmmRangeFault.class);
    assertEquals(seq, fault.seq());
  }

  /** Misuse fails fast naming the rule: a second access with the same warp reqId, an unknown device. */
  @Test
  void programmerErrorsThrow() {
    CpuScript script = boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DeviceAccess(7, DEV, MM, Y, Access.READ, 0));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> script.step(new HmmProtocol.DeviceAccess(7, DEV, MM, Y, Access.READ, 0)));
    assertTrue(e.getMessage().contains("one outstanding access per warp"), e.getMessage());
    assertThrows(IllegalStateException.class,
        () -> script.step(new HmmProtocol.DeviceAccess(8, DEV + 1, MM, Y, Access.READ, 0)));
    assertThrows(IllegalStateException.class,
        () -> script.step(new HmmProtocol.BindMm(2, DEV, MM, DriverFlavour.DMIRROR)));
  }
}
