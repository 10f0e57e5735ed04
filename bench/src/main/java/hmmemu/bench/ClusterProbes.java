package hmmemu.bench;

import hmmemu.cluster.ControlClient;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.WireCodec;
import hmmemu.protocol.wire.pb.Envelope;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The figures through an embedded cluster, each against the raw transport between the very same ActorSystems:
 * an echo actor on GPU node 1's system answers a pinger on the CPU node's system with the protobuf Envelope it got
 * (Pekko's protobuf serializer, as for every node message), and the controller's GPU atomics go to GPU node 1.
 * Every wait is bounded; a probe that runs out of time throws {@link Timeout}.
 */
final class ClusterProbes {
  static final int MM = 1;
  static final long BASE = 0x7f00_0000_0000L;

  /** A bounded wait ran out. */
  static final class Timeout extends RuntimeException {
    Timeout(String m) { super(m); }
  }

  private ClusterProbes() {}

  // ------------------------------------------------------------------ raw transport: echo and pinger

  private record Start(int count, int inFlight, Envelope request, ActorRef<Object> echo, CompletableFuture<Long> done)
      implements org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  private static Behavior<Envelope> echo() {
    return Behaviors.setup(ctx -> {
      ActorRefResolver resolver = ActorRefResolver.get(ctx.getSystem());
      Map<String, ActorRef<Envelope>> refs = new HashMap<>();
      return Behaviors.receiveMessage(env -> {
        refs.computeIfAbsent(WireCodec.replyTo(env), resolver::resolveActorRef).tell(env);
        return Behaviors.same();
      });
    });
  }

  private static Behavior<Object> pinger() {
    long[] state = new long[3]; // received, sent, count
    Object[] run = new Object[1];
    return Behaviors.receiveMessage(m -> {
      if (m instanceof Start s) {
        run[0] = s;
        state[0] = 0;
        state[1] = 0;
        state[2] = s.count();
        for (int i = 0; i < s.inFlight() && state[1] < state[2]; i++, state[1]++) s.echo().tell(s.request());
      } else if (m instanceof Envelope && run[0] instanceof Start s) {
        state[0]++;
        if (state[1] < state[2]) {
          state[1]++;
          s.echo().tell(s.request());
        } else if (state[0] == state[2]) {
          s.done().complete(System.nanoTime());
        }
      }
      return Behaviors.same();
    });
  }

  /** The raw pair between the CPU node's system and GPU node 1's system. */
  static final class Raw {
    private final ActorRef<Object> pinger;
    private final ActorRef<Object> echoFromCpu;
    private final Envelope request;

    @SuppressWarnings("unchecked")
    Raw(EmbeddedCluster c) {
      ActorSystem<Void> gpu = c.gpuSystem(1);
      ActorRef<Envelope> echo = gpu.systemActorOf(echo(), "bench-echo", Props.empty());
      echoFromCpu = (ActorRef<Object>) (ActorRef<?>) ActorRefResolver.get(c.cpuSystem)
          .resolveActorRef(ActorRefResolver.get(gpu).toSerializationFormat(echo));
      pinger = c.cpuSystem.systemActorOf(pinger(), "bench-pinger", Props.empty());
      // A request of the size of a small protocol message: a DeviceAccess with a vector clock and a reply-to path.
      request = WireCodec.encode(new HmmProtocol.DeviceAccess(1L << 62, 16, MM, BASE, Access.ATOMIC, 1),
          new long[] {12, 34}, ActorRefResolver.get(c.cpuSystem).toSerializationFormat(pinger));
    }

    int requestBytes() { return request.getSerializedSize(); }

    /** Round trips per second with {@code inFlight} requests outstanding, over {@code count} round trips. */
    double roundTripsPerSecond(int count, int inFlight, long timeoutMillis) {
      CompletableFuture<Long> done = new CompletableFuture<>();
      long t0 = System.nanoTime();
      pinger.tell(new Start(count, inFlight, request, echoFromCpu, done));
      long t1 = await(done, timeoutMillis, count + " raw round trips");
      return count / ((t1 - t0) / 1e9);
    }
  }

  private static <T> T await(CompletableFuture<T> f, long timeoutMillis, String what) {
    try {
      return f.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new Timeout(what + " did not finish within " + timeoutMillis + " ms");
    } catch (Exception e) {
      throw new IllegalStateException(what + ": " + e, e);
    }
  }

  // ------------------------------------------------------------------ GPU atomic faults through the cluster

  /** GPU node 1's device 16 bound (nouveau) to mm 1, and a large anonymous mapping whose pages are used once each. */
  static final class Faults {
    private final EmbeddedCluster c;
    private final ControlClient client;
    private final int dev = 16;
    private final AtomicLong nextPage = new AtomicLong();
    private final long pages;

    Faults(EmbeddedCluster c, long pages, java.time.Duration timeout) {
      this.c = c;
      this.pages = pages;
      client = new ControlClient(c.controlSystem(), timeout);
      expect(client.call(c.gpu(1), new HmmProtocol.BindMm(client.nextReqId(), dev, MM, DriverFlavour.NOUVEAU)),
          HmmProtocol.MmBound.class);
      HmmProtocol.Msg r = client.call(c.cpu(), new HmmProtocol.Syscall(client.nextReqId(), MM,
          HmmProtocol.SyscallKind.MMAP, BASE, pages * Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, 0));
      if (!(r instanceof HmmProtocol.SyscallDone d) || d.errno() != Errno.OK) throw new IllegalStateException("mmap: " + r);
    }

    private long freshVa() {
      long p = nextPage.getAndIncrement();
      if (p >= pages) throw new IllegalStateException("the bench ran out of fresh pages (" + pages + ")");
      return BASE + p * Page.SIZE;
    }

    private java.util.concurrent.CompletionStage<Void> atomic() {
      return client.ask(c.gpu(1), new HmmProtocol.DeviceAccess(client.nextReqId(), dev, MM, freshVa(), Access.ATOMIC, 1))
          .thenAccept(r -> {
            HmmProtocol.DeviceAccessDone d = expect(r, HmmProtocol.DeviceAccessDone.class);
            if (d.errno() != Errno.OK) throw new IllegalStateException("GPU atomic: " + d);
          });
    }

    /** {@code count} GPU atomics, each on a fresh page, by {@code warps} warps each with one access in flight. */
    double faultsPerSecond(int count, int warps, long timeoutMillis) {
      AtomicLong issued = new AtomicLong();
      List<CompletableFuture<Void>> lanes = new ArrayList<>();
      long t0 = System.nanoTime();
      for (int w = 0; w < warps; w++) {
        CompletableFuture<Void> lane = new CompletableFuture<>();
        lanes.add(lane);
        next(issued, count, lane);
      }
      await(CompletableFuture.allOf(lanes.toArray(new CompletableFuture[0])), timeoutMillis,
          count + " GPU atomic faults by " + warps + " warps");
      return count / ((System.nanoTime() - t0) / 1e9);
    }

    private void next(AtomicLong issued, int count, CompletableFuture<Void> lane) {
      if (issued.getAndIncrement() >= count) {
        lane.complete(null);
        return;
      }
      atomic().whenComplete((v, e) -> {
        if (e != null) lane.completeExceptionally(e);
        else next(issued, count, lane);
      });
    }
  }

  static <T extends HmmProtocol.Msg> T expect(HmmProtocol.Msg m, Class<T> type) {
    if (!type.isInstance(m)) throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + m);
    return type.cast(m);
  }

  // ------------------------------------------------------------------ MADV_DONTNEED of a range two devices map

  /**
   * Two dmirror devices (GPU nodes 1 and 2) map every page of a {@code pages}-page anonymous range (READ ioctls of
   * {@code chunk} pages); then MADV_DONTNEED of the whole range is timed from the call to its reply, which the CPU
   * node sends after the last InvalidateAck (mmu_notifier_invalidate_range_start waits for every callback).
   * Each repetition maps again first; set-up and each call are bounded by {@code deadlineNanos}.
   */
  static List<Double> invalidateMillis(EmbeddedCluster c, int pages, int chunk, int repetitions, long deadlineNanos,
      java.time.Duration callTimeout, StringBuilder note) {
    ControlClient client = new ControlClient(c.controlSystem(), callTimeout);
    int[] devs = {16, 32};
    for (int k = 0; k < 2; k++) {
      expect(client.call(c.gpu(k + 1), new HmmProtocol.BindMm(client.nextReqId(), devs[k], MM, DriverFlavour.DMIRROR)),
          HmmProtocol.MmBound.class);
    }
    HmmProtocol.Msg r = client.call(c.cpu(), new HmmProtocol.Syscall(client.nextReqId(), MM,
        HmmProtocol.SyscallKind.MMAP, BASE, (long) pages * Page.SIZE, Prot.RW, VmaKind.ANON_PRIVATE, 0));
    if (!(r instanceof HmmProtocol.SyscallDone d0) || d0.errno() != Errno.OK) throw new IllegalStateException("mmap: " + r);
    List<Double> samples = new ArrayList<>();
    for (int rep = 0; rep < repetitions + 1; rep++) {
      for (int start = 0; start < pages; start += chunk) {
        int n = Math.min(chunk, pages - start);
        for (int k = 0; k < 2; k++) {
          if (System.nanoTime() > deadlineNanos) {
            note.append("mapping for repetition ").append(rep).append(" (0 = warm-up) stopped: device ").append(devs[k]).append(" had mapped ").append(start).append(" of ")
                .append(pages).append(" pages when the time budget ran out");
            return samples;
          }
          HmmProtocol.DmirrorReply dr = expect(client.call(c.gpu(k + 1), new HmmProtocol.DmirrorCmd(client.nextReqId(),
              devs[k], MM, HmmProtocol.DmirrorOp.READ, BASE + (long) start * Page.SIZE, n, List.of())),
              HmmProtocol.DmirrorReply.class);
          if (dr.errno() != Errno.OK) throw new IllegalStateException("dmirror READ: " + dr.errno());
        }
      }
      long t0 = System.nanoTime();
      HmmProtocol.Msg done = client.call(c.cpu(), new HmmProtocol.Syscall(client.nextReqId(), MM,
          HmmProtocol.SyscallKind.MADV_DONTNEED, BASE, (long) pages * Page.SIZE, 0, VmaKind.ANON_PRIVATE, 0));
      double ms = (System.nanoTime() - t0) / 1e6;
      if (!(done instanceof HmmProtocol.SyscallDone d) || d.errno() != Errno.OK) {
        throw new IllegalStateException("MADV_DONTNEED: " + done);
      }
      if (rep > 0) samples.add(ms); // the first is the warm-up
    }
    return samples;
  }
}
