/**
 * The one global invariant checker of hmm-emu (PROTOCOL.md §6, I1..I12).
 *
 * <ul>
 *   <li>{@link hmmemu.checker.CausalDelivery} buffers stamped trace events from every node and releases them in
 *       causal order (a linear extension of happens-before, lowest node first among deliverable events), dropping
 *       duplicates.</li>
 *   <li>{@link hmmemu.checker.InvariantChecker} applies the released events to a shadow of the global state (CPU
 *       PTEs, folios, VMAs, notifier subscriptions, in-flight invalidations and acks, device page tables, device
 *       access rights) and checks the invariants after each one, returning {@link hmmemu.checker.Violation}s.</li>
 * </ul>
 *
 * <p>Guarantees: every check judges a consistent cut, so message delays never invent a violation; a given
 * arrival sequence always yields the same verdict. Pure: no Pekko, no clock, no I/O.
 */
package hmmemu.checker;
