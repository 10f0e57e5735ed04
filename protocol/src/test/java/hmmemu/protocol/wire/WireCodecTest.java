package hmmemu.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.Descriptors;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.wire.pb.DeviceEntry;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.InvalidateStart;
import hmmemu.protocol.wire.pb.TraceBatch;
import hmmemu.protocol.wire.pb.TraceEvent;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class WireCodecTest {

  static final long[] VC = {3, 0, 17, Long.MAX_VALUE};
  static final String REPLY_TO = "pekko://hmm@127.0.0.1:25520/user/gpu-1#-12345";

  static Stream<HmmProtocol.Msg> messages() { return Samples.messages().values().stream(); }

  static Stream<Trace.Event> events() { return Samples.events().values().stream(); }

  // ------------------------------------------------------------------ round trips

  @ParameterizedTest(name = "{0}")
  @MethodSource("messages")
  void messageRoundTripsThroughBytes(HmmProtocol.Msg msg) throws Exception {
    byte[] bytes = WireCodec.encode(msg, VC, REPLY_TO).toByteArray();
    Envelope env = Envelope.parseFrom(bytes);
    assertFalse(WireCodec.isTrace(env));
    assertEquals(msg, WireCodec.decode(env));
    assertArrayEquals(VC, WireCodec.vc(env));
    assertEquals(REPLY_TO, WireCodec.replyTo(env));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("events")
  void traceEventRoundTripsThroughBytes(Trace.Event event) throws Exception {
    Stamped s = new Stamped(2, new long[] {5, 0, 42, 1}, event);
    byte[] bytes = WireCodec.encodeTraceEnvelope(2, List.of(s), VC).toByteArray();
    Envelope env = Envelope.parseFrom(bytes);
    assertTrue(WireCodec.isTrace(env));
    assertArrayEquals(VC, WireCodec.vc(env));
    assertNull(WireCodec.replyTo(env));
    assertEquals(2, env.getTraceBatch().getNode());
    List<Stamped> back = WireCodec.decodeTrace(env);
    assertEquals(1, back.size());
    assertEquals(event, back.get(0).event());
    assertEquals(s.node(), back.get(0).node());
    assertArrayEquals(s.vc(), back.get(0).vc());
    assertEquals(42, back.get(0).seq());
  }

  @Test
  void traceBatchKeepsOrderAndStampsOfEveryEvent() throws Exception {
    List<Stamped> in = new ArrayList<>();
    long n = 0;
    for (Trace.Event e : Samples.events().values()) {
      n++;
      in.add(new Stamped(1, new long[] {n * 2, n}, e));
    }
    TraceBatch batch = TraceBatch.parseFrom(WireCodec.encodeTrace(1, in).toByteArray());
    assertEquals(1, batch.getNode());
    List<Stamped> out = WireCodec.decodeTrace(batch);
    assertEquals(in.size(), out.size());
    for (int i = 0; i < in.size(); i++) {
      assertEquals(in.get(i).node(), out.get(i).node());
      assertArrayEquals(in.get(i).vc(), out.get(i).vc());
      assertEquals(in.get(i).event(), out.get(i).event());
    }
    assertTrue(WireCodec.decodeTrace(WireCodec.encodeTrace(0, List.of())).isEmpty());
  }

  @Test
  void emptyHeaderAndNullHandling() throws Exception {
    HmmProtocol.Msg msg = new HmmProtocol.NotifierRemove(1);
    Envelope env = Envelope.parseFrom(WireCodec.encode(msg, null, null).toByteArray());
    assertEquals(0, WireCodec.vc(env).length);
    assertNull(WireCodec.replyTo(env));
    assertEquals(msg, WireCodec.decode(env));

    // nullable fields survive as null
    List<HmmProtocol.Msg> nullable = List.of(
        new HmmProtocol.Syscall(1, 2, HmmProtocol.SyscallKind.MUNMAP, 0x1000, 0x2000, 0, null, 0),
        new HmmProtocol.ResetNode(3, null, null),
        new HmmProtocol.ResetNode(4, "", ModelSwitches.kernel()));
    for (HmmProtocol.Msg m : nullable) {
      assertEquals(m, WireCodec.decode(Envelope.parseFrom(WireCodec.encode(m, VC, null).toByteArray())));
    }
    List<Trace.Event> nullableEvents = List.of(
        new Trace.PteChanged(1, 2, hmmemu.protocol.model.PteState.NONE, 0, false, false, false, null),
        new Trace.PteChanged(1, 2, hmmemu.protocol.model.PteState.NONE, 0, false, false, false, ""),
        new Trace.CpuFaulted(1, 2, 3, null),
        new Trace.DriverBound(1, 2, 3, null));
    for (Trace.Event e : nullableEvents) {
      assertEquals(e, WireCodec.decodeEvent(TraceEvent.parseFrom(WireCodec.encodeEvent(e).toByteArray())));
    }
    // null lists go out as empty lists
    HmmProtocol.Msg nullList = new HmmProtocol.HmmRangeFaultReply(5, Errno.OK, null);
    assertEquals(new HmmProtocol.HmmRangeFaultReply(5, Errno.OK, List.of()),
        WireCodec.decode(WireCodec.encode(nullList, VC, null)));
  }

  /** A CpuThreadRun from a sender that sets no rounds (0 on the wire) is one round; a one-round run round-trips. */
  @Test
  void cpuThreadRunWithoutRoundsIsOneRound() throws Exception {
    HmmProtocol.CpuThreadRun one = new HmmProtocol.CpuThreadRun(7, 1, 1, List.of(0x1000L),
        hmmemu.protocol.model.Access.READ, 0, false);
    assertEquals(1, one.rounds());
    assertEquals(0, one.forMicros());
    assertEquals(one, WireCodec.decode(WireCodec.encode(one, VC, null)));
    Envelope env = WireCodec.encode(one, VC, null);
    Envelope noRounds = env.toBuilder().setCpuThreadRun(env.getCpuThreadRun().toBuilder().clearRounds()).build();
    assertEquals(one, WireCodec.decode(noRounds));
    assertThrows(IllegalArgumentException.class, () -> new HmmProtocol.CpuThreadRun(7, 1, 1, List.of(0x1000L),
        hmmemu.protocol.model.Access.READ, 0, false, 0, 0, 0));
  }

  @Test
  void everyJavaEnumConstantRoundTrips() {
    for (WireCodec.EnumCodec<?, ?> c : WireCodec.enumCodecs()) checkEnum(c);
  }

  private static <J extends Enum<J>, P extends Enum<P> & com.google.protobuf.ProtocolMessageEnum> void checkEnum(
      WireCodec.EnumCodec<J, P> c) {
    // UNSPECIFIED plus UNRECOGNIZED plus one per Java constant
    assertEquals(c.javaType.getEnumConstants().length + 2, c.protoType.getEnumConstants().length,
        c.protoType.getSimpleName());
    for (J j : c.javaType.getEnumConstants()) {
      P p = c.enc(j, "test");
      assertNotEquals(0, p.getNumber(), p.toString());
      assertTrue(p.name().endsWith("_" + j.name()), p + " vs " + j);
      assertEquals(j, c.dec(p, "test"));
    }
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> c.dec(c.unspecified, "X.y"));
    assertTrue(ex.getMessage().contains("X.y") && ex.getMessage().contains("UNSPECIFIED"), ex.getMessage());
    P unrecognized = Enum.valueOf(c.protoType, "UNRECOGNIZED");
    assertThrows(IllegalArgumentException.class, () -> c.dec(unrecognized, "X.y"));
  }

  // ------------------------------------------------------------------ errors

  @Test
  void emptyEnvelopeIsRejectedWithAClearMessage() throws Exception {
    Envelope empty = Envelope.parseFrom(new byte[0]);
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> WireCodec.decode(empty));
    assertTrue(ex.getMessage().contains("no body"), ex.getMessage());
    assertFalse(ex.getMessage().contains("\n"));
    Envelope vcOnly = Envelope.newBuilder().addVc(1).setReplyTo("x").build();
    assertThrows(IllegalArgumentException.class, () -> WireCodec.decode(vcOnly));
  }

  @Test
  void unspecifiedEnumIsRejectedWithTheFieldName() {
    Envelope env = Envelope.newBuilder().setInvalidateStart(InvalidateStart.newBuilder().setInvId(1)).build();
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> WireCodec.decode(env));
    assertTrue(ex.getMessage().contains("InvalidateStart.event"), ex.getMessage());
    assertTrue(ex.getMessage().contains("NOTIFY_EVENT_UNSPECIFIED"), ex.getMessage());
    // an unknown number (a newer peer's value) is rejected too
    Envelope unknown = Envelope.newBuilder()
        .setInvalidateStart(InvalidateStart.newBuilder().setInvId(1).setEventValue(99)).build();
    assertThrows(IllegalArgumentException.class, () -> WireCodec.decode(unknown));
  }

  @Test
  void nullRequiredEnumIsRejectedOnEncode() {
    HmmProtocol.Msg bad = new HmmProtocol.InvalidateStart(1, 2, 3, 4, 5, null, 6, true, 7);
    IllegalArgumentException ex =
        assertThrows(IllegalArgumentException.class, () -> WireCodec.encode(bad, VC, null));
    assertTrue(ex.getMessage().contains("InvalidateStart.event"), ex.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> WireCodec.encodeEvent(new Trace.DriverFaultHandled(1, 2, 3, null, 4, Errno.OK)));
  }

  @Test
  void traceAndMessageBodiesAreNotConfused() {
    Envelope trace = WireCodec.encodeTraceEnvelope(0, List.of(), VC);
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> WireCodec.decode(trace));
    assertTrue(ex.getMessage().contains("TraceBatch"), ex.getMessage());
    Envelope msg = WireCodec.encode(new HmmProtocol.NotifierRemove(1), VC, null);
    assertThrows(IllegalArgumentException.class, () -> WireCodec.decodeTrace(msg));
    assertThrows(IllegalArgumentException.class, () -> WireCodec.decodeEvent(TraceEvent.getDefaultInstance()));
    assertThrows(IllegalArgumentException.class,
        () -> WireCodec.decodeStamped(hmmemu.protocol.wire.pb.Stamped.newBuilder().setNode(1).build()));
  }

  // ------------------------------------------------------------------ completeness

  @Test
  void everyMessageRecordHasASampleAndACodec() {
    assertCovered(HmmProtocol.Msg.class.getPermittedSubclasses(), Samples.messages());
  }

  @Test
  void everyTraceEventRecordHasASampleAndACodec() {
    assertCovered(Trace.Event.class.getPermittedSubclasses(), Samples.events());
  }

  @Test
  void codecHasAnEncoderForEveryPermittedSubclass() {
    assertEquals(Set.of(), WireCodec.classesWithoutCodec());
  }

  private static void assertCovered(Class<?>[] permitted, Map<Class<?>, ?> samples) {
    List<String> missing = new ArrayList<>();
    for (Class<?> c : permitted) {
      if (!samples.containsKey(c)) missing.add(c.getSimpleName());
    }
    if (!missing.isEmpty()) fail("records without a sample in Samples (add one and a codec in WireCodec): " + missing);
    assertEquals(permitted.length, samples.size());
  }

  /** Samples must exercise every field: a default value would hide a field the codec forgot. */
  @Test
  void everySampleFieldIsNonDefault() throws Exception {
    List<Object> all = new ArrayList<>(Samples.messages().values());
    all.addAll(Samples.events().values());
    for (Object r : all) assertNonDefault(r, r.getClass().getSimpleName());
  }

  private static void assertNonDefault(Object r, String where) throws Exception {
    for (RecordComponent rc : r.getClass().getRecordComponents()) {
      Object v = rc.getAccessor().invoke(r);
      String at = where + "." + rc.getName();
      if (v == null) fail(at + " is null");
      if (v instanceof Number && ((Number) v).longValue() == 0) fail(at + " is 0");
      if (Boolean.FALSE.equals(v)) fail(at + " is false");
      if (v instanceof String && ((String) v).isEmpty()) fail(at + " is empty");
      if (v instanceof Collection && ((Collection<?>) v).isEmpty()) fail(at + " is empty");
      // any enum constant is fine: Java constants map to proto values >= 1, so none is the wire default
      if (v instanceof Record) assertNonDefault(v, at);
      if (v instanceof Collection) {
        for (Object o : (Collection<?>) v) if (o instanceof Record) assertNonDefault(o, at + "[]");
      }
    }
  }

  // ------------------------------------------------------------------ schema mirrors the records

  @Test
  void envelopeOneofHasOneFieldPerMessageRecordPlusTraceBatch() {
    checkOneof(Envelope.getDescriptor().getOneofs().get(0), HmmProtocol.Msg.class.getPermittedSubclasses(),
        Set.of("trace_batch", "link_chunk"));
  }

  @Test
  void traceEventOneofHasOneFieldPerEventRecord() {
    checkOneof(TraceEvent.getDescriptor().getOneofs().get(0), Trace.Event.class.getPermittedSubclasses(), Set.of());
  }

  private static void checkOneof(Descriptors.OneofDescriptor oneof, Class<?>[] records, Set<String> extra) {
    Set<String> expected = new TreeSet<>(extra);
    for (Class<?> c : records) expected.add(snake(c.getSimpleName()));
    Set<String> actual = oneof.getFields().stream().map(Descriptors.FieldDescriptor::getName)
        .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(expected, actual, oneof.getFullName());
    for (Class<?> c : records) {
      Descriptors.FieldDescriptor f = oneof.getContainingType().findFieldByName(snake(c.getSimpleName()));
      assertEquals(c.getSimpleName(), f.getMessageType().getName(), f.getFullName());
      checkFields(c, f.getMessageType());
    }
  }

  @Test
  void nestedValueMessagesMirrorTheirRecords() {
    checkFields(HmmProtocol.DeviceEntry.class, DeviceEntry.getDescriptor());
    checkFields(ModelSwitches.class, hmmemu.protocol.wire.pb.ModelSwitches.getDescriptor());
    checkFields(Stamped.class, hmmemu.protocol.wire.pb.Stamped.getDescriptor());
  }

  /** The proto message has exactly the record's components, in lower_snake_case, repeated for lists. */
  private static void checkFields(Class<?> record, Descriptors.Descriptor d) {
    Set<String> expected = Arrays.stream(record.getRecordComponents()).map(rc -> snake(rc.getName()))
        .collect(Collectors.toCollection(TreeSet::new));
    Set<String> actual = d.getFields().stream().map(Descriptors.FieldDescriptor::getName)
        .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(expected, actual, "fields of " + d.getFullName() + " vs record " + record.getName());
    for (RecordComponent rc : record.getRecordComponents()) {
      Descriptors.FieldDescriptor f = d.findFieldByName(snake(rc.getName()));
      boolean many = List.class.isAssignableFrom(rc.getType()) || rc.getType().isArray();
      assertEquals(many, f.isRepeated(), f.getFullName());
    }
  }

  static String snake(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
  }

  @Test
  void snakeCaseHelper() {
    assertEquals("make_device_exclusive_reply", snake("MakeDeviceExclusiveReply"));
    assertEquals("word0", snake("word0"));
    assertEquals("hmm_pfns", snake("hmmPfns"));
    assertEquals(NotifyEvent.values().length, WireCodec.NOTIFY_EVENT.javaType.getEnumConstants().length);
    assertEquals(VmaKind.class, WireCodec.VMA_KIND.javaType);
  }
}
