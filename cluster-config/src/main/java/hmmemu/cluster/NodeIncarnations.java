package hmmemu.cluster;

import hmmemu.cpu.actor.CpuNodeActor;
import hmmemu.gpu.actor.GpuNodeActor;
import hmmemu.node.ModelClock;
import hmmemu.node.NodeCounters;
import hmmemu.node.link.Link;
import hmmemu.node.link.LinkControl;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import hmmemu.node.link.RemoteGate;
import hmmemu.protocol.wire.pb.NodeIncarnate;
import hmmemu.protocol.wire.pb.NodeIncarnated;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The incarnations of one node JVM's node actors (reused node JVMs, {@code hmm-emu cluster --scenario} over several
 * files; docs/SCENARIOS.md "Across separate JVMs"). It owns, as its children, what a fresh {@code hmm-emu node
 * --pause-points} JVM starts: the modelled link, the scenario link gate ({@link RemoteGate}), the node actor (CPU-MMU
 * or GPU node with its devices) and the link control. On a {@link NodeIncarnate} it stops them all and closes the
 * link (its timers and threads end with it), then starts new ones of the new incarnation from the JVM's settings with
 * the request's overrides, as a fresh JVM would: new cores, counters, clock (model time from 0), keys
 * ({@code ServiceKeys.ofEpoch}) and actor names; the node's shell stamps the incarnation on what it sends and drops
 * what another incarnation sent. Not a kernel structure.
 */
public final class NodeIncarnations {
  private NodeIncarnations() {}

  /** The service key of node {@code nodeIndex}'s incarnation host. */
  public static ServiceKey<NodeIncarnate> key(int nodeIndex) {
    return ServiceKey.create(NodeIncarnate.class, "hmm-emu-node-host-" + nodeIndex);
  }

  /** One incarnation: its number, its modelled link and its actors. */
  private record Incarnation(long epoch, ModeledLink link, List<ActorRef<?>> actors) {}

  /**
   * The host of a node JVM: role {@code cpu} (node 0) or {@code gpu} (node {@code nodeIndex}); incarnation 0 is
   * started at once with {@code devices} and the JVM's own settings; {@code settings} loads the JVM's settings with
   * an incarnation's overrides.
   */
  public static Behavior<Object> create(String role, int nodeIndex, int devices,
      Function<Map<String, String>, HmmEmuSettings> settings) {
    return Behaviors.setup(ctx -> {
      int node = role.equals("cpu") ? 0 : nodeIndex;
      ctx.getSystem().receptionist().tell(Receptionist.register(key(node), ctx.getSelf().narrow()));
      ActorRefResolver resolver = ActorRefResolver.get(ctx.getSystem());
      Incarnation[] current = {start(ctx, role, node, 0, devices, settings.apply(Map.of()))};
      return Behaviors.receive(Object.class)
          .onMessage(NodeIncarnate.class, req -> {
            ActorRef<NodeIncarnated> replyTo = resolver.resolveActorRef(req.getReplyTo());
            NodeIncarnated.Builder r = NodeIncarnated.newBuilder().setEpoch(req.getEpoch()).setNode(node);
            if (req.getEpoch() <= current[0].epoch()) {
              r.setError("incarnation " + req.getEpoch() + " is not after the current " + current[0].epoch());
            } else {
              retire(ctx, current[0]);
              try {
                current[0] = start(ctx, role, node, req.getEpoch(), req.getDevices() > 0 ? req.getDevices() : devices,
                    settings.apply(req.getSetsMap()));
              } catch (RuntimeException e) {
                current[0] = new Incarnation(req.getEpoch(), null, List.of());
                r.setError(hmmemu.node.link.Direction.nodeName(node) + ": " + e.getMessage());
              }
            }
            replyTo.tell(r.build());
            return Behaviors.same();
          })
          .onSignal(PostStop.class, s -> {
            if (current[0].link() != null) current[0].link().close();
            return Behaviors.same();
          })
          .build();
    });
  }

  /** Stops an incarnation's actors (their mailboxes and timers with them) and closes its modelled link. */
  private static void retire(ActorContext<Object> ctx, Incarnation old) {
    for (ActorRef<?> a : old.actors()) ctx.stop(a);
    if (old.link() != null) old.link().close();
  }

  /** Starts incarnation {@code epoch}: what NodeCommand starts for a fresh JVM, with {@code s}'s settings. */
  private static Incarnation start(ActorContext<Object> ctx, String role, int node, long epoch, int devices,
      HmmEmuSettings s) {
    ModeledLink link = new ModeledLink(LinkSettings.fromConfig(s.config), s.demo.seed(), s.timeScale, Link.DIRECT);
    List<ActorRef<?>> actors = new ArrayList<>();
    RemoteGate gate = new RemoteGate(node, link, epoch);
    actors.add(ctx.spawn(gate.behavior(), "link-gate" + hmmemu.node.ServiceKeys.nameSuffix(epoch)));
    ModelClock clock = ModelClock.scaledWall(s.timeScale);
    if (epoch > 0) NodeCounters.of(ctx.getSystem()).reset(node);
    if (node == 0) {
      actors.add(ctx.spawn(CpuNodeActor.create(s.switches, clock, gate, epoch, epoch == 0 ? Double.NaN : s.timeScale),
          "cpu-mmu" + hmmemu.node.ServiceKeys.nameSuffix(epoch)));
    } else {
      actors.add(ctx.spawn(GpuNodeActor.create(node, NodeRoles.devicesOf(node, devices), s.switches, clock, gate, epoch),
          "gpu-node" + hmmemu.node.ServiceKeys.nameSuffix(epoch)));
    }
    String name = hmmemu.node.link.Direction.nodeName(node);
    var system = ctx.getSystem();
    actors.add(ctx.spawn(LinkControl.create(name, link, clock::nowMicros, () -> NodeCounters.of(system).snapshot()),
        "link-control" + hmmemu.node.ServiceKeys.nameSuffix(epoch)));
    return new Incarnation(epoch, link, actors);
  }
}
