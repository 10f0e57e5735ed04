package hmmemu.gpu.core;

import static hmmemu.gpu.core.CpuScript.DEV;
import static hmmemu.gpu.core.CpuScript.MM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.DmirrorOp;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * dmirror EXCLUSIVE under the 5.14 profile (V2021, 5.14 lib/test_hmm.c dmirror_exclusive): one
 * make_device_exclusive_range() call per 64-page chunk, pages[] mapped by dmirror_atomic_map(), then unlock_page +
 * put_page of each converted page, -EBUSY when fewer were mapped; the CPU node is played by hand.
 */
class DmirrorExclusiveRangeTest {
  static final long B = 0x40_0000L;
  static final long PFN = 0x1000L;

  private CpuScript script;

  private void boot() {
    script = new CpuScript(ModelSwitches.kernel().withKernelProfile(KernelProfile.V5_14));
    script.bind(DriverFlavour.DMIRROR);
  }

  private static long page(int i) { return B + ((long) i << Page.SHIFT); }

  private Map<Long, Boolean> atomicEntries() {
    Map<Long, Boolean> out = new TreeMap<>();
    for (HmmProtocol.DeviceEntry e : script.node.entries(DEV)) out.put(e.va(), e.atomic());
    return out;
  }

  /**
   * A three-page range whose middle page make_device_exclusive_range() reported NULL (its trylock_page failed): one
   * call for the chunk, pages 0 and 2 mapped ATOMIC, each unlocked + put under its own page reqId, -EBUSY.
   */
  @Test
  void oneRangeCallPerChunkMapsThePagesItListsAndAnswersEbusyForANullPage() {
    boot();
    script.step(new HmmProtocol.DmirrorCmd(50, DEV, MM, DmirrorOp.EXCLUSIVE, B, 3, List.of()));
    HmmProtocol.MakeDeviceExclusiveRange r = script.take(HmmProtocol.MakeDeviceExclusiveRange.class);
    script.assertNone(HmmProtocol.MakeDeviceExclusive.class);
    assertEquals(B, r.start());
    assertEquals(0L, r.owner(), "dmirror passes owner NULL");
    assertEquals(3, r.pageReqIds().size());
    assertEquals(4, new HashSet<>(List.of(r.reqId(), r.pageReqIds().get(0), r.pageReqIds().get(1),
        r.pageReqIds().get(2))).size(), "the call and each page have their own reqId");
    script.step(new HmmProtocol.MakeDeviceExclusiveRangeReply(r.reqId(), Errno.OK, 3, List.of(PFN, 0L, PFN + 2)));
    assertEquals(Map.of(page(0), true, page(2), true), atomicEntries());
    HmmProtocol.FolioUnlockPut u0 = script.take(HmmProtocol.FolioUnlockPut.class);
    HmmProtocol.FolioUnlockPut u2 = script.take(HmmProtocol.FolioUnlockPut.class);
    assertEquals(new HmmProtocol.FolioUnlockPut(r.pageReqIds().get(0), DEV, PFN), u0);
    assertEquals(new HmmProtocol.FolioUnlockPut(r.pageReqIds().get(2), DEV, PFN + 2), u2);
    script.assertNone(HmmProtocol.FolioUnlockPut.class);
    assertEquals(Errno.EBUSY, script.replyAfterUnlockFence().errno());
  }

  /** 65 pages: two chunks (64 + 1), the second call only after the first chunk was mapped and released. */
  @Test
  void chunksOfSixtyFourPages() {
    boot();
    script.step(new HmmProtocol.DmirrorCmd(51, DEV, MM, DmirrorOp.EXCLUSIVE, B, 65, List.of()));
    HmmProtocol.MakeDeviceExclusiveRange first = script.take(HmmProtocol.MakeDeviceExclusiveRange.class);
    assertEquals(64, first.pageReqIds().size());
    script.assertNone(HmmProtocol.MakeDeviceExclusiveRange.class);
    List<Long> pfns = new java.util.ArrayList<>();
    for (int i = 0; i < 64; i++) pfns.add(PFN + i);
    script.step(new HmmProtocol.MakeDeviceExclusiveRangeReply(first.reqId(), Errno.OK, 64, pfns));
    assertEquals(64, script.count(HmmProtocol.FolioUnlockPut.class));
    HmmProtocol.MakeDeviceExclusiveRange second = script.take(HmmProtocol.MakeDeviceExclusiveRange.class);
    assertEquals(page(64), second.start());
    assertEquals(1, second.pageReqIds().size());
    assertEquals(64, atomicEntries().size());
  }

  /**
   * get_user_pages_remote() stopped after two of three pages: nothing is mapped ("iff all pages are marked"), the
   * two converted pages are still unlocked + put, -EBUSY.
   */
  @Test
  void aShortGupMapsNothingButReleasesTheConvertedPages() {
    boot();
    script.step(new HmmProtocol.DmirrorCmd(52, DEV, MM, DmirrorOp.EXCLUSIVE, B, 3, List.of()));
    HmmProtocol.MakeDeviceExclusiveRange r = script.take(HmmProtocol.MakeDeviceExclusiveRange.class);
    script.step(new HmmProtocol.MakeDeviceExclusiveRangeReply(r.reqId(), Errno.OK, 2, List.of(PFN, PFN + 1, 0L)));
    assertTrue(atomicEntries().isEmpty());
    assertEquals(r.pageReqIds().get(0), script.take(HmmProtocol.FolioUnlockPut.class).reqId());
    assertEquals(r.pageReqIds().get(1), script.take(HmmProtocol.FolioUnlockPut.class).reqId());
    assertEquals(Errno.EBUSY, script.replyAfterUnlockFence().errno());
  }
}
