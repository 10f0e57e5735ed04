package hmmemu.node.link;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The run-time fault control of one node's link stage ({@link ModeledLink}): a cluster control message carrying
 * {@link FaultSchedule} lines, applied to the link through which this node sends its CPU<->GPU messages. Every node
 * registers one under {@link #KEY}; {@link #broadcast} sends the same lines to all of them, so a direction's fault
 * takes effect at its sending end ({@code cpu0->gpu1} at the CPU node, {@code gpu1->cpu0} at GPU node 1) and a
 * partition or pause of a node cuts both its ends.
 *
 * <p>Messages are plain strings (Pekko's built-in String serializer, no Java serialization): the first line is the
 * reply-to actor (its serialization format), the rest the schedule. The reply starts with {@code ok} or
 * {@code error}. Crash and restart are process actions ({@code hmm-emu cluster --fault}), refused here.
 *
 * <p>The body {@link #STATS} (a comment, so never a fault schedule) asks instead for this node's live link
 * counters and its cores' protocol counters: the reply is {@code stats } and one line of JSON ({@link #statsJson}),
 * read by {@code GET /hmm-emu/status}. The body {@link #CLOCK} asks for the node's model time: the reply is
 * {@code clock NODE MICROS} ({@code hmm-emu cluster} aligns the nodes' clocks in its run record with it).
 */
public final class LinkControl {
  /** Where each node's link control registers. */
  public static final ServiceKey<String> KEY = ServiceKey.create(String.class, "hmm-emu-link-control");
  /** Fault lines (not blank, not comments) one request may carry. */
  public static final int MAX_LINES = 1000;
  /** Actions one request may start (an {@code A<->B} line is one action). */
  public static final int MAX_ACTIONS = 1000;
  /** Actions (started, their last step not yet run) one node's link control, or one endpoint, keeps at once. */
  public static final int MAX_LIVE_ACTIONS = 10_000;
  /** The highest GPU node index (docs/FAULTS.md: {@code --node-index} 1..15). */
  public static final int MAX_NODE = 15;
  /** The request body asking a node's link control for its counters (a comment line: no fault schedule). */
  public static final String STATS = "# stats";
  /** The request body asking a node's link control for its model time now (a comment line: no fault schedule). */
  public static final String CLOCK = "# clock";
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  private LinkControl() {}

  /** {@code s} on one line (an HTTP reply line); a null message reads as HmmEmuSettings.oneLine had it. */
  static String oneLine(String s) { return s == null ? "invalid configuration" : s.replace('\n', ' '); }

  /** The actor of node {@code nodeName} ("cpu0", "gpu1"...) controlling {@code link}; no clock, no core counters. */
  public static Behavior<String> create(String nodeName, ModeledLink link) {
    return create(nodeName, link, null, java.util.Map::of);
  }

  /**
   * As above, answering {@link #CLOCK} with {@code modelClock} (the node's model time in microseconds; null: an
   * error reply) and adding {@code cores} (the node's live protocol counters, hmmemu.node.NodeCounters) to its stats.
   */
  public static Behavior<String> create(String nodeName, ModeledLink link, java.util.function.LongSupplier modelClock,
      java.util.function.Supplier<java.util.Map<String, Long>> cores) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "hmm-emu-fault-schedule");
        t.setDaemon(true);
        return t;
      });
      ActorRefResolver resolver = ActorRefResolver.get(ctx.getSystem());
      AtomicInteger live = new AtomicInteger();
      return Behaviors.receive(String.class)
          .onMessage(String.class, msg -> {
            int nl = msg.indexOf('\n');
            if (nl < 0) return Behaviors.same();
            ActorRef<String> replyTo = resolver.resolveActorRef(msg.substring(0, nl));
            String body = msg.substring(nl + 1);
            if (body.equals(CLOCK)) {
              replyTo.tell(modelClock == null ? "error " + nodeName + ": no model clock"
                  : "clock " + nodeName + " " + modelClock.getAsLong());
              return Behaviors.same();
            }
            replyTo.tell(body.equals(STATS)
                ? "stats " + statsJson(nodeName, ctx.getSystem().address().toString(), link, live.get(), cores.get())
                : apply(nodeName, link, executor, live, body));
            return Behaviors.same();
          })
          .onSignal(org.apache.pekko.actor.typed.PostStop.class, s -> {
            executor.shutdownNow();
            return Behaviors.same();
          })
          .build();
    });
  }

  /**
   * This node's live link counters on one line of JSON: {@code node}, {@code address}, {@code liveFaultActions},
   * {@code paused} and {@code partitioned} nodes, {@code totals} over the directions this node sends on, and
   * {@code links}, one object per direction ({@link ModeledLink.DirectionStats}), and {@code cores}, the node's
   * protocol counters by name (empty when none are known).
   */
  static String statsJson(String nodeName, String address, ModeledLink link, int liveActions) {
    return statsJson(nodeName, address, link, liveActions, java.util.Map.of());
  }

  static String statsJson(String nodeName, String address, ModeledLink link, int liveActions,
      java.util.Map<String, Long> cores) {
    var o = JSON.createObjectNode();
    o.put("node", nodeName);
    o.put("address", address);
    o.put("liveFaultActions", liveActions);
    var paused = o.putArray("paused");
    link.pausedNodes().stream().sorted().forEach(n -> paused.add(Direction.nodeName(n)));
    var parts = o.putArray("partitioned");
    link.partitions().keySet().stream().sorted().forEach(n -> parts.add(Direction.nodeName(n)));
    var totals = o.putObject("totals");
    var links = o.putArray("links");
    long sent = 0, delivered = 0, dropped = 0, duplicated = 0, reordered = 0, inFlight = 0, heldNow = 0,
        replayed = 0, lostDetected = 0, errors = 0;
    for (ModeledLink.DirectionStats d : link.stats().values()) {
      var l = links.addObject();
      l.put("direction", d.direction().toString());
      l.put("sent", d.sent());
      l.put("delivered", d.delivered());
      l.put("dropped", d.dropped());
      l.put("duplicated", d.duplicated());
      l.put("reordered", d.reordered());
      l.put("inFlight", d.inFlight());
      l.put("heldNow", d.heldNow());
      l.put("replayed", d.replayed());
      l.put("lostDetected", d.lostDetected());
      l.put("errors", d.errors());
      l.put("maxDelayMicros", d.maxDelayMicros());
      sent += d.sent();
      delivered += d.delivered();
      dropped += d.dropped();
      duplicated += d.duplicated();
      reordered += d.reordered();
      inFlight += d.inFlight();
      heldNow += d.heldNow();
      replayed += d.replayed();
      lostDetected += d.lostDetected();
      errors += d.errors();
    }
    totals.put("sent", sent);
    totals.put("delivered", delivered);
    totals.put("dropped", dropped);
    totals.put("duplicated", duplicated);
    totals.put("reordered", reordered);
    totals.put("inFlight", inFlight);
    totals.put("heldNow", heldNow);
    totals.put("replayed", replayed);
    totals.put("lostDetected", lostDetected);
    totals.put("errors", errors);
    var c = o.putObject("cores");
    new java.util.TreeMap<>(cores).forEach(c::put);
    return o.toString();
  }

  /** Parses and starts {@code text} on {@code link}; the reply line. */
  static String apply(String nodeName, ModeledLink link, ScheduledExecutorService executor, AtomicInteger live,
      String text) {
    FaultSchedule schedule;
    try {
      schedule = parse(text);
    } catch (IllegalArgumentException e) {
      return "error " + nodeName + ": " + e.getMessage();
    }
    int n = schedule.entries().size();
    if (live.addAndGet(n) > MAX_LIVE_ACTIONS) {
      live.addAndGet(-n);
      return "error " + nodeName + ": " + tooManyLive(n);
    }
    FaultSchedule.Running running = schedule.start(link, executor, new FaultSchedule.Callbacks() {
      @Override public void crash(int node) { throw new IllegalStateException("crash is not a link action"); }

      @Override public void restart(int node) { throw new IllegalStateException("restart is not a link action"); }
    });
    running.done().whenComplete((v, e) -> live.addAndGet(-n));
    return "ok " + nodeName + ": " + schedule.entries().size() + " action(s) started";
  }

  /**
   * Parses injected lines: a line without {@code at T} starts now ({@code at 0s} is prepended); crash and restart
   * are refused (they act on processes, not on the link).
   *
   * @throws IllegalArgumentException with one line naming the bad line
   */
  public static FaultSchedule parse(String text) {
    StringBuilder sb = new StringBuilder();
    int lines = 0;
    for (String line : text.split("\\R|;")) {
      String t = line.trim();
      if (t.isEmpty() || t.startsWith("#")) continue;
      if (++lines > MAX_LINES) throw new TooMuch("more than " + MAX_LINES + " fault lines in one request");
      if (!t.toLowerCase(Locale.ROOT).startsWith("at ")) t = "at 0s " + t;
      sb.append(t).append('\n');
    }
    FaultSchedule s = FaultSchedule.parse(sb.toString());
    if (s.isEmpty()) throw new IllegalArgumentException("no fault given");
    if (s.entries().size() > MAX_ACTIONS) {
      throw new TooMuch(s.entries().size() + " actions in one request; at most " + MAX_ACTIONS);
    }
    for (FaultSchedule.Entry e : s.entries()) {
      for (int node : nodes(e.action())) {
        if (node > MAX_NODE) {
          throw new IllegalArgumentException("fault \"" + e.text() + "\": no node gpu" + node + " (GPU nodes are gpu1..gpu"
              + MAX_NODE + ")");
        }
      }
      if (e.action() instanceof FaultSchedule.Crash || e.action() instanceof FaultSchedule.Restart) {
        throw new IllegalArgumentException("fault \"" + e.text() + "\": crash and restart act on a node's process;"
            + " use `hmm-emu cluster --fault` (inject changes links only)");
      }
    }
    return s;
  }

  /** The one line refusing {@code n} more actions when {@link #MAX_LIVE_ACTIONS} would be exceeded. */
  public static String tooManyLive(int n) {
    return "too many fault actions live at once: " + n + " more would exceed " + MAX_LIVE_ACTIONS
        + " (their last steps, e.g. the ends of 'for' periods, are still to run; wait for them)";
  }

  /** The nodes (0 = cpu0, k = gpuk) {@code a} names. */
  public static List<Integer> nodes(FaultSchedule.Action a) {
    List<Integer> nodes = new ArrayList<>();
    if (a instanceof FaultSchedule.AddDelay d) d.directions().forEach(x -> { nodes.add(x.from()); nodes.add(x.to()); });
    else if (a instanceof FaultSchedule.SetProbability p) p.directions().forEach(x -> { nodes.add(x.from()); nodes.add(x.to()); });
    else if (a instanceof FaultSchedule.Partition p) nodes.add(p.node());
    else if (a instanceof FaultSchedule.Heal h) nodes.add(h.node());
    else if (a instanceof FaultSchedule.Pause p) nodes.add(p.node());
    else if (a instanceof FaultSchedule.Resume r) nodes.add(r.node());
    else if (a instanceof FaultSchedule.Crash c) nodes.add(c.node());
    else if (a instanceof FaultSchedule.Restart r) nodes.add(r.node());
    return nodes;
  }

  /** How long after its start {@code s} has run its last step (its latest {@code at}, or {@code at + for}). */
  public static Duration span(FaultSchedule s) {
    Duration end = Duration.ZERO;
    for (FaultSchedule.Entry e : s.entries()) {
      Duration d = e.action().forDuration() == null ? e.at() : e.at().plus(e.action().forDuration());
      if (d.compareTo(end) > 0) end = d;
    }
    return end;
  }

  /** A request over {@link #MAX_LINES} or {@link #MAX_ACTIONS} (HTTP 413). */
  public static final class TooMuch extends IllegalArgumentException {
    TooMuch(String message) { super(message); }
  }

  /** The link controls the receptionist lists now. */
  public static CompletionStage<java.util.Set<ActorRef<String>>> controls(ActorSystem<?> system, Duration timeout) {
    return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
        r -> Receptionist.find(KEY, r), timeout, system.scheduler()).thenApply(l -> l.getServiceInstances(KEY));
  }

  /** Sends {@code text} to one link control; its reply line, or an {@code error} line after {@code timeout}. */
  public static CompletionStage<String> ask(ActorSystem<?> system, ActorRef<String> control, String text,
      Duration timeout) {
    ActorRefResolver resolver = ActorRefResolver.get(system);
    return AskPattern.<String, String>ask(control,
            replyTo -> resolver.toSerializationFormat(replyTo) + "\n" + text, timeout, system.scheduler())
        .exceptionally(e -> "error " + control.path().address() + ": no answer within " + timeout.toMillis() + " ms");
  }

  /**
   * Sends {@code text} to the link control of every node the receptionist lists and completes with their reply
   * lines (a node that does not answer within {@code timeout} gives an {@code error} line).
   */
  public static CompletionStage<List<String>> broadcast(ActorSystem<?> system, String text, Duration timeout) {
    return controls(system, timeout)
        .thenCompose(controls -> {
          List<CompletableFuture<String>> replies = new ArrayList<>();
          for (ActorRef<String> node : controls) replies.add(ask(system, node, text, timeout).toCompletableFuture());
          return CompletableFuture.allOf(replies.toArray(new CompletableFuture[0])).thenApply(v -> {
            List<String> out = new ArrayList<>();
            for (CompletableFuture<String> f : replies) out.add(f.join());
            if (out.isEmpty()) out.add("error: no node of the cluster has a link control registered");
            out.sort(null);
            return out;
          });
        });
  }
}
