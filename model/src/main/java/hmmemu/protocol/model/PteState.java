package hmmemu.protocol.model;

/** State of one CPU page-table entry (docs/PROTOCOL.md §1.3). */
public enum PteState {
  /** pte_none: no mapping; an access faults a page in. */
  NONE,
  /** a present PTE with pfn and W/D/A bits. */
  PRESENT,
  /** a device-exclusive swap entry (SWP_DEVICE_EXCLUSIVE); any CPU access faults. */
  DEVEXCL,
  /** a swap entry after reclaim. */
  SWAP,
  /** a migration entry (migrate_vma_collect_pmd, try_to_migrate): a CPU access waits for the folio unlock. */
  MIGRATION,
  /**
   * a device-private swap entry (SWP_DEVICE_WRITE/SWP_DEVICE_READ, include/linux/swapops.h): the page lives in the
   * memory of the device whose pgmap owns the pfn; a CPU access migrates it back (do_swap_page -> migrate_to_ram).
   */
  DEVICE_PRIVATE
}
