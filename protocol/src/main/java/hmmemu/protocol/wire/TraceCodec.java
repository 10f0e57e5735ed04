package hmmemu.protocol.wire;

import static hmmemu.protocol.wire.ModelCodec.ACCESS;
import static hmmemu.protocol.wire.ModelCodec.ERRNO;
import static hmmemu.protocol.wire.ModelCodec.NOTIFIER_KIND;
import static hmmemu.protocol.wire.ModelCodec.NOTIFY_EVENT;
import static hmmemu.protocol.wire.ModelCodec.PTE_STATE;
import static hmmemu.protocol.wire.ModelCodec.VMA_KIND;
import static hmmemu.protocol.wire.WireCodec.list;

import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.wire.pb.CpuFaulted;
import hmmemu.protocol.wire.pb.DeviceAccessCompleted;
import hmmemu.protocol.wire.pb.DeviceAccessIssued;
import hmmemu.protocol.wire.pb.DeviceEntryInstalled;
import hmmemu.protocol.wire.pb.DeviceEntryZapped;
import hmmemu.protocol.wire.pb.DeviceFaulted;
import hmmemu.protocol.wire.pb.DriverBound;
import hmmemu.protocol.wire.pb.DriverFaultHandled;
import hmmemu.protocol.wire.pb.DriverLockHeldAcross;
import hmmemu.protocol.wire.pb.ExclusiveReturned;
import hmmemu.protocol.wire.pb.FolioChanged;
import hmmemu.protocol.wire.pb.FolioLockLeaseExpired;
import hmmemu.protocol.wire.pb.FolioUnlockPutDone;
import hmmemu.protocol.wire.pb.HostMemoryAccessed;
import hmmemu.protocol.wire.pb.InvalidateAcked;
import hmmemu.protocol.wire.pb.InvalidateEnded;
import hmmemu.protocol.wire.pb.InvalidateStarted;
import hmmemu.protocol.wire.pb.KernelWarning;
import hmmemu.protocol.wire.pb.Livelock;
import hmmemu.protocol.wire.pb.NodeGone;
import hmmemu.protocol.wire.pb.NotifierRegistered;
import hmmemu.protocol.wire.pb.PteChanged;
import hmmemu.protocol.wire.pb.ReadRetryChecked;
import hmmemu.protocol.wire.pb.TraceBatch;
import hmmemu.protocol.wire.pb.TraceEvent;
import hmmemu.protocol.wire.pb.TraceEvent.EventCase;
import hmmemu.protocol.wire.pb.VmaChanged;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Codec of trace.proto: every {@link Trace.Event} (its encoder next to its decoder), the {@code Stamped} wrapper
 * (node, vector clock, event) and the {@code TraceBatch} a node sends to the checker. The model's
 * {@link hmmemu.protocol.trace.Stamped} is spelled out in full to keep it apart from its proto twin.
 */
final class TraceCodec {
  private TraceCodec() {}

  static final CodecTable<Trace.Event, TraceEvent.Builder, TraceEvent, EventCase> EVENTS =
      new CodecTable<>("trace event", EventCase.class);

  static TraceBatch encodeTrace(int node, List<hmmemu.protocol.trace.Stamped> events) {
    TraceBatch.Builder b = TraceBatch.newBuilder().setNode(node);
    for (hmmemu.protocol.trace.Stamped s : events) b.addEvents(encodeStamped(s));
    return b.build();
  }

  static List<hmmemu.protocol.trace.Stamped> decodeTrace(TraceBatch batch) {
    List<hmmemu.protocol.trace.Stamped> out = new ArrayList<>(batch.getEventsCount());
    for (hmmemu.protocol.wire.pb.Stamped s : batch.getEventsList()) out.add(decodeStamped(s));
    return Collections.unmodifiableList(out);
  }

  static hmmemu.protocol.wire.pb.Stamped encodeStamped(hmmemu.protocol.trace.Stamped s) {
    Objects.requireNonNull(s, "stamped");
    if (s.vc() == null) throw new IllegalArgumentException("WireCodec: Stamped.vc is null");
    hmmemu.protocol.wire.pb.Stamped.Builder b = hmmemu.protocol.wire.pb.Stamped.newBuilder().setNode(s.node());
    for (long x : s.vc()) b.addVc(x);
    return b.setEvent(encodeEvent(s.event())).setAtMicros(s.atMicros()).build();
  }

  static hmmemu.protocol.trace.Stamped decodeStamped(hmmemu.protocol.wire.pb.Stamped p) {
    if (!p.hasEvent()) throw new IllegalArgumentException("WireCodec: Stamped has no event");
    long[] vc = new long[p.getVcCount()];
    for (int i = 0; i < vc.length; i++) vc[i] = p.getVc(i);
    return new hmmemu.protocol.trace.Stamped(p.getNode(), vc, decodeEvent(p.getEvent()), p.getAtMicros());
  }

  static TraceEvent encodeEvent(Trace.Event e) {
    Objects.requireNonNull(e, "event");
    TraceEvent.Builder b = TraceEvent.newBuilder();
    EVENTS.encode(e, b);
    return b.build();
  }

  static Trace.Event decodeEvent(TraceEvent t) {
    if (t.getEventCase() == EventCase.EVENT_NOT_SET) {
      throw new IllegalArgumentException("WireCodec: TraceEvent has no event (empty or from an unknown newer schema)");
    }
    Trace.Event e = EVENTS.decode(t.getEventCase(), t);
    if (e == null) throw new IllegalArgumentException("WireCodec: no decoder for TraceEvent " + t.getEventCase());
    return e;
  }

  static {
    // ---------------------------------------------------------------- CPU node
    EVENTS.add(Trace.PteChanged.class, EventCase.PTE_CHANGED,
        (e, b) -> {
          PteChanged.Builder p = PteChanged.newBuilder().setMmId(e.mmId()).setVa(e.va())
              .setState(PTE_STATE.enc(e.state(), "PteChanged.state")).setPfn(e.pfn()).setWrite(e.write())
              .setDirty(e.dirty()).setYoung(e.young());
          if (e.cause() != null) p.setCause(e.cause());
          b.setPteChanged(p);
        },
        t -> {
          PteChanged p = t.getPteChanged();
          return new Trace.PteChanged(p.getMmId(), p.getVa(), PTE_STATE.dec(p.getState(), "PteChanged.state"),
              p.getPfn(), p.getWrite(), p.getDirty(), p.getYoung(), p.hasCause() ? p.getCause() : null);
        });

    EVENTS.add(Trace.FolioChanged.class, EventCase.FOLIO_CHANGED,
        (e, b) -> b.setFolioChanged(FolioChanged.newBuilder()
            .setPfn(e.pfn()).setLocked(e.locked()).setRefcount(e.refcount()).setMapcount(e.mapcount())
            .setDirty(e.dirty()).setAnonExclusive(e.anonExclusive()).setFreed(e.freed())),
        t -> {
          FolioChanged p = t.getFolioChanged();
          return new Trace.FolioChanged(p.getPfn(), p.getLocked(), p.getRefcount(), p.getMapcount(), p.getDirty(),
              p.getAnonExclusive(), p.getFreed());
        });

    EVENTS.add(Trace.VmaChanged.class, EventCase.VMA_CHANGED,
        (e, b) -> b.setVmaChanged(VmaChanged.newBuilder()
            .setMmId(e.mmId()).setStart(e.start()).setEnd(e.end()).setProt(e.prot())
            .setKind(VMA_KIND.enc(e.kind(), "VmaChanged.kind")).setRemoved(e.removed())),
        t -> {
          VmaChanged p = t.getVmaChanged();
          return new Trace.VmaChanged(p.getMmId(), p.getStart(), p.getEnd(), p.getProt(),
              VMA_KIND.dec(p.getKind(), "VmaChanged.kind"), p.getRemoved());
        });

    EVENTS.add(Trace.NotifierRegistered.class, EventCase.NOTIFIER_REGISTERED,
        (e, b) -> b.setNotifierRegistered(NotifierRegistered.newBuilder()
            .setSubId(e.subId()).setDeviceId(e.deviceId()).setMmId(e.mmId())
            .setKind(NOTIFIER_KIND.enc(e.kind(), "NotifierRegistered.kind")).setStart(e.start()).setEnd(e.end())
            .setRemoved(e.removed())),
        t -> {
          NotifierRegistered p = t.getNotifierRegistered();
          return new Trace.NotifierRegistered(p.getSubId(), p.getDeviceId(), p.getMmId(),
              NOTIFIER_KIND.dec(p.getKind(), "NotifierRegistered.kind"), p.getStart(), p.getEnd(), p.getRemoved());
        });

    EVENTS.add(Trace.InvalidateStarted.class, EventCase.INVALIDATE_STARTED,
        (e, b) -> b.setInvalidateStarted(InvalidateStarted.newBuilder()
            .setInvId(e.invId()).setMmId(e.mmId()).setStart(e.start()).setEnd(e.end())
            .setEvent(NOTIFY_EVENT.enc(e.event(), "InvalidateStarted.event")).setOwner(e.owner())
            .setBlockable(e.blockable()).addAllSubIds(list(e.subIds()))),
        t -> {
          InvalidateStarted p = t.getInvalidateStarted();
          return new Trace.InvalidateStarted(p.getInvId(), p.getMmId(), p.getStart(), p.getEnd(),
              NOTIFY_EVENT.dec(p.getEvent(), "InvalidateStarted.event"), p.getOwner(), p.getBlockable(),
              List.copyOf(p.getSubIdsList()));
        });

    EVENTS.add(Trace.InvalidateEnded.class, EventCase.INVALIDATE_ENDED,
        (e, b) -> b.setInvalidateEnded(InvalidateEnded.newBuilder().setInvId(e.invId()).setApplied(e.applied())),
        t -> {
          InvalidateEnded p = t.getInvalidateEnded();
          return new Trace.InvalidateEnded(p.getInvId(), p.getApplied());
        });

    EVENTS.add(Trace.HostMemoryAccessed.class, EventCase.HOST_MEMORY_ACCESSED,
        (e, b) -> b.setHostMemoryAccessed(HostMemoryAccessed.newBuilder()
            .setDeviceId(e.deviceId()).setThreadId(e.threadId()).setPfn(e.pfn()).setWordIndex(e.wordIndex())
            .setAccess(ACCESS.enc(e.access(), "HostMemoryAccessed.access")).setOldValue(e.oldValue())
            .setNewValue(e.newValue())),
        t -> {
          HostMemoryAccessed p = t.getHostMemoryAccessed();
          return new Trace.HostMemoryAccessed(p.getDeviceId(), p.getThreadId(), p.getPfn(), p.getWordIndex(),
              ACCESS.dec(p.getAccess(), "HostMemoryAccessed.access"), p.getOldValue(), p.getNewValue());
        });

    EVENTS.add(Trace.ExclusiveReturned.class, EventCase.EXCLUSIVE_RETURNED,
        (e, b) -> b.setExclusiveReturned(ExclusiveReturned.newBuilder()
            .setReqId(e.reqId()).setDeviceId(e.deviceId()).setPfn(e.pfn())
            .setErrno(ERRNO.enc(e.errno(), "ExclusiveReturned.errno")).setFolioLocked(e.folioLocked())),
        t -> {
          ExclusiveReturned p = t.getExclusiveReturned();
          return new Trace.ExclusiveReturned(p.getReqId(), p.getDeviceId(), p.getPfn(),
              ERRNO.dec(p.getErrno(), "ExclusiveReturned.errno"), p.getFolioLocked());
        });

    EVENTS.add(Trace.FolioUnlockPutDone.class, EventCase.FOLIO_UNLOCK_PUT_DONE,
        (e, b) -> b.setFolioUnlockPutDone(FolioUnlockPutDone.newBuilder()
            .setReqId(e.reqId()).setDeviceId(e.deviceId()).setPfn(e.pfn())),
        t -> {
          FolioUnlockPutDone p = t.getFolioUnlockPutDone();
          return new Trace.FolioUnlockPutDone(p.getReqId(), p.getDeviceId(), p.getPfn());
        });

    EVENTS.add(Trace.CpuFaulted.class, EventCase.CPU_FAULTED,
        (e, b) -> {
          CpuFaulted.Builder p = CpuFaulted.newBuilder().setThreadId(e.threadId()).setMmId(e.mmId()).setVa(e.va());
          if (e.kind() != null) p.setKind(e.kind());
          b.setCpuFaulted(p);
        },
        t -> {
          CpuFaulted p = t.getCpuFaulted();
          return new Trace.CpuFaulted(p.getThreadId(), p.getMmId(), p.getVa(), p.hasKind() ? p.getKind() : null);
        });

    EVENTS.add(Trace.FolioLockLeaseExpired.class, EventCase.FOLIO_LOCK_LEASE_EXPIRED,
        (e, b) -> b.setFolioLockLeaseExpired(FolioLockLeaseExpired.newBuilder()
            .setReqId(e.reqId()).setDeviceId(e.deviceId()).setPfn(e.pfn()).setLockHeld(e.lockHeld())),
        t -> {
          FolioLockLeaseExpired p = t.getFolioLockLeaseExpired();
          return new Trace.FolioLockLeaseExpired(p.getReqId(), p.getDeviceId(), p.getPfn(), p.getLockHeld());
        });

    EVENTS.add(Trace.NodeGone.class, EventCase.NODE_GONE,
        (e, b) -> {
          NodeGone.Builder p = NodeGone.newBuilder().setNodeIndex(e.nodeIndex());
          if (e.reason() != null) p.setReason(e.reason());
          b.setNodeGone(p);
        },
        t -> {
          NodeGone p = t.getNodeGone();
          return new Trace.NodeGone(p.getNodeIndex(), p.hasReason() ? p.getReason() : null);
        });

    EVENTS.add(Trace.KernelWarning.class, EventCase.KERNEL_WARNING,
        (e, b) -> {
          KernelWarning.Builder p = KernelWarning.newBuilder().setMmId(e.mmId()).setVa(e.va());
          if (e.function() != null) p.setFunction(e.function());
          if (e.condition() != null) p.setCondition(e.condition());
          b.setKernelWarning(p);
        },
        t -> {
          KernelWarning p = t.getKernelWarning();
          return new Trace.KernelWarning(p.hasFunction() ? p.getFunction() : null,
              p.hasCondition() ? p.getCondition() : null, p.getMmId(), p.getVa());
        });

    EVENTS.add(Trace.Livelock.class, EventCase.LIVELOCK,
        (e, b) -> {
          Livelock.Builder p = Livelock.newBuilder().setMmId(e.mmId()).setVa(e.va()).setPfn(e.pfn())
              .setRounds(e.rounds()).setThreads(e.threads());
          if (e.path() != null) p.setPath(e.path());
          b.setLivelock(p);
        },
        t -> {
          Livelock p = t.getLivelock();
          return new Trace.Livelock(p.getMmId(), p.getVa(), p.getPfn(), p.hasPath() ? p.getPath() : null,
              p.getRounds(), p.getThreads());
        });

    // ---------------------------------------------------------------- GPU node
    EVENTS.add(Trace.DriverBound.class, EventCase.DRIVER_BOUND,
        (e, b) -> {
          DriverBound.Builder p = DriverBound.newBuilder().setDeviceId(e.deviceId()).setMmId(e.mmId())
              .setOwner(e.owner());
          if (e.flavour() != null) p.setFlavour(e.flavour());
          b.setDriverBound(p);
        },
        t -> {
          DriverBound p = t.getDriverBound();
          return new Trace.DriverBound(p.getDeviceId(), p.getMmId(), p.getOwner(),
              p.hasFlavour() ? p.getFlavour() : null);
        });

    EVENTS.add(Trace.DeviceEntryInstalled.class, EventCase.DEVICE_ENTRY_INSTALLED,
        (e, b) -> b.setDeviceEntryInstalled(DeviceEntryInstalled.newBuilder()
            .setDeviceId(e.deviceId()).setMmId(e.mmId()).setVa(e.va()).setPfn(e.pfn()).setRead(e.read())
            .setWrite(e.write()).setAtomic(e.atomic()).setSubId(e.subId()).setSeq(e.seq())),
        t -> {
          DeviceEntryInstalled p = t.getDeviceEntryInstalled();
          return new Trace.DeviceEntryInstalled(p.getDeviceId(), p.getMmId(), p.getVa(), p.getPfn(), p.getRead(),
              p.getWrite(), p.getAtomic(), p.getSubId(), p.getSeq());
        });

    EVENTS.add(Trace.DeviceEntryZapped.class, EventCase.DEVICE_ENTRY_ZAPPED,
        (e, b) -> b.setDeviceEntryZapped(DeviceEntryZapped.newBuilder()
            .setDeviceId(e.deviceId()).setMmId(e.mmId()).setVa(e.va()).setPfn(e.pfn())),
        t -> {
          DeviceEntryZapped p = t.getDeviceEntryZapped();
          return new Trace.DeviceEntryZapped(p.getDeviceId(), p.getMmId(), p.getVa(), p.getPfn());
        });

    EVENTS.add(Trace.InvalidateAcked.class, EventCase.INVALIDATE_ACKED,
        (e, b) -> b.setInvalidateAcked(InvalidateAcked.newBuilder()
            .setInvId(e.invId()).setSubId(e.subId()).setDeviceId(e.deviceId()).setOk(e.ok())
            .setIgnored(e.ignored())),
        t -> {
          InvalidateAcked p = t.getInvalidateAcked();
          return new Trace.InvalidateAcked(p.getInvId(), p.getSubId(), p.getDeviceId(), p.getOk(), p.getIgnored());
        });

    EVENTS.add(Trace.DeviceAccessIssued.class, EventCase.DEVICE_ACCESS_ISSUED,
        (e, b) -> b.setDeviceAccessIssued(DeviceAccessIssued.newBuilder()
            .setDeviceId(e.deviceId()).setMmId(e.mmId()).setVa(e.va()).setPfn(e.pfn())
            .setAccess(ACCESS.enc(e.access(), "DeviceAccessIssued.access"))),
        t -> {
          DeviceAccessIssued p = t.getDeviceAccessIssued();
          return new Trace.DeviceAccessIssued(p.getDeviceId(), p.getMmId(), p.getVa(), p.getPfn(),
              ACCESS.dec(p.getAccess(), "DeviceAccessIssued.access"));
        });

    EVENTS.add(Trace.DeviceFaulted.class, EventCase.DEVICE_FAULTED,
        (e, b) -> b.setDeviceFaulted(DeviceFaulted.newBuilder()
            .setDeviceId(e.deviceId()).setMmId(e.mmId()).setVa(e.va())
            .setAccess(ACCESS.enc(e.access(), "DeviceFaulted.access"))),
        t -> {
          DeviceFaulted p = t.getDeviceFaulted();
          return new Trace.DeviceFaulted(p.getDeviceId(), p.getMmId(), p.getVa(),
              ACCESS.dec(p.getAccess(), "DeviceFaulted.access"));
        });

    EVENTS.add(Trace.DriverFaultHandled.class, EventCase.DRIVER_FAULT_HANDLED,
        (e, b) -> b.setDriverFaultHandled(DriverFaultHandled.newBuilder()
            .setDeviceId(e.deviceId()).setMmId(e.mmId()).setVa(e.va())
            .setAccess(ACCESS.enc(e.access(), "DriverFaultHandled.access")).setIterations(e.iterations())
            .setErrno(ERRNO.enc(e.errno(), "DriverFaultHandled.errno"))),
        t -> {
          DriverFaultHandled p = t.getDriverFaultHandled();
          return new Trace.DriverFaultHandled(p.getDeviceId(), p.getMmId(), p.getVa(),
              ACCESS.dec(p.getAccess(), "DriverFaultHandled.access"), p.getIterations(),
              ERRNO.dec(p.getErrno(), "DriverFaultHandled.errno"));
        });

    EVENTS.add(Trace.ReadRetryChecked.class, EventCase.READ_RETRY_CHECKED,
        (e, b) -> b.setReadRetryChecked(ReadRetryChecked.newBuilder()
            .setDeviceId(e.deviceId()).setSubId(e.subId()).setSeq(e.seq()).setSubSeq(e.subSeq())
            .setRetry(e.retry())),
        t -> {
          ReadRetryChecked p = t.getReadRetryChecked();
          return new Trace.ReadRetryChecked(p.getDeviceId(), p.getSubId(), p.getSeq(), p.getSubSeq(),
              p.getRetry());
        });

    EVENTS.add(Trace.DeviceAccessCompleted.class, EventCase.DEVICE_ACCESS_COMPLETED,
        (e, b) -> b.setDeviceAccessCompleted(DeviceAccessCompleted.newBuilder()
            .setDeviceId(e.deviceId()).setReqId(e.reqId())
            .setErrno(ERRNO.enc(e.errno(), "DeviceAccessCompleted.errno")).setFaultRounds(e.faultRounds())
            .setLatencyMicros(e.latencyMicros())),
        t -> {
          DeviceAccessCompleted p = t.getDeviceAccessCompleted();
          return new Trace.DeviceAccessCompleted(p.getDeviceId(), p.getReqId(),
              ERRNO.dec(p.getErrno(), "DeviceAccessCompleted.errno"), p.getFaultRounds(), p.getLatencyMicros());
        });

    EVENTS.add(Trace.DriverLockHeldAcross.class, EventCase.DRIVER_LOCK_HELD_ACROSS,
        (e, b) -> {
          DriverLockHeldAcross.Builder p = DriverLockHeldAcross.newBuilder()
              .setDeviceId(e.deviceId()).setMmId(e.mmId()).setVa(e.va()).setReqId(e.reqId());
          if (e.lock() != null) p.setLock(e.lock());
          if (e.call() != null) p.setCall(e.call());
          b.setDriverLockHeldAcross(p);
        },
        t -> {
          DriverLockHeldAcross p = t.getDriverLockHeldAcross();
          return new Trace.DriverLockHeldAcross(p.getDeviceId(), p.getMmId(), p.getVa(),
              p.hasLock() ? p.getLock() : null, p.hasCall() ? p.getCall() : null, p.getReqId());
        });
  }
}
