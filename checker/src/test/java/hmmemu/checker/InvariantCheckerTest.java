package hmmemu.checker;

import static hmmemu.checker.Scenario.B;
import static hmmemu.checker.Scenario.G;
import static hmmemu.checker.Scenario.GPU1;
import static hmmemu.checker.Scenario.GPU2;
import static hmmemu.checker.Scenario.H;
import static hmmemu.checker.Scenario.INV_RESTORE;
import static hmmemu.checker.Scenario.MM;
import static hmmemu.checker.Scenario.P;
import static hmmemu.checker.Scenario.REQ1;
import static hmmemu.checker.Scenario.SUB_GC;
import static hmmemu.checker.Scenario.SUB_GT;
import static hmmemu.checker.Scenario.X;
import static hmmemu.checker.Scenario.ack;
import static hmmemu.checker.Scenario.atomicEntry;
import static hmmemu.checker.Scenario.folio;
import static hmmemu.checker.Scenario.pte;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** docs/PROTOCOL.md §6: a correct trace passes in any arrival order; each broken trace is caught by its invariant. */
class InvariantCheckerTest {

  // ------------------------------------------------------------ helpers

  static InvariantChecker run(List<Stamped> events) { return run(events, KernelProfile.V6_15); }

  static InvariantChecker run(List<Stamped> events, KernelProfile profile) {
    InvariantChecker c = new InvariantChecker(profile);
    for (Stamped s : events) c.offer(s);
    c.finish();
    assertEquals(0, c.pending(), () -> "events left undelivered:\n" + c.describePending());
    assertEquals(events.size(), c.delivered());
    return c;
  }

  /** Runs the trace in build order and in several scrambled orders; asserts the same verdict each time. */
  static Map<String, Integer> verdict(TraceBuilder b) {
    InvariantChecker first = run(b.inOrder());
    Map<String, Integer> counts = first.countsByInvariant();
    for (long seed = 1; seed <= 8; seed++) {
      InvariantChecker c = run(b.scrambled(seed));
      assertEquals(counts, c.countsByInvariant(), "seed=" + seed + " gives another verdict");
      assertTrue(c.caughtUp(b.perNodeCounts()));
    }
    return counts;
  }

  static void assertCaught(TraceBuilder b, String invariant) {
    Map<String, Integer> counts = verdict(b);
    assertTrue(counts.containsKey(invariant), () -> invariant + " not reported; got " + counts + "\n"
        + String.join("\n", run(b.inOrder()).violations().stream().map(Violation::toString).toList()));
  }

  static void assertOnly(TraceBuilder b, String invariant) {
    assertCaught(b, invariant);
    Map<String, Integer> counts = verdict(b);
    assertEquals(List.of(invariant), List.copyOf(counts.keySet()), () -> "unexpected extra violations: " + counts);
  }

  // ------------------------------------------------------------ correct traces

  /** The correct C05 trace (convert, map A, device atomic, CPU restore after G zapped and acked) has no violation. */
  @Test
  void correctC05TraceHasNoViolation() {
    TraceBuilder b = Scenario.c05();
    InvariantChecker c = run(b.inOrder());
    assertEquals(List.of(), c.violations());
    assertTrue(c.outstandingExclusiveHolds().isEmpty());
  }

  /** The correct C05 trace has no violation whatever the arrival order of its events. */
  @Test
  void correctC05TraceHasNoViolationInAnyArrivalOrder() {
    TraceBuilder b = Scenario.c05();
    for (long seed = 0; seed < 200; seed++) {
      InvariantChecker c = run(b.scrambled(seed));
      assertEquals(List.of(), c.violations(), "seed=" + seed);
    }
  }

  /** Try to confuse: every event offered twice (late duplicates included) changes nothing and is counted. */
  @Test
  void duplicatedEventsAreHarmless() {
    TraceBuilder b = Scenario.c05();
    InvariantChecker c = new InvariantChecker();
    List<Stamped> once = b.scrambled(42);
    for (Stamped s : once) c.offer(s);
    for (Stamped s : b.scrambled(43)) c.offer(s);
    assertEquals(List.of(), c.violations());
    assertEquals(once.size(), c.duplicates());
    assertEquals(once.size(), c.delivered());
  }

  /** describeRecent lists the last n applied events, oldest first, one per line, with hex addresses. */
  @Test
  void describeRecentListsTheLastEvents() {
    InvariantChecker c = run(Scenario.c05().inOrder());
    String[] lines = c.describeRecent(4).split("\n");
    assertEquals(4, lines.length);
    assertTrue(lines[0].startsWith("n0#") && lines[0].contains("PteChanged") && lines[0].contains("va=0x10000000"),
        lines[0]);
    assertTrue(lines[3].contains("HostMemoryAccessed"), lines[3]);
  }

  // ------------------------------------------------------------ I1

  /** I1: the CPU restores X (PTE PRESENT) while G still holds its atomic entry, before G acked the CLEAR. */
  @Test
  void restoreBeforeTheAckBreaksAtomicExclusivity() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    Scenario.map(b);
    Scenario.restoreStart(b, false);
    Scenario.restoreFinish(b); // the CPU does not wait for Gc's ack
    Scenario.zapAndAck(b);
    Map<String, Integer> counts = verdict(b);
    assertTrue(counts.containsKey("I1") && counts.containsKey("I6"), counts::toString);
  }

  /** I1: a second device installs an atomic entry for X while G still holds one. */
  @Test
  void twoDevicesWithAtomicEntriesOnOnePfn() {
    TraceBuilder b = Scenario.setup(true);
    Scenario.convert(b, true);
    Scenario.map(b);
    b.send(TraceBuilder.CPU, GPU2).on(GPU2, atomicEntry(H, 0, -1));
    assertOnly(b, "I1");
  }

  /** I1: a CPU thread reaches X's memory while its PTE is DEVEXCL (it must fault and restore first). */
  @Test
  void cpuAccessToDevexclPageIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    Scenario.map(b);
    b.cpu(new Trace.HostMemoryAccessed(-1, 1, X, 0, Access.READ, 0, 0));
    assertOnly(b, "I1");
  }

  // ------------------------------------------------------------ I2

  /** I2: a device entry points at a pfn other than the one the CPU PTE holds (no invalidation pending). */
  @Test
  void entryToAnotherPfnBreaksMirrorCoherence() {
    TraceBuilder b = Scenario.setup(false);
    b.cpu(new Trace.PteChanged(MM, B + P, PteState.PRESENT, X + 1, true, true, false, "anon"),
        new Trace.FolioChanged(X + 1, false, 1, 1, true, true, false));
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, new Trace.DeviceEntryInstalled(G, MM, B + P, X, true, false, false, 0, -1));
    assertOnly(b, "I2");
  }

  /** I2: a writable device entry over a read-only CPU PTE. */
  @Test
  void writableEntryOverReadOnlyPte() {
    TraceBuilder b = Scenario.setup(false);
    b.cpu(pte(PteState.PRESENT, false, false, "wp"));
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, new Trace.DeviceEntryInstalled(G, MM, B, X, true, true, false, 0, -1));
    assertOnly(b, "I2");
  }

  // ------------------------------------------------------------ I3

  /** I3: G acks the CLEAR while still holding its entry for the range (it zaps only afterwards). */
  @Test
  void ackWhileHoldingAnEntryBreaksAckCompleteness() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    Scenario.map(b);
    Scenario.restoreStart(b, false);
    b.send(TraceBuilder.CPU, GPU1);
    b.on(GPU1, ack(INV_RESTORE, SUB_GC, G, false), new Trace.DeviceEntryZapped(G, MM, B, X));
    b.send(GPU1, TraceBuilder.CPU);
    Scenario.restoreFinish(b);
    InvariantChecker c = run(b.inOrder());
    assertEquals("I3", c.violations().get(0).invariant(), c.violations()::toString);
    assertCaught(b, "I3");
  }

  // ------------------------------------------------------------ I5

  /** I5: G acks a CLEAR hitting its fault window, then maps X before that invalidation ended. */
  @Test
  void installDuringAnAckedInvalidationIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    b.cpu(new Trace.InvalidateStarted(5, MM, B, B + P, NotifyEvent.SOFT_DIRTY, 0, true, List.of(SUB_GT, SUB_GC)));
    b.send(TraceBuilder.CPU, GPU1);
    b.on(GPU1, ack(5, SUB_GT, G, false), ack(5, SUB_GC, G, false), atomicEntry(G, SUB_GT, Scenario.SEQ));
    Map<String, Integer> counts = verdict(b);
    assertTrue(counts.containsKey("I5"), counts::toString);
  }

  // ------------------------------------------------------------ I8

  /** I8: folio_unlock()+folio_put() carried out twice for one make_device_exclusive call. */
  @Test
  void unlockPutTwiceIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    Scenario.map(b);
    b.cpu(new Trace.FolioUnlockPutDone(REQ1, G, X));
    assertOnly(b, "I8");
  }

  /** I8: folio_unlock()+folio_put() for a reqId that never returned OK from make_device_exclusive. */
  @Test
  void unlockPutWithoutExclusiveIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    b.cpu(new Trace.ExclusiveReturned(REQ1 + 1, G, X, Errno.EBUSY, false), new Trace.FolioUnlockPutDone(REQ1 + 1, G, X));
    assertOnly(b, "I8");
  }

  /** I8: refcount below mapcount. */
  @Test
  void refcountBelowMapcountIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    b.cpu(folio(false, 0, 1));
    assertCaught(b, "I8");
  }

  /**
   * I8 (docs/PROTOCOL.md §8 R1, dmirror without seq check): MADV_DONTNEED zaps X between conversion and mapping; the
   * stale atomic entry is installed anyway and the folio is freed under it.
   */
  @Test
  void folioFreedUnderADeviceEntryIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    b.cpu(new Trace.InvalidateStarted(6, MM, B, B + P, NotifyEvent.CLEAR, 0, true, List.of(SUB_GT, SUB_GC)));
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, ack(6, SUB_GT, G, false), ack(6, SUB_GC, G, false));
    b.send(GPU1, TraceBuilder.CPU);
    b.cpu(pte(PteState.NONE, false, false, "madv_dontneed"), folio(true, 1, 0), new Trace.InvalidateEnded(6, true));
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, atomicEntry(G, 0, -1)).send(GPU1, TraceBuilder.CPU);
    b.cpu(new Trace.FolioChanged(X, false, 0, 0, true, true, true), new Trace.FolioUnlockPutDone(REQ1, G, X));
    Map<String, Integer> counts = verdict(b);
    assertTrue(counts.containsKey("I8") && counts.containsKey("I1") && counts.containsKey("I2"), counts::toString);
  }

  // ------------------------------------------------------------ I10

  /** I10: G zaps and acks the CLEAR, then a device write of X still reaches host memory. */
  @Test
  void deviceAccessAfterItsAckIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    Scenario.map(b);
    Scenario.restoreStart(b, false);
    Scenario.zapAndAck(b);
    b.on(GPU1, new Trace.DeviceAccessIssued(G, MM, B, X, Access.WRITE)).send(GPU1, TraceBuilder.CPU);
    b.cpu(new Trace.HostMemoryAccessed(G, -1, X, 0, Access.WRITE, 1, 5));
    Scenario.restoreFinish(b);
    assertOnly(b, "I10");
  }

  /** I10: a device atomic through a read-only entry. */
  @Test
  void deviceAtomicWithoutAtomicEntryIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, new Trace.DeviceEntryInstalled(G, MM, B, X, true, false, false, 0, -1));
    b.send(GPU1, TraceBuilder.CPU).cpu(new Trace.HostMemoryAccessed(G, -1, X, 0, Access.ATOMIC, 0, 1));
    assertOnly(b, "I10");
  }

  /** I10 (6.15+): a writable PTE restored from DEVEXCL is clean although the folio is dirty. */
  @Test
  void cleanRestoreOfDirtyFolioIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    Scenario.map(b);
    Scenario.restoreStart(b, false);
    Scenario.zapAndAck(b);
    b.cpu(pte(PteState.PRESENT, true, false, "restore"), folio(false, 1, 1), new Trace.InvalidateEnded(INV_RESTORE, true));
    assertOnly(b, "I10");
  }

  /** I10: a dirty PTE converted to DEVEXCL whose dirtiness never reached the folio. */
  @Test
  void lostDirtinessAtConversionIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    b.cpu(new Trace.FolioChanged(X, false, 1, 1, false, true, false));
    b.cpu(new Trace.FolioChanged(X, true, 2, 1, false, true, false),
        pte(PteState.DEVEXCL, false, false, "exclusive"),
        new Trace.FolioChanged(X, true, 2, 1, false, true, false),
        new Trace.ExclusiveReturned(REQ1, G, X, Errno.OK, true));
    assertOnly(b, "I10");
  }


  // ------------------------------------------------------------ I4

  /** G's Gt was invalidated (SOFT_DIRTY, C17), read_retry says retry, and G maps anyway: a stale install. */
  private static TraceBuilder softDirtyHitsTheFaultWindow() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    b.cpu(new Trace.InvalidateStarted(5, MM, B, B + P, NotifyEvent.SOFT_DIRTY, 0, true, List.of(SUB_GT, SUB_GC)));
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, ack(5, SUB_GT, G, false), ack(5, SUB_GC, G, false));
    b.send(GPU1, TraceBuilder.CPU).cpu(new Trace.InvalidateEnded(5, true)).send(TraceBuilder.CPU, GPU1);
    return b;
  }

  /** I4: the driver installs with the seq read_retry just rejected (the seq protocol must force a retry). */
  @Test
  void installAfterAFailedReadRetryIsStale() {
    TraceBuilder b = softDirtyHitsTheFaultWindow();
    b.on(GPU1, new Trace.ReadRetryChecked(G, SUB_GT, Scenario.SEQ, 5, true), atomicEntry(G, SUB_GT, Scenario.SEQ));
    assertOnly(b, "I4");
  }

  /** I4 (brokenMapBeforeRetry): the driver maps before read_retry, which then finds the seq invalidated. */
  @Test
  void installBeforeAFailingReadRetryIsStale() {
    TraceBuilder b = softDirtyHitsTheFaultWindow();
    b.on(GPU1, atomicEntry(G, SUB_GT, Scenario.SEQ), new Trace.ReadRetryChecked(G, SUB_GT, Scenario.SEQ, 5, true));
    assertOnly(b, "I4");
  }

  /** I4: read_retry passed, then an invalidation callback hit the subscription, then the driver installed. */
  @Test
  void installAfterACallbackFollowingThePassingCheckIsStale() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    b.on(GPU1, new Trace.ReadRetryChecked(G, SUB_GT, Scenario.SEQ, Scenario.SEQ, false));
    b.send(GPU1, TraceBuilder.CPU);
    b.cpu(new Trace.InvalidateStarted(5, MM, B, B + P, NotifyEvent.SOFT_DIRTY, 0, true, List.of(SUB_GT, SUB_GC)));
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, ack(5, SUB_GT, G, false), ack(5, SUB_GC, G, false));
    b.send(GPU1, TraceBuilder.CPU).cpu(new Trace.InvalidateEnded(5, true)).send(TraceBuilder.CPU, GPU1);
    b.on(GPU1, atomicEntry(G, SUB_GT, Scenario.SEQ));
    assertOnly(b, "I4");
  }

  // ------------------------------------------------------------ I6

  /** I6: the CPU restores X after the acks but without holding the folio lock. */
  @Test
  void restoreWithoutTheFolioLockIsCaught() {
    TraceBuilder b = Scenario.c05Until(Scenario.Stage.MAPPED);
    b.cpu(new Trace.CpuFaulted(1, MM, B, "devexcl"),
        new Trace.InvalidateStarted(INV_RESTORE, MM, B, B + P, NotifyEvent.CLEAR, 0, true, List.of(SUB_GC)));
    Scenario.zapAndAck(b);
    b.cpu(pte(PteState.PRESENT, true, true, "restore"), folio(false, 1, 1), new Trace.InvalidateEnded(INV_RESTORE, true));
    assertOnly(b, "I6");
  }

  /** I6: the CPU restores X with no invalidation at all (no device was told). */
  @Test
  void restoreWithoutAnInvalidationIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    b.on(GPU1, new Trace.ReadRetryChecked(G, SUB_GT, Scenario.SEQ, 9, true)).send(GPU1, TraceBuilder.CPU);
    b.cpu(folio(false, 1, 1), new Trace.FolioUnlockPutDone(REQ1, G, X));
    b.cpu(folio(true, 2, 1), pte(PteState.PRESENT, true, true, "restore"), folio(false, 1, 1));
    assertOnly(b, "I6");
  }

  // ------------------------------------------------------------ I7

  /** I7: a CPU restore of X runs while G's make_device_exclusive still holds the folio lock (before its unlock). */
  @Test
  void restoreWhileTheDriverHoldsTheFolioLockIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    b.cpu(new Trace.CpuFaulted(1, MM, B, "devexcl"),
        new Trace.InvalidateStarted(INV_RESTORE, MM, B, B + P, NotifyEvent.CLEAR, 0, true, List.of(SUB_GT, SUB_GC)));
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, ack(INV_RESTORE, SUB_GT, G, false), ack(INV_RESTORE, SUB_GC, G, false));
    b.send(GPU1, TraceBuilder.CPU);
    b.cpu(pte(PteState.PRESENT, true, true, "restore"), new Trace.InvalidateEnded(INV_RESTORE, true));
    assertOnly(b, "I7");
  }

  /** I7: the folio is locked by someone else between make_device_exclusive's return and the driver's unlock. */
  @Test
  void secondLockWhileTheDriverHoldsTheFolioIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    Scenario.convert(b, false);
    b.cpu(folio(false, 2, 1), folio(true, 2, 1));
    assertOnly(b, "I7");
  }

  /** I7: the driver calls make_device_exclusive holding its svmm mutex (C10, driver-lock-across-conversion). */
  @Test
  void driverLockHeldAcrossTheConversionIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    b.on(GPU1, new Trace.DriverLockHeldAcross(G, MM, B, "svmm mutex", "make_device_exclusive", 7));
    assertOnly(b, "I7");
  }

  // ------------------------------------------------------------ I9

  /** I9 (6.15): mapcount 2 while one PTE maps the folio. */
  @Test
  void mapcountMismatchIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    b.cpu(folio(false, 2, 2));
    assertOnly(b, "I9");
  }

  /** I9 follows the profile: a DEVEXCL entry counts in mapcount on 6.15 and does not on 5.14. */
  @Test
  void mapcountRuleDependsOnTheKernelProfile() {
    TraceBuilder b = Scenario.setup(false);
    b.cpu(pte(PteState.DEVEXCL, false, false, "exclusive"), folio(false, 1, 0));
    assertEquals(List.of(), run(b.inOrder(), KernelProfile.V5_14).violations());
    assertEquals(Map.of("I9", 1), run(b.inOrder(), KernelProfile.V6_15).countsByInvariant());
  }

  // ------------------------------------------------------------ I11

  /** I11: a DEVEXCL entry in a shared anonymous (shmem) VMA. */
  @Test
  void conversionInASharedVmaIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    b.cpu(new Trace.VmaChanged(MM, B, B + P, Prot.RW, VmaKind.ANON_SHARED, false));
    Scenario.convert(b, false);
    assertOnly(b, "I11");
  }

  /**
   * I11 accepts a private file mapping: the write GUP of make_device_exclusive (mm/rmap.c) broke COW into an
   * anonymous, anon-exclusive folio, and the kernel only refuses folios that are not anon or are hugetlb.
   */
  @Test
  void conversionOfACowedPageInAPrivateFileVmaIsAllowed() {
    TraceBuilder b = Scenario.setup(false);
    b.cpu(new Trace.VmaChanged(MM, B, B + P, Prot.RW, VmaKind.FILE_PRIVATE, false));
    Scenario.convert(b, false);
    assertEquals(List.of(), run(b.inOrder(), KernelProfile.V6_15).violations());
  }

  /** I11: a DEVEXCL entry for a folio that is not anon-exclusive (e.g. COW-shared after fork). */
  @Test
  void conversionOfANonExclusiveFolioIsCaught() {
    TraceBuilder b = Scenario.setup(false);
    b.cpu(new Trace.FolioChanged(X, false, 1, 1, true, false, false),
        pte(PteState.DEVEXCL, false, false, "exclusive"));
    assertOnly(b, "I11");
  }

  // ------------------------------------------------------------ I12

  /** I12: H's driver skips G's EXCLUSIVE invalidation although the owner cookie is G's, not H's. */
  @Test
  void ignoredCallbackWithAForeignOwnerIsCaught() {
    TraceBuilder b = Scenario.setup(true);
    Scenario.convert(b, true, true);
    assertOnly(b, "I12");
  }

  /** I12: G skips a CLEAR (owner NULL), which no driver may filter; it then still holds its entry (I3). */
  @Test
  void ignoredClearIsCaught() {
    TraceBuilder b = Scenario.c05Until(Scenario.Stage.MAPPED);
    Scenario.restoreStart(b, false);
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, ack(INV_RESTORE, SUB_GC, G, true));
    Map<String, Integer> counts = verdict(b);
    assertTrue(counts.containsKey("I12") && counts.containsKey("I3"), counts::toString);
  }

  // ------------------------------------------------------------ a second correct trace

  /**
   * C04 (two dmirror devices take turns, owner NULL): D0 converts and maps X; D1's conversion first restores X
   * (CLEAR, D0 zaps) and converts again; no violation in any arrival order.
   */
  @Test
  void twoDmirrorDevicesTakingTurnsHaveNoViolation() {
    int d0 = 16;
    int d1 = 32;
    long s0 = ((long) d0 << 32) | 1;
    long s1 = ((long) d1 << 32) | 1;
    long r1 = ((long) d0 << 40) | 1;
    long r2 = ((long) d1 << 40) | 1;
    List<Long> both = List.of(s0, s1);
    TraceBuilder b = new TraceBuilder(3);
    b.cpu(new Trace.VmaChanged(MM, B, B + 16 * P, Prot.RW, VmaKind.ANON_PRIVATE, false),
        pte(PteState.PRESENT, true, true, "anon"), folio(false, 1, 1),
        new Trace.NotifierRegistered(s0, d0, MM, NotifierKind.INTERVAL, 0, Page.TASK_SIZE, false),
        new Trace.NotifierRegistered(s1, d1, MM, NotifierKind.INTERVAL, 0, Page.TASK_SIZE, false));
    b.send(0, 1).on(1, new Trace.DriverBound(d0, MM, 0, "DMIRROR"));
    b.send(0, 2).on(2, new Trace.DriverBound(d1, MM, 0, "DMIRROR"));
    // D0: EXCLUSIVE ioctl
    b.send(1, 0).cpu(folio(true, 2, 1),
        new Trace.InvalidateStarted(1, MM, B, B + P, NotifyEvent.EXCLUSIVE, 0, true, both));
    b.send(0, 1).on(1, ack(1, s0, d0, false)).send(1, 0);
    b.send(0, 2).on(2, ack(1, s1, d1, false)).send(2, 0);
    b.cpu(pte(PteState.DEVEXCL, false, false, "exclusive"), folio(true, 2, 1), new Trace.InvalidateEnded(1, true),
        new Trace.ExclusiveReturned(r1, d0, X, Errno.OK, true));
    b.send(0, 1).on(1, new Trace.DeviceEntryInstalled(d0, MM, B, X, true, false, true, 0, -1),
        new Trace.DeviceAccessIssued(d0, MM, B, X, Access.READ));
    b.send(1, 0).cpu(folio(false, 1, 1), new Trace.FolioUnlockPutDone(r1, d0, X),
        new Trace.HostMemoryAccessed(d0, -1, X, 0, Access.READ, 0, 0));
    // D1: EXCLUSIVE ioctl; GUP meets DEVEXCL and restores first (CLEAR, owner NULL)
    b.send(0, 1).send(0, 2).send(2, 0);
    b.cpu(folio(true, 2, 1), new Trace.InvalidateStarted(2, MM, B, B + P, NotifyEvent.CLEAR, 0, true, both));
    b.send(0, 1).on(1, new Trace.DeviceEntryZapped(d0, MM, B, X), ack(2, s0, d0, false)).send(1, 0);
    b.send(0, 2).on(2, ack(2, s1, d1, false)).send(2, 0);
    b.cpu(pte(PteState.PRESENT, true, true, "restore"), folio(false, 2, 1), new Trace.InvalidateEnded(2, true),
        folio(true, 2, 1), new Trace.InvalidateStarted(3, MM, B, B + P, NotifyEvent.EXCLUSIVE, 0, true, both));
    b.send(0, 1).on(1, ack(3, s0, d0, false)).send(1, 0);
    b.send(0, 2).on(2, ack(3, s1, d1, false)).send(2, 0);
    b.cpu(pte(PteState.DEVEXCL, false, false, "exclusive"), folio(true, 2, 1), new Trace.InvalidateEnded(3, true),
        new Trace.ExclusiveReturned(r2, d1, X, Errno.OK, true));
    b.send(0, 2).on(2, new Trace.DeviceEntryInstalled(d1, MM, B, X, true, false, true, 0, -1));
    b.send(2, 0).cpu(folio(false, 1, 1), new Trace.FolioUnlockPutDone(r2, d1, X));
    assertEquals(Map.of(), verdict(b));
    for (long seed = 100; seed < 150; seed++) {
      assertEquals(List.of(), run(b.scrambled(seed)).violations(), "seed=" + seed);
    }
  }

  // ------------------------------------------------------------ judging points

  /** Folio accounting reported before the PTE change it accounts for, in the same CPU step, is not an I9/I8. */
  @Test
  void folioAccountingBeforeItsPteInOneStepIsNotAViolation() {
    TraceBuilder b = Scenario.setup(false);
    b.cpu(new Trace.CpuFaulted(1, MM, B + P, "anon"),
        new Trace.FolioChanged(X + 1, false, 1, 1, false, true, false),
        new Trace.PteChanged(MM, B + P, PteState.PRESENT, X + 1, true, true, true, "anon"),
        new Trace.HostMemoryAccessed(-1, 1, X + 1, 0, Access.WRITE, 0, 1));
    b.cpu(new Trace.PteChanged(MM, B + P, PteState.NONE, 0, false, false, false, "madv_dontneed"),
        new Trace.FolioChanged(X + 1, false, 0, 0, false, true, true));
    assertEquals(Map.of(), verdict(b));
  }

  /** offer() returns the violations the offered event revealed, once, and finish() judges the last CPU step. */
  @Test
  void offerReturnsNewViolationsAndFinishJudgesTheLastStep() {
    TraceBuilder b = Scenario.setup(false);
    b.cpu(folio(false, 2, 2));
    InvariantChecker c = new InvariantChecker();
    int returned = 0;
    for (Stamped s : b.inOrder()) returned += c.offer(s).size();
    assertEquals(0, returned);
    List<Violation> last = c.finish();
    assertEquals(1, last.size());
    assertEquals("I9", last.get(0).invariant());
    assertEquals(last, c.violations());
    assertTrue(last.get(0).recentEvents().size() <= InvariantChecker.RECENT_IN_VIOLATION);
    assertTrue(last.get(0).toString().contains("FolioChanged"), last.get(0)::toString);
    assertEquals(List.of(), c.finish());
  }

  // ------------------------------------------------------------ allowed windows (soundness)

  /** A callback to a subscription removed meanwhile may be acked after the restore: no I6, no I3. */
  @Test
  void lateAckOfARemovedSubscriptionIsNotAViolation() {
    TraceBuilder b = Scenario.c05Until(Scenario.Stage.ACCESSED); // Gt already removed
    b.cpu(new Trace.CpuFaulted(1, MM, B, "devexcl"), folio(true, 2, 1),
        new Trace.InvalidateStarted(INV_RESTORE, MM, B, B + P, NotifyEvent.CLEAR, 0, true, List.of(SUB_GT, SUB_GC)));
    Scenario.zapAndAck(b);
    Scenario.restoreFinish(b);
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, ack(INV_RESTORE, SUB_GT, G, false));
    assertEquals(Map.of(), verdict(b));
  }

  /**
   * A device whose callbacks all filter its own EXCLUSIVE (I12 allows it) may keep its read entry across its own
   * conversion (I3 exception) and keep reading the page (no I10): the pfn does not change.
   */
  @Test
  void ownConversionMayBeFilteredByEveryCallbackOfTheDevice() {
    TraceBuilder b = Scenario.setup(false);
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, new Trace.DeviceEntryInstalled(G, MM, B, X, true, false, false, 0, -1));
    b.send(GPU1, TraceBuilder.CPU);
    b.cpu(folio(true, 2, 1), new Trace.InvalidateStarted(9, MM, B, B + P, NotifyEvent.EXCLUSIVE, Scenario.OWNER_G, true,
        List.of(SUB_GC)));
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, ack(9, SUB_GC, G, true)).send(GPU1, TraceBuilder.CPU);
    b.cpu(pte(PteState.DEVEXCL, false, false, "exclusive"), folio(true, 2, 1), new Trace.InvalidateEnded(9, true),
        new Trace.ExclusiveReturned(REQ1, G, X, Errno.OK, true));
    b.send(TraceBuilder.CPU, GPU1).on(GPU1, new Trace.DeviceAccessIssued(G, MM, B, X, Access.READ));
    b.send(GPU1, TraceBuilder.CPU).cpu(new Trace.HostMemoryAccessed(G, -1, X, 0, Access.READ, 0, 0),
        folio(false, 1, 1), new Trace.FolioUnlockPutDone(REQ1, G, X));
    assertEquals(Map.of(), verdict(b));
  }
}
