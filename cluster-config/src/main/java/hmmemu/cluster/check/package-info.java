/**
 * The checker's Pekko shell (CheckerActor): receives every node's stamped trace batches and hands them to the
 * pure invariant checker (hmmemu.checker), answering verdict requests.
 */
package hmmemu.cluster.check;
