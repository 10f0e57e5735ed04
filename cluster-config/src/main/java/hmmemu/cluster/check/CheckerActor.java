package hmmemu.cluster.check;

import hmmemu.checker.InvariantChecker;
import hmmemu.checker.Violation;
import hmmemu.node.ServiceKeys;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import hmmemu.protocol.wire.pb.FlowHalf;
import hmmemu.report.RunRecorder;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The cluster's one invariant checker: a thin shell around {@link InvariantChecker}. Every node sends it the
 * stamped trace events of each step; it delivers them in causal order and checks docs/PROTOCOL.md §6 after each.
 *
 * <p>Run records (docs/OBSERVABILITY.md): while a {@link RunRecorder} is attached ({@link Record}), every event the
 * checker applies goes to it too, in the same causal order, with the flow halves of the nodes' messages and the
 * fault windows the controller reports ({@link RecordFault}); {@link StopRecording} detaches it and hands it back.
 * None of it changes what the checker judges.
 */
public final class CheckerActor extends AbstractBehavior<Object> {

  /** Asks for the verdict once the checker has delivered at least {@code until[i]} events of each node i. */
  public record Verdict(long[] until, ActorRef<VerdictReply> replyTo) implements NoSerializationVerificationNeeded {}

  /**
   * The verdict: all violations so far and how many events were checked; {@code rejected} stamps the checker could
   * not judge (malformed) and {@code lost} events of GPU nodes gone that never arrived, each with its description.
   */
  public record VerdictReply(boolean caughtUp, long delivered, int pending, List<Violation> violations,
      String recent, java.util.Map<String, Long> eventCounts, long rejected, String rejectedWhy, long lost,
      String lostWhy) implements NoSerializationVerificationNeeded {
    public VerdictReply(boolean caughtUp, long delivered, int pending, List<Violation> violations, String recent) {
      this(caughtUp, delivered, pending, violations, recent, java.util.Map.of(), 0, "", 0, "");
    }
  }

  /** Answers (once) when the checker has delivered the CPU node's NodeGone for GPU node {@code nodeIndex}. */
  public record WhenNodeGone(int nodeIndex, ActorRef<Integer> replyTo) implements NoSerializationVerificationNeeded {}

  /** Answers every open Verdict now, caught up or not (the asker's bound ran out). */
  public record Flush() implements NoSerializationVerificationNeeded {}

  /** Timer: GPU nodes the CPU node declared gone had time to deliver their last batches; skip what is missing. */
  private enum ReleaseLost { INSTANCE }

  /** How long a GPU node declared gone may still deliver trace batches already in flight. */
  static final java.time.Duration LOST_GRACE = java.time.Duration.ofSeconds(1);

  /** Attaches {@code recorder} (local only): it sees every event applied from now on, and the flows. */
  public record Record(RunRecorder recorder) implements NoSerializationVerificationNeeded {}

  /** A fault-injection window for the attached recorder (model time; end -1 while open). */
  public record RecordFault(RunRecorder.FaultWindow window) implements NoSerializationVerificationNeeded {}

  /** Clock offsets for the attached recorder ({@link RunRecorder#clockOffset}), e.g. of a node restarted mid-run. */
  public record RecordClockOffsets(java.util.Map<Integer, Long> offsets) implements NoSerializationVerificationNeeded {}

  /** Detaches the recorder and hands it back (null when none was attached). */
  public record StopRecording(ActorRef<java.util.Optional<RunRecorder>> replyTo)
      implements NoSerializationVerificationNeeded {}

  /** Answers how many flow halves the attached recorder holds unpaired (0 when none is attached). */
  public record Unpaired(ActorRef<Long> replyTo) implements NoSerializationVerificationNeeded {}

  /**
   * Adds {@code listener} (local only): it hears every event applied from now on, in the checker's causal order, on
   * the checker's thread, after the recorder (a scenario host's busy-loop watch, docs/SCENARIOS.md "Liveness
   * verdicts"). It sees; it changes nothing the checker judges.
   */
  public record Watch(java.util.function.Consumer<Stamped> listener) implements NoSerializationVerificationNeeded {}

  private RunRecorder recorder;
  /** The listeners {@link Watch} added. */
  private final List<java.util.function.Consumer<Stamped>> watchers = new ArrayList<>();

  private final InvariantChecker checker;
  private final List<Verdict> waiting = new ArrayList<>();
  private final List<WhenNodeGone> goneWaiters = new ArrayList<>();
  private int reportedViolations;
  private long undecodable;

  /** A checker for kernel 6.15+ semantics. */
  public static Behavior<Object> create() { return create(KernelProfile.V6_15); }

  /** A checker judging the run with the kernel generation the nodes model (I9, I10, I11 differ). */
  public static Behavior<Object> create(KernelProfile profile) { return create(profile, 0); }

  /**
   * The checker of node incarnation {@code epoch} (reused node JVMs, docs/SCENARIOS.md "Across separate JVMs"),
   * registered under that incarnation's key: only that incarnation's nodes find it. {@link Retire} stops it.
   */
  public static Behavior<Object> create(KernelProfile profile, long epoch) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new CheckerActor(ctx, profile, timers, epoch)));
  }

  /** Stops this checker (its incarnation's run is over; a reused cluster's next run has a checker of its own). */
  public record Retire() implements NoSerializationVerificationNeeded {}

  private final org.apache.pekko.actor.typed.javadsl.TimerScheduler<Object> timers;

  private CheckerActor(ActorContext<Object> ctx, KernelProfile profile,
      org.apache.pekko.actor.typed.javadsl.TimerScheduler<Object> timers, long epoch) {
    super(ctx);
    this.timers = timers;
    this.checker = new InvariantChecker(profile);
    checker.countByField(true); // the scenario language's filtered trace counts (VerdictReply.eventCounts)
    ctx.getSystem().receptionist().tell(Receptionist.register(ServiceKeys.ofEpoch(ServiceKeys.CHECKER, epoch),
        ctx.getSelf().narrow()));
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Retire.class, r -> Behaviors.stopped())
        .onMessage(Envelope.class, this::onEnvelope)
        .onMessage(Verdict.class, this::onVerdict)
        .onMessage(Flush.class, f -> { releaseLost(); answerAll(true); return this; })
        .onMessage(ReleaseLost.class, r -> { releaseLost(); answerAll(false); answerGone(); return this; })
        .onMessage(WhenNodeGone.class, w -> { goneWaiters.add(w); answerGone(); return this; })
        .onMessage(Record.class, this::onRecord)
        .onMessage(Watch.class, w -> { watchers.add(w.listener()); listen(); return this; })
        .onMessage(RecordFault.class, f -> { if (recorder != null) recorder.onFaultWindow(f.window()); return this; })
        .onMessage(RecordClockOffsets.class, c -> {
          if (recorder != null) {
            c.offsets().forEach((node, off) -> {
              if (!recorder.clockOffsets().containsKey(node)) recorder.clockOffset(node, off);
            });
          }
          return this;
        })
        .onMessage(StopRecording.class, this::onStopRecording)
        .onMessage(Unpaired.class, u -> {
          u.replyTo().tell(recorder == null ? 0L : recorder.unpairedSends() + recorder.unpairedReceipts());
          return this;
        })
        .build();
  }

  private Behavior<Object> onRecord(Record r) {
    recorder = r.recorder();
    listen();
    return this;
  }

  /** Hands applied events to the recorder and the watchers while there is any (none: the checker hands none). */
  private void listen() {
    if (recorder == null && watchers.isEmpty()) {
      checker.onApplied(null);
      return;
    }
    checker.onApplied(s -> {
      if (recorder != null) recorder.onEvent(s);
      for (java.util.function.Consumer<Stamped> w : watchers) w.accept(s);
    });
  }

  private Behavior<Object> onStopRecording(StopRecording s) {
    RunRecorder r = recorder;
    recorder = null;
    listen();
    s.replyTo().tell(java.util.Optional.ofNullable(r));
    return this;
  }

  /** The flow halves a trace batch carries go to the recorder (the checker does not judge them). */
  private void recordFlows(hmmemu.protocol.wire.pb.TraceBatch batch) {
    if (recorder == null) return;
    int node = batch.getNode();
    for (FlowHalf f : batch.getFlowsList()) {
      if (f.getSent()) {
        recorder.flowSent(node, f.getPeer(), f.getMsgNo(), f.getAtMicros(), f.hasType() ? f.getType() : "?", f.getBytes());
      } else {
        recorder.flowReceived(f.getPeer(), node, f.getMsgNo(), f.getAtMicros());
      }
    }
  }

  private Behavior<Object> onEnvelope(Envelope e) {
    if (!WireCodec.isTrace(e)) return this;
    if (e.getTraceBatch().getLostBefore() > 0) {
      getContext().getLog().error("CHECKER-LOST {} events of node {}: dropped by the node before a checker was known"
          + " (its buffer of pending events was full); they are not checked", e.getTraceBatch().getLostBefore(),
          e.getTraceBatch().getNode());
    }
    recordFlows(e.getTraceBatch());
    long rejectedBefore = checker.rejected();
    for (hmmemu.protocol.wire.pb.Stamped p : e.getTraceBatch().getEventsList()) {
      Stamped s;
      try {
        s = WireCodec.decodeStamped(p);
      } catch (RuntimeException bad) {
        undecodable++;
        getContext().getLog().error("rejected a trace event of node {} the checker cannot decode: {}",
            e.getTraceBatch().getNode(), bad.toString());
        continue;
      }
      checker.offer(s); // a malformed stamp is rejected and counted by the checker
    }
    if (checker.rejected() > rejectedBefore) {
      getContext().getLog().error("rejected {} trace event(s) the checker cannot judge: {}",
          checker.rejected() - rejectedBefore, checker.describeRejected());
    }
    if (!checker.declaredGoneNotLost().isEmpty() && !timers.isTimerActive(ReleaseLost.INSTANCE)) {
      timers.startSingleTimer(ReleaseLost.INSTANCE, ReleaseLost.INSTANCE, LOST_GRACE);
    }
    List<Violation> all = checker.violations();
    for (int i = reportedViolations; i < all.size(); i++) {
      getContext().getLog().error("invariant violated: {}", all.get(i));
    }
    reportedViolations = all.size();
    answerAll(false);
    answerGone();
    return this;
  }

  /** The CPU node declared these GPU nodes gone: their missing events no longer hold back their dependants. */
  private void releaseLost() {
    for (int node : checker.declaredGoneNotLost()) {
      checker.nodeLost(node);
      if (checker.lostEventCount() > 0) {
        getContext().getLog().warn("GPU node {} is gone; lost trace events skipped: {}", node, checker.describeLost());
      }
    }
  }

  private void answerGone() {
    goneWaiters.removeIf(w -> {
      if (!checker.goneNodes().contains(w.nodeIndex())) return false;
      w.replyTo().tell(w.nodeIndex());
      return true;
    });
  }

  private Behavior<Object> onVerdict(Verdict v) {
    waiting.add(v);
    answerAll(false);
    return this;
  }

  /** Events delivered per type ({@code CpuFaulted}) and per type and field value ({@code CpuFaulted.kind=anon}). */
  private java.util.Map<String, Long> counts() {
    java.util.Map<String, Long> all = new java.util.HashMap<>(checker.eventCounts());
    all.putAll(checker.fieldCounts());
    return java.util.Map.copyOf(all);
  }

  private void answerAll(boolean force) {
    waiting.removeIf(v -> {
      boolean caught = checker.caughtUp(v.until());
      if (!caught && !force) return false;
      v.replyTo().tell(new VerdictReply(caught, checker.delivered(), checker.pending(),
          List.copyOf(checker.violations()), checker.describeRecent(20), counts(),
          checker.rejected() + undecodable, checker.describeRejected()
              + (undecodable == 0 ? "" : "\n" + undecodable + " undecodable trace event(s)"),
          checker.lostEventCount(), checker.describeLost()));
      return true;
    });
  }
}
