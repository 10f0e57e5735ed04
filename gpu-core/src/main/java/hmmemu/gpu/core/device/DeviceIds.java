package hmmemu.gpu.core.device;

/**
 * The ids one device hands out: subIds {@code deviceId << 32 | n} and reqIds {@code deviceId << 40 | n}, so that
 * replies and callbacks route to their device by id. One instance lives as long as the device: the counters
 * survive a ResetNode, so a late message of an earlier run never matches new state.
 */
public final class DeviceIds {
  private final int deviceId;
  private long subCounter;
  private long reqCounter;

  public DeviceIds(int deviceId) { this.deviceId = deviceId; }

  public int deviceId() { return deviceId; }

  public long newSubId() { return hmmemu.protocol.msg.Ids.subId(deviceId, ++subCounter); }

  public long newReqId() { return hmmemu.protocol.msg.Ids.reqId(deviceId, ++reqCounter); }
}
