package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** {@code hmm-emu status}'s text form: the membership table, then the cores' live counters per CPU and GPU node. */
class StatusTableTest {
  private static final String ANSWER = """
      {"self": "pekko://hmm-emu@127.0.0.1:1", "leader": "pekko://hmm-emu@127.0.0.1:1",
       "members": [
        {"address": "pekko://hmm-emu@127.0.0.1:1", "node": "cpu0", "roles": ["cpu"], "status": "Up", "reachable": true,
         "counters": {"sent": 10, "delivered": 10, "dropped": 0, "inFlight": 0, "replayed": 0},
         "cores": {"conversions": 1024, "restores": 1024, "cpuFaults": 1030, "cpuFaults:devexcl": 1024,
                   "cpuFaults:retry": 6, "invalidations": 2048, "callbacks": 2048, "invalidationsEnded": 2048,
                   "folioLockWaits": 6}},
        {"address": "pekko://hmm-emu@127.0.0.1:2", "node": "gpu1", "roles": ["gpu"], "status": "Up", "reachable": true,
         "counters": {"sent": 5, "delivered": 5, "dropped": 0, "inFlight": 0, "replayed": 0},
         "cores": {"deviceFaults": 3, "driverIterations": 17, "driverTimeouts": 1, "driverCancels": 1,
                   "driverReplays": 2, "gpuAccessesCompleted": 40, "acks": 2048}},
        {"address": "pekko://hmm-emu@127.0.0.1:3", "node": null, "roles": ["control"], "status": "Up", "reachable": true,
         "counters": null, "cores": null}],
       "unreachable": [], "nodes": [], "errors": []}
      """;

  @Test
  void theTableShowsEachNodesCoreCounters() throws Exception {
    JsonNode a = new ObjectMapper().readTree(ANSWER);
    String t = StatusCommand.table(a);
    assertTrue(t.contains("CPU nodes' live counters"), t);
    assertTrue(t.contains("GPU nodes' live counters"), t);
    String cpu = t.lines().filter(l -> l.startsWith("cpu0 ")).findFirst().orElse("");
    assertTrue(cpu.matches("cpu0\\s+1030\\s+devexcl=1024,retry=6\\s+1024\\s+1024\\s+2048\\s+2048\\s+2048\\s+6"), cpu);
    String gpu = t.lines().filter(l -> l.startsWith("gpu1 ")).findFirst().orElse("");
    assertTrue(gpu.matches("gpu1\\s+3\\s+17\\s+1\\s+1\\s+2\\s+40\\s+2048"), gpu);
    assertEquals(1, t.lines().filter(l -> l.startsWith("NODE ") && l.contains("CONVERSIONS")).count(), t);
    assertFalse(t.lines().anyMatch(l -> l.startsWith("control")), "a member without a node has no counters row");
  }

  @Test
  void noCoreCountersNoCoreTables() throws Exception {
    JsonNode a = new ObjectMapper().readTree(ANSWER.replaceAll("\"cores\": \\{[^}]*\\}", "\"cores\": null"));
    String t = StatusCommand.table(a);
    assertFalse(t.contains("live counters"), t);
    assertTrue(t.contains("MEMBER"), t);
  }

  /** {@code status --json} prints the answer as one line, as every other {@code --json} ends (it was pretty-printed). */
  @Test
  void jsonIsOneLine() throws Exception {
    com.sun.net.httpserver.HttpServer server =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/hmm-emu/status", ex -> {
      byte[] b = ANSWER.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      ex.getResponseHeaders().add(hmmemu.node.link.FaultRoutes.MARK, "1");
      ex.sendResponseHeaders(200, b.length);
      ex.getResponseBody().write(b);
      ex.close();
    });
    server.start();
    try {
      CliRun r = CliRun.run("status", "--json", "--token", "t", "--node", "127.0.0.1:" + server.getAddress().getPort());
      assertEquals(0, r.code(), r.toString());
      assertEquals(1, r.out().size(), String.join("\n", r.out()));
      assertEquals(3, new ObjectMapper().readTree(r.last()).path("members").size(), r.last());
    } finally {
      server.stop(0);
    }
  }
}
