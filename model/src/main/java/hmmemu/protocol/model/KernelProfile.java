package hmmemu.protocol.model;

/** Which kernel generation's device-exclusive semantics the CPU node follows (docs/PROTOCOL.md version legend). */
public enum KernelProfile {
  /** Linux 5.14-6.14: restore raises EXCLUSIVE with owner NULL, DEVEXCL not counted in mapcount, trylock in conversion. */
  V5_14,
  /** Linux 6.15+ (default): restore raises CLEAR, DEVEXCL counted like a present PTE, conversion sleeps and retries. */
  V6_15
}
