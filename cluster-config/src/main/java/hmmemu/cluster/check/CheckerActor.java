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
 * stamped trace events of each step; it delivers them in causal order and checks PROTOCOL.md §6 after each.
 *
 * <p>Run records (docs/OBSERVABILITY.md): while a {@link RunRecorder} is attached ({@link Record}), every event the
 * checker applies goes to it too, in the same causal order, with the flow halves of the nodes' messages and the
 * fault windows the controller reports ({@link RecordFault}); {@link StopRecording} detaches it and hands it back.
 * None of it changes what the checker judges.
 */
public final class CheckerActor extends AbstractBehavior<Object> {

  /** Asks for the verdict once the checker has delivered at least {@code until[i]} events of each node i. */
  public record Verdict(long[] until, ActorRef<VerdictReply> replyTo) implements NoSerializationVerificationNeeded {}

  /** The verdict: all violations so far and how many events were checked. */
  public record VerdictReply(boolean caughtUp, long delivered, int pending, List<Violation> violations,
      String recent, java.util.Map<String, Long> eventCounts) implements NoSerializationVerificationNeeded {
    public VerdictReply(boolean caughtUp, long delivered, int pending, List<Violation> violations, String recent) {
      this(caughtUp, delivered, pending, violations, recent, java.util.Map.of());
    }
  }

  /** Answers (once) when the checker has delivered the CPU node's NodeGone for GPU node {@code nodeIndex}. */
  public record WhenNodeGone(int nodeIndex, ActorRef<Integer> replyTo) implements NoSerializationVerificationNeeded {}

  /** Answers every open Verdict now, caught up or not (the asker's bound ran out). */
  public record Flush() implements NoSerializationVerificationNeeded {}

  /** Attaches {@code recorder} (local only): it sees every event applied from now on, and the flows. */
  public record Record(RunRecorder recorder) implements NoSerializationVerificationNeeded {}

  /** A fault-injection window for the attached recorder (model time; end -1 while open). */
  public record RecordFault(RunRecorder.FaultWindow window) implements NoSerializationVerificationNeeded {}

  /** Detaches the recorder and hands it back (null when none was attached). */
  public record StopRecording(ActorRef<java.util.Optional<RunRecorder>> replyTo)
      implements NoSerializationVerificationNeeded {}

  /** Answers how many flow halves the attached recorder holds unpaired (0 when none is attached). */
  public record Unpaired(ActorRef<Long> replyTo) implements NoSerializationVerificationNeeded {}

  private RunRecorder recorder;

  private final InvariantChecker checker;
  private final List<Verdict> waiting = new ArrayList<>();
  private final List<WhenNodeGone> goneWaiters = new ArrayList<>();
  private int reportedViolations;

  /** A checker for kernel 6.15+ semantics. */
  public static Behavior<Object> create() { return create(KernelProfile.V6_15); }

  /** A checker judging the run with the kernel generation the nodes model (I9, I10, I11 differ). */
  public static Behavior<Object> create(KernelProfile profile) {
    return Behaviors.setup(ctx -> new CheckerActor(ctx, profile));
  }

  private CheckerActor(ActorContext<Object> ctx, KernelProfile profile) {
    super(ctx);
    this.checker = new InvariantChecker(profile);
    ctx.getSystem().receptionist().tell(Receptionist.register(ServiceKeys.CHECKER, ctx.getSelf().narrow()));
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Envelope.class, this::onEnvelope)
        .onMessage(Verdict.class, this::onVerdict)
        .onMessage(Flush.class, f -> { answerAll(true); return this; })
        .onMessage(WhenNodeGone.class, w -> { goneWaiters.add(w); answerGone(); return this; })
        .onMessage(Record.class, this::onRecord)
        .onMessage(RecordFault.class, f -> { if (recorder != null) recorder.onFaultWindow(f.window()); return this; })
        .onMessage(StopRecording.class, this::onStopRecording)
        .onMessage(Unpaired.class, u -> {
          u.replyTo().tell(recorder == null ? 0L : recorder.unpairedSends() + recorder.unpairedReceipts());
          return this;
        })
        .build();
  }

  private Behavior<Object> onRecord(Record r) {
    recorder = r.recorder();
    checker.onApplied(recorder::onEvent);
    return this;
  }

  private Behavior<Object> onStopRecording(StopRecording s) {
    RunRecorder r = recorder;
    recorder = null;
    checker.onApplied(null);
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
    for (Stamped s : WireCodec.decodeTrace(e.getTraceBatch())) checker.offer(s);
    List<Violation> all = checker.violations();
    for (int i = reportedViolations; i < all.size(); i++) {
      getContext().getLog().error("invariant violated: {}", all.get(i));
    }
    reportedViolations = all.size();
    answerAll(false);
    answerGone();
    return this;
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

  private void answerAll(boolean force) {
    waiting.removeIf(v -> {
      boolean caught = checker.caughtUp(v.until());
      if (!caught && !force) return false;
      v.replyTo().tell(new VerdictReply(caught, checker.delivered(), checker.pending(),
          List.copyOf(checker.violations()), checker.describeRecent(20), java.util.Map.copyOf(checker.eventCounts())));
      return true;
    });
  }
}
