package hmmemu.protocol.wire;

import static hmmemu.protocol.wire.ModelCodec.ERRNO;
import static hmmemu.protocol.wire.WireCodec.list;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.Envelope.BodyCase;
import hmmemu.protocol.wire.pb.MigrateToRam;
import hmmemu.protocol.wire.pb.MigrateToRamDone;
import hmmemu.protocol.wire.pb.MigrateVmaFinalize;
import hmmemu.protocol.wire.pb.MigrateVmaPages;
import hmmemu.protocol.wire.pb.MigrateVmaReply;
import hmmemu.protocol.wire.pb.MigrateVmaSetup;
import java.util.List;

/**
 * Codec of migrate.proto: migrate_vma_setup/pages/finalize and their reply (driver <-> CPU node), migrate_to_ram
 * and its return (CPU node <-> the owning driver), each message's encoder next to its decoder.
 */
final class MigrateCodec {
  private MigrateCodec() {}

  static void register(CodecTable<HmmProtocol.Msg, Envelope.Builder, Envelope, BodyCase> t) {
    t.add(HmmProtocol.MigrateVmaSetup.class, BodyCase.MIGRATE_VMA_SETUP,
        (m, b) -> b.setMigrateVmaSetup(MigrateVmaSetup.newBuilder().setReqId(m.reqId()).setDeviceId(m.deviceId())
            .setMmId(m.mmId()).setStart(m.start()).setNpages(m.npages()).setFlags(m.flags())
            .setPgmapOwner(m.pgmapOwner()).setFaultPfn(m.faultPfn())),
        env -> {
          MigrateVmaSetup p = env.getMigrateVmaSetup();
          return new HmmProtocol.MigrateVmaSetup(p.getReqId(), p.getDeviceId(), p.getMmId(), p.getStart(),
              p.getNpages(), p.getFlags(), p.getPgmapOwner(), p.getFaultPfn());
        });

    t.add(HmmProtocol.MigrateVmaPages.class, BodyCase.MIGRATE_VMA_PAGES,
        (m, b) -> b.setMigrateVmaPages(MigrateVmaPages.newBuilder().setReqId(m.reqId()).setDeviceId(m.deviceId())
            .setMigrateId(m.migrateId()).addAllDst(list(m.dst())).addAllContents(list(m.contents()))),
        env -> {
          MigrateVmaPages p = env.getMigrateVmaPages();
          return new HmmProtocol.MigrateVmaPages(p.getReqId(), p.getDeviceId(), p.getMigrateId(),
              List.copyOf(p.getDstList()), List.copyOf(p.getContentsList()));
        });

    t.add(HmmProtocol.MigrateVmaFinalize.class, BodyCase.MIGRATE_VMA_FINALIZE,
        (m, b) -> b.setMigrateVmaFinalize(MigrateVmaFinalize.newBuilder().setReqId(m.reqId())
            .setDeviceId(m.deviceId()).setMigrateId(m.migrateId())),
        env -> {
          MigrateVmaFinalize p = env.getMigrateVmaFinalize();
          return new HmmProtocol.MigrateVmaFinalize(p.getReqId(), p.getDeviceId(), p.getMigrateId());
        });

    t.add(HmmProtocol.MigrateVmaReply.class, BodyCase.MIGRATE_VMA_REPLY,
        (m, b) -> b.setMigrateVmaReply(MigrateVmaReply.newBuilder().setReqId(m.reqId())
            .setErrno(ERRNO.enc(m.errno(), "MigrateVmaReply.errno")).setMigrateId(m.migrateId())
            .addAllSrc(list(m.src())).setCpages(m.cpages()).addAllContents(list(m.contents()))
            .setVmaWrite(m.vmaWrite())),
        env -> {
          MigrateVmaReply p = env.getMigrateVmaReply();
          return new HmmProtocol.MigrateVmaReply(p.getReqId(), ERRNO.dec(p.getErrno(), "MigrateVmaReply.errno"),
              p.getMigrateId(), List.copyOf(p.getSrcList()), p.getCpages(), List.copyOf(p.getContentsList()),
              p.getVmaWrite());
        });

    t.add(HmmProtocol.MigrateToRam.class, BodyCase.MIGRATE_TO_RAM,
        (m, b) -> b.setMigrateToRam(MigrateToRam.newBuilder().setFaultId(m.faultId()).setDeviceId(m.deviceId())
            .setMmId(m.mmId()).setVa(m.va()).setPfn(m.pfn()).setThreadId(m.threadId())),
        env -> {
          MigrateToRam p = env.getMigrateToRam();
          return new HmmProtocol.MigrateToRam(p.getFaultId(), p.getDeviceId(), p.getMmId(), p.getVa(), p.getPfn(),
              p.getThreadId());
        });

    t.add(HmmProtocol.MigrateToRamDone.class, BodyCase.MIGRATE_TO_RAM_DONE,
        (m, b) -> b.setMigrateToRamDone(MigrateToRamDone.newBuilder().setFaultId(m.faultId()).setDeviceId(m.deviceId())
            .setErrno(ERRNO.enc(m.errno(), "MigrateToRamDone.errno"))),
        env -> {
          MigrateToRamDone p = env.getMigrateToRamDone();
          return new HmmProtocol.MigrateToRamDone(p.getFaultId(), p.getDeviceId(),
              ERRNO.dec(p.getErrno(), "MigrateToRamDone.errno"));
        });
  }
}
