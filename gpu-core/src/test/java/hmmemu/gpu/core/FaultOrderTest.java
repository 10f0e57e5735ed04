package hmmemu.gpu.core;

import static hmmemu.gpu.core.CpuScript.DEV;
import static hmmemu.gpu.core.CpuScript.MM;
import static org.junit.jupiter.api.Assertions.assertEquals;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * nouveau_svm_fault() with nouveau_svm_fault_cmp() (drivers/gpu/drm/nouveau/nouveau_svm.c): faults of one page
 * are sorted by nouveau_svm_fault_priority() ascending, so the least severe one is handled first, and the skip
 * loop judges "satisfied" by the access of that handled fault ({@code buffer->fault[fi]->access}).
 */
class FaultOrderTest {
  static final long X = 0x10_0000L;
  static final long Z = 0x50_0000L;

  /**
   * READ and ATOMIC on one page in one batch: the READ (priority 1) is handled first by nouveau_range_fault();
   * the V bit satisfies the READ, so the ATOMIC behind it is skipped, not serviced; the replay re-executes it, it
   * faults again (no A bit) and the next batch takes the atomic path.
   */
  @Test
  void leastSevereFaultOfAPageIsHandledFirstAndTheSevereOneFaultsAgain() {
    CpuScript script = new CpuScript(ModelSwitches.kernel());
    script.bind(DriverFlavour.NOUVEAU);
    // Warp 1 starts a batch of its own; warps 2 (ATOMIC, arrives first) and 3 (READ) on X form the next one.
    script.step(new HmmProtocol.DeviceAccess(1, DEV, MM, Z, Access.READ, 0));
    script.insertWindow();
    script.step(new HmmProtocol.DeviceAccess(2, DEV, MM, X, Access.ATOMIC, 1));
    script.step(new HmmProtocol.DeviceAccess(3, DEV, MM, X + 8, Access.READ, 0));
    HmmProtocol.HmmRangeFault readZ = script.take(HmmProtocol.HmmRangeFault.class);
    script.step(new HmmProtocol.HmmRangeFaultReply(readZ.reqId(), Errno.OK, List.of(HmmPfn.VALID | 0x2000L)));
    script.take(HmmProtocol.DeviceMemoryAccess.class); // warp 1 replayed

    // Second batch: READ@X first, down the range path with REQ_FAULT only.
    HmmProtocol.NotifierInsert gtX = script.insertWindow();
    assertEquals(X, gtX.start());
    script.assertNone(HmmProtocol.MakeDeviceExclusive.class);
    HmmProtocol.HmmRangeFault readX = script.take(HmmProtocol.HmmRangeFault.class);
    assertEquals(List.of(HmmPfn.REQ_FAULT), readX.reqFlags(), "the READ is handled first");
    long faultsBefore = script.events(Trace.DeviceFaulted.class).stream().filter(f -> f.va() == X).count();
    script.step(new HmmProtocol.HmmRangeFaultReply(readX.reqId(), Errno.OK,
        List.of(HmmPfn.VALID | HmmPfn.WRITE | 0x3000L)));
    List<Trace.DriverFaultHandled> handled = script.events(Trace.DriverFaultHandled.class);
    assertEquals(2, handled.size(), "the ATOMIC of the same page was skipped, not handled");
    assertEquals(Access.READ, handled.get(1).access());
    // The replay: the READ goes to host memory through the new V|W entry, the ATOMIC faults again.
    HmmProtocol.DeviceMemoryAccess read = script.take(HmmProtocol.DeviceMemoryAccess.class);
    assertEquals(Access.READ, read.access());
    List<Trace.DeviceFaulted> again = script.events(Trace.DeviceFaulted.class).stream().filter(f -> f.va() == X)
        .skip(faultsBefore).toList();
    assertEquals(1, again.size(), "only the skipped ATOMIC faults again after the replay");
    assertEquals(Access.ATOMIC, again.get(0).access());
    // Third batch: the ATOMIC alone, down the atomic path.
    script.insertWindow();
    HmmProtocol.MakeDeviceExclusive mde = script.take(HmmProtocol.MakeDeviceExclusive.class);
    assertEquals(X, mde.va());
    assertEquals(2, script.node.counters(DEV).replays());
  }
}
