package hmmemu.node.link;

import hmmemu.protocol.wire.pb.Envelope;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Tells a link stage's first sight of a sequenced message from a data-link replay of it (same sender, receiver
 * and sequence number), so that observers and gates act once per message. Senders hand a direction's messages to
 * the link in sequence order, so a sequence number not above the highest seen is a replay. With lanes
 * ({@link Lanes}) sequence numbers are per (direction, lane), so the lane is part of the key. Thread-safe.
 */
public final class ReplayFilter {
  private record Key(int fromNode, ActorRef<Envelope> to, long lane) {}

  private final Map<Key, Long> highest = new HashMap<>();

  /** True unless {@code envelope} is sequenced and its sequence number was already seen on (fromNode, to, lane). */
  public synchronized boolean first(int fromNode, ActorRef<Envelope> to, Envelope envelope) {
    long seq = envelope.getLinkSeq();
    if (seq == 0) return true;
    Key k = new Key(fromNode, to, envelope.getLinkLane());
    Long h = highest.get(k);
    if (h != null && seq <= h) return false;
    highest.put(k, seq);
    return true;
  }
}
