package hmmemu.protocol.wire;

import static hmmemu.protocol.wire.ModelCodec.ACCESS;
import static hmmemu.protocol.wire.ModelCodec.DMIRROR_OP;
import static hmmemu.protocol.wire.ModelCodec.DRIVER_FLAVOUR;
import static hmmemu.protocol.wire.ModelCodec.ERRNO;
import static hmmemu.protocol.wire.WireCodec.list;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.pb.BindMm;
import hmmemu.protocol.wire.pb.DeviceAccess;
import hmmemu.protocol.wire.pb.DeviceAccessDone;
import hmmemu.protocol.wire.pb.DeviceEntry;
import hmmemu.protocol.wire.pb.DeviceInfo;
import hmmemu.protocol.wire.pb.DmirrorCmd;
import hmmemu.protocol.wire.pb.DmirrorReply;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.Envelope.BodyCase;
import hmmemu.protocol.wire.pb.InspectDevice;
import hmmemu.protocol.wire.pb.MmBound;
import hmmemu.protocol.wire.pb.WarpDone;
import hmmemu.protocol.wire.pb.WarpRun;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Codec of device.proto: device accesses, driver binding, dmirror ioctls and device introspection on a GPU node,
 * each message's encoder next to its decoder.
 */
final class DeviceCodec {
  private DeviceCodec() {}

  static void register(CodecTable<HmmProtocol.Msg, Envelope.Builder, Envelope, BodyCase> t) {
    t.add(HmmProtocol.DeviceAccess.class, BodyCase.DEVICE_ACCESS,
        (m, b) -> b.setDeviceAccess(DeviceAccess.newBuilder()
            .setReqId(m.reqId()).setDeviceId(m.deviceId()).setMmId(m.mmId()).setVa(m.va())
            .setAccess(ACCESS.enc(m.access(), "DeviceAccess.access")).setValue(m.value())),
        env -> {
          DeviceAccess p = env.getDeviceAccess();
          return new HmmProtocol.DeviceAccess(p.getReqId(), p.getDeviceId(), p.getMmId(), p.getVa(),
              ACCESS.dec(p.getAccess(), "DeviceAccess.access"), p.getValue());
        });

    t.add(HmmProtocol.DeviceAccessDone.class, BodyCase.DEVICE_ACCESS_DONE,
        (m, b) -> b.setDeviceAccessDone(DeviceAccessDone.newBuilder()
            .setReqId(m.reqId()).setDeviceId(m.deviceId()).setErrno(ERRNO.enc(m.errno(), "DeviceAccessDone.errno"))
            .setValue(m.value()).setFaultRounds(m.faultRounds()).setLatencyMicros(m.latencyMicros())),
        env -> {
          DeviceAccessDone p = env.getDeviceAccessDone();
          return new HmmProtocol.DeviceAccessDone(p.getReqId(), p.getDeviceId(),
              ERRNO.dec(p.getErrno(), "DeviceAccessDone.errno"), p.getValue(), p.getFaultRounds(),
              p.getLatencyMicros());
        });

    t.add(HmmProtocol.WarpRun.class, BodyCase.WARP_RUN,
        (m, b) -> b.setWarpRun(WarpRun.newBuilder()
            .setReqId(m.reqId()).setDeviceId(m.deviceId()).setWarpId(m.warpId()).setMmId(m.mmId()).addAllVas(m.vas())
            .setAccess(ACCESS.enc(m.access(), "WarpRun.access")).setValue(m.value())),
        env -> {
          WarpRun p = env.getWarpRun();
          return new HmmProtocol.WarpRun(p.getReqId(), p.getDeviceId(), p.getWarpId(), p.getMmId(), p.getVasList(),
              ACCESS.dec(p.getAccess(), "WarpRun.access"), p.getValue());
        });

    t.add(HmmProtocol.WarpDone.class, BodyCase.WARP_DONE,
        (m, b) -> {
          WarpDone.Builder w = WarpDone.newBuilder()
              .setReqId(m.reqId()).setDeviceId(m.deviceId()).setWarpId(m.warpId())
              .addAllLatencyMicros(m.latencyMicros()).setFaultRounds(m.faultRounds());
          for (hmmemu.protocol.model.Errno e : m.errnos()) w.addErrnos(ERRNO.enc(e, "WarpDone.errnos"));
          b.setWarpDone(w);
        },
        env -> {
          WarpDone p = env.getWarpDone();
          List<hmmemu.protocol.model.Errno> errnos = new ArrayList<>(p.getErrnosCount());
          for (hmmemu.protocol.wire.pb.Errno e : p.getErrnosList()) errnos.add(ERRNO.dec(e, "WarpDone.errnos"));
          return new HmmProtocol.WarpDone(p.getReqId(), p.getDeviceId(), p.getWarpId(), errnos,
              p.getLatencyMicrosList(), p.getFaultRounds());
        });

    t.add(HmmProtocol.BindMm.class, BodyCase.BIND_MM,
        (m, b) -> b.setBindMm(BindMm.newBuilder()
            .setReqId(m.reqId()).setDeviceId(m.deviceId()).setMmId(m.mmId())
            .setFlavour(DRIVER_FLAVOUR.enc(m.flavour(), "BindMm.flavour"))),
        env -> {
          BindMm p = env.getBindMm();
          return new HmmProtocol.BindMm(p.getReqId(), p.getDeviceId(), p.getMmId(),
              DRIVER_FLAVOUR.dec(p.getFlavour(), "BindMm.flavour"));
        });

    t.add(HmmProtocol.MmBound.class, BodyCase.MM_BOUND,
        (m, b) -> b.setMmBound(MmBound.newBuilder()
            .setReqId(m.reqId()).setDeviceId(m.deviceId()).setOwner(m.owner())),
        env -> {
          MmBound p = env.getMmBound();
          return new HmmProtocol.MmBound(p.getReqId(), p.getDeviceId(), p.getOwner());
        });

    t.add(HmmProtocol.DmirrorCmd.class, BodyCase.DMIRROR_CMD,
        (m, b) -> b.setDmirrorCmd(DmirrorCmd.newBuilder()
            .setReqId(m.reqId()).setDeviceId(m.deviceId()).setMmId(m.mmId())
            .setOp(DMIRROR_OP.enc(m.op(), "DmirrorCmd.op")).setStart(m.start()).setNpages(m.npages())
            .addAllData(list(m.data()))),
        env -> {
          DmirrorCmd p = env.getDmirrorCmd();
          return new HmmProtocol.DmirrorCmd(p.getReqId(), p.getDeviceId(), p.getMmId(),
              DMIRROR_OP.dec(p.getOp(), "DmirrorCmd.op"), p.getStart(), p.getNpages(),
              List.copyOf(p.getDataList()));
        });

    t.add(HmmProtocol.DmirrorReply.class, BodyCase.DMIRROR_REPLY,
        (m, b) -> b.setDmirrorReply(DmirrorReply.newBuilder()
            .setReqId(m.reqId()).setErrno(ERRNO.enc(m.errno(), "DmirrorReply.errno")).setFaults(m.faults())
            .setCpages(m.cpages()).addAllData(list(m.data())).setLatencyMicros(m.latencyMicros())),
        env -> {
          DmirrorReply p = env.getDmirrorReply();
          return new HmmProtocol.DmirrorReply(p.getReqId(), ERRNO.dec(p.getErrno(), "DmirrorReply.errno"),
              p.getFaults(), p.getCpages(), List.copyOf(p.getDataList()), p.getLatencyMicros());
        });

    t.add(HmmProtocol.InspectDevice.class, BodyCase.INSPECT_DEVICE,
        (m, b) -> b.setInspectDevice(InspectDevice.newBuilder().setReqId(m.reqId()).setDeviceId(m.deviceId())),
        env -> {
          InspectDevice p = env.getInspectDevice();
          return new HmmProtocol.InspectDevice(p.getReqId(), p.getDeviceId());
        });

    t.add(HmmProtocol.DeviceInfo.class, BodyCase.DEVICE_INFO,
        (m, b) -> {
          DeviceInfo.Builder p = DeviceInfo.newBuilder().setReqId(m.reqId()).setDeviceId(m.deviceId())
              .setFaults(m.faults()).setDriverIterations(m.driverIterations())
              .setDriverIterationsMax(m.driverIterationsMax()).setDriverTimeouts(m.driverTimeouts())
              .setCancels(m.cancels()).setInvalidations(m.invalidations()).setReplays(m.replays())
              .setFaultsHandled(m.faultsHandled()).addAllDeadlockSuspects(list(m.deadlockSuspects()));
          for (HmmProtocol.DeviceEntry e : list(m.entries())) {
            p.addEntries(DeviceEntry.newBuilder().setMmId(e.mmId()).setVa(e.va()).setPfn(e.pfn())
                .setRead(e.read()).setWrite(e.write()).setAtomic(e.atomic()));
          }
          b.setDeviceInfo(p);
        },
        env -> {
          DeviceInfo p = env.getDeviceInfo();
          List<HmmProtocol.DeviceEntry> entries = new ArrayList<>(p.getEntriesCount());
          for (DeviceEntry e : p.getEntriesList()) {
            entries.add(new HmmProtocol.DeviceEntry(e.getMmId(), e.getVa(), e.getPfn(), e.getRead(), e.getWrite(),
                e.getAtomic()));
          }
          return new HmmProtocol.DeviceInfo(p.getReqId(), p.getDeviceId(), Collections.unmodifiableList(entries),
              p.getFaults(), p.getDriverIterations(), p.getDriverIterationsMax(), p.getDriverTimeouts(),
              p.getCancels(), p.getInvalidations(), p.getReplays(), p.getFaultsHandled(),
              Collections.unmodifiableList(new ArrayList<>(p.getDeadlockSuspectsList())));
        });
  }
}
