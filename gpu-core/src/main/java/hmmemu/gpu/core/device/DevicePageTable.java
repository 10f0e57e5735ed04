package hmmemu.gpu.core.device;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
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
  /** Key of a device page-table entry: the process and the page-aligned virtual address. */
  private record EntryKey(int mmId, long va) implements Comparable<EntryKey> {
    @Override
    public int compareTo(EntryKey o) {
      int c = Integer.compare(mmId, o.mmId);
      return c != 0 ? c : Long.compare(va, o.va);
    }
  }

  /** One device page-table entry (docs/PROTOCOL.md §1.7). */
  public record Entry(long pfn, boolean read, boolean write, boolean atomic) {}

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
  private final TreeMap<EntryKey, Entry> pageTable = new TreeMap<>();
  /** Host accesses in flight: reqId -> the pfn they go to. */
  private final Map<Long, Long> hostAccesses = new LinkedHashMap<>();
  private final List<DeferredAck> deferredAcks = new ArrayList<>();

  public DevicePageTable(DeviceIds ids, StepContext ctx) {
    this.ids = ids;
    this.ctx = ctx;
  }

  public Entry entry(int mmId, long va) { return pageTable.get(new EntryKey(mmId, Page.alignDown(va))); }

  /** Programs one entry (nouveau's PFNMAP update / dmirror's xa_store), traced with the seq it was checked at. */
  public void install(int mmId, long va, long pfn, boolean read, boolean write, boolean atomic, long subId,
      long seq) {
    long page = Page.alignDown(va);
    pageTable.put(new EntryKey(mmId, page), new Entry(pfn, read, write, atomic));
    ctx.emit(new Trace.DeviceEntryInstalled(ids.deviceId(), mmId, page, pfn, read, write, atomic, subId, seq));
  }

  /** Removes the entries of mm from page {@code from} to {@code to} (inclusive or not); returns their pfns. */
  public Set<Long> zap(int mmId, long from, long to, boolean toInclusive) {
    Set<Long> pfns = new HashSet<>();
    if (to < from || (to == from && !toInclusive)) return pfns;
    NavigableMap<EntryKey, Entry> range =
        pageTable.subMap(new EntryKey(mmId, from), true, new EntryKey(mmId, to), toInclusive);
    Iterator<Map.Entry<EntryKey, Entry>> it = range.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<EntryKey, Entry> e = it.next();
      // Read the entry before removing it: TreeMap may reuse the removed node for its successor.
      long va = e.getKey().va();
      long pfn = e.getValue().pfn();
      it.remove();
      pfns.add(pfn);
      ctx.emit(new Trace.DeviceEntryZapped(ids.deviceId(), mmId, va, pfn));
    }
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
    Set<Long> waitingFor = new HashSet<>();
    for (Map.Entry<Long, Long> e : hostAccesses.entrySet()) {
      if (zappedPfns.contains(e.getValue())) waitingFor.add(e.getKey());
    }
    for (DeferredAck earlier : deferredAcks) {
      if (earlier.inv.mmId() == inv.mmId() && earlier.inv.start() < inv.end() && inv.start() < earlier.inv.end()) {
        waitingFor.addAll(earlier.waitingFor);
      }
    }
    if (waitingFor.isEmpty()) {
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
    for (Map.Entry<EntryKey, Entry> e : pageTable.entrySet()) {
      Entry v = e.getValue();
      out.add(new HmmProtocol.DeviceEntry(e.getKey().mmId(), e.getKey().va(), v.pfn(), v.read(), v.write(),
          v.atomic()));
    }
    return out;
  }
}
