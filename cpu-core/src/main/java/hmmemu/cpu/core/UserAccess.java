package hmmemu.cpu.core;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.CpuAccess;
import hmmemu.protocol.msg.HmmProtocol.CpuAccessDone;
import hmmemu.protocol.msg.HmmProtocol.DeviceMemoryAccess;
import hmmemu.protocol.trace.Trace;
import java.util.HashMap;
import java.util.Map;

/**
 * Models a user thread's load/store/atomic (the hardware walk, then handle_mm_fault() until it succeeds),
 * threads spinning on a word, and a device's PCIe access to host memory by pfn.
 */
final class UserAccess {
  private final Kernel k;
  private final Folios folios;
  private final MmapLock mmapLock;
  private final PageFault faults;
  /** Where a livelocked device-private fault is reported (set once the paths are built). */
  MigrateDevice migrate;
  /** Threads in a tight loop on a word after a CpuAccess with spin, by threadId. */
  final Map<Integer, Spinner> spinners = new HashMap<>();
  private long spinTouches;
  long unknownPfnAccesses;

  UserAccess(Kernel k, Folios folios, MmapLock mmapLock, PageFault faults) {
    this.k = k;
    this.folios = folios;
    this.mmapLock = mmapLock;
    this.faults = faults;
  }

  /**
   * A user thread in a tight loop on one word (CpuAccess.spin): between its requests it re-touches the word right
   * after every conversion of its page. Transitions: SPINNING -> TOUCHING (a conversion of the page) -> SPINNING
   * (the touch completed); the thread's next CpuAccess or syscall ends the spin (queued until a running touch
   * completes).
   */
  static final class Spinner {
    final int threadId;
    final int mmId;
    final long va;
    boolean touching;
    /** The thread's next request (an access or a syscall), which arrived while a touch was running. */
    Runnable next;

    Spinner(int threadId, int mmId, long va) {
      this.threadId = threadId;
      this.mmId = mmId;
      this.va = va;
    }
  }

  private static final class CpuAccessOp {
    final CpuAccess m;
    final Mm mm;
    /** The touch of a spinning thread (nobody waits for a reply), or null for a requested access. */
    final Spinner spinner;
    int faults;

    CpuAccessOp(CpuAccess m, Mm mm, Spinner spinner) {
      this.m = m;
      this.mm = mm;
      this.spinner = spinner;
    }
  }

  /** A user thread's load/store/atomic: the hardware walk, then handle_mm_fault until it succeeds. */
  void onCpuAccess(CpuAccess m) {
    Spinner s = spinners.get(m.threadId());
    if (s != null && s.touching) { // the thread is still inside its loop's faulting touch
      if (s.next != null) throw new IllegalStateException("thread " + m.threadId() + " sent two requests at once");
      s.next = () -> onCpuAccess(m);
      return;
    }
    spinners.remove(m.threadId());
    CpuAccessOp op = new CpuAccessOp(m, k.mmFor(m.mmId()), null);
    mmapLock.readLock(op.mm, () -> cpuAccessWalk(op));
  }

  /**
   * A syscall made by user thread {@code threadId} (0: no particular thread): the thread leaves its tight loop to
   * enter the kernel, so the syscall runs once the thread's running touch (if any) completed, and ends the spin.
   */
  void asThread(int threadId, Runnable syscall) {
    Spinner s = threadId == 0 ? null : spinners.get(threadId);
    if (s != null && s.touching) {
      if (s.next != null) throw new IllegalStateException("thread " + threadId + " sent two requests at once");
      s.next = () -> asThread(threadId, syscall);
      return;
    }
    if (threadId != 0) spinners.remove(threadId);
    syscall.run();
  }

  /** Conversions that make a spinning thread's page device-exclusive wake the thread; true if one was woken. */
  boolean wakeSpinners(Mm mm, long pageVa) {
    boolean woken = false;
    for (Spinner s : spinners.values()) {
      if (s.touching || s.mmId != mm.id || Page.alignDown(s.va) != pageVa) continue;
      s.touching = true;
      woken = true;
      spinTouches++;
      CpuAccessOp op = new CpuAccessOp(new CpuAccess(-1, s.threadId, s.mmId, s.va, Access.READ, 0), mm, s);
      k.runQueue.add(() -> mmapLock.readLock(mm, () -> cpuAccessWalk(op)));
    }
    return woken;
  }

  /** A spinning thread's touch completed (or hit SIGSEGV, which ends the loop); its queued request runs. */
  private void spinTouchDone(CpuAccessOp op, boolean keepSpinning) {
    Spinner s = op.spinner;
    s.touching = false;
    if (!keepSpinning) spinners.remove(s.threadId);
    if (s.next != null) {
      Runnable next = s.next;
      s.next = null;
      k.runQueue.add(next);
    }
  }

  /** Touches made by spinning threads right after a conversion of their page. */
  public long spinTouches() { return spinTouches; }

  private void cpuAccessWalk(CpuAccessOp op) {
    Mm mm = op.mm;
    CpuAccess m = op.m;
    long va = Page.alignDown(m.va());
    boolean write = m.access().isWrite();
    if (op.spinner == null && migrate != null && migrate.endsInLivelock(mm.id, m.threadId())) {
      mmapLock.readUnlock(mm); // the emulator's livelock bound (MigrateDevice.LIVELOCK_BOUND), not the kernel's
      k.reply(new CpuAccessDone(m.reqId(), m.threadId(), Errno.LIVELOCK, 0, op.faults));
      return;
    }
    if (migrate != null && migrate.endsInSigbus(mm.id, m.threadId())) { // the fault returned VM_FAULT_SIGBUS
      k.emit(new Trace.CpuFaulted(m.threadId(), mm.id, m.va(), "sigbus"));
      mmapLock.readUnlock(mm);
      if (op.spinner != null) spinTouchDone(op, false);
      else k.reply(new CpuAccessDone(m.reqId(), m.threadId(), Errno.SIGBUS, 0, op.faults));
      return;
    }
    Vma vma = mm.findVma(va);
    if (vma == null || !vma.canAccess() || (write && !vma.canWrite())) {
      k.emit(new Trace.CpuFaulted(m.threadId(), mm.id, m.va(), "sigsegv"));
      mmapLock.readUnlock(mm);
      if (op.spinner != null) spinTouchDone(op, false);
      else k.reply(new CpuAccessDone(m.reqId(), m.threadId(), Errno.SIGSEGV, 0, op.faults));
      return;
    }
    Pte pte = mm.pte(va);
    if (pte.isPresent() && (!write || pte.write())) {
      completeCpuAccess(op, va, pte);
      return;
    }
    op.faults++;
    faults.handleMmFault(mm, vma, va, write, PageFault.FaultMode.USER, m.threadId(), retry -> {
      if (retry) {
        k.emit(new Trace.CpuFaulted(m.threadId(), mm.id, m.va(), "retry"));
        mmapLock.readLock(mm, () -> cpuAccessWalk(op));
      } else {
        cpuAccessWalk(op);
      }
    });
  }

  private void completeCpuAccess(CpuAccessOp op, long va, Pte pte) {
    CpuAccess m = op.m;
    Folio f = folios.folioOf(pte.pfn());
    int w = Page.wordIndex(m.va());
    long old = f.word(w);
    long now = apply(m.access(), old, m.value());
    boolean write = m.access().isWrite();
    if (write) {
      if (f.zero || !pte.write()) throw new IllegalStateException("CPU store through a read-only PTE at " + Long.toHexString(va));
      f.setWord(w, now);
    }
    Pte accessed = new Pte(PteState.PRESENT, pte.pfn(), pte.write(), pte.dirty() || write, true, pte.softDirty());
    if (!accessed.equals(pte)) k.setPte(op.mm, va, accessed, write ? "access:dirty" : "access:young");
    k.emit(new Trace.HostMemoryAccessed(-1, m.threadId(), f.pfn, w, m.access(), old, now));
    mmapLock.readUnlock(op.mm);
    if (op.spinner != null) {
      spinTouchDone(op, true);
      return;
    }
    if (m.spin()) spinners.put(m.threadId(), new Spinner(m.threadId(), op.mm.id, m.va()));
    k.reply(new CpuAccessDone(m.reqId(), m.threadId(), Errno.OK, old, op.faults));
  }

  private static long apply(Access access, long old, long value) {
    switch (access) {
      case READ: return old;
      case WRITE: return value;
      case ATOMIC: return old + value;
      default: throw new IllegalStateException("unknown access " + access);
    }
  }

  /** A device's PCIe access to host memory by pfn: no page table is consulted (the checker judges it). */
  void onDeviceMemoryAccess(DeviceMemoryAccess m) {
    if (m.wordIndex() < 0 || m.wordIndex() >= Page.WORDS) {
      throw new IllegalStateException("device access outside the page: word " + m.wordIndex());
    }
    Folio f = folios.byPfn(m.pfn());
    if (f == null) {
      unknownPfnAccesses++;
      k.emit(new Trace.HostMemoryAccessed(m.deviceId(), -1, m.pfn(), m.wordIndex(), m.access(), 0, 0));
      k.reply(new HmmProtocol.DeviceMemoryAccessReply(m.reqId(), 0));
      return;
    }
    long old = f.word(m.wordIndex());
    long now = apply(m.access(), old, m.value());
    if (m.access().isWrite()) {
      f.setWord(m.wordIndex(), now);
      if (!f.dirty && !f.freed && !f.zero) {
        f.dirty = true; // the device wrote the page (set_page_dirty by the DMA owner)
        folios.emitFolio(f);
      }
    }
    k.emit(new Trace.HostMemoryAccessed(m.deviceId(), -1, m.pfn(), m.wordIndex(), m.access(), old, now));
    k.reply(new HmmProtocol.DeviceMemoryAccessReply(m.reqId(), old));
  }
}
