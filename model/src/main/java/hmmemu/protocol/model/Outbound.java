package hmmemu.protocol.model;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.msg.Msgs;

/** One message a pure core asks its host to send, with the destination the core resolved itself. */
public record Outbound(Destination to, HmmProtocol.Msg msg) {

  public Outbound {
    java.util.Objects.requireNonNull(to, "destination");
    java.util.Objects.requireNonNull(msg, "msg");
  }

  public static Outbound toDevice(int deviceId, HmmProtocol.Msg msg) {
    return new Outbound(new Destination.Device(deviceId), msg);
  }

  public static Outbound toCpu(HmmProtocol.Msg msg) { return new Outbound(Destination.CPU, msg); }

  /**
   * The answer to request {@code reqId} of {@code msg} (a {@link HmmProtocol.HasReqId}): to the controller that
   * sent it when the reqId is a controller's, else to the device whose driver sent it (reqId packs its device id,
   * {@link Ids#reqId}).
   */
  public static Outbound reply(HmmProtocol.Msg msg) {
    long reqId = Msgs.reqIdOf(msg);
    if (reqId < 0) throw new IllegalArgumentException("a reply carries the reqId it answers: " + msg);
    return new Outbound(Ids.isControllerReq(reqId) ? new Destination.Controller(reqId)
        : new Destination.Device(Ids.deviceOfReq(reqId)), msg);
  }

  /** The destination device; only for messages to a device. */
  public int deviceId() {
    if (to instanceof Destination.Device d) return d.deviceId();
    throw new IllegalStateException("not addressed to a device: " + this);
  }
}
