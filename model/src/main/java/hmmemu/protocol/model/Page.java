package hmmemu.protocol.model;

/** Page geometry of the emulated x86-64 mm: 4 KiB base pages (PAGE_SIZE, PAGE_SHIFT in the kernel). */
public final class Page {
  public static final int SHIFT = 12;
  public static final long SIZE = 1L << SHIFT;
  /** 64-bit words per page; page contents are modelled word by word. */
  public static final int WORDS = (int) (SIZE / Long.BYTES);
  /** The largest user address (TASK_SIZE on x86-64), used for "whole address space" ranges. */
  public static final long TASK_SIZE = 0x0000_7fff_ffff_f000L;

  private Page() {}

  /** Models PAGE_ALIGN_DOWN: the start of the page holding {@code va}. */
  public static long alignDown(long va) { return va & ~(SIZE - 1); }

  /** Virtual page number of {@code va}. */
  public static long vpn(long va) { return va >>> SHIFT; }

  /** Word index within the page for byte address {@code va} (which must be 8-byte aligned). */
  public static int wordIndex(long va) { return (int) ((va & (SIZE - 1)) >>> 3); }
}
