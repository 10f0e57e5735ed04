package hmmemu.cluster.scenario;

import hmmemu.protocol.msg.HmmProtocol;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A file's {@code order} (docs/SCENARIOS.md "Pinning every order"), on either {@link ScenarioHost}: from the first
 * step on, each node takes the inputs the order names for it (link messages and the steps' controller requests) in
 * the order's sequence, each one let go only once its predecessor among that node's inputs was delivered. A link
 * message waits in the order gate of its direction at its sender ({@link ScenarioHost#order}) for its permit
 * ({@link ScenarioHost#permit}); a request waits in the controller ({@link ControllerHolds}). The cores are
 * deterministic in their input sequences (docs/TESTING.md "Exploration"), so every node then steps through the
 * recorded schedule whatever the link's or the machine's timing. A node whose order is done opens its gates; a step's
 * request of a type the order names for its node but not this one waits until then. Not a kernel structure.
 */
final class OrderPins {
  private final Scenario scenario;
  private final ScenarioHost host;
  /** Per node: "Type device sent" of each request the order names -> when it may go. */
  private final Map<Integer, Map<String, CompletableFuture<?>>> requests = new HashMap<>();
  /** Per node: the request types the order names, and the steps' requests of each type and device counted so far. */
  private final Map<Integer, Set<String>> requestTypes = new HashMap<>();
  private final Map<String, Integer> asked = new HashMap<>();
  /** Per node: completes once the node's last input in the order was delivered (its gates are open then). */
  private final Map<Integer, CompletableFuture<Void>> done = new HashMap<>();
  /** Per node: how many of its inputs were delivered, and its list (for deadlock reports). */
  private final Map<Integer, AtomicInteger> progress = new LinkedHashMap<>();
  private final Map<Integer, List<Scenario.OrderEntry>> byNode = new LinkedHashMap<>();
  /** The directions with an order gate. */
  private final Set<List<Integer>> directions = new LinkedHashSet<>();

  OrderPins(Scenario scenario, ScenarioHost host) {
    this.scenario = scenario;
    this.host = host;
  }

  /** Arms the order gates, the delivery watches and the request gates; before the first step. */
  void arm() {
    Set<List<Object>> watched = new LinkedHashSet<>();
    for (Scenario.OrderEntry e : scenario.order()) {
      byNode.computeIfAbsent(e.toNode(), k -> new ArrayList<>()).add(e);
      if (e.fromNode() >= 0 && directions.add(List.of(e.fromNode(), e.toNode()))) host.order(e.fromNode(), e.toNode());
      if (watched.add(List.of(e.fromNode(), e.toNode(), e.message()))) {
        host.reportDeliveries(e.fromNode(), e.toNode(), e.message());
      }
    }
    for (Map.Entry<Integer, List<Scenario.OrderEntry>> n : byNode.entrySet()) {
      int node = n.getKey();
      AtomicInteger count = new AtomicInteger();
      progress.put(node, count);
      Map<String, CompletableFuture<?>> gates = new HashMap<>();
      requests.put(node, gates);
      CompletableFuture<?> prev = CompletableFuture.completedFuture(null);
      for (Scenario.OrderEntry e : n.getValue()) {
        CompletableFuture<?> after = prev;
        if (e.fromNode() < 0) {
          requestTypes.computeIfAbsent(node, k -> new java.util.HashSet<>()).add(e.message());
          gates.put(e.message() + " " + device(e) + " " + e.sent(), after);
        } else {
          after.thenRunAsync(() -> host.permit(e.fromNode(), node, e.message(), device(e), e.sent()), host.permits());
        }
        prev = host.whenDelivered(e.fromNode(), node, delivered(e)).thenRun(count::incrementAndGet);
      }
      done.put(node, prev.thenRun(() -> open(node)));
    }
  }

  /** The current id of {@code e}'s device, -1 for a request to the CPU node. */
  private int device(Scenario.OrderEntry e) { return e.deviceId() < 0 ? -1 : host.currentDeviceId(e.deviceId()); }

  /** Matches {@code e}'s message among the deliveries on its direction: its type and device, the delivered-th. */
  private Predicate<HmmProtocol.Msg> delivered(Scenario.OrderEntry e) {
    AtomicInteger seen = new AtomicInteger();
    return m -> m.getClass().getSimpleName().equals(e.message()) && deviceOf(e.fromNode() < 0, m) == device(e)
        && seen.getAndIncrement() >= e.delivered();
  }

  /** A link message's device; -1 for a request (matched by its node and type, as explore counts them). */
  private static int deviceOf(boolean request, HmmProtocol.Msg m) { return request ? -1 : StepExecutor.deviceOf(m); }

  /** Opens node {@code node}'s order gates (its order is done). */
  private void open(int node) {
    for (List<Integer> d : directions) if (d.get(1) == node) host.release(d.get(0), node);
  }

  /** Opens every order gate (the file ended). */
  void openAll() {
    for (List<Integer> d : directions) host.release(d.get(0), d.get(1));
  }

  /**
   * When a step's request {@code msg} to scenario node {@code node} may go: the delivery of its predecessor in the
   * order, the end of the node's order (a request type the order names for the node, but not this request), or null
   * (at once).
   */
  synchronized CompletableFuture<?> gate(int node, HmmProtocol.Msg msg) {
    Map<String, CompletableFuture<?>> gates = requests.get(node);
    String type = msg.getClass().getSimpleName();
    if (gates == null || !requestTypes.get(node).contains(type)) return null;
    String k = type + " -1";
    int n = asked.merge(node + " " + k, 1, Integer::sum) - 1;
    CompletableFuture<?> f = gates.get(k + " " + n);
    return f != null ? f : done.get(node);
  }

  /** For deadlock reports: each node's next input the order waits for. */
  List<String> waiting() {
    List<String> out = new ArrayList<>();
    for (Map.Entry<Integer, List<Scenario.OrderEntry>> n : byNode.entrySet()) {
      int at = progress.get(n.getKey()).get();
      if (at >= n.getValue().size()) continue;
      Scenario.OrderEntry e = n.getValue().get(at);
      out.add("the order waits for \"" + e.text() + "\" (line " + e.line() + ", input " + (at + 1) + " of "
          + n.getValue().size() + " of " + (n.getKey() == 0 ? "cpu" : "gpu" + n.getKey()) + ")");
    }
    return out;
  }
}
