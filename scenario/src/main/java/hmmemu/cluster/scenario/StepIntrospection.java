package hmmemu.cluster.scenario;

import hmmemu.protocol.msg.HmmProtocol;
import java.util.ArrayList;
import java.util.List;

/**
 * What a stuck step's deadlock report says it waits on, from introspection of the host (moved out of
 * {@link StepExecutor} unchanged). Not a kernel structure.
 */
final class StepIntrospection {
  private StepIntrospection() {}

  /** Each device's invalidate callbacks blocked on a driver mutex, with the holder and what it waits for. */
  static List<String> deadlockSuspects(Scenario scenario, ScenarioHost cluster) {
    List<String> out = new ArrayList<>();
    for (Scenario.Device d : scenario.devices()) {
      if (cluster.crashed(d.node())) continue;
      try {
        for (String s : cluster.inspectDevice(d).deadlockSuspects()) out.add(d.name() + ": " + s);
      } catch (RuntimeException e) {
        out.add(d.name() + ": introspection failed: " + e.getMessage());
      }
    }
    return out;
  }

  /** What a pending step waits on, from introspection (the folio lock of its page, its device's driver loop). */
  static String waitsOn(ScenarioHost cluster, StepExecutor.StepRun r) {
    try {
      Scenario.Action a = r.step.action();
      if (a instanceof Scenario.CpuOp) {
        Scenario.CpuOp c = (Scenario.CpuOp) a;
        // The loop's current page is the one its last started access names; inspect the first page as a fallback.
        long va = c.at().start();
        for (int p = c.at().firstPage(); p <= c.at().lastPage(); p++) {
          if (r.current.contains(c.at().vma().name() + "+" + p + ":")) va = c.at().pageVa(p);
        }
        HmmProtocol.PageInfo i = cluster.inspectPage(c.mm(), va);
        return " (its PTE is " + i.pte() + (i.refcount() > 0 ? ", folio pfn 0x" + Long.toHexString(i.pfn()) + " locked="
            + i.folioLocked() + " refcount=" + i.refcount() : "") + (i.folioLocked() ? ": it waits for the folio lock"
            : "") + ")";
      }
      Scenario.Device d = null;
      if (a instanceof Scenario.WarpOp) d = ((Scenario.WarpOp) a).device();
      if (a instanceof Scenario.DmirrorOp) d = ((Scenario.DmirrorOp) a).device();
      if (d != null && cluster.crashed(d.node())) return " (" + d.name() + "'s GPU node gpu" + d.node() + " crashed)";
      if (d != null) {
        HmmProtocol.DeviceInfo i = cluster.inspectDevice(d);
        String page = "";
        PageRange at = a instanceof Scenario.WarpOp ? ((Scenario.WarpOp) a).at() : ((Scenario.DmirrorOp) a).at();
        HmmProtocol.PageInfo p = cluster.inspectPage(at.vma().mm(), at.start());
        page = ", " + at.namePage(at.firstPage()) + " PTE " + p.pte() + (p.folioLocked() ? " folio locked" : "");
        return " (" + d.name() + ": faults=" + i.faults() + " driver iterations=" + i.driverIterations()
            + " timeouts=" + i.driverTimeouts() + " invalidations=" + i.invalidations() + page
            + ")";
      }
    } catch (RuntimeException e) {
      return " (introspection failed: " + e.getMessage() + ")";
    }
    return "";
  }
}
