package hmmemu.sim;

import static hmmemu.sim.TraceHash.enumOf;
import static hmmemu.sim.TraceHash.mix;
import static hmmemu.sim.TraceHash.stringOf;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Trace;
import java.util.List;

/**
 * {@link TraceHash}'s fold of the frequent trace event records written out per type: each case folds the record's
 * name hash and then its components in declaration order exactly as TraceHash's per-component readers do (a long or
 * int as itself, a boolean as 0xB1/0xB0, an enum as its name's hash, a String through its component's recent
 * strings, null as 0x5A5A, a list as its size and its elements), without the one megamorphic reader call per
 * component. Any other record goes through the readers. Emulator-only host mechanism.
 */
final class TraceHashDirect {
  private TraceHashDirect() {}

  private static final long B1 = 0xB1, B0 = 0xB0;
  private static final long[] PTE_STATE = TraceHash.enumNames(PteState.class);
  private static final long[] ACCESS = TraceHash.enumNames(Access.class);
  private static final long[] ERRNO = TraceHash.enumNames(Errno.class);
  private static final long[] NOTIFY_EVENT = TraceHash.enumNames(NotifyEvent.class);

  /** The record types with a case, in case order (case = index + 1). */
  static final List<Class<?>> CASES = List.of(Trace.PteChanged.class, Trace.FolioChanged.class,
      Trace.InvalidateStarted.class, Trace.InvalidateEnded.class, Trace.InvalidateAcked.class,
      Trace.HostMemoryAccessed.class, Trace.DeviceAccessIssued.class, Trace.DeviceAccessCompleted.class,
      Trace.DeviceEntryInstalled.class, Trace.DeviceEntryZapped.class, Trace.DeviceFaulted.class,
      Trace.DriverFaultHandled.class, Trace.ReadRetryChecked.class, Trace.ExclusiveReturned.class,
      Trace.FolioUnlockPutDone.class, Trace.CpuFaulted.class);

  /** The case of a record type (1..), or 0 when it has none. */
  static int caseOf(Class<?> type) {
    return CASES.indexOf(type) + 1;
  }

  private static long b(boolean v) {
    return v ? B1 : B0;
  }

  /** Folds record {@code o} of case {@code c} (name hash {@code name}, component readers {@code rc}) into {@code h}. */
  static long fold(long h, int c, long name, Object o, Object[] rc) {
    h = mix(h, name);
    switch (c) {
      case 1 -> {
        Trace.PteChanged e = (Trace.PteChanged) o;
        h = mix(h, e.mmId());
        h = mix(h, e.va());
        h = mix(h, enumOf(PTE_STATE, e.state()));
        h = mix(h, e.pfn());
        h = mix(h, b(e.write()));
        h = mix(h, b(e.dirty()));
        h = mix(h, b(e.young()));
        h = mix(h, stringOf(rc[7], e.cause()));
      }
      case 2 -> {
        Trace.FolioChanged e = (Trace.FolioChanged) o;
        h = mix(h, e.pfn());
        h = mix(h, b(e.locked()));
        h = mix(h, e.refcount());
        h = mix(h, e.mapcount());
        h = mix(h, b(e.dirty()));
        h = mix(h, b(e.anonExclusive()));
        h = mix(h, b(e.freed()));
      }
      case 3 -> {
        Trace.InvalidateStarted e = (Trace.InvalidateStarted) o;
        h = mix(h, e.invId());
        h = mix(h, e.mmId());
        h = mix(h, e.start());
        h = mix(h, e.end());
        h = mix(h, enumOf(NOTIFY_EVENT, e.event()));
        h = mix(h, e.owner());
        h = mix(h, b(e.blockable()));
        h = list(h, e.subIds());
      }
      case 4 -> {
        Trace.InvalidateEnded e = (Trace.InvalidateEnded) o;
        h = mix(h, e.invId());
        h = mix(h, b(e.applied()));
      }
      case 5 -> {
        Trace.InvalidateAcked e = (Trace.InvalidateAcked) o;
        h = mix(h, e.invId());
        h = mix(h, e.subId());
        h = mix(h, e.deviceId());
        h = mix(h, b(e.ok()));
        h = mix(h, b(e.ignored()));
      }
      case 6 -> {
        Trace.HostMemoryAccessed e = (Trace.HostMemoryAccessed) o;
        h = mix(h, e.deviceId());
        h = mix(h, e.threadId());
        h = mix(h, e.pfn());
        h = mix(h, e.wordIndex());
        h = mix(h, enumOf(ACCESS, e.access()));
        h = mix(h, e.oldValue());
        h = mix(h, e.newValue());
      }
      case 7 -> {
        Trace.DeviceAccessIssued e = (Trace.DeviceAccessIssued) o;
        h = mix(h, e.deviceId());
        h = mix(h, e.mmId());
        h = mix(h, e.va());
        h = mix(h, e.pfn());
        h = mix(h, enumOf(ACCESS, e.access()));
      }
      case 8 -> {
        Trace.DeviceAccessCompleted e = (Trace.DeviceAccessCompleted) o;
        h = mix(h, e.deviceId());
        h = mix(h, e.reqId());
        h = mix(h, enumOf(ERRNO, e.errno()));
        h = mix(h, e.faultRounds());
        h = mix(h, e.latencyMicros());
      }
      case 9 -> {
        Trace.DeviceEntryInstalled e = (Trace.DeviceEntryInstalled) o;
        h = mix(h, e.deviceId());
        h = mix(h, e.mmId());
        h = mix(h, e.va());
        h = mix(h, e.pfn());
        h = mix(h, b(e.read()));
        h = mix(h, b(e.write()));
        h = mix(h, b(e.atomic()));
        h = mix(h, e.subId());
        h = mix(h, e.seq());
      }
      case 10 -> {
        Trace.DeviceEntryZapped e = (Trace.DeviceEntryZapped) o;
        h = mix(h, e.deviceId());
        h = mix(h, e.mmId());
        h = mix(h, e.va());
        h = mix(h, e.pfn());
      }
      case 11 -> {
        Trace.DeviceFaulted e = (Trace.DeviceFaulted) o;
        h = mix(h, e.deviceId());
        h = mix(h, e.mmId());
        h = mix(h, e.va());
        h = mix(h, enumOf(ACCESS, e.access()));
      }
      case 12 -> {
        Trace.DriverFaultHandled e = (Trace.DriverFaultHandled) o;
        h = mix(h, e.deviceId());
        h = mix(h, e.mmId());
        h = mix(h, e.va());
        h = mix(h, enumOf(ACCESS, e.access()));
        h = mix(h, e.iterations());
        h = mix(h, enumOf(ERRNO, e.errno()));
      }
      case 13 -> {
        Trace.ReadRetryChecked e = (Trace.ReadRetryChecked) o;
        h = mix(h, e.deviceId());
        h = mix(h, e.subId());
        h = mix(h, e.seq());
        h = mix(h, e.subSeq());
        h = mix(h, b(e.retry()));
      }
      case 14 -> {
        Trace.ExclusiveReturned e = (Trace.ExclusiveReturned) o;
        h = mix(h, e.reqId());
        h = mix(h, e.deviceId());
        h = mix(h, e.pfn());
        h = mix(h, enumOf(ERRNO, e.errno()));
        h = mix(h, b(e.folioLocked()));
      }
      case 15 -> {
        Trace.FolioUnlockPutDone e = (Trace.FolioUnlockPutDone) o;
        h = mix(h, e.reqId());
        h = mix(h, e.deviceId());
        h = mix(h, e.pfn());
      }
      case 16 -> {
        Trace.CpuFaulted e = (Trace.CpuFaulted) o;
        h = mix(h, e.threadId());
        h = mix(h, e.mmId());
        h = mix(h, e.va());
        h = mix(h, stringOf(rc[3], e.kind()));
      }
      default -> throw new IllegalArgumentException("no direct fold for case " + c);
    }
    return h;
  }

  /** A list component as TraceHash folds it: its size, then each element (a Long as itself, null as 0x5A5A). */
  private static long list(long h, List<?> list) {
    if (list == null) return mix(h, 0x5A5A);
    int n = list.size();
    h = mix(h, n);
    for (int i = 0; i < n; i++) {
      Object x = list.get(i);
      h = x instanceof Long l ? mix(h, l) : TraceHash.valueOf(h, x);
    }
    return h;
  }
}
