package hmmemu.protocol.wire;

import static hmmemu.protocol.wire.ModelCodec.ACCESS;
import static hmmemu.protocol.wire.ModelCodec.ERRNO;
import static hmmemu.protocol.wire.ModelCodec.NOTIFIER_KIND;
import static hmmemu.protocol.wire.ModelCodec.PTE_STATE;
import static hmmemu.protocol.wire.ModelCodec.SYSCALL_KIND;
import static hmmemu.protocol.wire.ModelCodec.VMA_KIND;
import static hmmemu.protocol.wire.WireCodec.list;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.pb.CpuAccess;
import hmmemu.protocol.wire.pb.CpuAccessDone;
import hmmemu.protocol.wire.pb.CpuThreadDone;
import hmmemu.protocol.wire.pb.CpuThreadRun;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.Envelope.BodyCase;
import hmmemu.protocol.wire.pb.InspectFolio;
import hmmemu.protocol.wire.pb.InspectNotifier;
import hmmemu.protocol.wire.pb.InspectPage;
import hmmemu.protocol.wire.pb.KthreadFolioDone;
import hmmemu.protocol.wire.pb.KthreadFolioLock;
import hmmemu.protocol.wire.pb.KthreadFolioUnlock;
import hmmemu.protocol.wire.pb.NotifierInfo;
import hmmemu.protocol.wire.pb.NotifierState;
import hmmemu.protocol.wire.pb.PageInfo;
import hmmemu.protocol.wire.pb.Syscall;
import hmmemu.protocol.wire.pb.SyscallDone;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Codec of cpu.proto: user-thread accesses, syscalls, kernel threads' folio locks and page introspection on the CPU
 * node, each message's encoder
 * next to its decoder.
 */
final class CpuCodec {
  private CpuCodec() {}

  static void register(CodecTable<HmmProtocol.Msg, Envelope.Builder, Envelope, BodyCase> t) {
    t.add(HmmProtocol.CpuAccess.class, BodyCase.CPU_ACCESS,
        (m, b) -> b.setCpuAccess(CpuAccess.newBuilder()
            .setReqId(m.reqId()).setThreadId(m.threadId()).setMmId(m.mmId()).setVa(m.va())
            .setAccess(ACCESS.enc(m.access(), "CpuAccess.access")).setValue(m.value()).setSpin(m.spin())),
        env -> {
          CpuAccess p = env.getCpuAccess();
          return new HmmProtocol.CpuAccess(p.getReqId(), p.getThreadId(), p.getMmId(), p.getVa(),
              ACCESS.dec(p.getAccess(), "CpuAccess.access"), p.getValue(), p.getSpin());
        });

    t.add(HmmProtocol.CpuAccessDone.class, BodyCase.CPU_ACCESS_DONE,
        (m, b) -> b.setCpuAccessDone(CpuAccessDone.newBuilder()
            .setReqId(m.reqId()).setThreadId(m.threadId()).setErrno(ERRNO.enc(m.errno(), "CpuAccessDone.errno"))
            .setValue(m.value()).setFaults(m.faults()).setLatencyMicros(m.latencyMicros())),
        env -> {
          CpuAccessDone p = env.getCpuAccessDone();
          return new HmmProtocol.CpuAccessDone(p.getReqId(), p.getThreadId(),
              ERRNO.dec(p.getErrno(), "CpuAccessDone.errno"), p.getValue(), p.getFaults(), p.getLatencyMicros());
        });

    t.add(HmmProtocol.CpuThreadRun.class, BodyCase.CPU_THREAD_RUN,
        (m, b) -> b.setCpuThreadRun(CpuThreadRun.newBuilder()
            .setReqId(m.reqId()).setThreadId(m.threadId()).setMmId(m.mmId()).addAllVas(m.vas())
            .setAccess(ACCESS.enc(m.access(), "CpuThreadRun.access")).setValue(m.value()).setSpin(m.spin())
            .setThinkMicros(m.thinkMicros()).setRounds(m.rounds()).setForMicros(m.forMicros())),
        env -> {
          CpuThreadRun p = env.getCpuThreadRun();
          return new HmmProtocol.CpuThreadRun(p.getReqId(), p.getThreadId(), p.getMmId(), p.getVasList(),
              ACCESS.dec(p.getAccess(), "CpuThreadRun.access"), p.getValue(), p.getSpin(), p.getThinkMicros(),
              Math.max(1, p.getRounds()), p.getForMicros());
        });

    t.add(HmmProtocol.CpuThreadDone.class, BodyCase.CPU_THREAD_DONE,
        (m, b) -> b.setCpuThreadDone(CpuThreadDone.newBuilder()
            .setReqId(m.reqId()).setThreadId(m.threadId()).setErrno(ERRNO.enc(m.errno(), "CpuThreadDone.errno"))
            .setOps(m.ops()).setFaults(m.faults()).addAllLatencyMicros(m.latencyMicros())
            .setValue(m.value()).setMicros(m.micros())),
        env -> {
          CpuThreadDone p = env.getCpuThreadDone();
          return new HmmProtocol.CpuThreadDone(p.getReqId(), p.getThreadId(),
              ERRNO.dec(p.getErrno(), "CpuThreadDone.errno"), p.getOps(), p.getFaults(), p.getLatencyMicrosList(),
              p.getValue(), p.getMicros());
        });

    t.add(HmmProtocol.Syscall.class, BodyCase.SYSCALL,
        (m, b) -> b.setSyscall(Syscall.newBuilder()
            .setReqId(m.reqId()).setMmId(m.mmId()).setKind(SYSCALL_KIND.enc(m.kind(), "Syscall.kind"))
            .setStart(m.start()).setLength(m.length()).setProt(m.prot())
            .setVmaKind(VMA_KIND.encNullable(m.vmaKind())).setChildMmId(m.childMmId()).setThreadId(m.threadId())),
        env -> {
          Syscall p = env.getSyscall();
          return new HmmProtocol.Syscall(p.getReqId(), p.getMmId(), SYSCALL_KIND.dec(p.getKind(), "Syscall.kind"),
              p.getStart(), p.getLength(), p.getProt(), VMA_KIND.decNullable(p.getVmaKind(), "Syscall.vmaKind"),
              p.getChildMmId(), p.getThreadId());
        });

    t.add(HmmProtocol.SyscallDone.class, BodyCase.SYSCALL_DONE,
        (m, b) -> b.setSyscallDone(SyscallDone.newBuilder()
            .setReqId(m.reqId()).setErrno(ERRNO.enc(m.errno(), "SyscallDone.errno")).setValue(m.value())
            .setLatencyMicros(m.latencyMicros())),
        env -> {
          SyscallDone p = env.getSyscallDone();
          return new HmmProtocol.SyscallDone(p.getReqId(), ERRNO.dec(p.getErrno(), "SyscallDone.errno"),
              p.getValue(), p.getLatencyMicros());
        });

    t.add(HmmProtocol.InspectPage.class, BodyCase.INSPECT_PAGE,
        (m, b) -> b.setInspectPage(InspectPage.newBuilder().setReqId(m.reqId()).setMmId(m.mmId()).setVa(m.va())),
        env -> {
          InspectPage p = env.getInspectPage();
          return new HmmProtocol.InspectPage(p.getReqId(), p.getMmId(), p.getVa());
        });

    t.add(HmmProtocol.PageInfo.class, BodyCase.PAGE_INFO,
        (m, b) -> b.setPageInfo(PageInfo.newBuilder()
            .setReqId(m.reqId()).setPte(PTE_STATE.enc(m.pte(), "PageInfo.pte")).setPfn(m.pfn()).setWrite(m.write())
            .setDirty(m.dirty()).setYoung(m.young()).setFolioLocked(m.folioLocked()).setRefcount(m.refcount())
            .setMapcount(m.mapcount()).setFolioDirty(m.folioDirty()).setAnonExclusive(m.anonExclusive())
            .setWord0(m.word0()).addAllWords(list(m.words()))),
        env -> {
          PageInfo p = env.getPageInfo();
          return new HmmProtocol.PageInfo(p.getReqId(), PTE_STATE.dec(p.getPte(), "PageInfo.pte"), p.getPfn(),
              p.getWrite(), p.getDirty(), p.getYoung(), p.getFolioLocked(), p.getRefcount(), p.getMapcount(),
              p.getFolioDirty(), p.getAnonExclusive(), p.getWord0(), words(p));
        });

    t.add(HmmProtocol.InspectNotifier.class, BodyCase.INSPECT_NOTIFIER,
        (m, b) -> b.setInspectNotifier(InspectNotifier.newBuilder()
            .setReqId(m.reqId()).setDeviceId(m.deviceId()).setMmId(m.mmId())),
        env -> {
          InspectNotifier p = env.getInspectNotifier();
          return new HmmProtocol.InspectNotifier(p.getReqId(), p.getDeviceId(), p.getMmId());
        });

    t.add(HmmProtocol.NotifierInfo.class, BodyCase.NOTIFIER_INFO,
        (m, b) -> {
          NotifierInfo.Builder p = NotifierInfo.newBuilder().setReqId(m.reqId()).setMmSeq(m.mmSeq())
              .setActiveRanges(m.activeRanges());
          for (HmmProtocol.NotifierState s : list(m.subscriptions())) {
            p.addSubscriptions(NotifierState.newBuilder().setSubId(s.subId())
                .setKind(NOTIFIER_KIND.enc(s.kind(), "NotifierState.kind")).setStart(s.start()).setEnd(s.end())
                .setSeq(s.seq()).setLive(s.live()).setDeferredInsert(s.deferredInsert())
                .setDeferredRemove(s.deferredRemove()));
          }
          b.setNotifierInfo(p);
        },
        env -> {
          NotifierInfo p = env.getNotifierInfo();
          List<HmmProtocol.NotifierState> subs = new ArrayList<>(p.getSubscriptionsCount());
          for (NotifierState s : p.getSubscriptionsList()) {
            subs.add(new HmmProtocol.NotifierState(s.getSubId(), NOTIFIER_KIND.dec(s.getKind(), "NotifierState.kind"),
                s.getStart(), s.getEnd(), s.getSeq(), s.getLive(), s.getDeferredInsert(), s.getDeferredRemove()));
          }
          return new HmmProtocol.NotifierInfo(p.getReqId(), p.getMmSeq(), p.getActiveRanges(),
              Collections.unmodifiableList(subs));
        });

    t.add(HmmProtocol.InspectFolio.class, BodyCase.INSPECT_FOLIO,
        (m, b) -> b.setInspectFolio(InspectFolio.newBuilder().setReqId(m.reqId()).setPfn(m.pfn())),
        env -> {
          InspectFolio p = env.getInspectFolio();
          return new HmmProtocol.InspectFolio(p.getReqId(), p.getPfn());
        });

    t.add(HmmProtocol.KthreadFolioLock.class, BodyCase.KTHREAD_FOLIO_LOCK,
        (m, b) -> {
          KthreadFolioLock.Builder p = KthreadFolioLock.newBuilder().setReqId(m.reqId()).setMmId(m.mmId()).setVa(m.va());
          if (m.kthread() != null) p.setKthread(m.kthread());
          b.setKthreadFolioLock(p);
        },
        env -> {
          KthreadFolioLock p = env.getKthreadFolioLock();
          return new HmmProtocol.KthreadFolioLock(p.getReqId(), p.hasKthread() ? p.getKthread() : null, p.getMmId(),
              p.getVa());
        });

    t.add(HmmProtocol.KthreadFolioUnlock.class, BodyCase.KTHREAD_FOLIO_UNLOCK,
        (m, b) -> {
          KthreadFolioUnlock.Builder p = KthreadFolioUnlock.newBuilder().setReqId(m.reqId());
          if (m.kthread() != null) p.setKthread(m.kthread());
          b.setKthreadFolioUnlock(p);
        },
        env -> {
          KthreadFolioUnlock p = env.getKthreadFolioUnlock();
          return new HmmProtocol.KthreadFolioUnlock(p.getReqId(), p.hasKthread() ? p.getKthread() : null);
        });

    t.add(HmmProtocol.KthreadFolioDone.class, BodyCase.KTHREAD_FOLIO_DONE,
        (m, b) -> b.setKthreadFolioDone(KthreadFolioDone.newBuilder()
            .setReqId(m.reqId()).setErrno(ERRNO.enc(m.errno(), "KthreadFolioDone.errno")).setPfn(m.pfn())),
        env -> {
          KthreadFolioDone p = env.getKthreadFolioDone();
          return new HmmProtocol.KthreadFolioDone(p.getReqId(), ERRNO.dec(p.getErrno(), "KthreadFolioDone.errno"),
              p.getPfn());
        });
  }

  /** A PageInfo's words as the CPU node built them: a list backed by a long[] (PageWords), the same Longs in order. */
  private static hmmemu.protocol.msg.PageWords words(PageInfo p) {
    long[] w = new long[p.getWordsCount()];
    for (int i = 0; i < w.length; i++) w[i] = p.getWords(i);
    return hmmemu.protocol.msg.PageWords.wrap(w);
  }
}
