package hmmemu.cluster;

import hmmemu.protocol.wire.pb.NodeIncarnate;
import hmmemu.protocol.wire.pb.NodeIncarnated;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The controller's side of {@link NodeIncarnations} (reused node JVMs, docs/SCENARIOS.md "Across separate JVMs"):
 * asks every node JVM's incarnation host to retire its node actors and start those of a new incarnation, and waits
 * (bounded) for every answer. Not a kernel structure.
 */
final class Reincarnation {
  private Reincarnation() {}

  /** The registered instance of {@code key}, waiting for it (bounded by {@code deadline}, System.nanoTime). */
  static <T> ActorRef<T> find(ActorSystem<?> system, ServiceKey<T> key, long deadline) {
    ActorRef<T> ref = await(system, key, deadline, r -> true, 20);
    if (ref == null) throw new IllegalStateException("no '" + key.id() + "' registered in time");
    return ref;
  }

  /**
   * The first registered instance of {@code key} that {@code which} accepts, asking the receptionist every
   * {@code pollMillis} until {@code deadline} (System.nanoTime); null when none came in time. Shared by
   * {@link ProcessCluster}'s start and the reincarnations.
   */
  static <T> ActorRef<T> await(ActorSystem<?> system, ServiceKey<T> key, long deadline,
      Predicate<? super ActorRef<T>> which, long pollMillis) {
    while (System.nanoTime() < deadline) {
      try {
        Receptionist.Listing l = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
            r -> Receptionist.find(key, r), Duration.ofSeconds(3), system.scheduler())
            .toCompletableFuture().get(4, TimeUnit.SECONDS);
        Optional<ActorRef<T>> ref = l.getServiceInstances(key).stream().filter(which).findFirst();
        if (ref.isPresent()) return ref.get();
      } catch (Exception ignored) {
        // asked again below until the deadline
      }
      try {
        TimeUnit.MILLISECONDS.sleep(pollMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted");
      }
    }
    return null;
  }

  /**
   * Asks nodes {@code 0..gpuNodes} to start incarnation {@code epoch} with {@code sets} (GPU node k with
   * {@code devicesPerNode.get(k)} devices, absent: 1) and waits until all answered; throws naming the first that
   * failed or did not answer within {@code bound}.
   */
  static void incarnate(ActorSystem<?> system, int gpuNodes, long epoch, Map<String, String> sets,
      Map<Integer, Integer> devicesPerNode, Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    ActorRefResolver resolver = ActorRefResolver.get(system);
    List<CompletableFuture<NodeIncarnated>> answers = new ArrayList<>();
    for (int node = 0; node <= gpuNodes; node++) {
      ActorRef<NodeIncarnate> host = find(system, NodeIncarnations.key(node), deadline);
      int devices = node == 0 ? 0 : Math.max(1, devicesPerNode.getOrDefault(node, 1));
      answers.add(AskPattern.<NodeIncarnate, NodeIncarnated>ask(host, replyTo -> NodeIncarnate.newBuilder()
          .setReplyTo(resolver.toSerializationFormat(replyTo)).setEpoch(epoch).putAllSets(sets).setDevices(devices)
          .build(), bound, system.scheduler()).toCompletableFuture());
    }
    for (int node = 0; node <= gpuNodes; node++) {
      NodeIncarnated r;
      try {
        r = answers.get(node).get(Math.max(1, deadline - System.nanoTime()) + 5_000_000_000L, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted");
      } catch (Exception e) {
        throw new IllegalStateException(hmmemu.node.link.Direction.nodeName(node) + " did not start node incarnation "
            + epoch + " within " + bound.toMillis() + " ms (" + e.getClass().getSimpleName() + ")");
      }
      if (!r.getError().isEmpty()) throw new IllegalStateException("node incarnation " + epoch + ": " + r.getError());
    }
  }
}
