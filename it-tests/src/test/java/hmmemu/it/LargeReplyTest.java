package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.cluster.DropWatch;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.DeviceInfo;
import hmmemu.protocol.msg.HmmProtocol.DmirrorReply;
import hmmemu.protocol.wire.WireCodec;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A reply larger than Pekko Artery's 256 KiB frame reaches the controller through a real embedded cluster (the
 * controller on the CPU node's ActorSystem, the dmirror device on GPU node 1's): the node sends it in parts and
 * ControlClient gathers them. Without the parts Artery drops such a reply and the ask times out.
 */
class LargeReplyTest {
  static final int MM = 1;
  static final long B = 0x7f20_0000_0000L;
  static final int NPAGES = 24_576;
  static final int PER_READ = 4_096;
  static final int D0 = 16;
  static final int FRAME = 256 * 1024;

  @Test
  @DisplayName("a 24,576-entry DeviceInfo (over 256 KiB) reaches the controller in parts")
  void aReplyLargerThanAFrameArrives() {
    long droppedBefore = DropWatch.dropped();
    try (ClusterFixture f = new ClusterFixture(1, ModelSwitches.kernel())) {
      f.call(f.gpu(1), new HmmProtocol.BindMm(f.client.nextReqId(), D0, MM, DriverFlavour.DMIRROR),
          HmmProtocol.MmBound.class);
      assertEquals(Errno.OK, f.call(f.cpu(), new HmmProtocol.Syscall(f.client.nextReqId(), MM,
          HmmProtocol.SyscallKind.MMAP, B, (long) NPAGES * Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, 0),
          HmmProtocol.SyscallDone.class).errno());
      // the mirror maps every page (READ ioctls whose replies fit a frame)
      for (int start = 0; start < NPAGES; start += PER_READ) {
        DmirrorReply r = f.call(f.gpu(1), new HmmProtocol.DmirrorCmd(f.client.nextReqId(), D0, MM,
            HmmProtocol.DmirrorOp.READ, B + (long) start * Page.SIZE, PER_READ, List.of()), DmirrorReply.class);
        assertEquals(Errno.OK, r.errno(), "READ at page " + start);
      }
      assertEquals(0, f.client.chunkedReplies(), "the READ replies fit one frame each");

      DeviceInfo info = f.call(f.gpu(1), new HmmProtocol.InspectDevice(f.client.nextReqId(), D0), DeviceInfo.class);
      assertEquals(NPAGES, info.entries().size(), "one entry per mirrored page");
      for (int i = 0; i < NPAGES; i += 1021) {
        assertEquals(B + (long) i * Page.SIZE, info.entries().get(i).va(), "entry " + i);
      }
      int bytes = WireCodec.encode(info, f.client.clock(), "").getSerializedSize();
      assertTrue(bytes > FRAME, "the DeviceInfo is larger than a frame: " + bytes);
      assertEquals(1, f.client.chunkedReplies(), "it came in parts");
      assertEquals(0, f.client.unmatchedReplies());
      // Each READ is a burst of 4,096 DeviceMemoryAccess messages. A replay timer shorter than the loaded host's ACK
      // round trip once re-sent whole bursts every few ms, filled Artery's send queue and had ~48,000 envelopes
      // dropped in one run (a 20 s stall in another): the replay timer now learns the round trip (DataLink).
      assertEquals(0, DropWatch.dropped() - droppedBefore, "envelopes Artery dropped (DropWatch logs each as ERROR)");
    }
  }
}
