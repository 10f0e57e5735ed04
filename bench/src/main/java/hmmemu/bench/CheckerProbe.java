package hmmemu.bench;

import hmmemu.checker.InvariantChecker;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.List;

/**
 * checkerEventsPerSecond: the invariant checker alone ({@link InvariantChecker#offer}) replaying an event stream
 * recorded once from the coupled cores ({@link CoupledCores}) running the demo's kind of work: a GPU atomic by one
 * warp on a page, then a CPU write that takes it back, round-robin over 1,024 CPU-written pages. At the larger
 * size the checker first learns of extra populated pages through a prefix made from the events the CPU core emits
 * for one populated page (VMA, folio, PTE), repeated with each page's address and a pfn of its own.
 */
final class CheckerProbe {
  static final int STREAM_PAGES = 1024;
  private static final long PREFIX_BASE = 0x1000_0000_0000L;
  private static final long PREFIX_PFN = 1L << 40;

  /** A recorded stream: the set-up events, then {@code chunks} equal chunks of the fault loop. */
  record Stream(List<Stamped> events, int setUpEnd, int chunkSize, int chunks) {}

  private CheckerProbe() {}

  static Stream record(int faultsPerChunk, int chunks) {
    List<Stamped> out = new ArrayList<>();
    CoupledCores cores = new CoupledCores(out::add);
    cores.setUp(STREAM_PAGES);
    for (int p = 0; p < STREAM_PAGES; p++) cores.cpuWrite(CoupledCores.va(p), p);
    int setUpEnd = out.size();
    List<Integer> bounds = new ArrayList<>();
    long i = 0;
    for (int c = 0; c < chunks; c++) {
      for (int f = 0; f < faultsPerChunk; f++, i++) {
        long va = CoupledCores.va(i % STREAM_PAGES) + 8 * ((i / STREAM_PAGES) % 512);
        cores.gpuAtomic(va);
        cores.cpuWrite(va, i);
      }
      bounds.add(out.size());
    }
    // equal chunks by event count (the loop is regular, so chunk sizes differ by a few events at most)
    int chunkSize = (out.size() - setUpEnd) / chunks;
    return new Stream(out, setUpEnd, chunkSize, chunks);
  }

  /** The events the CPU core emits for mapping {@code 1} page and populating it with one write (the template). */
  private static List<Trace.Event> pageTemplate(List<Trace.Event> vmaOut) {
    List<Stamped> out = new ArrayList<>();
    CoupledCores cores = new CoupledCores(out::add);
    cores.call(0, new hmmemu.protocol.msg.HmmProtocol.Syscall(cores.reqId(), CoupledCores.MM,
        hmmemu.protocol.msg.HmmProtocol.SyscallKind.MMAP, PREFIX_BASE, Page.SIZE, hmmemu.protocol.model.Prot.RW,
        hmmemu.protocol.model.VmaKind.ANON_PRIVATE, 0));
    int mmapEnd = out.size();
    for (int k = 0; k < mmapEnd; k++) vmaOut.add(out.get(k).event());
    cores.cpuWrite(PREFIX_BASE, 1);
    List<Trace.Event> page = new ArrayList<>();
    for (int k = mmapEnd; k < out.size(); k++) page.add(out.get(k).event());
    return page;
  }

  private static Trace.Event relocate(Trace.Event e, long page, long templatePfn) {
    long dva = page * Page.SIZE;
    long pfn = PREFIX_PFN + page;
    if (e instanceof Trace.PteChanged p) {
      return new Trace.PteChanged(p.mmId(), p.va() + dva, p.state(), p.pfn() == templatePfn ? pfn : p.pfn(),
          p.write(), p.dirty(), p.young(), p.cause());
    }
    if (e instanceof Trace.FolioChanged f) {
      return new Trace.FolioChanged(f.pfn() == templatePfn ? pfn : f.pfn(), f.locked(), f.refcount(), f.mapcount(),
          f.dirty(), f.anonExclusive(), f.freed());
    }
    if (e instanceof Trace.HostMemoryAccessed h) {
      return new Trace.HostMemoryAccessed(h.deviceId(), h.threadId(), h.pfn() == templatePfn ? pfn : h.pfn(),
          h.wordIndex(), h.access(), h.oldValue(), h.newValue());
    }
    if (e instanceof Trace.CpuFaulted c) return new Trace.CpuFaulted(c.threadId(), c.mmId(), c.va() + dva, c.kind());
    return e;
  }

  /**
   * Result of feeding a checker: events per second per measured chunk (wall clock, the figure), the same per second of
   * the replaying thread's CPU time (how fast the checker is when it gets a CPU: on a loaded machine the wall rate
   * mostly measures the share of a CPU the thread got), and what happened on the way.
   */
  record Replay(List<Double> rates, List<Double> cpuRates, int prefixPages, double prefixSeconds, int violations) {}

  /**
   * A fresh checker; first {@code extraPages} populated pages (bounded by {@code prefixBudgetNanos}: it stops
   * early rather than hang), then the stream: its set-up, a warm-up chunk, and each further chunk timed.
   */
  static Replay replay(Stream s, int extraPages, long prefixBudgetNanos) {
    InvariantChecker checker = new InvariantChecker();
    long shift = 0;
    int pagesDone = 0;
    long t0 = System.nanoTime();
    if (extraPages > 0) {
      List<Trace.Event> vma = new ArrayList<>();
      List<Trace.Event> page = pageTemplate(vma);
      long templatePfn = page.stream().filter(e -> e instanceof Trace.PteChanged p && p.pfn() != 0)
          .mapToLong(e -> ((Trace.PteChanged) e).pfn()).findFirst().orElse(-1);
      for (Trace.Event e : vma) {
        if (e instanceof Trace.VmaChanged v) {
          e = new Trace.VmaChanged(v.mmId(), v.start(), v.start() + (long) extraPages * Page.SIZE, v.prot(), v.kind(),
              v.removed());
        }
        checker.offer(new Stamped(0, new long[] {++shift, 0}, e));
      }
      long deadline = t0 + prefixBudgetNanos;
      for (long p = 0; p < extraPages; p++) {
        for (Trace.Event e : page) checker.offer(new Stamped(0, new long[] {++shift, 0}, relocate(e, p, templatePfn)));
        pagesDone++;
        if ((p & 0xff) == 0 && System.nanoTime() > deadline) break;
      }
    }
    double prefixSeconds = (System.nanoTime() - t0) / 1e9;
    List<Stamped> ev = s.events();
    for (int k = 0; k < s.setUpEnd(); k++) checker.offer(shifted(ev.get(k), shift));
    List<Double> rates = new ArrayList<>();
    List<Double> cpuRates = new ArrayList<>();
    java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
    boolean cpuTime = threads.isCurrentThreadCpuTimeSupported();
    for (int c = 0; c < s.chunks(); c++) {
      int from = s.setUpEnd() + c * s.chunkSize();
      int to = c == s.chunks() - 1 ? ev.size() : from + s.chunkSize();
      List<Stamped> chunk = new ArrayList<>(to - from);
      for (int k = from; k < to; k++) chunk.add(shifted(ev.get(k), shift));
      long cpu0 = cpuTime ? threads.getCurrentThreadCpuTime() : 0;
      long start = System.nanoTime();
      for (Stamped x : chunk) checker.offer(x);
      long took = System.nanoTime() - start;
      long cpuTook = cpuTime ? threads.getCurrentThreadCpuTime() - cpu0 : 0;
      if (c > 0) { // chunk 0 is the warm-up
        rates.add(chunk.size() / (took / 1e9));
        if (cpuTook > 0) cpuRates.add(chunk.size() / (cpuTook / 1e9));
      }
    }
    return new Replay(rates, cpuRates, pagesDone, prefixSeconds, checker.violations().size());
  }

  private static Stamped shifted(Stamped s, long shift) {
    if (shift == 0) return s;
    long[] vc = s.vc().clone();
    vc[0] += shift;
    return new Stamped(s.node(), vc, s.event());
  }
}
