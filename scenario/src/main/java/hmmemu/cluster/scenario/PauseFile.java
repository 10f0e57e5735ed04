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
  private record Hold(String id, String from, String to, String type, int skip, int step) {}

  /** The file text, or null with the reason in {@code why[0]}. */
  static String emit(Explorer explorer, String original, Shrinker.Shrunk shrunk, String kind, String header,
      String[] why) {
    Scenario s = explorer.scenario();
    if (shrunk.deviations().isEmpty()) return header + original;
    List<Hold> holds = new ArrayList<>();
    int n = 0;
    for (Map.Entry<Integer, Integer> d : shrunk.deviations().entrySet()) {
      ScheduleRun.Choice c = shrunk.outcome().choices().get(d.getKey());
      Scheduler.LinkEvent over = c.passedOver();
      if (over == null || c.skip() < 0) {
        why[0] = "choice point " + d.getKey() + " passed over an event that is not a link message (a controller hop"
            + " or reply, or a timer): a pause point cannot hold it";
        return null;
      }
      int dev = StepExecutor.deviceOf(over.msg());
      String devName = null;
      for (Scenario.Device x : s.devices()) if (Ids.deviceId(x.node(), x.index()) == dev) devName = x.name();
      if (devName == null || (over.from() != 0 && over.to() != 0)) {
        why[0] = "choice point " + d.getKey() + " passed over " + over + ", which no device's pause point matches";
        return null;
      }
      String from = over.from() == 0 ? "cpu" : devName;
      String to = over.to() == 0 ? "cpu" : devName;
      holds.add(new Hold("explore" + (++n), from, to, over.msg().getClass().getSimpleName(), c.skip(), c.step()));
    }
    String[] lines = original.split("\n", -1);
    int steps = s.steps().size();
    int[] resumeAt = new int[holds.size()];
    for (int i = 0; i < holds.size(); i++) resumeAt[i] = Math.min(steps, holds.get(i).step() + 1);
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
      for (int j = i + 1; j < holds.size(); j++) resumeAt[j] = Math.min(steps, holds.get(j).step() + 1);
    }
    why[0] = "none of the " + tried + " pause/resume placements for " + holds.size() + " deviation(s) reproduced the "
        + kind + " in the simulator";
    return null;
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
              + " (and its lane) until the resume below");
          out.add("  { pause { id = " + h.id() + ", from = " + h.from() + ", to = " + h.to() + ", at = " + h.type()
              + (h.skip() > 0 ? ", skip = " + h.skip() : "") + " } }");
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
