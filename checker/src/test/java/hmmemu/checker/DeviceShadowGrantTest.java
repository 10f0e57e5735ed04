package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import hmmemu.protocol.model.Page;
import hmmemu.protocol.trace.Trace;
import org.junit.jupiter.api.Test;

/** The union of a device's grants on one pfn shared by many pages (the zero page) follows grants and revokes. */
class DeviceShadowGrantTest {
  private static final int DEV = 16;
  private static final int MM = 1;
  private static final long BASE = 0x10_0000_0000L;
  private static final long ZERO_PFN = 7;

  private static void install(DeviceShadow d, int page, boolean write, boolean atomic) {
    long va = BASE + (long) page * Page.SIZE;
    d.install(PageKey.of(MM, va), new Trace.DeviceEntryInstalled(DEV, MM, va, ZERO_PFN, true, write, atomic, 0, -1));
  }

  private static void revokePage(DeviceShadow d, int page) {
    long va = BASE + (long) page * Page.SIZE;
    d.revoke(DEV, MM, va, va + Page.SIZE, k -> false);
  }

  @Test
  void unionOverPagesSharingAPfnFollowsGrantsAndRevokes() {
    DeviceShadow d = new DeviceShadow();
    for (int p = 0; p < 1000; p++) install(d, p, false, false);
    install(d, 1000, true, true);
    int all = DeviceShadow.PERM_READ | DeviceShadow.PERM_WRITE | DeviceShadow.PERM_ATOMIC;
    assertEquals(all, d.grantOf(DEV, ZERO_PFN));
    // a weaker entry at the same page does not take bits back (they only grow until revoked)
    install(d, 1000, false, false);
    assertEquals(all, d.grantOf(DEV, ZERO_PFN));
    revokePage(d, 1000);
    assertEquals(DeviceShadow.PERM_READ, d.grantOf(DEV, ZERO_PFN), "the only atomic page was revoked");
    d.revoke(DEV, MM, BASE, BASE + 999L * Page.SIZE, k -> false);
    assertEquals(DeviceShadow.PERM_READ, d.grantOf(DEV, ZERO_PFN), "page 999 still grants READ");
    revokePage(d, 999);
    assertEquals(0, d.grantOf(DEV, ZERO_PFN));
    assertEquals(0, d.grantOf(DEV + 1, ZERO_PFN));
  }
}
