package hmmemu.checker;

import hmmemu.protocol.model.Page;

/** One virtual page of one mm: the key of the CPU PTE shadow and of device entries. */
record PageKey(int mmId, long vpn) {
  long va() { return vpn << Page.SHIFT; }

  static PageKey of(int mmId, long va) { return new PageKey(mmId, Page.vpn(va)); }

  /** As the record's own equals, written out: the generated one (ObjectMethods) showed in the checker's profile. */
  @Override
  public boolean equals(Object o) {
    return o instanceof PageKey k && k.vpn == vpn && k.mmId == mmId;
  }

  /** The record's own hash (31 * mmId + Long.hashCode(vpn)), written out: hash-map iteration orders stay as they were. */
  @Override
  public int hashCode() { return 31 * mmId + Long.hashCode(vpn); }

  /** True when the page intersects [start,end). */
  boolean in(long start, long end) {
    long va = va();
    return va < end && va + Page.SIZE > start;
  }
}
