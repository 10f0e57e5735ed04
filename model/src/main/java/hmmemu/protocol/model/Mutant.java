package hmmemu.protocol.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Deliberate model mutations for the mutation score of the scenario suite (docs/TESTING.md): each one is a single
 * guarded deviation in a core at the exact place where the kernel behaviour lives, off unless listed in
 * {@link ModelSwitches#mutants()}. Unlike the ablation switches (folioLockUntilMapped, ownerFilter, ...), which the
 * scenario files use to reproduce real variants, a mutant is never a real variant: a suite that does not notice it
 * has a gap. The name on the command line and in HOCON is the constant's name in kebab case
 * ({@code skip-read-retry}).
 */
public enum Mutant {
  EXCLUSIVE_SKIP_FOLIO_LOCK("make_device_exclusive", "cpu-core",
      "does not take (or wait for) the folio lock before converting; the caller's folio_unlock is skipped"),
  EXCLUSIVE_UNLOCK_BEFORE_RETURN("make_device_exclusive", "cpu-core",
      "unlocks the folio right after the conversion instead of leaving it locked for the caller"),
  EXCLUSIVE_SKIP_GUP_REFERENCE("get_user_page_vma_remote", "cpu-core",
      "takes no folio reference (folio_get) for the caller, whose folio_put then drops someone else's"),
  EXCLUSIVE_SKIP_REWALK("make_device_exclusive", "cpu-core",
      "converts without re-checking under the PTE lock that the PTE still maps the locked folio writable"),
  EXCLUSIVE_NO_NOTIFIER("make_device_exclusive", "cpu-core",
      "converts without the MMU_NOTIFY_EXCLUSIVE range (devices keep their mappings)"),
  UNLOCK_PUT_LEAKS_REFERENCE("folio_put", "cpu-core",
      "the caller's folio_unlock() + folio_put() unlocks but leaks the reference"),
  RESTORE_SKIP_FOLIO_LOCK("remove_device_exclusive_entry", "cpu-core",
      "restores the PTE without waiting for the folio lock (folio_lock_or_retry) held by make_device_exclusive's "
          + "caller"),
  RESTORE_WITHOUT_CLEAR("remove_device_exclusive_entry", "cpu-core",
      "restores the PTE without the MMU_NOTIFY_CLEAR range: devices keep their exclusive mapping"),
  SEQ_FORGETS_PARITY("mn_itree_inv_start_range", "cpu-core",
      "an invalidation does not make invalidate_seq odd, so the period is invisible to read_begin/read_retry"),
  DEFERRED_INSERTS_DROPPED("mn_itree_inv_end", "cpu-core",
      "the end of a period does not move deferred inserts into the interval tree"),
  REMOVE_NOT_DEFERRED("mmu_interval_notifier_remove", "cpu-core",
      "removes a subscription at once while invalidate_seq is odd instead of deferring it to the period's end"),
  CLASSIC_BEFORE_INTERVAL("mmu_notifier_invalidate_range_start", "cpu-core",
      "calls the classic invalidate_range_start callbacks before the interval tree's, not after"),
  RANGE_FAULT_SKIP_CHECK_RETRY("hmm_range_fault", "cpu-core",
      "never returns -EBUSY from mmu_interval_check_retry between walks"),
  RANGE_FAULT_IGNORES_DEVEXCL("hmm_vma_handle_pte", "cpu-core",
      "treats a device-exclusive entry as a present writable PTE: no fault, no restore, a VALID|WRITE pfn"),
  FORK_SKIP_PROTECTION_PAGE("copy_page_range", "cpu-core",
      "copies a COW VMA without the MMU_NOTIFY_PROTECTION_PAGE range over it"),
  FORK_IGNORES_FOLIO_LOCK("try_restore_exclusive_pte", "cpu-core",
      "fork restores a device-exclusive entry whose folio is locked (no folio_trylock, no -EBUSY)"),
  DONTNEED_WITHOUT_CLEAR("zap_page_range_single", "cpu-core",
      "MADV_DONTNEED zaps without the MMU_NOTIFY_CLEAR range"),
  READ_BEGIN_NO_WAIT("mmu_interval_read_begin", "gpu-core",
      "returns at once instead of sleeping while an invalidation that hit the subscription is running"),
  SKIP_READ_RETRY("mmu_interval_read_retry", "gpu-core",
      "always answers 'no retry' under the driver lock"),
  SKIP_SET_SEQ("mmu_interval_set_seq", "gpu-core",
      "the interval invalidate callbacks return true without calling mmu_interval_set_seq"),
  OWNER_FILTER_IGNORED("nouveau_svm_range_invalidate", "gpu-core",
      "does not skip the driver's own EXCLUSIVE invalidation (owner filter ignored)"),
  OWNER_FILTER_ANY_OWNER("nouveau_svm_range_invalidate", "gpu-core",
      "skips every EXCLUSIVE invalidation, whatever its owner"),
  ACK_BEFORE_TLB_FLUSH("nouveau_svmm_invalidate_range_start", "gpu-core",
      "acks the classic callback right after the zap, before the device's in-flight transactions completed"),
  CLASSIC_BLOCKS_NONBLOCKABLE("nouveau_svmm_invalidate_range_start", "gpu-core",
      "handles a non-blockable range (the OOM reaper) instead of failing it with -EAGAIN"),
  DMIRROR_ZAP_EXCLUSIVE_END("dmirror_interval_invalidate", "gpu-core",
      "erases [start, end) instead of upstream's inclusive end>>PAGE_SHIFT (one page beyond)"),
  DRIVER_UNLOCK_BEFORE_MAP("nouveau_atomic_range_fault", "gpu-core",
      "folio_unlock() + folio_put() before programming the GPU PTE instead of after");

  private final String kernelFunction;
  private final String module;
  private final String description;

  Mutant(String kernelFunction, String module, String description) {
    this.kernelFunction = kernelFunction;
    this.module = module;
    this.description = description;
  }

  /** The kernel function whose behaviour the mutant breaks. */
  public String kernelFunction() { return kernelFunction; }

  /** The core module where the guarded deviation lives. */
  public String module() { return module; }

  /** What the mutated model does instead of the kernel. */
  public String description() { return description; }

  /** The name on the command line and in HOCON: kebab case ({@code skip-read-retry}). */
  public String cliName() { return name().toLowerCase(Locale.ROOT).replace('_', '-'); }

  /** Parses a kebab-case or constant name; IllegalArgumentException naming the known ones. */
  public static Mutant parse(String name) {
    String n = name.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    for (Mutant m : values()) if (m.name().equals(n)) return m;
    List<String> known = new ArrayList<>();
    for (Mutant m : values()) known.add(m.cliName());
    throw new IllegalArgumentException("unknown mutant '" + name + "' (known: " + String.join(", ", known) + ")");
  }
}
