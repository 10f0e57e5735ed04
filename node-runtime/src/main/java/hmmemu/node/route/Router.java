package hmmemu.node.route;

import hmmemu.protocol.model.Destination;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.Ids;
import java.util.HashMap;
import java.util.Map;

/**
 * Where a core's outbound message goes, and who asked what (the requester of each reqId). Pure: addresses are of
 * the host's own type {@code A} (an ActorRef in the actor shells, a workload lane in the simulator).
 *
 * <p>The rules (the actor shells CpuNodeActor and GpuNodeActor and the simulator all call {@link #route}); the
 * core has already resolved each message's {@link Destination}:
 * <ul>
 *   <li>{@link Destination.Cpu}: over the host-device link to node 0 (the CPU node);</li>
 *   <li>{@link Destination.Device}: over the link to the GPU node hosting it ({@link Ids#nodeOfDevice}), dropped
 *       when that node is gone;</li>
 *   <li>{@link Destination.Controller}: straight to whoever sent the request with that reqId (not host-device
 *       traffic, so not through the link).</li>
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
    /** One LINK hop per node index 0..16 (a hop is immutable): routing a message allocates none. */
    private static final Hop[] LINKS = new Hop[17];

    static {
      for (int i = 0; i < LINKS.length; i++) LINKS[i] = new Hop(Kind.LINK, i, -1, null);
    }

    static Hop link(int node) { return node >= 0 && node < LINKS.length ? LINKS[node] : new Hop(Kind.LINK, node, -1, null); }

    static Hop reply(long reqId) { return new Hop(Kind.REPLY, -1, reqId, null); }

    static Hop drop(String why) { return new Hop(Kind.DROP, -1, -1, why); }
  }

  private final Map<Long, A> requesters = new HashMap<>();

  /**
   * Where {@code o}, produced by the core of node {@code fromNode}, goes. {@code goneNode} tells which GPU nodes
   * are gone (the CPU core's nodeIsGone); null when none ever is.
   */
  public static Hop route(int fromNode, Outbound o, java.util.function.IntPredicate goneNode) {
    if (o.to() instanceof Destination.Controller c) return Hop.reply(c.reqId());
    if (o.to() instanceof Destination.Cpu) {
      return fromNode == CPU_NODE ? Hop.drop("the CPU node addressed itself") : Hop.link(CPU_NODE);
    }
    int node = Ids.nodeOfDevice(((Destination.Device) o.to()).deviceId());
    if (fromNode != CPU_NODE) return Hop.drop("a GPU node addresses devices only through the CPU node");
    if (goneNode != null && goneNode.test(node)) return Hop.drop("GPU node " + node + " is gone");
    return Hop.link(node);
  }

  /**
   * True for the requests a node answers to a {@link Destination.Controller} (controller or workload)
   * rather than to a driver: the controller families of {@link HmmProtocol}.
   */
  public static boolean isControllerRequest(HmmProtocol.Msg m) {
    return hmmemu.protocol.msg.Msgs.isControllerRequest(m); // the families by class, without instanceof's scans
  }

  /** Remembers that {@code requester} sent the request {@code reqId}. */
  public void rememberRequester(long reqId, A requester) { requesters.put(reqId, requester); }

  /** The requester of {@code reqId}, forgotten (a reply answers once); null when unknown. */
  public A takeRequester(long reqId) { return requesters.remove(reqId); }

  /** Requests not answered yet. */
  public int pendingRequests() { return requesters.size(); }

  public void clear() { requesters.clear(); }
}
