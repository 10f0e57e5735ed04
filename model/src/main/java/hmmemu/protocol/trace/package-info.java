/**
 * Trace events (Trace), their causal stamp (Stamped: node, vector clock, model time) and VectorClock: every state
 * change a core makes, as the invariant checker and the run records read them. Pure Java: imports only the model.
 */
package hmmemu.protocol.trace;
