package hmmemu.checker;

import java.util.List;

/**
 * One broken safety invariant of docs/PROTOCOL.md §6, as found by {@link InvariantChecker} on a consistent cut.
 *
 * @param rule         the invariant broken
 * @param where        the page, pfn and device concerned, e.g. {@code "mm1 va=0x10000000 pfn=0x1000 dev16"}
 * @param detail       one sentence saying what was seen and why it breaks the invariant
 * @param recentEvents the last applied events (oldest first, the triggering event last), one per string
 */
public record Violation(Invariant rule, String where, String detail, List<String> recentEvents) {
  public Violation {
    recentEvents = List.copyOf(recentEvents);
  }

  /** The invariant's id as users see it: "I1".."I13". */
  public String invariant() { return rule.id(); }

  /** One line: invariant, place and detail. */
  public String summary() { return invariant() + " at " + where + ": " + detail; }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(summary());
    sb.append("\n  last events:");
    for (String e : recentEvents) sb.append("\n    ").append(e);
    return sb.toString();
  }
}
