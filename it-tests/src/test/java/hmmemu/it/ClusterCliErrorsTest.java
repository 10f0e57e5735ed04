package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.cluster.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Bad flags of node, cluster and inject: one line on stderr and exit 2, before any JVM or ActorSystem starts. */
class ClusterCliErrorsTest {

  private record Run(int code, String err) {}

  private static Run run(String... args) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      int code = Main.run(args);
      return new Run(code, buf.toString(StandardCharsets.UTF_8).strip());
    } finally {
      System.setErr(old);
    }
  }

  private static void assertUsage(Run r, String contains) {
    assertEquals(2, r.code(), "exit code; stderr: " + r.err());
    assertTrue(r.err().contains(contains), "stderr should mention '" + contains + "': " + r.err());
    assertEquals(1, r.err().lines().count(), "one line: " + r.err());
  }

  @Test
  void missingKeystore() {
    assertUsage(run("node", "--role", "cpu", "--tls", "--keystore", "/no/such/keystore.p12", "--truststore",
        "/no/such/truststore.p12", "--keystore-password", "x", "--truststore-password", "x"), "no such file");
    assertUsage(run("node", "--role", "gpu", "--tls"), "hmm-emu.tls.key-store");
    assertUsage(run("cluster", "--gpu", "1", "--tls", "--keystore", "/no/such/keystore.p12"), "hmm-emu.tls");
  }

  @Test
  void badFaultLines() {
    assertUsage(run("inject", "--node", "127.0.0.1:7626", "ad 5ms to cpu0->gpu1"), "unknown action 'ad'");
    assertUsage(run("inject", "--node", "127.0.0.1:7626", "crash gpu1"), "hmm-emu cluster --fault");
    assertUsage(run("cluster", "--gpu", "2", "--fault", "at 5s crash gpu3"), "no node gpu3");
    assertUsage(run("cluster", "--gpu", "2", "--fault", "at 5s restart cpu0"), "only a GPU node");
    assertUsage(run("cluster", "--gpu", "2", "--fault", "at soon crash gpu1"), "bad time 'soon'");
    assertUsage(run("cluster", "--gpu", "2", "--faults", "/no/such/faults.txt"), "--faults");
  }

  @Test
  void unreachableNodeForInject() {
    // Port 1 on the loopback: nothing listens there (a privileged port), the connection is refused at once.
    assertUsage(run("inject", "--node", "127.0.0.1:1", "add 5ms to cpu0->gpu1 for 3s"), "cannot reach");
    assertUsage(run("inject", "--node", "localhost", "add 5ms to cpu0->gpu1"), "--node: expected HOST:PORT");
  }

  /**
   * {@code cluster --scenario} runs scenarios across JVMs (ScenariosAcrossJvmsTest), crash and restart included
   * (a SIGKILL of the node's JVM; a new JVM under the next node index). What it still refuses before any JVM
   * starts, one line naming the file: fewer GPU nodes than the file needs, a restart beyond the 15 GPU node
   * indexes, a missing file.
   */
  @Test
  void scenarioAcrossJvmsRefusesOnlyWhatCannotRun() {
    assertUsage(run("cluster", "--gpu", "1", "--scenario", "../scenarios/cases/c04-two-devices.conf"),
        "c04-two-devices.conf needs 2 GPU nodes");
    // gpu1's restart (the faults block's "at 6s restart it") would be the 16th GPU node index
    assertUsage(run("cluster", "--gpu", "15", "--scenario", "../scenarios/faults/crash-restart.conf"),
        "crash-restart.conf: its last restart would be gpu16, beyond the 15 GPU node indexes");
    assertUsage(run("cluster", "--scenario", "scenarios/cases/no-such.conf"), "no such file or directory");
    // restarts counted from steps and from the faults block; crash and await-gone steps add no node index
    String[][] files = {{"faults/crash-restart.conf", "3"}, {"faults/crash-holding-folio-lock.conf", "3"},
        {"cases/m10-devpriv-node-dies-in-migrate-to-ram.conf", "2"}, {"cases/x06-fork-meets-dead-drivers-lock.conf", "2"}};
    for (String[] f : files) {
      hmmemu.cluster.scenario.Scenario s =
          hmmemu.cluster.scenario.ScenarioParser.parse(java.nio.file.Path.of("..", "scenarios", f[0]));
      assertEquals(Integer.parseInt(f[1]), hmmemu.cluster.scenario.ScenarioRunner.lastRestartIndex(s, s.gpuNodes()), f[0]);
      assertEquals(14 + Integer.parseInt(f[1]) - s.gpuNodes(), hmmemu.cluster.scenario.ScenarioRunner.lastRestartIndex(s, 14), f[0]);
    }
  }

  /** Issue 16, item 3: each was accepted and failed later (or crashed with a stack trace); now exit 2, one line. */
  @Test
  void deeplyNestedConfigIsOneLine() throws Exception {
    java.nio.file.Path f = java.nio.file.Files.createTempFile("hmm-emu-nested-", ".conf");
    try {
      int depth = 20_000;
      java.nio.file.Files.writeString(f, "a{".repeat(depth) + "}".repeat(depth) + "\n");
      assertUsage(run("cluster", "--gpu", "1", "--config", f.toString()), "nested too deeply");
    } finally {
      java.nio.file.Files.deleteIfExists(f);
    }
  }

  @Test
  void valuesThatFailedMinutesLater() {
    assertUsage(run("cluster", "--gpu", "1", "--time-scale", "Infinity"), "hmm-emu.time-scale");
    assertUsage(run("inject", "--node", "127.0.0.1:1", "--timeout", "0s", "clear"), "--timeout: must be at least 1ms");
    assertUsage(run("inject", "--node", "127.0.0.1:1", "partition gpu16"), "no node gpu16");
    assertUsage(run("cluster", "--gpu", "15", "--fault", "at 1s crash gpu1", "--fault", "at 2s restart gpu1"),
        "beyond the 15 GPU node indexes");
    assertUsage(run("node", "--role", "cpu", "--set", "canonical.port=abc"), "--set canonical.port: unknown configuration key");
  }

  @Test
  void injectAgainstAnotherHttpServerIsOneLine() throws Exception {
    com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", ex -> {
      byte[] page = "<html>\n<body>\n<h1>501 Not Implemented</h1>\n</body>\n</html>\n".getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "text/html");
      ex.sendResponseHeaders(501, page.length);
      ex.getResponseBody().write(page);
      ex.close();
    });
    server.start();
    try {
      assertUsage(run("inject", "--node", "127.0.0.1:" + server.getAddress().getPort(), "clear"),
          "is not an hmm-emu management endpoint (HTTP 501)");
    } finally {
      server.stop(0);
    }
  }
}
