package hmmemu.protocol.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.LinkChunk;
import java.util.ArrayList;
import java.util.List;

/**
 * Chunk frames (chunk.proto): an encoded {@link Envelope} larger than one frame split into pieces, and joined back.
 * The data link layer of the node shells sequences the pieces like any frame; this class only cuts and glues bytes.
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
    if (chunkBytes <= 0) throw new IllegalArgumentException("chunk size must be > 0, got " + chunkBytes);
    ByteString bytes = env.toByteString();
    int count = (bytes.size() + chunkBytes - 1) / chunkBytes;
    if (count < 2) throw new IllegalArgumentException("an envelope of " + bytes.size() + " bytes needs no chunks");
    List<Envelope> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int from = i * chunkBytes;
      ByteString piece = bytes.substring(from, Math.min(bytes.size(), from + chunkBytes));
      out.add(Envelope.newBuilder().setReplyTo(replyTo == null ? "" : replyTo)
          .setLinkChunk(LinkChunk.newBuilder().setIndex(i).setCount(count).setData(piece)).build());
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
}
