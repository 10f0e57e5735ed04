/**
 * The pure CPU-MMU of one CPU node: every mm_struct of the node, its VMAs and PTEs, physical memory
 * (folios with their lock, refcount, mapcount, dirty and anon-exclusive bits), the mmu_notifier
 * subscriptions with the interval-notifier sequence of mm/mmu_notifier.c, make_device_exclusive() of
 * mm/rmap.c, the fault paths of mm/memory.c (do_anonymous_page, do_wp_page, remove_device_exclusive_entry),
 * hmm_range_fault() of mm/hmm.c and the syscalls that zap, protect, copy or tear down page tables.
 *
 * <p>Components: {@link hmmemu.cpu.core.CpuMm} is the state machine ({@code step(from, msg, now) -> Ready});
 * {@link hmmemu.cpu.core.Pte}, {@link hmmemu.cpu.core.FolioView} and {@link hmmemu.cpu.core.VmaView} are
 * read-only views for tests and shells. Everything else is package-private state.
 *
 * <p>Guarantees (each one the kernel's):
 * <ul>
 *   <li>No PTE of a range changes before every subscription addressed by the covering invalidation acked;
 *       interval subscriptions are all acked before any classic subscription is called.</li>
 *   <li>Revocation of device-exclusive access happens-before the CPU access that caused it completes: a CPU
 *       access to a DEVEXCL entry completes only after a CLEAR (6.15) / EXCLUSIVE-owner-NULL (5.14)
 *       invalidation over the page was acked by every overlapping subscription.</li>
 *   <li>A DEVEXCL entry is restored only with its folio locked and the PTE unchanged since the fault read it.</li>
 *   <li>A folio is freed only when its refcount reaches 0; its data stays readable afterwards so that a late
 *       device access is reported (by the checker) rather than crashing the node.</li>
 *   <li>Every state change is reported as a trace event in the order it happened.</li>
 * </ul>
 * No Pekko, no protobuf, no clock, no threads, no randomness: a parked operation is an object waiting in
 * a queue (folio lock waiters, mmap_lock waiters, pending acks) and is resumed by a later step.
 */
package hmmemu.cpu.core;
