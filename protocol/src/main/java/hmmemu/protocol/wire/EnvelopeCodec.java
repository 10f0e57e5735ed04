package hmmemu.protocol.wire;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.Envelope.BodyCase;
import java.util.List;
import java.util.Objects;

/**
 * Codec of envelope.proto: the header (vector clock, reply-to, data-link sequence numbers) and the dispatch of the
 * {@code body} oneof to the codec of the .proto file that defines each body (notifier, exclusive, cpu, device,
 * control; trace for a TraceBatch).
 */
final class EnvelopeCodec {
  private EnvelopeCodec() {}

  /** Every HmmProtocol.Msg record with its Envelope body case, filled by the per-.proto codecs. */
  static final CodecTable<HmmProtocol.Msg, Envelope.Builder, Envelope, BodyCase> MSGS =
      new CodecTable<>("message", BodyCase.class);

  static {
    NotifierCodec.register(MSGS);
    ExclusiveCodec.register(MSGS);
    CpuCodec.register(MSGS);
    DeviceCodec.register(MSGS);
    ControlCodec.register(MSGS);
    MigrateCodec.register(MSGS);
  }

  static Envelope encode(HmmProtocol.Msg msg, long[] vc, String replyTo) {
    Objects.requireNonNull(msg, "msg");
    Envelope.Builder b = header(vc, replyTo);
    MSGS.encode(msg, b);
    return b.build();
  }

  static HmmProtocol.Msg decode(Envelope env) {
    Objects.requireNonNull(env, "env");
    switch (env.getBodyCase()) {
      case TRACE_BATCH:
        throw new IllegalArgumentException(
            "WireCodec: Envelope carries a TraceBatch, not a message (check isTrace, then decodeTrace)");
      case BODY_NOT_SET:
        throw new IllegalArgumentException("WireCodec: Envelope has no body (empty or from an unknown newer schema)");
      default:
        HmmProtocol.Msg m = MSGS.decode(env.getBodyCase(), env);
        if (m == null) throw new IllegalArgumentException("WireCodec: no decoder for Envelope body " + env.getBodyCase());
        return m;
    }
  }

  static Envelope.Builder header(long[] vc, String replyTo) {
    Envelope.Builder b = Envelope.newBuilder();
    if (vc != null) for (long x : vc) b.addVc(x);
    if (replyTo != null) b.setReplyTo(replyTo);
    return b;
  }

  static long[] vc(Envelope env) {
    long[] v = new long[env.getVcCount()];
    for (int i = 0; i < v.length; i++) v[i] = env.getVc(i);
    return v;
  }

  static String replyTo(Envelope env) {
    String s = env.getReplyTo();
    return s.isEmpty() ? null : s;
  }

  static boolean isLinkAck(Envelope env) {
    return env.getBodyCase() == BodyCase.BODY_NOT_SET && env.getLinkAck() != 0;
  }

  static Envelope linkAck(long cumulative, String replyTo) {
    return header(null, replyTo).setLinkAck(cumulative).build();
  }

  static boolean isTrace(Envelope env) {
    return env.getBodyCase() == BodyCase.TRACE_BATCH;
  }

  static Envelope encodeTraceEnvelope(int node, List<hmmemu.protocol.trace.Stamped> events, long[] vc) {
    return header(vc, null).setTraceBatch(TraceCodec.encodeTrace(node, events)).build();
  }

  static List<hmmemu.protocol.trace.Stamped> decodeTrace(Envelope env) {
    if (!isTrace(env)) {
      throw new IllegalArgumentException("WireCodec: Envelope carries " + env.getBodyCase() + ", not a TraceBatch");
    }
    return TraceCodec.decodeTrace(env.getTraceBatch());
  }
}
