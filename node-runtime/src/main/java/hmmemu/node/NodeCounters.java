package hmmemu.node;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.trace.Trace;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * A node's live protocol counters, counted by its shell from the trace events its core emits ({@link NodeShell#emit}),
 * so a running cluster can show them ({@code GET /hmm-emu/status}, docs/OBSERVABILITY.md). The names are those of
 * metrics.json's per-node counters (hmmemu.report.RunRecorder) where both exist, so a run's record and the live view
 * agree; a few live-only totals are added. Thread-safe: the shell counts on its actor's thread, the status route reads.
 *
 * <p>CPU node: {@code cpuFaults} and {@code cpuFaults:<kind>}; {@code folioLockWaits} (user faults that found the folio
 * locked, waited for folio_unlock() and retried: folio_lock_or_retry's VM_FAULT_RETRY, the {@code retry} fault kind;
 * a make_device_exclusive caller's wait on the lock emits no event and is not counted); {@code conversions}
 * (make_device_exclusive returned 0) and {@code conversionErrors:<errno>}; {@code restores} (a DEVEXCL PTE became
 * anything else); {@code invalidations} and {@code invalidations:<event>} (mmu_notifier_invalidate_range_start),
 * {@code callbacks} (invalidate callbacks sent to subscribers), {@code invalidationsEnded} (range_end, after the
 * last ack); {@code folioLocks}. GPU node: {@code deviceFaults} and {@code deviceFaults:<access>};
 * {@code driverFaults}, {@code driverIterations}, {@code driverTimeouts} (-EBUSY), {@code driverReplays} (a fault
 * handled: the access is replayed), {@code driverCancels} (a fault given up: the access is cancelled);
 * {@code gpuAccessesCompleted}, {@code gpuAccessesCancelled}; {@code acks} and {@code acksIgnoredByOwner} (invalidate
 * callbacks answered); {@code readRetryFailed}. Every node: {@code events} (trace events emitted); the CPU and GPU nodes
 * also {@code controllerRequests} and {@code controllerRequests:<type>} ({@link #controllerRequest}).
 */
public final class NodeCounters {
  private final Map<String, long[]> counts = new HashMap<>();
  /** Pages (mm:va) whose PTE is DEVEXCL now: a change away from it is a restore. */
  private final Set<Long> devexcl = new HashSet<>();

  /** Counts one step's events. */
  public synchronized void count(List<Trace.Event> events) {
    for (Trace.Event e : events) count(e);
  }

  private void add(String counter, long by) {
    long[] c = counts.get(counter);
    if (c == null) counts.put(counter, new long[] {by});
    else c[0] += by;
  }

  /**
   * Counts one request the node received from the controller ({@code controllerRequests} and
   * {@code controllerRequests:<type>}): a user thread's loop started (CpuThreadRun), a warp's loop started
   * (WarpRun), a single access, a syscall, an introspection, a device access. A CPU thread's or a warp's accesses
   * inside its loop are not controller requests.
   */
  public synchronized void controllerRequest(String type) {
    add("controllerRequests", 1);
    add("controllerRequests:" + type, 1);
  }

  private static long page(int mmId, long va) { return ((long) mmId << 52) ^ (va >>> 12); }

  private void count(Trace.Event e) {
    add("events", 1);
    if (e instanceof Trace.CpuFaulted c) {
      add("cpuFaults", 1);
      add("cpuFaults:" + c.kind(), 1);
      if (c.kind().equals("retry")) add("folioLockWaits", 1);
    } else if (e instanceof Trace.ExclusiveReturned x) {
      add(x.errno() == Errno.OK ? "conversions" : "conversionErrors:" + x.errno(), 1);
    } else if (e instanceof Trace.PteChanged p) {
      long page = page(p.mmId(), p.va());
      boolean was = p.state() == PteState.DEVEXCL ? !devexcl.add(page) : devexcl.remove(page);
      if (was && p.state() != PteState.DEVEXCL) add("restores", 1);
    } else if (e instanceof Trace.InvalidateStarted i) {
      add("invalidations", 1);
      add("invalidations:" + i.event(), 1);
      add("callbacks", i.subIds().size());
    } else if (e instanceof Trace.InvalidateEnded i) {
      add("invalidationsEnded", 1);
    } else if (e instanceof Trace.FolioChanged f) {
      // RunRecorder counts a lock taken (locked after unlocked); the shell sees every folio change of its node.
      if (f.locked()) {
        if (lockedFolios.add(f.pfn())) add("folioLocks", 1);
      } else {
        lockedFolios.remove(f.pfn());
      }
    } else if (e instanceof Trace.DeviceFaulted f) {
      add("deviceFaults", 1);
      add("deviceFaults:" + f.access(), 1);
    } else if (e instanceof Trace.DriverFaultHandled d) {
      add("driverFaults", 1);
      add("driverIterations", d.iterations());
      if (d.errno() == Errno.EBUSY) add("driverTimeouts", 1);
      add(d.errno() == Errno.OK ? "driverReplays" : "driverCancels", 1);
    } else if (e instanceof Trace.DeviceAccessCompleted d) {
      add(d.errno() == Errno.OK ? "gpuAccessesCompleted" : "gpuAccessesCancelled", 1);
    } else if (e instanceof Trace.InvalidateAcked a) {
      add(a.ignored() ? "acksIgnoredByOwner" : "acks", 1);
    } else if (e instanceof Trace.ReadRetryChecked r) {
      if (r.retry()) add("readRetryFailed", 1);
    }
  }

  private final Set<Long> lockedFolios = new HashSet<>();

  /** The counters now, by name (sorted). */
  public synchronized Map<String, Long> snapshot() {
    Map<String, Long> m = new TreeMap<>();
    counts.forEach((k, v) -> m.put(k, v[0]));
    return m;
  }

  // ------------------------------------------------------------------------------------------------ per system

  /** The counters of every node shell in one ActorSystem (one node per JVM; each node its own system embedded). */
  public static final class Registry implements Extension {
    private final Map<Integer, NodeCounters> byNode = new ConcurrentHashMap<>();

    /** Node {@code nodeIndex}'s counters (created on first use). */
    public NodeCounters node(int nodeIndex) { return byNode.computeIfAbsent(nodeIndex, k -> new NodeCounters()); }

    /** Starts node {@code nodeIndex}'s counters from zero (a new node incarnation in a reused JVM counts afresh). */
    public void reset(int nodeIndex) { byNode.remove(nodeIndex); }

    /** Every node's counters of this system, summed (one node per system in every deployment). */
    public Map<String, Long> snapshot() {
      Map<String, Long> all = new TreeMap<>();
      for (NodeCounters c : byNode.values()) c.snapshot().forEach((k, v) -> all.merge(k, v, Long::sum));
      return all;
    }
  }

  private static final class Id extends ExtensionId<Registry> {
    @Override
    public Registry createExtension(ActorSystem<?> system) { return new Registry(); }
  }

  private static final Id ID = new Id();

  /** The counters registry of {@code system}. */
  public static Registry of(ActorSystem<?> system) { return ID.apply(system); }
}
