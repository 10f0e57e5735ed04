package hmmemu.node.link;

import static org.junit.jupiter.api.Assertions.assertEquals;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link GateLink}'s order gate (a scenario file's {@code order}, docs/SCENARIOS.md "Pinning every order"): every
 * message on the direction waits for its permit (type, device, ordinal since the gate was armed), a lane's messages
 * leave in their order, other lanes and directions are not held, and a release opens it.
 */
class GateLinkOrderTest {
  private static final int DEVICE = Ids.deviceId(1, 0);
  private static final long SUB = Ids.subId(DEVICE, 1);

  private final List<HmmProtocol.Msg> wire = new ArrayList<>();
  private final GateLink gate = new GateLink((from, to, ref, env) -> wire.add(WireCodec.decode(env)));

  private void send(HmmProtocol.Msg m, long lane) {
    Envelope e = WireCodec.encode(m, new long[0], "");
    gate.send(1, 0, null, lane == 0 ? e : e.toBuilder().setLinkLane(lane).build());
  }

  private static HmmProtocol.Msg ack(long invId) { return new HmmProtocol.InvalidateAck(invId, SUB, true); }

  private static HmmProtocol.Msg unlock() { return new HmmProtocol.FolioUnlockPut(Ids.reqId(DEVICE, 3), DEVICE, 5); }

  @Test
  void eachMessageWaitsForItsPermitBehindItsLane() {
    gate.order(1, 0);
    send(ack(8), 0);
    send(unlock(), 0);
    send(ack(9), 0);
    assertEquals(List.of(), wire, "nothing leaves without a permit");
    gate.permit(1, 0, "FolioUnlockPut", DEVICE, 0);
    assertEquals(List.of(), wire, "the unlock waits behind the first ack of its lane");
    gate.permit(1, 0, "InvalidateAck", DEVICE, 0);
    assertEquals(List.of(ack(8), unlock()), wire);
    gate.permit(1, 0, "InvalidateAck", DEVICE, 2); // a permit before its message: it leaves when sent
    gate.permit(1, 0, "InvalidateAck", DEVICE, 1);
    assertEquals(List.of(ack(8), unlock(), ack(9)), wire);
    send(ack(10), 0);
    send(ack(11), 0);
    assertEquals(List.of(ack(8), unlock(), ack(9), ack(10)), wire, "the 3rd ack had its permit, the 4th has none");
    gate.send(0, 1, null, WireCodec.encode(ack(12), new long[0], "")); // the other direction is not ordered
    assertEquals(ack(12), wire.get(4));
    gate.release(1, 0);
    assertEquals(ack(11), wire.get(5), "a release opens the gate and delivers what it held");
    send(ack(13), 0);
    assertEquals(ack(13), wire.get(6));
  }

  @Test
  void anotherLaneIsNotHeldBehindAMessageWithoutPermit() {
    gate.order(1, 0);
    send(ack(8), 5);
    send(unlock(), 6);
    gate.permit(1, 0, "FolioUnlockPut", DEVICE, 0);
    assertEquals(List.of(unlock()), wire, "lane 6's unlock passes lane 5's held ack");
    send(unlock(), 6);
    assertEquals(1, wire.size(), "the 2nd unlock has no permit");
    gate.permit(1, 0, "InvalidateAck", DEVICE, 0);
    assertEquals(List.of(unlock(), ack(8)), wire);
  }
}
