/**
 * The wire: record <-> protobuf codecs. {@link hmmemu.protocol.wire.WireCodec} is the only public entry point;
 * behind it one package-private codec class per .proto file of protocol/src/main/protobuf (EnvelopeCodec,
 * NotifierCodec, ExclusiveCodec, CpuCodec, DeviceCodec, ControlCodec, TraceCodec, ModelCodec), each registering
 * every message's encoder next to its decoder in a {@code CodecTable}. The generated classes live in
 * {@code hmmemu.protocol.wire.pb}.
 *
 * <p>May import: hmmemu.protocol.{model,msg,trace}, hmmemu.protocol.wire.pb and com.google.protobuf. Nothing here
 * is imported by core code (cpu/gpu cores, checker); only the actor shells and the controller use WireCodec.
 */
package hmmemu.protocol.wire;
