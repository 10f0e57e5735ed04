package hmmemu.protocol.model;

/** Kind of VMA a scenario can create (mmap flags). */
public enum VmaKind {
  /** MAP_PRIVATE|MAP_ANONYMOUS: holds device-exclusive entries (as does FILE_PRIVATE once COW is broken). */
  ANON_PRIVATE,
  /** MAP_SHARED|MAP_ANONYMOUS: shmem, file-backed; make_device_exclusive returns -EOPNOTSUPP. */
  ANON_SHARED,
  /**
   * MAP_PRIVATE file mapping: a write GUP breaks COW into an anonymous folio, which make_device_exclusive
   * (mm/rmap.c) accepts.
   */
  FILE_PRIVATE,
  /** MAP_HUGETLB: make_device_exclusive returns -EOPNOTSUPP (6.15+). */
  HUGETLB
}
