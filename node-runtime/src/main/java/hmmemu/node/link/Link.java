package hmmemu.node.link;

import hmmemu.protocol.wire.pb.Envelope;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The one stage every CPU<->GPU protocol message passes through on its way out of a node. The plain link
 * hands the envelope to Artery (FIFO per pair); fault-injecting links (gates, delay, loss, partitions) wrap it.
 * Implementations must be thread-safe: one instance may serve several nodes of an embedded cluster.
 */
public interface Link {
  /** Sends {@code envelope} from node {@code fromNode} to node {@code toNode} (node indexes) through actor {@code to}. */
  void send(int fromNode, int toNode, ActorRef<Envelope> to, Envelope envelope);

  /**
   * The data-link-layer settings the node shells use on this link (sequence numbers, ACKs, replay;
   * docs/FAULTS.md). Wrappers delegate to the link they wrap.
   */
  default LinkReliability reliability() { return LinkReliability.DEFAULT; }

  /** Counts a data-link-layer event of direction from -> to (the sender's replays, the receiver's drops). */
  default void count(int fromNode, int toNode, LinkReliability.Event event, long n) {}

  /**
   * With the data link layer off: message {@code seq} of direction from -> to was not acknowledged within the
   * replay timeout, so it is reported lost ({@code what} names it). Links record it for the run's report.
   */
  default void lost(int fromNode, int toNode, long seq, String what) {}

  /**
   * Node {@code toNode} is about to step its core on {@code msg} (after the data link layer: once, in order; before
   * {@link #delivered}, so a reply the core sends in that step is seen after it). Only a stage
   * that needs what its node received implements it ({@link RemoteGate}: a pause point's event and kind filters);
   * the shell calls it on the outermost stage, so wrappers need not delegate.
   */
  default void received(int toNode, hmmemu.protocol.msg.HmmProtocol.Msg msg) {}

  /**
   * Node {@code node}'s core has just stepped on {@code msg} (a message of the link or a controller request, after
   * the data link layer delivered it; called on the node's actor thread). Scenario hosts watch it for a pause point's
   * {@code until} (docs/SCENARIOS.md "Holding a controller request"); links otherwise ignore it.
   */
  default void delivered(int node, hmmemu.protocol.msg.HmmProtocol.Msg msg) {}

  /** A link that delivers at once. */
  Link DIRECT = (fromNode, toNode, to, envelope) -> to.tell(envelope);
}
