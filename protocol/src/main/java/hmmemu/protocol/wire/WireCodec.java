package hmmemu.protocol.wire;

import com.google.protobuf.ProtocolMessageEnum;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.TraceBatch;
import hmmemu.protocol.wire.pb.TraceEvent;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Record <-> protobuf codec for the wire: the entry point. Every {@link HmmProtocol.Msg} travels as an
 * {@link Envelope} (vector clock, reply-to ActorRef string, one body); trace events travel as a {@link TraceBatch},
 * alone or as the body of an Envelope. Generated classes live in {@code hmmemu.protocol.wire.pb} and carry the
 * record names; the codecs refer to the records as {@code HmmProtocol.X} / {@code Trace.X} and to the model enums
 * by their full name to keep the two apart.
 *
 * <p>The work is done by one codec class per .proto file, each message's encoder next to its decoder:
 * {@link EnvelopeCodec} (header, body dispatch), {@link NotifierCodec}, {@link ExclusiveCodec}, {@link CpuCodec},
 * {@link DeviceCodec}, {@link ControlCodec}, {@link TraceCodec} and {@link ModelCodec} (enums).
 *
 * <p>Null handling: {@code String} fields are proto3 {@code optional} (null survives the round trip);
 * {@code ResetNode.switches} null is an absent message; {@code Syscall.vmaKind} null is VMA_KIND_UNSPECIFIED;
 * every other enum field must be non-null (encode throws IllegalArgumentException) and decode rejects
 * X_UNSPECIFIED / unrecognized values with IllegalArgumentException. A null list is encoded as empty;
 * decoded lists are unmodifiable. A null vc is encoded as empty; a null replyTo as "" (decoded back as null).
 *
 * <p>Thread-safe (stateless after class initialization).
 */
public final class WireCodec {
  private WireCodec() {}

  // ================================================================ public API: messages

  /** Wraps {@code msg} with the sender's vector clock (may be null = empty) and reply-to ref (may be null). */
  public static Envelope encode(HmmProtocol.Msg msg, long[] vc, String replyTo) {
    return EnvelopeCodec.encode(msg, vc, replyTo);
  }

  /**
   * The message an Envelope carries.
   *
   * @throws IllegalArgumentException when the envelope has no body, carries a TraceBatch (see {@link #isTrace}),
   *     or holds an UNSPECIFIED/unrecognized enum value or a missing required sub-message
   */
  public static HmmProtocol.Msg decode(Envelope env) { return EnvelopeCodec.decode(env); }

  /** The vector clock an Envelope carries (empty array when none). */
  public static long[] vc(Envelope env) { return EnvelopeCodec.vc(env); }

  /** The reply-to ActorRef string, or null when the envelope carries none. */
  public static String replyTo(Envelope env) { return EnvelopeCodec.replyTo(env); }

  /** The envelope's data-link sequence number (0 = not link-sequenced). */
  public static long linkSeq(Envelope env) { return env.getLinkSeq(); }

  /** True for a pure link ACK: no body, only {@code link_ack} (PCIe Ack DLLP); it carries no protocol message. */
  public static boolean isLinkAck(Envelope env) { return EnvelopeCodec.isLinkAck(env); }

  /** A pure link ACK: every sequence number up to {@code cumulative} was delivered; reply-to names the acker. */
  public static Envelope linkAck(long cumulative, String replyTo) { return EnvelopeCodec.linkAck(cumulative, replyTo); }

  // ================================================================ public API: trace

  /** True when the Envelope's body is a TraceBatch (decode it with {@link #decodeTrace(Envelope)}). */
  public static boolean isTrace(Envelope env) { return EnvelopeCodec.isTrace(env); }

  /** A batch of stamped events from node {@code node}, in list order. */
  public static TraceBatch encodeTrace(int node, List<hmmemu.protocol.trace.Stamped> events) {
    return TraceCodec.encodeTrace(node, events);
  }

  /** The stamped events of a batch, in wire order (an unmodifiable list). */
  public static List<hmmemu.protocol.trace.Stamped> decodeTrace(TraceBatch batch) {
    return TraceCodec.decodeTrace(batch);
  }

  /** An Envelope whose body is a TraceBatch (no reply-to). */
  public static Envelope encodeTraceEnvelope(int node, List<hmmemu.protocol.trace.Stamped> events, long[] vc) {
    return EnvelopeCodec.encodeTraceEnvelope(node, events, vc);
  }

  /** The stamped events of an Envelope built by {@link #encodeTraceEnvelope}; IllegalArgumentException otherwise. */
  public static List<hmmemu.protocol.trace.Stamped> decodeTrace(Envelope env) { return EnvelopeCodec.decodeTrace(env); }

  /** One stamped trace event. */
  public static hmmemu.protocol.wire.pb.Stamped encodeStamped(hmmemu.protocol.trace.Stamped s) {
    return TraceCodec.encodeStamped(s);
  }

  /** The stamped trace event of {@code p}; IllegalArgumentException when it has no event. */
  public static hmmemu.protocol.trace.Stamped decodeStamped(hmmemu.protocol.wire.pb.Stamped p) {
    return TraceCodec.decodeStamped(p);
  }

  /** One trace event (unstamped). */
  public static TraceEvent encodeEvent(Trace.Event e) { return TraceCodec.encodeEvent(e); }

  /** The trace event of {@code t}; IllegalArgumentException when it has none or an unknown one. */
  public static Trace.Event decodeEvent(TraceEvent t) { return TraceCodec.decodeEvent(t); }

  // ================================================================ completeness (for tests)

  /** Records of the sealed Msg / Trace.Event interfaces that have no codec (empty when complete). */
  public static Set<Class<?>> classesWithoutCodec() {
    Set<Class<?>> missing = new LinkedHashSet<>();
    for (Class<?> c : HmmProtocol.Msg.class.getPermittedSubclasses()) {
      if (!EnvelopeCodec.MSGS.hasCodec(c)) missing.add(c);
    }
    for (Class<?> c : Trace.Event.class.getPermittedSubclasses()) {
      if (!TraceCodec.EVENTS.hasCodec(c)) missing.add(c);
    }
    return missing;
  }

  /** Every enum codec, for tests. */
  static List<EnumCodec<?, ?>> enumCodecs() { return ModelCodec.all(); }

  /** Two of {@link ModelCodec}'s enum codecs under their historical names (WireCodecTest reads them here). */
  static final EnumCodec<hmmemu.protocol.model.NotifyEvent, hmmemu.protocol.wire.pb.NotifyEvent> NOTIFY_EVENT =
      ModelCodec.NOTIFY_EVENT;
  static final EnumCodec<hmmemu.protocol.model.VmaKind, hmmemu.protocol.wire.pb.VmaKind> VMA_KIND =
      ModelCodec.VMA_KIND;

  /** A null list as empty (encoders). */
  static <T> List<T> list(List<T> l) {
    return l == null ? List.of() : l;
  }

  // ================================================================ enums

  /**
   * A bijection between a Java enum and its proto twin, by name: Java constant C <-> PREFIX_C, where PREFIX is the
   * proto enum's UNSPECIFIED value minus "_UNSPECIFIED". Built eagerly; a constant missing on either side fails
   * class initialization (and with it every test). The instances live in {@link ModelCodec}.
   */
  static final class EnumCodec<J extends Enum<J>, P extends Enum<P> & ProtocolMessageEnum> {
    final Class<J> javaType;
    final Class<P> protoType;
    final P unspecified;
    private final EnumMap<J, P> toPb;
    private final EnumMap<P, J> toJava;

    EnumCodec(Class<J> javaType, Class<P> protoType) {
      this.javaType = javaType;
      this.protoType = protoType;
      P zero = null;
      for (P p : protoType.getEnumConstants()) {
        if (p.name().endsWith("_UNSPECIFIED") && p.getNumber() == 0) zero = p;
      }
      if (zero == null) throw new IllegalStateException(protoType.getName() + " has no X_UNSPECIFIED = 0");
      this.unspecified = zero;
      String prefix = zero.name().substring(0, zero.name().length() - "UNSPECIFIED".length());
      toPb = new EnumMap<>(javaType);
      toJava = new EnumMap<>(protoType);
      for (J j : javaType.getEnumConstants()) {
        P p = Enum.valueOf(protoType, prefix + j.name());
        toPb.put(j, p);
        toJava.put(p, j);
      }
      for (P p : protoType.getEnumConstants()) {
        if (p != zero && !p.name().equals("UNRECOGNIZED") && !toJava.containsKey(p)) {
          throw new IllegalStateException(protoType.getName() + "." + p + " has no Java twin in " + javaType.getName());
        }
      }
    }

    P enc(J j, String field) {
      if (j == null) throw new IllegalArgumentException("WireCodec: " + field + " is null");
      return toPb.get(j);
    }

    P encNullable(J j) {
      return j == null ? unspecified : toPb.get(j);
    }

    J dec(P p, String field) {
      J j = toJava.get(p);
      if (j == null) {
        throw new IllegalArgumentException("WireCodec: " + field + " is " + p + " (" + protoType.getSimpleName()
            + " must be set to a known value)");
      }
      return j;
    }

    J decNullable(P p, String field) {
      return p == unspecified ? null : dec(p, field);
    }
  }
}
