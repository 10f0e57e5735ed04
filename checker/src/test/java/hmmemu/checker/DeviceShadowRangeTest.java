package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Page;
import hmmemu.protocol.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The device page tables' range scans (entriesIn, anyEntryIn, revoke) answer in address order whether they probe the
 * range's pages (a range no wider than the table) or scan the table's keys (a wider range), and entriesAt answers in
 * device order.
 */
class DeviceShadowRangeTest {
  private static final int MM = 1;
  private static final long BASE = 0x10_0000_0000L;

  private static long va(long page) { return BASE + page * Page.SIZE; }

  private static void install(DeviceShadow d, int device, long page, long pfn) {
    d.install(PageKey.of(MM, va(page)), new Trace.DeviceEntryInstalled(device, MM, va(page), pfn, true, true, false, 0, -1));
  }

  private static List<Long> pages(List<Trace.DeviceEntryInstalled> entries) {
    return entries.stream().map(i -> (i.va() - BASE) / Page.SIZE).toList();
  }

  @Test
  void rangeScansAnswerInAddressOrderNarrowAndWide() {
    DeviceShadow d = new DeviceShadow();
    long[] at = {900, 3, 77, 78, 5000, 40, 1_000_000};
    for (long p : at) install(d, 16, p, 100 + p);
    assertEquals(List.of(3L, 40L, 77L, 78L), pages(d.entriesIn(16, MM, va(0), va(80))), "narrow: probed");
    assertEquals(List.of(3L, 40L, 77L, 78L, 900L, 5000L, 1_000_000L),
        pages(d.entriesIn(16, MM, va(0), va(2_000_000))), "wide: the table's keys sorted");
    assertEquals(List.of(78L, 900L, 5000L), pages(d.entriesIn(16, MM, va(78), va(5001))));
    assertTrue(d.anyEntryIn(16, MM, va(1_000_000), va(1_000_001)));
    assertTrue(d.anyEntryIn(16, MM, va(999_000), va(3_000_000)), "wide");
    assertFalse(d.anyEntryIn(16, MM, va(4), va(40)));
    assertFalse(d.anyEntryIn(16, MM, va(1_000_001), va(9_000_000)), "wide, none");
    assertFalse(d.anyEntryIn(17, MM, va(0), va(2_000_000)), "another device");
    assertTrue(d.entriesIn(16, MM, va(5), va(5)).isEmpty(), "empty range");
  }

  @Test
  void revokeNarrowAndWideEndsOnlyTheUnkeptPagesInRange() {
    DeviceShadow d = new DeviceShadow();
    for (long p = 0; p < 64; p++) install(d, 16, p * 1000, 100 + p);
    d.revoke(16, MM, va(1000), va(1001), k -> false); // narrow: one page probed
    assertEquals(0, d.grantOf(16, 101));
    assertEquals(DeviceShadow.PERM_READ | DeviceShadow.PERM_WRITE, d.grantOf(16, 102));
    // wide: pages 2000..40000 except 5000, kept
    d.revoke(16, MM, va(2000), va(40_001), k -> k.vpn() == Page.vpn(va(5000)));
    for (long p = 2; p <= 40; p++) assertEquals(p == 5 ? 3 : 0, d.grantOf(16, 100 + p), "pfn of page " + p * 1000);
    assertEquals(3, d.grantOf(16, 141));
    assertEquals(3, d.grantOf(16, 100));
    // entries stay until zapped
    assertEquals(64, d.entriesIn(16, MM, va(0), va(100_000)).size());
  }

  @Test
  void entriesAtAnswersInDeviceOrderAndRemoveForgets() {
    DeviceShadow d = new DeviceShadow();
    install(d, 40, 7, 1);
    install(d, 16, 7, 2);
    install(d, 24, 7, 3);
    install(d, 24, 8, 4);
    assertEquals(List.of(16, 24, 40), d.entriesAt(PageKey.of(MM, va(7))).stream().map(Trace.DeviceEntryInstalled::deviceId).toList());
    d.remove(24, PageKey.of(MM, va(7)));
    assertEquals(List.of(16, 40), d.entriesAt(PageKey.of(MM, va(7))).stream().map(Trace.DeviceEntryInstalled::deviceId).toList());
    assertTrue(d.entriesOf(3).isEmpty());
    assertEquals(1, d.entriesOf(4).size());
    assertTrue(d.entriesAt(PageKey.of(MM, va(9))).isEmpty());
    d.dropDevices(dev -> dev == 16);
    assertEquals(List.of(40), d.entriesAt(PageKey.of(MM, va(7))).stream().map(Trace.DeviceEntryInstalled::deviceId).toList());
    assertEquals(0, d.grantOf(16, 2));
  }
}
