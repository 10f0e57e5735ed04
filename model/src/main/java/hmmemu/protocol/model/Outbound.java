package hmmemu.protocol.model;

import hmmemu.protocol.msg.HmmProtocol;

/**
 * One message a pure core asks its shell to send.
 *
 * @param deviceId the destination device for CPU-to-device messages; {@link #TO_CPU} for device-to-CPU
 *                 messages; {@link #TO_REQUESTER} for a reply to whoever sent the request with the same reqId
 */
public record Outbound(int deviceId, HmmProtocol.Msg msg) {
  public static final int TO_CPU = -1;
  public static final int TO_REQUESTER = -2;

  public static Outbound toDevice(int deviceId, HmmProtocol.Msg msg) {
    if (deviceId < 0) throw new IllegalArgumentException("deviceId must be >= 0: " + deviceId);
    return new Outbound(deviceId, msg);
  }

  public static Outbound toCpu(HmmProtocol.Msg msg) { return new Outbound(TO_CPU, msg); }

  public static Outbound reply(HmmProtocol.Msg msg) { return new Outbound(TO_REQUESTER, msg); }
}
