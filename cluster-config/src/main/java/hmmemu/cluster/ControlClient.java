package hmmemu.cluster;

import hmmemu.protocol.msg.Ids;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.trace.VectorClock;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The controller's side of the wire: asks a node a request (CpuAccess, DeviceAccess, Syscall, BindMm, Inspect...)
 * and decodes the reply. It carries causality through itself: replies' vector clocks are merged and the merged
 * clock is sent with every request, so an operation the controller starts after another ended is ordered after it.
 *
 * <p>Replies are decoded on an explicit executor (by default the ActorSystem's dispatcher). Pekko's javadsl ask
 * returns a Scala-converted future whose every continuation, even a non-async one, runs "async" on the default
 * executor of CompletableFuture; with fewer than 3 CPUs that executor is a new thread per task (issue 11 counted
 * 14,903 threads in a 30 s run). The stage returned by {@link #ask} is a plain CompletableFuture, so the callers'
 * continuations run on that executor's thread too, and never start a thread.
 */
public final class ControlClient {
  /** Controller reqIds live in their own range so they never collide with a device's (deviceId << 40 | n). */
  private static final long REQ_BASE = Ids.CONTROLLER_REQ_BASE;

  private final ActorSystem<?> system;
  private final ActorRefResolver resolver;
  private final AtomicLong nextReq = new AtomicLong(REQ_BASE);
  private final Duration timeout;
  private final Executor executor;
  private long[] clock = new long[0];

  /** A client whose replies are decoded on the ActorSystem's default dispatcher. */
  public ControlClient(ActorSystem<?> system, Duration timeout) {
    this(system, timeout, system.executionContext());
  }

  /** A client whose replies are decoded, and whose callers' continuations run, on {@code executor}. */
  public ControlClient(ActorSystem<?> system, Duration timeout, Executor executor) {
    this.system = system;
    this.resolver = ActorRefResolver.get(system);
    this.timeout = timeout;
    this.executor = executor;
  }

  public long nextReqId() { return nextReq.incrementAndGet(); }

  public synchronized long[] clock() { return clock.clone(); }

  private synchronized void merge(long[] other) {
    VectorClock merged = new VectorClock(0);
    merged.merge(clock);
    merged.merge(other);
    clock = merged.snapshot();
  }

  /** Sends {@code msg} to {@code node} and completes with the decoded reply. */
  public CompletionStage<HmmProtocol.Msg> ask(ActorRef<?> node, HmmProtocol.Msg msg) {
    @SuppressWarnings("unchecked")
    ActorRef<Envelope> to = (ActorRef<Envelope>) node;
    long[] vc = clock();
    CompletionStage<Envelope> reply = AskPattern.ask(to,
        (ActorRef<Envelope> replyTo) -> WireCodec.encode(msg, vc, resolver.toSerializationFormat(replyTo)),
        timeout, system.scheduler());
    CompletableFuture<HmmProtocol.Msg> out = new CompletableFuture<>();
    reply.whenCompleteAsync((env, ex) -> {
      if (ex != null) {
        out.completeExceptionally(ex);
        return;
      }
      try {
        merge(WireCodec.vc(env));
        out.complete(WireCodec.decode(env));
      } catch (RuntimeException e) {
        out.completeExceptionally(e);
      }
    }, executor);
    return out;
  }

  /** Blocking form for set-up steps; fails with a one-line message naming the request. */
  public HmmProtocol.Msg call(ActorRef<?> node, HmmProtocol.Msg msg) {
    try {
      return ask(node, msg).toCompletableFuture().get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("no reply to " + msg.getClass().getSimpleName() + " within "
          + timeout.toMillis() + " ms: " + e);
    }
  }
}
