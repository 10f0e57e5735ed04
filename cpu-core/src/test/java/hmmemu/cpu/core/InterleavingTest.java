package hmmemu.cpu.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.SyscallKind;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Seeded random interleavings of CPU accesses, conversions, unlock/puts, syscalls, range faults and acks in any
 * order. After every step: the state rebuilt from the trace equals the core's state (every change was emitted),
 * mapcount equals the PTEs mapping each folio (I9), refcount covers mappings and outstanding references (I8), a
 * freed folio is mapped nowhere, DEVEXCL only on anon-exclusive folios (I11). At the end, with drivers answering
 * everything, every request has been answered (no operation is lost or parked forever).
 */
class InterleavingTest {
  private static final int PAGES = 6;
  private static final long B = 0x10_0000_0000L;
  private static final long P = Page.SIZE;
  private static final int[] DEVICES = {16, 32};

  /** Every state change emits its trace event: the shadow rebuilt from events matches (I8, I9, I11 on the way). */
  @Test
  void randomInterleavingsKeepInvariantsAndComplete() {
    for (long seed = 1; seed <= Long.getLong("hmm.seeds", 8); seed++) {
      for (KernelProfile profile : KernelProfile.values()) {
        ModelSwitches sw = ModelSwitches.kernel().withKernelProfile(profile).withFolioLockUntilMapped(seed % 5 != 0);
        try {
          new Run(seed, sw).run();
        } catch (AssertionError | RuntimeException e) {
          throw new AssertionError("seed=" + seed + " profile=" + profile + " (rerun Run(seed, switches))", e);
        }
      }
    }
  }

  private static final class Run {
    final Random rnd;
    final ModelSwitches sw;
    final CpuMm cpu;
    final List<HmmProtocol.InvalidateStart> callbacks = new ArrayList<>();
    final List<long[]> grants = new ArrayList<>(); // {device, reqId, pfn}
    final Set<Long> unanswered = new HashSet<>();
    final Map<String, Trace.PteChanged> shadowPtes = new HashMap<>();
    final Map<Long, Trace.FolioChanged> shadowFolios = new HashMap<>();
    final Set<Integer> mms = new HashSet<>(List.of(1));
    long nextReq = 1;
    final Map<String, Integer> stats = new java.util.TreeMap<>();
    boolean forked;

    Run(long seed, ModelSwitches sw) {
      this.rnd = new Random(seed);
      this.sw = sw;
      this.cpu = new CpuMm(sw);
    }

    void run() {
      long mmapId = req();
      unanswered.add(mmapId);
      step(-1, new HmmProtocol.Syscall(mmapId, 1, SyscallKind.MMAP, B, PAGES * P, Prot.RW, VmaKind.ANON_PRIVATE, 0));
      for (int d : DEVICES) {
        step(d, new HmmProtocol.NotifierInsert(((long) d << 32) | 1, d, 1, NotifierKind.INTERVAL, 0, Page.TASK_SIZE));
        step(d, new HmmProtocol.NotifierInsert(((long) d << 32) | 2, d, 1, NotifierKind.CLASSIC, 0, Page.TASK_SIZE));
      }
      for (int i = 0; i < 400; i++) randomAction();
      // Quiesce: the drivers answer everything; nothing new is issued.
      for (int i = 0; i < 10_000 && (!callbacks.isEmpty() || !grants.isEmpty()); i++) {
        if (!callbacks.isEmpty()) ackOne(rnd.nextInt(callbacks.size()));
        else unlockPutOne(rnd.nextInt(grants.size()));
      }
      assertTrue(callbacks.isEmpty() && grants.isEmpty(), "quiescent");
      if (Boolean.getBoolean("hmm.stats")) System.err.println("seed stats: " + stats);
      assertEquals(Set.of(), unanswered, "every request answered");
      for (int mm : mms) assertEquals(0, cpu.activeInvalidations(mm));
      assertEquals(0, cpu.invalidationsInFlight());
      for (int mm : mms) assertEquals(0, cpu.globalSeq(mm) & 1, "seq even when idle");
    }

    long req() { return nextReq++; }

    void randomAction() {
      int r = rnd.nextInt(100);
      long va = B + rnd.nextInt(PAGES) * P + 8L * rnd.nextInt(4);
      int mm = forked && rnd.nextInt(4) == 0 ? 2 : 1;
      if (r < 30 && !callbacks.isEmpty()) {
        ackOne(rnd.nextInt(callbacks.size()));
      } else if (r < 42 && !grants.isEmpty()) {
        unlockPutOne(rnd.nextInt(grants.size()));
      } else if (r < 62) {
        Access a = Access.values()[rnd.nextInt(3)];
        long id = req();
        unanswered.add(id);
        step(-1, new HmmProtocol.CpuAccess(id, rnd.nextInt(4), mm, va, a, 1));
      } else if (r < 80) {
        int d = DEVICES[rnd.nextInt(2)];
        long id = ((long) d << 40) | req();
        unanswered.add(id);
        step(d, new HmmProtocol.MakeDeviceExclusive(id, d, 1, va, rnd.nextBoolean() ? 0 : 0x4e56_0000L + d));
      } else if (r < 85) {
        // Half of the time the drivers first answer everything, so that the fresh seq can succeed.
        while (rnd.nextBoolean() && !callbacks.isEmpty()) ackOne(0);
        int d = DEVICES[rnd.nextInt(2)];
        long sub = ((long) d << 32) | 1;
        long seq = cpu.subscriptionSeq(sub).orElse(0L);
        long id = req();
        unanswered.add(id);
        List<Integer> flags = new ArrayList<>();
        for (int i = 0; i < 2; i++) flags.add(rnd.nextInt(4));
        step(d, new HmmProtocol.HmmRangeFault(id, d, sub, seq, 1, Page.alignDown(va), flags));
      } else if (r < 88) {
        long id = req();
        unanswered.add(id);
        step(-1, new HmmProtocol.Syscall(id, mm, SyscallKind.MADV_DONTNEED, Page.alignDown(va), P, 0, null, 0));
      } else if (r < 91) {
        long id = req();
        unanswered.add(id);
        int prot = rnd.nextBoolean() ? Prot.READ : Prot.RW;
        step(-1, new HmmProtocol.Syscall(id, mm, SyscallKind.MPROTECT, Page.alignDown(va), P, prot, null, 0));
      } else if (r < 93) {
        long id = req();
        unanswered.add(id);
        step(-1, new HmmProtocol.Syscall(id, 1, SyscallKind.SOFT_DIRTY_RESET, B, PAGES * P, 0, null, 0));
      } else if (r < 95 && !forked) {
        long id = req();
        unanswered.add(id);
        step(-1, new HmmProtocol.Syscall(id, 1, SyscallKind.FORK, 0, 0, 0, null, 2));
      } else if (r < 96) {
        long id = req();
        unanswered.add(id);
        step(-1, new HmmProtocol.Syscall(id, 1, SyscallKind.OOM_REAP, 0, 0, 0, null, 0));
      } else if (r < 97 && forked) {
        long id = req();
        unanswered.add(id);
        step(-1, new HmmProtocol.Syscall(id, 2, SyscallKind.EXIT, 0, 0, 0, null, 0));
      } else if (r < 98) {
        // Try to confuse: a duplicate ack, an unknown FolioUnlockPut.
        step(16, new HmmProtocol.InvalidateAck(rnd.nextInt(50), ((long) 16 << 32) | 1, true));
        step(16, new HmmProtocol.FolioUnlockPut(999_999, 16, 0x1000));
      } else {
        long id = req();
        step(-1, new HmmProtocol.InspectPage(id, 1, va));
      }
    }

    void ackOne(int i) {
      HmmProtocol.InvalidateStart s = callbacks.remove(i);
      // A non-blockable callback fails now and then (C20); blockable ones always succeed.
      boolean ok = s.blockable() || rnd.nextInt(3) != 0;
      step((int) (s.subId() >>> 32), new HmmProtocol.InvalidateAck(s.invId(), s.subId(), ok));
    }

    void unlockPutOne(int i) {
      long[] g = grants.remove(i);
      step((int) g[0], new HmmProtocol.FolioUnlockPut(g[1], (int) g[0], g[2]));
    }

    void step(int from, HmmProtocol.Msg m) {
      Ready r = cpu.step(from, m, 0);
      for (Trace.Event e : r.events) {
        if (e instanceof Trace.PteChanged p) shadowPtes.put(p.mmId() + ":" + p.va(), p);
        else if (e instanceof Trace.FolioChanged f) shadowFolios.put(f.pfn(), f);
      }
      for (Outbound o : r.out) {
        HmmProtocol.Msg msg = o.msg();
        if (msg instanceof HmmProtocol.InvalidateStart s) callbacks.add(s);
        else if (msg instanceof HmmProtocol.MakeDeviceExclusiveReply x) {
          stats.merge("mde:" + x.errno(), 1, Integer::sum);
          answered(x.reqId());
          if (x.errno() == Errno.OK) grants.add(new long[] {x.reqId() >>> 40, x.reqId(), x.pfn()});
        } else if (msg instanceof HmmProtocol.CpuAccessDone x) {
          answered(x.reqId());
          stats.merge("cpu:" + x.errno() + ":faults" + x.faults(), 1, Integer::sum);
        } else if (msg instanceof HmmProtocol.HmmRangeFaultReply x) {
          answered(x.reqId());
          stats.merge("hmm:" + x.errno(), 1, Integer::sum);
        } else if (msg instanceof HmmProtocol.SyscallDone x) {
          stats.merge("sys:" + x.errno(), 1, Integer::sum);
          answered(x.reqId());
          if (m instanceof HmmProtocol.Syscall sc && sc.kind() == SyscallKind.FORK && x.errno() == Errno.OK) {
            forked = true;
            mms.add(2);
          }
        }
      }
      check();
    }

    void answered(long id) {
      if (!unanswered.remove(id)) fail("reply to unknown or already answered request " + id);
    }

    void check() {
      Map<Long, Integer> mapped = new HashMap<>();
      for (int mm : List.of(1, 2)) {
        Map<Long, Pte> ptes = cpu.ptes(mm);
        for (Map.Entry<Long, Pte> e : ptes.entrySet()) {
          Pte p = e.getValue();
          Trace.PteChanged s = shadowPtes.get(mm + ":" + e.getKey());
          if (s == null || s.state() != p.state() || s.pfn() != p.pfn() || s.write() != p.write() || s.dirty() != p.dirty()
              || s.young() != p.young()) {
            fail("PTE " + mm + ":" + Long.toHexString(e.getKey()) + " is " + p + " but the trace says " + s);
          }
          boolean counts = p.isPresent() || (p.isDeviceExclusive() && sw.kernelProfile() == KernelProfile.V6_15);
          if (counts && p.pfn() != CpuMm.ZERO_PFN) mapped.merge(p.pfn(), 1, Integer::sum);
          if (p.pfn() != CpuMm.ZERO_PFN) {
            FolioView f = cpu.folio(p.pfn()).orElseThrow();
            if (f.freed()) fail("I8: freed pfn " + p.pfn() + " still mapped at " + Long.toHexString(e.getKey()));
            if (p.isDeviceExclusive() && !(f.anon() && f.anonExclusive() && !f.hugetlb())) fail("I11: DEVEXCL on " + f);
          }
        }
        for (Map.Entry<String, Trace.PteChanged> s : shadowPtes.entrySet()) {
          if (s.getKey().startsWith(mm + ":") && s.getValue().state() != PteState.NONE) {
            long va = Long.parseLong(s.getKey().substring(s.getKey().indexOf(':') + 1));
            if (!ptes.containsKey(va)) fail("trace says " + s.getValue() + " but the PTE is none");
          }
        }
      }
      Map<Long, Integer> granted = new HashMap<>();
      for (long[] g : grants) granted.merge(g[2], 1, Integer::sum);
      for (Map.Entry<Long, Trace.FolioChanged> e : shadowFolios.entrySet()) {
        FolioView f = cpu.folio(e.getKey()).orElseThrow();
        Trace.FolioChanged s = e.getValue();
        if (s.locked() != f.locked() || s.refcount() != f.refcount() || s.mapcount() != f.mapcount()
            || s.dirty() != f.dirty() || s.anonExclusive() != f.anonExclusive() || s.freed() != f.freed()) {
          fail("folio " + f + " but the trace says " + s);
        }
        int m = mapped.getOrDefault(f.pfn(), 0);
        if (f.mapcount() != m) fail("I9: pfn " + f.pfn() + " mapcount " + f.mapcount() + " but " + m + " PTEs");
        if (f.refcount() < m + granted.getOrDefault(f.pfn(), 0)) fail("I8: refcount too low on " + f);
      }
    }
  }
}
