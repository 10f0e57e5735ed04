/**
 * The CPU node's Pekko shell (CpuNodeActor): decodes envelopes, steps the pure CPU core (hmmemu.cpu.core),
 * sends what its Ready says, reports membership changes to it. May import Pekko, the wire codec and node-runtime;
 * holds no protocol logic.
 */
package hmmemu.cpu.actor;
