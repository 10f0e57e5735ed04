package hmmemu.protocol.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.LinkChunk;
import java.util.ArrayList;
import java.util.List;

/**
 * Chunk frames (chunk.proto): an encoded {@link Envelope} larger than one frame split into pieces, and joined back.
 * The data link layer of the node shells sequences the pieces like any frame; a node's reply to the controller
 * larger than a frame is split the same way, each piece carrying the request's reqId, and the controller gathers
 * the pieces with {@link Parts}. This class only cuts, collects and glues bytes.
 */
public final class ChunkCodec {
  private ChunkCodec() {}

  /** True when {@code env} is one chunk of a larger message. */
  public static boolean isChunk(Envelope env) { return env.getBodyCase() == Envelope.BodyCase.LINK_CHUNK; }

  /**
   * Splits {@code env} into chunk frames of at most {@code chunkBytes} bytes of its encoding each (at least two
   * chunks; the caller splits only an envelope larger than {@code chunkBytes}). Each chunk frame carries
   * {@code replyTo} (the sender) and no link fields.
   */
  public static List<Envelope> split(Envelope env, int chunkBytes, String replyTo) {
    return split(env, chunkBytes, replyTo, 0);
  }

  /**
   * As {@link #split(Envelope, int, String)}, each chunk also carrying {@code reqId}: the controller's request the
   * split reply answers (0 on the data link).
   */
  public static List<Envelope> split(Envelope env, int chunkBytes, String replyTo, long reqId) {
    if (chunkBytes <= 0) throw new IllegalArgumentException("chunk size must be > 0, got " + chunkBytes);
    ByteString bytes = env.toByteString();
    int count = (bytes.size() + chunkBytes - 1) / chunkBytes;
    if (count < 2) throw new IllegalArgumentException("an envelope of " + bytes.size() + " bytes needs no chunks");
    List<Envelope> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int from = i * chunkBytes;
      ByteString piece = bytes.substring(from, Math.min(bytes.size(), from + chunkBytes));
      out.add(Envelope.newBuilder().setReplyTo(replyTo == null ? "" : replyTo)
          .setLinkChunk(LinkChunk.newBuilder().setIndex(i).setCount(count).setData(piece).setReqId(reqId)).build());
    }
    return out;
  }

  /**
   * Joins the chunks of one message, in index order, back into the envelope that was split.
   *
   * @throws IllegalArgumentException when the pieces are not chunks 0..count-1 of one message or do not decode
   */
  public static Envelope join(List<Envelope> chunks) {
    ByteString all = ByteString.EMPTY;
    for (int i = 0; i < chunks.size(); i++) {
      Envelope c = chunks.get(i);
      if (!isChunk(c) || c.getLinkChunk().getIndex() != i || c.getLinkChunk().getCount() != chunks.size()) {
        throw new IllegalArgumentException("chunk " + i + " of " + chunks.size() + " is "
            + (isChunk(c) ? c.getLinkChunk().getIndex() + "/" + c.getLinkChunk().getCount() : c.getBodyCase()));
      }
      all = all.concat(c.getLinkChunk().getData());
    }
    try {
      return Envelope.parseFrom(all);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("chunks of " + chunks.size() + " do not decode: " + e.getMessage(), e);
    }
  }

  /**
   * The reqId an envelope answers without decoding it into a record: a chunk's {@code req_id}, or the
   * {@code req_id} of the body (every request and reply message has one, field 1); -1 when there is none.
   */
  public static long reqIdOf(Envelope env) {
    if (isChunk(env)) return env.getLinkChunk().getReqId();
    FieldDescriptor body = env.getOneofFieldDescriptor(Envelope.getDescriptor().getOneofs().get(0));
    if (body == null || body.getJavaType() != FieldDescriptor.JavaType.MESSAGE) return -1;
    Message m = (Message) env.getField(body);
    FieldDescriptor req = m.getDescriptorForType().findFieldByName("req_id");
    return req == null || req.getJavaType() != FieldDescriptor.JavaType.LONG ? -1 : (Long) m.getField(req);
  }

  /**
   * The chunks of one message gathered in any order: each index is kept once, the message joins when every index
   * 0..count-1 arrived, and what is still missing can be named. Not thread-safe.
   */
  public static final class Parts {
    /** What {@link #add} did with a chunk. */
    public enum Added { NEW, DUPLICATE }

    private final Envelope[] parts;
    private int received;

    /** Parts of a message split into {@code count} chunks ({@code count} >= 1). */
    public Parts(int count) {
      if (count < 1) throw new IllegalArgumentException("a chunked message has at least one part, got " + count);
      this.parts = new Envelope[count];
    }

    /** Parts of the message {@code chunk} is one chunk of (its count). */
    public static Parts of(Envelope chunk) {
      if (!isChunk(chunk)) throw new IllegalArgumentException("not a chunk: " + chunk.getBodyCase());
      return new Parts(chunk.getLinkChunk().getCount());
    }

    /**
     * Keeps {@code chunk} at its index.
     *
     * @throws IllegalArgumentException when it is not a chunk, or its count or index does not fit this message
     */
    public Added add(Envelope chunk) {
      if (!isChunk(chunk)) throw new IllegalArgumentException("not a chunk: " + chunk.getBodyCase());
      int index = chunk.getLinkChunk().getIndex();
      int count = chunk.getLinkChunk().getCount();
      if (count != parts.length || index < 0 || index >= count) {
        throw new IllegalArgumentException("chunk " + index + "/" + count + " does not belong to a message of "
            + parts.length + " parts");
      }
      if (parts[index] != null) return Added.DUPLICATE;
      parts[index] = chunk;
      received++;
      return Added.NEW;
    }

    public int count() { return parts.length; }

    public int received() { return received; }

    public boolean complete() { return received == parts.length; }

    /** The indices not received yet, ascending. */
    public List<Integer> missing() {
      List<Integer> out = new ArrayList<>();
      for (int i = 0; i < parts.length; i++) if (parts[i] == null) out.add(i);
      return out;
    }

    /** "parts 3, 5-9 of 25 missing (19 arrived)": the missing indices as ranges. */
    public String describeMissing() {
      StringBuilder b = new StringBuilder();
      List<Integer> m = missing();
      for (int i = 0; i < m.size(); ) {
        int j = i;
        while (j + 1 < m.size() && m.get(j + 1) == m.get(j) + 1) j++;
        if (b.length() > 0) b.append(", ");
        b.append(m.get(i));
        if (j > i) b.append('-').append(m.get(j));
        i = j + 1;
      }
      return (m.size() == 1 ? "part " : "parts ") + b + " of " + parts.length + " missing (" + received + " arrived)";
    }

    /**
     * The envelope that was split.
     *
     * @throws IllegalStateException when a part is missing
     * @throws IllegalArgumentException when the parts do not decode
     */
    public Envelope join() {
      if (!complete()) throw new IllegalStateException(describeMissing());
      return ChunkCodec.join(List.of(parts));
    }
  }
}
