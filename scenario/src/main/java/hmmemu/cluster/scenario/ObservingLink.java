package hmmemu.cluster.scenario;

import hmmemu.node.link.ForwardingLink;
import hmmemu.node.link.Link;
import hmmemu.node.link.ReplayFilter;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A link stage that watches, without changing, every CPU<->GPU message as it is handed to the wire and offers the
 * first copy of each to an {@link InvalidateObserver} (subscription kinds, invalidate callbacks per device, kind and
 * event, hmm_range_fault answers). Placed inside the pause gates, it sees a held message only once it is delivered.
 */
final class ObservingLink extends ForwardingLink {
  private final InvalidateObserver observer;
  private final ReplayFilter firstCopies = new ReplayFilter();

  ObservingLink(Link next, InvalidateObserver observer) {
    super(next);
    this.observer = observer;
  }

  /** What this link counted. */
  InvalidateObserver observer() { return observer; }

  @Override
  public void send(int fromNode, int toNode, ActorRef<Envelope> to, Envelope envelope) {
    if (firstCopies.first(fromNode, to, envelope)) observe(envelope); // a data-link replay is not a new callback
    next.send(fromNode, toNode, to, envelope);
  }

  private void observe(Envelope envelope) {
    HmmProtocol.Msg m;
    try {
      m = WireCodec.decode(envelope);
    } catch (RuntimeException e) {
      return; // not a protocol message: nothing to count
    }
    observer.observe(m);
  }
}
