package hmmemu.sim;

import hmmemu.cpu.core.CpuMm;
import hmmemu.node.cost.HostCost;
import hmmemu.node.link.LinkSettings;
import hmmemu.protocol.model.ModelSwitches;

/**
 * What the simulated cluster looks like and how it is driven ({@link Sim}'s configuration; emulator-only host
 * mechanism): seed, GPU nodes and devices, the model switches, the folio-lock lease, the link, controller hops, the
 * invariant checker and the host-side cost model.
 */
public record SimConfig(long seed, int gpuNodes, int devicesPerNode, ModelSwitches switches, long folioLockLeaseMicros,
    LinkSettings link, double controllerHopMicros, boolean check, HostCost hostCost) {
  public SimConfig {
    if (hostCost == null) hostCost = HostCost.OFF;
  }

  /** Without a host-side cost model (steps take no model time): the shape of the first simulator. */
  public SimConfig(long seed, int gpuNodes, int devicesPerNode, ModelSwitches switches, long folioLockLeaseMicros,
      LinkSettings link, double controllerHopMicros, boolean check) {
    this(seed, gpuNodes, devicesPerNode, switches, folioLockLeaseMicros, link, controllerHopMicros, check,
        HostCost.OFF);
  }

  /** The default shape: one device per GPU node, the built-in link, 1 µs controller hops, no host-side cost. */
  public static SimConfig of(long seed, int gpuNodes, ModelSwitches switches) {
    return new SimConfig(seed, gpuNodes, 1, switches, CpuMm.DEFAULT_FOLIO_LOCK_LEASE_MICROS, LinkSettings.builtIn(), 1.0, true);
  }

  public SimConfig withLink(LinkSettings l) {
    return new SimConfig(seed, gpuNodes, devicesPerNode, switches, folioLockLeaseMicros, l, controllerHopMicros, check,
        hostCost);
  }

  /**
   * A copy whose link has one lane per sending kernel thread ({@code hmm-emu.link.lanes = per-thread},
   * hmmemu.node.link.Lanes, docs/PROTOCOL.md §5.8) or one lane per direction (off, the default).
   */
  public SimConfig withLanes(boolean perThread) { return withLink(link.withLanes(perThread)); }

  public SimConfig withLease(long micros) {
    return new SimConfig(seed, gpuNodes, devicesPerNode, switches, micros, link, controllerHopMicros, check, hostCost);
  }

  public SimConfig withControllerHop(double micros) {
    return new SimConfig(seed, gpuNodes, devicesPerNode, switches, folioLockLeaseMicros, link, micros, check, hostCost);
  }

  /** Without the invariant checker (a measurement of the simulator's own cost; never for a verdict). */
  public SimConfig withoutChecker() {
    return new SimConfig(seed, gpuNodes, devicesPerNode, switches, folioLockLeaseMicros, link, controllerHopMicros, false,
        hostCost);
  }

  /** With the host-side cost model {@code c} ({@link HostCost#OFF}: steps take no model time). */
  public SimConfig withHostCost(HostCost c) {
    return new SimConfig(seed, gpuNodes, devicesPerNode, switches, folioLockLeaseMicros, link, controllerHopMicros, check,
        c);
  }
}
