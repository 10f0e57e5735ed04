package hmmemu.cluster;

import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/** What a controller needs of a running cluster, embedded in one JVM or spread over processes. */
public interface ClusterHandle extends AutoCloseable {
  /** The ActorSystem the controller asks from (its scheduler, its ActorRef resolver). */
  ActorSystem<?> controlSystem();

  /** The CPU node's actor. */
  ActorRef<?> cpu();

  /** GPU node k's actor, k = 1..gpuCount(). */
  ActorRef<?> gpu(int k);

  int gpuCount();

  /** The invariant checker (a local actor of controlSystem()). */
  ActorRef<Object> checker();

  /** How many JVM processes take part. */
  int processes();

  @Override
  void close();
}
