package hmmemu.protocol.wire;

import static hmmemu.protocol.wire.ModelCodec.ACCESS;
import static hmmemu.protocol.wire.ModelCodec.ERRNO;
import static hmmemu.protocol.wire.WireCodec.list;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.pb.DeviceMemoryAccess;
import hmmemu.protocol.wire.pb.DeviceMemoryAccessReply;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.Envelope.BodyCase;
import hmmemu.protocol.wire.pb.FolioUnlockPut;
import hmmemu.protocol.wire.pb.HmmRangeFault;
import hmmemu.protocol.wire.pb.HmmRangeFaultReply;
import hmmemu.protocol.wire.pb.MakeDeviceExclusive;
import hmmemu.protocol.wire.pb.MakeDeviceExclusiveRange;
import hmmemu.protocol.wire.pb.MakeDeviceExclusiveRangeReply;
import hmmemu.protocol.wire.pb.MakeDeviceExclusiveReply;
import hmmemu.protocol.wire.pb.UnlockFence;
import hmmemu.protocol.wire.pb.UnlockFenceReply;
import java.util.List;

/**
 * Codec of exclusive.proto: make_device_exclusive, 5.14's make_device_exclusive_range, folio_unlock + folio_put (and the emulator-only UnlockFence), hmm_range_fault and device accesses to
 * host memory (driver/device <-> CPU node), each message's encoder next to its decoder.
 */
final class ExclusiveCodec {
  private ExclusiveCodec() {}

  static void register(CodecTable<HmmProtocol.Msg, Envelope.Builder, Envelope, BodyCase> t) {
    t.add(HmmProtocol.MakeDeviceExclusive.class, BodyCase.MAKE_DEVICE_EXCLUSIVE,
        (m, b) -> b.setMakeDeviceExclusive(MakeDeviceExclusive.newBuilder()
            .setReqId(m.reqId()).setDeviceId(m.deviceId()).setMmId(m.mmId()).setVa(m.va()).setOwner(m.owner())),
        env -> {
          MakeDeviceExclusive p = env.getMakeDeviceExclusive();
          return new HmmProtocol.MakeDeviceExclusive(p.getReqId(), p.getDeviceId(), p.getMmId(), p.getVa(),
              p.getOwner());
        });

    t.add(HmmProtocol.MakeDeviceExclusiveReply.class, BodyCase.MAKE_DEVICE_EXCLUSIVE_REPLY,
        (m, b) -> b.setMakeDeviceExclusiveReply(MakeDeviceExclusiveReply.newBuilder().setReqId(m.reqId())
            .setErrno(ERRNO.enc(m.errno(), "MakeDeviceExclusiveReply.errno")).setPfn(m.pfn())),
        env -> {
          MakeDeviceExclusiveReply p = env.getMakeDeviceExclusiveReply();
          return new HmmProtocol.MakeDeviceExclusiveReply(p.getReqId(),
              ERRNO.dec(p.getErrno(), "MakeDeviceExclusiveReply.errno"), p.getPfn());
        });

    t.add(HmmProtocol.MakeDeviceExclusiveRange.class, BodyCase.MAKE_DEVICE_EXCLUSIVE_RANGE,
        (m, b) -> b.setMakeDeviceExclusiveRange(MakeDeviceExclusiveRange.newBuilder()
            .setReqId(m.reqId()).setDeviceId(m.deviceId()).setMmId(m.mmId()).setStart(m.start()).setOwner(m.owner())
            .addAllPageReqIds(list(m.pageReqIds()))),
        env -> {
          MakeDeviceExclusiveRange p = env.getMakeDeviceExclusiveRange();
          return new HmmProtocol.MakeDeviceExclusiveRange(p.getReqId(), p.getDeviceId(), p.getMmId(), p.getStart(),
              p.getOwner(), List.copyOf(p.getPageReqIdsList()));
        });

    t.add(HmmProtocol.MakeDeviceExclusiveRangeReply.class, BodyCase.MAKE_DEVICE_EXCLUSIVE_RANGE_REPLY,
        (m, b) -> b.setMakeDeviceExclusiveRangeReply(MakeDeviceExclusiveRangeReply.newBuilder().setReqId(m.reqId())
            .setErrno(ERRNO.enc(m.errno(), "MakeDeviceExclusiveRangeReply.errno")).setNpages(m.npages())
            .addAllPfns(list(m.pfns()))),
        env -> {
          MakeDeviceExclusiveRangeReply p = env.getMakeDeviceExclusiveRangeReply();
          return new HmmProtocol.MakeDeviceExclusiveRangeReply(p.getReqId(),
              ERRNO.dec(p.getErrno(), "MakeDeviceExclusiveRangeReply.errno"), p.getNpages(),
              List.copyOf(p.getPfnsList()));
        });

    t.add(HmmProtocol.FolioUnlockPut.class, BodyCase.FOLIO_UNLOCK_PUT,
        (m, b) -> b.setFolioUnlockPut(FolioUnlockPut.newBuilder()
            .setReqId(m.reqId()).setDeviceId(m.deviceId()).setPfn(m.pfn()).setThenRemoveSubId(m.thenRemoveSubId())),
        env -> {
          FolioUnlockPut p = env.getFolioUnlockPut();
          return new HmmProtocol.FolioUnlockPut(p.getReqId(), p.getDeviceId(), p.getPfn(), p.getThenRemoveSubId());
        });

    t.add(HmmProtocol.UnlockFence.class, BodyCase.UNLOCK_FENCE,
        (m, b) -> b.setUnlockFence(UnlockFence.newBuilder().setReqId(m.reqId()).setDeviceId(m.deviceId())),
        env -> new HmmProtocol.UnlockFence(env.getUnlockFence().getReqId(), env.getUnlockFence().getDeviceId()));

    t.add(HmmProtocol.UnlockFenceReply.class, BodyCase.UNLOCK_FENCE_REPLY,
        (m, b) -> b.setUnlockFenceReply(UnlockFenceReply.newBuilder().setReqId(m.reqId())),
        env -> new HmmProtocol.UnlockFenceReply(env.getUnlockFenceReply().getReqId()));

    t.add(HmmProtocol.HmmRangeFault.class, BodyCase.HMM_RANGE_FAULT,
        (m, b) -> b.setHmmRangeFault(HmmRangeFault.newBuilder()
            .setReqId(m.reqId()).setDeviceId(m.deviceId()).setSubId(m.subId()).setSeq(m.seq()).setMmId(m.mmId())
            .setStart(m.start()).addAllReqFlags(list(m.reqFlags())).setDevPrivateOwner(m.devPrivateOwner())),
        env -> {
          HmmRangeFault p = env.getHmmRangeFault();
          return new HmmProtocol.HmmRangeFault(p.getReqId(), p.getDeviceId(), p.getSubId(), p.getSeq(), p.getMmId(),
              p.getStart(), List.copyOf(p.getReqFlagsList()), p.getDevPrivateOwner());
        });

    t.add(HmmProtocol.HmmRangeFaultReply.class, BodyCase.HMM_RANGE_FAULT_REPLY,
        (m, b) -> b.setHmmRangeFaultReply(HmmRangeFaultReply.newBuilder()
            .setReqId(m.reqId()).setErrno(ERRNO.enc(m.errno(), "HmmRangeFaultReply.errno"))
            .addAllHmmPfns(list(m.hmmPfns()))),
        env -> {
          HmmRangeFaultReply p = env.getHmmRangeFaultReply();
          return new HmmProtocol.HmmRangeFaultReply(p.getReqId(),
              ERRNO.dec(p.getErrno(), "HmmRangeFaultReply.errno"), List.copyOf(p.getHmmPfnsList()));
        });

    t.add(HmmProtocol.DeviceMemoryAccess.class, BodyCase.DEVICE_MEMORY_ACCESS,
        (m, b) -> b.setDeviceMemoryAccess(DeviceMemoryAccess.newBuilder()
            .setReqId(m.reqId()).setDeviceId(m.deviceId()).setPfn(m.pfn()).setWordIndex(m.wordIndex())
            .setAccess(ACCESS.enc(m.access(), "DeviceMemoryAccess.access")).setValue(m.value())),
        env -> {
          DeviceMemoryAccess p = env.getDeviceMemoryAccess();
          return new HmmProtocol.DeviceMemoryAccess(p.getReqId(), p.getDeviceId(), p.getPfn(), p.getWordIndex(),
              ACCESS.dec(p.getAccess(), "DeviceMemoryAccess.access"), p.getValue());
        });

    t.add(HmmProtocol.DeviceMemoryAccessReply.class, BodyCase.DEVICE_MEMORY_ACCESS_REPLY,
        (m, b) -> b.setDeviceMemoryAccessReply(DeviceMemoryAccessReply.newBuilder()
            .setReqId(m.reqId()).setValue(m.value())),
        env -> {
          DeviceMemoryAccessReply p = env.getDeviceMemoryAccessReply();
          return new HmmProtocol.DeviceMemoryAccessReply(p.getReqId(), p.getValue());
        });
  }
}
