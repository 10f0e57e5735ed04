package hmmemu.gpu.core;

import static hmmemu.gpu.core.CpuScript.DEV;
import static hmmemu.gpu.core.CpuScript.MM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A warp's loop of accesses on the GPU node (HmmProtocol.WarpRun, device.Warps): access k+1 is issued in the step
 * in which access k completed or was cancelled, with no message to or from a controller in between; one WarpDone
 * reports every access's outcome and latency.
 */
class WarpLoopTest {
  static final long X = 0x10_0000L;
  static final long PFN = 0x1234L;
  static final long RUN = (1L << 62) | 7;

  /** nouveau's first atomic fault on X, converted by the scripted CPU node; the replay reaches host memory. */
  private static HmmProtocol.DeviceMemoryAccess firstFaultMapped(CpuScript script, long gc) {
    HmmProtocol.NotifierInsert gt = script.insertWindow();
    HmmProtocol.MakeDeviceExclusive mde = script.take(HmmProtocol.MakeDeviceExclusive.class);
    long seq = script.nextOddSeq();
    script.ackOf(script.invalidate(gt.subId(), X, X + Page.SIZE, NotifyEvent.EXCLUSIVE, mde.owner(), true, seq));
    script.ackOf(script.invalidate(gc, X, X + Page.SIZE, NotifyEvent.EXCLUSIVE, mde.owner(), true, seq));
    script.step(new HmmProtocol.InvalidateEnd(gt.subId(), seq + 1));
    script.step(new HmmProtocol.MakeDeviceExclusiveReply(mde.reqId(), Errno.OK, PFN));
    return script.take(HmmProtocol.DeviceMemoryAccess.class);
  }

  @Test
  void eachAccessIsIssuedInTheStepThatCompletesThePreviousOne() {
    CpuScript script = new CpuScript(ModelSwitches.kernel());
    long gc = script.bind(DriverFlavour.NOUVEAU).subId();
    script.now = 10;
    script.step(new HmmProtocol.WarpRun(RUN, DEV, 3, MM, List.of(X, X + 8, X), Access.ATOMIC, 1));
    assertEquals(1, script.events(Trace.DeviceFaulted.class).size(), "the first access faults");
    assertEquals(1, script.node.warpLoops(DEV));
    HmmProtocol.DeviceMemoryAccess first = firstFaultMapped(script, gc);

    long[] at = {30, 45, 70};
    HmmProtocol.DeviceMemoryAccess access = first;
    for (int k = 0; k < 3; k++) {
      script.now = at[k];
      Ready r = script.step(new HmmProtocol.DeviceMemoryAccessReply(access.reqId(), 100 + k));
      if (k < 2) {
        // Access k completed and access k+1 left for host memory in the same step (the entry is V|W|A now).
        access = script.take(HmmProtocol.DeviceMemoryAccess.class);
        assertEquals(Page.wordIndex(k == 0 ? X + 8 : X), access.wordIndex());
        assertEquals(1, r.out.size(), "only the next access's DeviceMemoryAccess: " + r.out);
      }
    }
    script.assertNone(HmmProtocol.DeviceAccessDone.class);
    HmmProtocol.WarpDone done = script.take(HmmProtocol.WarpDone.class);
    assertEquals(new HmmProtocol.WarpDone(RUN, DEV, 3, List.of(Errno.OK, Errno.OK, Errno.OK),
        List.of(20L, 15L, 25L), 1), done, "issue to completion: 10 -> 30 (its fault), 30 -> 45, 45 -> 70 µs");
    assertEquals(3, done.completed());
    assertEquals(0, script.node.warpLoops(DEV));
    assertEquals(3, script.events(Trace.DeviceAccessCompleted.class).size());
    assertEquals(1, script.node.counters(DEV).faults());
  }

  /** nouveau cancels the faults of a non-SVM channel; each cancelled access ends, and the warp goes on. */
  @Test
  void aCancelledAccessEndsAndTheWarpIssuesItsNextOne() {
    CpuScript script = new CpuScript(ModelSwitches.kernel());
    script.bind(DriverFlavour.NOUVEAU);
    script.now = 10;
    int unbound = MM + 1;
    Ready r = script.step(new HmmProtocol.WarpRun(RUN, DEV, 0, unbound, List.of(X, X + 8, X), Access.ATOMIC, 1));
    assertEquals(3, script.events(Trace.DeviceFaulted.class).size(), "three accesses, one after the other");
    assertEquals(List.of(new Outbound(new hmmemu.protocol.model.Destination.Controller(RUN),
        new HmmProtocol.WarpDone(RUN, DEV, 0, List.of(Errno.CANCELLED, Errno.CANCELLED, Errno.CANCELLED),
            List.of(0L, 0L, 0L), 0))), r.out, "one reply, no DeviceAccessDone");
    assertEquals(3, script.node.counters(DEV).cancels());
  }

  /** The CPU node goes away while a warp's access waits: it and the rest of the loop fail with ENODEV. */
  @Test
  void whenTheCpuNodeIsGoneTheRestOfTheLoopFailsWithEnodev() {
    CpuScript script = new CpuScript(ModelSwitches.kernel());
    script.bind(DriverFlavour.NOUVEAU);
    script.now = 10;
    script.step(new HmmProtocol.WarpRun(RUN, DEV, 1, MM, List.of(X, X + 8), Access.ATOMIC, 1));
    script.assertNone(HmmProtocol.WarpDone.class);
    Ready gone = script.node.cpuGone("MemberRemoved(downed)", 25);
    HmmProtocol.WarpDone done = (HmmProtocol.WarpDone) gone.out.get(gone.out.size() - 1).msg();
    assertEquals(List.of(Errno.ENODEV, Errno.ENODEV), done.errnos());
    assertEquals(List.of(15L, 0L), done.latencyMicros());
    Ready late = script.node.step(new HmmProtocol.WarpRun(RUN + 1, DEV, 2, MM, List.of(X), Access.ATOMIC, 1), 30);
    assertEquals(List.of(Errno.ENODEV), ((HmmProtocol.WarpDone) late.out.get(0).msg()).errnos());
  }

  @Test
  void anEmptyLoopIsDoneAtOnce() {
    CpuScript script = new CpuScript(ModelSwitches.kernel());
    Ready r = script.step(new HmmProtocol.WarpRun(RUN, DEV, 0, MM, List.of(), Access.ATOMIC, 1));
    assertEquals(new HmmProtocol.WarpDone(RUN, DEV, 0, List.of(), List.of(), 0), r.out.get(0).msg());
  }
}
