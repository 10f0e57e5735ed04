package hmmemu.cpu.core;

import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import java.util.HashMap;
import java.util.Map;

/** Models struct vm_area_struct: [start,end), protection, kind, and for shared/file mappings the page cache. */
final class Vma {
  long start;
  long end;
  int prot;
  final VmaKind kind;
  /** The file (page cache) behind ANON_SHARED (shmem) and FILE_PRIVATE mappings; null for anonymous ones. */
  final PageCache pageCache;
  /** Page offset of {@code start} in the page cache (vm_pgoff). */
  long pgoff;
  /** vma->anon_vma != NULL: an anonymous folio was ever mapped here (fork copies page tables only then). */
  boolean anonVma;
  /**
   * VM_SOFTDIRTY: set on every new VMA (__mmap_region), cleared by clear_refs soft-dirty; while it is clear
   * soft-dirty tracking is on for the VMA (vma_soft_dirty_enabled()).
   */
  boolean vmSoftDirty = true;
  /**
   * VM_HUGEPAGE (madvise(MADV_HUGEPAGE)) with the largest anonymous folio order enabled for it (sysfs
   * transparent_hugepage/hugepages-&lt;size&gt;kB/enabled = madvise): 9 for PMD-mapped THP, 2..8 for mTHP, 0 when off.
   */
  int thpOrder;

  Vma(long start, long end, int prot, VmaKind kind, PageCache pageCache, long pgoff) {
    this.start = start;
    this.end = end;
    this.prot = prot;
    this.kind = kind;
    this.pageCache = pageCache;
    this.pgoff = pgoff;
  }

  boolean canWrite() { return (prot & Prot.WRITE) != 0; }

  boolean canAccess() { return prot != Prot.NONE; }

  /** Models vma_soft_dirty_enabled(): soft-dirty tracking is on (VM_SOFTDIRTY clear). */
  boolean softDirtyEnabled() { return !vmSoftDirty; }

  /** Models pte_needs_soft_dirty_wp(): a write must fault so that the PTE gets marked soft-dirty. */
  boolean needsSoftDirtyWp(Pte pte) { return softDirtyEnabled() && !pte.softDirty(); }

  /** VM_SHARED. */
  boolean shared() { return kind == VmaKind.ANON_SHARED; }

  boolean contains(long va) { return start <= va && va < end; }

  Vma copy() {
    Vma v = new Vma(start, end, prot, kind, pageCache, pgoff);
    v.anonVma = anonVma;
    v.vmSoftDirty = vmSoftDirty;
    v.thpOrder = thpOrder;
    return v;
  }

  VmaView view() { return new VmaView(start, end, prot, kind); }

  /** The page cache of one file or shmem object: page index to folio. */
  static final class PageCache {
    final Map<Long, Folio> pages = new HashMap<>();
  }
}
