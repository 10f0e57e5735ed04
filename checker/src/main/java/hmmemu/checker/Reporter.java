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
 * The checker's report: the violations found and the ring of recently applied events they quote. The ring keeps each
 * event's parts in primitive arrays the Reporter owns (the events themselves, immutable records, in one array; the
 * nodes, model times and vector clocks copied into the others), never the {@link Stamped} records whose clock arrays
 * are handed to every reader: a world copy ({@code SimCopy}) copies a few arrays, not 256 records and 256 arrays. The
 * events are formatted ({@link EventFormat}) only when a violation or a report needs them. Not a kernel structure.
 */
final class Reporter {
  /** Events quoted in each violation. */
  static final int RECENT_IN_VIOLATION = 12;
  /** The ring's slots (a power of two: slot {@code recorded & (RECENT_KEPT - 1)}). */
  private static final int RECENT_KEPT = 256;
  private static final int VIOLATIONS_KEPT_MAX = 100_000;

  /** Per slot: the recorded event (null: never written). */
  private final Trace.Event[] ring = new Trace.Event[RECENT_KEPT];
  /** Per slot: the event's node, then its vector clock's length (-1: none), side by side. */
  private final int[] ringShape = new int[2 * RECENT_KEPT];
  /** Per slot, {@link #ringStride} words: the event's model time, then its vector clock. */
  private long[] ringWords = new long[4 * RECENT_KEPT];
  /** Words a slot of {@link #ringWords} holds: one more than the longest vector clock recorded (at least 4). */
  private int ringStride = 4;
  private long recorded;
  private final List<Violation> violations = new ArrayList<>();
  private long dropped;

  /** Notes one applied event for the "last events" of later reports (its parts copied into the ring's arrays). */
  void record(Stamped s) {
    int slot = (int) recorded++ & (RECENT_KEPT - 1);
    long[] vc = s.vc();
    int n = vc == null ? -1 : vc.length;
    if (n >= ringStride) widen(n + 1);
    ring[slot] = s.event();
    ringShape[2 * slot] = s.node();
    ringShape[2 * slot + 1] = n;
    long[] w = ringWords;
    int base = slot * ringStride;
    w[base] = s.atMicros();
    for (int j = 0; j < n; j++) w[base + 1 + j] = vc[j]; // a few words: a loop, not System.arraycopy's call
  }

  /** Lays the ring's words out {@code stride} words a slot (a longer vector clock than any before). */
  private void widen(int stride) {
    long[] w = new long[stride * RECENT_KEPT];
    for (int slot = 0; slot < RECENT_KEPT; slot++) {
      System.arraycopy(ringWords, slot * ringStride, w, slot * stride, ringStride);
    }
    ringWords = w;
    ringStride = stride;
  }

  /**
   * The event recorded in ring slot {@code slot} as it was offered (a new {@link Stamped} with its own vector clock
   * array), or null if the slot was never written; the checker's formatting and the simulator's state pictures
   * ({@code StateWalk}, reflectively) read the ring through it.
   */
  Stamped entry(int slot) {
    Trace.Event e = ring[slot];
    if (e == null) return null;
    int n = ringShape[2 * slot + 1];
    int base = slot * ringStride;
    long[] vc = n < 0 ? null : java.util.Arrays.copyOfRange(ringWords, base + 1, base + 1 + n);
    return new Stamped(ringShape[2 * slot], vc, e, ringWords[base]);
  }

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
