package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.trace.TraceFields;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The checker's counts by field (FieldCounts) equal the TraceFields keys of every delivered event, merged. */
class FieldCountsTest {

  @Test
  void countsByFieldAreTheMergedTraceFieldsKeysOfEveryDeliveredEvent() {
    List<Trace.Event> events = List.of(
        new Trace.CpuFaulted(1, 7, 0x1000, "anon"),
        new Trace.CpuFaulted(1, 7, 0x2000, "anon"),
        new Trace.CpuFaulted(2, 7, 0x3000, null),
        new Trace.CpuFaulted(300, 7, 0x3000, "null"), // a String "null" and a null value share the key, as before
        new Trace.KernelWarning("copy_page_range", "!PageExclusive", 7, 0x4000),
        new Trace.DriverFaultHandled(70_000, 7, 0x5000, Access.ATOMIC, 100, Errno.EBUSY),
        new Trace.DriverFaultHandled(70_000, 7, 0x5000, Access.ATOMIC, 3, Errno.OK),
        new Trace.DriverFaultHandled(-5, 7, 0x6000, Access.READ, 3, Errno.OK),
        new Trace.DeviceAccessIssued(70_000, 7, 0x5000, 42, Access.WRITE),
        new Trace.InvalidateEnded(99, true),
        new Trace.InvalidateEnded(98, false));
    InvariantChecker checker = new InvariantChecker();
    checker.countByField(true);
    Map<String, Long> expected = new TreeMap<>();
    long seq = 0;
    for (Trace.Event e : events) {
      checker.offer(new Stamped(0, new long[] {++seq}, e));
      for (String k : TraceFields.keys(e)) expected.merge(k, 1L, Long::sum);
    }
    assertEquals(expected, checker.fieldCounts());
    assertEquals(2L, checker.fieldCounts().get("CpuFaulted.kind=null"));
    assertEquals(3L, checker.fieldCounts().get("DriverFaultHandled.mmId=7"));
    assertEquals(List.copyOf(expected.keySet()), List.copyOf(checker.fieldCounts().keySet()), "sorted as before");
  }

  @Test
  void countsOfNamedFieldsAreTheFullCountsOfTheirKeys() {
    List<Trace.Event> events = List.of(
        new Trace.CpuFaulted(1, 7, 0x1000, "anon"),
        new Trace.CpuFaulted(2, 7, 0x3000, null),
        new Trace.DriverFaultHandled(70_000, 7, 0x5000, Access.ATOMIC, 100, Errno.EBUSY),
        new Trace.DriverFaultHandled(-5, 7, 0x6000, Access.READ, 3, Errno.OK),
        new Trace.InvalidateEnded(99, true));
    InvariantChecker all = new InvariantChecker();
    all.countByField(true);
    InvariantChecker some = new InvariantChecker();
    some.countByField(java.util.Set.of("CpuFaulted.kind", "DriverFaultHandled.mmId"));
    long seq = 0;
    for (Trace.Event e : events) {
      seq++;
      all.offer(new Stamped(0, new long[] {seq}, e));
      some.offer(new Stamped(0, new long[] {seq}, e));
    }
    Map<String, Long> expected = new TreeMap<>();
    all.fieldCounts().forEach((k, v) -> {
      if (k.startsWith("CpuFaulted.kind=") || k.startsWith("DriverFaultHandled.mmId=")) expected.put(k, v);
    });
    assertEquals(Map.of("CpuFaulted.kind=anon", 1L, "CpuFaulted.kind=null", 1L, "DriverFaultHandled.mmId=7", 2L), expected);
    assertEquals(expected, some.fieldCounts());
    InvariantChecker none = new InvariantChecker();
    none.countByField(java.util.Set.of());
    none.offer(new Stamped(0, new long[] {1}, events.get(0)));
    assertEquals(Map.of(), none.fieldCounts());
  }

  @Test
  void noCountsByFieldUnlessAsked() {
    InvariantChecker checker = new InvariantChecker();
    checker.offer(new Stamped(0, new long[] {1}, new Trace.CpuFaulted(1, 7, 0x1000, "anon")));
    assertEquals(Map.of(), checker.fieldCounts());
  }
}
