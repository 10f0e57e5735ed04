package hmmemu.protocol.model;

import java.util.Collection;
import java.util.EnumSet;
import java.util.List;

/**
 * The model's variant switches (documented in cluster-config's reference.conf, hmm-emu.model.*).
 * Defaults reproduce the kernel; every other value is an ablation or a historical bug.
 *
 * @param kernelProfile            kernel generation (V6_15 default)
 * @param folioLockUntilMapped     true (kernel): make_device_exclusive returns with the folio locked and the
 *                                 driver unlocks after mapping; false: the CPU node unlocks right after
 *                                 conversion (the open question of docs/PROTOCOL.md §8 R9, case C08)
 * @param ownerFilter              true (kernel): a driver ignores EXCLUSIVE invalidations carrying its own owner
 * @param driverLockAcrossConversion true: nouveau takes its svmm mutex before make_device_exclusive (C10)
 * @param leakFolioOnRetry         true: the pre-Feb-2025 nouveau retry path that keeps the folio locked (C17)
 * @param dmirrorSeqCheck          false (kernel): dmirror's EXCLUSIVE path maps without read_begin/read_retry
 * @param hmmPfnExclusive          true: snapshots report a device-exclusive flag and holder (never merged upstream)
 * @param driverDeadlineMicros     the driver fault loop's deadline in model microseconds (HMM_RANGE_DEFAULT_TIMEOUT)
 * @param brokenMapBeforeRetry     test-only fault: the driver maps before read_retry (the checker must catch it)
 * @param mutants                  deliberate model mutations for the mutation score (docs/TESTING.md); empty by
 *                                 default, never a real kernel variant
 */
public record ModelSwitches(
    KernelProfile kernelProfile,
    boolean folioLockUntilMapped,
    boolean ownerFilter,
    boolean driverLockAcrossConversion,
    boolean leakFolioOnRetry,
    boolean dmirrorSeqCheck,
    boolean hmmPfnExclusive,
    long driverDeadlineMicros,
    boolean brokenMapBeforeRetry,
    List<Mutant> mutants) {

  /** Unmodifiable, without duplicates, in declaration order (a list, as on the wire); null stands for none. */
  public ModelSwitches {
    mutants = mutants == null || mutants.isEmpty() ? List.of() : List.copyOf(EnumSet.copyOf(mutants));
  }

  /** The switches without mutants (the form every caller used before mutants existed). */
  public ModelSwitches(KernelProfile kernelProfile, boolean folioLockUntilMapped, boolean ownerFilter,
      boolean driverLockAcrossConversion, boolean leakFolioOnRetry, boolean dmirrorSeqCheck, boolean hmmPfnExclusive,
      long driverDeadlineMicros, boolean brokenMapBeforeRetry) {
    this(kernelProfile, folioLockUntilMapped, ownerFilter, driverLockAcrossConversion, leakFolioOnRetry,
        dmirrorSeqCheck, hmmPfnExclusive, driverDeadlineMicros, brokenMapBeforeRetry, List.of());
  }

  /** True when the mutant is active: the core then deviates from the kernel at that one place. */
  public boolean has(Mutant m) { return !mutants.isEmpty() && mutants.contains(m); }

  /** These switches with {@code m} active as well. */
  public ModelSwitches withMutant(Mutant m) {
    EnumSet<Mutant> all = EnumSet.of(m);
    all.addAll(mutants);
    return withMutants(all);
  }

  /** These switches with exactly {@code ms} active (empty: none). */
  public ModelSwitches withMutants(Collection<Mutant> ms) {
    return new ModelSwitches(kernelProfile, folioLockUntilMapped, ownerFilter, driverLockAcrossConversion,
        leakFolioOnRetry, dmirrorSeqCheck, hmmPfnExclusive, driverDeadlineMicros, brokenMapBeforeRetry,
        ms == null || ms.isEmpty() ? List.of() : List.copyOf(EnumSet.copyOf(ms)));
  }

  /** HMM_RANGE_DEFAULT_TIMEOUT = 1000 ms. */
  public static final long DEFAULT_DEADLINE_MICROS = 1_000_000L;

  /** The kernel as of 6.15: every switch at its faithful value. */
  public static ModelSwitches kernel() {
    return new ModelSwitches(KernelProfile.V6_15, true, true, false, false, false, false,
        DEFAULT_DEADLINE_MICROS, false);
  }

  public ModelSwitches withFolioLockUntilMapped(boolean v) {
    return new ModelSwitches(kernelProfile, v, ownerFilter, driverLockAcrossConversion, leakFolioOnRetry,
        dmirrorSeqCheck, hmmPfnExclusive, driverDeadlineMicros, brokenMapBeforeRetry, mutants);
  }

  public ModelSwitches withOwnerFilter(boolean v) {
    return new ModelSwitches(kernelProfile, folioLockUntilMapped, v, driverLockAcrossConversion, leakFolioOnRetry,
        dmirrorSeqCheck, hmmPfnExclusive, driverDeadlineMicros, brokenMapBeforeRetry, mutants);
  }

  public ModelSwitches withBrokenMapBeforeRetry(boolean v) {
    return new ModelSwitches(kernelProfile, folioLockUntilMapped, ownerFilter, driverLockAcrossConversion,
        leakFolioOnRetry, dmirrorSeqCheck, hmmPfnExclusive, driverDeadlineMicros, v, mutants);
  }

  public ModelSwitches withKernelProfile(KernelProfile v) {
    return new ModelSwitches(v, folioLockUntilMapped, ownerFilter, driverLockAcrossConversion, leakFolioOnRetry,
        dmirrorSeqCheck, hmmPfnExclusive, driverDeadlineMicros, brokenMapBeforeRetry, mutants);
  }

  public ModelSwitches withDriverDeadlineMicros(long v) {
    return new ModelSwitches(kernelProfile, folioLockUntilMapped, ownerFilter, driverLockAcrossConversion,
        leakFolioOnRetry, dmirrorSeqCheck, hmmPfnExclusive, v, brokenMapBeforeRetry, mutants);
  }

  public ModelSwitches withDriverLockAcrossConversion(boolean v) {
    return new ModelSwitches(kernelProfile, folioLockUntilMapped, ownerFilter, v, leakFolioOnRetry,
        dmirrorSeqCheck, hmmPfnExclusive, driverDeadlineMicros, brokenMapBeforeRetry, mutants);
  }

  public ModelSwitches withLeakFolioOnRetry(boolean v) {
    return new ModelSwitches(kernelProfile, folioLockUntilMapped, ownerFilter, driverLockAcrossConversion, v,
        dmirrorSeqCheck, hmmPfnExclusive, driverDeadlineMicros, brokenMapBeforeRetry, mutants);
  }

  public ModelSwitches withDmirrorSeqCheck(boolean v) {
    return new ModelSwitches(kernelProfile, folioLockUntilMapped, ownerFilter, driverLockAcrossConversion,
        leakFolioOnRetry, v, hmmPfnExclusive, driverDeadlineMicros, brokenMapBeforeRetry, mutants);
  }

  public ModelSwitches withHmmPfnExclusive(boolean v) {
    return new ModelSwitches(kernelProfile, folioLockUntilMapped, ownerFilter, driverLockAcrossConversion,
        leakFolioOnRetry, dmirrorSeqCheck, v, driverDeadlineMicros, brokenMapBeforeRetry, mutants);
  }
}
