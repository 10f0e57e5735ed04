package hmmemu.cluster.scenario;

import hmmemu.node.link.ForwardingLink;
import hmmemu.node.link.Link;
import hmmemu.node.link.LinkReliability;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.pb.Envelope;
import java.util.function.BiConsumer;
import java.util.function.IntUnaryOperator;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The scenario's node numbers on an embedded cluster's link: nodes send with their cluster index; the pause points,
 * the modelled link's faults and its counters, and the delivery watchers see the scenario's GPU node number of every
 * incarnation (a restarted node is a new cluster member, docs/SCENARIOS.md "Crash and restart"). Not a kernel
 * structure.
 */
final class IncarnationLink extends ForwardingLink {
  private final IntUnaryOperator named;
  private final BiConsumer<Integer, HmmProtocol.Msg> delivered;

  /**
   * @param named cluster node index -> the scenario's node number
   * @param delivered hears each message a node's core stepped on, by scenario node
   */
  IncarnationLink(Link next, IntUnaryOperator named, BiConsumer<Integer, HmmProtocol.Msg> delivered) {
    super(next);
    this.named = named;
    this.delivered = delivered;
  }

  @Override
  public void send(int fromNode, int toNode, ActorRef<Envelope> to, Envelope envelope) {
    next.send(named.applyAsInt(fromNode), named.applyAsInt(toNode), to, envelope);
  }

  @Override
  public void count(int fromNode, int toNode, LinkReliability.Event event, long n) {
    next.count(named.applyAsInt(fromNode), named.applyAsInt(toNode), event, n);
  }

  @Override
  public void lost(int fromNode, int toNode, long seq, String what) {
    next.lost(named.applyAsInt(fromNode), named.applyAsInt(toNode), seq, what);
  }

  @Override
  public void delivered(int node, HmmProtocol.Msg msg) { delivered.accept(named.applyAsInt(node), msg); }
}
