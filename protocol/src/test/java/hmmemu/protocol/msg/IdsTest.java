package hmmemu.protocol.msg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Ids packs exactly as the call sites do today (the literal shifts below are copied from them). */
class IdsTest {

  @Test
  void deviceIdsAreNodeTimesSixteenPlusIndex() {
    for (int node = 0; node < 40; node++) {
      for (int index = 0; index < Ids.DEVICES_PER_NODE; index++) {
        int d = Ids.deviceId(node, index);
        assertEquals(node * 16 + index, d);                 // NodeRoles, Scenario.Device.id, ScenarioRunner
        assertEquals(node, Ids.nodeOfDevice(d));
        assertEquals(d >> 4, Ids.nodeOfDevice(d));          // Routing.nodeOfDevice, CpuMm.nodeOfDevice
        assertEquals(index, Ids.indexOnNode(d));
        assertEquals(d & 15, Ids.indexOnNode(d));           // ScenarioRunner.clusterDeviceId
      }
    }
    assertThrows(IllegalArgumentException.class, () -> Ids.deviceId(1, 16));
    assertThrows(IllegalArgumentException.class, () -> Ids.deviceId(1, -1));
    assertThrows(IllegalArgumentException.class, () -> Ids.deviceId(-1, 0));
  }

  @Test
  void subIdsCarryTheirDeviceInTheHigh32Bits() {
    for (int d : new int[] {0, 1, 16, 17, 33, 255, 4095, Integer.MAX_VALUE}) {
      for (long n : new long[] {0, 1, 999, 0xffff_ffffL}) {
        long s = Ids.subId(d, n);
        assertEquals(((long) d << 32) | n, s);              // Device.newSubId
        assertEquals(d, Ids.deviceOfSub(s));
        assertEquals((int) (s >>> 32), Ids.deviceOfSub(s)); // Msgs, GpuNode.deviceOfSub, CpuMm, ObservingLink
        assertEquals(n, Ids.numberOfSub(s));
      }
    }
    assertThrows(IllegalArgumentException.class, () -> Ids.subId(1, 1L << 32));
    assertThrows(IllegalArgumentException.class, () -> Ids.subId(1, -1));
  }

  @Test
  void reqIdsCarryTheirDeviceFromBit40() {
    for (int d : new int[] {0, 1, 16, 17, 33, 255, (1 << 22) - 1}) {
      for (long n : new long[] {0, 1, 999, (1L << 40) - 1}) {
        long r = Ids.reqId(d, n);
        assertEquals(((long) d << 40) | n, r);              // Device.newReqId
        assertEquals(d, Ids.deviceOfReq(r));
        assertEquals((int) (r >>> 40), Ids.deviceOfReq(r)); // GpuNode.deviceOfReq, CpuNodeActor, ScenarioRunner
        assertEquals(n, Ids.numberOfReq(r));
        assertFalse(Ids.isControllerReq(r));
        assertTrue(r >= 0);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> Ids.reqId(1 << 22, 1));
    assertThrows(IllegalArgumentException.class, () -> Ids.reqId(-1, 1));
    assertThrows(IllegalArgumentException.class, () -> Ids.reqId(1, 1L << 40));
  }

  @Test
  void controllerReqIdsNeverNameADevice() {
    assertEquals(1L << 62, Ids.CONTROLLER_REQ_BASE);        // ControlClient.REQ_BASE
    long first = Ids.controllerReqId(1);                      // ControlClient: incrementAndGet from REQ_BASE
    assertEquals((1L << 62) + 1, first);
    assertTrue(Ids.isControllerReq(first));
    assertTrue(Ids.isControllerReq(Ids.controllerReqId(0)));
    assertEquals(1 << 22, Ids.deviceOfReq(first));            // what the shells' >>> 40 makes of it: no device
    assertFalse(Ids.isControllerReq(Ids.reqId((1 << 22) - 1, (1L << 40) - 1)));
  }

  @Test
  void nouveauOwnerCookie() {
    assertEquals(0x4e56_0000L + 17, Ids.nouveauOwner(17));  // Device.NOUVEAU_OWNER_BASE + deviceId
    assertEquals(0x4e56_0000L, Ids.NOUVEAU_OWNER_BASE);
  }
}
