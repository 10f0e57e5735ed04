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
 * <p>What cannot be written: a deviation that passed over something other than a link message between the CPU
 * node and a device (a controller hop or reply, a lease tick, a host-side cost elapsing), since pause points hold
 * only link directions; and a schedule none of whose placements reproduces the kind (holding a whole lane until a
 * step boundary is coarser than one swap). Then {@link #emit} returns null and says why in {@code why[0]}. Not a
 * kernel structure.
 */
final class PauseFile {
  private PauseFile() {}

  /** The pause point for one deviation. */
  private record Hold(String id, String from, String to, String type, int skip, int step, boolean awaitFirst) {}

  /** The file text, or null with the reason in {@code why[0]}. */
  static String emit(Explorer explorer, String original, Shrinker.Shrunk shrunk, String kind, String header,
      String[] why) {
    Scenario s = explorer.scenario();
    if (shrunk.deviations().isEmpty()) return header + original;
    List<Hold> holds = new ArrayList<>();
    int n = 0;
    List<Map.Entry<Integer, Integer>> devs = new ArrayList<>(shrunk.deviations().entrySet());
    for (int i = 0; i < devs.size(); i++) {
      int point = devs.get(i).getKey();
      ScheduleRun.Choice c = shrunk.outcome().choices().get(point);
      Scheduler.LinkEvent over = c.passedOver();
      if (over != null && c.skip() >= 0) {
        Hold h = hold(s, ++n, over, c.skip(), c.step(), false, point, why);
        if (h == null) return null;
        holds.add(h);
        continue;
      }
      // Passed over a controller hop (or timer) in favour of link message M: the step the controller was running
      // is to wait until M was sent; consecutive deviations passing over the same kind of event count once, with
      // the last one's M (the furthest the others got meanwhile).
      int last = i;
      while (last + 1 < devs.size() && devs.get(last + 1).getKey() == devs.get(last).getKey() + 1
          && shrunk.outcome().choices().get(devs.get(last + 1).getKey()).passedOver() == null) {
        last++;
      }
      ScheduleRun.Choice lc = shrunk.outcome().choices().get(devs.get(last).getKey());
      if (lc.takenEvent() == null || lc.takenSkip() < 0) {
        why[0] = "choice point " + point + " passed over an event that is not a link message (a controller hop or"
            + " reply, or a timer) in favour of another such event: a pause point can neither hold nor await it";
        return null;
      }
      Hold h = hold(s, ++n, lc.takenEvent(), lc.takenSkip(), c.step(), true, point, why);
      if (h == null) return null;
      holds.add(h);
      i = last;
    }
    String[] lines = original.split("\n", -1);
    int steps = s.steps().size();
    int[] resumeAt = new int[holds.size()];
    for (int i = 0; i < holds.size(); i++) resumeAt[i] = first(holds.get(i), steps);
    // search the resume placements (each after the deviation's step), earliest first, for one that reproduces
    int tried = 0;
    while (true) {
      String text = header + write(lines, s, holds, resumeAt);
      tried++;
      try {
        Scenario candidate = ScenarioParser.parse(s.file(), text);
        ScheduleRun.Outcome o = new Explorer(candidate, explorer.seed(), explorer.base()).linksOnly(true).replay(new int[0]);
        if (o.failed() && kind.equals(o.kind())) return text;
      } catch (ScenarioException e) {
        // an invalid placement (e.g. two pause points on one direction at once): try the next
      }
      int i = holds.size() - 1;
      while (i >= 0 && resumeAt[i] == steps) i--;
      if (i < 0 || tried >= 200) break;
      resumeAt[i]++;
      for (int j = i + 1; j < holds.size(); j++) resumeAt[j] = first(holds.get(j), steps);
    }
    why[0] = "none of the " + tried + " pause/resume placements for " + holds.size() + " deviation(s) reproduced the "
        + kind + " in the simulator";
    return null;
  }

  /**
   * The earliest resume placement: after the deviation's step; for a step that awaits the message, right after the
   * await (the message is let go at once: the controller only waited until its sender got there).
   */
  private static int first(Hold h, int steps) { return Math.min(steps, h.awaitFirst() ? h.step() : h.step() + 1); }

  private static Hold hold(Scenario s, int n, Scheduler.LinkEvent ev, int skip, int step, boolean awaitFirst,
      int point, String[] why) {
    int dev = StepExecutor.deviceOf(ev.msg());
    String devName = null;
    for (Scenario.Device x : s.devices()) if (Ids.deviceId(x.node(), x.index()) == dev) devName = x.name();
    if (devName == null || (ev.from() != 0 && ev.to() != 0)) {
      why[0] = "choice point " + point + " involves " + ev + ", which no device's pause point matches";
      return null;
    }
    return new Hold("explore" + n, ev.from() == 0 ? "cpu" : devName, ev.to() == 0 ? "cpu" : devName,
        ev.msg().getClass().getSimpleName(), skip, step, awaitFirst);
  }

  private static String write(String[] lines, Scenario s, List<Hold> holds, int[] resumeAt) {
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
        for (Hold h : holds) {
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
        int lineOf = at < steps.size() ? steps.get(at).line() - 1 : close;
        if (i == lineOf) out.add("  { resume = " + holds.get(k).id() + " }");
      }
      out.add(lines[i]);
    }
    return String.join("\n", out);
  }

  private static String ordinal(int skip) {
    int n = skip + 1;
    String suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : switch (n % 10) {
      case 1 -> "st";
      case 2 -> "nd";
      case 3 -> "rd";
      default -> "th";
    };
    return n + suffix;
  }

  static String schedule(int[] s) { return Arrays.toString(s).replace(" ", ""); }
}
