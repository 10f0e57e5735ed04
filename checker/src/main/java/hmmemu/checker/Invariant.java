package hmmemu.checker;

/**
 * The safety invariants of docs/PROTOCOL.md §6. The constant's name is the id users see ({@code "I4"}): scenario files
 * say {@code violations = ["I7"]}, the CLI prints it, {@link Violation#invariant()} returns it.
 */
public enum Invariant {
  /** Atomic exclusivity: a device's A mapping needs the CPU PTE DEVEXCL on that pfn, and no other A mapping. */
  I1("atomic exclusivity", "mm/rmap.c make_device_exclusive(), mm/memory.c remove_device_exclusive_entry()"),
  /** Mirror coherence: a device mapping equals the CPU PTE's pfn, W needs a writable PTE (or DEVEXCL in VM_WRITE). */
  I2("mirror coherence", "mm/hmm.c hmm_range_fault(), include/linux/mmu_notifier.h"),
  /** Ack completeness: a driver acking an invalidation of [s,e) holds no mapping intersecting it. */
  I3("ack completeness", "mm/mmu_notifier.c mn_itree_invalidate(), drivers/gpu/drm/nouveau/nouveau_svm.c"),
  /** No stale install: a mapping installed under a seq an overlapping callback invalidated is a violation. */
  I4("no stale install", "include/linux/mmu_notifier.h mmu_interval_read_retry(), mmu_interval_set_seq()"),
  /** No install during invalidation: nothing new is mapped in [s,e) between InvalidateStart and InvalidateEnd. */
  I5("no install during invalidation", "mm/mmu_notifier.c mmu_interval_read_begin() (waits for invalidate_end)"),
  /** Restore ordering: DEVEXCL -> PRESENT only with the folio and PTE locked, after a covering invalidation's acks. */
  I6("restore ordering", "mm/memory.c remove_device_exclusive_entry(), restore_exclusive_pte()"),
  /** Lock discipline: conversion and restore of one folio never overlap; no driver lock across the calls. */
  I7("lock discipline", "mm/rmap.c make_device_exclusive() (folio_lock), nouveau_svm.c svmm->mutex"),
  /** Refcount: references cover PTEs, entries, GUP refs and pins; one FolioUnlockPut per MakeExclusive. */
  I8("refcount", "mm/rmap.c make_device_exclusive() (folio_get/folio_put), mm/swap.c folios_put_refs()"),
  /** Mapcount: 6.15+ counts PRESENT + DEVEXCL PTEs, 5.14..6.14 PRESENT only. */
  I9("mapcount", "mm/rmap.c folio_add_anon_rmap_pte(), make_device_exclusive() (6.15 keeps the mapcount)"),
  /** No lost dirtiness or data: dirtiness survives conversion and restore, device writes only through entries. */
  I10("no lost dirtiness or data", "mm/memory.c restore_exclusive_pte(), mm/rmap.c try_to_make_device_exclusive()"),
  /** Anon-exclusive: a DEVEXCL entry only for an anon, non-hugetlb, anon-exclusive page mapped once. */
  I11("anon-exclusive", "mm/rmap.c make_device_exclusive(), mm/memory.c zap_nonpresent_ptes()"),
  /** Owner filter soundness: a driver may skip only EXCLUSIVE (or MIGRATE) carrying its own owner cookie. */
  I12("owner filter soundness", "include/linux/mmu_notifier.h (owner), lib/test_hmm.c dmirror_interval_invalidate()"),
  /**
   * Device-private isolation: the CPU never reaches a device-private page (its access faults and migrates it back),
   * no present PTE maps one, a DEVICE_PRIVATE entry names only device memory, and no device reaches one as host memory.
   */
  I13("device-private isolation", "mm/memory.c do_swap_page() (migrate_to_ram), mm/migrate_device.c");

  private final String meaning;
  private final String source;

  Invariant(String meaning, String source) {
    this.meaning = meaning;
    this.source = source;
  }

  /** The id users see and scenario files name, e.g. {@code "I4"}. */
  public String id() { return name(); }

  /** A short name, e.g. {@code "no stale install"}. */
  public String meaning() { return meaning; }

  /** The kernel source the invariant comes from. */
  public String source() { return source; }

  /** The invariant with the given id ({@code "I4"}), as scenario files and the CLI spell it. */
  public static Invariant of(String id) {
    try {
      return valueOf(id.trim().toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("no invariant " + id + " (I1..I13)");
    }
  }

  @Override
  public String toString() { return name(); }
}
