package hmmemu.protocol.wire;

import static hmmemu.protocol.wire.ModelCodec.NOTIFIER_KIND;
import static hmmemu.protocol.wire.ModelCodec.NOTIFY_EVENT;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.Envelope.BodyCase;
import hmmemu.protocol.wire.pb.InvalidateAck;
import hmmemu.protocol.wire.pb.InvalidateEnd;
import hmmemu.protocol.wire.pb.InvalidateStart;
import hmmemu.protocol.wire.pb.NotifierInsert;
import hmmemu.protocol.wire.pb.NotifierInserted;
import hmmemu.protocol.wire.pb.NotifierRemove;
import hmmemu.protocol.wire.pb.NotifierRemoved;

/**
 * Codec of notifier.proto: subscription insert/remove (driver -> CPU node) and the invalidate callbacks
 * (CPU node -> driver), each message's encoder next to its decoder.
 */
final class NotifierCodec {
  private NotifierCodec() {}

  static void register(CodecTable<HmmProtocol.Msg, Envelope.Builder, Envelope, BodyCase> t) {
    t.add(HmmProtocol.NotifierInsert.class, BodyCase.NOTIFIER_INSERT,
        (m, b) -> b.setNotifierInsert(NotifierInsert.newBuilder()
            .setSubId(m.subId()).setDeviceId(m.deviceId()).setMmId(m.mmId())
            .setKind(NOTIFIER_KIND.enc(m.kind(), "NotifierInsert.kind")).setStart(m.start()).setEnd(m.end())),
        env -> {
          NotifierInsert p = env.getNotifierInsert();
          return new HmmProtocol.NotifierInsert(p.getSubId(), p.getDeviceId(), p.getMmId(),
              NOTIFIER_KIND.dec(p.getKind(), "NotifierInsert.kind"), p.getStart(), p.getEnd());
        });

    t.add(HmmProtocol.NotifierRemove.class, BodyCase.NOTIFIER_REMOVE,
        (m, b) -> b.setNotifierRemove(NotifierRemove.newBuilder().setSubId(m.subId())),
        env -> new HmmProtocol.NotifierRemove(env.getNotifierRemove().getSubId()));

    t.add(HmmProtocol.NotifierRemoved.class, BodyCase.NOTIFIER_REMOVED,
        (m, b) -> b.setNotifierRemoved(NotifierRemoved.newBuilder().setSubId(m.subId())),
        env -> new HmmProtocol.NotifierRemoved(env.getNotifierRemoved().getSubId()));

    t.add(HmmProtocol.NotifierInserted.class, BodyCase.NOTIFIER_INSERTED,
        (m, b) -> b.setNotifierInserted(NotifierInserted.newBuilder().setSubId(m.subId()).setSeq(m.seq())
            .setMmSeq(m.mmSeq())),
        env -> {
          NotifierInserted p = env.getNotifierInserted();
          return new HmmProtocol.NotifierInserted(p.getSubId(), p.getSeq(), p.getMmSeq());
        });

    t.add(HmmProtocol.InvalidateStart.class, BodyCase.INVALIDATE_START,
        (m, b) -> b.setInvalidateStart(InvalidateStart.newBuilder()
            .setInvId(m.invId()).setSubId(m.subId()).setMmId(m.mmId()).setStart(m.start()).setEnd(m.end())
            .setEvent(NOTIFY_EVENT.enc(m.event(), "InvalidateStart.event")).setOwner(m.owner())
            .setBlockable(m.blockable()).setCurSeq(m.curSeq())),
        env -> {
          InvalidateStart p = env.getInvalidateStart();
          return new HmmProtocol.InvalidateStart(p.getInvId(), p.getSubId(), p.getMmId(), p.getStart(), p.getEnd(),
              NOTIFY_EVENT.dec(p.getEvent(), "InvalidateStart.event"), p.getOwner(), p.getBlockable(),
              p.getCurSeq());
        });

    t.add(HmmProtocol.InvalidateAck.class, BodyCase.INVALIDATE_ACK,
        (m, b) -> b.setInvalidateAck(InvalidateAck.newBuilder()
            .setInvId(m.invId()).setSubId(m.subId()).setOk(m.ok()).setSeqSet(m.seqSet())),
        env -> {
          InvalidateAck p = env.getInvalidateAck();
          return new HmmProtocol.InvalidateAck(p.getInvId(), p.getSubId(), p.getOk(), p.getSeqSet());
        });

    t.add(HmmProtocol.InvalidateEnd.class, BodyCase.INVALIDATE_END,
        (m, b) -> b.setInvalidateEnd(InvalidateEnd.newBuilder().setSubId(m.subId()).setSeq(m.seq())),
        env -> {
          InvalidateEnd p = env.getInvalidateEnd();
          return new HmmProtocol.InvalidateEnd(p.getSubId(), p.getSeq());
        });
  }
}
