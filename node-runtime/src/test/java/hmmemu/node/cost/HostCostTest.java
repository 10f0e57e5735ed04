package hmmemu.node.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Destination;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import org.junit.jupiter.api.Test;

class HostCostTest {

  @Test
  void theBuiltInBlockIsTheDefaultsAndOffIsOff() {
    assertEquals(HostCost.DEFAULTS, HostCost.fromConfig(ConfigFactory.empty()));
    assertEquals(HostCost.OFF, HostCost.fromConfig(ConfigFactory.parseString("hmm-emu.host-cost.enabled = off")));
    assertTrue(HostCost.OFF.isOff());
    HostCost c = HostCost.fromConfig(ConfigFactory.parseString("hmm-emu.host-cost { cpu-page-fault = 3us }"));
    assertEquals(3_000, c.cpuPageFaultNanos());
    assertEquals(HostCost.DEFAULTS.driverFaultBatchNanos(), c.driverFaultBatchNanos(), "the rest falls back");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> HostCost.fromConfig(ConfigFactory.parseString("hmm-emu.host-cost { pte-update = lots }")));
    assertTrue(e.getMessage().contains("pte-update"), e.getMessage());
  }

  @Test
  void aCpuStepIsChargedPerFaultPtePageAndCallback() {
    HostCost c = new HostCost(1000, 10, 100, 200, 2000, 20000);
    Ready r = new Ready();
    r.emit(new Trace.CpuFaulted(1, 1, 0x1000, "write"));
    r.emit(new Trace.PteChanged(1, 0x1000, PteState.values()[1], 7, true, true, false, "test"));
    r.emit(new Trace.PteChanged(1, 0x2000, PteState.values()[1], 8, true, true, false, "test"));
    r.send(new Outbound(new Destination.Device(16), new HmmProtocol.InvalidateStart(1, 2, 1, 0, 4096,
        hmmemu.protocol.model.NotifyEvent.CLEAR, 0, true, 2)));
    assertEquals(1000 + 2 * 10 + 200, c.cpuStepNanos(new HmmProtocol.CpuAccess(1, 1, 1, 0x1000, Access.WRITE, 0), r));
    assertEquals(1000 + 2 * 10 + 200 + 100,
        c.cpuStepNanos(new HmmProtocol.MakeDeviceExclusive(1, 16, 1, 0x1000, 0), r), "plus one page of GUP");
    assertEquals(0, HostCost.OFF.cpuStepNanos(null, r));
  }

  @Test
  void aGpuStepIsChargedOneBatchAndOneTlbFlushWhateverItsSize() {
    HostCost c = new HostCost(1000, 10, 100, 200, 2000, 20000);
    Ready r = new Ready();
    r.emit(new Trace.DeviceFaulted(16, 1, 0x1000, Access.ATOMIC));
    r.emit(new Trace.DeviceFaulted(16, 1, 0x2000, Access.ATOMIC));
    r.emit(new Trace.DeviceEntryZapped(16, 1, 0x3000, 9));
    r.emit(new Trace.DeviceEntryZapped(16, 1, 0x4000, 10));
    assertEquals(20000 + 2000, c.gpuStepNanos(null, r));
    assertEquals(0, c.gpuStepNanos(null, new Ready()));
  }
}
