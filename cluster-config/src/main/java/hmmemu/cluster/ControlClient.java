package hmmemu.cluster;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.msg.Msgs;
import hmmemu.protocol.trace.VectorClock;
import hmmemu.protocol.wire.ChunkCodec;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The controller's side of the wire: asks a node a request (CpuAccess, DeviceAccess, Syscall, BindMm, Inspect...)
 * and decodes the reply. It carries causality through itself: replies' vector clocks are merged and the merged
 * clock is sent with every request, so an operation the controller starts after another ended is ordered after it.
 *
 * <p>Replies come to one reply actor per client (a system actor), keyed by the request's reqId. A reply larger than
 * a frame (Pekko Artery's is 256 KiB) arrives in parts (chunk.proto, {@code NodeShell.reply}); the client gathers
 * the parts of one reqId in any order ({@link ChunkCodec.Parts}) and completes the ask when all came. A part that
 * never comes fails the ask at its timeout, naming the request and the missing parts; parts that do not fit their
 * message fail it at once. A reply for a reqId no ask waits for (it timed out) is dropped and counted.
 *
 * <p>Replies are decoded on an explicit executor (by default the ActorSystem's dispatcher). Pekko's javadsl ask
 * returns a Scala-converted future whose every continuation, even a non-async one, runs "async" on the default
 * executor of CompletableFuture; with fewer than 3 CPUs that executor is a new thread per task (issue 11 counted
 * 14,903 threads in a 30 s run). The stage returned by {@link #ask} is a plain CompletableFuture completed on that
 * executor, so the callers' continuations run on its thread too, and never start a thread.
 */
public final class ControlClient {
  /** Controller reqIds live in their own range so they never collide with a device's (deviceId << 40 | n). */
  private static final long REQ_BASE = Ids.CONTROLLER_REQ_BASE;
  private static final AtomicLong CLIENTS = new AtomicLong();

  private final ActorSystem<?> system;
  private final ActorRefResolver resolver;
  private final AtomicLong nextReq = new AtomicLong(REQ_BASE);
  private final Duration timeout;
  private final Executor executor;
  private final ActorRef<Envelope> replies;
  private final String repliesPath;
  private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicLong unmatched = new AtomicLong();
  private final AtomicLong chunkedReplies = new AtomicLong();
  private long[] clock = new long[0];

  /** One ask waiting for its reply (or its reply's parts). Guarded by itself. */
  private static final class Pending {
    final String what;
    final CompletableFuture<HmmProtocol.Msg> out = new CompletableFuture<>();
    ChunkCodec.Parts parts;
    Cancellable timer;

    Pending(String what) { this.what = what; }
  }

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
    this.replies = system.systemActorOf(Behaviors.<Envelope>receiveMessage(env -> {
      try {
        onReply(env);
      } catch (RuntimeException e) { // the reply actor must outlive a malformed reply (it serves every ask)
        unmatched.incrementAndGet();
        system.log().error("a reply that could not be matched to an ask was dropped ({}): {}", env.getBodyCase(), e.toString());
      }
      return Behaviors.same();
    }), "control-client-" + CLIENTS.incrementAndGet(), Props.empty());
    this.repliesPath = resolver.toSerializationFormat(replies);
  }

  public long nextReqId() { return nextReq.incrementAndGet(); }

  /** The node incarnation this client's requests belong to (NodeShell drops another's); 0: a JVM's first. */
  private volatile long epoch;

  /** Stamps this client's requests with node incarnation {@code epoch} (reused node JVMs); returns this client. */
  public ControlClient epoch(long epoch) {
    this.epoch = epoch;
    return this;
  }

  public synchronized long[] clock() { return clock.clone(); }

  private synchronized void merge(long[] other) {
    VectorClock merged = new VectorClock(0);
    merged.merge(clock);
    merged.merge(other);
    clock = merged.snapshot();
  }

  /** Replies that came for no waiting ask (late, after their ask timed out, or never asked); dropped. */
  public long unmatchedReplies() { return unmatched.get(); }

  /** Replies that came in parts and were gathered. */
  public long chunkedReplies() { return chunkedReplies.get(); }

  /**
   * Sends {@code msg} (a request with a reqId) to {@code node} and completes with the decoded reply; fails with a
   * {@link TimeoutException} naming the request (and the parts of its reply that never came) after the timeout.
   */
  public CompletionStage<HmmProtocol.Msg> ask(ActorRef<?> node, HmmProtocol.Msg msg) {
    return ask(node, msg, timeout);
  }

  /** As {@link #ask(ActorRef, HmmProtocol.Msg)} with this ask's own {@code timeout}. */
  public CompletionStage<HmmProtocol.Msg> ask(ActorRef<?> node, HmmProtocol.Msg msg, Duration timeout) {
    @SuppressWarnings("unchecked")
    ActorRef<Envelope> to = (ActorRef<Envelope>) node;
    long reqId = Msgs.reqIdOf(msg);
    Pending p = new Pending(msg.getClass().getSimpleName() + " (reqId " + reqId + ") to " + node.path());
    if (reqId < 0) {
      p.out.completeExceptionally(new IllegalArgumentException(p.what + ": a request without a reqId gets no reply"));
      return p.out;
    }
    if (pending.putIfAbsent(reqId, p) != null) {
      p.out.completeExceptionally(new IllegalStateException(p.what + ": an ask with this reqId is already waiting"));
      return p.out;
    }
    synchronized (p) {
      p.timer = system.scheduler().scheduleOnce(timeout, () -> timedOut(reqId, p, timeout), system.executionContext());
    }
    Envelope env = WireCodec.encode(msg, clock(), repliesPath);
    to.tell(epoch == 0 ? env : env.toBuilder().setEpoch(epoch).build());
    return p.out;
  }

  /** On the reply actor: a whole reply, or one part of a larger one. */
  private void onReply(Envelope env) {
    long reqId = ChunkCodec.reqIdOf(env);
    Pending p = pending.get(reqId);
    if (p == null) {
      unmatched.incrementAndGet();
      system.log().debug("a reply for reqId {} no ask waits for ({}), dropped", reqId, env.getBodyCase());
      return;
    }
    if (!ChunkCodec.isChunk(env)) {
      complete(reqId, p, env);
      return;
    }
    Envelope whole;
    synchronized (p) {
      try {
        if (p.parts == null) p.parts = ChunkCodec.Parts.of(env);
        p.parts.add(env);
      } catch (IllegalArgumentException e) {
        fail(reqId, p, new IllegalStateException("the reply to " + p.what + " came in parts that do not fit: "
            + e.getMessage()));
        return;
      }
      if (!p.parts.complete()) return;
      try {
        whole = p.parts.join();
      } catch (IllegalArgumentException e) {
        fail(reqId, p, new IllegalStateException("the reply to " + p.what + " did not join: " + e.getMessage()));
        return;
      }
    }
    chunkedReplies.incrementAndGet();
    complete(reqId, p, whole);
  }

  private void complete(long reqId, Pending p, Envelope env) {
    if (!pending.remove(reqId, p)) return;
    cancelTimer(p);
    executor.execute(() -> {
      try {
        merge(WireCodec.vc(env));
        p.out.complete(WireCodec.decode(env));
      } catch (RuntimeException e) {
        p.out.completeExceptionally(e);
      }
    });
  }

  private void fail(long reqId, Pending p, Throwable why) {
    if (!pending.remove(reqId, p)) return;
    cancelTimer(p);
    executor.execute(() -> p.out.completeExceptionally(why));
  }

  private void timedOut(long reqId, Pending p, Duration timeout) {
    String missing;
    synchronized (p) {
      missing = p.parts == null ? "" : "; " + p.parts.describeMissing();
    }
    fail(reqId, p, new TimeoutException("no reply to " + p.what + " within " + timeout.toMillis() + " ms" + missing));
  }

  private static void cancelTimer(Pending p) {
    synchronized (p) {
      if (p.timer != null) p.timer.cancel();
    }
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
