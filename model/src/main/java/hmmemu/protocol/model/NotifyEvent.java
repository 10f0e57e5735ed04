package hmmemu.protocol.model;

/** Models enum mmu_notifier_event (include/linux/mmu_notifier.h). */
public enum NotifyEvent {
  /** munmap / mremap moving the range. */
  UNMAP,
  /** zap (MADV_DONTNEED), reclaim, migration, THP split, and since 6.15 the CPU-fault restore of a device-exclusive entry. */
  CLEAR,
  /** mprotect: the whole range gets a new vm_page_prot. */
  PROTECTION_VMA,
  /** per-page protection change; fork of a COW VMA. */
  PROTECTION_PAGE,
  /** clear_refs soft-dirty reset. */
  SOFT_DIRTY,
  /** interval notifiers at mm teardown (exit_mmap). */
  RELEASE,
  /** migrate_vma_setup; owner = the migrating driver's pgmap owner. */
  MIGRATE,
  /** make_device_exclusive conversion (6.15+); in 5.14-6.14 also the restore, with owner NULL. */
  EXCLUSIVE
}
