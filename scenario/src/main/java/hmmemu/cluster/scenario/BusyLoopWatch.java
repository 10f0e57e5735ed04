package hmmemu.cluster.scenario;

import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The busy livelock of a device (docs/SCENARIOS.md "Liveness verdicts", issue 12 item 5, issue 13 (b)): a party that
 * keeps working but makes no progress while others do, as nouveau_atomic_range_fault's loop when every
 * {@code mmu_interval_read_retry} fails (§8 R9, C08: a CPU write restores the page with MMU_NOTIFY_CLEAR between the
 * driver's make_device_exclusive and its read_retry). Fed the trace in model time (SimHost hands it every trace event;
 * ScenarioCluster every event its checker applies, at the event's stamped model time); only a
 * file with {@code liveness { livelock-span = ... }} is watched.
 *
 * <p>Per device: a device's events since its last progress are counted (the loop), and the span starts at the first
 * failed iteration among them ({@code ReadRetryChecked(retry)}); the run closes on
 * progress (an iteration whose read_retry passed, the end of a driver fault loop, {@code DriverFaultHandled}, whatever
 * its errno: the driver's own deadline ending a loop is the kernel's bound, not a livelock, and a completed access).
 * A failed iteration more than the span after the run opened is the livelock: {@link #found} names the device,
 * the loop (the device's events over the run) and who undid it (the invalidations the CPU node started and the
 * CPU threads' faults meanwhile). Only failing iterations trigger it, so a device that waits (no event) is a
 * deadlock's business, never this one's. Not a kernel structure.
 */
final class BusyLoopWatch {
  private final long spanNanos;
  private final Map<Integer, String> deviceNames;
  private final Map<Integer, Run> runs = new HashMap<>();
  private String found;
  private boolean reported;

  /** A device's events since its last progress; {@code startNanos}: its first failed iteration since (-1: none). */
  private static final class Run {
    long startNanos = -1;
    int failed;
    final Map<String, Integer> loop = new LinkedHashMap<>();
    final Map<String, Integer> undoneBy = new LinkedHashMap<>();
  }

  /** @param deviceNames device id -> the scenario's device name */
  BusyLoopWatch(long spanNanos, Map<Integer, String> deviceNames) {
    this.spanNanos = spanNanos;
    this.deviceNames = deviceNames;
  }

  /** The watch of a file with {@code liveness { livelock-span }} (the span in model time: / time-scale), or null. */
  static BusyLoopWatch of(Scenario scenario, double timeScale) {
    if (scenario.livelockSpan() == null) return null;
    Map<Integer, String> names = new HashMap<>();
    for (Scenario.Device d : scenario.devices()) names.put(d.id(), d.name());
    return new BusyLoopWatch((long) (scenario.livelockSpan().toNanos() / timeScale), names);
  }

  /** The livelock found ("G's driver fault loop failed ...; the loop: ...; undone by: ..."), until {@link #reported}. */
  String found() { return reported ? null : found; }

  /** The found livelock was reported (a run ends with its first one): the watch stops. */
  void reported() { reported = true; }

  /** Hears one trace event at model time {@code nowNanos}. */
  void onEvent(Stamped s, long nowNanos) {
    Trace.Event e = s.event();
    if (found != null) return;
    if (s.node() == 0 && !runs.isEmpty()) {
      // the CPU node: who undoes the device's iterations (its own conversions count in its loop, below)
      String who = null;
      if (e instanceof Trace.InvalidateStarted i && i.event() != hmmemu.protocol.model.NotifyEvent.EXCLUSIVE) {
        who = "MMU_NOTIFY_" + i.event();
      } else if (e instanceof Trace.CpuFaulted f) {
        who = "T" + f.threadId() + " " + f.kind() + " fault";
      }
      if (who != null) {
        for (Run r : runs.values()) r.undoneBy.merge(who, 1, Integer::sum);
        return;
      }
    }
    int device = deviceOf(e);
    if (device < 0) return;
    if (e instanceof Trace.ReadRetryChecked c && c.retry()) {
      Run r = runs.computeIfAbsent(device, d -> new Run());
      if (r.startNanos < 0) r.startNanos = nowNanos;
      r.failed++;
      r.loop.merge("read_retry failed", 1, Integer::sum);
      if (nowNanos - r.startNanos > spanNanos) found = describe(device, r, nowNanos);
      return;
    }
    boolean progress = e instanceof Trace.ReadRetryChecked || e instanceof Trace.DriverFaultHandled
        || e instanceof Trace.DeviceAccessCompleted;
    if (progress) {
      runs.remove(device);
      return;
    }
    runs.computeIfAbsent(device, d -> new Run()).loop.merge(loopName(e), 1, Integer::sum);
  }

  private String describe(int device, Run r, long nowNanos) {
    String name = deviceNames.getOrDefault(device, "device " + device);
    List<String> loop = new ArrayList<>();
    r.loop.forEach((k, v) -> loop.add(k + " x" + v));
    List<String> undone = new ArrayList<>();
    r.undoneBy.forEach((k, v) -> undone.add(k + " x" + v));
    return name + "'s driver fault loop failed " + r.failed + " iteration(s) in a row over "
        + (nowNanos - r.startNanos) / 1000 + " µs of model time (span " + spanNanos / 1000 + " µs) and no access of "
        + name + " completed; the loop since its last progress: " + String.join(", ", loop) + "; undone by: "
        + (undone.isEmpty() ? "nothing on the CPU node" : String.join(", ", undone));
  }

  /** The loop's name for a device event (make_device_exclusive's return, the driver's acks, ...). */
  private static String loopName(Trace.Event e) {
    if (e instanceof Trace.ExclusiveReturned x) return "make_device_exclusive -> " + x.errno();
    if (e instanceof Trace.InvalidateAcked a) return "invalidate callback" + (a.ignored() ? " (ignored)" : "");
    return e.getClass().getSimpleName();
  }

  /** The device an event of a GPU node is about, or -1. */
  static int deviceOf(Trace.Event e) {
    if (e instanceof Trace.ReadRetryChecked x) return x.deviceId();
    if (e instanceof Trace.DriverFaultHandled x) return x.deviceId();
    if (e instanceof Trace.DeviceAccessCompleted x) return x.deviceId();
    if (e instanceof Trace.ExclusiveReturned x) return x.deviceId();
    if (e instanceof Trace.InvalidateAcked x) return x.deviceId();
    if (e instanceof Trace.DeviceFaulted x) return x.deviceId();
    if (e instanceof Trace.DeviceEntryInstalled x) return x.deviceId();
    if (e instanceof Trace.DeviceEntryZapped x) return x.deviceId();
    if (e instanceof Trace.DeviceAccessIssued x) return x.deviceId();
    if (e instanceof Trace.FolioUnlockPutDone x) return x.deviceId();
    return -1;
  }
}
