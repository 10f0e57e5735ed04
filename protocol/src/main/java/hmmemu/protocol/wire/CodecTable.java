package hmmemu.protocol.wire;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The codecs of one sealed record family (HmmProtocol.Msg into an Envelope, Trace.Event into a TraceEvent): for each
 * record, its encoder (record -> builder of the container) and its decoder (container whose oneof case is the
 * record's -> record), registered together by the per-.proto codec classes so the two stay side by side.
 *
 * @param <T> the sealed record interface
 * @param <B> the container's builder (the encoder sets one oneof field on it)
 * @param <P> the container message (the decoder reads its oneof field)
 * @param <C> the container's oneof case enum
 */
final class CodecTable<T, B, P, C extends Enum<C>> {
  private final String what;
  private final Map<Class<?>, BiConsumer<?, B>> encoders = new HashMap<>();
  private final EnumMap<C, Function<P, ? extends T>> decoders;

  CodecTable(String what, Class<C> cases) {
    this.what = what;
    this.decoders = new EnumMap<>(cases);
  }

  /** Registers record {@code c}, carried in the container's oneof case {@code oneofCase}. */
  <R extends T> void add(Class<R> c, C oneofCase, BiConsumer<R, B> enc, Function<P, R> dec) {
    if (encoders.put(c, enc) != null) throw new IllegalStateException("duplicate encoder for " + c);
    if (decoders.put(oneofCase, dec) != null) throw new IllegalStateException("duplicate decoder for " + oneofCase);
  }

  /** Sets {@code value}'s oneof field on {@code b}; IllegalArgumentException when its class has no codec. */
  @SuppressWarnings("unchecked")
  void encode(T value, B b) {
    BiConsumer<T, B> enc = (BiConsumer<T, B>) encoders.get(value.getClass());
    if (enc == null) throw new IllegalArgumentException("WireCodec: no codec for " + what + " " + value.getClass().getName());
    enc.accept(value, b);
  }

  /** The record in {@code p}'s oneof case {@code oneofCase}, or null when that case has no decoder. */
  T decode(C oneofCase, P p) {
    Function<P, ? extends T> dec = decoders.get(oneofCase);
    return dec == null ? null : dec.apply(p);
  }

  boolean hasCodec(Class<?> c) { return encoders.containsKey(c); }
}
