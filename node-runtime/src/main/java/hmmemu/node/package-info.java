/**
 * What every actor shell shares: {@link hmmemu.node.NodeShell} (vector clock, encoding and decoding, the actor
 * side of the data link layer, forwarding of trace events to the checker through the bounded
 * {@link hmmemu.node.TraceOutbox}), {@link hmmemu.node.Routing} (who asked what), {@link hmmemu.node.ServiceKeys}
 * (receptionist keys), {@link hmmemu.node.ModelClock} and {@link hmmemu.node.NodeCounters} (each node's live
 * protocol counters, counted by its shell from the events it emits, one registry per ActorSystem). The link stage and the data link layer itself live in
 * {@link hmmemu.node.link}.
 *
 * <p>May import: hmmemu.protocol, hmmemu.node.link, Pekko actor and cluster. No protocol logic lives here.
 */
package hmmemu.node;
