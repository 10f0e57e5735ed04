package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.cluster.NodeConfig;
import hmmemu.node.link.Link;
import hmmemu.node.link.LinkControl;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, "a live view": {@code hmm-emu status --node H:P} reads the membership, roles, reachability and every
 * node's live link counters of a running cluster (cpu0, gpu1, gpu2: three ActorSystems, management on cpu0) from
 * {@code GET /hmm-emu/status}; an address that refuses, or that is not hmm-emu's endpoint, exits 2 with one line.
 */
class StatusTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<ActorSystem<Void>> systems = new ArrayList<>();
  private final List<ModeledLink> links = new ArrayList<>();

  @AfterEach
  void stop() {
    for (ActorSystem<Void> s : systems) s.terminate();
    for (ActorSystem<Void> s : systems) {
      try {
        s.getWhenTerminated().toCompletableFuture().get(15, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // abandoned
      }
    }
    links.forEach(ModeledLink::close);
  }

  private ActorSystem<Void> node(String name, String role, List<String> seeds, boolean management) {
    Config base = ConfigFactory.parseMap(Map.of("hmm-emu.management.enabled", management))
        .withFallback(ConfigFactory.load("application-test"));
    Config c = NodeConfig.withManagement(NodeConfig.of(base, role, "127.0.0.1", 0, "", seeds));
    ActorSystem<Void> s = ActorSystem.create(Behaviors.empty(), EmbeddedCluster.SYSTEM_NAME, c);
    systems.add(s);
    ModeledLink link = new ModeledLink(LinkSettings.fromConfig(c), 1, 1.0, Link.DIRECT);
    links.add(link);
    s.systemActorOf(LinkControl.create(name, link), "link-control", Props.empty());
    return s;
  }

  private static void await(BooleanSupplier cond, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!cond.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "not within 30 s: " + what);
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    CliCapture.Run r = CliCapture.run(args);
    return new Run(r.code(), r.out().strip(), r.err().strip());
  }

  @Test
  void showsThreeUpMembersWithRolesAndCounters() throws Exception {
    ActorSystem<Void> cpu = node("cpu0", "cpu", List.of(), true);
    Address seed = Cluster.get(cpu).selfMember().address();
    Cluster.get(cpu).manager().tell(Join.create(seed));
    String seedArg = seed.host().get() + ":" + seed.port().get();
    node("gpu1", "gpu", List.of(seedArg), false);
    node("gpu2", "gpu", List.of(seedArg), false);
    String uri = NodeConfig.startManagement(cpu);
    String hostPort = uri.replaceFirst("^http://", "").replaceFirst("/$", "");
    await(() -> {
      var members = new ArrayList<org.apache.pekko.cluster.Member>();
      Cluster.get(cpu).state().getMembers().forEach(members::add);
      return members.size() == 3 && members.stream().allMatch(m -> m.status() == MemberStatus.up());
    }, "three members Up as cpu0 sees them");
    await(() -> {
      try {
        return LinkControl.broadcast(cpu, LinkControl.STATS, Duration.ofSeconds(3)).toCompletableFuture()
            .get(5, TimeUnit.SECONDS).stream().filter(l -> l.startsWith("stats ")).count() == 3;
      } catch (Exception e) {
        return false;
      }
    }, "three link controls answering");

    Run r = run("status", "--node", hostPort, "--json");
    assertEquals(0, r.code(), "exit code; stderr: " + r.err());
    JsonNode a = JSON.readTree(r.out());
    JsonNode members = a.path("members");
    assertEquals(3, members.size(), "three members: " + r.out());
    Map<String, String> roleOf = new TreeMap<>();
    for (JsonNode m : members) {
      assertEquals("Up", m.path("status").asText(), "status: " + m);
      assertTrue(m.path("reachable").asBoolean(), "reachable: " + m);
      assertEquals(1, m.path("roles").size(), "one hmm-emu role: " + m);
      assertTrue(m.path("counters").has("sent") && m.path("counters").has("inFlight"), "live counters: " + m);
      roleOf.put(m.path("node").asText(), m.path("roles").get(0).asText());
    }
    assertEquals(Map.of("cpu0", "cpu", "gpu1", "gpu", "gpu2", "gpu"), roleOf, "nodes and roles: " + r.out());
    assertEquals(0, a.path("unreachable").size(), r.out());
    assertEquals(0, a.path("errors").size(), r.out());
    Run wrongToken = run("status", "--node", hostPort, "--token", "0".repeat(64));
    assertEquals(2, wrongToken.code(), "a wrong token is refused; stderr: " + wrongToken.err());
    assertTrue(wrongToken.err().contains("token") && wrongToken.err().contains("HTTP 401"), wrongToken.err());

    // Live: a partition injected now shows in every node's link state.
    assertEquals(0, run("inject", "--node", hostPort, "partition gpu1 for 60s").code());
    await(() -> links.stream().allMatch(l -> l.partitions().containsKey(1)), "gpu1 partitioned on every node's link");
    Run table = run("status", "--node", hostPort);
    assertEquals(0, table.code(), "exit code; stderr: " + table.err());
    assertTrue(table.out().contains("MEMBER") && table.out().contains("REACHABLE"), table.out());
    assertEquals(3, table.out().lines().filter(l -> l.matches(".*\\b(cpu|gpu)\\s+Up\\s+yes\\b.*")).count(),
        "three rows Up and reachable:\n" + table.out());
    assertTrue(table.out().contains("gpu1 partitioned"), table.out());
    System.out.println(table.out()); // the table, for the test report
  }

  @Test
  void anAddressThatRefusesOrIsNotHmmEmuExits2() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Run refused = run("status", "--node", "127.0.0.1:" + port, "--token", "x", "--timeout", "5s");
    assertEquals(2, refused.code(), "exit code; stderr: " + refused.err());
    assertTrue(refused.err().contains("cannot reach"), refused.err());
    assertEquals(1, refused.err().lines().count(), "one line: " + refused.err());
    assertTrue(refused.out().isEmpty(), refused.out());

    HttpServer other = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    other.createContext("/", ex -> {
      byte[] b = "{}".getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, b.length);
      ex.getResponseBody().write(b);
      ex.close();
    });
    other.start();
    try {
      Run foreign = run("status", "--node", "127.0.0.1:" + other.getAddress().getPort(), "--token", "x");
      assertEquals(2, foreign.code(), "exit code; stderr: " + foreign.err());
      assertTrue(foreign.err().contains("is not an hmm-emu management endpoint"), foreign.err());
      assertEquals(1, foreign.err().lines().count(), "one line: " + foreign.err());
    } finally {
      other.stop(0);
    }
    assertEquals(2, run("status", "--node", "no-port").code(), "a malformed address is bad usage");
  }
}
