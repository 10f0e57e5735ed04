package hmmemu.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.Test;

/** The live counters a shell keeps from the events its core emits (docs/OBSERVABILITY.md, "A running cluster, live"). */
class NodeCountersTest {
  private static final long VA = 0x7f0000000000L;

  @Test
  void aCpuNodeCountsConversionsRestoresFaultsInvalidationsAndLockWaits() {
    NodeCounters c = new NodeCounters();
    for (int i = 0; i < 3; i++) {
      long va = VA + i * 4096L;
      c.count(List.of(
          new Trace.FolioChanged(100 + i, true, 2, 1, true, true, false),
          new Trace.InvalidateStarted(i, 1, va, va + 4096, NotifyEvent.EXCLUSIVE, 0, true, List.of(7L, 8L)),
          new Trace.PteChanged(1, va, PteState.DEVEXCL, 100 + i, false, true, true, "make_device_exclusive"),
          new Trace.InvalidateEnded(i, true),
          new Trace.ExclusiveReturned(i, 16, 100 + i, Errno.OK, true),
          new Trace.FolioChanged(100 + i, false, 1, 1, true, true, false)));
    }
    c.count(List.of(new Trace.ExclusiveReturned(9, 16, 0, Errno.EBUSY, false)));
    // The CPU touches two of the pages: one DEVEXCL fault each, a restore; one also waited on the folio lock.
    c.count(List.of(new Trace.CpuFaulted(1, 1, VA, "devexcl"), new Trace.CpuFaulted(1, 1, VA, "retry"),
        new Trace.PteChanged(1, VA, PteState.PRESENT, 100, true, true, true, "restore_exclusive_pte"),
        new Trace.CpuFaulted(1, 1, VA + 4096, "devexcl"),
        new Trace.PteChanged(1, VA + 4096, PteState.PRESENT, 101, true, true, true, "restore_exclusive_pte"),
        // a PRESENT page changing again is no restore
        new Trace.PteChanged(1, VA, PteState.NONE, 0, false, false, false, "zap")));
    Map<String, Long> s = c.snapshot();
    assertEquals(3, s.get("conversions"), s.toString());
    assertEquals(1, s.get("conversionErrors:EBUSY"), s.toString());
    assertEquals(2, s.get("restores"), s.toString());
    assertEquals(3, s.get("cpuFaults"), s.toString());
    assertEquals(2, s.get("cpuFaults:devexcl"), s.toString());
    assertEquals(1, s.get("folioLockWaits"), s.toString());
    assertEquals(3, s.get("invalidations"), s.toString());
    assertEquals(3, s.get("invalidations:EXCLUSIVE"), s.toString());
    assertEquals(6, s.get("callbacks"), s.toString());
    assertEquals(3, s.get("invalidationsEnded"), s.toString());
    assertEquals(3, s.get("folioLocks"), s.toString());
    assertEquals(18 + 1 + 6, s.get("events"), s.toString());
  }

  @Test
  void aGpuNodeCountsDeviceFaultsDriverLoopsTimeoutsCancelsAndReplays() {
    NodeCounters c = new NodeCounters();
    c.count(List.of(new Trace.DeviceFaulted(16, 1, VA, Access.ATOMIC),
        new Trace.DriverFaultHandled(16, 1, VA, Access.ATOMIC, 3, Errno.OK),
        new Trace.DeviceAccessCompleted(16, 1, Errno.OK, 1, 40),
        new Trace.DeviceFaulted(16, 1, VA, Access.ATOMIC),
        new Trace.ReadRetryChecked(16, 7, 1, 2, true),
        new Trace.DriverFaultHandled(16, 1, VA, Access.ATOMIC, 12, Errno.EBUSY),
        new Trace.DeviceAccessCompleted(16, 2, Errno.EBUSY, 1, 1000),
        new Trace.InvalidateAcked(1, 7, 16, true, false),
        new Trace.InvalidateAcked(2, 7, 16, true, true)));
    Map<String, Long> s = c.snapshot();
    assertEquals(2, s.get("deviceFaults"), s.toString());
    assertEquals(2, s.get("deviceFaults:ATOMIC"), s.toString());
    assertEquals(2, s.get("driverFaults"), s.toString());
    assertEquals(15, s.get("driverIterations"), s.toString());
    assertEquals(1, s.get("driverTimeouts"), s.toString());
    assertEquals(1, s.get("driverReplays"), s.toString());
    assertEquals(1, s.get("driverCancels"), s.toString());
    assertEquals(1, s.get("gpuAccessesCompleted"), s.toString());
    assertEquals(1, s.get("gpuAccessesCancelled"), s.toString());
    assertEquals(1, s.get("acks"), s.toString());
    assertEquals(1, s.get("acksIgnoredByOwner"), s.toString());
    assertEquals(1, s.get("readRetryFailed"), s.toString());
    assertNull(s.get("conversions"), "nothing a GPU node does not emit");
  }

  @Test
  void theRegistryOfASystemSumsItsNodes() {
    ActorTestKit kit = ActorTestKit.create();
    try {
      NodeCounters.Registry r = NodeCounters.of(kit.system());
      assertSame(r, NodeCounters.of(kit.system()), "one registry per system");
      assertSame(r.node(1), r.node(1), "one set of counters per node");
      r.node(1).count(List.of(new Trace.DeviceFaulted(16, 1, VA, Access.READ)));
      r.node(2).count(List.of(new Trace.DeviceFaulted(32, 1, VA, Access.READ)));
      assertEquals(2, r.snapshot().get("deviceFaults:READ"));
    } finally {
      kit.shutdownTestKit();
    }
  }
}
