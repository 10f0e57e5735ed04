package hmmemu.cluster.scenario;

import hmmemu.protocol.model.Page;

/**
 * The value a scenario expects or writes at word {@code w} of page {@code p} (both counted from the start of the
 * VMA): {@code index} is hmm-tests' fill (the 64-bit word index {@code p * 512 + w}) plus {@code plus}; {@code value}
 * is the constant {@code plus}.
 */
public record Pattern(boolean index, long plus) {
  public static Pattern constant(long v) { return new Pattern(false, v); }

  public static Pattern index(long plus) { return new Pattern(true, plus); }

  /** The value at word {@code word} of page {@code page} of the VMA. */
  public long at(int page, int word) { return index ? (long) page * Page.WORDS + word + plus : plus; }

  public String describe() {
    if (!index) return Long.toString(plus);
    return plus == 0 ? "index" : "index" + (plus > 0 ? "+" : "") + plus;
  }
}
