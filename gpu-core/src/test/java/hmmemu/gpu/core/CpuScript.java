package hmmemu.gpu.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Plays the CPU node's part by hand: steps the GPU node, queues what it sends, and lets a test take the next
 * message of a type and answer it. Every trace event of the run is kept in order for assertions.
 */
final class CpuScript {
  static final int DEV = 17;
  static final int MM = 1;
  static final long OWNER = GpuNode.nouveauOwner(DEV);

  final GpuNode node;
  long now;
  private final List<Outbound> unread = new ArrayList<>();
  final List<Outbound> sent = new ArrayList<>();
  final List<Trace.Event> events = new ArrayList<>();
  private long nextInvId = 1;
  private long nextSeq = 1;
  /**
   * Answer every mmu_interval_notifier_remove() at once with NotifierRemoved, as the CPU node does when no
   * invalidation of the mm is running. Off: the test answers with {@link #removed}.
   */
  boolean autoRemove = true;

  CpuScript(ModelSwitches switches) {
    node = new GpuNode(1, switches);
    node.addDevice(DEV);
  }

  Ready step(HmmProtocol.Msg msg) {
    Ready r = node.step(msg, now);
    unread.addAll(r.out);
    sent.addAll(r.out);
    events.addAll(r.events);
    if (autoRemove) {
      for (Outbound o : r.out) {
        long subId = removedSubId(o.msg());
        if (subId != 0) removed(subId);
      }
    }
    return r;
  }

  /** The subscription a driver message removes (NotifierRemove, or FolioUnlockPut's thenRemoveSubId), or 0. */
  static long removedSubId(HmmProtocol.Msg msg) {
    if (msg instanceof HmmProtocol.NotifierRemove m) return m.subId();
    if (msg instanceof HmmProtocol.FolioUnlockPut m) return m.thenRemoveSubId();
    return 0;
  }

  /** The CPU's answer: mmu_interval_notifier_remove(subId) returned. */
  Ready removed(long subId) {
    return step(new HmmProtocol.NotifierRemoved(subId));
  }

  /** Takes the first unread message of {@code type}; fails if there is none. */
  <T extends HmmProtocol.Msg> T take(Class<T> type) {
    Iterator<Outbound> it = unread.iterator();
    while (it.hasNext()) {
      Outbound o = it.next();
      if (type.isInstance(o.msg())) {
        it.remove();
        return type.cast(o.msg());
      }
    }
    return fail("expected a " + type.getSimpleName() + " but unread is " + describe(unread));
  }

  /**
   * A dmirror ioctl that sent FolioUnlockPuts returns only behind them: no DmirrorReply yet, an UnlockFence sent
   * after every FolioUnlockPut; answers it and returns the DmirrorReply that follows.
   */
  HmmProtocol.DmirrorReply replyAfterUnlockFence() {
    assertNone(HmmProtocol.DmirrorReply.class);
    int fence = -1;
    int lastUnlock = -1;
    for (int i = 0; i < sent.size(); i++) {
      HmmProtocol.Msg m = sent.get(i).msg();
      if (m instanceof HmmProtocol.FolioUnlockPut) lastUnlock = i;
      if (m instanceof HmmProtocol.UnlockFence) fence = i;
    }
    if (fence < lastUnlock) fail("the UnlockFence must follow every FolioUnlockPut: " + describe(sent));
    HmmProtocol.UnlockFence f = take(HmmProtocol.UnlockFence.class);
    assertEquals(DEV, f.deviceId());
    step(new HmmProtocol.UnlockFenceReply(f.reqId()));
    return take(HmmProtocol.DmirrorReply.class);
  }

  /** Asserts that nothing of {@code type} is unread. */
  void assertNone(Class<? extends HmmProtocol.Msg> type) {
    for (Outbound o : unread) {
      if (type.isInstance(o.msg())) fail("unexpected " + o.msg());
    }
  }

  int unreadCount(Class<? extends HmmProtocol.Msg> type) {
    return (int) unread.stream().filter(o -> type.isInstance(o.msg())).count();
  }

  long count(Class<? extends HmmProtocol.Msg> type) {
    return sent.stream().filter(o -> type.isInstance(o.msg())).count();
  }

  <E extends Trace.Event> List<E> events(Class<E> type) {
    return events.stream().filter(type::isInstance).map(type::cast).collect(Collectors.toList());
  }

  static String describe(List<Outbound> out) {
    return out.stream().map(o -> o.msg().toString()).collect(Collectors.joining("\n  ", "[\n  ", "\n]"));
  }

  long nextOddSeq() {
    nextSeq += 2;
    return nextSeq;
  }

  // -------------------------------------------------------------------------------------------- CPU-side steps

  /** BindMm and the CPU's NotifierInserted; returns the long-lived subscription (nouveau Gc or dmirror's). */
  HmmProtocol.NotifierInsert bind(DriverFlavour flavour) {
    step(new HmmProtocol.BindMm(1, DEV, MM, flavour));
    HmmProtocol.NotifierInsert insert = take(HmmProtocol.NotifierInsert.class);
    step(new HmmProtocol.NotifierInserted(insert.subId(), nextOddSeq()));
    HmmProtocol.MmBound bound = take(HmmProtocol.MmBound.class);
    assertEquals(flavour == DriverFlavour.NOUVEAU ? OWNER : 0L, bound.owner());
    return insert;
  }

  /** Answers the next NotifierInsert (a temporary Gt) and returns it. */
  HmmProtocol.NotifierInsert insertWindow() {
    HmmProtocol.NotifierInsert insert = take(HmmProtocol.NotifierInsert.class);
    step(new HmmProtocol.NotifierInserted(insert.subId(), nextOddSeq()));
    return insert;
  }

  /** Delivers one invalidate callback and returns its invId. */
  long invalidate(long subId, long start, long end, hmmemu.protocol.model.NotifyEvent event, long owner,
      boolean blockable, long curSeq) {
    long invId = nextInvId++;
    step(new HmmProtocol.InvalidateStart(invId, subId, MM, start, end, event, owner, blockable, curSeq));
    return invId;
  }

  /** The InvalidateAck for invId, taken from the unread messages. */
  HmmProtocol.InvalidateAck ackOf(long invId) {
    Iterator<Outbound> it = unread.iterator();
    while (it.hasNext()) {
      Outbound o = it.next();
      if (o.msg() instanceof HmmProtocol.InvalidateAck && ((HmmProtocol.InvalidateAck) o.msg()).invId() == invId) {
        it.remove();
        return (HmmProtocol.InvalidateAck) o.msg();
      }
    }
    return fail("no ack for inv " + invId + " in " + describe(unread));
  }

  boolean acked(long invId) {
    return unread.stream().anyMatch(o -> o.msg() instanceof HmmProtocol.InvalidateAck
        && ((HmmProtocol.InvalidateAck) o.msg()).invId() == invId);
  }
}
