package hmmemu.cluster.scenario;

import hmmemu.protocol.msg.Ids;
import hmmemu.sim.Scheduler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Writes a shrunk failing schedule as a scenario file with pause points (issue 13 item 4), so that {@code hmm-emu
 * run} replays it on the embedded cluster: each deviation of the schedule passed over one link message (the lane
 * head the seeded order would have delivered); a pause point {@code { pause { from, to, at = Type, skip = k } }}
 * before the first step holds exactly that message (the k-th of its type and device on its direction since the
 * steps began) and its lane, and a {@code resume} after a later step lets it go. Where the resume goes is searched:
 * each placement is run in the simulator with the seeded order, and the first that fails with the schedule's kind
 * is written. A schedule with no deviation (the seeded order fails) is the file itself.
 *
 * <p>A deviation at a concurrent block's choice point ({@link BlockChoice}: which step starts next, or the
 * model time before it) is written by rewriting every block the run reached as the start order the schedule took:
 * the block's steps, each with {@code async = true}, one after the other in that order ({@link #sequential}); on
 * either host an async step's first request has reached its node before the next step starts. The gaps between
 * the starts cannot be written (an async start waits one controller hop instead), so the written file is kept only
 * if its replay in the simulator reproduces the kind, as every placement is.
 *
 * <p>A deviation that passed over a controller hop or reply (or a timer) in favour of a link message M let M
 * overtake a controller request: the request the nodes took next after it ({@link ScheduleRun.Request}) is written
 * as a controller hold, {@code { pause { from = controller, to, at = Type, skip = k, until { from, to, at, skip } } }}
 * before the first step, which holds that request until M was delivered (docs/SCENARIOS.md "Holding a controller
 * request"; its {@code until.skip} is M's ordinal among the deliveries of its type and device). Without such a request
 * the older form is tried: the step waits with {@code await-paused} until M was sent.
 *
 * <p>What cannot be written: a deviation that passed over a controller event in favour of another one that is not
 * a link message; a concurrent block that shares a line with another step (it is rewritten by lines); and a
 * schedule none of whose placements reproduces the kind (holding a whole lane until a step boundary is coarser than
 * one swap; a block's order started one hop apart is coarser than a gap of 0). Then {@link #emit} returns null and
 * says why in {@code why[0]}. Not a kernel structure.
 */
final class PauseFile {
  private PauseFile() {}

  /**
   * The {@code time-scale} (real µs per model µs) a file with controller holds gets when it names none: 5 ms of a
   * driver deadline become 1 s of wall time on the cluster, above the controller's round trips under load.
   */
  static final int HOLD_TIME_SCALE = 200;

  /**
   * The pause point for one deviation: a link pause holding message (from, to, type, skip), or, with {@code request}
   * set, a controller hold of that request until the message (from, to, type, {@code skip}: its delivery ordinal) was
   * delivered.
   */
  private record Hold(String id, String from, String to, String type, int skip, int step, boolean awaitFirst,
      ScheduleRun.Request request, String requestTo, String until) {
    boolean controller() { return request != null; }

    /** The same link pause released once the event taken in its message's place was delivered ({@code u}). */
    Hold until(String u) { return new Hold(id, from, to, type, skip, step, awaitFirst, request, requestTo, u); }
  }

  /** The file text, or null with the reason in {@code why[0]}. */
  static String emit(Explorer explorer, String original, Shrinker.Shrunk shrunk, String kind, String header,
      String[] why) {
    Scenario s = explorer.scenario();
    if (shrunk.deviations().isEmpty()) return header + original;
    List<ScheduleRun.Choice> choices = shrunk.outcome().choices();
    boolean blocks = false;
    for (int point : shrunk.deviations().keySet()) blocks |= choices.get(point).block();
    // the step index in the file written of each step of the original (a rewritten block: its first start)
    int[] stepOf = new int[s.steps().size() + 1];
    for (int i = 0; i < stepOf.length; i++) stepOf[i] = i;
    String blockNote = "";
    if (blocks) {
      Sequential q = sequential(s, original, choices, why);
      if (q == null) return null;
      header = header + "# The concurrent block(s) are written as the start order the schedule took (async steps, in"
          + " that order).\n";
      original = q.text();
      stepOf = q.stepOf();
      s = ScenarioParser.parse(s.file(), original);
      blockNote = " (with the concurrent block(s) written as async steps in the schedule's start order, each started"
          + " once the previous one's first request reached its node: a gap between starts cannot be written)";
    }
    List<Hold> holds = new ArrayList<>();
    List<String> takenUntil = new ArrayList<>(); // per hold: the until of the event taken in its message's place
    int n = 0;
    List<Map.Entry<Integer, Integer>> devs = new ArrayList<>(shrunk.deviations().entrySet());
    for (int i = 0; i < devs.size(); i++) {
      int point = devs.get(i).getKey();
      ScheduleRun.Choice c = choices.get(point);
      if (c.block()) continue; // written by the rewrite above
      Scheduler.LinkEvent over = c.passedOver();
      if (over != null && c.skip() >= 0) {
        Hold h = hold(s, n + 1, over, c.skip(), stepOf[c.step()], false, point, why);
        if (h == null) return null;
        boolean again = false; // the same message passed over at several choice points: one pause point holds it
        for (Hold o : holds) {
          again |= !o.controller() && o.from().equals(h.from()) && o.to().equals(h.to()) && o.type().equals(h.type())
              && o.skip() == h.skip();
        }
        if (!again) {
          holds.add(h);
          n++;
          takenUntil.add(takenUntil(s, shrunk.outcome(), c, point));
        } else {
          // the last event taken in its place decides
          String u = takenUntil(s, shrunk.outcome(), c, point);
          for (int k = 0; k < holds.size(); k++) {
            Hold o = holds.get(k);
            if (!o.controller() && o.from().equals(h.from()) && o.to().equals(h.to()) && o.type().equals(h.type())
                && o.skip() == h.skip()) {
              takenUntil.set(k, u);
            }
          }
        }
        continue;
      }
      // Passed over a controller hop (or timer) in favour of link message M: the step the controller was running
      // is to wait until M was sent; consecutive deviations passing over the same kind of event count once, with
      // the last one's M (the furthest the others got meanwhile).
      int last = i;
      while (last + 1 < devs.size() && devs.get(last + 1).getKey() == devs.get(last).getKey() + 1
          && choices.get(devs.get(last + 1).getKey()).passedOver() == null
          && !choices.get(devs.get(last + 1).getKey()).block()) {
        last++;
      }
      ScheduleRun.Choice lc = shrunk.outcome().choices().get(devs.get(last).getKey());
      if (lc.takenEvent() == null || lc.takenSkip() < 0) {
        why[0] = "choice point " + point + " passed over an event that is not a link message (a controller hop or"
            + " reply, or a timer) in favour of another such event: a pause point can neither hold nor await it";
        return null;
      }
      // The controller request that came after it: the first one a node took after the last of these choice points
      // (the one passed over, or, for a reply passed over, the request the controller sent next). It is held until M
      // was delivered (a controller hold); without such a request, the step waits with await-paused until M was sent.
      Integer delivered = shrunk.outcome().delivered().get(lc.takenEvent().msg());
      ScheduleRun.Request req = null;
      for (ScheduleRun.Request q : shrunk.outcome().requests()) {
        if (q.deliveredAfter() > devs.get(last).getKey()) {
          req = q;
          break;
        }
      }
      Hold h = req != null && delivered != null
          ? controllerHold(s, ++n, lc.takenEvent(), delivered, req, point, why)
          : hold(s, ++n, lc.takenEvent(), lc.takenSkip(), stepOf[c.step()], true, point, why);
      if (h == null) return null;
      holds.add(h);
      takenUntil.add(null);
      i = last;
    }
    if (s.timeScale() <= 0 && holds.stream().anyMatch(Hold::controller)) {
      header = header + "# On the embedded cluster a controller hold's request leaves only after the controller heard of the\n"
          + "# delivery (a wall-time round trip, milliseconds under load, where the simulator's controller costs nothing):\n"
          + "# real time runs " + HOLD_TIME_SCALE + "x model time, so that no model-time deadline (the driver's) expires"
          + " meanwhile.\ntime-scale = " + HOLD_TIME_SCALE + "\n";
    }
    String[] lines = original.split("\n", -1);
    int steps = s.steps().size();
    // With pins first (each held request also delivered before the next link message its node took in the
    // schedule, so that the cluster's timing cannot reorder them), then without.
    List<List<String>> tries = new ArrayList<>();
    for (boolean untilReply : new boolean[] {true, false}) {
      List<String> p = pins(s, shrunk.outcome(), holds, untilReply);
      if (!p.isEmpty() && !tries.contains(p)) tries.add(p);
    }
    tries.add(List.of());
    int[] tried = {0};
    // First each passed-over link message held until the event taken in its place was delivered (no resume), where
    // that event is known; then the resume placements.
    List<Hold> untilTaken = new ArrayList<>();
    boolean any = false;
    for (int k = 0; k < holds.size(); k++) {
      Hold h = holds.get(k);
      String u = takenUntil.get(k);
      any |= u != null && !h.controller();
      untilTaken.add(u != null && !h.controller() ? h.until(u) : h);
    }
    for (List<Hold> variant : any ? List.of(untilTaken, holds) : List.of(holds)) {
      for (List<String> pinned : tries) {
        String text = search(explorer, lines, s, variant, pinned, kind, header, steps, tried);
        if (text != null) return text;
      }
    }
    why[0] = "none of the " + tried[0] + " pause/resume placements for " + holds.size() + " deviation(s) reproduced the "
        + kind + " in the simulator" + blockNote;
    return null;
  }

  /**
   * Pins for the controller holds: for each held request R, the next link message N the same node took after R in
   * the schedule is held (a link pause on N's direction, or its lane) until R was delivered, or ({@code untilReply})
   * the next such N that was sent before R was delivered (one R overtook, not one R caused) until R's reply reached
   * the controller (R completed). The hold orders R after the message that overtook it; the pin orders it (or all of
   * its work) before what followed it there, which the simulator's timing gave for free and the cluster's may not.
   */
  private static List<String> pins(Scenario s, ScheduleRun.Outcome o, List<Hold> holds, boolean untilReply) {
    List<String> out = new ArrayList<>();
    java.util.Set<String> directions = new java.util.HashSet<>();
    List<ScheduleRun.Delivery> ds = o.deliveries();
    for (Hold h : holds) {
      if (!h.controller()) continue;
      int at = -1;
      for (int i = 0; i < ds.size(); i++) if (ds.get(i).msg() == h.request().msg()) at = i;
      if (at < 0) continue;
      Integer rOrd = o.delivered().get(h.request().msg());
      ScheduleRun.Reply reply = o.replies().get(h.request().msg());
      if (untilReply && reply == null) continue;
      for (int i = at + 1; i < ds.size() && rOrd != null; i++) {
        ScheduleRun.Delivery d = ds.get(i);
        if (d.fromController() || d.node() != ds.get(at).node()) continue;
        Integer after = o.sentAfter().get(d.msg());
        if (untilReply && (after == null || after > at)) continue; // sent after R was delivered: R may have caused it
        Integer sent = o.sent().get(d.msg());
        String dev = deviceName(s, StepExecutor.deviceOf(d.msg()));
        if (sent == null || dev == null) break;
        String from = d.node() == 0 ? dev : "cpu";
        String to = d.node() == 0 ? "cpu" : dev;
        if (!directions.add(from + ">" + to)) break; // one pause point per direction
        String type = d.msg().getClass().getSimpleName();
        String req = h.request().msg().getClass().getSimpleName();
        String until = untilReply
            ? "from = " + (h.request().node() == 0 ? "cpu" : h.requestTo()) + ", to = controller, at = " + reply.type()
                + (reply.ordinal() > 0 ? ", skip = " + reply.ordinal() : "")
            : "from = controller, to = " + h.requestTo() + ", at = " + req + (rOrd > 0 ? ", skip = " + rOrd : "");
        out.add("  # explore: pin " + h.id() + "'s request before the " + ordinal(sent) + " " + type + " " + from + " -> "
            + to + " (the next message its node took in the schedule): held until the request was "
            + (untilReply ? "answered" : "delivered"));
        out.add("  { pause { id = " + h.id() + "pin, from = " + from + ", to = " + to + ", at = " + type
            + (sent > 0 ? ", skip = " + sent : "") + ", until { " + until + " } } }");
        break;
      }
    }
    return out;
  }

  /**
   * Searches the resume placements (with {@code pins}) for a file that fails with {@code kind}; null if none.
   * {@code count[0]} adds the placements tried.
   */
  private static String search(Explorer explorer, String[] lines, Scenario s, List<Hold> holds, List<String> pins,
      String kind, String header, int steps, int[] count) {
    int[] resumeAt = new int[holds.size()];
    for (int i = 0; i < holds.size(); i++) resumeAt[i] = first(holds.get(i), steps); // -1: a controller hold
    // search the resume placements (each after the deviation's step), earliest first, for one that reproduces
    int tried = 0;
    while (true) {
      String text = header + write(lines, s, holds, resumeAt, pins);
      tried++;
      count[0]++;
      try {
        Scenario candidate = ScenarioParser.parse(s.file(), text);
        ScheduleRun.Outcome o = new Explorer(candidate, explorer.seed(), explorer.base()).linksOnly(true).replay(new int[0]);
        if (o.failed() && kind.equals(o.kind())) return text;
        if (Boolean.getBoolean("hmm.explore.debug")) System.err.println(text + "\n=> " + o.failures());
      } catch (ScenarioException e) {
        // an invalid placement (e.g. two pause points on one direction at once): try the next
        if (Boolean.getBoolean("hmm.explore.debug")) System.err.println(text + "\n=> " + e.getMessage());
      }
      int i = holds.size() - 1;
      while (i >= 0 && (resumeAt[i] < 0 || resumeAt[i] == steps)) i--;
      if (i < 0 || tried >= 200) break;
      resumeAt[i]++;
      for (int j = i + 1; j < holds.size(); j++) resumeAt[j] = first(holds.get(j), steps);
    }
    return null;
  }

  /** The file with its concurrent blocks rewritten, and each original step's index in it. */
  private record Sequential(String text, int[] stepOf) {}

  /**
   * Rewrites every concurrent block the run reached (its {@code start-order} choice points) as its steps in the
   * start order taken, each {@code async = true}, one per line where the block's lines were (comments between the
   * block and the next step stay). Null, with the reason in {@code why[0]}, when a block shares a line with another
   * step.
   */
  static Sequential sequential(Scenario s, String original, List<ScheduleRun.Choice> choices, String[] why) {
    List<Scenario.Step> steps = s.steps();
    Map<Integer, List<Integer>> order = new java.util.TreeMap<>();
    for (ScheduleRun.Choice c : choices) {
      if (c.kind().equals(BlockChoice.Kind.START_ORDER.label)) {
        order.computeIfAbsent(c.step(), k -> new ArrayList<>()).add((int) c.option());
      }
    }
    String[] lines = original.split("\n", -1);
    com.typesafe.config.ConfigList stepValues = com.typesafe.config.ConfigFactory.parseString(original,
        com.typesafe.config.ConfigParseOptions.defaults().setSyntax(com.typesafe.config.ConfigSyntax.CONF))
        .resolve().getList("steps");
    int close = lines.length;
    for (int i = steps.get(steps.size() - 1).line(); i < lines.length; i++) {
      if (lines[i].trim().startsWith("]")) {
        close = i;
        break;
      }
    }
    // per rewritten block: its first and last line (0-based) and the lines written instead
    Map<Integer, List<String>> replace = new java.util.TreeMap<>();
    Map<Integer, Integer> endOf = new java.util.HashMap<>();
    int[] stepOf = new int[steps.size() + 1];
    int shift = 0;
    for (int b = 0; b < steps.size(); b++) {
      stepOf[b] = b + shift;
      List<Integer> taken = order.get(b);
      if (taken == null || !(steps.get(b).action() instanceof Scenario.ConcurrentOp block)) continue;
      int first = steps.get(b).line() - 1;
      int next = b + 1 < steps.size() ? steps.get(b + 1).line() - 1 : close;
      int last = next - 1;
      while (last > first && (lines[last].isBlank() || lines[last].trim().startsWith("#"))) last--;
      if ((b > 0 && steps.get(b - 1).line() - 1 == first) || last < first || next <= first
          || (b + 1 == steps.size() && close == first)) {
        why[0] = "the concurrent block at line " + (first + 1) + " shares a line with another step or the steps"
            + " list: it cannot be rewritten as its start order";
        return null;
      }
      List<Integer> all = new ArrayList<>(taken);
      for (int i = 0; i < block.steps().size(); i++) if (!all.contains(i)) all.add(i);
      com.typesafe.config.ConfigList inner = ((com.typesafe.config.ConfigObject) stepValues.get(b)).toConfig()
          .getList("concurrent");
      String indent = lines[first].substring(0, lines[first].length() - lines[first].stripLeading().length());
      List<String> out = new ArrayList<>();
      List<String> ids = new ArrayList<>();
      for (int i : all) ids.add(block.steps().get(i).id());
      out.add(indent + "# explore: the concurrent block of line " + (first + 1) + " (" + block.describe()
          + "), written as the start order the schedule took: " + String.join(", ", ids));
      for (int i : all) {
        // the step as parsed (HOCON comments dropped), its id first; a root object renders without its braces
        com.typesafe.config.ConfigObject o = ((com.typesafe.config.ConfigObject) inner.get(i)).withoutKey("id");
        out.add(indent + "{ id = " + block.steps().get(i).id() + ", "
            + o.render(com.typesafe.config.ConfigRenderOptions.concise().setJson(false)) + ", async = true }");
      }
      replace.put(first, out);
      endOf.put(first, last);
      shift += all.size() - 1;
    }
    stepOf[steps.size()] = steps.size() + shift;
    List<String> out = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      List<String> r = replace.get(i);
      if (r == null) {
        out.add(lines[i]);
      } else {
        out.addAll(r);
        i = endOf.get(i);
      }
    }
    return new Sequential(String.join("\n", out), stepOf);
  }

  /**
   * The earliest resume placement: after the deviation's step; for a step that awaits the message, right after the
   * await (the message is let go at once: the controller only waited until its sender got there).
   */
  private static int first(Hold h, int steps) {
    if (h.controller() || h.until() != null) return -1; // released by its until, no resume
    return Math.min(steps, h.awaitFirst() ? h.step() : h.step() + 1);
  }

  /**
   * A controller hold: the controller's request {@code req} waits until link message {@code ev} (the
   * {@code delivered}-th of its type and device delivered to its node) was delivered.
   */
  private static Hold controllerHold(Scenario s, int n, Scheduler.LinkEvent ev, int delivered, ScheduleRun.Request req,
      int point, String[] why) {
    Hold m = hold(s, n, ev, delivered, 0, false, point, why);
    if (m == null) return null;
    String to = "cpu";
    if (req.node() != 0) {
      to = deviceName(s, hmmemu.protocol.msg.Msgs.deviceIdOf(req.msg()));
      if (to == null) {
        why[0] = "choice point " + point + " delayed the controller's " + req.msg().getClass().getSimpleName()
            + " to gpu" + req.node() + ", which names no declared device";
        return null;
      }
    }
    return new Hold(m.id(), m.from(), m.to(), m.type(), m.skip(), 0, false, req, to, null);
  }

  /**
   * The {@code until} clause naming what choice point {@code point} took instead of the seeded event: a link message
   * (by its delivery ordinal), or the controller request its event delivered; null when it was neither.
   */
  private static String takenUntil(Scenario s, ScheduleRun.Outcome o, ScheduleRun.Choice c, int point) {
    Scheduler.LinkEvent t = c.takenEvent();
    if (t != null) {
      Integer d = o.delivered().get(t.msg());
      Hold m = d == null ? null : hold(s, 0, t, d, 0, false, point, new String[1]);
      return m == null ? null : "from = " + m.from() + ", to = " + m.to() + ", at = " + m.type()
          + (d > 0 ? ", skip = " + d : "");
    }
    for (ScheduleRun.Request q : o.requests()) {
      if (q.deliveredAfter() != point + 1) continue;
      Integer d = o.delivered().get(q.msg());
      String to = q.node() == 0 ? "cpu" : deviceName(s, hmmemu.protocol.msg.Msgs.deviceIdOf(q.msg()));
      if (d == null || to == null) return null;
      return "from = controller, to = " + to + ", at = " + q.msg().getClass().getSimpleName() + (d > 0 ? ", skip = " + d : "");
    }
    return null;
  }

  /** The declared device with id {@code dev}, or null. */
  private static String deviceName(Scenario s, int dev) {
    for (Scenario.Device x : s.devices()) if (Ids.deviceId(x.node(), x.index()) == dev) return x.name();
    return null;
  }

  private static Hold hold(Scenario s, int n, Scheduler.LinkEvent ev, int skip, int step, boolean awaitFirst,
      int point, String[] why) {
    String devName = deviceName(s, StepExecutor.deviceOf(ev.msg()));
    if (devName == null || (ev.from() != 0 && ev.to() != 0)) {
      why[0] = "choice point " + point + " involves " + ev + ", which no device's pause point matches";
      return null;
    }
    return new Hold("explore" + n, ev.from() == 0 ? "cpu" : devName, ev.to() == 0 ? "cpu" : devName,
        ev.msg().getClass().getSimpleName(), skip, step, awaitFirst, null, null, null);
  }

  private static String write(String[] lines, Scenario s, List<Hold> holds, int[] resumeAt, List<String> pins) {
    List<Scenario.Step> steps = s.steps();
    int first = steps.get(0).line() - 1; // 0-based line of the first step
    int close = lines.length - 1;
    int lastStep = steps.get(steps.size() - 1).line() - 1;
    for (int i = lastStep + 1; i < lines.length; i++) {
      if (lines[i].trim().equals("]")) {
        close = i;
        break;
      }
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      if (i == first) {
        out.addAll(pins);
        for (Hold h : holds) {
          if (h.controller()) {
            ScheduleRun.Request q = h.request();
            String type = q.msg().getClass().getSimpleName();
            out.add("  # explore: hold the controller's " + ordinal(q.ordinal()) + " " + type + " to " + h.requestTo()
                + " until the " + ordinal(h.skip()) + " " + h.type() + " " + h.from() + " -> " + h.to() + " was"
                + " delivered (choice point: it overtook the request)");
            out.add("  { pause { id = " + h.id() + ", from = controller, to = " + h.requestTo() + ", at = " + type
                + (q.ordinal() > 0 ? ", skip = " + q.ordinal() : "") + ", until { from = " + h.from() + ", to = "
                + h.to() + ", at = " + h.type() + (h.skip() > 0 ? ", skip = " + h.skip() : "") + " } } }");
            continue;
          }
          if (h.until() != null) {
            out.add("  # explore: hold the " + ordinal(h.skip()) + " " + h.type() + " " + h.from() + " -> " + h.to()
                + " (and its lane) until what the schedule took in its place was delivered");
            out.add("  { pause { id = " + h.id() + ", from = " + h.from() + ", to = " + h.to() + ", at = " + h.type()
                + (h.skip() > 0 ? ", skip = " + h.skip() : "") + ", until { " + h.until() + " } } }");
            continue;
          }
          out.add("  # explore: hold the " + ordinal(h.skip()) + " " + h.type() + " " + h.from() + " -> " + h.to()
              + " (and its lane) until the resume below (choice point: " + (h.awaitFirst() ? "a controller request waited"
              + " for it" : "it was passed over") + ")");
          out.add("  { pause { id = " + h.id() + ", from = " + h.from() + ", to = " + h.to() + ", at = " + h.type()
              + (h.skip() > 0 ? ", skip = " + h.skip() : "") + " } }");
        }
      }
      for (Hold h : holds) {
        if (h.awaitFirst() && h.step() < steps.size() && i == steps.get(h.step()).line() - 1) {
          out.add("  # explore: the next step waits until " + h.id() + " caught its message (it let that message's sender"
              + " get there first)");
          out.add("  { await-paused = " + h.id() + " }");
        }
      }
      for (int k = 0; k < holds.size(); k++) {
        int at = resumeAt[k];
        if (at < 0) continue; // a controller hold: released by its until
        int lineOf = at < steps.size() ? steps.get(at).line() - 1 : close;
        if (i == lineOf) out.add("  { resume = " + holds.get(k).id() + " }");
      }
      out.add(lines[i]);
    }
    return String.join("\n", out);
  }

  /** The ordinal of the message after {@code skip} others: 0 -> "1st". */
  private static String ordinal(int skip) { return Scenario.PauseOp.ordinal(skip + 1); }

  static String schedule(int[] s) { return Arrays.toString(s).replace(" ", ""); }
}
