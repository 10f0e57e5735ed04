package hmmemu.gpu.core.device;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.msg.HmmProtocol;

/**
 * One outstanding access of a device thread (warp). It either travels to host memory through a device
 * page-table entry or waits in the fault buffer for the driver and the REPLAY that re-executes it.
 */
public final class WarpAccess {
  public final long reqId;
  public final int mmId;
  public final long va;
  public final Access access;
  public final long value;
  public final long issuedAtMicros;
  /** Arrival order on this device; the deterministic tie-break among equal faults. */
  public final long arrival;
  int faultRounds;

  WarpAccess(HmmProtocol.DeviceAccess msg, long issuedAtMicros, long arrival) {
    this.reqId = msg.reqId();
    this.mmId = msg.mmId();
    this.va = msg.va();
    this.access = msg.access();
    this.value = msg.value();
    this.issuedAtMicros = issuedAtMicros;
    this.arrival = arrival;
  }

  public long page() { return hmmemu.protocol.model.Page.alignDown(va); }
}
