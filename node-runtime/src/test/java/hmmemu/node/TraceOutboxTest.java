package hmmemu.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.wire.WireCodec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TraceOutboxTest {
  static Stamped event(long n) {
    return new Stamped(1, new long[] {0, n}, new Trace.VmaChanged(1, n << 12, (n + 1) << 12, 3, hmmemu.protocol.model.VmaKind.ANON_PRIVATE, false));
  }

  static List<Stamped> events(long from, long to) {
    List<Stamped> out = new ArrayList<>();
    for (long n = from; n <= to; n++) out.add(event(n));
    return out;
  }

  @Test
  void pendingEventsAreBoundedDroppingTheOldestAndCountingThem() {
    TraceOutbox o = new TraceOutbox(3);
    assertEquals(0, o.hold(events(1, 2)));
    assertEquals(2, o.hold(events(3, 5)));
    assertEquals(3, o.pending());
    assertEquals(2, o.lost());
    List<Stamped> kept = o.takeAll();
    assertEquals(List.of(3L, 4L, 5L), kept.stream().map(Stamped::seq).toList(), "the newest are kept, in order");
    assertEquals(0, o.lost(), "reported with takeAll");
  }

  @Test
  void aLargeBatchIsSplitIntoFrameSizedBatchesInOrder() {
    List<Stamped> all = events(1, 2000);
    long total = WireCodec.encodeTrace(1, all).getSerializedSize();
    List<List<Stamped>> parts = TraceOutbox.split(all, 4096);
    assertTrue(parts.size() >= total / 4096, parts.size() + " parts for " + total + " bytes");
    List<Stamped> joined = new ArrayList<>();
    for (List<Stamped> p : parts) {
      assertTrue(WireCodec.encodeTrace(1, p).getSerializedSize() <= 4096 + 16, "a part of "
          + WireCodec.encodeTrace(1, p).getSerializedSize() + " bytes");
      joined.addAll(p);
    }
    assertEquals(all, joined);
  }
}
