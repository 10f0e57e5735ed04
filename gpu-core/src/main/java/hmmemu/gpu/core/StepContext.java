package hmmemu.gpu.core;

import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;

/**
 * What every component of one GPU node shares during one step: the Ready being filled, the model time of the
 * step and the switches of the current run. Single-threaded; {@link GpuNode#step} sets it before dispatching.
 */
final class StepContext {
  Ready ready = new Ready();
  long nowMicros;
  ModelSwitches switches;

  StepContext(ModelSwitches switches) { this.switches = switches; }

  void toCpu(HmmProtocol.Msg msg) { ready.send(Outbound.toCpu(msg)); }

  void reply(HmmProtocol.Msg msg) { ready.send(Outbound.reply(msg)); }

  void emit(Trace.Event event) { ready.emit(event); }
}
