package hmmemu.gpu.core.device;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Mutant;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The device page table (nouveau GPU PTEs / dmirror xarray, docs/PROTOCOL.md §1.7), the device's transactions to host
 * memory by pfn, and the TLB flush of a zap: classic-notifier acks held back until the transactions already sent
 * to the zapped pfns completed.
 *
 * <p>Hardware only: it never calls a driver. A host access is identified by the reqId {@link #issueHostAccess}
 * returns; whoever issued it is told the value by the caller of {@link #completeHostAccess}.
 */
public final class DevicePageTable {
  /** One device page-table entry (PROTOCOL.md §1.7). */
  public record Entry(long pfn, boolean read, boolean write, boolean atomic) {
    /** The entry packed in a long: valid, read, write, atomic bits and the pfn; never 0. */
    long pack() {
      if (pfn < 0 || pfn >>> 59 != 0) throw new IllegalArgumentException("pfn out of range: " + pfn);
      return 1 | (read ? 2 : 0) | (write ? 4 : 0) | (atomic ? 8 : 0) | (pfn << 4);
    }

    static Entry unpack(long e) {
      return e == 0 ? null : new Entry(e >>> 4, (e & 2) != 0, (e & 4) != 0, (e & 8) != 0);
    }
  }

  /** A classic-notifier ack held back until the device's transactions to the zapped pfns completed. */
  private static final class DeferredAck {
    final HmmProtocol.InvalidateStart inv;
    final Set<Long> waitingFor;

    DeferredAck(HmmProtocol.InvalidateStart inv, Set<Long> waitingFor) {
      this.inv = inv;
      this.waitingFor = waitingFor;
    }
  }

  private final DeviceIds ids;
  private final StepContext ctx;
  /** The entries, per mm, packed (issue 11: no object per mapped page). */
  private final TreeMap<Integer, PackedPageTable> pageTable = new TreeMap<>();
  /** Host accesses in flight: reqId -> the pfn they go to. */
  private final Map<Long, Long> hostAccesses = new LinkedHashMap<>();
  private final List<DeferredAck> deferredAcks = new ArrayList<>();

  public DevicePageTable(DeviceIds ids, StepContext ctx) {
    this.ids = ids;
    this.ctx = ctx;
  }

  public Entry entry(int mmId, long va) {
    PackedPageTable t = pageTable.get(mmId);
    return t == null ? null : Entry.unpack(t.get(Page.alignDown(va)));
  }

  /** Programs one entry (nouveau's PFNMAP update / dmirror's xa_store), traced with the seq it was checked at. */
  public void install(int mmId, long va, long pfn, boolean read, boolean write, boolean atomic, long subId,
      long seq) {
    long page = Page.alignDown(va);
    pageTable.computeIfAbsent(mmId, k -> new PackedPageTable()).put(page, new Entry(pfn, read, write, atomic).pack());
    ctx.emit(new Trace.DeviceEntryInstalled(ids.deviceId(), mmId, page, pfn, read, write, atomic, subId, seq));
  }

  /** Removes the entries of mm from page {@code from} to {@code to} (inclusive or not); returns their pfns. */
  public Set<Long> zap(int mmId, long from, long to, boolean toInclusive) {
    // nothing zapped (the common case of a callback on a range the device does not map): an empty set, not a new one
    if (to < from || (to == from && !toInclusive)) return Set.of();
    PackedPageTable t = pageTable.get(mmId);
    if (t == null) return Set.of();
    long end = toInclusive ? (to == Long.MAX_VALUE ? to : to + 1) : to; // entries at va < end
    List<Long> zapped = new ArrayList<>();
    t.forEachIn(from, end, (va, e) -> {
      zapped.add(va);
      zapped.add(e >>> 4);
    });
    if (zapped.isEmpty()) {
      if (t.isEmpty()) pageTable.remove(mmId);
      return Set.of();
    }
    Set<Long> pfns = new HashSet<>();
    for (int i = 0; i < zapped.size(); i += 2) {
      long va = zapped.get(i);
      long pfn = zapped.get(i + 1);
      t.remove(va);
      pfns.add(pfn);
      ctx.emit(new Trace.DeviceEntryZapped(ids.deviceId(), mmId, va, pfn));
    }
    if (t.isEmpty()) pageTable.remove(mmId);
    return pfns;
  }

  /**
   * The TLB flush of a zap completes only when every transaction already sent to the zapped pages did; the
   * callback's ack goes out then. An overlapping callback that finds the entries already zapped by an earlier
   * callback whose flush is still pending must wait for that flush too (the kernel's second callback waits on the
   * same flush under the svmm mutex): otherwise it would ack at once while an access sent through the zapped
   * entry can still reach the host after that ack.
   */
  public void ackAfterFlush(HmmProtocol.InvalidateStart inv, Set<Long> zappedPfns) {
    Set<Long> waitingFor = null; // made on the first transaction to wait for: none, in most callbacks
    if (!zappedPfns.isEmpty()) { // nothing zapped: no transaction to wait for (the loop would find none)
      for (Map.Entry<Long, Long> e : hostAccesses.entrySet()) {
        if (zappedPfns.contains(e.getValue())) (waitingFor == null ? waitingFor = new HashSet<>() : waitingFor).add(e.getKey());
      }
    }
    for (int i = 0, n = deferredAcks.size(); i < n; i++) {
      DeferredAck earlier = deferredAcks.get(i);
      if (earlier.inv.mmId() == inv.mmId() && earlier.inv.start() < inv.end() && inv.start() < earlier.inv.end()) {
        (waitingFor == null ? waitingFor = new HashSet<>() : waitingFor).addAll(earlier.waitingFor);
      }
    }
    if (waitingFor == null || waitingFor.isEmpty() || ctx.switches().has(Mutant.ACK_BEFORE_TLB_FLUSH)) {
      ctx.ackInvalidate(ids.deviceId(), inv, true, false);
    } else {
      deferredAcks.add(new DeferredAck(inv, waitingFor));
    }
  }

  /** The device reads/writes host memory by physical address through the entry at (mmId, pageVa); its reqId. */
  public long issueHostAccess(int mmId, long pageVa, long pfn, int wordIndex, Access access, long value) {
    ctx.emit(new Trace.DeviceAccessIssued(ids.deviceId(), mmId, pageVa, pfn, access));
    long reqId = ids.newReqId();
    hostAccesses.put(reqId, pfn);
    ctx.toCpu(new HmmProtocol.DeviceMemoryAccess(reqId, ids.deviceId(), pfn, wordIndex, access, value));
    return reqId;
  }

  /**
   * A host access answered: false for a late or duplicate reply. The caller then hands the value to the issuer
   * and calls {@link #flushProgress}.
   */
  public boolean completeHostAccess(long reqId) { return hostAccesses.remove(reqId) != null; }

  /** After a host access completed: acks whose flush waited only for it go out now. */
  public void flushProgress(long reqId) {
    Iterator<DeferredAck> it = deferredAcks.iterator();
    List<DeferredAck> ready = new ArrayList<>();
    while (it.hasNext()) {
      DeferredAck d = it.next();
      if (d.waitingFor.remove(reqId) && d.waitingFor.isEmpty()) {
        it.remove();
        ready.add(d);
      }
    }
    for (DeferredAck d : ready) ctx.ackInvalidate(ids.deviceId(), d.inv, true, false);
  }

  /** The host is gone: host accesses in flight and deferred acks are dropped; the entries stay. */
  public void dropInFlight() {
    hostAccesses.clear();
    deferredAcks.clear();
  }

  /** The entries, ordered by (mmId, va). */
  public List<HmmProtocol.DeviceEntry> entries() {
    List<HmmProtocol.DeviceEntry> out = new ArrayList<>();
    for (Map.Entry<Integer, PackedPageTable> t : pageTable.entrySet()) {
      int mmId = t.getKey();
      t.getValue().forEachIn(Long.MIN_VALUE, Long.MAX_VALUE, (va, e) -> {
        Entry v = Entry.unpack(e);
        out.add(new HmmProtocol.DeviceEntry(mmId, va, v.pfn(), v.read(), v.write(), v.atomic()));
      });
    }
    return out;
  }
}
