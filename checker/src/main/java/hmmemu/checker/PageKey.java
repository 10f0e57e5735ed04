package hmmemu.checker;

import hmmemu.protocol.model.Page;

/** One virtual page of one mm: the key of the CPU PTE shadow and of device entries. */
record PageKey(int mmId, long vpn) {
  long va() { return vpn << Page.SHIFT; }

  static PageKey of(int mmId, long va) { return new PageKey(mmId, Page.vpn(va)); }

  /** True when the page intersects [start,end). */
  boolean in(long start, long end) {
    long va = va();
    return va < end && va + Page.SIZE > start;
  }
}
