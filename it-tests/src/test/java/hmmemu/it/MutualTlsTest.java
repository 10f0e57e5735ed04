package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.EmbeddedCluster;
import hmmemu.cluster.NodeConfig;
import hmmemu.cluster.SettingsException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS for Artery (issue 4, "Launching clusters"): with hmm-emu.tls on, a node holding the cluster's key and
 * certificate joins; a node with another key is refused at the TLS handshake and never becomes a member, even
 * though it trusts the cluster's certificate. The stores are made at test time with the JDK's keytool, by the
 * commands of docs/OPERATIONS.md.
 */
class MutualTlsTest {
  private static final String PW = "hmm-emu-test";
  @TempDir static Path dir;
  private final List<ActorSystem<Void>> systems = new ArrayList<>();

  /** The four keytool commands of docs/OPERATIONS.md, in one JVM ({@link KeytoolBatch}: one JVM start, not four). */
  @BeforeAll
  static void makeStores() throws Exception {
    keytool(List.of(
        List.of("-genkeypair", "-alias", "hmm-emu", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
            "-dname", "CN=hmm-emu-cluster", "-storetype", "PKCS12", "-keystore", p("cluster-keystore.p12"),
            "-storepass", PW, "-keypass", PW),
        List.of("-exportcert", "-alias", "hmm-emu", "-keystore", p("cluster-keystore.p12"), "-storepass", PW,
            "-file", p("cluster.crt")),
        List.of("-importcert", "-noprompt", "-alias", "hmm-emu", "-file", p("cluster.crt"), "-storetype", "PKCS12",
            "-keystore", p("cluster-truststore.p12"), "-storepass", PW),
        List.of("-genkeypair", "-alias", "outsider", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
            "-dname", "CN=outsider", "-storetype", "PKCS12", "-keystore", p("outsider-keystore.p12"),
            "-storepass", PW, "-keypass", PW)));
  }

  private static String p(String name) { return dir.resolve(name).toString(); }

  /** Runs the JDK's keytool on each argument list, in order, in one child JVM; fails on the first that fails. */
  private static void keytool(List<List<String>> commands) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--add-exports=java.base/sun.security.tools.keytool=ALL-UNNAMED");
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), KeytoolBatch.class.getName()));
    for (List<String> c : commands) {
      cmd.add(KeytoolBatch.NEXT);
      cmd.addAll(c);
    }
    Process k = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(k.getInputStream().readAllBytes());
    assertTrue(k.waitFor(60, TimeUnit.SECONDS), "keytool did not finish");
    assertEquals(0, k.exitValue(), "keytool " + commands + ": " + out);
  }

  /**
   * Not a kernel structure: runs {@code keytool} ({@code sun.security.tools.keytool.Main.main}, what the JDK's
   * {@code bin/keytool} runs) once per {@link #NEXT}-separated argument list, in one JVM. keytool's main exits the
   * JVM with a non-zero code when a command fails, so a failure stops the batch with keytool's own message.
   */
  static final class KeytoolBatch {
    static final String NEXT = "--next-keytool-command";

    public static void main(String[] args) throws Exception {
      java.lang.reflect.Method main = Class.forName("sun.security.tools.keytool.Main").getMethod("main", String[].class);
      List<String> one = new ArrayList<>();
      for (int i = 0; i <= args.length; i++) {
        if (i == args.length || args[i].equals(NEXT)) {
          if (!one.isEmpty()) main.invoke(null, (Object) one.toArray(String[]::new));
          one.clear();
        } else {
          one.add(args[i]);
        }
      }
    }
  }

  private static Config tls(String keyStore) {
    return ConfigFactory.parseMap(Map.of(
            "hmm-emu.tls.enabled", true,
            "hmm-emu.tls.key-store", p(keyStore),
            "hmm-emu.tls.key-store-password", PW,
            "hmm-emu.tls.trust-store", p("cluster-truststore.p12"),
            "hmm-emu.tls.trust-store-password", PW))
        .withFallback(ConfigFactory.load("application-test"));
  }

  private ActorSystem<Void> node(String keyStore, String role, List<String> seeds) {
    ActorSystem<Void> s = ActorSystem.create(Behaviors.empty(), EmbeddedCluster.SYSTEM_NAME,
        NodeConfig.of(tls(keyStore), role, "127.0.0.1", 0, "", seeds));
    systems.add(s);
    return s;
  }

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
  }

  private static boolean isUpMember(ActorSystem<?> seen, Address a) {
    for (Member m : Cluster.get(seen).state().getMembers()) {
      if (m.address().equals(a) && m.status() == MemberStatus.up()) return true;
    }
    return false;
  }

  private static boolean isMember(ActorSystem<?> seen, Address a) {
    for (Member m : Cluster.get(seen).state().getMembers()) if (m.address().equals(a)) return true;
    return false;
  }

  @Test
  void aNodeWithTheCertificateJoinsAndOneWithoutIsRefused() throws Exception {
    ActorSystem<Void> seed = node("cluster-keystore.p12", "cpu", List.of());
    assertEquals("tls-tcp", seed.settings().config().getString("pekko.remote.artery.transport"));
    Address seedAddress = Cluster.get(seed).selfMember().address();
    Cluster.get(seed).manager().tell(Join.create(seedAddress));
    String seedArg = seedAddress.host().get() + ":" + seedAddress.port().get();

    ActorSystem<Void> outsider = node("outsider-keystore.p12", "gpu", List.of(seedArg));
    ActorSystem<Void> member = node("cluster-keystore.p12", "gpu", List.of(seedArg));
    Address outsiderAddress = Cluster.get(outsider).selfMember().address();
    Address memberAddress = Cluster.get(member).selfMember().address();

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
    while (!(isUpMember(seed, memberAddress) && isUpMember(member, memberAddress))) {
      assertTrue(System.nanoTime() < deadline, "the node holding the cluster certificate did not become Up within 45 s");
      assertFalse(isMember(seed, outsiderAddress), "the node without the certificate became a member");
      TimeUnit.MILLISECONDS.sleep(50);
    }
    // The outsider started first and keeps retrying its seed; give it a further bounded window in which it must
    // never appear (its handshakes fail: the seed's trust store does not hold its certificate).
    long window = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < window) {
      assertFalse(isMember(seed, outsiderAddress), "the node without the certificate became a member");
      assertFalse(isMember(member, outsiderAddress), "the node without the certificate became a member");
      assertFalse(Cluster.get(outsider).selfMember().status() == MemberStatus.up(), "the outsider believes it is Up");
      TimeUnit.MILLISECONDS.sleep(100);
    }
    assertEquals(2, count(seed), "members seen by the seed");
  }

  private static int count(ActorSystem<?> s) {
    int n = 0;
    for (Member ignored : Cluster.get(s).state().getMembers()) n++;
    return n;
  }

  @Test
  void aMissingOrWrongStoreIsOneLineAtStartUp() {
    SettingsException missing = assertThrows(SettingsException.class,
        () -> NodeConfig.of(tls("no-such-keystore.p12"), "cpu", "127.0.0.1", 0, "", List.of()));
    assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());
    Config wrongPassword = ConfigFactory.parseMap(Map.of("hmm-emu.tls.key-store-password", "wrong-password"))
        .withFallback(tls("cluster-keystore.p12"));
    SettingsException wrong = assertThrows(SettingsException.class,
        () -> NodeConfig.of(wrongPassword, "cpu", "127.0.0.1", 0, "", List.of()));
    assertTrue(wrong.getMessage().startsWith("hmm-emu.tls.key-store"), wrong.getMessage());
    assertFalse(wrong.getMessage().contains("\n"));
  }
}
