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
  /** a migration entry. */
  MIGRATION
}
