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

  /**
   * HMM_PFN_ORDER_SHIFT (6.15 include/linux/hmm.h: BITS_PER_LONG - 8): bits 56..60 hold the order of the CPU mapping
   * (hmm_pfn_flags_order(); 9 for a PMD-mapped THP, from hmm_vma_handle_pmd), read by hmm_pfn_to_map_order().
   * Bit 60 is also the non-upstream EXCLUSIVE bit; it is an order bit only for orders of 16 and above, which no path
   * of hmm-emu produces (PUD mappings are not modelled).
   */
  public static final int ORDER_SHIFT = 56;
  public static final long ORDER_MASK = 0x1FL << ORDER_SHIFT;

  /** Input request bits for HmmRangeFault.reqFlags. */
  public static final int REQ_FAULT = 1;
  public static final int REQ_WRITE = 2;

  private HmmPfn() {}

  public static long pfn(long word) { return word & PFN_MASK; }

  /** hmm_pfn_flags_order(): the order bits of a word. */
  public static long orderFlags(int order) { return ((long) order & 0x1F) << ORDER_SHIFT; }

  /**
   * hmm_pfn_to_map_order(): the order of the CPU mapping the word was read from (0 for a PTE). Read as bits 56..59
   * (the kernel's mask is 5 bits): bit 60 is EXCLUSIVE here.
   */
  public static int mapOrder(long word) { return (int) ((word >>> ORDER_SHIFT) & 0x0F); }

  public static int holder(long word) { return (int) ((word & HOLDER_MASK) >>> HOLDER_SHIFT); }

  public static String describe(long word) {
    if (word == 0) return "NONE";
    StringBuilder sb = new StringBuilder();
    if ((word & ERROR) != 0) sb.append("ERROR ");
    if ((word & VALID) != 0) sb.append("VALID ");
    if ((word & WRITE) != 0) sb.append("WRITE ");
    if ((word & EXCLUSIVE) != 0) sb.append("EXCLUSIVE(dev").append(holder(word)).append(") ");
    if (mapOrder(word) != 0) sb.append("ORDER(").append(mapOrder(word)).append(") ");
    sb.append("pfn=").append(pfn(word));
    return sb.toString();
  }
}
