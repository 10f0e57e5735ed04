package hmmemu.cpu.core;

import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Mutant;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What every path of the CPU core shares: the node's mm_structs, the model switches, the run queue of
 * continuations made runnable during a step, the output of the step being carried out, and model time; plus the
 * helpers that change a PTE or a VMA and report it. Lives as long as the {@link CpuMm} (a reset clears the mms
 * and the run queue and replaces the switches; node loss and model time are kept).
 */
final class Kernel {
  ModelSwitches switches;
  final Map<Integer, Mm> mms = new TreeMap<>();
  /** Continuations made runnable by a lock release; drained before the step returns. */
  final ArrayDeque<Runnable> runQueue = new ArrayDeque<>();
  /** The output of the step being carried out (null between steps). */
  Ready ready;
  /** Model time of the step being carried out (leases start and expire in model time). */
  long nowMicros;
  /** How long a dead driver's folio lock and reference are kept before the CPU node releases them (model µs). */
  final long folioLockLeaseMicros;
  /** GPU node indexes declared gone (Pekko Cluster downed/removed them); kept across resets. */
  final Set<Integer> goneNodes = new HashSet<>();
  /**
   * Model time at which each CpuAccess / Syscall not answered yet arrived, by reqId: {@link #reply} stamps
   * CpuAccessDone.latencyMicros / SyscallDone.latencyMicros with the model time since (as the GPU node does for
   * DeviceAccessDone and DmirrorReply). Cleared by a reset.
   */
  final Map<Long, Long> arrivedAt = new HashMap<>();
  /** The user threads' loops running on this CPU (CpuThreadRun); rebuilt by a reset. */
  CpuThreads threads;
  /** Folio-lock leases of dead drivers that ran out; kept across resets. */
  long leasesExpired;

  /** WARN_ON_ONCE sites (function + condition) that already fired since the last reset (a fresh boot). */
  final Set<String> warnedOnce = new HashSet<>();

  Kernel(long folioLockLeaseMicros) {
    this.folioLockLeaseMicros = folioLockLeaseMicros;
  }

  /** A deliberate model mutation is active (docs/TESTING.md); never in a faithful run. */
  boolean mutant(Mutant m) { return switches.has(m); }

  boolean v5() { return switches.kernelProfile() == KernelProfile.V5_14; }

  /** Node index of the GPU node hosting a device (deviceId = node * 16 + local index, docs/ARCHITECTURE.md). */
  static int nodeOfDevice(int deviceId) { return hmmemu.protocol.msg.Ids.nodeOfDevice(deviceId); }

  void emit(Trace.Event e) { ready.emit(e); }

  /** Models WARN_ON_ONCE(): the first time the condition holds at this site it is reported (Trace.KernelWarning). */
  void warnOnce(String function, String condition, int mmId, long va) {
    if (warnedOnce.add(function + ": " + condition)) emit(new Trace.KernelWarning(function, condition, mmId, va));
  }

  void send(Outbound o) { ready.send(o); }

  void reply(HmmProtocol.Msg m) {
    if (m instanceof HmmProtocol.CpuAccessDone d) {
      if (threads != null && threads.onAccessDone(d)) return; // an access of a thread's loop on this CPU
      Long at = arrivedAt.remove(d.reqId());
      if (at != null) m = d.withLatency(nowMicros - at);
    } else if (m instanceof HmmProtocol.SyscallDone d) {
      Long at = arrivedAt.remove(d.reqId());
      if (at != null) m = d.withLatency(nowMicros - at);
    }
    ready.send(Outbound.reply(m));
  }

  Mm mmFor(int mmId) { return mms.computeIfAbsent(mmId, Mm::new); }

  void setPte(Mm mm, long va, Pte pte, String cause) { setPte(mm, va, pte, cause, false); }

  /**
   * Sets one of the 512 PTE views of a huge PMD that stays huge: a change made to the PMD as a whole
   * (change_huge_pmd, copy_huge_pmd, do_huge_pmd_wp_page's reuse), written page by page into the view.
   */
  void setHugePmdPte(Mm mm, long va, Pte pte, String cause) { setPte(mm, va, pte, cause, true); }

  private void setPte(Mm mm, long va, Pte pte, String cause, boolean pmdLevel) {
    if (!pmdLevel && mm.pmdMapped(va)) {
      // A PTE-level change other than the accessed/dirty bits inside a huge PMD: the kernel splits the PMD first
      // (or zaps/protects it whole); the model drops the marker (see docs/PROTOCOL.md §3.8, what is simplified).
      Pte old = mm.pte(va);
      if (pte.state() != PteState.PRESENT || pte.pfn() != old.pfn() || pte.write() != old.write()) {
        mm.pmdMapped.remove(va / RangeFault.PMD_SIZE);
      }
    }
    if (!pmdLevel && !mm.pmdMigration.isEmpty()) mm.pmdMigration.remove(va / RangeFault.PMD_SIZE);
    if (pte.state() == PteState.NONE) mm.ptes.remove(va);
    else {
      mm.ptes.put(va, pte);
      mm.pteAlloc(va); // __pte_alloc
    }
    ready.emit(new Trace.PteChanged(mm.id, va, pte.state(), pte.pfn(), pte.write(), pte.dirty(), pte.young(), cause));
  }

  void emitVma(Mm mm, Vma v, boolean removed) {
    ready.emit(new Trace.VmaChanged(mm.id, v.start, v.end, v.prot, v.kind, removed));
  }
}
