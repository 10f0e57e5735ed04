package hmmemu.node.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.GateArm;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A GPU node's {@link RemoteGate}: a pause point armed from another JVM closes on the message its trigger names,
 * with the event taken from the InvalidateStart the node received and the kind from the NotifierInsert it sent, and
 * holds the rest of the direction until released (what {@code hmm-emu cluster --scenario} relies on).
 */
class RemoteGateTest {
  private static final int DEVICE = Ids.deviceId(1, 0);
  private static final long SUB = Ids.subId(DEVICE, 1);

  private final List<HmmProtocol.Msg> wire = new ArrayList<>();
  private final RemoteGate gpu1 = new RemoteGate(1, (from, to, ref, env) -> wire.add(WireCodec.decode(env)));

  private void send(HmmProtocol.Msg m) { gpu1.send(1, 0, null, WireCodec.encode(m, new long[0], "")); }

  private static GateArm ackOf(String event, String kind) {
    return GateArm.newBuilder().setGateId(1).setFromNode(1).setToNode(0).setMessage("InvalidateAck")
        .setDeviceId(DEVICE).setEvent(event).setKind(kind).build();
  }

  @Test
  void anAckClosesTheGateByTheEventItsNodeReceived() {
    send(new HmmProtocol.NotifierInsert(SUB, DEVICE, 1, NotifierKind.CLASSIC, 0, 4096));
    gpu1.received(1, new HmmProtocol.InvalidateStart(7, SUB, 1, 0, 4096, NotifyEvent.CLEAR, 0, true, 0));
    gpu1.received(1, new HmmProtocol.InvalidateStart(8, SUB, 1, 0, 4096, NotifyEvent.EXCLUSIVE, 0, true, 0));
    CompletableFuture<HmmProtocol.Msg> closed = gpu1.arm(ackOf("EXCLUSIVE", "CLASSIC"));

    send(new HmmProtocol.InvalidateAck(7, SUB, true)); // a CLEAR's ack passes
    assertFalse(closed.isDone());
    send(new HmmProtocol.InvalidateAck(8, SUB, true)); // the EXCLUSIVE one closes the gate and is held
    send(new HmmProtocol.FolioUnlockPut(Ids.reqId(DEVICE, 3), DEVICE, 5)); // held behind it: the link stays FIFO
    assertTrue(closed.isDone());
    assertEquals(new HmmProtocol.InvalidateAck(8, SUB, true), closed.join());
    assertEquals(2, wire.size(), "the insert and the CLEAR ack went out: " + wire);

    gpu1.release(1, 0);
    assertEquals(List.of(new HmmProtocol.InvalidateAck(8, SUB, true),
        new HmmProtocol.FolioUnlockPut(Ids.reqId(DEVICE, 3), DEVICE, 5)), wire.subList(2, 4));
  }

  @Test
  void anUnknownKindNeverCloses() {
    gpu1.received(1, new HmmProtocol.InvalidateStart(8, SUB, 1, 0, 4096, NotifyEvent.EXCLUSIVE, 0, true, 0));
    CompletableFuture<HmmProtocol.Msg> closed = gpu1.arm(ackOf("EXCLUSIVE", "INTERVAL"));
    send(new HmmProtocol.InvalidateAck(8, SUB, true)); // no NotifierInsert seen: the kind is unknown
    assertFalse(closed.isDone());
    assertEquals(1, wire.size());
  }

  @Test
  void onlyTheSendingNodeArms() {
    GateArm toGpu = GateArm.newBuilder().setFromNode(0).setToNode(1).setMessage("InvalidateStart").build();
    assertThrows(IllegalArgumentException.class, () -> gpu1.arm(toGpu));
  }

  /** An until-watch names a direction by its sender: a device's GPU node, the CPU node, or -1 for the controller. */
  @Test
  void aDeliveryIsWatchedByTheNodeThatSentIt() {
    RemoteGate cpu0 = new RemoteGate(0, Link.DIRECT);
    assertEquals(1, cpu0.senderOf(new HmmProtocol.InvalidateAck(8, SUB, true)), "an ack came from the device's node");
    assertEquals(0, gpu1.senderOf(new HmmProtocol.InvalidateStart(8, SUB, 1, 0, 4096, NotifyEvent.CLEAR, 0, true, 0)));
    assertEquals(-1, cpu0.senderOf(new HmmProtocol.Syscall(Ids.reqId(DEVICE, 4), 1,
        HmmProtocol.SyscallKind.MADV_DONTNEED, 0, 4096, 0, null, 0)), "a controller request");
  }
}
