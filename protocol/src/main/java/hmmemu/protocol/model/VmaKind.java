package hmmemu.protocol.model;

/** Kind of VMA a scenario can create (mmap flags). */
public enum VmaKind {
  /** MAP_PRIVATE|MAP_ANONYMOUS: the only kind that can hold device-exclusive entries. */
  ANON_PRIVATE,
  /** MAP_SHARED|MAP_ANONYMOUS: shmem, file-backed; make_device_exclusive returns -EOPNOTSUPP. */
  ANON_SHARED,
  /** MAP_PRIVATE file mapping: a write GUP breaks COW into an anonymous folio. */
  FILE_PRIVATE,
  /** MAP_HUGETLB: make_device_exclusive returns -EOPNOTSUPP (6.15+). */
  HUGETLB
}
