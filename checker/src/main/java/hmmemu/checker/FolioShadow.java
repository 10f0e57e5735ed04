package hmmemu.checker;

import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Shadow of the folios (struct folio: lock, refcount, mapcount, dirty, anon-exclusive, freed) and of the folio
 * checks deferred to the end of the CPU node's step (I8 counts, I9, I10 dirtiness).
 */
final class FolioShadow {
  /** Above this many entries a drained set is replaced rather than cleared (clear() costs the table's capacity). */
  private static final int REPLACE_ABOVE = 1024;

  /** Latest FolioChanged per pfn. */
  private final Map<Long, Trace.FolioChanged> folios = new HashMap<>();
  private final Set<Long> freed = new HashSet<>();
  /** pfns converted from a dirty PTE whose folio was not dirty yet (I10, judged with the counts). */
  private Set<Long> dirtyPushPending = new LinkedHashSet<>();
  /** Folios changed in the current run of CPU-node PTE/folio/VMA events, judged when it ends (I8, I9). */
  private Set<Long> countsToJudge = new LinkedHashSet<>();

  Trace.FolioChanged get(long pfn) { return folios.get(pfn); }

  /** Records the folio's new state; returns the previous one. */
  Trace.FolioChanged put(Trace.FolioChanged f) { return folios.put(f.pfn(), f); }

  boolean freed(long pfn) { return freed.contains(pfn); }

  /** Marks pfn freed; false when it already was. */
  boolean markFreed(long pfn) { return freed.add(pfn); }

  void noteDirtyPush(long pfn) { dirtyPushPending.add(pfn); }

  void noteCountsChanged(long pfn) { countsToJudge.add(pfn); }

  boolean nothingToJudge() { return countsToJudge.isEmpty() && dirtyPushPending.isEmpty(); }

  /** Takes the pfns whose dirtiness must have reached the folio, in the order noted. */
  List<Long> drainDirtyPushes() {
    List<Long> pfns = new ArrayList<>(dirtyPushPending);
    if (pfns.size() > REPLACE_ABOVE) dirtyPushPending = new LinkedHashSet<>();
    else dirtyPushPending.clear();
    return pfns;
  }

  /** Takes the folios whose counts must be judged, in the order noted. */
  List<Long> drainCountsToJudge() {
    List<Long> pfns = new ArrayList<>(countsToJudge);
    if (pfns.size() > REPLACE_ABOVE) countsToJudge = new LinkedHashSet<>();
    else countsToJudge.clear();
    return pfns;
  }
}
