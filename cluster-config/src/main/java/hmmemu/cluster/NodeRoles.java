package hmmemu.cluster;

import hmmemu.protocol.msg.Ids;

import hmmemu.cluster.check.CheckerActor;
import hmmemu.cpu.actor.CpuNodeActor;
import hmmemu.gpu.actor.GpuNodeActor;
import hmmemu.node.link.Link;
import hmmemu.node.ModelClock;
import hmmemu.protocol.model.ModelSwitches;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;

/** Spawns what each cluster role runs (the stats sample's RootBehavior, done from outside the guardian). */
public final class NodeRoles {
  private NodeRoles() {}

  /** Device ids of GPU node k: one device, k * 16 (see docs/ARCHITECTURE.md). */
  public static List<Integer> devicesOf(int gpuNodeIndex, int devicesPerNode) {
    Integer[] ids = new Integer[devicesPerNode];
    for (int j = 0; j < devicesPerNode; j++) ids[j] = Ids.deviceId(gpuNodeIndex, j);
    return List.of(ids);
  }

  /** Role cpu: the CPU-MMU actor and the invariant checker. */
  public static CpuRefs startCpu(ActorSystem<?> system, ModelSwitches switches, ModelClock clock, Link link) {
    DropWatch.install(system, "cpu");
    ActorRef<Object> checker = system.systemActorOf(CheckerActor.create(switches.kernelProfile()), "checker", Props.empty());
    ActorRef<Object> cpu = system.systemActorOf(CpuNodeActor.create(switches, clock, link), "cpu-mmu", Props.empty());
    return new CpuRefs(cpu, checker);
  }

  /** Role gpu: the GPU node actor with its devices and drivers. */
  public static ActorRef<Object> startGpu(ActorSystem<?> system, int nodeIndex, int devicesPerNode,
      ModelSwitches switches, ModelClock clock, Link link) {
    return startGpu(system, nodeIndex, devicesPerNode, switches, clock, link, null);
  }

  /** As above, the actor wrapped in {@code freeze} (null = not freezable) so that it can be frozen and thawed. */
  public static ActorRef<Object> startGpu(ActorSystem<?> system, int nodeIndex, int devicesPerNode,
      ModelSwitches switches, ModelClock clock, Link link, hmmemu.node.link.Freeze freeze) {
    DropWatch.install(system, "gpu" + nodeIndex);
    var behavior = GpuNodeActor.create(nodeIndex, devicesOf(nodeIndex, devicesPerNode), switches, clock, link);
    return system.systemActorOf(freeze == null ? behavior : freeze.wrap(behavior), "gpu-node", Props.empty());
  }

  public record CpuRefs(ActorRef<Object> cpu, ActorRef<Object> checker) {}
}
