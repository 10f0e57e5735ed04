/**
 * Pure routing of a core's outbound messages: who receives what a CPU or GPU core asks its host to send
 * ({@link hmmemu.node.route.Router}). Every host (the Pekko actor shells, the discrete-event simulator) asks the same
 * class, so the hosts cannot disagree about where a message goes.
 *
 * <p>May import: hmmemu.protocol.model and hmmemu.protocol.msg only (no Pekko, no protobuf, no clock).
 */
package hmmemu.node.route;
