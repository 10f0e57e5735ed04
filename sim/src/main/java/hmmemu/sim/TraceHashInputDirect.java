package hmmemu.sim;

import static hmmemu.sim.TraceHash.enumOf;
import static hmmemu.sim.TraceHash.mix;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.List;

/**
 * The state key's fold ({@link TraceHash#addInput}) of the frequent input messages written out per type, as
 * {@link TraceHashDirect} does for trace events: each case folds the record's name hash and then its components in
 * declaration order exactly as TraceHash's per-component readers do (a long or int as itself, a boolean as
 * 0xB1/0xB0, an enum as its name's hash, null as 0x5A5A), without the one megamorphic reader call per component. A
 * {@link HmmProtocol.PageInfo}'s words are folded by their non-zero words ({@link TraceHash#pageWords}), as its reader-based fold
 * does. The types are the twelve most frequent inputs of the capped files of ExploreEveryFileTest (counted in
 * session 16: 99.5 % of their inputs); any other message goes through the readers. Emulator-only host mechanism.
 */
final class TraceHashInputDirect {
  private TraceHashInputDirect() {}

  private static final long B1 = 0xB1, B0 = 0xB0;
  private static final long[] PTE_STATE = TraceHash.enumNames(PteState.class);
  private static final long[] ACCESS = TraceHash.enumNames(Access.class);
  private static final long[] ERRNO = TraceHash.enumNames(Errno.class);
  private static final long[] NOTIFY_EVENT = TraceHash.enumNames(NotifyEvent.class);

  /** The message types with a case, in case order (case = index + 1), most frequent first. */
  static final List<Class<?>> CASES = List.of(HmmProtocol.CpuAccessDone.class, HmmProtocol.CpuAccess.class,
      HmmProtocol.PageInfo.class, HmmProtocol.InspectPage.class, HmmProtocol.DeviceMemoryAccessReply.class,
      HmmProtocol.DeviceMemoryAccess.class, HmmProtocol.InvalidateAck.class, HmmProtocol.InvalidateStart.class,
      HmmProtocol.InvalidateEnd.class, HmmProtocol.FolioUnlockPut.class, HmmProtocol.MakeDeviceExclusive.class,
      HmmProtocol.MakeDeviceExclusiveReply.class);

  /** The case of a message type (1..), or 0 when it has none. */
  static int caseOf(Class<?> type) {
    return CASES.indexOf(type) + 1;
  }

  private static long b(boolean v) {
    return v ? B1 : B0;
  }

  /** Folds message {@code o} of case {@code c} (record name hash {@code name}) into {@code h}. */
  static long fold(long h, int c, long name, Object o) {
    h = mix(h, name);
    switch (c) {
      case 1 -> {
        HmmProtocol.CpuAccessDone m = (HmmProtocol.CpuAccessDone) o;
        h = mix(h, m.reqId());
        h = mix(h, m.threadId());
        h = mix(h, enumOf(ERRNO, m.errno()));
        h = mix(h, m.value());
        h = mix(h, m.faults());
        h = mix(h, m.latencyMicros());
      }
      case 2 -> {
        HmmProtocol.CpuAccess m = (HmmProtocol.CpuAccess) o;
        h = mix(h, m.reqId());
        h = mix(h, m.threadId());
        h = mix(h, m.mmId());
        h = mix(h, m.va());
        h = mix(h, enumOf(ACCESS, m.access()));
        h = mix(h, m.value());
        h = mix(h, b(m.spin()));
      }
      case 3 -> {
        HmmProtocol.PageInfo m = (HmmProtocol.PageInfo) o;
        h = mix(h, m.reqId());
        h = mix(h, enumOf(PTE_STATE, m.pte()));
        h = mix(h, m.pfn());
        h = mix(h, b(m.write()));
        h = mix(h, b(m.dirty()));
        h = mix(h, b(m.young()));
        h = mix(h, b(m.folioLocked()));
        h = mix(h, m.refcount());
        h = mix(h, m.mapcount());
        h = mix(h, b(m.folioDirty()));
        h = mix(h, b(m.anonExclusive()));
        h = mix(h, m.word0());
        h = TraceHash.pageWords(h, m.words());
      }
      case 4 -> {
        HmmProtocol.InspectPage m = (HmmProtocol.InspectPage) o;
        h = mix(h, m.reqId());
        h = mix(h, m.mmId());
        h = mix(h, m.va());
      }
      case 5 -> {
        HmmProtocol.DeviceMemoryAccessReply m = (HmmProtocol.DeviceMemoryAccessReply) o;
        h = mix(h, m.reqId());
        h = mix(h, m.value());
      }
      case 6 -> {
        HmmProtocol.DeviceMemoryAccess m = (HmmProtocol.DeviceMemoryAccess) o;
        h = mix(h, m.reqId());
        h = mix(h, m.deviceId());
        h = mix(h, m.pfn());
        h = mix(h, m.wordIndex());
        h = mix(h, enumOf(ACCESS, m.access()));
        h = mix(h, m.value());
      }
      case 7 -> {
        HmmProtocol.InvalidateAck m = (HmmProtocol.InvalidateAck) o;
        h = mix(h, m.invId());
        h = mix(h, m.subId());
        h = mix(h, b(m.ok()));
        h = mix(h, b(m.seqSet()));
      }
      case 8 -> {
        HmmProtocol.InvalidateStart m = (HmmProtocol.InvalidateStart) o;
        h = mix(h, m.invId());
        h = mix(h, m.subId());
        h = mix(h, m.mmId());
        h = mix(h, m.start());
        h = mix(h, m.end());
        h = mix(h, enumOf(NOTIFY_EVENT, m.event()));
        h = mix(h, m.owner());
        h = mix(h, b(m.blockable()));
        h = mix(h, m.curSeq());
      }
      case 9 -> {
        HmmProtocol.InvalidateEnd m = (HmmProtocol.InvalidateEnd) o;
        h = mix(h, m.subId());
        h = mix(h, m.seq());
      }
      case 10 -> {
        HmmProtocol.FolioUnlockPut m = (HmmProtocol.FolioUnlockPut) o;
        h = mix(h, m.reqId());
        h = mix(h, m.deviceId());
        h = mix(h, m.pfn());
        h = mix(h, m.thenRemoveSubId());
      }
      case 11 -> {
        HmmProtocol.MakeDeviceExclusive m = (HmmProtocol.MakeDeviceExclusive) o;
        h = mix(h, m.reqId());
        h = mix(h, m.deviceId());
        h = mix(h, m.mmId());
        h = mix(h, m.va());
        h = mix(h, m.owner());
      }
      case 12 -> {
        HmmProtocol.MakeDeviceExclusiveReply m = (HmmProtocol.MakeDeviceExclusiveReply) o;
        h = mix(h, m.reqId());
        h = mix(h, enumOf(ERRNO, m.errno()));
        h = mix(h, m.pfn());
      }
      default -> throw new IllegalArgumentException("no direct input fold for case " + c);
    }
    return h;
  }
}
