package hmmemu.cluster.scenario;

/**
 * An expected count: exact ({@code 1024}) or a bound ({@code ">= 2"}, {@code "> 0"}, {@code "<= 3"}, {@code "< 5"},
 * {@code "2..10"}), for figures the kernel fixes only up to a schedule (thrash rounds, retries until a deadline).
 */
public record Bound(long min, long max, String text) {
  public static Bound exactly(long v) { return new Bound(v, v, Long.toString(v)); }

  public boolean test(long v) { return v >= min && v <= max; }

  /**
   * Parses the string form.
   *
   * @throws IllegalArgumentException when it is none of the forms above
   */
  public static Bound parse(String s) {
    String t = s.trim();
    try {
      if (t.startsWith(">=")) return new Bound(Long.parseLong(t.substring(2).trim()), Long.MAX_VALUE, t);
      if (t.startsWith("<=")) return new Bound(Long.MIN_VALUE, Long.parseLong(t.substring(2).trim()), t);
      if (t.startsWith(">")) return new Bound(Long.parseLong(t.substring(1).trim()) + 1, Long.MAX_VALUE, t);
      if (t.startsWith("<")) return new Bound(Long.MIN_VALUE, Long.parseLong(t.substring(1).trim()) - 1, t);
      int dots = t.indexOf("..");
      if (dots > 0) {
        long a = Long.parseLong(t.substring(0, dots).trim());
        long b = Long.parseLong(t.substring(dots + 2).trim());
        if (b < a) throw new IllegalArgumentException("empty range " + t);
        return new Bound(a, b, t);
      }
      return exactly(Long.parseLong(t));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected a count (N, >= N, > N, <= N, < N or N..M), got \"" + s + "\"");
    }
  }

  /** "= 5", ">= 2", "in 2..10": the bound as it reads after a name. */
  public String phrase() {
    if (min == max) return "= " + min;
    char c = text.isEmpty() ? ' ' : text.charAt(0);
    return c == '<' || c == '>' ? text : "in " + text;
  }

  @Override
  public String toString() { return text; }
}
