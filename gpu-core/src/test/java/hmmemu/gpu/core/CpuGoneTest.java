package hmmemu.gpu.core;

import static hmmemu.gpu.core.CpuScript.DEV;
import static hmmemu.gpu.core.CpuScript.MM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CPU node is gone (GpuNode.cpuGone): the warps stop, pending work fails with ENODEV, nothing waits. */
class CpuGoneTest {
  static final long X = 0x10_0000L;

  @Test
  void warpsInFlightFailWithEnodevAndLaterWorkIsRefused() {
    CpuScript script = new CpuScript(ModelSwitches.kernel());
    script.bind(DriverFlavour.NOUVEAU);
    script.now = 10;
    script.step(new HmmProtocol.DeviceAccess(100, DEV, MM, X, Access.ATOMIC, 1));
    script.step(new HmmProtocol.DeviceAccess(101, DEV, MM, X + 8, Access.ATOMIC, 1));
    assertEquals(0, script.count(HmmProtocol.DeviceAccessDone.class), "both warps wait for their fault");

    Ready r = script.node.cpuGone("MemberRemoved(downed)", 20);
    assertEquals(List.of(new Trace.NodeGone(0, "MemberRemoved(downed)"),
            new Trace.DeviceAccessCompleted(DEV, 100, Errno.ENODEV, 1, 10),
            new Trace.DeviceAccessCompleted(DEV, 101, Errno.ENODEV, 1, 10)), r.events);
    for (Outbound o : r.out) {
      HmmProtocol.DeviceAccessDone d = (HmmProtocol.DeviceAccessDone) o.msg();
      assertEquals(Errno.ENODEV, d.errno());
    }
    assertEquals(2, r.out.size());
    assertTrue(script.node.faultWorkerIdle(DEV));
    assertEquals(0, script.node.faultBufferSize(DEV));

    assertTrue(script.node.cpuGone("again", 30).events.isEmpty(), "idempotent");
    Ready late = script.node.step(new HmmProtocol.DeviceAccess(102, DEV, MM, X, Access.ATOMIC, 1), 40);
    HmmProtocol.DeviceAccessDone refused = (HmmProtocol.DeviceAccessDone) late.out.get(0).msg();
    assertEquals(Errno.ENODEV, refused.errno());
    Ready fromCpu = script.node.step(new HmmProtocol.MakeDeviceExclusiveReply(1, Errno.OK, 0x1000), 50);
    assertTrue(fromCpu.out.isEmpty() && fromCpu.events.isEmpty(), "a late CPU message is dropped");
    assertEquals(1, script.node.droppedAfterCpuGone());
    assertEquals(3, script.node.counters(DEV).cancels());
  }
}
