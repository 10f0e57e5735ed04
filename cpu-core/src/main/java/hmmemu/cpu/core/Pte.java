package hmmemu.cpu.core;

import hmmemu.protocol.model.PteState;

/**
 * Models one x86-64 page-table entry (pte_t) as the core sees it: its state, pfn and the W (write), D (dirty),
 * A (young) and soft-dirty bits. For DEVEXCL entries {@code write} is the 5.14 writable variant
 * (SWP_DEVICE_EXCLUSIVE_WRITE); 6.15 entries are always {@code write=false}, {@code dirty=false},
 * {@code young=false} (device-exclusive entries are clean and old). Equality is pte_same().
 */
public record Pte(PteState state, long pfn, boolean write, boolean dirty, boolean young, boolean softDirty) {
  /** pte_none(). */
  public static final Pte NONE = new Pte(PteState.NONE, 0, false, false, false, false);

  public boolean isPresent() { return state == PteState.PRESENT; }

  public boolean isDeviceExclusive() { return state == PteState.DEVEXCL; }
}
