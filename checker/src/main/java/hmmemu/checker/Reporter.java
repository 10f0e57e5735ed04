package hmmemu.checker;

import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.model.PteState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The checker's report: the violations found and the ring of recently applied events they quote ({@link
 * RecentEvents}: the offered records, whose parts a world copy keeps in the ring's own arrays and then shares the
 * frozen ring). The events are formatted ({@link EventFormat}) only when a violation or a report needs them. Not a
 * kernel structure.
 */
final class Reporter {
  /** Events quoted in each violation. */
  static final int RECENT_IN_VIOLATION = 12;
  /** The ring's slots. */
  static final int RECENT_KEPT = RecentEvents.SLOTS;
  private static final int VIOLATIONS_KEPT_MAX = 100_000;

  /** The last events applied (replaced by an unfrozen copy when a world copy froze it). */
  private RecentEvents ring = new RecentEvents();
  private long recorded;
  private final List<Violation> violations = new ArrayList<>();
  private long dropped;

  /** Notes one applied event for the "last events" of later reports. */
  void record(Stamped s) {
    RecentEvents r = ring;
    if (r.frozen()) ring = r = r.thawed();
    r.put((int) recorded++ & (RECENT_KEPT - 1), s);
  }

  /**
   * The event recorded in ring slot {@code slot} as it was offered, or null if the slot was never written; the
   * checker's formatting and the simulator's state pictures ({@code StateWalk}, reflectively) read the ring through it.
   */
  Stamped entry(int slot) { return ring.entry(slot); }

  void report(Invariant invariant, String where, String detail) {
    if (violations.size() >= VIOLATIONS_KEPT_MAX) {
      dropped++;
      return;
    }
    violations.add(new Violation(invariant, where, detail, lastEvents(RECENT_IN_VIOLATION)));
  }

  List<Violation> violations() { return Collections.unmodifiableList(violations); }

  int count() { return violations.size(); }

  long dropped() { return dropped; }

  /** Violations from index {@code from} on (a copy). */
  List<Violation> since(int from) { return List.copyOf(violations.subList(from, violations.size())); }

  Map<String, Integer> countsByInvariant() {
    Map<String, Integer> counts = new TreeMap<>();
    for (Violation v : violations) counts.merge(v.invariant(), 1, Integer::sum);
    return counts;
  }

  /** The last {@code n} recorded events (at most 256), oldest first, formatted. */
  List<String> lastEvents(int n) {
    int kept = (int) Math.min(recorded, RECENT_KEPT);
    int take = Math.min(Math.max(0, n), kept);
    List<String> out = new ArrayList<>(take);
    for (long i = recorded - take; i < recorded; i++) {
      out.add(EventFormat.describe(entry((int) (i & (RECENT_KEPT - 1)))));
    }
    return out;
  }

  // ---------------------------------------------------------------- text helpers shared by the rules

  static String where(PageKey k, long pfn, int device) {
    return "mm" + k.mmId() + " va=" + hex(k.va()) + " pfn=" + hex(pfn) + (device >= 0 ? " dev" + device : "");
  }

  static String describePte(Trace.PteChanged pte) {
    if (pte == null) return "NONE";
    return pte.state() + (pte.state() == PteState.NONE ? "" : " pfn=" + hex(pte.pfn()))
        + (pte.state() == PteState.PRESENT ? (pte.write() ? " W" : " RO") + (pte.dirty() ? " D" : "") : "");
  }

  static String hex(long v) { return EventFormat.hex(v); }

  static String hexList(List<Long> values) {
    List<String> out = new ArrayList<>();
    for (long v : values) out.add(hex(v));
    return String.join(",", out);
  }
}
