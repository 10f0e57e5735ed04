package hmmemu.checker;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.trace.VectorClock;
import java.util.List;
import java.util.function.Consumer;

/**
 * A correct synthetic event stream of any memory size, for benchmarking the checker (not a timed test itself).
 * Node 0 is the CPU, node 1 a GPU node with nouveau device G. {@link #prefill} maps {@code pages} anonymous pages
 * PRESENT(W,D), binds G with a classic notifier and mirrors every page into G's page table (R/W, no seq check), and
 * registers one interval notifier of another device in another mm per 64 pages (so subscriptions grow with memory).
 * Each {@link #cycles cycle} then runs docs/SCENARIOS.md C05 on the next page (stride through memory): G's atomic fault
 * with make_device_exclusive, the atomic entry, a device atomic, a CPU touch restoring the page, and G mirroring
 * the page R/W again, about 36 events. Judged by {@link InvariantChecker} the stream has no violation.
 */
final class SyntheticTrace {
  static final int CPU = 0;
  static final int GPU = 1;
  static final int MM = 1;
  static final int OTHER_MM = 2;
  static final int G = 16;
  static final int H = 32;
  static final long OWNER_G = 0x4e56_0000L + G;
  static final long SUB_GC = ((long) G << 32) | 1;
  static final long BASE = 0x1000_0000L;
  static final long PFN_BASE = 0x10_0000L;
  /** Pages per extra subscription of the other device. */
  static final int PAGES_PER_EXTRA_SUB = 64;

  private final int pages;
  private final VectorClock[] clocks = {new VectorClock(CPU), new VectorClock(GPU)};
  private Consumer<Stamped> out;
  private long cycle;

  SyntheticTrace(int pages) {
    if (pages < 1) throw new IllegalArgumentException("pages < 1");
    this.pages = pages;
  }

  int pages() { return pages; }

  /** The mapped memory, G bound and mirroring all of it, and pages/64 unrelated subscriptions. */
  SyntheticTrace prefill(Consumer<Stamped> sink) {
    out = sink;
    cpu(new Trace.VmaChanged(MM, BASE, BASE + pages * Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, false));
    for (int p = 0; p < pages; p++) {
      cpu(new Trace.PteChanged(MM, va(p), PteState.PRESENT, pfn(p), true, true, false, "anon"));
      cpu(folio(p, false, 1));
    }
    cpu(new Trace.NotifierRegistered(SUB_GC, G, MM, NotifierKind.CLASSIC, 0, Page.TASK_SIZE, false));
    for (int i = 0; i < (pages + PAGES_PER_EXTRA_SUB - 1) / PAGES_PER_EXTRA_SUB; i++) {
      long start = BASE + (long) i * PAGES_PER_EXTRA_SUB * Page.SIZE;
      cpu(new Trace.NotifierRegistered(((long) H << 32) | (i + 1), H, OTHER_MM, NotifierKind.INTERVAL, start,
          start + PAGES_PER_EXTRA_SUB * Page.SIZE, false));
    }
    send(CPU, GPU);
    gpu(new Trace.DriverBound(G, MM, OWNER_G, "NOUVEAU"));
    for (int p = 0; p < pages; p++) gpu(mirror(p));
    send(GPU, CPU);
    return this;
  }

  /** {@code n} more C05 cycles, each on the next page of a stride walk through memory. */
  SyntheticTrace cycles(int n, Consumer<Stamped> sink) {
    out = sink;
    for (int i = 0; i < n; i++) cycle(nextPage());
    return this;
  }

  /** Convenience: {@link #cycles} collected in a list. */
  List<Stamped> cycles(int n) {
    List<Stamped> list = new java.util.ArrayList<>();
    cycles(n, list::add);
    return list;
  }

  /** Per-node event counts so far (for {@link InvariantChecker#caughtUp}). */
  long[] perNodeCounts() { return new long[] {clocks[CPU].own(), clocks[GPU].own()}; }

  private int nextPage() {
    long stride = 7919; // prime: visits every page of any size not a multiple of it
    return (int) ((cycle * stride) % pages);
  }

  private void cycle(int p) {
    cycle++;
    long va = va(p);
    long pfn = pfn(p);
    long subT = ((long) G << 32) | (cycle + 1);
    long invConvert = 2 * cycle - 1;
    long invRestore = 2 * cycle;
    long req = ((long) G << 40) | cycle;
    long seq = 3;
    // G's atomic fault: temporary interval notifier, make_device_exclusive (EXCLUSIVE, owner G).
    gpu(new Trace.DeviceFaulted(G, MM, va, Access.ATOMIC));
    send(GPU, CPU);
    cpu(new Trace.NotifierRegistered(subT, G, MM, NotifierKind.INTERVAL, va, va + Page.SIZE, false));
    send(CPU, GPU);
    send(GPU, CPU);
    cpu(folio(p, true, 2),
        new Trace.InvalidateStarted(invConvert, MM, va, va + Page.SIZE, NotifyEvent.EXCLUSIVE, OWNER_G, true,
            List.of(subT, SUB_GC)));
    send(CPU, GPU);
    gpu(new Trace.InvalidateAcked(invConvert, subT, G, true, true),
        new Trace.InvalidateAcked(invConvert, SUB_GC, G, true, false));
    send(GPU, CPU);
    cpu(new Trace.PteChanged(MM, va, PteState.DEVEXCL, pfn, false, false, false, "exclusive"),
        folio(p, true, 2),
        new Trace.InvalidateEnded(invConvert, true),
        new Trace.ExclusiveReturned(req, G, pfn, Errno.OK, true));
    send(CPU, GPU);
    // read_retry passes, V|W|A entry, folio_unlock+folio_put, the temporary notifier removed.
    gpu(new Trace.ReadRetryChecked(G, subT, seq, seq, false),
        new Trace.DeviceEntryInstalled(G, MM, va, pfn, true, true, true, subT, seq));
    send(GPU, CPU);
    cpu(folio(p, false, 1),
        new Trace.FolioUnlockPutDone(req, G, pfn),
        new Trace.NotifierRegistered(subT, G, MM, NotifierKind.INTERVAL, va, va + Page.SIZE, true));
    // The replayed device atomic.
    send(CPU, GPU);
    gpu(new Trace.DeviceAccessIssued(G, MM, va, pfn, Access.ATOMIC));
    send(GPU, CPU);
    cpu(new Trace.HostMemoryAccessed(G, -1, pfn, 0, Access.ATOMIC, cycle - 1, cycle));
    send(CPU, GPU);
    gpu(new Trace.DeviceAccessCompleted(G, req, Errno.OK, 1, 10));
    // A CPU touch: fault, folio lock, CLEAR to Gc, G zaps and acks, restore, the write.
    cpu(new Trace.CpuFaulted(1, MM, va, "devexcl"),
        folio(p, true, 2),
        new Trace.InvalidateStarted(invRestore, MM, va, va + Page.SIZE, NotifyEvent.CLEAR, 0, true, List.of(SUB_GC)));
    send(CPU, GPU);
    gpu(new Trace.DeviceEntryZapped(G, MM, va, pfn), new Trace.InvalidateAcked(invRestore, SUB_GC, G, true, false));
    send(GPU, CPU);
    cpu(new Trace.PteChanged(MM, va, PteState.PRESENT, pfn, true, true, false, "restore"),
        folio(p, false, 1),
        new Trace.InvalidateEnded(invRestore, true),
        new Trace.HostMemoryAccessed(-1, 1, pfn, 0, Access.WRITE, cycle, cycle + 1));
    // G mirrors the page again (hmm_range_fault, no seq check).
    send(CPU, GPU);
    gpu(mirror(p));
    send(GPU, CPU);
  }

  private static long va(int p) { return BASE + (long) p * Page.SIZE; }

  private static long pfn(int p) { return PFN_BASE + p; }

  private static Trace.FolioChanged folio(int p, boolean locked, int refcount) {
    return new Trace.FolioChanged(pfn(p), locked, refcount, 1, true, true, false);
  }

  private static Trace.DeviceEntryInstalled mirror(int p) {
    return new Trace.DeviceEntryInstalled(G, MM, va(p), pfn(p), true, true, false, SUB_GC, -1);
  }

  private void cpu(Trace.Event... events) { on(CPU, events); }

  private void gpu(Trace.Event... events) { on(GPU, events); }

  private void on(int node, Trace.Event... events) {
    for (Trace.Event e : events) out.accept(new Stamped(node, clocks[node].tick(), e));
  }

  private void send(int from, int to) { clocks[to].merge(clocks[from].snapshot()); }
}
