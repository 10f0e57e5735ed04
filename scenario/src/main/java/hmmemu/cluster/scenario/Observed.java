package hmmemu.cluster.scenario;

import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.List;

/** What expectations look at after a step: the cluster's state through introspection, and the step's outcome. */
public interface Observed {
  /** The PTE and folio behind (mm, va) on the CPU node. */
  HmmProtocol.PageInfo page(int mm, long va);

  /** The folio at {@code pfn}, mapped or not (pte NONE; zeroes when no folio has that pfn). */
  HmmProtocol.PageInfo folio(long pfn);

  /** The notifier subscriptions the device holds on {@code mm}, with the mm's invalidate_seq. */
  HmmProtocol.NotifierInfo notifiers(Scenario.Device device, int mm);

  /** A device's page table and counters. */
  HmmProtocol.DeviceInfo device(Scenario.Device device);

  /** The outcome of the step (for an await of one step, of that step); null when it did not complete. */
  Outcome outcome();

  /** True when the step (or a step it awaits) did not complete within its bounded wait. */
  boolean deadlocked();

  /** What waits on what, when {@link #deadlocked()}. */
  String deadlockReport();

  /**
   * Invalidate callbacks delivered to the device's subscriptions (of {@code kind}, or all when null) with
   * {@code event} (or all when null), for ranges that intersect a declared VMA.
   */
  long invalidations(int deviceId, NotifierKind kind, String event);

  /** The invalidate callbacks counted by {@link #invalidations}, in order, as "EVENT [0xSTART, 0xEND)". */
  List<String> invalidationRanges(int deviceId, NotifierKind kind);

  /** The device's hmm_range_fault calls answered so far with {@code errno} (every answer when null). */
  long rangeFaults(int deviceId, hmmemu.protocol.model.Errno errno);

  /** The kernel profile the run models. */
  hmmemu.protocol.model.KernelProfile profile();

  /** The checker's violations so far, one summary each ("I8 at ...: ..."), once it delivered what we have seen. */
  List<String> violations();

  /** Page faults taken by every CPU step completed so far. */
  long totalCpuFaults();

  /** Pfns named by {@code pfn = "@X"} expectations so far (the first use binds the name). */
  java.util.Map<String, Long> pfnNames();

  /** Trace events of this type (NodeGone, FolioLockLeaseExpired, ...) the checker delivered so far. */
  long traceCount(String type);

  /** True when the step with this id has completed. */
  boolean completed(String stepId);
}
