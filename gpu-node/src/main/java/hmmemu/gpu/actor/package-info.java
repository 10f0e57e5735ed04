/**
 * The GPU node's Pekko shell (GpuNodeActor): decodes envelopes, steps the pure GPU core (hmmemu.gpu.core) with
 * its devices and drivers, sends what its Ready says. May import Pekko, the wire codec and node-runtime; holds no
 * protocol logic.
 */
package hmmemu.gpu.actor;
