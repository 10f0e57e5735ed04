package hmmemu.node.cost;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.Ready;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.Trace;

/**
 * What the host-side work of one core step costs in model time (nanoseconds): the kernel and driver code a real
 * machine runs where the emulator runs a core step. Pure (no clock): the host that carries the step out decides
 * what to do with the cost (the simulator advances the node's local time by it before the step's outbound messages
 * leave; docs/LATENCY.md says why the actor shells do not). Defaults and their sources: docs/LATENCY.md
 * "Host-side cost model". All zero = off (then a step costs nothing, as before the model existed).
 *
 * <p>What a step is charged, counted from its input message and its {@link Ready}:
 * <ul>
 *   <li>CPU node: {@code cpuPageFault} per {@link Trace.CpuFaulted} (handle_mm_fault for a CPU access);
 *       {@code pteUpdate} per {@link Trace.PteChanged} (set_pte_at / ptep_clear_flush of one page);
 *       {@code gupPerPage} per page pinned or walked for a driver (make_device_exclusive's get_user_pages: one per
 *       MakeDeviceExclusive, one per page of a MakeDeviceExclusiveRange; hmm_range_fault's walk: one per HMM_PFN of its reply);
 *       {@code notifierCallback} per InvalidateStart sent (mn_itree_invalidate calling one subscription's
 *       invalidate()).</li>
 *   <li>GPU node: {@code deviceTlbInvalidation} once per step that zapped device entries (the driver's invalidate
 *       callback flushing the device TLB for the range); {@code driverFaultBatch} once per step that took device
 *       faults (the driver servicing a batch from its fault buffer); {@code pteUpdate} per device entry installed
 *       (the driver writing its page table).</li>
 * </ul>
 */
public record HostCost(long cpuPageFaultNanos, long pteUpdateNanos, long gupPerPageNanos, long notifierCallbackNanos,
    long deviceTlbInvalidationNanos, long driverFaultBatchNanos) {

  /** No host-side cost: a step takes no model time. */
  public static final HostCost OFF = new HostCost(0, 0, 0, 0, 0, 0);

  /** The defaults of docs/LATENCY.md (the same as {@link #DEFAULTS_HOCON}). */
  public static final HostCost DEFAULTS = new HostCost(1_000, 50, 100, 200, 2_000, 20_000);

  /** The built-in block, the fallback of {@link #fromConfig}; cluster-config's reference.conf carries the same. */
  public static final String DEFAULTS_HOCON = String.join("\n",
      "hmm-emu.host-cost {",
      "  enabled = on",
      "  cpu-page-fault = 1us",
      "  pte-update = 50ns",
      "  gup-per-page = 100ns",
      "  notifier-callback = 200ns",
      "  device-tlb-invalidation = 2us",
      "  driver-fault-batch = 20us",
      "}");

  public HostCost {
    if (cpuPageFaultNanos < 0 || pteUpdateNanos < 0 || gupPerPageNanos < 0 || notifierCallbackNanos < 0
        || deviceTlbInvalidationNanos < 0 || driverFaultBatchNanos < 0) {
      throw new IllegalArgumentException("hmm-emu.host-cost: costs must be >= 0");
    }
  }

  /** True when every cost is zero. */
  public boolean isOff() {
    return cpuPageFaultNanos == 0 && pteUpdateNanos == 0 && gupPerPageNanos == 0 && notifierCallbackNanos == 0
        && deviceTlbInvalidationNanos == 0 && driverFaultBatchNanos == 0;
  }

  /**
   * Reads {@code hmm-emu.host-cost} ({@link #DEFAULTS_HOCON} fills what is missing); {@code enabled = off} gives
   * {@link #OFF}.
   *
   * @throws IllegalArgumentException naming the key of a bad value
   */
  public static HostCost fromConfig(Config config) {
    Config c = config.withFallback(ConfigFactory.parseString(DEFAULTS_HOCON)).resolve().getConfig("hmm-emu.host-cost");
    try {
      if (!c.getBoolean("enabled")) return OFF;
      return new HostCost(nanos(c, "cpu-page-fault"), nanos(c, "pte-update"), nanos(c, "gup-per-page"),
          nanos(c, "notifier-callback"), nanos(c, "device-tlb-invalidation"), nanos(c, "driver-fault-batch"));
    } catch (com.typesafe.config.ConfigException e) {
      throw new IllegalArgumentException("hmm-emu.host-cost: " + e.getMessage(), e);
    }
  }

  private static long nanos(Config c, String key) {
    long n = c.getDuration(key).toNanos();
    if (n < 0) {
      // as typed (-1us, not -1000ns), and where: the file that set it
      com.typesafe.config.ConfigValue v = c.getValue(key);
      var o = v.origin();
      throw new IllegalArgumentException("hmm-emu.host-cost." + key + " = "
          + (v.unwrapped() instanceof String t ? t : v.render()) + ": must be >= 0"
          + (o == null || o.filename() == null ? "" : " (set in " + o.filename()
              + (o.lineNumber() > 0 ? ":" + o.lineNumber() : "") + ")"));
    }
    return n;
  }

  /** Cost of one CPU node step (CpuMm.step or tick) that read {@code in} (null for a tick) and made {@code r}. */
  public long cpuStepNanos(HmmProtocol.Msg in, Ready r) {
    if (isOff()) return 0;
    long cost = 0;
    for (Trace.Event e : r.events) {
      if (e instanceof Trace.PteChanged) cost += pteUpdateNanos;
      else if (e instanceof Trace.CpuFaulted) cost += cpuPageFaultNanos;
    }
    if (in instanceof HmmProtocol.MakeDeviceExclusive) cost += gupPerPageNanos;
    else if (in instanceof HmmProtocol.MakeDeviceExclusiveRange x) cost += gupPerPageNanos * x.pageReqIds().size();
    for (Outbound o : r.out) {
      HmmProtocol.Msg m = o.msg();
      if (m instanceof HmmProtocol.InvalidateStart) cost += notifierCallbackNanos;
      else if (m instanceof HmmProtocol.HmmRangeFaultReply reply && reply.hmmPfns() != null) {
        cost += gupPerPageNanos * reply.hmmPfns().size();
      }
    }
    return cost;
  }

  /** Cost of one GPU node step (GpuNode.step) that read {@code in} and made {@code r}. */
  public long gpuStepNanos(HmmProtocol.Msg in, Ready r) {
    if (isOff()) return 0;
    long cost = 0;
    boolean zapped = false, faulted = false;
    for (Trace.Event e : r.events) {
      if (e instanceof Trace.DeviceEntryZapped) zapped = true;
      else if (e instanceof Trace.DeviceFaulted) faulted = true;
      else if (e instanceof Trace.DeviceEntryInstalled) cost += pteUpdateNanos;
    }
    if (zapped) cost += deviceTlbInvalidationNanos;
    if (faulted) cost += driverFaultBatchNanos;
    return cost;
  }
}
