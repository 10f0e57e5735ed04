package hmmemu.node.link;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;

/**
 * The answer of {@code GET /hmm-emu/status} ({@link FaultRoutes}): this node's view of the cluster membership
 * ({@code org.apache.pekko.cluster.Cluster#state}) joined with the live link counters and the cores' protocol counters
 * (hmmemu.node.NodeCounters) every node's {@link LinkControl} answers to {@link LinkControl#STATS}. JSON:
 * <pre>
 * {"self": ADDRESS, "leader": ADDRESS|null,
 *  "members": [{"address", "node": "cpu0"|"gpu1"|...|null, "roles": [..], "status": "Up"|..., "reachable": bool,
 *               "counters": {sent, delivered, dropped, ...}|null,
               "cores": {conversions, restores, cpuFaults:anon, deviceFaults, driverIterations, ...}|null}],
 *  "unreachable": [ADDRESS...], "nodes": [the LinkControl stats objects], "errors": [lines of nodes that did not answer]}
 * </pre>
 * Roles are the hmm-emu roles ({@code cpu}, {@code gpu}); Pekko's data-centre role ({@code dc-...}) is left out.
 */
public final class ClusterStatus {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ClusterStatus() {}

  /** Asks every node's link control for its counters and completes with the status JSON. */
  public static CompletionStage<String> of(ActorSystem<?> system, Duration timeout) {
    return LinkControl.broadcast(system, LinkControl.STATS, timeout).thenApply(replies -> {
      CurrentClusterState state = org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(system)).state();
      return json(system.address().toString(), state, replies).toString();
    });
  }

  /** The status JSON from the cluster state {@code state} seen at {@code self} and the stats reply lines. */
  static ObjectNode json(String self, CurrentClusterState state, List<String> replies) {
    ObjectNode o = JSON.createObjectNode();
    o.put("self", self);
    o.put("leader", state.getLeader() == null ? null : state.getLeader().toString());
    Map<String, JsonNode> byAddress = new HashMap<>();
    ArrayNode nodes = JSON.createArrayNode();
    ArrayNode errors = JSON.createArrayNode();
    for (String r : replies) {
      if (r.startsWith("stats ")) {
        try {
          JsonNode n = JSON.readTree(r.substring("stats ".length()));
          nodes.add(n);
          byAddress.put(n.path("address").asText(), n);
        } catch (java.io.IOException e) {
          errors.add("unreadable stats: " + e.getMessage());
        }
      } else {
        errors.add(r);
      }
    }
    Set<String> unreachable = new HashSet<>();
    ArrayNode unreach = JSON.createArrayNode();
    for (Member m : state.getUnreachable()) unreachable.add(m.address().toString());
    unreachable.stream().sorted().forEach(unreach::add);
    ArrayNode members = o.putArray("members");
    for (Member m : state.getMembers()) {
      String address = m.address().toString();
      ObjectNode mo = members.addObject();
      mo.put("address", address);
      JsonNode stats = byAddress.get(address);
      mo.put("node", stats == null ? null : stats.path("node").asText());
      ArrayNode roles = mo.putArray("roles");
      m.getRoles().stream().filter(r -> !r.startsWith("dc-")).sorted().forEach(roles::add);
      mo.put("status", m.status().toString());
      mo.put("reachable", !unreachable.contains(address));
      if (stats == null) {
        mo.putNull("counters");
        mo.putNull("cores");
      } else {
        mo.set("counters", stats.path("totals"));
        mo.set("cores", stats.has("cores") ? stats.path("cores") : JSON.createObjectNode());
      }
    }
    o.set("unreachable", unreach);
    o.set("nodes", nodes);
    o.set("errors", errors);
    return o;
  }
}
