package hmmemu.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.pb.Envelope;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Splitting a large reply into parts and gathering them back: in order, out of order, with a part missing. */
class ChunkCodecTest {
  static final long REQ = 0x4000_0000_0000_0007L;

  /** A DmirrorReply of {@code words} words of large values: about 10 bytes per word on the wire. */
  static Envelope largeReply(int words) {
    List<Long> data = new ArrayList<>(words);
    for (int i = 0; i < words; i++) data.add(0x7123_4567_89ab_0000L + i);
    return WireCodec.encode(new HmmProtocol.DmirrorReply(REQ, Errno.OK, 3, words, data), new long[] {1, 2, 3},
        "pekko://gpu/user/node");
  }

  @Test
  void aReplyLargerThanAFrameSplitsIntoPartsCarryingItsReqIdAndJoinsBack() {
    Envelope env = largeReply(30_000);
    assertTrue(env.getSerializedSize() > 256 * 1024, "larger than Artery's frame: " + env.getSerializedSize());
    List<Envelope> parts = ChunkCodec.split(env, 64 * 1024, "pekko://gpu/user/node", REQ);
    assertEquals((env.getSerializedSize() + 65535) / 65536, parts.size());
    for (Envelope p : parts) {
      assertTrue(p.getSerializedSize() < 65 * 1024, "each part fits a frame: " + p.getSerializedSize());
      assertEquals(REQ, ChunkCodec.reqIdOf(p));
    }
    ChunkCodec.Parts g = ChunkCodec.Parts.of(parts.get(0));
    for (Envelope p : parts) assertEquals(ChunkCodec.Parts.Added.NEW, g.add(p));
    assertTrue(g.complete());
    assertEquals(env, g.join());
    assertEquals(WireCodec.decode(env), WireCodec.decode(g.join()));
  }

  @Test
  void partsGatheredOutOfOrderWithDuplicatesJoinToTheSameEnvelope() {
    Envelope env = largeReply(20_000);
    List<Envelope> parts = new ArrayList<>(ChunkCodec.split(env, 16 * 1024, "", REQ));
    Collections.shuffle(parts, new Random(11));
    ChunkCodec.Parts g = ChunkCodec.Parts.of(parts.get(0));
    for (int i = 0; i < parts.size(); i++) {
      assertFalse(g.complete(), "complete before part " + i);
      assertEquals(ChunkCodec.Parts.Added.NEW, g.add(parts.get(i)));
      if (i == 2) assertEquals(ChunkCodec.Parts.Added.DUPLICATE, g.add(parts.get(1)));
    }
    assertEquals(parts.size(), g.received());
    assertEquals(env, g.join());
  }

  @Test
  void aMissingPartIsNamedAndTheMessageDoesNotJoin() {
    List<Envelope> parts = ChunkCodec.split(largeReply(20_000), 16 * 1024, "", REQ);
    int n = parts.size();
    ChunkCodec.Parts g = ChunkCodec.Parts.of(parts.get(0));
    for (int i = 0; i < n; i++) if (i != 2 && i != 5 && i != 6 && i != 7) g.add(parts.get(i));
    assertFalse(g.complete());
    assertEquals(List.of(2, 5, 6, 7), g.missing());
    assertEquals("parts 2, 5-7 of " + n + " missing (" + (n - 4) + " arrived)", g.describeMissing());
    IllegalStateException e = assertThrows(IllegalStateException.class, g::join);
    assertTrue(e.getMessage().contains("parts 2, 5-7"), e.getMessage());
    g.add(parts.get(2));
    assertEquals("parts 5-7 of " + n + " missing (" + (n - 3) + " arrived)", g.describeMissing());
  }

  @Test
  void aPartOfAnotherMessageIsRefused() {
    List<Envelope> a = ChunkCodec.split(largeReply(20_000), 16 * 1024, "", REQ);
    List<Envelope> b = ChunkCodec.split(largeReply(20_000), 32 * 1024, "", REQ);
    ChunkCodec.Parts g = ChunkCodec.Parts.of(a.get(0));
    assertThrows(IllegalArgumentException.class, () -> g.add(b.get(0)), "a count that does not match");
    assertThrows(IllegalArgumentException.class, () -> g.add(largeReply(1)), "not a chunk");
    assertEquals(0, g.received());
  }

  @Test
  void reqIdOfReadsEveryRequestAndReplyWithoutDecoding() {
    assertEquals(REQ, ChunkCodec.reqIdOf(largeReply(1)));
    assertEquals(42, ChunkCodec.reqIdOf(WireCodec.encode(new HmmProtocol.InspectDevice(42, 16), new long[0], "")));
    assertEquals(0, ChunkCodec.reqIdOf(ChunkCodec.split(largeReply(20_000), 16 * 1024, "").get(0)),
        "a data link chunk carries no reqId");
    assertEquals(-1, ChunkCodec.reqIdOf(Envelope.getDefaultInstance()));
  }
}
