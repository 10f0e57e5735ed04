package hmmemu.cluster.scenario;

import hmmemu.protocol.model.Page;

/**
 * The value a scenario expects or writes at word {@code w} of page {@code p} (both counted from the start of the
 * VMA): {@code index} is hmm-tests' fill (the 64-bit word index {@code p * 512 + w}), {@code neg-index} its negation
 * (hmm-tests' {@code -i} mirror fill), each plus {@code plus}; {@code value} is the constant {@code plus}.
 */
public record Pattern(boolean index, boolean negate, long plus) {
  public static Pattern constant(long v) { return new Pattern(false, false, v); }

  public static Pattern index(long plus) { return new Pattern(true, false, plus); }

  public static Pattern negIndex(long plus) { return new Pattern(true, true, plus); }

  /** The value at word {@code word} of page {@code page} of the VMA. */
  public long at(int page, int word) {
    if (!index) return plus;
    long i = (long) page * Page.WORDS + word;
    return (negate ? -i : i) + plus;
  }

  public String describe() {
    if (!index) return Long.toString(plus);
    String base = negate ? "neg-index" : "index";
    return plus == 0 ? base : base + (plus > 0 ? "+" : "") + plus;
  }
}
