package hmmemu.cluster.scenario;

import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The host (cluster or simulator) as expectations see it after one step; each page and device is inspected once per step. */
final class StepObservation implements Observed {
  private final ScenarioHost cluster;
  private final StepExecutor steps;
  private final Outcome outcome;
  private final boolean deadlocked;
  private final String deadlockReport;
  /** The pages inspected in this step, by mm and address, and the folios by pfn. */
  private final Map<PageAt, HmmProtocol.PageInfo> pages = new HashMap<>();
  private final Map<Long, HmmProtocol.PageInfo> folios = new HashMap<>();
  private final Map<Integer, HmmProtocol.DeviceInfo> devices = new HashMap<>();
  private List<String> violations;
  private ScenarioHost.CheckerView verdict;

  /** A page of an mm, the key of {@link #pages}. Not a kernel structure. */
  private record PageAt(int mm, long va) {}

  StepObservation(ScenarioHost cluster, StepExecutor steps, Outcome outcome, boolean deadlocked,
      String deadlockReport) {
    this.cluster = cluster;
    this.steps = steps;
    this.outcome = outcome;
    this.deadlocked = deadlocked;
    this.deadlockReport = deadlockReport;
  }

  @Override
  public HmmProtocol.PageInfo page(int mm, long va) {
    PageAt at = new PageAt(mm, va);
    HmmProtocol.PageInfo info = pages.get(at);
    if (info == null) {
      info = cluster.inspectPage(mm, va);
      pages.put(at, info);
    }
    return info;
  }

  @Override
  public HmmProtocol.PageInfo folio(long pfn) {
    HmmProtocol.PageInfo info = folios.get(pfn);
    if (info == null) {
      info = cluster.inspectFolio(pfn);
      folios.put(pfn, info);
    }
    return info;
  }

  @Override
  public HmmProtocol.NotifierInfo notifiers(Scenario.Device d, int mm) {
    return cluster.inspectNotifier(d, mm);
  }

  @Override
  public HmmProtocol.DeviceInfo device(Scenario.Device d) {
    if (cluster.crashed(d.node())) {
      throw new IllegalStateException(d.name() + "'s GPU node gpu" + d.node() + " crashed and was not restarted");
    }
    return devices.computeIfAbsent(d.id(), k -> cluster.inspectDevice(d));
  }

  @Override
  public Outcome outcome() { return outcome; }

  @Override
  public boolean deadlocked() { return deadlocked; }

  @Override
  public String deadlockReport() { return deadlockReport; }

  @Override
  public long invalidations(int deviceId, NotifierKind kind, String event) {
    return cluster.observer().count(cluster.currentDeviceId(deviceId), kind, event);
  }

  @Override
  public List<String> invalidationRanges(int deviceId, NotifierKind kind) {
    List<String> out = new java.util.ArrayList<>();
    for (InvalidateObserver.Callback c : cluster.observer().callbacks(cluster.currentDeviceId(deviceId), kind)) {
      out.add(Expectation.InvalidationRanges.describe(c.event().name(), c.start(), c.end()));
    }
    return out;
  }

  @Override
  public long rangeFaults(int deviceId, hmmemu.protocol.model.Errno errno) {
    return cluster.observer().rangeFaults(cluster.currentDeviceId(deviceId), errno);
  }

  @Override
  public hmmemu.protocol.model.KernelProfile profile() { return steps.profile(); }

  @Override
  public List<String> violations() {
    if (violations == null) {
      if (verdict == null) verdict = cluster.checker();
      violations = verdict.violations();
    }
    return violations;
  }

  @Override
  public long traceCount(String type) {
    if (verdict == null) verdict = cluster.checker();
    if (!verdict.caughtUp()) {
      throw new IllegalStateException("the invariant checker had not delivered every event (" + verdict.pending()
          + " pending)");
    }
    return verdict.eventCounts().getOrDefault(type, 0L);
  }

  @Override
  public long totalCpuFaults() { return steps.totalCpuFaults(); }

  @Override
  public Map<String, Long> pfnNames() { return steps.pfnNames(); }

  @Override
  public boolean completed(String stepId) {
    return steps.completed(stepId);
  }
}

