package hmmemu.checker;

import hmmemu.protocol.model.Page;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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

  /**
   * device -> mm -> vpn -> entry (the device page table). The vpn level is a primitive-keyed table (no boxed vpn, no
   * tree node per entry); range scans ({@link #entriesIn}, {@link #anyEntryIn}) probe the range's pages or, when the
   * range is wider than the table, scan the table and sort, so each answers in address order as a sorted map did.
   * The device level stays sorted by id: {@link #entriesAt} answers in device order from it.
   */
  private final Map<Integer, Map<Integer, LongTable<Trace.DeviceEntryInstalled>>> tables = new TreeMap<>();
  /** pfn -> pages/devices whose entries point at it (a primitive-keyed table: no boxed pfn per lookup). */
  private final LongTable<Set<EntryKey>> entriesOfPfn = new LongTable<>();

  /**
   * device -> pfn -> page -> permission bits: "device may access pfn" from the install of an entry until the
   * device acked all its callbacks of an invalidation covering that page. Bits only grow until revoked, since
   * an access sent under a stronger entry may reach the host after the entry was replaced by a weaker one.
   * Primitive-keyed tables (read per device access, I10): no boxed device or pfn per lookup.
   */
  private final LongTable<LongTable<Granted>> grants = new LongTable<>();
  /** device -> mm -> vpn -> pfns granted through that page (the range index of {@link #grants}; vpn primitive-keyed). */
  private final Map<Integer, Map<Integer, LongTable<Set<Long>>>> grantsByPage = new HashMap<>();

  private LongTable<Trace.DeviceEntryInstalled> table(int device, int mmId) {
    Map<Integer, LongTable<Trace.DeviceEntryInstalled>> byMm = tables.get(device);
    return byMm == null ? null : byMm.get(mmId);
  }

  Trace.DeviceEntryInstalled entryAt(int device, PageKey k) {
    LongTable<Trace.DeviceEntryInstalled> table = table(device, k.mmId());
    return table == null ? null : table.get(k.vpn());
  }

  /** Entries of every device at the page, in device order (a copy). */
  List<Trace.DeviceEntryInstalled> entriesAt(PageKey k) {
    List<Trace.DeviceEntryInstalled> out = null;
    for (Map<Integer, LongTable<Trace.DeviceEntryInstalled>> byMm : tables.values()) {
      LongTable<Trace.DeviceEntryInstalled> table = byMm.get(k.mmId());
      Trace.DeviceEntryInstalled i = table == null ? null : table.get(k.vpn());
      if (i == null) continue;
      if (out == null) out = new ArrayList<>(2);
      out.add(i);
    }
    return out == null ? List.of() : out;
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
    LongTable<Trace.DeviceEntryInstalled> table =
        tables.computeIfAbsent(device, x -> new TreeMap<>()).computeIfAbsent(k.mmId(), x -> new LongTable<>());
    table.put(k.vpn(), i);
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
    LongTable<Set<Long>> pages =
        grantsByPage.computeIfAbsent(device, x -> new HashMap<>()).computeIfAbsent(k.mmId(), x -> new LongTable<>());
    Set<Long> pfns = pages.get(k.vpn());
    if (pfns == null) {
      pfns = new HashSet<>(2);
      pages.put(k.vpn(), pfns);
    }
    pfns.add(i.pfn());
  }

  /** Removes the device's entry at the page (DeviceEntryZapped); access grants stay until an invalidation ends them. */
  void remove(int device, PageKey k) {
    LongTable<Trace.DeviceEntryInstalled> table = table(device, k.mmId());
    if (table == null) return;
    Trace.DeviceEntryInstalled old = table.remove(k.vpn());
    if (old == null) return;
    Set<EntryKey> refs = entriesOfPfn.get(old.pfn());
    if (refs != null) {
      refs.remove(new EntryKey(device, k.mmId(), k.vpn()));
      if (refs.isEmpty()) entriesOfPfn.remove(old.pfn());
    }
  }

  /** The device's entries of mm on pages intersecting [start,end), in address order. */
  List<Trace.DeviceEntryInstalled> entriesIn(int device, int mmId, long start, long end) {
    LongTable<Trace.DeviceEntryInstalled> table = end <= start ? null : table(device, mmId);
    if (table == null || table.isEmpty()) return List.of();
    long lo = Page.vpn(start), hi = Page.vpn(end - 1);
    List<Trace.DeviceEntryInstalled> out = new ArrayList<>();
    if (probes(table, lo, hi)) {
      for (long vpn = lo; vpn <= hi; vpn++) {
        Trace.DeviceEntryInstalled i = table.get(vpn);
        if (i != null) out.add(i);
      }
    } else {
      for (long vpn : keysIn(table, lo, hi)) out.add(table.get(vpn));
    }
    return out;
  }

  /** Whether {@link #entriesIn} would be non-empty, without copying anything. */
  boolean anyEntryIn(int device, int mmId, long start, long end) {
    LongTable<Trace.DeviceEntryInstalled> table = end <= start ? null : table(device, mmId);
    if (table == null || table.isEmpty()) return false;
    long lo = Page.vpn(start), hi = Page.vpn(end - 1);
    if (!probes(table, lo, hi)) return keysIn(table, lo, hi).length > 0;
    for (long vpn = lo; vpn <= hi; vpn++) if (table.get(vpn) != null) return true;
    return false;
  }

  /** Union of the permission bits the device holds on pfn over all pages (0: no access). */
  int grantOf(int device, long pfn) {
    LongTable<Granted> byPfn = grants.get(device);
    Granted granted = byPfn == null ? null : byPfn.get(pfn);
    return granted == null ? 0 : granted.union();
  }

  /** Ends the device's access through pages of mm intersecting [start,end), except pages {@code keep} accepts. */
  void revoke(int device, int mmId, long start, long end, Predicate<PageKey> keep) {
    Map<Integer, LongTable<Set<Long>>> byMm = grantsByPage.get(device);
    LongTable<Set<Long>> pages = byMm == null ? null : byMm.get(mmId);
    if (pages == null || end <= start || pages.isEmpty()) return;
    long lo = Page.vpn(start), hi = Page.vpn(end - 1);
    LongTable<Granted> byPfn = grants.get(device);
    if (probes(pages, lo, hi)) {
      for (long vpn = lo; vpn <= hi; vpn++) {
        Set<Long> pfns = pages.get(vpn);
        if (pfns != null) revokePage(pages, byPfn, mmId, vpn, pfns, keep);
      }
    } else {
      for (long vpn : keysIn(pages, lo, hi)) revokePage(pages, byPfn, mmId, vpn, pages.get(vpn), keep);
    }
  }

  /** One page of {@link #revoke}: its pfns' grants through it end and it leaves the range index, unless kept. */
  private static void revokePage(LongTable<Set<Long>> pages, LongTable<Granted> byPfn, int mmId, long vpn,
      Set<Long> pfns, Predicate<PageKey> keep) {
    PageKey k = new PageKey(mmId, vpn);
    if (keep.test(k)) return;
    for (long pfn : pfns) {
      Granted granted = byPfn.get(pfn);
      if (granted == null) continue;
      granted.revoke(k);
      if (granted.pages.isEmpty()) byPfn.remove(pfn);
    }
    pages.remove(vpn);
  }

  /**
   * Whether a scan of pages lo..hi (inclusive) probes each page of the range (a range no wider than the table:
   * costs the range) rather than scanning the table's keys ({@link #keysIn}: costs the table).
   */
  private static boolean probes(LongTable<?> table, long lo, long hi) {
    return hi - lo < 2L * table.size() + 16;
  }

  /** The table's keys in lo..hi (inclusive), ascending (a wide range: the table's keys filtered and sorted). */
  private static long[] keysIn(LongTable<?> table, long lo, long hi) {
    long[] keys = table.keys();
    int n = 0;
    for (long key : keys) if (key >= lo && key <= hi) keys[n++] = key;
    long[] in = java.util.Arrays.copyOf(keys, n);
    java.util.Arrays.sort(in);
    return in;
  }

  /** The devices' entries and access end (their node is gone); {@code gone} selects the devices. */
  void dropDevices(Predicate<Integer> gone) {
    for (Integer device : new ArrayList<>(tables.keySet())) {
      if (!gone.test(device)) continue;
      Map<Integer, LongTable<Trace.DeviceEntryInstalled>> byMm = tables.get(device);
      List<PageKey> pages = new ArrayList<>();
      for (Map.Entry<Integer, LongTable<Trace.DeviceEntryInstalled>> mm : byMm.entrySet()) {
        for (long vpn : keysIn(mm.getValue(), Long.MIN_VALUE, Long.MAX_VALUE)) pages.add(new PageKey(mm.getKey(), vpn));
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
