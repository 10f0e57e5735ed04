package hmmemu.gpu.core;

import static hmmemu.gpu.core.CpuScript.DEV;
import static hmmemu.gpu.core.CpuScript.MM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import org.junit.jupiter.api.Test;

/** The driver side of mmu_interval_read_begin() (mm/mmu_notifier.c) for a subscription inserted mid-invalidation. */
class ReadBeginTest {
  static final long X = 0x10_0000L;
  static final long PFN = 0x1234L;

  /**
   * mm/mmu_notifier.c __mmu_interval_notifier_insert(): with active_invalidate_ranges != 0 the insert does not
   * block; the subscription gets the mm's current odd seq, so mmu_interval_read_begin() sees is_invalidating and
   * sleeps until mn_itree_inv_end(). nouveau_atomic_range_fault() checks its deadline at the top of the loop,
   * before read_begin: a fault whose deadline passed while read_begin slept still converts once.
   */
  @Test
  void readBeginSleepsAfterAnInsertDuringAnInvalidationAndTheDeadlineIsCheckedBeforeIt() {
    ModelSwitches switches = ModelSwitches.kernel();
    CpuScript script = new CpuScript(switches);
    script.bind(DriverFlavour.NOUVEAU);
    script.step(new HmmProtocol.DeviceAccess(100, DEV, MM, X, Access.ATOMIC, 1));
    HmmProtocol.NotifierInsert gt = script.take(HmmProtocol.NotifierInsert.class);
    long running = 41; // the odd seq of the invalidation running at the insert
    script.step(new HmmProtocol.NotifierInserted(gt.subId(), running, running));
    script.assertNone(HmmProtocol.MakeDeviceExclusive.class);
    script.now += switches.driverDeadlineMicros() + 1;
    script.step(new HmmProtocol.InvalidateEnd(gt.subId(), running + 1));
    HmmProtocol.MakeDeviceExclusive mde = script.take(HmmProtocol.MakeDeviceExclusive.class);
    long onGt = script.invalidate(gt.subId(), X, X + Page.SIZE, NotifyEvent.EXCLUSIVE, mde.owner(), true, 43);
    script.ackOf(onGt);
    script.step(new HmmProtocol.InvalidateEnd(gt.subId(), 44));
    script.step(new HmmProtocol.MakeDeviceExclusiveReply(mde.reqId(), Errno.OK, PFN));
    Trace.ReadRetryChecked check = script.events(Trace.ReadRetryChecked.class).get(0);
    assertEquals(running, check.seq(), "read_begin returned the seq the insert set");
    assertFalse(check.retry());
    assertEquals(Errno.OK, script.events(Trace.DriverFaultHandled.class).get(0).errno());
  }

  /** An insert on an idle mm (seq = mm seq - 1): read_begin returns at once. */
  @Test
  void readBeginDoesNotSleepAfterAnIdleInsert() {
    CpuScript script = new CpuScript(ModelSwitches.kernel());
    script.bind(DriverFlavour.NOUVEAU);
    script.step(new HmmProtocol.DeviceAccess(100, DEV, MM, X, Access.ATOMIC, 1));
    HmmProtocol.NotifierInsert gt = script.take(HmmProtocol.NotifierInsert.class);
    script.step(new HmmProtocol.NotifierInserted(gt.subId(), 41, 42));
    script.take(HmmProtocol.MakeDeviceExclusive.class);
  }
}
