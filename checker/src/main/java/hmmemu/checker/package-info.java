/**
 * The one global invariant checker of hmm-emu (docs/PROTOCOL.md §6, I1..I13).
 *
 * <ul>
 *   <li>{@link hmmemu.checker.CausalDelivery} buffers stamped trace events from every node and releases them in
 *       causal order (a linear extension of happens-before, lowest node first among deliverable events), dropping
 *       duplicates; the missing events of a node declared lost are skipped and reported.</li>
 *   <li>{@link hmmemu.checker.InvariantChecker} is the facade: it applies the released events to the shadow state
 *       and dispatches each to the rules it may break, returning {@link hmmemu.checker.Violation}s named by
 *       {@link hmmemu.checker.Invariant}. {@code InvariantChecker.judge} replays a recorded stream without actors.</li>
 *   <li>Shadow state, one class per kernel object family: {@code PteShadow} (CPU PTEs, per-pfn mappers and counts),
 *       {@code VmaShadow}, {@code FolioShadow}, {@code FolioLockShadow} (make_device_exclusive holds),
 *       {@code NotifierShadow} with {@code Invalidation} (subscriptions, ranges in flight, acks per device) and
 *       {@code DeviceShadow} (device page tables and access grants). Per-page and per-pfn state is dense: chunks of
 *       512 pages or pfns of primitive arrays, found through {@code LongTable} (open addressing, primitive
 *       {@code long} keys), so the checker's memory stays small and off the garbage collector's path as the
 *       emulated memory grows ({@code PteShadow}, {@code FolioShadow}; {@code DeviceShadow} still uses maps).</li>
 *   <li>Rules, one class per invariant family: {@code CpuRules} (I1 CPU access, I6, I7, I8, I9, I10, I11, I13 device-private isolation),
 *       {@code DeviceRules} (I1, I2, I4, I5, I8, I10, I13), {@code InvalidationRules} (I3, I12) and {@code LockRules}
 *       (I7, I8); {@code Reporter} keeps the violations and the raw recent events, formatted only when reported.</li>
 * </ul>
 *
 * <p>Guarantees: every check judges a consistent cut, so message delays never invent a violation; a given
 * arrival sequence always yields the same verdict; judging one event never costs time proportional to memory size
 * or to the number of subscriptions. May import hmmemu.protocol.{model,trace} and the JDK only: no Pekko, no
 * protobuf, no clock, no I/O.
 */
package hmmemu.checker;
