package hmmemu.cpu.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.InvalidateStart;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Drives a {@link CpuMm} and plays the drivers' part: by default every InvalidateStart is acked (ok=true) as
 * soon as it is sent, in order; with {@code autoAck=false} the callbacks queue up in {@link #pendingCallbacks}.
 */
final class Harness {
  static final int MM = 1;
  static final int D0 = 16;
  static final int D1 = 32;
  static final long S0 = ((long) D0 << 32) | 1;
  static final long S1 = ((long) D1 << 32) | 1;
  static final long OWNER0 = 0x4e56_0000L + D0;
  static final long OWNER1 = 0x4e56_0000L + D1;
  static final long B = 0x10_0000_0000L;
  static final long P = Page.SIZE;

  final CpuMm cpu;
  final List<Outbound> sent = new ArrayList<>();
  final List<Trace.Event> events = new ArrayList<>();
  final ArrayDeque<InvalidateStart> pendingCallbacks = new ArrayDeque<>();
  boolean autoAck = true;
  private long nextReq = 1;
  private long now;

  Harness() { this(ModelSwitches.kernel()); }

  Harness(ModelSwitches switches) { cpu = new CpuMm(switches); }

  Harness(ModelSwitches switches, long folioLockLeaseMicros) { cpu = new CpuMm(switches, folioLockLeaseMicros); }

  long req() { return nextReq++; }

  Ready step(int from, HmmProtocol.Msg m) {
    Ready r = cpu.step(from, m, now++);
    sent.addAll(r.out);
    events.addAll(r.events);
    for (Outbound o : r.out) if (o.msg() instanceof InvalidateStart s) pendingCallbacks.add(s);
    if (autoAck) ackAll();
    return r;
  }

  /** Model time of the next step (each step advances it by 1 µs). */
  long now() { return now; }

  /** Moves model time forward to t (never backwards). */
  void advanceTo(long t) { now = Math.max(now, t); }

  private void record(Ready r) {
    sent.addAll(r.out);
    events.addAll(r.events);
    for (Outbound o : r.out) if (o.msg() instanceof InvalidateStart s) pendingCallbacks.add(s);
    if (autoAck) ackAll();
  }

  /** The CPU node learns that GPU node k is gone (Pekko Cluster downed/removed it). */
  Ready nodeGone(int node) {
    Ready r = cpu.nodeGone(node, "test", now++);
    record(r);
    return r;
  }

  /** The actor's lease timer fires at model time t. */
  Ready tick(long t) {
    advanceTo(t);
    Ready r = cpu.tick(now++);
    record(r);
    return r;
  }

  /** Acks every queued callback (and those the acks cause) with ok=true. */
  void ackAll() {
    boolean saved = autoAck;
    autoAck = false;
    InvalidateStart s;
    while ((s = pendingCallbacks.poll()) != null) ack(s, true);
    autoAck = saved;
  }

  void ack(InvalidateStart s, boolean ok) {
    pendingCallbacks.remove(s);
    step((int) (s.subId() >>> 32), new HmmProtocol.InvalidateAck(s.invId(), s.subId(), ok));
  }

  // ------------------------------------------------------------------ requests

  long insert(long subId, int deviceId, NotifierKind kind, long start, long end) {
    step(deviceId, new HmmProtocol.NotifierInsert(subId, deviceId, MM, kind, start, end));
    HmmProtocol.NotifierInserted r = last(HmmProtocol.NotifierInserted.class, x -> x.subId() == subId);
    return r == null ? -1 : r.seq();
  }

  long insertInterval(long subId, int deviceId) { return insert(subId, deviceId, NotifierKind.INTERVAL, 0, Page.TASK_SIZE); }

  HmmProtocol.SyscallDone syscall(HmmProtocol.SyscallKind kind, long start, long length, int prot, VmaKind vk, int child) {
    return syscall(MM, kind, start, length, prot, vk, child);
  }

  HmmProtocol.SyscallDone syscall(int mm, HmmProtocol.SyscallKind kind, long start, long length, int prot, VmaKind vk,
      int child) {
    long id = req();
    step(-1, new HmmProtocol.Syscall(id, mm, kind, start, length, prot, vk, child));
    return reply(HmmProtocol.SyscallDone.class, x -> x.reqId() == id);
  }

  HmmProtocol.SyscallDone mmap(long start, long length, int prot, VmaKind kind) {
    return syscall(HmmProtocol.SyscallKind.MMAP, start, length, prot, kind, 0);
  }

  HmmProtocol.SyscallDone mmapRw(long start, int pages) { return mmap(start, pages * P, Prot.RW, VmaKind.ANON_PRIVATE); }

  /** Sends a CPU access; returns its reqId (the reply may come later). */
  long cpuSend(int mm, int thread, long va, Access a, long value) {
    long id = req();
    step(-1, new HmmProtocol.CpuAccess(id, thread, mm, va, a, value));
    return id;
  }

  HmmProtocol.CpuAccessDone cpu(long va, Access a, long value) {
    long id = cpuSend(MM, 1, va, a, value);
    HmmProtocol.CpuAccessDone d = cpuDone(id);
    assertNotNull(d, "CPU access did not complete");
    return d;
  }

  HmmProtocol.CpuAccessDone cpuDone(long id) { return reply(HmmProtocol.CpuAccessDone.class, x -> x.reqId() == id); }

  long mdeSend(int device, long va, long owner) {
    long id = ((long) device << 40) | req();
    step(device, new HmmProtocol.MakeDeviceExclusive(id, device, MM, va, owner));
    return id;
  }

  HmmProtocol.MakeDeviceExclusiveReply mdeReply(long id) {
    return reply(HmmProtocol.MakeDeviceExclusiveReply.class, x -> x.reqId() == id);
  }

  HmmProtocol.MakeDeviceExclusiveReply mde(int device, long va, long owner) {
    HmmProtocol.MakeDeviceExclusiveReply r = mdeReply(mdeSend(device, va, owner));
    assertNotNull(r, "make_device_exclusive did not return");
    return r;
  }

  void unlockPut(int device, long reqId, long pfn) { step(device, new HmmProtocol.FolioUnlockPut(reqId, device, pfn)); }

  /** make_device_exclusive + the driver's unlock/put; returns the pfn. */
  long exclusive(int device, long va, long owner) {
    long id = mdeSend(device, va, owner);
    HmmProtocol.MakeDeviceExclusiveReply r = mdeReply(id);
    assertNotNull(r);
    assertEquals(hmmemu.protocol.model.Errno.OK, r.errno(), "make_device_exclusive");
    unlockPut(device, id, r.pfn());
    return r.pfn();
  }

  HmmProtocol.HmmRangeFaultReply rangeFault(int device, long subId, long seq, long start, List<Integer> flags) {
    long id = req();
    step(device, new HmmProtocol.HmmRangeFault(id, device, subId, seq, MM, start, flags));
    return reply(HmmProtocol.HmmRangeFaultReply.class, x -> x.reqId() == id);
  }

  // ------------------------------------------------------------------ queries

  <T extends HmmProtocol.Msg> T reply(Class<T> type, Predicate<T> p) {
    T found = null;
    for (Outbound o : sent) {
      if (type.isInstance(o.msg()) && p.test(type.cast(o.msg()))) found = type.cast(o.msg());
    }
    return found;
  }

  <T extends HmmProtocol.Msg> T last(Class<T> type, Predicate<T> p) { return reply(type, p); }

  <T extends Trace.Event> List<T> events(Class<T> type) {
    List<T> out = new ArrayList<>();
    for (Trace.Event e : events) if (type.isInstance(e)) out.add(type.cast(e));
    return out;
  }

  /** Callbacks (InvalidateStart) sent to subId with the event, over all time. */
  long callbacks(long subId, NotifyEvent event) {
    return sent.stream().filter(o -> o.msg() instanceof InvalidateStart s && s.subId() == subId && s.event() == event).count();
  }

  long callbacks(long subId) {
    return sent.stream().filter(o -> o.msg() instanceof InvalidateStart s && s.subId() == subId).count();
  }

  long cpuFaults(String kind) {
    return events(Trace.CpuFaulted.class).stream().filter(f -> f.kind().equals(kind)).count();
  }

  FolioView folio(long pfn) { return cpu.folio(pfn).orElseThrow(); }

  Pte pte(long va) { return cpu.pte(MM, va); }

  void clear() {
    sent.clear();
    events.clear();
  }
}
