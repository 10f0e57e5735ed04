package hmmemu.checker;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.trace.Trace;
import java.util.List;

/**
 * Building blocks of the docs/SCENARIOS.md C05 trace (uncontended nouveau GPU atomic, then a CPU touch restoring the
 * page) on one mm with one page X: node 0 the CPU, node 1 GPU G (device 16), node 2 GPU H (device 32). Tests
 * compose them and splice in the step that breaks an invariant.
 */
final class Scenario {
  static final int GPU1 = 1;
  static final int GPU2 = 2;
  static final int MM = 1;
  static final long B = 0x1000_0000L;
  static final long P = Page.SIZE;
  static final long X = 0x1000;
  static final int G = 16;
  static final int H = 32;
  static final long OWNER_G = 0x4e56_0000L + G;
  static final long OWNER_H = 0x4e56_0000L + H;
  /** G's per-process classic notifier (Gc) and its temporary per-fault interval notifier (Gt). */
  static final long SUB_GC = ((long) G << 32) | 1;
  static final long SUB_GT = ((long) G << 32) | 2;
  static final long SUB_HC = ((long) H << 32) | 1;
  static final long REQ1 = ((long) G << 40) | 1;
  static final long SEQ = 3;
  static final long INV_CONVERT = 1;
  static final long INV_RESTORE = 2;

  private Scenario() {}

  static Trace.FolioChanged folio(boolean locked, int refcount, int mapcount) {
    return new Trace.FolioChanged(X, locked, refcount, mapcount, true, true, false);
  }

  static Trace.PteChanged pte(PteState state, boolean write, boolean dirty, String cause) {
    return new Trace.PteChanged(MM, B, state, state == PteState.NONE ? 0 : X, write, dirty, false, cause);
  }

  static Trace.InvalidateAcked ack(long invId, long subId, int device, boolean ignored) {
    return new Trace.InvalidateAcked(invId, subId, device, true, ignored);
  }

  static Trace.DeviceEntryInstalled atomicEntry(int device, long subId, long seq) {
    return new Trace.DeviceEntryInstalled(device, MM, B, X, true, true, true, subId, seq);
  }

  /** X is PRESENT(W,D) in a private anonymous RW VMA; G (and H when {@code withH}) bound with a classic notifier. */
  static TraceBuilder setup(boolean withH) {
    TraceBuilder b = new TraceBuilder(withH ? 3 : 2);
    b.cpu(new Trace.VmaChanged(MM, B, B + 16 * P, Prot.RW, VmaKind.ANON_PRIVATE, false),
        pte(PteState.PRESENT, true, true, "anon"),
        folio(false, 1, 1),
        new Trace.NotifierRegistered(SUB_GC, G, MM, NotifierKind.CLASSIC, 0, Page.TASK_SIZE, false));
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, new Trace.DriverBound(G, MM, OWNER_G, "NOUVEAU"));
    if (withH) {
      b.cpu(new Trace.NotifierRegistered(SUB_HC, H, MM, NotifierKind.CLASSIC, 0, Page.TASK_SIZE, false));
      b.send(TraceBuilder.CPU, GPU2).on(GPU2, new Trace.DriverBound(H, MM, OWNER_H, "NOUVEAU"));
    }
    return b;
  }

  /** G's atomic fault up to make_device_exclusive returning with X DEVEXCL and the folio locked (§4.2 step 2c). */
  static TraceBuilder convert(TraceBuilder b, boolean withH) { return convert(b, withH, false); }

  /** As {@link #convert(TraceBuilder, boolean)}; {@code hIgnores}: H's driver skips G's EXCLUSIVE (a broken filter). */
  static TraceBuilder convert(TraceBuilder b, boolean withH, boolean hIgnores) {
    b.on(GPU1, new Trace.DeviceFaulted(G, MM, B, Access.ATOMIC)).send(GPU1, TraceBuilder.CPU);
    b.cpu(new Trace.NotifierRegistered(SUB_GT, G, MM, NotifierKind.INTERVAL, B, B + P, false));
    b.send(TraceBuilder.CPU, GPU1).send(GPU1, TraceBuilder.CPU); // NotifierInserted, then MakeDeviceExclusive
    List<Long> targets = withH ? List.of(SUB_GT, SUB_GC, SUB_HC) : List.of(SUB_GT, SUB_GC);
    b.cpu(folio(true, 2, 1),
        new Trace.InvalidateStarted(INV_CONVERT, MM, B, B + P, NotifyEvent.EXCLUSIVE, OWNER_G, true, targets));
    b.send(TraceBuilder.CPU, GPU1);
    b.on(GPU1, ack(INV_CONVERT, SUB_GT, G, true), ack(INV_CONVERT, SUB_GC, G, false));
    b.send(GPU1, TraceBuilder.CPU);
    if (withH) {
      b.send(TraceBuilder.CPU, GPU2).on(GPU2, ack(INV_CONVERT, SUB_HC, H, hIgnores)).send(GPU2, TraceBuilder.CPU);
    }
    b.cpu(pte(PteState.DEVEXCL, false, false, "exclusive"),
        folio(true, 2, 1),
        new Trace.InvalidateEnded(INV_CONVERT, true),
        new Trace.ExclusiveReturned(REQ1, G, X, Errno.OK, true));
    return b.send(TraceBuilder.CPU, GPU1);
  }

  /** G passes read_retry, programs V|W|A, then unlocks and puts the folio and removes Gt. */
  static TraceBuilder map(TraceBuilder b) {
    b.on(GPU1, new Trace.ReadRetryChecked(G, SUB_GT, SEQ, SEQ, false), atomicEntry(G, SUB_GT, SEQ));
    b.send(GPU1, TraceBuilder.CPU);
    return b.cpu(folio(false, 1, 1),
        new Trace.FolioUnlockPutDone(REQ1, G, X),
        new Trace.NotifierRegistered(SUB_GT, G, MM, NotifierKind.INTERVAL, B, B + P, true));
  }

  /** The replayed GPU atomic reaches host memory through the new entry. */
  static TraceBuilder deviceAtomic(TraceBuilder b) {
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, new Trace.DeviceAccessIssued(G, MM, B, X, Access.ATOMIC));
    b.send(GPU1, TraceBuilder.CPU).cpu(new Trace.HostMemoryAccessed(G, -1, X, 0, Access.ATOMIC, 0, 1));
    return b.send(TraceBuilder.CPU, GPU1).on(GPU1, new Trace.DeviceAccessCompleted(G, 7, Errno.OK, 1, 10));
  }

  /** CPU thread 1 touches X: fault, folio lock, CLEAR invalidation (owner NULL) sent to Gc (§3.3 steps 1-5). */
  static TraceBuilder restoreStart(TraceBuilder b, boolean withH) {
    List<Long> targets = withH ? List.of(SUB_GC, SUB_HC) : List.of(SUB_GC);
    return b.cpu(new Trace.CpuFaulted(1, MM, B, "devexcl"),
        folio(true, 2, 1),
        new Trace.InvalidateStarted(INV_RESTORE, MM, B, B + P, NotifyEvent.CLEAR, 0, true, targets));
  }

  /** G zaps its entry (TLB flushed) and acks the CLEAR. */
  static TraceBuilder zapAndAck(TraceBuilder b) {
    b.send(TraceBuilder.CPU, GPU1);
    b.on(GPU1, new Trace.DeviceEntryZapped(G, MM, B, X), ack(INV_RESTORE, SUB_GC, G, false));
    return b.send(GPU1, TraceBuilder.CPU);
  }

  /** The CPU restores X PRESENT(W,D), unlocks, ends the invalidation and the thread's access completes. */
  static TraceBuilder restoreFinish(TraceBuilder b) {
    return b.cpu(pte(PteState.PRESENT, true, true, "restore"),
        folio(false, 1, 1),
        new Trace.InvalidateEnded(INV_RESTORE, true),
        new Trace.HostMemoryAccessed(-1, 1, X, 0, Access.WRITE, 1, 2));
  }

  /** How far {@link #c05Until} builds the correct C05 trace. */
  enum Stage { CONVERTED, MAPPED, ACCESSED, RESTORED }

  /** The correct C05 trace up to and including {@code stage}. */
  static TraceBuilder c05Until(Stage stage) {
    TraceBuilder b = setup(false);
    convert(b, false);
    if (stage == Stage.CONVERTED) return b;
    map(b);
    if (stage == Stage.MAPPED) return b;
    deviceAtomic(b);
    if (stage == Stage.ACCESSED) return b;
    restoreStart(b, false);
    zapAndAck(b);
    return restoreFinish(b);
  }

  /** The whole correct C05 trace: convert, map, device atomic, CPU restore. */
  static TraceBuilder c05() { return c05Until(Stage.RESTORED); }
}
