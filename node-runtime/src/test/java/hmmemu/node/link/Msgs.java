package hmmemu.node.link;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;

/** Numbered envelopes for link tests: a DeviceMemoryAccessReply whose reqId is the message number. */
final class Msgs {
  private Msgs() {}

  static final Duration WAIT = Duration.ofSeconds(5);

  static Envelope env(long n) {
    return WireCodec.encode(new HmmProtocol.DeviceMemoryAccessReply(n, 0x5a5a), new long[] {1}, "");
  }

  static long id(Envelope e) { return ((HmmProtocol.DeviceMemoryAccessReply) WireCodec.decode(e)).reqId(); }

  static List<Long> receive(TestProbe<Envelope> probe, int count) {
    List<Long> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) out.add(id(probe.receiveMessage(WAIT)));
    return out;
  }
}
