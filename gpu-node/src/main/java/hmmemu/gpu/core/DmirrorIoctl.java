package hmmemu.gpu.core;

import hmmemu.protocol.msg.HmmProtocol;

/** Models one dmirror ioctl of lib/test_hmm.c (PROTOCOL.md §4.6). */
final class DmirrorIoctl implements DriverMutex.Holder {
  private final Device device;
  private final StepContext ctx;
  private final Binding binding;
  private final HmmProtocol.DmirrorCmd cmd;

  DmirrorIoctl(Device device, StepContext ctx, Binding binding, HmmProtocol.DmirrorCmd cmd) {
    this.device = device;
    this.ctx = ctx;
    this.binding = binding;
    this.cmd = cmd;
  }

  void start() {
    throw new IllegalStateException("dmirror ioctls are not implemented yet");
  }

  @Override
  public String describeHolder() { return "dmirror " + cmd.op() + " req " + cmd.reqId() + " of device " + device.deviceId; }
}
