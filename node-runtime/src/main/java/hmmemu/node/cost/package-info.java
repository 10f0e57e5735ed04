/**
 * The host-side cost model (docs/LATENCY.md "Host-side cost model"): {@link hmmemu.node.cost.HostCost} says what
 * one step of a core costs in model time (CPU page faults, PTE updates, GUP, notifier callback dispatch, device TLB
 * invalidations, driver fault batches), from the step's input message and its {@code Ready}. Pure: no clock, no
 * actor, no random source.
 *
 * <p>May import: the model (hmmemu.protocol.model, .msg, .trace) and Typesafe Config (to read
 * {@code hmm-emu.host-cost}). Never Pekko or protobuf.
 */
package hmmemu.node.cost;
