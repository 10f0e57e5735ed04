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
  private final Map<String, HmmProtocol.PageInfo> pages = new HashMap<>();
  private final Map<Integer, HmmProtocol.DeviceInfo> devices = new HashMap<>();
  private List<String> violations;
  private ScenarioHost.CheckerView verdict;

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
    return pages.computeIfAbsent(mm + ":" + va, k -> cluster.inspectPage(mm, va));
  }

  @Override
  public HmmProtocol.PageInfo folio(long pfn) {
    return pages.computeIfAbsent("pfn:" + pfn, k -> cluster.inspectFolio(pfn));
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

