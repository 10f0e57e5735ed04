package hmmemu.protocol.wire;

import com.google.protobuf.ProtocolMessageEnum;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.wire.pb.Access;
import hmmemu.protocol.wire.pb.BindMm;
import hmmemu.protocol.wire.pb.CpuAccess;
import hmmemu.protocol.wire.pb.CpuAccessDone;
import hmmemu.protocol.wire.pb.CpuFaulted;
import hmmemu.protocol.wire.pb.DeviceAccess;
import hmmemu.protocol.wire.pb.DeviceAccessCompleted;
import hmmemu.protocol.wire.pb.DeviceAccessDone;
import hmmemu.protocol.wire.pb.DeviceAccessIssued;
import hmmemu.protocol.wire.pb.DeviceEntry;
import hmmemu.protocol.wire.pb.DeviceEntryInstalled;
import hmmemu.protocol.wire.pb.DeviceEntryZapped;
import hmmemu.protocol.wire.pb.DeviceFaulted;
import hmmemu.protocol.wire.pb.DeviceInfo;
import hmmemu.protocol.wire.pb.DeviceMemoryAccess;
import hmmemu.protocol.wire.pb.DeviceMemoryAccessReply;
import hmmemu.protocol.wire.pb.DmirrorCmd;
import hmmemu.protocol.wire.pb.DmirrorOp;
import hmmemu.protocol.wire.pb.DmirrorReply;
import hmmemu.protocol.wire.pb.DriverBound;
import hmmemu.protocol.wire.pb.DriverFaultHandled;
import hmmemu.protocol.wire.pb.DriverFlavour;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.Errno;
import hmmemu.protocol.wire.pb.ExclusiveReturned;
import hmmemu.protocol.wire.pb.FolioChanged;
import hmmemu.protocol.wire.pb.FolioUnlockPut;
import hmmemu.protocol.wire.pb.FolioLockLeaseExpired;
import hmmemu.protocol.wire.pb.FolioUnlockPutDone;
import hmmemu.protocol.wire.pb.NodeGone;
import hmmemu.protocol.wire.pb.HmmRangeFault;
import hmmemu.protocol.wire.pb.HmmRangeFaultReply;
import hmmemu.protocol.wire.pb.HostMemoryAccessed;
import hmmemu.protocol.wire.pb.InspectDevice;
import hmmemu.protocol.wire.pb.InspectPage;
import hmmemu.protocol.wire.pb.InvalidateAck;
import hmmemu.protocol.wire.pb.InvalidateAcked;
import hmmemu.protocol.wire.pb.InvalidateEnd;
import hmmemu.protocol.wire.pb.InvalidateEnded;
import hmmemu.protocol.wire.pb.InvalidateStart;
import hmmemu.protocol.wire.pb.InvalidateStarted;
import hmmemu.protocol.wire.pb.KernelProfile;
import hmmemu.protocol.wire.pb.MakeDeviceExclusive;
import hmmemu.protocol.wire.pb.MakeDeviceExclusiveReply;
import hmmemu.protocol.wire.pb.MmBound;
import hmmemu.protocol.wire.pb.ModelSwitches;
import hmmemu.protocol.wire.pb.NotifierInsert;
import hmmemu.protocol.wire.pb.NotifierInserted;
import hmmemu.protocol.wire.pb.NotifierKind;
import hmmemu.protocol.wire.pb.NotifierRegistered;
import hmmemu.protocol.wire.pb.NotifierRemove;
import hmmemu.protocol.wire.pb.NotifierRemoved;
import hmmemu.protocol.wire.pb.NotifyEvent;
import hmmemu.protocol.wire.pb.PageInfo;
import hmmemu.protocol.wire.pb.PteChanged;
import hmmemu.protocol.wire.pb.PteState;
import hmmemu.protocol.wire.pb.ReadRetryChecked;
import hmmemu.protocol.wire.pb.DriverLockHeldAcross;
import hmmemu.protocol.wire.pb.ResetDone;
import hmmemu.protocol.wire.pb.ResetNode;
import hmmemu.protocol.wire.pb.Syscall;
import hmmemu.protocol.wire.pb.SyscallDone;
import hmmemu.protocol.wire.pb.SyscallKind;
import hmmemu.protocol.wire.pb.TraceBatch;
import hmmemu.protocol.wire.pb.TraceEvent;
import hmmemu.protocol.wire.pb.VmaChanged;
import hmmemu.protocol.wire.pb.VmaKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Record <-> protobuf codec for the wire. Every {@link HmmProtocol.Msg} travels as an {@link Envelope}
 * (vector clock, reply-to ActorRef string, one body); trace events travel as a {@link TraceBatch}, alone or
 * as the body of an Envelope. Generated classes live in {@code hmmemu.protocol.wire.pb} and carry the
 * record names; this class refers to the records as {@code HmmProtocol.X} / {@code Trace.X} and to the
 * model enums by their full name to keep the two apart.
 *
 * <p>Null handling: {@code String} fields are proto3 {@code optional} (null survives the round trip);
 * {@code ResetNode.switches} null is an absent message; {@code Syscall.vmaKind} null is VMA_KIND_UNSPECIFIED;
 * every other enum field must be non-null (encode throws IllegalArgumentException) and decode rejects
 * X_UNSPECIFIED / unrecognized values with IllegalArgumentException. A null list is encoded as empty;
 * decoded lists are unmodifiable. A null vc is encoded as empty; a null replyTo as "" (decoded back as null).
 *
 * <p>Thread-safe (stateless after class initialization).
 */
public final class WireCodec {
  private WireCodec() {}

  // ================================================================ public API: messages

  /** Wraps {@code msg} with the sender's vector clock (may be null = empty) and reply-to ref (may be null). */
  public static Envelope encode(HmmProtocol.Msg msg, long[] vc, String replyTo) {
    Objects.requireNonNull(msg, "msg");
    Envelope.Builder b = header(vc, replyTo);
    @SuppressWarnings("unchecked")
    BiConsumer<HmmProtocol.Msg, Envelope.Builder> enc =
        (BiConsumer<HmmProtocol.Msg, Envelope.Builder>) MSG_ENCODERS.get(msg.getClass());
    if (enc == null) throw new IllegalArgumentException("WireCodec: no codec for message " + msg.getClass().getName());
    enc.accept(msg, b);
    return b.build();
  }

  /**
   * The message an Envelope carries.
   *
   * @throws IllegalArgumentException when the envelope has no body, carries a TraceBatch (see {@link #isTrace}),
   *     or holds an UNSPECIFIED/unrecognized enum value or a missing required sub-message
   */
  public static HmmProtocol.Msg decode(Envelope env) {
    Objects.requireNonNull(env, "env");
    switch (env.getBodyCase()) {
      // notifier
      case NOTIFIER_INSERT: {
        NotifierInsert p = env.getNotifierInsert();
        return new HmmProtocol.NotifierInsert(p.getSubId(), p.getDeviceId(), p.getMmId(),
            NOTIFIER_KIND.dec(p.getKind(), "NotifierInsert.kind"), p.getStart(), p.getEnd());
      }
      case NOTIFIER_REMOVE:
        return new HmmProtocol.NotifierRemove(env.getNotifierRemove().getSubId());
      case NOTIFIER_REMOVED:
        return new HmmProtocol.NotifierRemoved(env.getNotifierRemoved().getSubId());
      case NOTIFIER_INSERTED: {
        NotifierInserted p = env.getNotifierInserted();
        return new HmmProtocol.NotifierInserted(p.getSubId(), p.getSeq());
      }
      case INVALIDATE_START: {
        InvalidateStart p = env.getInvalidateStart();
        return new HmmProtocol.InvalidateStart(p.getInvId(), p.getSubId(), p.getMmId(), p.getStart(), p.getEnd(),
            NOTIFY_EVENT.dec(p.getEvent(), "InvalidateStart.event"), p.getOwner(), p.getBlockable(), p.getCurSeq());
      }
      case INVALIDATE_ACK: {
        InvalidateAck p = env.getInvalidateAck();
        return new HmmProtocol.InvalidateAck(p.getInvId(), p.getSubId(), p.getOk());
      }
      case INVALIDATE_END: {
        InvalidateEnd p = env.getInvalidateEnd();
        return new HmmProtocol.InvalidateEnd(p.getSubId(), p.getSeq());
      }
      // exclusive
      case MAKE_DEVICE_EXCLUSIVE: {
        MakeDeviceExclusive p = env.getMakeDeviceExclusive();
        return new HmmProtocol.MakeDeviceExclusive(p.getReqId(), p.getDeviceId(), p.getMmId(), p.getVa(),
            p.getOwner());
      }
      case MAKE_DEVICE_EXCLUSIVE_REPLY: {
        MakeDeviceExclusiveReply p = env.getMakeDeviceExclusiveReply();
        return new HmmProtocol.MakeDeviceExclusiveReply(p.getReqId(),
            ERRNO.dec(p.getErrno(), "MakeDeviceExclusiveReply.errno"), p.getPfn());
      }
      case FOLIO_UNLOCK_PUT: {
        FolioUnlockPut p = env.getFolioUnlockPut();
        return new HmmProtocol.FolioUnlockPut(p.getReqId(), p.getDeviceId(), p.getPfn(), p.getThenRemoveSubId());
      }
      case HMM_RANGE_FAULT: {
        HmmRangeFault p = env.getHmmRangeFault();
        return new HmmProtocol.HmmRangeFault(p.getReqId(), p.getDeviceId(), p.getSubId(), p.getSeq(), p.getMmId(),
            p.getStart(), List.copyOf(p.getReqFlagsList()));
      }
      case HMM_RANGE_FAULT_REPLY: {
        HmmRangeFaultReply p = env.getHmmRangeFaultReply();
        return new HmmProtocol.HmmRangeFaultReply(p.getReqId(), ERRNO.dec(p.getErrno(), "HmmRangeFaultReply.errno"),
            List.copyOf(p.getHmmPfnsList()));
      }
      case DEVICE_MEMORY_ACCESS: {
        DeviceMemoryAccess p = env.getDeviceMemoryAccess();
        return new HmmProtocol.DeviceMemoryAccess(p.getReqId(), p.getDeviceId(), p.getPfn(), p.getWordIndex(),
            ACCESS.dec(p.getAccess(), "DeviceMemoryAccess.access"), p.getValue());
      }
      case DEVICE_MEMORY_ACCESS_REPLY: {
        DeviceMemoryAccessReply p = env.getDeviceMemoryAccessReply();
        return new HmmProtocol.DeviceMemoryAccessReply(p.getReqId(), p.getValue());
      }
      // cpu
      case CPU_ACCESS: {
        CpuAccess p = env.getCpuAccess();
        return new HmmProtocol.CpuAccess(p.getReqId(), p.getThreadId(), p.getMmId(), p.getVa(),
            ACCESS.dec(p.getAccess(), "CpuAccess.access"), p.getValue(), p.getSpin());
      }
      case CPU_ACCESS_DONE: {
        CpuAccessDone p = env.getCpuAccessDone();
        return new HmmProtocol.CpuAccessDone(p.getReqId(), p.getThreadId(),
            ERRNO.dec(p.getErrno(), "CpuAccessDone.errno"), p.getValue(), p.getFaults());
      }
      case SYSCALL: {
        Syscall p = env.getSyscall();
        return new HmmProtocol.Syscall(p.getReqId(), p.getMmId(), SYSCALL_KIND.dec(p.getKind(), "Syscall.kind"),
            p.getStart(), p.getLength(), p.getProt(), VMA_KIND.decNullable(p.getVmaKind(), "Syscall.vmaKind"),
            p.getChildMmId());
      }
      case SYSCALL_DONE: {
        SyscallDone p = env.getSyscallDone();
        return new HmmProtocol.SyscallDone(p.getReqId(), ERRNO.dec(p.getErrno(), "SyscallDone.errno"), p.getValue());
      }
      case INSPECT_PAGE: {
        InspectPage p = env.getInspectPage();
        return new HmmProtocol.InspectPage(p.getReqId(), p.getMmId(), p.getVa());
      }
      case PAGE_INFO: {
        PageInfo p = env.getPageInfo();
        return new HmmProtocol.PageInfo(p.getReqId(), PTE_STATE.dec(p.getPte(), "PageInfo.pte"), p.getPfn(),
            p.getWrite(), p.getDirty(), p.getYoung(), p.getFolioLocked(), p.getRefcount(), p.getMapcount(),
            p.getFolioDirty(), p.getAnonExclusive(), p.getWord0(), List.copyOf(p.getWordsList()));
      }
      // device
      case DEVICE_ACCESS: {
        DeviceAccess p = env.getDeviceAccess();
        return new HmmProtocol.DeviceAccess(p.getReqId(), p.getDeviceId(), p.getMmId(), p.getVa(),
            ACCESS.dec(p.getAccess(), "DeviceAccess.access"), p.getValue());
      }
      case DEVICE_ACCESS_DONE: {
        DeviceAccessDone p = env.getDeviceAccessDone();
        return new HmmProtocol.DeviceAccessDone(p.getReqId(), p.getDeviceId(),
            ERRNO.dec(p.getErrno(), "DeviceAccessDone.errno"), p.getValue(), p.getFaultRounds(),
            p.getLatencyMicros());
      }
      case BIND_MM: {
        BindMm p = env.getBindMm();
        return new HmmProtocol.BindMm(p.getReqId(), p.getDeviceId(), p.getMmId(),
            DRIVER_FLAVOUR.dec(p.getFlavour(), "BindMm.flavour"));
      }
      case MM_BOUND: {
        MmBound p = env.getMmBound();
        return new HmmProtocol.MmBound(p.getReqId(), p.getDeviceId(), p.getOwner());
      }
      case DMIRROR_CMD: {
        DmirrorCmd p = env.getDmirrorCmd();
        return new HmmProtocol.DmirrorCmd(p.getReqId(), p.getDeviceId(), p.getMmId(),
            DMIRROR_OP.dec(p.getOp(), "DmirrorCmd.op"), p.getStart(), p.getNpages(), List.copyOf(p.getDataList()));
      }
      case DMIRROR_REPLY: {
        DmirrorReply p = env.getDmirrorReply();
        return new HmmProtocol.DmirrorReply(p.getReqId(), ERRNO.dec(p.getErrno(), "DmirrorReply.errno"),
            p.getFaults(), p.getCpages(), List.copyOf(p.getDataList()));
      }
      case INSPECT_DEVICE: {
        InspectDevice p = env.getInspectDevice();
        return new HmmProtocol.InspectDevice(p.getReqId(), p.getDeviceId());
      }
      case DEVICE_INFO: {
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
      }
      // control
      case RESET_NODE: {
        ResetNode p = env.getResetNode();
        return new HmmProtocol.ResetNode(p.getReqId(), p.hasRunName() ? p.getRunName() : null,
            p.hasSwitches() ? decodeSwitches(p.getSwitches()) : null);
      }
      case RESET_DONE: {
        ResetDone p = env.getResetDone();
        return new HmmProtocol.ResetDone(p.getReqId(), p.getNodeIndex());
      }
      case TRACE_BATCH:
        throw new IllegalArgumentException(
            "WireCodec: Envelope carries a TraceBatch, not a message (check isTrace, then decodeTrace)");
      case BODY_NOT_SET:
        throw new IllegalArgumentException("WireCodec: Envelope has no body (empty or from an unknown newer schema)");
      default:
        throw new IllegalArgumentException("WireCodec: no decoder for Envelope body " + env.getBodyCase());
    }
  }

  /** The vector clock an Envelope carries (empty array when none). */
  public static long[] vc(Envelope env) {
    long[] v = new long[env.getVcCount()];
    for (int i = 0; i < v.length; i++) v[i] = env.getVc(i);
    return v;
  }

  /** The reply-to ActorRef string, or null when the envelope carries none. */
  public static String replyTo(Envelope env) {
    String s = env.getReplyTo();
    return s.isEmpty() ? null : s;
  }

  /** The envelope's data-link sequence number (0 = not link-sequenced). */
  public static long linkSeq(Envelope env) { return env.getLinkSeq(); }

  /** True for a pure link ACK: no body, only {@code link_ack} (PCIe Ack DLLP); it carries no protocol message. */
  public static boolean isLinkAck(Envelope env) {
    return env.getBodyCase() == Envelope.BodyCase.BODY_NOT_SET && env.getLinkAck() != 0;
  }

  /** A pure link ACK: every sequence number up to {@code cumulative} was delivered; reply-to names the acker. */
  public static Envelope linkAck(long cumulative, String replyTo) {
    return header(null, replyTo).setLinkAck(cumulative).build();
  }

  // ================================================================ public API: trace

  /** True when the Envelope's body is a TraceBatch (decode it with {@link #decodeTrace(Envelope)}). */
  public static boolean isTrace(Envelope env) {
    return env.getBodyCase() == Envelope.BodyCase.TRACE_BATCH;
  }

  /** A batch of stamped events from node {@code node}, in list order. */
  public static TraceBatch encodeTrace(int node, List<hmmemu.protocol.trace.Stamped> events) {
    TraceBatch.Builder b = TraceBatch.newBuilder().setNode(node);
    for (hmmemu.protocol.trace.Stamped s : events) b.addEvents(encodeStamped(s));
    return b.build();
  }

  /** The stamped events of a batch, in wire order (an unmodifiable list). */
  public static List<hmmemu.protocol.trace.Stamped> decodeTrace(TraceBatch batch) {
    List<hmmemu.protocol.trace.Stamped> out = new ArrayList<>(batch.getEventsCount());
    for (hmmemu.protocol.wire.pb.Stamped s : batch.getEventsList()) out.add(decodeStamped(s));
    return Collections.unmodifiableList(out);
  }

  /** An Envelope whose body is a TraceBatch (no reply-to). */
  public static Envelope encodeTraceEnvelope(int node, List<hmmemu.protocol.trace.Stamped> events, long[] vc) {
    return header(vc, null).setTraceBatch(encodeTrace(node, events)).build();
  }

  /** The stamped events of an Envelope built by {@link #encodeTraceEnvelope}; IllegalArgumentException otherwise. */
  public static List<hmmemu.protocol.trace.Stamped> decodeTrace(Envelope env) {
    if (!isTrace(env)) {
      throw new IllegalArgumentException("WireCodec: Envelope carries " + env.getBodyCase() + ", not a TraceBatch");
    }
    return decodeTrace(env.getTraceBatch());
  }

  /** One stamped trace event. */
  public static hmmemu.protocol.wire.pb.Stamped encodeStamped(hmmemu.protocol.trace.Stamped s) {
    Objects.requireNonNull(s, "stamped");
    if (s.vc() == null) throw new IllegalArgumentException("WireCodec: Stamped.vc is null");
    hmmemu.protocol.wire.pb.Stamped.Builder b = hmmemu.protocol.wire.pb.Stamped.newBuilder().setNode(s.node());
    for (long x : s.vc()) b.addVc(x);
    return b.setEvent(encodeEvent(s.event())).build();
  }

  public static hmmemu.protocol.trace.Stamped decodeStamped(hmmemu.protocol.wire.pb.Stamped p) {
    if (!p.hasEvent()) throw new IllegalArgumentException("WireCodec: Stamped has no event");
    long[] vc = new long[p.getVcCount()];
    for (int i = 0; i < vc.length; i++) vc[i] = p.getVc(i);
    return new hmmemu.protocol.trace.Stamped(p.getNode(), vc, decodeEvent(p.getEvent()));
  }

  /** One trace event (unstamped). */
  public static TraceEvent encodeEvent(Trace.Event e) {
    Objects.requireNonNull(e, "event");
    @SuppressWarnings("unchecked")
    BiConsumer<Trace.Event, TraceEvent.Builder> enc =
        (BiConsumer<Trace.Event, TraceEvent.Builder>) EVENT_ENCODERS.get(e.getClass());
    if (enc == null) throw new IllegalArgumentException("WireCodec: no codec for trace event " + e.getClass().getName());
    TraceEvent.Builder b = TraceEvent.newBuilder();
    enc.accept(e, b);
    return b.build();
  }

  public static Trace.Event decodeEvent(TraceEvent t) {
    switch (t.getEventCase()) {
      case PTE_CHANGED: {
        PteChanged p = t.getPteChanged();
        return new Trace.PteChanged(p.getMmId(), p.getVa(), PTE_STATE.dec(p.getState(), "PteChanged.state"),
            p.getPfn(), p.getWrite(), p.getDirty(), p.getYoung(), p.hasCause() ? p.getCause() : null);
      }
      case FOLIO_CHANGED: {
        FolioChanged p = t.getFolioChanged();
        return new Trace.FolioChanged(p.getPfn(), p.getLocked(), p.getRefcount(), p.getMapcount(), p.getDirty(),
            p.getAnonExclusive(), p.getFreed());
      }
      case VMA_CHANGED: {
        VmaChanged p = t.getVmaChanged();
        return new Trace.VmaChanged(p.getMmId(), p.getStart(), p.getEnd(), p.getProt(),
            VMA_KIND.dec(p.getKind(), "VmaChanged.kind"), p.getRemoved());
      }
      case NOTIFIER_REGISTERED: {
        NotifierRegistered p = t.getNotifierRegistered();
        return new Trace.NotifierRegistered(p.getSubId(), p.getDeviceId(), p.getMmId(),
            NOTIFIER_KIND.dec(p.getKind(), "NotifierRegistered.kind"), p.getStart(), p.getEnd(), p.getRemoved());
      }
      case INVALIDATE_STARTED: {
        InvalidateStarted p = t.getInvalidateStarted();
        return new Trace.InvalidateStarted(p.getInvId(), p.getMmId(), p.getStart(), p.getEnd(),
            NOTIFY_EVENT.dec(p.getEvent(), "InvalidateStarted.event"), p.getOwner(), p.getBlockable(),
            List.copyOf(p.getSubIdsList()));
      }
      case INVALIDATE_ENDED: {
        InvalidateEnded p = t.getInvalidateEnded();
        return new Trace.InvalidateEnded(p.getInvId(), p.getApplied());
      }
      case HOST_MEMORY_ACCESSED: {
        HostMemoryAccessed p = t.getHostMemoryAccessed();
        return new Trace.HostMemoryAccessed(p.getDeviceId(), p.getThreadId(), p.getPfn(), p.getWordIndex(),
            ACCESS.dec(p.getAccess(), "HostMemoryAccessed.access"), p.getOldValue(), p.getNewValue());
      }
      case EXCLUSIVE_RETURNED: {
        ExclusiveReturned p = t.getExclusiveReturned();
        return new Trace.ExclusiveReturned(p.getReqId(), p.getDeviceId(), p.getPfn(),
            ERRNO.dec(p.getErrno(), "ExclusiveReturned.errno"), p.getFolioLocked());
      }
      case FOLIO_UNLOCK_PUT_DONE: {
        FolioUnlockPutDone p = t.getFolioUnlockPutDone();
        return new Trace.FolioUnlockPutDone(p.getReqId(), p.getDeviceId(), p.getPfn());
      }
      case FOLIO_LOCK_LEASE_EXPIRED: {
        FolioLockLeaseExpired p = t.getFolioLockLeaseExpired();
        return new Trace.FolioLockLeaseExpired(p.getReqId(), p.getDeviceId(), p.getPfn(), p.getLockHeld());
      }
      case NODE_GONE: {
        NodeGone p = t.getNodeGone();
        return new Trace.NodeGone(p.getNodeIndex(), p.hasReason() ? p.getReason() : null);
      }
      case CPU_FAULTED: {
        CpuFaulted p = t.getCpuFaulted();
        return new Trace.CpuFaulted(p.getThreadId(), p.getMmId(), p.getVa(), p.hasKind() ? p.getKind() : null);
      }
      case DRIVER_BOUND: {
        DriverBound p = t.getDriverBound();
        return new Trace.DriverBound(p.getDeviceId(), p.getMmId(), p.getOwner(),
            p.hasFlavour() ? p.getFlavour() : null);
      }
      case DEVICE_ENTRY_INSTALLED: {
        DeviceEntryInstalled p = t.getDeviceEntryInstalled();
        return new Trace.DeviceEntryInstalled(p.getDeviceId(), p.getMmId(), p.getVa(), p.getPfn(), p.getRead(),
            p.getWrite(), p.getAtomic(), p.getSubId(), p.getSeq());
      }
      case DEVICE_ENTRY_ZAPPED: {
        DeviceEntryZapped p = t.getDeviceEntryZapped();
        return new Trace.DeviceEntryZapped(p.getDeviceId(), p.getMmId(), p.getVa(), p.getPfn());
      }
      case INVALIDATE_ACKED: {
        InvalidateAcked p = t.getInvalidateAcked();
        return new Trace.InvalidateAcked(p.getInvId(), p.getSubId(), p.getDeviceId(), p.getOk(), p.getIgnored());
      }
      case DEVICE_ACCESS_ISSUED: {
        DeviceAccessIssued p = t.getDeviceAccessIssued();
        return new Trace.DeviceAccessIssued(p.getDeviceId(), p.getMmId(), p.getVa(), p.getPfn(),
            ACCESS.dec(p.getAccess(), "DeviceAccessIssued.access"));
      }
      case DEVICE_FAULTED: {
        DeviceFaulted p = t.getDeviceFaulted();
        return new Trace.DeviceFaulted(p.getDeviceId(), p.getMmId(), p.getVa(),
            ACCESS.dec(p.getAccess(), "DeviceFaulted.access"));
      }
      case DRIVER_FAULT_HANDLED: {
        DriverFaultHandled p = t.getDriverFaultHandled();
        return new Trace.DriverFaultHandled(p.getDeviceId(), p.getMmId(), p.getVa(),
            ACCESS.dec(p.getAccess(), "DriverFaultHandled.access"), p.getIterations(),
            ERRNO.dec(p.getErrno(), "DriverFaultHandled.errno"));
      }
      case READ_RETRY_CHECKED: {
        ReadRetryChecked p = t.getReadRetryChecked();
        return new Trace.ReadRetryChecked(p.getDeviceId(), p.getSubId(), p.getSeq(), p.getSubSeq(), p.getRetry());
      }
      case DEVICE_ACCESS_COMPLETED: {
        DeviceAccessCompleted p = t.getDeviceAccessCompleted();
        return new Trace.DeviceAccessCompleted(p.getDeviceId(), p.getReqId(),
            ERRNO.dec(p.getErrno(), "DeviceAccessCompleted.errno"), p.getFaultRounds(), p.getLatencyMicros());
      }
      case DRIVER_LOCK_HELD_ACROSS: {
        DriverLockHeldAcross p = t.getDriverLockHeldAcross();
        return new Trace.DriverLockHeldAcross(p.getDeviceId(), p.getMmId(), p.getVa(),
            p.hasLock() ? p.getLock() : null, p.hasCall() ? p.getCall() : null, p.getReqId());
      }
      case EVENT_NOT_SET:
        throw new IllegalArgumentException("WireCodec: TraceEvent has no event (empty or from an unknown newer schema)");
      default:
        throw new IllegalArgumentException("WireCodec: no decoder for TraceEvent " + t.getEventCase());
    }
  }

  // ================================================================ completeness (for tests)

  /** Records of the sealed Msg / Trace.Event interfaces that have no encoder (empty when complete). */
  public static Set<Class<?>> classesWithoutCodec() {
    Set<Class<?>> missing = new LinkedHashSet<>();
    for (Class<?> c : HmmProtocol.Msg.class.getPermittedSubclasses()) {
      if (!MSG_ENCODERS.containsKey(c)) missing.add(c);
    }
    for (Class<?> c : Trace.Event.class.getPermittedSubclasses()) {
      if (!EVENT_ENCODERS.containsKey(c)) missing.add(c);
    }
    return missing;
  }

  // ================================================================ enums

  /**
   * A bijection between a Java enum and its proto twin, by name: Java constant C <-> PREFIX_C, where PREFIX is the
   * proto enum's UNSPECIFIED value minus "_UNSPECIFIED". Built eagerly; a constant missing on either side fails
   * class initialization (and with it every test).
   */
  static final class EnumCodec<J extends Enum<J>, P extends Enum<P> & ProtocolMessageEnum> {
    final Class<J> javaType;
    final Class<P> protoType;
    final P unspecified;
    private final EnumMap<J, P> toPb;
    private final EnumMap<P, J> toJava;

    EnumCodec(Class<J> javaType, Class<P> protoType) {
      this.javaType = javaType;
      this.protoType = protoType;
      P zero = null;
      for (P p : protoType.getEnumConstants()) {
        if (p.name().endsWith("_UNSPECIFIED") && p.getNumber() == 0) zero = p;
      }
      if (zero == null) throw new IllegalStateException(protoType.getName() + " has no X_UNSPECIFIED = 0");
      this.unspecified = zero;
      String prefix = zero.name().substring(0, zero.name().length() - "UNSPECIFIED".length());
      toPb = new EnumMap<>(javaType);
      toJava = new EnumMap<>(protoType);
      for (J j : javaType.getEnumConstants()) {
        P p = Enum.valueOf(protoType, prefix + j.name());
        toPb.put(j, p);
        toJava.put(p, j);
      }
      for (P p : protoType.getEnumConstants()) {
        if (p != zero && !p.name().equals("UNRECOGNIZED") && !toJava.containsKey(p)) {
          throw new IllegalStateException(protoType.getName() + "." + p + " has no Java twin in " + javaType.getName());
        }
      }
    }

    P enc(J j, String field) {
      if (j == null) throw new IllegalArgumentException("WireCodec: " + field + " is null");
      return toPb.get(j);
    }

    P encNullable(J j) {
      return j == null ? unspecified : toPb.get(j);
    }

    J dec(P p, String field) {
      J j = toJava.get(p);
      if (j == null) {
        throw new IllegalArgumentException("WireCodec: " + field + " is " + p + " (" + protoType.getSimpleName()
            + " must be set to a known value)");
      }
      return j;
    }

    J decNullable(P p, String field) {
      return p == unspecified ? null : dec(p, field);
    }
  }

  static final EnumCodec<hmmemu.protocol.model.Access, Access> ACCESS =
      new EnumCodec<>(hmmemu.protocol.model.Access.class, Access.class);
  static final EnumCodec<hmmemu.protocol.model.DriverFlavour, DriverFlavour> DRIVER_FLAVOUR =
      new EnumCodec<>(hmmemu.protocol.model.DriverFlavour.class, DriverFlavour.class);
  static final EnumCodec<hmmemu.protocol.model.Errno, Errno> ERRNO =
      new EnumCodec<>(hmmemu.protocol.model.Errno.class, Errno.class);
  static final EnumCodec<hmmemu.protocol.model.KernelProfile, KernelProfile> KERNEL_PROFILE =
      new EnumCodec<>(hmmemu.protocol.model.KernelProfile.class, KernelProfile.class);
  static final EnumCodec<hmmemu.protocol.model.NotifierKind, NotifierKind> NOTIFIER_KIND =
      new EnumCodec<>(hmmemu.protocol.model.NotifierKind.class, NotifierKind.class);
  static final EnumCodec<hmmemu.protocol.model.NotifyEvent, NotifyEvent> NOTIFY_EVENT =
      new EnumCodec<>(hmmemu.protocol.model.NotifyEvent.class, NotifyEvent.class);
  static final EnumCodec<hmmemu.protocol.model.PteState, PteState> PTE_STATE =
      new EnumCodec<>(hmmemu.protocol.model.PteState.class, PteState.class);
  static final EnumCodec<hmmemu.protocol.model.VmaKind, VmaKind> VMA_KIND =
      new EnumCodec<>(hmmemu.protocol.model.VmaKind.class, VmaKind.class);
  static final EnumCodec<HmmProtocol.SyscallKind, SyscallKind> SYSCALL_KIND =
      new EnumCodec<>(HmmProtocol.SyscallKind.class, SyscallKind.class);
  static final EnumCodec<HmmProtocol.DmirrorOp, DmirrorOp> DMIRROR_OP =
      new EnumCodec<>(HmmProtocol.DmirrorOp.class, DmirrorOp.class);

  /** Every enum codec, for tests. */
  static List<EnumCodec<?, ?>> enumCodecs() {
    return List.of(ACCESS, DRIVER_FLAVOUR, ERRNO, KERNEL_PROFILE, NOTIFIER_KIND, NOTIFY_EVENT, PTE_STATE, VMA_KIND,
        SYSCALL_KIND, DMIRROR_OP);
  }

  // ================================================================ ModelSwitches

  static ModelSwitches encodeSwitches(hmmemu.protocol.model.ModelSwitches s) {
    return ModelSwitches.newBuilder()
        .setKernelProfile(KERNEL_PROFILE.enc(s.kernelProfile(), "ModelSwitches.kernelProfile"))
        .setFolioLockUntilMapped(s.folioLockUntilMapped()).setOwnerFilter(s.ownerFilter())
        .setDriverLockAcrossConversion(s.driverLockAcrossConversion()).setLeakFolioOnRetry(s.leakFolioOnRetry())
        .setDmirrorSeqCheck(s.dmirrorSeqCheck()).setHmmPfnExclusive(s.hmmPfnExclusive())
        .setDriverDeadlineMicros(s.driverDeadlineMicros()).setBrokenMapBeforeRetry(s.brokenMapBeforeRetry())
        .build();
  }

  static hmmemu.protocol.model.ModelSwitches decodeSwitches(ModelSwitches p) {
    return new hmmemu.protocol.model.ModelSwitches(
        KERNEL_PROFILE.dec(p.getKernelProfile(), "ModelSwitches.kernelProfile"), p.getFolioLockUntilMapped(),
        p.getOwnerFilter(), p.getDriverLockAcrossConversion(), p.getLeakFolioOnRetry(), p.getDmirrorSeqCheck(),
        p.getHmmPfnExclusive(), p.getDriverDeadlineMicros(), p.getBrokenMapBeforeRetry());
  }

  // ================================================================ encoders

  private static final Map<Class<?>, BiConsumer<?, Envelope.Builder>> MSG_ENCODERS = new HashMap<>();
  private static final Map<Class<?>, BiConsumer<?, TraceEvent.Builder>> EVENT_ENCODERS = new HashMap<>();

  private static <T extends HmmProtocol.Msg> void msg(Class<T> c, BiConsumer<T, Envelope.Builder> enc) {
    if (MSG_ENCODERS.put(c, enc) != null) throw new IllegalStateException("duplicate encoder for " + c);
  }

  private static <T extends Trace.Event> void event(Class<T> c, BiConsumer<T, TraceEvent.Builder> enc) {
    if (EVENT_ENCODERS.put(c, enc) != null) throw new IllegalStateException("duplicate encoder for " + c);
  }

  private static Envelope.Builder header(long[] vc, String replyTo) {
    Envelope.Builder b = Envelope.newBuilder();
    if (vc != null) for (long x : vc) b.addVc(x);
    if (replyTo != null) b.setReplyTo(replyTo);
    return b;
  }

  private static <T> List<T> list(List<T> l) {
    return l == null ? List.of() : l;
  }

  static {
    // ---------------------------------------------------------------- notifier
    msg(HmmProtocol.NotifierInsert.class, (m, b) -> b.setNotifierInsert(NotifierInsert.newBuilder()
        .setSubId(m.subId()).setDeviceId(m.deviceId()).setMmId(m.mmId())
        .setKind(NOTIFIER_KIND.enc(m.kind(), "NotifierInsert.kind")).setStart(m.start()).setEnd(m.end())));
    msg(HmmProtocol.NotifierRemove.class, (m, b) -> b.setNotifierRemove(NotifierRemove.newBuilder()
        .setSubId(m.subId())));
    msg(HmmProtocol.NotifierRemoved.class, (m, b) -> b.setNotifierRemoved(NotifierRemoved.newBuilder()
        .setSubId(m.subId())));
    msg(HmmProtocol.NotifierInserted.class, (m, b) -> b.setNotifierInserted(NotifierInserted.newBuilder()
        .setSubId(m.subId()).setSeq(m.seq())));
    msg(HmmProtocol.InvalidateStart.class, (m, b) -> b.setInvalidateStart(InvalidateStart.newBuilder()
        .setInvId(m.invId()).setSubId(m.subId()).setMmId(m.mmId()).setStart(m.start()).setEnd(m.end())
        .setEvent(NOTIFY_EVENT.enc(m.event(), "InvalidateStart.event")).setOwner(m.owner())
        .setBlockable(m.blockable()).setCurSeq(m.curSeq())));
    msg(HmmProtocol.InvalidateAck.class, (m, b) -> b.setInvalidateAck(InvalidateAck.newBuilder()
        .setInvId(m.invId()).setSubId(m.subId()).setOk(m.ok())));
    msg(HmmProtocol.InvalidateEnd.class, (m, b) -> b.setInvalidateEnd(InvalidateEnd.newBuilder()
        .setSubId(m.subId()).setSeq(m.seq())));
    // ---------------------------------------------------------------- exclusive
    msg(HmmProtocol.MakeDeviceExclusive.class, (m, b) -> b.setMakeDeviceExclusive(MakeDeviceExclusive.newBuilder()
        .setReqId(m.reqId()).setDeviceId(m.deviceId()).setMmId(m.mmId()).setVa(m.va()).setOwner(m.owner())));
    msg(HmmProtocol.MakeDeviceExclusiveReply.class, (m, b) -> b.setMakeDeviceExclusiveReply(
        MakeDeviceExclusiveReply.newBuilder().setReqId(m.reqId())
            .setErrno(ERRNO.enc(m.errno(), "MakeDeviceExclusiveReply.errno")).setPfn(m.pfn())));
    msg(HmmProtocol.FolioUnlockPut.class, (m, b) -> b.setFolioUnlockPut(FolioUnlockPut.newBuilder()
        .setReqId(m.reqId()).setDeviceId(m.deviceId()).setPfn(m.pfn()).setThenRemoveSubId(m.thenRemoveSubId())));
    msg(HmmProtocol.HmmRangeFault.class, (m, b) -> b.setHmmRangeFault(HmmRangeFault.newBuilder()
        .setReqId(m.reqId()).setDeviceId(m.deviceId()).setSubId(m.subId()).setSeq(m.seq()).setMmId(m.mmId())
        .setStart(m.start()).addAllReqFlags(list(m.reqFlags()))));
    msg(HmmProtocol.HmmRangeFaultReply.class, (m, b) -> b.setHmmRangeFaultReply(HmmRangeFaultReply.newBuilder()
        .setReqId(m.reqId()).setErrno(ERRNO.enc(m.errno(), "HmmRangeFaultReply.errno"))
        .addAllHmmPfns(list(m.hmmPfns()))));
    msg(HmmProtocol.DeviceMemoryAccess.class, (m, b) -> b.setDeviceMemoryAccess(DeviceMemoryAccess.newBuilder()
        .setReqId(m.reqId()).setDeviceId(m.deviceId()).setPfn(m.pfn()).setWordIndex(m.wordIndex())
        .setAccess(ACCESS.enc(m.access(), "DeviceMemoryAccess.access")).setValue(m.value())));
    msg(HmmProtocol.DeviceMemoryAccessReply.class, (m, b) -> b.setDeviceMemoryAccessReply(
        DeviceMemoryAccessReply.newBuilder().setReqId(m.reqId()).setValue(m.value())));
    // ---------------------------------------------------------------- cpu
    msg(HmmProtocol.CpuAccess.class, (m, b) -> b.setCpuAccess(CpuAccess.newBuilder()
        .setReqId(m.reqId()).setThreadId(m.threadId()).setMmId(m.mmId()).setVa(m.va())
        .setAccess(ACCESS.enc(m.access(), "CpuAccess.access")).setValue(m.value()).setSpin(m.spin())));
    msg(HmmProtocol.CpuAccessDone.class, (m, b) -> b.setCpuAccessDone(CpuAccessDone.newBuilder()
        .setReqId(m.reqId()).setThreadId(m.threadId()).setErrno(ERRNO.enc(m.errno(), "CpuAccessDone.errno"))
        .setValue(m.value()).setFaults(m.faults())));
    msg(HmmProtocol.Syscall.class, (m, b) -> b.setSyscall(Syscall.newBuilder()
        .setReqId(m.reqId()).setMmId(m.mmId()).setKind(SYSCALL_KIND.enc(m.kind(), "Syscall.kind"))
        .setStart(m.start()).setLength(m.length()).setProt(m.prot())
        .setVmaKind(VMA_KIND.encNullable(m.vmaKind())).setChildMmId(m.childMmId())));
    msg(HmmProtocol.SyscallDone.class, (m, b) -> b.setSyscallDone(SyscallDone.newBuilder()
        .setReqId(m.reqId()).setErrno(ERRNO.enc(m.errno(), "SyscallDone.errno")).setValue(m.value())));
    msg(HmmProtocol.InspectPage.class, (m, b) -> b.setInspectPage(InspectPage.newBuilder()
        .setReqId(m.reqId()).setMmId(m.mmId()).setVa(m.va())));
    msg(HmmProtocol.PageInfo.class, (m, b) -> b.setPageInfo(PageInfo.newBuilder()
        .setReqId(m.reqId()).setPte(PTE_STATE.enc(m.pte(), "PageInfo.pte")).setPfn(m.pfn()).setWrite(m.write())
        .setDirty(m.dirty()).setYoung(m.young()).setFolioLocked(m.folioLocked()).setRefcount(m.refcount())
        .setMapcount(m.mapcount()).setFolioDirty(m.folioDirty()).setAnonExclusive(m.anonExclusive())
        .setWord0(m.word0()).addAllWords(list(m.words()))));
    // ---------------------------------------------------------------- device
    msg(HmmProtocol.DeviceAccess.class, (m, b) -> b.setDeviceAccess(DeviceAccess.newBuilder()
        .setReqId(m.reqId()).setDeviceId(m.deviceId()).setMmId(m.mmId()).setVa(m.va())
        .setAccess(ACCESS.enc(m.access(), "DeviceAccess.access")).setValue(m.value())));
    msg(HmmProtocol.DeviceAccessDone.class, (m, b) -> b.setDeviceAccessDone(DeviceAccessDone.newBuilder()
        .setReqId(m.reqId()).setDeviceId(m.deviceId()).setErrno(ERRNO.enc(m.errno(), "DeviceAccessDone.errno"))
        .setValue(m.value()).setFaultRounds(m.faultRounds()).setLatencyMicros(m.latencyMicros())));
    msg(HmmProtocol.BindMm.class, (m, b) -> b.setBindMm(BindMm.newBuilder()
        .setReqId(m.reqId()).setDeviceId(m.deviceId()).setMmId(m.mmId())
        .setFlavour(DRIVER_FLAVOUR.enc(m.flavour(), "BindMm.flavour"))));
    msg(HmmProtocol.MmBound.class, (m, b) -> b.setMmBound(MmBound.newBuilder()
        .setReqId(m.reqId()).setDeviceId(m.deviceId()).setOwner(m.owner())));
    msg(HmmProtocol.DmirrorCmd.class, (m, b) -> b.setDmirrorCmd(DmirrorCmd.newBuilder()
        .setReqId(m.reqId()).setDeviceId(m.deviceId()).setMmId(m.mmId()).setOp(DMIRROR_OP.enc(m.op(), "DmirrorCmd.op"))
        .setStart(m.start()).setNpages(m.npages()).addAllData(list(m.data()))));
    msg(HmmProtocol.DmirrorReply.class, (m, b) -> b.setDmirrorReply(DmirrorReply.newBuilder()
        .setReqId(m.reqId()).setErrno(ERRNO.enc(m.errno(), "DmirrorReply.errno")).setFaults(m.faults())
        .setCpages(m.cpages()).addAllData(list(m.data()))));
    msg(HmmProtocol.InspectDevice.class, (m, b) -> b.setInspectDevice(InspectDevice.newBuilder()
        .setReqId(m.reqId()).setDeviceId(m.deviceId())));
    msg(HmmProtocol.DeviceInfo.class, (m, b) -> {
      DeviceInfo.Builder p = DeviceInfo.newBuilder().setReqId(m.reqId()).setDeviceId(m.deviceId())
          .setFaults(m.faults()).setDriverIterations(m.driverIterations())
          .setDriverIterationsMax(m.driverIterationsMax()).setDriverTimeouts(m.driverTimeouts())
          .setCancels(m.cancels()).setInvalidations(m.invalidations()).setReplays(m.replays())
          .setFaultsHandled(m.faultsHandled()).addAllDeadlockSuspects(list(m.deadlockSuspects()));
      for (HmmProtocol.DeviceEntry e : list(m.entries())) {
        p.addEntries(DeviceEntry.newBuilder().setMmId(e.mmId()).setVa(e.va()).setPfn(e.pfn()).setRead(e.read())
            .setWrite(e.write()).setAtomic(e.atomic()));
      }
      b.setDeviceInfo(p);
    });
    // ---------------------------------------------------------------- control
    msg(HmmProtocol.ResetNode.class, (m, b) -> {
      ResetNode.Builder p = ResetNode.newBuilder().setReqId(m.reqId());
      if (m.runName() != null) p.setRunName(m.runName());
      if (m.switches() != null) p.setSwitches(encodeSwitches(m.switches()));
      b.setResetNode(p);
    });
    msg(HmmProtocol.ResetDone.class, (m, b) -> b.setResetDone(ResetDone.newBuilder()
        .setReqId(m.reqId()).setNodeIndex(m.nodeIndex())));

    // ---------------------------------------------------------------- trace: CPU node
    event(Trace.PteChanged.class, (e, b) -> {
      PteChanged.Builder p = PteChanged.newBuilder().setMmId(e.mmId()).setVa(e.va())
          .setState(PTE_STATE.enc(e.state(), "PteChanged.state")).setPfn(e.pfn()).setWrite(e.write())
          .setDirty(e.dirty()).setYoung(e.young());
      if (e.cause() != null) p.setCause(e.cause());
      b.setPteChanged(p);
    });
    event(Trace.FolioChanged.class, (e, b) -> b.setFolioChanged(FolioChanged.newBuilder()
        .setPfn(e.pfn()).setLocked(e.locked()).setRefcount(e.refcount()).setMapcount(e.mapcount())
        .setDirty(e.dirty()).setAnonExclusive(e.anonExclusive()).setFreed(e.freed())));
    event(Trace.VmaChanged.class, (e, b) -> b.setVmaChanged(VmaChanged.newBuilder()
        .setMmId(e.mmId()).setStart(e.start()).setEnd(e.end()).setProt(e.prot())
        .setKind(VMA_KIND.enc(e.kind(), "VmaChanged.kind")).setRemoved(e.removed())));
    event(Trace.NotifierRegistered.class, (e, b) -> b.setNotifierRegistered(NotifierRegistered.newBuilder()
        .setSubId(e.subId()).setDeviceId(e.deviceId()).setMmId(e.mmId())
        .setKind(NOTIFIER_KIND.enc(e.kind(), "NotifierRegistered.kind")).setStart(e.start()).setEnd(e.end())
        .setRemoved(e.removed())));
    event(Trace.InvalidateStarted.class, (e, b) -> b.setInvalidateStarted(InvalidateStarted.newBuilder()
        .setInvId(e.invId()).setMmId(e.mmId()).setStart(e.start()).setEnd(e.end())
        .setEvent(NOTIFY_EVENT.enc(e.event(), "InvalidateStarted.event")).setOwner(e.owner())
        .setBlockable(e.blockable()).addAllSubIds(list(e.subIds()))));
    event(Trace.InvalidateEnded.class, (e, b) -> b.setInvalidateEnded(InvalidateEnded.newBuilder()
        .setInvId(e.invId()).setApplied(e.applied())));
    event(Trace.HostMemoryAccessed.class, (e, b) -> b.setHostMemoryAccessed(HostMemoryAccessed.newBuilder()
        .setDeviceId(e.deviceId()).setThreadId(e.threadId()).setPfn(e.pfn()).setWordIndex(e.wordIndex())
        .setAccess(ACCESS.enc(e.access(), "HostMemoryAccessed.access")).setOldValue(e.oldValue())
        .setNewValue(e.newValue())));
    event(Trace.ExclusiveReturned.class, (e, b) -> b.setExclusiveReturned(ExclusiveReturned.newBuilder()
        .setReqId(e.reqId()).setDeviceId(e.deviceId()).setPfn(e.pfn())
        .setErrno(ERRNO.enc(e.errno(), "ExclusiveReturned.errno")).setFolioLocked(e.folioLocked())));
    event(Trace.FolioUnlockPutDone.class, (e, b) -> b.setFolioUnlockPutDone(FolioUnlockPutDone.newBuilder()
        .setReqId(e.reqId()).setDeviceId(e.deviceId()).setPfn(e.pfn())));
    event(Trace.CpuFaulted.class, (e, b) -> {
      CpuFaulted.Builder p = CpuFaulted.newBuilder().setThreadId(e.threadId()).setMmId(e.mmId()).setVa(e.va());
      if (e.kind() != null) p.setKind(e.kind());
      b.setCpuFaulted(p);
    });
    event(Trace.FolioLockLeaseExpired.class, (e, b) -> b.setFolioLockLeaseExpired(FolioLockLeaseExpired.newBuilder()
        .setReqId(e.reqId()).setDeviceId(e.deviceId()).setPfn(e.pfn()).setLockHeld(e.lockHeld())));
    event(Trace.NodeGone.class, (e, b) -> {
      NodeGone.Builder p = NodeGone.newBuilder().setNodeIndex(e.nodeIndex());
      if (e.reason() != null) p.setReason(e.reason());
      b.setNodeGone(p);
    });
    // ---------------------------------------------------------------- trace: GPU node
    event(Trace.DriverBound.class, (e, b) -> {
      DriverBound.Builder p = DriverBound.newBuilder().setDeviceId(e.deviceId()).setMmId(e.mmId())
          .setOwner(e.owner());
      if (e.flavour() != null) p.setFlavour(e.flavour());
      b.setDriverBound(p);
    });
    event(Trace.DeviceEntryInstalled.class, (e, b) -> b.setDeviceEntryInstalled(DeviceEntryInstalled.newBuilder()
        .setDeviceId(e.deviceId()).setMmId(e.mmId()).setVa(e.va()).setPfn(e.pfn()).setRead(e.read())
        .setWrite(e.write()).setAtomic(e.atomic()).setSubId(e.subId()).setSeq(e.seq())));
    event(Trace.DeviceEntryZapped.class, (e, b) -> b.setDeviceEntryZapped(DeviceEntryZapped.newBuilder()
        .setDeviceId(e.deviceId()).setMmId(e.mmId()).setVa(e.va()).setPfn(e.pfn())));
    event(Trace.InvalidateAcked.class, (e, b) -> b.setInvalidateAcked(InvalidateAcked.newBuilder()
        .setInvId(e.invId()).setSubId(e.subId()).setDeviceId(e.deviceId()).setOk(e.ok()).setIgnored(e.ignored())));
    event(Trace.DeviceAccessIssued.class, (e, b) -> b.setDeviceAccessIssued(DeviceAccessIssued.newBuilder()
        .setDeviceId(e.deviceId()).setMmId(e.mmId()).setVa(e.va()).setPfn(e.pfn())
        .setAccess(ACCESS.enc(e.access(), "DeviceAccessIssued.access"))));
    event(Trace.DeviceFaulted.class, (e, b) -> b.setDeviceFaulted(DeviceFaulted.newBuilder()
        .setDeviceId(e.deviceId()).setMmId(e.mmId()).setVa(e.va())
        .setAccess(ACCESS.enc(e.access(), "DeviceFaulted.access"))));
    event(Trace.DriverFaultHandled.class, (e, b) -> b.setDriverFaultHandled(DriverFaultHandled.newBuilder()
        .setDeviceId(e.deviceId()).setMmId(e.mmId()).setVa(e.va())
        .setAccess(ACCESS.enc(e.access(), "DriverFaultHandled.access")).setIterations(e.iterations())
        .setErrno(ERRNO.enc(e.errno(), "DriverFaultHandled.errno"))));
    event(Trace.ReadRetryChecked.class, (e, b) -> b.setReadRetryChecked(ReadRetryChecked.newBuilder()
        .setDeviceId(e.deviceId()).setSubId(e.subId()).setSeq(e.seq()).setSubSeq(e.subSeq()).setRetry(e.retry())));
    event(Trace.DeviceAccessCompleted.class, (e, b) -> b.setDeviceAccessCompleted(DeviceAccessCompleted.newBuilder()
        .setDeviceId(e.deviceId()).setReqId(e.reqId()).setErrno(ERRNO.enc(e.errno(), "DeviceAccessCompleted.errno"))
        .setFaultRounds(e.faultRounds()).setLatencyMicros(e.latencyMicros())));
    event(Trace.DriverLockHeldAcross.class, (e, b) -> {
      DriverLockHeldAcross.Builder p = DriverLockHeldAcross.newBuilder()
          .setDeviceId(e.deviceId()).setMmId(e.mmId()).setVa(e.va()).setReqId(e.reqId());
      if (e.lock() != null) p.setLock(e.lock());
      if (e.call() != null) p.setCall(e.call());
      b.setDriverLockHeldAcross(p);
    });
  }
}
