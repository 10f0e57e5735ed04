/**
 * The checker's Pekko shell (CheckerActor): receives every node's stamped trace batches and hands them to the
 * pure invariant checker (hmmemu.checker), answering verdict requests; Recording attaches a run recorder to it and
 * ClockAlignment measures how the model clocks of a cluster's JVMs are offset from the controller's.
 */
package hmmemu.cluster.check;
