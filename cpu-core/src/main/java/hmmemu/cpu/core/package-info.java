/**
 * The pure CPU-MMU of one CPU node: every mm_struct of the node, its VMAs and PTEs, physical memory
 * (folios with their lock, refcount, mapcount, dirty and anon-exclusive bits), the mmu_notifier
 * subscriptions with the interval-notifier sequence of mm/mmu_notifier.c, make_device_exclusive() of
 * mm/rmap.c, the fault paths of mm/memory.c (do_anonymous_page, do_wp_page, remove_device_exclusive_entry),
 * hmm_range_fault() of mm/hmm.c and the syscalls that zap, protect, copy or tear down page tables.
 *
 * <p>Components, along the kernel's seams:
 * <ul>
 *   <li>{@link hmmemu.cpu.core.CpuMm}: the public facade and state machine ({@code step(from, msg, now) -> Ready}):
 *       dispatch, duplicate-request filtering, node loss, resets and the read-only accessors.</li>
 *   <li>{@code Kernel}: what every path shares (mms, switches, the run queue, the step's output, model time, and the
 *       arrival time of each CPU access and syscall, which stamps their replies' latencyMicros).</li>
 *   <li>{@code Folios}: physical memory, folio_get/folio_put, the folio lock and its waiters.</li>
 *   <li>{@code MmapLock}: mmap_lock, a fair reader/writer semaphore per mm.</li>
 *   <li>{@code MmuNotifier}: the interval tree, invalidate_seq, the deferred list,
 *       mmu_interval_notifier_insert/remove, mmu_notifier_invalidate_range_start/end.</li>
 *   <li>{@code PageFault}: handle_mm_fault, do_wp_page, remove_device_exclusive_entry, restore_exclusive_pte.</li>
 *   <li>{@code UserAccess}: a user thread's loads and stores (and spinning threads), device DMA by pfn.</li>
 *   <li>{@code CpuThreads}: user threads running their loop of accesses on this CPU (CpuThreadRun): the next
 *       access issued as soon as the previous one completed, no controller in between; one CpuThreadDone.</li>
 *   <li>{@code DeviceExclusive}: make_device_exclusive (6.15, and 5.14's one-page range call), 5.14's
 *       make_device_exclusive_range over a dmirror chunk (GUP of every page first, then trylock_page +
 *       page_make_device_exclusive per page, pages[i] = NULL on failure), their grants (one per converted page) and
 *       the leases of dead drivers' grants.</li>
 *   <li>{@code RangeFault}: hmm_range_fault (device-private pages of range->dev_private_owner returned as they are).</li>
 *   <li>{@code MigrateDevice}: migrate_vma_setup/pages/finalize of mm/migrate_device.c (MMU_NOTIFY_MIGRATE with the
 *       pgmap owner) and do_swap_page's device-private branch calling the owning driver's migrate_to_ram, with the
 *       6.15 folio trylock and the emulator's livelock bound for 6.1-6.14.</li>
 *   <li>{@code Syscalls}: mmap, munmap, madvise, mprotect (change_huge_pmd for a huge PMD covered whole), exit_mmap,
 *       the OOM reaper, clear_refs soft-dirty, madvise(MADV_HUGEPAGE), and the entry points of the activities below;
 *       {@code Fork}: fork's dup_mmap + copy_page_range (copy_huge_pmd, copy_pte_range, copy_present_page).</li>
 *   <li>{@code HugeMemory}: THP and mTHP faults (do_huge_pmd_anonymous_page, alloc_anon_folio), the PMD split
 *       (__split_huge_pmd) that FOLL_SPLIT_PMD, partial mprotect/munmap/MADV_DONTNEED, reclaim and migration ask for,
 *       and split_folio (migrate_vma_collect_pmd); large folios in {@code Folios}. do_huge_pmd_wp_page is in
 *       {@code PageFault}, hmm_vma_handle_pmd (the PMD map order) in {@code RangeFault}.</li>
 *   <li>{@code Rmap}: the reverse-map walk (rmap_walk) over the mms; {@code Vmscan}: reclaim (shrink_folio_list,
 *       try_to_unmap_one); {@code Migrate}: migrate_pages (try_to_migrate_one, remove_migration_pte) and
 *       offline_pages; {@code Ksm}: one ksmd pass; {@code Khugepaged}: one khugepaged pass (docs/PROTOCOL.md §3.8).</li>
 *   <li>{@code Kthreads}: kernel threads the controller names holding a folio lock for a while (folio_lock, then
 *       folio_unlock + folio_put on request: KthreadFolioLock / KthreadFolioUnlock, docs/PROTOCOL.md §1.4).</li>
 *   <li>State records: {@code Mm}, {@code Vma}, {@code Folio}, {@code Subscription}, {@code Invalidation}.</li>
 *   <li>{@code PageTable}: an mm's PTEs, packed (a long per pte_t) in 512-entry PTE tables per PMD; with the
 *       folios' dense memmap in {@code Folios} and their sparse contents in {@code Folio}, a populated page costs
 *       about 92 bytes of heap, not an object, a boxed key and a long[512] (issue 11).</li>
 * </ul>
 * {@link hmmemu.cpu.core.Pte}, {@link hmmemu.cpu.core.FolioView} and {@link hmmemu.cpu.core.VmaView} are
 * read-only views for tests and shells. Everything else is package-private.
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
 * May import: hmmemu.protocol.model, hmmemu.protocol.msg, hmmemu.protocol.trace and java.*. No Pekko, no
 * protobuf, no clock, no threads, no randomness: a parked operation is an object waiting in a queue (folio lock
 * waiters, mmap_lock waiters, pending acks) and is resumed by a later step.
 */
package hmmemu.cpu.core;
