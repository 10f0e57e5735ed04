/**
 * The host-device link and fault injection: what every CPU<->GPU protocol message passes through on its way out of a
 * node. {@link hmmemu.node.link.Link} is the stage (thread-safe, shared by the nodes of an embedded cluster);
 * {@link hmmemu.node.link.ModeledLink} models delay, bandwidth, loss, duplication, reordering, partitions and
 * pauses from {@link hmmemu.node.link.LinkSettings} (docs/LATENCY.md); {@link hmmemu.node.link.GateLink} pauses a
 * direction at a chosen message; {@link hmmemu.node.link.RemoteGate} is a node's pause gate, observing stage and
 * until-watch (it reports watched deliveries)
 * driven by a scenario controller in another JVM (gate.proto; docs/SCENARIOS.md "Across separate JVMs"); {@link hmmemu.node.link.Freeze} freezes a node's actor (SIGSTOP);
 * {@link hmmemu.node.link.FaultSchedule} is a timed list of faults ({@link hmmemu.node.link.FaultScheduleParser}
 * reads the text, {@link hmmemu.node.link.FaultScheduleRunner} applies it in real time);
 * {@link hmmemu.node.link.LinkControl} and {@link hmmemu.node.link.FaultRoutes} apply fault lines to a running
 * cluster (a control actor per node, a Pekko Management route); {@link hmmemu.node.link.ClusterStatus} answers the
 * route's {@code GET /hmm-emu/status} (membership, every node's live link counters and its cores' protocol counters,
 * which LinkControl takes as a supplier, so this package does not import hmmemu.node).
 *
 * <p>{@link hmmemu.node.link.DataLink} is the data link layer the node shells run on every direction (PCIe Data
 * Link Layer: sequence numbers, ACKs, replay buffer and timer, in-order exactly-once delivery, chunking of messages
 * larger than a frame; bounded by {@link hmmemu.node.link.LinkReliability}; docs/FAULTS.md). It is pure: no Pekko,
 * no clock (time is a parameter, timers are returned as instants), so it is tested in virtual time.
 *
 * <p>{@link hmmemu.node.link.Lanes} derives a message's lane, its sending kernel thread (docs/PROTOCOL.md §5.8),
 * from its fields; with {@code hmm-emu.link.lanes = per-thread} DataLink, ModeledLink, GateLink and ReplayFilter
 * order per (direction, lane) instead of per direction.
 *
 * <p>May import: hmmemu.protocol (messages and the wire codec), Pekko (actor, cluster, management HTTP: the stage
 * delivers to ActorRefs, LinkControl and FaultRoutes are actors and routes), Typesafe Config, Jackson (the status JSON). DataLink, the
 * FaultSchedule parser and LinkSettings use no Pekko.
 */
package hmmemu.node.link;
