package hmmemu.checker;

import static hmmemu.checker.InvariantCheckerTest.assertOnly;
import static hmmemu.checker.InvariantCheckerTest.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DevicePrivate;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Device-private pages (docs/PROTOCOL.md §3.11, §6 I13): the checker accepts a dmirror migration to device memory
 * (mm/migrate_device.c migrate_vma_setup/pages/finalize; lib/test_hmm.c dmirror_interval_invalidate skips its own
 * MMU_NOTIFY_MIGRATE) and its migration back, and catches a CPU access served from device memory, a present PTE on a
 * device page, a device reaching device memory as host memory, and a device-private mapping left out of the mapcount.
 */
class DevicePrivateCheckerTest {
  static final int MM = 1;
  static final int D = 16;
  static final int GPU = 1;
  static final long B = 0x1000_0000L;
  static final long P = Page.SIZE;
  static final long X = 0x1000;
  static final long DEV = DevicePrivate.pfn(D, 0);
  static final long Y = 0x1001;
  static final long SUB = ((long) D << 32) | 1;

  private static Trace.PteChanged pte(PteState s, long pfn, boolean write, String cause) {
    return new Trace.PteChanged(MM, B, s, pfn, write, false, false, cause);
  }

  private static Trace.FolioChanged folio(long pfn, boolean locked, int ref, int map, boolean freed) {
    return new Trace.FolioChanged(pfn, locked, ref, map, true, true, freed);
  }

  /** X written by the CPU, then migrated to D's memory as dmirror_migrate_to_device does. */
  private static TraceBuilder toDevice() {
    TraceBuilder b = new TraceBuilder(2);
    b.cpu(new Trace.VmaChanged(MM, B, B + 4 * P, Prot.RW, VmaKind.ANON_PRIVATE, false),
        pte(PteState.PRESENT, X, true, "do_anonymous_page"), folio(X, false, 1, 1, false),
        new Trace.NotifierRegistered(SUB, D, MM, NotifierKind.INTERVAL, 0, Page.TASK_SIZE, false));
    b.send(TraceBuilder.CPU, GPU).on(GPU, new Trace.DriverBound(D, MM, 0, "DMIRROR")).send(GPU, TraceBuilder.CPU);
    long owner = Ids.dmirrorPgmapOwner(D);
    b.cpu(new Trace.InvalidateStarted(1, MM, B, B + P, NotifyEvent.MIGRATE, owner, true, List.of(SUB)));
    b.send(TraceBuilder.CPU, GPU).on(GPU, new Trace.InvalidateAcked(1, SUB, D, true, true)).send(GPU, TraceBuilder.CPU);
    b.cpu(folio(X, false, 2, 1, false), folio(X, true, 2, 1, false),
        pte(PteState.MIGRATION, X, true, "migrate_vma_collect_pmd"), folio(X, true, 1, 0, false),
        new Trace.InvalidateEnded(1, true));
    b.send(TraceBuilder.CPU, GPU).send(GPU, TraceBuilder.CPU); // setup's reply, migrate_vma_pages
    b.cpu(folio(DEV, true, 1, 0, false));
    b.send(TraceBuilder.CPU, GPU).on(GPU, new Trace.DeviceEntryInstalled(D, MM, B, DEV, true, true, false, SUB, -1));
    b.send(GPU, TraceBuilder.CPU); // migrate_vma_finalize
    return b.cpu(folio(DEV, true, 2, 1, false), pte(PteState.DEVICE_PRIVATE, DEV, true, "remove_migration_pte"),
        folio(X, false, 1, 0, false), folio(X, false, 0, 0, true), folio(DEV, false, 2, 1, false),
        folio(DEV, false, 1, 1, false));
  }

  @Test
  void migrationToDeviceMemoryAndBackIsAccepted() {
    TraceBuilder b = toDevice();
    // A CPU fault migrates it back (dmirror_devmem_fault): D erases its entry, a new system page Y is mapped.
    b.cpu(new Trace.CpuFaulted(1, MM, B, "devpriv"), folio(DEV, true, 1, 1, false), folio(DEV, true, 2, 1, false));
    b.send(TraceBuilder.CPU, GPU).on(GPU, new Trace.DeviceEntryZapped(D, MM, B, DEV)).send(GPU, TraceBuilder.CPU);
    b.cpu(folio(DEV, true, 3, 1, false), pte(PteState.MIGRATION, DEV, true, "migrate_vma_collect_pmd"),
        folio(DEV, true, 2, 0, false), folio(Y, true, 1, 0, false), folio(Y, true, 2, 1, false),
        pte(PteState.PRESENT, Y, true, "remove_migration_pte"), folio(DEV, true, 1, 0, false),
        folio(Y, false, 1, 1, false), folio(DEV, false, 1, 0, false), folio(DEV, false, 0, 0, true),
        new Trace.HostMemoryAccessed(-1, 1, Y, 0, Access.READ, 7, 7));
    Map<String, Integer> counts = verdict(b);
    assertEquals(Map.of(), counts, "a faithful migration breaks nothing");
  }

  @Test
  void cpuAccessServedFromDeviceMemoryIsCaught() {
    TraceBuilder b = toDevice();
    b.cpu(new Trace.HostMemoryAccessed(-1, 1, DEV, 0, Access.READ, 7, 7));
    assertOnly(b, "I13");
  }

  @Test
  void presentPteOnADevicePageIsCaught() {
    TraceBuilder b = toDevice();
    b.cpu(pte(PteState.PRESENT, DEV, true, "broken"));
    assertOnly(b, "I13");
  }

  @Test
  void deviceReachingDeviceMemoryAsHostMemoryIsCaught() {
    TraceBuilder b = toDevice();
    b.on(GPU, new Trace.HostMemoryAccessed(D, -1, DEV, 0, Access.READ, 7, 7));
    assertOnly(b, "I13");
  }

  @Test
  void aDevicePrivateEntryCountsInTheMapcount() {
    TraceBuilder b = toDevice();
    b.cpu(folio(DEV, false, 1, 0, false));
    assertOnly(b, "I9");
  }

  @Test
  void anotherOwnersMigrateMayNotBeSkipped() {
    TraceBuilder b = toDevice();
    b.cpu(new Trace.InvalidateStarted(2, MM, B, B + P, NotifyEvent.MIGRATE, Ids.dmirrorPgmapOwner(D + 1), true,
        List.of(SUB)));
    b.send(TraceBuilder.CPU, GPU).on(GPU, new Trace.InvalidateAcked(2, SUB, D, true, true)).send(GPU, TraceBuilder.CPU);
    b.cpu(new Trace.InvalidateEnded(2, true));
    assertEquals(Map.of("I12", 1, "I3", 1), verdict(b));
  }
}
