package hmmemu.cluster.scenario;

import hmmemu.protocol.model.Page;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * A run of pages of one declared VMA, and of words within each page, as a scenario names it:
 * {@code buf} (every page), {@code buf+3}, {@code buf+0..15}, {@code buf+2:word5}, {@code buf:word0..3}, or a hex
 * address inside a VMA ({@code 0x7f0000001008} names its page and word). Pages and words count from 0.
 *
 * @param wordsNamed true when the text named words (a {@code :word} suffix or a hex address that is not page aligned)
 */
public record PageRange(Scenario.Vma vma, int firstPage, int lastPage, int firstWord, int lastWord, boolean wordsNamed,
    String text) {

  private static final java.util.regex.Pattern NAMED =
      java.util.regex.Pattern.compile("([A-Za-z_][A-Za-z0-9_-]*)(?:\\+(\\d+)(?:\\.\\.(\\d+))?)?");
  private static final java.util.regex.Pattern WORDS = java.util.regex.Pattern.compile("word(\\d+)(?:\\.\\.(\\d+))?");

  public int pages() { return lastPage - firstPage + 1; }

  public int words() { return lastWord - firstWord + 1; }

  /** Virtual address of page {@code p} of the VMA (p counts from the VMA's start, not from firstPage). */
  public long pageVa(int p) { return vma.start() + (long) p * Page.SIZE; }

  /** Virtual address of word {@code w} of page {@code p}. */
  public long wordVa(int p, int w) { return pageVa(p) + (long) w * Long.BYTES; }

  public long start() { return pageVa(firstPage); }

  public long length() { return (long) pages() * Page.SIZE; }

  /** The name of page {@code p}, word {@code w} in scenario syntax. */
  public String name(int p, int w) { return vma.name() + "+" + p + ":word" + w; }

  public String namePage(int p) { return vma.name() + "+" + p; }

  /**
   * Parses {@code text} against the declared VMAs.
   *
   * @throws IllegalArgumentException with a one-line reason (unknown VMA, page or word outside it, bad syntax)
   */
  public static PageRange parse(String text, Map<String, Scenario.Vma> vmas) {
    String t = text.trim();
    String pagePart = t;
    String wordPart = null;
    int colon = t.indexOf(':');
    if (colon >= 0) {
      pagePart = t.substring(0, colon);
      wordPart = t.substring(colon + 1);
    }
    Scenario.Vma vma;
    int first;
    int last;
    int firstWord = 0;
    int lastWord = 0;
    boolean wordsNamed = false;
    if (pagePart.startsWith("0x") || pagePart.startsWith("0X")) {
      long va;
      try {
        va = Long.parseUnsignedLong(pagePart.substring(2).replace("_", ""), 16);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad address '" + pagePart + "'");
      }
      vma = null;
      for (Scenario.Vma v : vmas.values()) {
        if (va >= v.start() && va < v.end()) vma = v;
      }
      if (vma == null) throw new IllegalArgumentException("address " + pagePart + " is outside every VMA");
      first = last = (int) ((va - vma.start()) >>> Page.SHIFT);
      if ((va & 7) != 0) throw new IllegalArgumentException("address " + pagePart + " is not 8-byte aligned");
      firstWord = lastWord = Page.wordIndex(va);
      wordsNamed = (va & (Page.SIZE - 1)) != 0;
    } else {
      Matcher m = NAMED.matcher(pagePart);
      if (!m.matches()) {
        throw new IllegalArgumentException("bad address '" + text + "' (expected VMA, VMA+PAGE, VMA+FIRST..LAST, "
            + "optionally :wordN or :wordN..M, or a hex address)");
      }
      vma = vmas.get(m.group(1));
      if (vma == null) {
        throw new IllegalArgumentException("unknown VMA '" + m.group(1) + "' (declared: "
            + String.join(", ", vmas.keySet()) + ")");
      }
      if (m.group(2) == null) {
        first = 0;
        last = vma.pages() - 1;
      } else {
        first = parseIndex(m.group(2), text);
        last = m.group(3) == null ? first : parseIndex(m.group(3), text);
        if (last < first) throw new IllegalArgumentException("empty page range in '" + text + "'");
        if (last >= vma.pages()) {
          throw new IllegalArgumentException("page " + last + " is outside VMA " + vma.name() + " (pages 0.."
              + (vma.pages() - 1) + ")");
        }
      }
    }
    if (wordPart != null) {
      Matcher w = WORDS.matcher(wordPart);
      if (!w.matches()) throw new IllegalArgumentException("bad word '" + wordPart + "' in '" + text + "' (wordN or wordN..M)");
      firstWord = parseIndex(w.group(1), text);
      lastWord = w.group(2) == null ? firstWord : parseIndex(w.group(2), text);
      if (lastWord < firstWord) throw new IllegalArgumentException("empty word range in '" + text + "'");
      if (lastWord >= Page.WORDS) {
        throw new IllegalArgumentException("word " + lastWord + " is outside the page (words 0.." + (Page.WORDS - 1) + ")");
      }
      wordsNamed = true;
    }
    return new PageRange(vma, first, last, firstWord, lastWord, wordsNamed, t);
  }

  private static int parseIndex(String s, String text) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("index too large in '" + text + "'");
    }
  }
}
