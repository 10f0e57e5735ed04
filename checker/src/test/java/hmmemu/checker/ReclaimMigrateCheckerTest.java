package hmmemu.checker;

import static hmmemu.checker.Scenario.B;
import static hmmemu.checker.Scenario.G;
import static hmmemu.checker.Scenario.GPU1;
import static hmmemu.checker.Scenario.MM;
import static hmmemu.checker.Scenario.SUB_GC;
import static hmmemu.checker.Scenario.X;
import static hmmemu.checker.Scenario.ack;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * docs/PROTOCOL.md §3.8: reclaim (try_to_unmap_one) and migration (try_to_migrate_one) of a device-exclusive page.
 * 6.15 may turn the DEVEXCL entry into a swap or migration entry with the folio locked and after a covering CLEAR
 * was acked; 5.14 never does (its rmap walk does not reach the entry).
 */
class ReclaimMigrateCheckerTest {
  static final long INV_RECLAIM = 9;
  static final long Y = 0x2000;

  private static Map<String, Integer> verdict(TraceBuilder b, KernelProfile profile) {
    Map<String, Integer> counts = null;
    for (long seed = 0; seed <= 6; seed++) {
      InvariantChecker c = new InvariantChecker(profile);
      List<Stamped> events = seed == 0 ? b.inOrder() : b.scrambled(seed);
      for (Stamped s : events) c.offer(s);
      c.finish();
      assertEquals(0, c.pending(), c::describePending);
      if (counts == null) counts = c.countsByInvariant();
      else assertEquals(counts, c.countsByInvariant(), "seed " + seed);
    }
    return counts;
  }

  /** X converted and mapped atomic by G (the C05 trace up to the unlock), then the CLEAR of reclaim/migration. */
  private static TraceBuilder exclusiveThenClear(boolean ackFirst) {
    TraceBuilder b = Scenario.c05Until(Scenario.Stage.MAPPED);
    b.cpu(new Trace.FolioChanged(X, true, 2, 1, true, true, false),
        new Trace.InvalidateStarted(INV_RECLAIM, MM, B, B + Page.SIZE, NotifyEvent.CLEAR, 0, true, List.of(SUB_GC)));
    if (ackFirst) {
      b.send(TraceBuilder.CPU, GPU1).on(GPU1, new Trace.DeviceEntryZapped(G, MM, B, X), ack(INV_RECLAIM, SUB_GC, G, false));
      b.send(GPU1, TraceBuilder.CPU);
    }
    return b;
  }

  /** 6.15 reclaim: lock, CLEAR acked, DEVEXCL -> SWAP, the folio freed after the unlock: no violation. */
  @Test
  void reclaimOfAnEntryIsAcceptedOn615() {
    TraceBuilder b = exclusiveThenClear(true);
    b.cpu(new Trace.PteChanged(MM, B, PteState.SWAP, X, false, false, false, "try_to_unmap_one"),
        new Trace.FolioChanged(X, true, 1, 0, true, true, false),
        new Trace.InvalidateEnded(INV_RECLAIM, true),
        new Trace.FolioChanged(X, false, 1, 0, true, true, false),
        new Trace.FolioChanged(X, false, 0, 0, true, true, true));
    assertEquals(Map.of(), verdict(b, KernelProfile.V6_15));
  }

  /** 6.15 migration: DEVEXCL -> MIGRATION -> PRESENT on a new pfn Y, old folio freed: no violation. */
  @Test
  void migrationOfAnEntryIsAcceptedOn615() {
    TraceBuilder b = exclusiveThenClear(true);
    b.cpu(new Trace.PteChanged(MM, B, PteState.MIGRATION, X, false, false, false, "try_to_migrate_one"),
        new Trace.FolioChanged(X, true, 1, 0, true, true, false),
        new Trace.InvalidateEnded(INV_RECLAIM, true),
        new Trace.FolioChanged(Y, false, 1, 1, true, true, false),
        new Trace.PteChanged(MM, B, PteState.PRESENT, Y, false, false, false, "remove_migration_pte"),
        new Trace.FolioChanged(X, false, 1, 0, true, true, false),
        new Trace.FolioChanged(X, false, 0, 0, true, true, true));
    assertEquals(Map.of(), verdict(b, KernelProfile.V6_15));
  }

  /** The same swap-out before G acked the CLEAR: I6 (and G's entry outlives the PTE). */
  @Test
  void swapOutBeforeTheAckIsCaught() {
    TraceBuilder b = exclusiveThenClear(false);
    b.cpu(new Trace.PteChanged(MM, B, PteState.SWAP, X, false, false, false, "try_to_unmap_one"));
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, new Trace.DeviceEntryZapped(G, MM, B, X), ack(INV_RECLAIM, SUB_GC, G, false));
    b.send(GPU1, TraceBuilder.CPU).cpu(new Trace.InvalidateEnded(INV_RECLAIM, true));
    assertTrue(verdict(b, KernelProfile.V6_15).containsKey("I6"));
  }

  /** Swap-out without the folio lock: I6. */
  @Test
  void swapOutWithoutTheFolioLockIsCaught() {
    TraceBuilder b = Scenario.c05Until(Scenario.Stage.MAPPED);
    b.cpu(new Trace.InvalidateStarted(INV_RECLAIM, MM, B, B + Page.SIZE, NotifyEvent.CLEAR, 0, true, List.of(SUB_GC)));
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, new Trace.DeviceEntryZapped(G, MM, B, X), ack(INV_RECLAIM, SUB_GC, G, false));
    b.send(GPU1, TraceBuilder.CPU);
    b.cpu(new Trace.PteChanged(MM, B, PteState.SWAP, X, false, false, false, "try_to_unmap_one"),
        new Trace.FolioChanged(X, false, 0, 0, true, true, true),
        new Trace.InvalidateEnded(INV_RECLAIM, true));
    assertEquals(Map.of("I6", 1), verdict(b, KernelProfile.V6_15));
  }

  /** 5.14 never turns a DEVEXCL entry into a swap entry: the same correct-looking 6.15 trace is I6 under 5.14. */
  @Test
  void swapOutOfAnEntryUnder514IsCaught() {
    TraceBuilder b = exclusiveThenClear(true);
    b.cpu(new Trace.PteChanged(MM, B, PteState.SWAP, X, false, false, false, "try_to_unmap_one"),
        new Trace.FolioChanged(X, true, 1, 0, true, true, false),
        new Trace.InvalidateEnded(INV_RECLAIM, true),
        new Trace.FolioChanged(X, false, 1, 0, true, true, false));
    assertTrue(verdict(b, KernelProfile.V5_14).containsKey("I6"));
  }
}
