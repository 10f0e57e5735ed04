package hmmemu.cluster.scenario;

import hmmemu.protocol.msg.Ids;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a shrunk failing schedule as a scenario file that pins every node's inputs (docs/SCENARIOS.md "Pinning
 * every order"; issue 13 item 4): the original file, unchanged, followed by an {@code order = [...]} naming each link
 * message and each step's controller request the nodes took from the first step on, in the order they took them in
 * the schedule's run, and a {@code time-scale} (and {@code step-timeout}) that keep the model-time driver deadline
 * from firing before the pinned run is through on a cluster. The cores are deterministic in their input sequences, so
 * a host that keeps each node's input order replays the schedule whatever its timing; the only timing left is the
 * driver deadline, which the time-scale puts {@link #WALL_PER_INPUT_MICROS} of wall time per pinned input away. The
 * file is kept only when its replay in the simulator (seeded order, the order enforced) fails with the schedule's
 * kind. Not a kernel structure.
 */
final class OrderFile {
  private OrderFile() {}

  /**
   * The wall time a cluster may spend per pinned input before the driver deadline may fire. The model-time part of a
   * pinned input (link latency, host-side costs: scaled with the time-scale on a cluster) is the simulator's, whose
   * replay of the file checks it; the rest is wall-time overhead (a delivery report and a permit, a round trip to
   * the sending node across JVMs, and the JVMs' share of 2 loaded cores): measured up to about 40 ms per input on
   * the embedded cluster at load 15-20 and about 85 ms across JVMs at load 6-7 (b: 47 inputs in 4 s), so 250 ms.
   */
  static final long WALL_PER_INPUT_MICROS = 250_000;

  /** Entries per line of the written {@code order} (keeps a file of hundreds of inputs short). */
  private static final int PER_LINE = 4;

  /**
   * Random schedules of the rest of the run that a shortened order must fail in with the schedule's kind, besides
   * the seeded order ({@link #shortestDeciding}).
   */
  static final int DECIDING_RUNS = 100;

  /** The file text, or null with the reason in {@code why[0]}. */
  static String emit(Explorer explorer, String original, Shrinker.Shrunk shrunk, String kind, String header, String[] why) {
    Scenario s = explorer.scenario();
    if (!s.order().isEmpty()) {
      why[0] = "the file has an order already";
      return null;
    }
    ScheduleRun.Outcome o = shrunk.outcome();
    List<String> all = entries(s, o, why);
    if (all == null) return null;
    // First the shortest prefix that decides the verdict whatever comes after it; then the inputs up to the first
    // failure (afterwards each node goes on freely, and a loop the schedule ended at its deadline is not pinned
    // through to it), then every input of the run.
    int upTo = o.decided() > 0 ? o.decided() : o.deliveries().size();
    List<String> decided = o.decided() > 0 ? prefix(s, o, o.decided()) : null;
    List<String> shortest = shortestDeciding(explorer, original, o, upTo, kind, header);
    List<List<String>> tries = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    if (shortest != null && (decided == null || shortest.size() < decided.size())) {
      tries.add(shortest);
      notes.add(")\n# up to the shortest prefix that decides the verdict: with it the seeded order and " + DECIDING_RUNS
          + " random\n# schedules of the rest all fail there with the " + kind + " in the simulator (each node goes on"
          + " freely after its last one)\n");
    }
    if (decided != null && decided.size() < all.size()) {
      tries.add(decided);
      notes.add(")\n# up to the first failure (each node goes on freely after its last one)\n");
    }
    tries.add(all);
    notes.add(" in all)\n");
    for (int i = 0; i < tries.size(); i++) {
      String text = text(s, original, tries.get(i), notes.get(i), header);
      if (replays(explorer, text, kind, tries.get(i).size(), why)) return text;
    }
    return null;
  }

  /**
   * The entries of the shortest prefix of the schedule's first {@code upTo} deliveries (doubling, then bisection)
   * whose order makes the file fail with {@code kind} in the seeded order and in {@link #DECIDING_RUNS} random
   * schedules of everything the order leaves free (each drawn from the explorer's seed); null when none is found. A
   * random schedule delays any message without bound, which a cluster's timing cannot exceed, so a prefix that
   * passes decides the verdict on every host (the driver deadline aside, which the file's time-scale keeps away).
   */
  private static List<String> shortestDeciding(Explorer explorer, String original, ScheduleRun.Outcome o, int upTo,
      String kind, String header) {
    Scenario s = explorer.scenario();
    if (upTo < 1) return null;
    int line = o.failures().isEmpty() ? -1 : line(o.failures().get(0));
    int lo = 0; // a prefix known not to decide (0: none tried)
    int hi = -1; // the shortest prefix found that decides
    for (int n = 1; hi < 0; n = Math.min(2 * n, upTo)) {
      if (decides(explorer, original, prefix(s, o, n), kind, line, header)) hi = n;
      else lo = n;
      if (n == upTo) break;
    }
    if (hi < 0) return null;
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      if (decides(explorer, original, prefix(s, o, mid), kind, line, header)) hi = mid;
      else lo = mid;
    }
    return prefix(s, o, hi);
  }

  /** Whether the file with {@code entries} as its order fails with {@code kind} in every run {@link #shortestDeciding} tries. */
  private static boolean decides(Explorer explorer, String original, List<String> entries, String kind,
      int line, String header) {
    if (entries == null || entries.isEmpty()) return false;
    Scenario candidate;
    String text = text(explorer.scenario(), original, entries, ")\n", header);
    try {
      candidate = ScenarioParser.parse(explorer.scenario().file(), text);
    } catch (ScenarioException e) {
      return false;
    }
    // the failing line of the original, in the candidate (below the header)
    int where = line < 0 ? -1 : line + (int) text.substring(0, text.indexOf(original)).chars().filter(c -> c == '\n').count();
    Explorer x = new Explorer(candidate, explorer.seed(), explorer.base());
    ScheduleRun.Outcome seeded = x.replay(new int[0]);
    if (!same(seeded, kind, where)) return false;
    SplittableRandom rng = new SplittableRandom(explorer.seed() ^ 0x6A09E667F3BCC909L);
    for (int i = 0; i < DECIDING_RUNS; i++) {
      SplittableRandom r = rng.split();
      ScheduleRun.Outcome run = x.run((point, key, e) -> r.nextInt(e.size()));
      if (!same(run, kind, where)) return false;
    }
    return true;
  }

  /** Whether {@code o} failed with {@code kind}, its first failure at line {@code where} (-1: anywhere). */
  private static boolean same(ScheduleRun.Outcome o, String kind, int where) {
    return o.failed() && kind.equals(o.kind()) && (where < 0 || where == line(o.failures().get(0)));
  }

  /** The line of the file a failure names ({@code FILE:LINE: ...}), or -1. */
  private static int line(String failure) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\S+?:(\\d+):").matcher(failure);
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  /** The entries of the first {@code n} deliveries. */
  private static List<String> prefix(Scenario s, ScheduleRun.Outcome o, int n) {
    ScheduleRun.Outcome p = new ScheduleRun.Outcome(o.failures(), o.choices(), o.pruned(), o.traceHash(), o.requests(),
        o.delivered(), o.deliveries().subList(0, n), o.sent(), o.sentAfter(), o.replies(), o.decided());
    return entries(s, p, new String[1]);
  }

  /** The file with {@code entries} as its order; {@code note} ends the header's line on what the order pins. */
  private static String text(Scenario s, String original, List<String> entries, String note, String header) {
    long deadline = Math.max(1, s.switches().driverDeadlineMicros());
    long wall = entries.size() * WALL_PER_INPUT_MICROS; // µs of wall time the pinned run may take
    long timeoutSeconds = Math.max(s.stepTimeout().toSeconds(), 3 * wall / 1_000_000 + 10);
    // The time-scale puts the file's deadline far enough away. A busy-loop livelock span is scenario time like every
    // bound (model time x time-scale: on a cluster, wall time), so it does not grow with the time-scale.
    long scale = Math.max((long) Math.ceil(s.timeScale()), (wall + deadline - 1) / deadline);
    scale = Math.max(1, ((scale + 99) / 100) * 100);
    StringBuilder b = new StringBuilder(header);
    b.append("# The order at the end pins every input of every node (link messages and the steps' requests, ")
        .append(entries.size()).append(note).append("# in the order the schedule's run took them (docs/SCENARIOS.md")
        .append(" \"Pinning every order\").\n");
    b.append(original.endsWith("\n") ? original : original + "\n");
    b.append("# explore: real time runs ").append(scale).append("x model time, so that the driver deadline (")
        .append(deadline).append(" µs of model time) is at least\n# ").append(WALL_PER_INPUT_MICROS / 1000)
        .append(" ms of wall time per pinned input away: the pinned run is through before it can fire.\n");
    b.append("time-scale = ").append(scale).append("\n");
    b.append("step-timeout = ").append(timeoutSeconds).append("s\n");
    b.append("# explore: each node takes its inputs in this order (FROM>TO Type SENT[/DELIVERED]: the SENT-th message of its\n")
        .append("# type and device on its direction, the DELIVERED-th the receiver took, counted from 0 since the first step)\n");
    b.append("order = [\n");
    for (int i = 0; i < entries.size(); i += PER_LINE) {
      b.append("  ").append(String.join(", ", entries.subList(i, Math.min(entries.size(), i + PER_LINE))))
          .append(i + PER_LINE < entries.size() ? ",\n" : "\n");
    }
    b.append("]\n");
    return b.toString();
  }

  /** Whether {@code text}'s simulator replay (seeded order, the order enforced) fails with {@code kind}; else why. */
  private static boolean replays(Explorer explorer, String text, String kind, int inputs, String[] why) {
    Scenario s = explorer.scenario();
    try {
      Scenario candidate = ScenarioParser.parse(s.file(), text);
      ScheduleRun.Outcome r = new Explorer(candidate, explorer.seed(), explorer.base()).linksOnly(true)
          .replay(new int[0]);
      if (r.failed() && kind.equals(r.kind())) return true;
      why[0] = "the file with every order pinned (" + inputs + " inputs) did not replay the " + kind
          + " in the simulator: " + r.failures();
    } catch (ScenarioException e) {
      why[0] = "the file with every order pinned is invalid: " + e.getMessage();
    }
    if (Boolean.getBoolean("hmm.explore.debug")) System.err.println(text + "\n=> " + why[0]);
    return false;
  }

  /** The order's entries, quoted, in delivery order; null with the reason when a delivery cannot be named. */
  static List<String> entries(Scenario s, ScheduleRun.Outcome o, String[] why) {
    Map<Object, ScheduleRun.Request> requests = new IdentityHashMap<>();
    for (ScheduleRun.Request q : o.requests()) requests.put(q.msg(), q);
    List<String> out = new ArrayList<>();
    for (ScheduleRun.Delivery d : o.deliveries()) {
      String type = d.msg().getClass().getSimpleName();
      Integer delivered = o.delivered().get(d.msg());
      if (d.fromController()) {
        ScheduleRun.Request q = requests.get(d.msg());
        if (q == null) continue; // an expectation's introspection: reads only, not pinned
        String to = q.node() == 0 ? "cpu" : null; // a request to a GPU node: named by a device on it
        for (Scenario.Device x : s.devices()) if (to == null && x.node() == q.node()) to = x.name();
        if (to == null || delivered == null) {
          why[0] = "the request " + d.msg() + " names no declared device";
          return null;
        }
        out.add(quote("controller>" + to + " " + type + " " + q.ordinal() + (delivered == q.ordinal() ? "" : "/" + delivered)));
        continue;
      }
      Integer sent = o.sent().get(d.msg());
      String dev = deviceName(s, StepExecutor.deviceOf(d.msg()));
      if (sent == null || delivered == null || dev == null || (d.node() != 0 && Ids.nodeOfDevice(StepExecutor.deviceOf(d.msg())) != d.node())) {
        why[0] = "the link message " + d.msg() + " cannot be named by its device and ordinal";
        return null;
      }
      String ends = d.node() == 0 ? dev + ">cpu" : "cpu>" + dev;
      out.add(quote(ends + " " + type + " " + sent + (delivered.intValue() == sent ? "" : "/" + delivered)));
    }
    return out;
  }

  private static String quote(String e) { return "\"" + e + "\""; }

  /** The declared device with id {@code dev}, or null. */
  private static String deviceName(Scenario s, int dev) {
    for (Scenario.Device x : s.devices()) if (Ids.deviceId(x.node(), x.index()) == dev) return x.name();
    return null;
  }
}
