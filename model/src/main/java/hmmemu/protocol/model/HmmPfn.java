package hmmemu.protocol.model;

/**
 * Models the HMM_PFN_* bits of include/linux/hmm.h in one 64-bit word per page: the pfn in the low bits,
 * flags in the top bits. Input flags (REQ_FAULT = VALID, REQ_WRITE = WRITE) use the same positions.
 */
public final class HmmPfn {
  public static final long VALID = 1L << 63;
  public static final long WRITE = 1L << 62;
  public static final long ERROR = 1L << 61;
  /** Not upstream: proposed by Ralph Campbell in 2021, never merged; set only when hmmPfnExclusive is on. */
  public static final long EXCLUSIVE = 1L << 60;
  /** Not upstream: with EXCLUSIVE, the holder device id sits in bits 40..55. */
  public static final int HOLDER_SHIFT = 40;
  public static final long HOLDER_MASK = 0xffffL << HOLDER_SHIFT;
  public static final long PFN_MASK = (1L << HOLDER_SHIFT) - 1;

  /** Input request bits for HmmRangeFault.reqFlags. */
  public static final int REQ_FAULT = 1;
  public static final int REQ_WRITE = 2;

  private HmmPfn() {}

  public static long pfn(long word) { return word & PFN_MASK; }

  public static int holder(long word) { return (int) ((word & HOLDER_MASK) >>> HOLDER_SHIFT); }

  public static String describe(long word) {
    if (word == 0) return "NONE";
    StringBuilder sb = new StringBuilder();
    if ((word & ERROR) != 0) sb.append("ERROR ");
    if ((word & VALID) != 0) sb.append("VALID ");
    if ((word & WRITE) != 0) sb.append("WRITE ");
    if ((word & EXCLUSIVE) != 0) sb.append("EXCLUSIVE(dev").append(holder(word)).append(") ");
    sb.append("pfn=").append(pfn(word));
    return sb.toString();
  }
}
