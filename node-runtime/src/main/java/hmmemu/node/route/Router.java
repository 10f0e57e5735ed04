package hmmemu.node.route;

import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import hmmemu.protocol.msg.Msgs;
import java.util.HashMap;
import java.util.Map;

/**
 * Where a core's outbound message goes, and who asked what (the requester of each reqId). Pure: addresses are of
 * the host's own type {@code A} (an ActorRef in the actor shells, a workload lane in the simulator).
 *
 * <p>The rules (the same the actor shells CpuNodeActor and GpuNodeActor apply):
 * <ul>
 *   <li>GPU node, {@link Outbound#TO_CPU}: over the host-device link to node 0 (the CPU node);</li>
 *   <li>CPU node, to a device: over the link to the GPU node hosting it ({@link Ids#nodeOfDevice}), dropped when
 *       that node is gone;</li>
 *   <li>CPU node, {@link Outbound#TO_REQUESTER} with a reply a driver waits for ({@link HmmProtocol.HostToDriver}):
 *       over the link to the node of the device that asked (its deviceId, else the device packed in the reqId);</li>
 *   <li>any other {@link Outbound#TO_REQUESTER}: straight to whoever sent the request with that reqId (the
 *       controller; not host-device traffic, so not through the link).</li>
 * </ul>
 */
public final class Router<A> {
  /** The CPU node's index. */
  public static final int CPU_NODE = 0;

  /** How a message leaves its node. */
  public enum Kind {
    /** Over the host-device link to node {@link Hop#toNode}. */
    LINK,
    /** Straight to the requester of {@link Hop#reqId} (a controller reply). */
    REPLY,
    /** Nobody to receive it (a gone node, an unknown requester); {@link Hop#why} says which. */
    DROP
  }

  /** One routing decision. */
  public record Hop(Kind kind, int toNode, long reqId, String why) {
    static Hop link(int node) { return new Hop(Kind.LINK, node, -1, null); }

    static Hop reply(long reqId) { return new Hop(Kind.REPLY, -1, reqId, null); }

    static Hop drop(String why) { return new Hop(Kind.DROP, -1, -1, why); }
  }

  private final Map<Long, A> requesters = new HashMap<>();

  /**
   * Where {@code o}, produced by the core of node {@code fromNode}, goes. {@code goneNode} tells which GPU nodes
   * are gone (the CPU core's nodeIsGone); null when none ever is.
   */
  public static Hop route(int fromNode, Outbound o, java.util.function.IntPredicate goneNode) {
    HmmProtocol.Msg m = o.msg();
    if (fromNode != CPU_NODE) {
      return o.deviceId() == Outbound.TO_CPU ? Hop.link(CPU_NODE) : Hop.reply(Msgs.reqIdOf(m));
    }
    if (o.deviceId() == Outbound.TO_REQUESTER) {
      if (m instanceof HmmProtocol.HostToDriver) {
        long reqId = Msgs.reqIdOf(m);
        int d = Msgs.deviceIdOf(m);
        int device = d >= 0 ? d : Ids.deviceOfReq(reqId);
        return Hop.link(Ids.nodeOfDevice(device));
      }
      return Hop.reply(Msgs.reqIdOf(m));
    }
    int node = Ids.nodeOfDevice(o.deviceId());
    if (goneNode != null && goneNode.test(node)) return Hop.drop("GPU node " + node + " is gone");
    return Hop.link(node);
  }

  /**
   * True for the requests a node answers with {@link Outbound#TO_REQUESTER} to a requester (controller or workload)
   * rather than to a driver: the controller families of {@link HmmProtocol}.
   */
  public static boolean isControllerRequest(HmmProtocol.Msg m) {
    return m instanceof HmmProtocol.ControllerToCpu || m instanceof HmmProtocol.ControllerToGpu
        || m instanceof HmmProtocol.ControllerToNode;
  }

  /** Remembers that {@code requester} sent the request {@code reqId}. */
  public void rememberRequester(long reqId, A requester) { requesters.put(reqId, requester); }

  /** The requester of {@code reqId}, forgotten (a reply answers once); null when unknown. */
  public A takeRequester(long reqId) { return requesters.remove(reqId); }

  /** Requests not answered yet. */
  public int pendingRequests() { return requesters.size(); }

  public void clear() { requesters.clear(); }
}
