package hmmemu.gpu.core;

import static hmmemu.gpu.core.CpuScript.DEV;
import static hmmemu.gpu.core.CpuScript.MM;
import static hmmemu.gpu.core.CpuScript.OWNER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;

/** nouveau_atomic_range_fault() (docs/PROTOCOL.md §4.2) and the callbacks of Gt and Gc (§4.4), driven by hand. */
class NouveauAtomicFaultTest {
  static final long X = 0x10_0000L;
  static final long PFN = 0x1234L;

  private CpuScript script;
  private long gc;

  private void boot(ModelSwitches switches) {
    script = new CpuScript(switches);
    HmmProtocol.NotifierInsert insert = script.bind(DriverFlavour.NOUVEAU);
    assertEquals(NotifierKind.CLASSIC, insert.kind());
    assertEquals(0L, insert.start());
    assertEquals(Page.TASK_SIZE, insert.end());
    gc = insert.subId();
  }

  /** The CPU node's make_device_exclusive of a PRESENT page: EXCLUSIVE(owner) to Gt then Gc, end, reply. */
  private void convert(HmmProtocol.MakeDeviceExclusive mde, long gt, long pfn) {
    long seq = script.nextOddSeq();
    long onGt = script.invalidate(gt, mde.va(), mde.va() + Page.SIZE, NotifyEvent.EXCLUSIVE, mde.owner(), true, seq);
    assertTrue(script.ackOf(onGt).ok());
    long onGc = script.invalidate(gc, mde.va(), mde.va() + Page.SIZE, NotifyEvent.EXCLUSIVE, mde.owner(), true, seq);
    assertTrue(script.ackOf(onGc).ok());
    script.step(new HmmProtocol.InvalidateEnd(gt, seq + 1));
    script.step(new HmmProtocol.MakeDeviceExclusiveReply(mde.reqId(), Errno.OK, pfn));
  }

  /**
   * C11 case B (mm/mmu_notifier.c mmu_interval_notifier_remove): callbacks that reach Gt and Gc while the fault
   * waits in its remove still run (Gt sets its seq, Gc zaps the fresh mapping); the batch is replayed only once
   * the remove returned, so the replayed atomic faults again instead of using the revoked mapping.
   */
  @Test
  void callbacksDuringTheRemoveRunAndTheReplayFaultsAgain() {
    boot(ModelSwitches.kernel());
    script.autoRemove = false;
    script.step(new HmmProtocol.DeviceAccess(100, DEV, MM, X, Access.ATOMIC, 1));
    HmmProtocol.NotifierInsert gt = script.insertWindow();
    convert(script.take(HmmProtocol.MakeDeviceExclusive.class), gt.subId(), PFN);
    assertEquals(gt.subId(), script.take(HmmProtocol.FolioUnlockPut.class).thenRemoveSubId());
    long seq = script.nextOddSeq();
    long onGt = script.invalidate(gt.subId(), X, X + Page.SIZE, NotifyEvent.CLEAR, 0, true, seq);
    assertTrue(script.ackOf(onGt).ok());
    assertFalse(script.events(Trace.InvalidateAcked.class).stream().filter(a -> a.invId() == onGt).findFirst()
        .orElseThrow().ignored(), "Gt still runs its callback while the remove waits");
    long onGc = script.invalidate(gc, X, X + Page.SIZE, NotifyEvent.CLEAR, 0, true, seq);
    assertTrue(script.ackOf(onGc).ok());
    assertTrue(script.node.entries(DEV).isEmpty(), "Gc zapped the mapping");
    script.assertNone(HmmProtocol.DeviceMemoryAccess.class);
    assertEquals(1, script.events(Trace.DeviceFaulted.class).size());
    script.removed(gt.subId());
    assertEquals(Errno.OK, script.events(Trace.DriverFaultHandled.class).get(0).errno());
    script.assertNone(HmmProtocol.DeviceMemoryAccess.class);
    assertEquals(2, script.events(Trace.DeviceFaulted.class).size(), "the replayed atomic faults again");
  }

  /**
   * C05: an uncontended GPU atomic fault takes one iteration: Gt ignores the own EXCLUSIVE, Gc zaps, the GPU PTE
   * becomes V|W|A, the folio is unlocked and put exactly once, and the replay executes the atomic on the host.
   */
  @Test
  void uncontendedAtomicFaultMapsInOneIteration() {
    boot(ModelSwitches.kernel());
    script.autoRemove = false;
    script.now = 10;
    script.step(new HmmProtocol.DeviceAccess(100, DEV, MM, X + 8, Access.ATOMIC, 5));
    assertEquals(1, script.events(Trace.DeviceFaulted.class).size());
    HmmProtocol.NotifierInsert gt = script.insertWindow();
    assertEquals(NotifierKind.INTERVAL, gt.kind());
    assertEquals(X, gt.start());
    assertEquals(X + Page.SIZE, gt.end());
    HmmProtocol.MakeDeviceExclusive mde = script.take(HmmProtocol.MakeDeviceExclusive.class);
    assertEquals(OWNER, mde.owner());
    assertEquals(X, mde.va());
    convert(mde, gt.subId(), PFN);

    List<Trace.InvalidateAcked> acks = script.events(Trace.InvalidateAcked.class);
    assertTrue(acks.get(0).ignored(), "Gt ignores its own conversion");
    assertFalse(acks.get(1).ignored(), "Gc does not filter EXCLUSIVE");
    List<Trace.ReadRetryChecked> checks = script.events(Trace.ReadRetryChecked.class);
    assertEquals(1, checks.size());
    assertFalse(checks.get(0).retry());
    assertEquals(List.of(new HmmProtocol.DeviceEntry(MM, X, PFN, true, true, true)), script.node.entries(DEV));
    HmmProtocol.FolioUnlockPut put = script.take(HmmProtocol.FolioUnlockPut.class);
    assertEquals(mde.reqId(), put.reqId());
    // folio_unlock, folio_put, then mmu_interval_notifier_remove(Gt) with nothing in between: one message.
    assertEquals(gt.subId(), put.thenRemoveSubId());
    script.assertNone(HmmProtocol.NotifierRemove.class);
    // The fault is not handled (and the batch not replayed) until mmu_interval_notifier_remove returns.
    assertTrue(script.events(Trace.DriverFaultHandled.class).isEmpty());
    script.assertNone(HmmProtocol.DeviceMemoryAccess.class);
    script.removed(gt.subId());
    Trace.DriverFaultHandled handled = script.events(Trace.DriverFaultHandled.class).get(0);
    assertEquals(1, handled.iterations());
    assertEquals(Errno.OK, handled.errno());

    HmmProtocol.DeviceMemoryAccess access = script.take(HmmProtocol.DeviceMemoryAccess.class);
    assertEquals(PFN, access.pfn());
    assertEquals(1, access.wordIndex());
    assertEquals(Access.ATOMIC, access.access());
    assertEquals(5, access.value());
    script.now = 50;
    script.step(new HmmProtocol.DeviceMemoryAccessReply(access.reqId(), 41));
    HmmProtocol.DeviceAccessDone done = script.take(HmmProtocol.DeviceAccessDone.class);
    assertEquals(new HmmProtocol.DeviceAccessDone(100, DEV, Errno.OK, 41, 1, 40), done);
    assertEquals(1, script.count(HmmProtocol.FolioUnlockPut.class));
    DeviceCounters c = script.node.counters(DEV);
    assertEquals(1, c.faults());
    assertEquals(1, c.replays());
    assertEquals(1, c.faultsHandled());
    assertEquals(1, c.driverIterationsMax());
    assertEquals(0, c.cancels());
  }

  /** Drives the fault up to the first MakeDeviceExclusive; returns {gt subId, mde}. */
  private HmmProtocol.MakeDeviceExclusive faultAtomic(long reqId) {
    script.step(new HmmProtocol.DeviceAccess(reqId, DEV, MM, X, Access.ATOMIC, 1));
    script.insertWindow();
    return script.take(HmmProtocol.MakeDeviceExclusive.class);
  }

  /**
   * §4.2 step (e), V2025 fix: a failed read_retry unlocks the mutex and does folio_unlock+folio_put exactly once
   * per failed iteration before looping; the next iteration succeeds.
   */
  @Test
  void retryPathUnlocksAndPutsOncePerFailedIteration() {
    boot(ModelSwitches.kernel());
    HmmProtocol.MakeDeviceExclusive first = faultAtomic(100);
    long gt = subIdOfWindow();
    // C17 trigger: a soft-dirty reset hits Gt between conversion and the seq check.
    long seq = script.nextOddSeq();
    long inv = script.invalidate(gt, X, X + Page.SIZE, NotifyEvent.SOFT_DIRTY, 0, true, seq);
    assertTrue(script.ackOf(inv).ok());
    script.step(new HmmProtocol.InvalidateEnd(gt, seq + 1));
    script.step(new HmmProtocol.MakeDeviceExclusiveReply(first.reqId(), Errno.OK, PFN));
    assertTrue(script.events(Trace.ReadRetryChecked.class).get(0).retry());
    assertEquals(first.reqId(), script.take(HmmProtocol.FolioUnlockPut.class).reqId());
    assertTrue(script.node.entries(DEV).isEmpty(), "nothing is mapped on a failed check");

    HmmProtocol.MakeDeviceExclusive second = script.take(HmmProtocol.MakeDeviceExclusive.class);
    convert(second, gt, PFN);
    assertEquals(second.reqId(), script.take(HmmProtocol.FolioUnlockPut.class).reqId());
    script.assertNone(HmmProtocol.FolioUnlockPut.class);
    assertEquals(2, script.count(HmmProtocol.FolioUnlockPut.class));
    assertEquals(2, script.events(Trace.DriverFaultHandled.class).get(0).iterations());
    assertEquals(1, script.node.entries(DEV).size());
  }

  private long subIdOfWindow() {
    return script.sent.stream().map(o -> o.msg()).filter(m -> m instanceof HmmProtocol.NotifierInsert)
        .map(m -> (HmmProtocol.NotifierInsert) m).filter(i -> i.kind() == NotifierKind.INTERVAL)
        .reduce((a, b) -> b).orElseThrow().subId();
  }

  /** C17, the pre-Feb-2025 nouveau: the retry path keeps the folio locked (no FolioUnlockPut on retry). */
  @Test
  void leakFolioOnRetrySendsNoFolioUnlockPutOnRetry() {
    boot(ModelSwitches.kernel().withLeakFolioOnRetry(true));
    HmmProtocol.MakeDeviceExclusive first = faultAtomic(100);
    long gt = subIdOfWindow();
    long seq = script.nextOddSeq();
    script.ackOf(script.invalidate(gt, X, X + Page.SIZE, NotifyEvent.SOFT_DIRTY, 0, true, seq));
    script.step(new HmmProtocol.InvalidateEnd(gt, seq + 1));
    script.step(new HmmProtocol.MakeDeviceExclusiveReply(first.reqId(), Errno.OK, PFN));
    script.assertNone(HmmProtocol.FolioUnlockPut.class);
    HmmProtocol.MakeDeviceExclusive second = script.take(HmmProtocol.MakeDeviceExclusive.class);
    convert(second, gt, PFN);
    assertEquals(1, script.count(HmmProtocol.FolioUnlockPut.class));
    assertEquals(second.reqId(), script.take(HmmProtocol.FolioUnlockPut.class).reqId());
  }

  /**
   * C09 / §4.5: without the owner filter the own EXCLUSIVE bumps Gt's seq, every iteration fails read_retry, the
   * loop reaches its deadline, returns -EBUSY and the fault is cancelled; nothing stays mapped.
   */
  @Test
  void ownerFilterOffRetriesUntilDeadlineThenCancels() {
    boot(ModelSwitches.kernel().withOwnerFilter(false).withDriverDeadlineMicros(1000));
    script.now = 0;
    HmmProtocol.MakeDeviceExclusive mde = faultAtomic(100);
    long gt = subIdOfWindow();
    int conversions = 0;
    while (true) {
      script.now += 300;
      convert(mde, gt, PFN + conversions);
      conversions++;
      assertTrue(script.events(Trace.ReadRetryChecked.class).get(conversions - 1).retry());
      if (script.unreadCount(HmmProtocol.MakeDeviceExclusive.class) == 0) break;
      mde = script.take(HmmProtocol.MakeDeviceExclusive.class);
    }
    assertEquals(4, conversions, "300, 600, 900, 1200 > deadline 1000");
    assertEquals(conversions, script.count(HmmProtocol.FolioUnlockPut.class));
    HmmProtocol.DeviceAccessDone done = script.take(HmmProtocol.DeviceAccessDone.class);
    assertEquals(Errno.CANCELLED, done.errno());
    Trace.DriverFaultHandled handled = script.events(Trace.DriverFaultHandled.class).get(0);
    assertEquals(Errno.EBUSY, handled.errno());
    assertEquals(5, handled.iterations());
    assertTrue(script.node.entries(DEV).isEmpty());
    DeviceCounters c = script.node.counters(DEV);
    assertEquals(1, c.driverTimeouts());
    assertEquals(1, c.cancels());
    assertEquals(0, c.replays());
    assertFalse(script.events(Trace.InvalidateAcked.class).get(0).ignored(), "no filter: never ignored");
  }

  /**
   * R7: if make_device_exclusive's processing restores the page first (CLEAR, owner NULL, on Gt) the read_retry
   * fails and the loop retries; a further collision retries again.
   */
  @Test
  void clearRaisedByConversionOnGtFailsTheCheckAndRetries() {
    boot(ModelSwitches.kernel());
    HmmProtocol.MakeDeviceExclusive mde = faultAtomic(100);
    long gt = subIdOfWindow();
    for (int iteration = 1; iteration <= 2; iteration++) {
      long seq = script.nextOddSeq();
      // GUP meets DEVEXCL: restore raises CLEAR (owner NULL) on Gt and Gc, then the conversion's EXCLUSIVE.
      script.ackOf(script.invalidate(gt, X, X + Page.SIZE, NotifyEvent.CLEAR, 0, true, seq));
      script.ackOf(script.invalidate(gc, X, X + Page.SIZE, NotifyEvent.CLEAR, 0, true, seq));
      script.step(new HmmProtocol.InvalidateEnd(gt, seq + 1));
      convert(mde, gt, PFN);
      assertTrue(script.events(Trace.ReadRetryChecked.class).get(iteration - 1).retry());
      mde = script.take(HmmProtocol.MakeDeviceExclusive.class);
    }
    assertEquals(2, script.count(HmmProtocol.FolioUnlockPut.class));
    convert(mde, gt, PFN);
    assertEquals(3, script.events(Trace.DriverFaultHandled.class).get(0).iterations());
  }

  /** §2 reader side: read_begin sleeps while an invalidation that hit Gt is in flight, until InvalidateEnd. */
  @Test
  void readBeginWaitsWhileInvalidationInFlight() {
    boot(ModelSwitches.kernel());
    script.step(new HmmProtocol.DeviceAccess(100, DEV, MM, X, Access.ATOMIC, 1));
    HmmProtocol.NotifierInsert gt = script.take(HmmProtocol.NotifierInsert.class);
    long seq = script.nextOddSeq();
    // An invalidation hits Gt right after insertion (the CPU answered NotifierInserted while idle).
    script.step(new HmmProtocol.NotifierInserted(gt.subId(), 3));
    HmmProtocol.MakeDeviceExclusive first = script.take(HmmProtocol.MakeDeviceExclusive.class);
    script.ackOf(script.invalidate(gt.subId(), X, X + Page.SIZE, NotifyEvent.CLEAR, 0, true, seq));
    script.step(new HmmProtocol.MakeDeviceExclusiveReply(first.reqId(), Errno.OK, PFN));
    // The check failed; the retry's read_begin must wait: no second conversion yet.
    assertTrue(script.events(Trace.ReadRetryChecked.class).get(0).retry());
    script.assertNone(HmmProtocol.MakeDeviceExclusive.class);
    script.step(new HmmProtocol.InvalidateEnd(gt.subId(), seq + 1));
    HmmProtocol.MakeDeviceExclusive second = script.take(HmmProtocol.MakeDeviceExclusive.class);
    convert(second, gt.subId(), PFN);
    Trace.ReadRetryChecked check = script.events(Trace.ReadRetryChecked.class).get(1);
    assertEquals(seq, check.seq(), "read_begin returned the seq set by the finished invalidation");
    assertFalse(check.retry());
  }

  /**
   * §4.4 Gc + "TLB flush waits for outstanding transactions": the classic callback zaps at once but acks only
   * after the device's access already sent to the zapped page was answered.
   */
  @Test
  void classicAckDeferredUntilOutstandingAccessAnswered() {
    boot(ModelSwitches.kernel());
    HmmProtocol.MakeDeviceExclusive mde = faultAtomic(100);
    convert(mde, subIdOfWindow(), PFN);
    HmmProtocol.DeviceMemoryAccess access = script.take(HmmProtocol.DeviceMemoryAccess.class);
    long inv = script.invalidate(gc, X, X + Page.SIZE, NotifyEvent.CLEAR, 0, true, script.nextOddSeq());
    assertEquals(1, script.events(Trace.DeviceEntryZapped.class).size());
    assertTrue(script.node.entries(DEV).isEmpty());
    assertFalse(script.acked(inv), "ack waits for the outstanding transaction");
    script.step(new HmmProtocol.DeviceMemoryAccessReply(access.reqId(), 7));
    assertTrue(script.ackOf(inv).ok());
    assertEquals(Errno.OK, script.take(HmmProtocol.DeviceAccessDone.class).errno());
    // Non-blockable (OOM reaper): nouveau's classic notifier returns -EAGAIN.
    long reaped = script.invalidate(gc, 0, Page.TASK_SIZE, NotifyEvent.UNMAP, 0, false, script.nextOddSeq());
    assertFalse(script.ackOf(reaped).ok());
  }

  /**
   * I10 (two overlapping classic callbacks on one page): the second finds the entry already zapped by the first,
   * whose flush still waits for an access sent through that entry; the second must not ack before that access
   * was answered either, or the access reaches host memory after an ack that promised no further access.
   */
  @Test
  void overlappingClassicCallbackWaitsForTheEarlierFlush() {
    boot(ModelSwitches.kernel());
    HmmProtocol.MakeDeviceExclusive mde = faultAtomic(100);
    convert(mde, subIdOfWindow(), PFN);
    HmmProtocol.DeviceMemoryAccess access = script.take(HmmProtocol.DeviceMemoryAccess.class);
    long first = script.invalidate(gc, X, X + Page.SIZE, NotifyEvent.CLEAR, 0, true, script.nextOddSeq());
    assertFalse(script.acked(first), "the first ack waits for the outstanding transaction");
    long second = script.invalidate(gc, X, X + 2 * Page.SIZE, NotifyEvent.UNMAP, 0, true, script.nextOddSeq());
    assertEquals(1, script.events(Trace.DeviceEntryZapped.class).size(), "nothing left for the second to zap");
    assertFalse(script.acked(second), "the second ack must wait for the first callback's flush");
    script.step(new HmmProtocol.DeviceMemoryAccessReply(access.reqId(), 7));
    assertTrue(script.ackOf(first).ok());
    assertTrue(script.ackOf(second).ok());
    // A callback on a page without outstanding transactions still acks at once.
    long elsewhere = script.invalidate(gc, X + 4 * Page.SIZE, X + 5 * Page.SIZE, NotifyEvent.CLEAR, 0, true,
        script.nextOddSeq());
    assertTrue(script.ackOf(elsewhere).ok());
  }

  /**
   * §4.1 observation, C19: the atomic flag is sticky within a batch, so a READ fault sorted after an ATOMIC one
   * takes the atomic path; make_device_exclusive fails on the read-only page, and the READ is cancelled.
   */
  @Test
  void stickyAtomicFlagSendsLaterReadDownTheAtomicPath() {
    boot(ModelSwitches.kernel());
    long z = 0x50_0000L;
    long y = 0x20_0000L;
    // Warp 1 starts a batch of its own; warps 2 and 3 fault while it is handled and form the next batch.
    script.step(new HmmProtocol.DeviceAccess(1, DEV, MM, z, Access.READ, 0));
    HmmProtocol.NotifierInsert gtZ = script.insertWindow();
    script.step(new HmmProtocol.DeviceAccess(3, DEV, MM, y, Access.READ, 0));
    script.step(new HmmProtocol.DeviceAccess(2, DEV, MM, X, Access.ATOMIC, 1));
    assertEquals(2, script.node.faultBufferSize(DEV));
    HmmProtocol.HmmRangeFault read = script.take(HmmProtocol.HmmRangeFault.class);
    assertEquals(gtZ.subId(), read.subId());
    assertEquals(List.of(1), read.reqFlags());
    script.step(new HmmProtocol.HmmRangeFaultReply(read.reqId(), Errno.OK,
        List.of(hmmemu.protocol.model.HmmPfn.VALID | 0x2000L)));
    assertEquals(new HmmProtocol.DeviceEntry(MM, z, 0x2000L, true, false, false), script.node.entries(DEV).get(0));
    script.take(HmmProtocol.DeviceMemoryAccess.class); // warp 1 replayed

    // Second batch, sorted: ATOMIC@X then READ@Y.
    HmmProtocol.NotifierInsert gtX = script.insertWindow();
    assertEquals(X, gtX.start());
    HmmProtocol.MakeDeviceExclusive mdeX = script.take(HmmProtocol.MakeDeviceExclusive.class);
    convert(mdeX, gtX.subId(), PFN);
    HmmProtocol.NotifierInsert gtY = script.insertWindow();
    assertEquals(y, gtY.start());
    HmmProtocol.MakeDeviceExclusive mdeY = script.take(HmmProtocol.MakeDeviceExclusive.class);
    assertEquals(y, mdeY.va(), "the READ fault went down the atomic path");
    script.assertNone(HmmProtocol.HmmRangeFault.class);
    script.step(new HmmProtocol.MakeDeviceExclusiveReply(mdeY.reqId(), Errno.EFAULT, 0));
    Trace.DriverFaultHandled handledY = script.events(Trace.DriverFaultHandled.class).get(2);
    assertEquals(Access.READ, handledY.access());
    assertEquals(Errno.EINVAL, handledY.errno());
    HmmProtocol.DeviceAccessDone cancelled = script.take(HmmProtocol.DeviceAccessDone.class);
    assertEquals(3, cancelled.reqId());
    assertEquals(Errno.CANCELLED, cancelled.errno());
    // The ATOMIC was handled, so the batch replays it.
    HmmProtocol.DeviceMemoryAccess atomic = script.take(HmmProtocol.DeviceMemoryAccess.class);
    assertEquals(Access.ATOMIC, atomic.access());
    assertEquals(2, script.node.counters(DEV).replays());
  }

  /** A test-only broken driver: programs the GPU PTE before read_retry and keeps it when the check fails. */
  @Test
  void brokenMapBeforeRetryInstallsBeforeTheCheck() {
    boot(ModelSwitches.kernel().withBrokenMapBeforeRetry(true));
    HmmProtocol.MakeDeviceExclusive first = faultAtomic(100);
    long gt = subIdOfWindow();
    long seq = script.nextOddSeq();
    script.ackOf(script.invalidate(gt, X, X + Page.SIZE, NotifyEvent.CLEAR, 0, true, seq));
    script.step(new HmmProtocol.InvalidateEnd(gt, seq + 1));
    int before = script.events.size();
    script.step(new HmmProtocol.MakeDeviceExclusiveReply(first.reqId(), Errno.OK, PFN));
    List<Trace.Event> step = script.events.subList(before, script.events.size());
    assertTrue(step.get(0) instanceof Trace.DeviceEntryInstalled, "installed first: " + step);
    assertTrue(step.get(1) instanceof Trace.ReadRetryChecked);
    assertTrue(((Trace.ReadRetryChecked) step.get(1)).retry());
    assertEquals(1, script.node.entries(DEV).size(), "the stale mapping stays on retry");
  }

  /**
   * C10 / §4.5 (Ralph Campbell): with the svmm mutex held across make_device_exclusive, the own conversion's
   * classic callback (which does not filter EXCLUSIVE) blocks on the mutex and is never acked: a deadlock the
   * runner can name; a non-blockable callback fails its trylock instead.
   */
  @Test
  void lockAcrossConversionBlocksClassicCallbackAndNamesTheCycle() {
    boot(ModelSwitches.kernel().withDriverLockAcrossConversion(true));
    HmmProtocol.MakeDeviceExclusive mde = faultAtomic(100);
    long gt = subIdOfWindow();
    long seq = script.nextOddSeq();
    long onGt = script.invalidate(gt, X, X + Page.SIZE, NotifyEvent.EXCLUSIVE, OWNER, true, seq);
    assertTrue(script.ackOf(onGt).ok(), "Gt filters the own conversion without the mutex");
    long onGc = script.invalidate(gc, X, X + Page.SIZE, NotifyEvent.EXCLUSIVE, OWNER, true, seq);
    assertFalse(script.acked(onGc));
    List<String> suspects = script.node.deadlockSuspects();
    assertEquals(1, suspects.size());
    String s = suspects.get(0);
    assertTrue(s.startsWith(String.format("callback for inv %d on sub %#x", onGc, gc)), s);
    assertTrue(s.contains("svmm mutex"), s);
    assertTrue(s.contains("fault on page 0x100000"), s);
    assertTrue(s.contains("which waits for MakeDeviceExclusive (req " + mde.reqId() + ")"), s);
    long oom = script.invalidate(gt, X, X + Page.SIZE, NotifyEvent.UNMAP, 0, false, seq);
    assertFalse(script.ackOf(oom).ok(), "trylock fails while the fault holds the mutex");
  }

  /** C10 case (b) resolved: if the conversion does return, releasing the mutex runs the blocked callback. */
  @Test
  void blockedCallbackRunsWhenTheMutexIsReleased() {
    boot(ModelSwitches.kernel().withDriverLockAcrossConversion(true));
    HmmProtocol.MakeDeviceExclusive mde = faultAtomic(100);
    long gt = subIdOfWindow();
    long seq = script.nextOddSeq();
    script.ackOf(script.invalidate(gt, X, X + Page.SIZE, NotifyEvent.EXCLUSIVE, OWNER, true, seq));
    long onGc = script.invalidate(gc, X, X + Page.SIZE, NotifyEvent.CLEAR, 0, true, seq);
    script.step(new HmmProtocol.MakeDeviceExclusiveReply(mde.reqId(), Errno.OK, PFN));
    assertTrue(script.ackOf(onGc).ok());
    assertTrue(script.node.deadlockSuspects().isEmpty());
    // The mapping programmed under the mutex was zapped by the callback that waited for it (C11 case B).
    assertTrue(script.node.entries(DEV).isEmpty());
    assertEquals(1, script.events(Trace.DeviceEntryZapped.class).size());
  }

  /** "Try to confuse": stale/duplicate InvalidateEnd, InvalidateStart for unknown subs, late replies are harmless. */
  @Test
  void staleAndDuplicateMessagesAreHarmless() {
    boot(ModelSwitches.kernel());
    HmmProtocol.MakeDeviceExclusive mde = faultAtomic(100);
    long gt = subIdOfWindow();
    convert(mde, gt, PFN);
    HmmProtocol.DeviceMemoryAccess access = script.take(HmmProtocol.DeviceMemoryAccess.class);
    script.step(new HmmProtocol.DeviceMemoryAccessReply(access.reqId(), 0));
    script.take(HmmProtocol.DeviceAccessDone.class);
    List<HmmProtocol.DeviceEntry> entries = script.node.entries(DEV);

    assertTrue(script.step(new HmmProtocol.InvalidateEnd(gt, 99)).isEmpty(), "duplicate end of a removed Gt");
    assertTrue(script.step(new HmmProtocol.InvalidateEnd(gc, 99)).isEmpty(), "end never in flight");
    assertTrue(script.step(new HmmProtocol.InvalidateEnd(0x7777_0000_0001L, 99)).isEmpty(), "unknown device");
    long late = script.invalidate(gt, X, X + Page.SIZE, NotifyEvent.CLEAR, 0, true, 101);
    assertTrue(script.ackOf(late).ok(), "removed Gt: acked at once");
    long unknown = script.invalidate(((long) DEV << 32) | 999, 0, Page.TASK_SIZE, NotifyEvent.CLEAR, 0, true, 101);
    assertTrue(script.ackOf(unknown).ok());
    assertTrue(script.step(new HmmProtocol.MakeDeviceExclusiveReply(mde.reqId(), Errno.OK, PFN)).isEmpty());
    assertTrue(script.step(new HmmProtocol.DeviceMemoryAccessReply(access.reqId(), 0)).isEmpty());
    assertTrue(script.step(new HmmProtocol.NotifierInserted(gc, 5)).isEmpty());
    assertEquals(entries, script.node.entries(DEV));
    assertEquals(1, script.count(HmmProtocol.FolioUnlockPut.class));
  }

  /** ResetNode drops every entry and waiting operation; a reply of the earlier run is ignored afterwards. */
  @Test
  void resetDropsStateAndIgnoresLateReplies() {
    boot(ModelSwitches.kernel());
    HmmProtocol.MakeDeviceExclusive mde = faultAtomic(100);
    script.step(new HmmProtocol.ResetNode(9, "next", ModelSwitches.kernel().withOwnerFilter(false)));
    assertEquals(new HmmProtocol.ResetDone(9, 1), script.take(HmmProtocol.ResetDone.class));
    assertTrue(script.step(new HmmProtocol.MakeDeviceExclusiveReply(mde.reqId(), Errno.OK, PFN)).isEmpty());
    assertTrue(script.node.entries(DEV).isEmpty());
    assertEquals(0, script.node.counters(DEV).faults());
    assertFalse(script.node.switches().ownerFilter());
  }
}
