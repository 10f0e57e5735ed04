package hmmemu.checker;

import hmmemu.protocol.model.Page;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Shadow of the device page tables (nouveau's GPU page tables, dmirror's xarray in lib/test_hmm.c) and of which
 * device may access which pfn. Every index answers its question in time proportional to the answer: entries by
 * device and address (range scans), by page (rechecks when a PTE changes) and by pfn (I1, I8); access grants by
 * device and pfn (I10) and by device and address (revoked by an invalidation's range).
 */
final class DeviceShadow {
  static final int PERM_READ = 1;
  static final int PERM_WRITE = 2;
  static final int PERM_ATOMIC = 4;

  record EntryKey(int deviceId, int mmId, long vpn) {}

  /** device -> mm -> vpn -> entry. */
  private final Map<Integer, Map<Integer, TreeMap<Long, Trace.DeviceEntryInstalled>>> tables = new TreeMap<>();
  /** page -> device -> entry (devices in id order, for deterministic reports). */
  private final Map<PageKey, TreeMap<Integer, Trace.DeviceEntryInstalled>> entriesAtPage = new HashMap<>();
  /** pfn -> pages/devices whose entries point at it (a primitive-keyed table: no boxed pfn per lookup). */
  private final LongTable<Set<EntryKey>> entriesOfPfn = new LongTable<>();

  /**
   * device -> pfn -> page -> permission bits: "device may access pfn" from the install of an entry until the
   * device acked all its callbacks of an invalidation covering that page. Bits only grow until revoked, since
   * an access sent under a stronger entry may reach the host after the entry was replaced by a weaker one.
   * Primitive-keyed tables (read per device access, I10): no boxed device or pfn per lookup.
   */
  private final LongTable<LongTable<Granted>> grants = new LongTable<>();
  /** device -> mm -> vpn -> pfns granted through that page (the range index of {@link #grants}). */
  private final Map<Integer, Map<Integer, TreeMap<Long, Set<Long>>>> grantsByPage = new HashMap<>();

  Trace.DeviceEntryInstalled entryAt(int device, PageKey k) {
    TreeMap<Integer, Trace.DeviceEntryInstalled> atPage = entriesAtPage.get(k);
    return atPage == null ? null : atPage.get(device);
  }

  /** Entries of every device at the page, in device order (a copy). */
  List<Trace.DeviceEntryInstalled> entriesAt(PageKey k) {
    TreeMap<Integer, Trace.DeviceEntryInstalled> atPage = entriesAtPage.get(k);
    return atPage == null ? List.of() : new ArrayList<>(atPage.values());
  }

  /** Entries (of any device) pointing at pfn; read-only use. */
  Set<EntryKey> entriesOf(long pfn) {
    Set<EntryKey> refs = entriesOfPfn.get(pfn);
    return refs == null ? Set.of() : refs;
  }

  /** Programs the entry (replacing the device's entry at that page) and grants the device access to its pfn. */
  void install(PageKey k, Trace.DeviceEntryInstalled i) {
    int device = i.deviceId();
    remove(device, k);
    tables.computeIfAbsent(device, x -> new TreeMap<>()).computeIfAbsent(k.mmId(), x -> new TreeMap<>()).put(k.vpn(), i);
    entriesAtPage.computeIfAbsent(k, x -> new TreeMap<>()).put(device, i);
    Set<EntryKey> refs = entriesOfPfn.get(i.pfn());
    if (refs == null) {
      refs = new HashSet<>();
      entriesOfPfn.put(i.pfn(), refs);
    }
    refs.add(new EntryKey(device, k.mmId(), k.vpn()));
    int perm = (i.read() ? PERM_READ : 0) | (i.write() ? PERM_WRITE : 0) | (i.atomic() ? PERM_ATOMIC : 0);
    LongTable<Granted> byPfn = grants.get(device);
    if (byPfn == null) {
      byPfn = new LongTable<>();
      grants.put(device, byPfn);
    }
    Granted granted = byPfn.get(i.pfn());
    if (granted == null) {
      granted = new Granted();
      byPfn.put(i.pfn(), granted);
    }
    granted.grant(k, perm | PERM_READ);
    grantsByPage.computeIfAbsent(device, x -> new HashMap<>()).computeIfAbsent(k.mmId(), x -> new TreeMap<>())
        .computeIfAbsent(k.vpn(), x -> new HashSet<>(2)).add(i.pfn());
  }

  /** Removes the device's entry at the page (DeviceEntryZapped); access grants stay until an invalidation ends them. */
  void remove(int device, PageKey k) {
    Map<Integer, TreeMap<Long, Trace.DeviceEntryInstalled>> byMm = tables.get(device);
    if (byMm == null) return;
    TreeMap<Long, Trace.DeviceEntryInstalled> table = byMm.get(k.mmId());
    if (table == null) return;
    Trace.DeviceEntryInstalled old = table.remove(k.vpn());
    if (old == null) return;
    TreeMap<Integer, Trace.DeviceEntryInstalled> atPage = entriesAtPage.get(k);
    if (atPage != null) {
      atPage.remove(device);
      if (atPage.isEmpty()) entriesAtPage.remove(k);
    }
    Set<EntryKey> refs = entriesOfPfn.get(old.pfn());
    if (refs != null) {
      refs.remove(new EntryKey(device, k.mmId(), k.vpn()));
      if (refs.isEmpty()) entriesOfPfn.remove(old.pfn());
    }
  }

  /** The device's entries of mm on pages intersecting [start,end), in address order. */
  List<Trace.DeviceEntryInstalled> entriesIn(int device, int mmId, long start, long end) {
    Map<Integer, TreeMap<Long, Trace.DeviceEntryInstalled>> byMm = tables.get(device);
    if (byMm == null || end <= start) return List.of();
    TreeMap<Long, Trace.DeviceEntryInstalled> table = byMm.get(mmId);
    if (table == null) return List.of();
    return new ArrayList<>(table.subMap(Page.vpn(start), true, Page.vpn(end - 1), true).values());
  }

  /** Whether {@link #entriesIn} would be non-empty, without copying anything. */
  boolean anyEntryIn(int device, int mmId, long start, long end) {
    Map<Integer, TreeMap<Long, Trace.DeviceEntryInstalled>> byMm = tables.get(device);
    if (byMm == null || end <= start) return false;
    TreeMap<Long, Trace.DeviceEntryInstalled> table = byMm.get(mmId);
    if (table == null || table.isEmpty()) return false;
    Long first = table.ceilingKey(Page.vpn(start)); // the subMap's first key, without a view
    return first != null && first <= Page.vpn(end - 1);
  }

  /** Union of the permission bits the device holds on pfn over all pages (0: no access). */
  int grantOf(int device, long pfn) {
    LongTable<Granted> byPfn = grants.get(device);
    Granted granted = byPfn == null ? null : byPfn.get(pfn);
    return granted == null ? 0 : granted.union();
  }

  /** Ends the device's access through pages of mm intersecting [start,end), except pages {@code keep} accepts. */
  void revoke(int device, int mmId, long start, long end, Predicate<PageKey> keep) {
    Map<Integer, TreeMap<Long, Set<Long>>> byMm = grantsByPage.get(device);
    TreeMap<Long, Set<Long>> pages = byMm == null ? null : byMm.get(mmId);
    if (pages == null || end <= start || pages.isEmpty()) return;
    Long first = pages.ceilingKey(Page.vpn(start));
    if (first == null || first > Page.vpn(end - 1)) return; // nothing in the range: no view to build
    LongTable<Granted> byPfn = grants.get(device);
    Iterator<Map.Entry<Long, Set<Long>>> it =
        pages.subMap(Page.vpn(start), true, Page.vpn(end - 1), true).entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Long, Set<Long>> e = it.next();
      PageKey k = new PageKey(mmId, e.getKey());
      if (keep.test(k)) continue;
      for (long pfn : e.getValue()) {
        Granted granted = byPfn.get(pfn);
        if (granted == null) continue;
        granted.revoke(k);
        if (granted.pages.isEmpty()) byPfn.remove(pfn);
      }
      it.remove();
    }
  }

  /** The devices' entries and access end (their node is gone); {@code gone} selects the devices. */
  void dropDevices(Predicate<Integer> gone) {
    for (Integer device : new ArrayList<>(tables.keySet())) {
      if (!gone.test(device)) continue;
      Map<Integer, TreeMap<Long, Trace.DeviceEntryInstalled>> byMm = tables.get(device);
      List<PageKey> pages = new ArrayList<>();
      for (Map.Entry<Integer, TreeMap<Long, Trace.DeviceEntryInstalled>> mm : byMm.entrySet()) {
        for (Long vpn : mm.getValue().keySet()) pages.add(new PageKey(mm.getKey(), vpn));
      }
      for (PageKey k : pages) remove(device, k);
      grants.remove(device);
      grantsByPage.remove(device);
    }
  }

  /**
   * The pages through which one device may access one pfn, with their permission bits, and how many of those pages
   * hold each bit: their union ({@link #grantOf}) is then O(1). A shared pfn such as the zero page can be granted
   * through every page of a large range, and a scan over them per device access made the checker quadratic.
   */
  private static final class Granted {
    final Map<PageKey, Integer> pages = new HashMap<>(2);
    /** holders[b]: pages holding permission bit 1 << b (PERM_READ, PERM_WRITE, PERM_ATOMIC). */
    private final int[] holders = new int[3];

    void grant(PageKey k, int perm) {
      Integer old = pages.get(k);
      int before = old == null ? 0 : old;
      int after = before | perm;
      pages.put(k, after);
      count(before, after);
    }

    void revoke(PageKey k) {
      Integer old = pages.remove(k);
      if (old != null) count(old, 0);
    }

    private void count(int before, int after) {
      for (int b = 0; b < holders.length; b++) {
        int bit = 1 << b;
        if ((before & bit) == 0 && (after & bit) != 0) holders[b]++;
        else if ((before & bit) != 0 && (after & bit) == 0) holders[b]--;
      }
    }

    int union() {
      int have = 0;
      for (int b = 0; b < holders.length; b++) if (holders[b] > 0) have |= 1 << b;
      return have;
    }
  }
}
