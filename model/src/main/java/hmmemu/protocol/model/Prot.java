package hmmemu.protocol.model;

/** PROT_* bits of mmap/mprotect. */
public final class Prot {
  public static final int NONE = 0;
  public static final int READ = 1;
  public static final int WRITE = 2;
  public static final int RW = READ | WRITE;

  private Prot() {}

  public static String describe(int prot) {
    if (prot == NONE) return "PROT_NONE";
    return ((prot & READ) != 0 ? "R" : "") + ((prot & WRITE) != 0 ? "W" : "");
  }
}
