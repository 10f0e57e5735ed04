package hmmemu.checker;

import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Shadow of each mm's VMAs (the maple tree of mm_struct) and of the write downgrades not yet invalidated. */
final class VmaShadow {
  record Vma(long start, long end, int prot, VmaKind kind) {}

  /** mm -> VMAs by start (non-overlapping). */
  private final Map<Integer, TreeMap<Long, Vma>> vmas = new HashMap<>();
  /**
   * mm -> ranges whose VMA lost PROT_WRITE (mprotect) or vanished (munmap) and whose covering invalidation
   * has not ended yet. The kernel changes the VMA before issuing the notifier, so a driver critical section
   * that passed its seq check may still program a W entry there; the notifier then removes it.
   */
  private final Map<Integer, List<long[]>> writeDowngrades = new HashMap<>();

  /** VmaChanged: splits or removes the overlapped VMAs (like vma_modify()/do_vmi_munmap()), notes a write downgrade. */
  void apply(Trace.VmaChanged v) {
    TreeMap<Long, Vma> map = vmas.computeIfAbsent(v.mmId(), x -> new TreeMap<>());
    boolean hadWrite = false;
    for (Vma old : overlapping(map, v.start(), v.end())) {
      if ((old.prot() & Prot.WRITE) != 0) hadWrite = true;
      map.remove(old.start());
      if (old.start() < v.start()) map.put(old.start(), new Vma(old.start(), v.start(), old.prot(), old.kind()));
      if (old.end() > v.end()) map.put(v.end(), new Vma(v.end(), old.end(), old.prot(), old.kind()));
    }
    if (!v.removed()) map.put(v.start(), new Vma(v.start(), v.end(), v.prot(), v.kind()));
    if (hadWrite && (v.removed() || (v.prot() & Prot.WRITE) == 0)) {
      writeDowngrades.computeIfAbsent(v.mmId(), x -> new ArrayList<>()).add(new long[] {v.start(), v.end()});
    }
  }

  /** Models vma_lookup(): the VMA holding va, or null. */
  Vma vmaAt(int mmId, long va) {
    TreeMap<Long, Vma> map = vmas.get(mmId);
    if (map == null) return null;
    Map.Entry<Long, Vma> e = map.floorEntry(va);
    return e != null && va < e.getValue().end() ? e.getValue() : null;
  }

  boolean writable(PageKey k) {
    Vma vma = vmaAt(k.mmId(), k.va());
    return vma != null && (vma.prot() & Prot.WRITE) != 0;
  }

  boolean writeDowngradePending(PageKey k) {
    List<long[]> ranges = writeDowngrades.get(k.mmId());
    if (ranges == null) return false;
    for (long[] r : ranges) {
      if (k.in(r[0], r[1])) return true;
    }
    return false;
  }

  /** An applied invalidation of [start,end) ended: the downgrades it covers are complete. */
  void invalidated(int mmId, long start, long end) {
    List<long[]> downgrades = writeDowngrades.get(mmId);
    if (downgrades != null) downgrades.removeIf(r -> start <= r[0] && r[1] <= end);
  }

  private static List<Vma> overlapping(TreeMap<Long, Vma> map, long start, long end) {
    List<Vma> out = new ArrayList<>();
    Map.Entry<Long, Vma> first = map.floorEntry(start);
    if (first != null && first.getValue().end() > start) out.add(first.getValue());
    for (Vma v : map.subMap(start, false, end, false).values()) out.add(v);
    return out;
  }
}
