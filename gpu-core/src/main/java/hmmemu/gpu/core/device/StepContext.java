package hmmemu.gpu.core.device;

import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;

/**
 * What every component of one GPU node shares during one step: the Ready being filled, the model time of the
 * step and the switches of the current run. Single-threaded; {@code GpuNode.step} begins it before dispatching.
 */
public final class StepContext {
  private Ready ready = new Ready();
  private long nowMicros;
  private ModelSwitches switches;

  public StepContext(ModelSwitches switches) { this.switches = switches; }

  /** Starts a step at model time {@code nowMicros} with an empty Ready. */
  public void begin(long nowMicros) {
    this.ready = new Ready();
    this.nowMicros = nowMicros;
  }

  public Ready ready() { return ready; }

  public long nowMicros() { return nowMicros; }

  public ModelSwitches switches() { return switches; }

  public void switches(ModelSwitches switches) { this.switches = switches; }

  public void toCpu(HmmProtocol.Msg msg) { ready.send(Outbound.toCpu(msg)); }

  public void reply(HmmProtocol.Msg msg) { ready.send(Outbound.reply(msg)); }

  public void emit(Trace.Event event) { ready.emit(event); }

  /** An invalidate callback returns: its InvalidateAck (ok = false: non-blockable -EAGAIN), traced first. */
  public void ackInvalidate(int deviceId, HmmProtocol.InvalidateStart inv, boolean ok, boolean ignored) {
    ackInvalidate(deviceId, inv, ok, ignored, false);
  }

  /** @param seqSet the callback called mmu_interval_set_seq() (what mmu_interval_check_retry() can see) */
  public void ackInvalidate(int deviceId, HmmProtocol.InvalidateStart inv, boolean ok, boolean ignored,
      boolean seqSet) {
    emit(new Trace.InvalidateAcked(inv.invId(), inv.subId(), deviceId, ok, ignored));
    toCpu(new HmmProtocol.InvalidateAck(inv.invId(), inv.subId(), ok, seqSet));
  }
}
