package hmmemu.cluster.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hmmemu.cluster.SettingsException;
import hmmemu.node.link.FaultRoutes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code hmm-emu status}: the members, roles and reachability of a running cluster with every node's live link
 * counters, read from one node's Pekko Management HTTP endpoint ({@code GET /hmm-emu/status},
 * hmmemu.node.link.ClusterStatus).
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = {"Shows the members, roles and reachability of a running cluster, with live counters per node.",
        "Example: hmm-emu status --node 127.0.0.1:7626 (add --json for the JSON answer).",
        "The address is the management address that `hmm-emu node` or `hmm-emu cluster` printed. The endpoint's "
            + "token is read from ~/.hmm-emu/management-PORT.token (or $HMM_EMU_TOKEN_DIR) unless --token is given.",
        "The membership is the view of the node asked; the counters are each node's link counters (messages it sent, "
            + "delivered, dropped and still in flight on the directions it sends on) and, below, its cores' protocol "
            + "counters since it started: per CPU node its faults by kind, conversions, restores, invalidations sent "
            + "and acked, folio-lock waits; per GPU node its device faults, driver iterations, timeouts, cancels and "
            + "replays.",
        "Exit code 2 when the endpoint cannot be reached, refuses the request or is not an hmm-emu endpoint."})
final class StatusCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Mixin EndpointOptions endpoint;
  @Option(names = "--json", description = "Prints the endpoint's JSON answer as one line instead of a table.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Duration wait = endpoint.waitBound();
    URI uri = InjectCommand.uri(endpoint.node).resolve("/hmm-emu/status");
    HttpClient http = EndpointOptions.client(wait);
    HttpRequest.Builder rb = endpoint.request("status", uri, wait).header("Accept", "application/json");
    HttpResponse<String> resp;
    try {
      resp = http.send(rb.GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (java.io.IOException e) {
      throw new SettingsException("status: cannot reach the management endpoint " + uri + ": "
          + EndpointOptions.why(e));
    }
    int status = resp.statusCode();
    String body = resp.body().strip();
    if (resp.headers().firstValue(FaultRoutes.MARK).isEmpty()) {
      throw new SettingsException("status: " + uri + " is not an hmm-emu management endpoint (HTTP " + status + ")");
    }
    if (status != 200) {
      String hint = endpoint.refusalHint(status, uri);
      throw new SettingsException("status: " + body.replace('\n', ' ') + " (HTTP " + status + ")" + hint);
    }
    JsonNode answer;
    try {
      answer = JSON.readTree(body);
    } catch (java.io.IOException e) {
      throw new SettingsException("status: " + uri + " answered no JSON: " + e.getMessage().replace('\n', ' '));
    }
    System.out.println(json ? JSON.writeValueAsString(answer) : table(answer));
    return 0;
  }

  /** The readable form of the endpoint's answer: one row per member, then unreachable members and errors. */
  static String table(JsonNode a) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"MEMBER", "NODE", "ROLES", "STATUS", "REACHABLE", "SENT", "DELIVERED", "DROPPED",
        "IN-FLIGHT", "REPLAYED", "LIVE-FAULTS"});
    for (JsonNode m : a.path("members")) {
      JsonNode c = m.path("counters");
      JsonNode n = node(a, m.path("address").asText());
      List<String> roles = new ArrayList<>();
      m.path("roles").forEach(r -> roles.add(r.asText()));
      rows.add(new String[] {m.path("address").asText(), m.path("node").isNull() ? "-" : m.path("node").asText(),
          String.join(",", roles), m.path("status").asText(), m.path("reachable").asBoolean() ? "yes" : "NO",
          num(c, "sent"), num(c, "delivered"), num(c, "dropped"), num(c, "inFlight"), num(c, "replayed"),
          n == null ? "-" : n.path("liveFaultActions").asText()});
    }
    int[] w = new int[rows.get(0).length];
    for (String[] r : rows) for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], r[i].length());
    StringBuilder sb = new StringBuilder();
    sb.append("cluster as seen by ").append(a.path("self").asText()).append(" (leader ")
        .append(a.path("leader").isNull() ? "none" : a.path("leader").asText()).append(")\n");
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        String cell = r[i];
        boolean right = i >= 5;
        String pad = " ".repeat(w[i] - cell.length());
        sb.append(right ? pad + cell : cell + (i < r.length - 1 ? pad : "")).append(i < r.length - 1 ? "  " : "");
      }
      sb.append('\n');
    }
    for (JsonNode u : a.path("unreachable")) sb.append("unreachable: ").append(u.asText()).append('\n');
    for (JsonNode n : a.path("nodes")) {
      List<String> cut = new ArrayList<>();
      n.path("partitioned").forEach(x -> cut.add(x.asText() + " partitioned"));
      n.path("paused").forEach(x -> cut.add(x.asText() + " paused"));
      if (!cut.isEmpty()) sb.append(n.path("node").asText()).append("'s link: ").append(String.join(", ", cut)).append('\n');
    }
    for (JsonNode e : a.path("errors")) sb.append("no counters: ").append(e.asText()).append('\n');
    sb.append(cores(a, "cpu", CPU_COLUMNS));
    sb.append(cores(a, "gpu", GPU_COLUMNS));
    return sb.toString().stripTrailing();
  }

  /** The CPU nodes' core counters shown (header, counter name; "cpuFaults:*" lists each fault kind). */
  static final String[][] CPU_COLUMNS = {{"CPU-FAULTS", "cpuFaults"}, {"BY KIND", "cpuFaults:*"},
      {"CONVERSIONS", "conversions"}, {"RESTORES", "restores"}, {"INVALIDATIONS", "invalidations"},
      {"CALLBACKS", "callbacks"}, {"ACKED", "invalidationsEnded"}, {"FOLIO-LOCK-WAITS", "folioLockWaits"}};
  /** The GPU nodes' core counters shown. */
  static final String[][] GPU_COLUMNS = {{"DEVICE-FAULTS", "deviceFaults"}, {"DRIVER-ITERATIONS", "driverIterations"},
      {"TIMEOUTS", "driverTimeouts"}, {"CANCELS", "driverCancels"}, {"REPLAYS", "driverReplays"},
      {"ACCESSES-DONE", "gpuAccessesCompleted"}, {"ACKS", "acks"}};

  /** One table of the live core counters of the members with role {@code role} (empty when there is none). */
  static String cores(JsonNode a, String role, String[][] columns) {
    List<String[]> rows = new ArrayList<>();
    String[] head = new String[columns.length + 1];
    head[0] = "NODE";
    for (int i = 0; i < columns.length; i++) head[i + 1] = columns[i][0];
    rows.add(head);
    for (JsonNode m : a.path("members")) {
      boolean has = false;
      for (JsonNode r : m.path("roles")) has |= r.asText().equals(role);
      JsonNode c = m.path("cores");
      if (!has || c.isNull() || c.isMissingNode()) continue;
      String[] row = new String[columns.length + 1];
      row[0] = m.path("node").asText("-");
      for (int i = 0; i < columns.length; i++) {
        String name = columns[i][1];
        if (name.endsWith(":*")) {
          String prefix = name.substring(0, name.length() - 1);
          List<String> kinds = new ArrayList<>();
          c.fieldNames().forEachRemaining(f -> {
            if (f.startsWith(prefix)) kinds.add(f.substring(prefix.length()) + "=" + c.path(f).asLong());
          });
          row[i + 1] = kinds.isEmpty() ? "-" : String.join(",", kinds);
        } else {
          row[i + 1] = Long.toString(c.path(name).asLong(0));
        }
      }
      rows.add(row);
    }
    if (rows.size() == 1) return "";
    int[] w = new int[head.length];
    for (String[] r : rows) for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], r[i].length());
    StringBuilder sb = new StringBuilder("\n").append(role.toUpperCase(java.util.Locale.ROOT))
        .append(" nodes' live counters (since each node started)\n");
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        String pad = " ".repeat(w[i] - r[i].length());
        boolean left = i == 0 || columns[i - 1][1].endsWith(":*");
        sb.append(left ? r[i] + (i < r.length - 1 ? pad : "") : pad + r[i]).append(i < r.length - 1 ? "  " : "");
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static JsonNode node(JsonNode a, String address) {
    for (JsonNode n : a.path("nodes")) if (n.path("address").asText().equals(address)) return n;
    return null;
  }

  private static String num(JsonNode c, String field) {
    return c == null || c.isNull() || c.isMissingNode() ? "-" : c.path(field).asText("-");
  }
}
