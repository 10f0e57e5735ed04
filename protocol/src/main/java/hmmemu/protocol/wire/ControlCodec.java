package hmmemu.protocol.wire;

import static hmmemu.protocol.wire.ModelCodec.KERNEL_PROFILE;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.Envelope.BodyCase;
import hmmemu.protocol.wire.pb.ModelSwitches;
import hmmemu.protocol.wire.pb.ResetDone;
import hmmemu.protocol.wire.pb.ResetNode;

/** Codec of control.proto: resetting a node for a new run with the model's switches. */
final class ControlCodec {
  private ControlCodec() {}

  static void register(CodecTable<HmmProtocol.Msg, Envelope.Builder, Envelope, BodyCase> t) {
    t.add(HmmProtocol.ResetNode.class, BodyCase.RESET_NODE,
        (m, b) -> {
          ResetNode.Builder p = ResetNode.newBuilder().setReqId(m.reqId());
          if (m.runName() != null) p.setRunName(m.runName());
          if (m.switches() != null) p.setSwitches(encodeSwitches(m.switches()));
          b.setResetNode(p);
        },
        env -> {
          ResetNode p = env.getResetNode();
          return new HmmProtocol.ResetNode(p.getReqId(), p.hasRunName() ? p.getRunName() : null,
              p.hasSwitches() ? decodeSwitches(p.getSwitches()) : null);
        });

    t.add(HmmProtocol.ResetDone.class, BodyCase.RESET_DONE,
        (m, b) -> b.setResetDone(ResetDone.newBuilder().setReqId(m.reqId()).setNodeIndex(m.nodeIndex())),
        env -> {
          ResetDone p = env.getResetDone();
          return new HmmProtocol.ResetDone(p.getReqId(), p.getNodeIndex());
        });
  }

  static ModelSwitches encodeSwitches(hmmemu.protocol.model.ModelSwitches s) {
    return ModelSwitches.newBuilder()
        .setKernelProfile(KERNEL_PROFILE.enc(s.kernelProfile(), "ModelSwitches.kernelProfile"))
        .setFolioLockUntilMapped(s.folioLockUntilMapped()).setOwnerFilter(s.ownerFilter())
        .setDriverLockAcrossConversion(s.driverLockAcrossConversion()).setLeakFolioOnRetry(s.leakFolioOnRetry())
        .setDmirrorSeqCheck(s.dmirrorSeqCheck()).setHmmPfnExclusive(s.hmmPfnExclusive())
        .setDriverDeadlineMicros(s.driverDeadlineMicros()).setBrokenMapBeforeRetry(s.brokenMapBeforeRetry())
        .addAllMutants(s.mutants().stream().map(Enum::name).toList())
        .build();
  }

  static hmmemu.protocol.model.ModelSwitches decodeSwitches(ModelSwitches p) {
    return new hmmemu.protocol.model.ModelSwitches(
        KERNEL_PROFILE.dec(p.getKernelProfile(), "ModelSwitches.kernelProfile"), p.getFolioLockUntilMapped(),
        p.getOwnerFilter(), p.getDriverLockAcrossConversion(), p.getLeakFolioOnRetry(), p.getDmirrorSeqCheck(),
        p.getHmmPfnExclusive(), p.getDriverDeadlineMicros(), p.getBrokenMapBeforeRetry(),
        java.util.List.copyOf(decodeMutants(p.getMutantsList())));
  }

  private static java.util.Set<hmmemu.protocol.model.Mutant> decodeMutants(java.util.List<String> names) {
    java.util.Set<hmmemu.protocol.model.Mutant> out = java.util.EnumSet.noneOf(hmmemu.protocol.model.Mutant.class);
    for (String n : names) {
      try {
        out.add(hmmemu.protocol.model.Mutant.valueOf(n));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("WireCodec: ModelSwitches.mutants has an unknown mutant " + n);
      }
    }
    return out;
  }
}
