package hmmemu.cluster;

import hmmemu.node.link.FaultRoutes;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds one node's Pekko configuration: role, canonical (public) and bind addresses, seed nodes, and (when
 * {@code hmm-emu.tls.enabled}) Artery's mutual-TLS transport.
 */
public final class NodeConfig {
  private NodeConfig() {}

  /**
   * @param host     the canonical hostname other nodes reach this node at (public address)
   * @param port     the canonical port (0 = pick a free one)
   * @param bindHost the address to bind to ("" = same as host; use 0.0.0.0 behind NAT or in containers)
   * @param seeds    seed nodes as host:port ("" entries ignored); empty = this node is the first seed
   * @throws SettingsException for a malformed seed node or TLS setting (missing or unreadable key store...)
   */
  public static Config of(Config base, String role, String host, int port, String bindHost, List<String> seeds) {
    Map<String, Object> m = new HashMap<>();
    m.put("pekko.cluster.roles", List.of(role));
    m.put("pekko.remote.artery.canonical.hostname", host);
    m.put("pekko.remote.artery.canonical.port", port);
    if (bindHost != null && !bindHost.isEmpty()) m.put("pekko.remote.artery.bind.hostname", bindHost);
    List<String> seedUris = new ArrayList<>();
    for (String s : seeds) {
      if (s.isBlank()) continue;
      String[] hp = s.trim().split(":");
      if (hp.length != 2 || hp[0].isEmpty()) throw new SettingsException("--seed-nodes: expected HOST:PORT, got '" + s + "'");
      int p;
      try {
        p = Integer.parseInt(hp[1]);
      } catch (NumberFormatException e) {
        throw new SettingsException("--seed-nodes: port is not a number in '" + s + "'");
      }
      if (p < 1 || p > 65535) throw new SettingsException("--seed-nodes: port out of range in '" + s + "'");
      seedUris.add("pekko://" + EmbeddedCluster.SYSTEM_NAME + "@" + hp[0] + ":" + p);
    }
    if (!seedUris.isEmpty()) m.put("pekko.cluster.seed-nodes", seedUris);
    m.putAll(tls(base));
    return ConfigFactory.parseMap(m).withFallback(base);
  }

  /** Whether this node serves Pekko Management HTTP (hmm-emu.management.enabled). */
  public static boolean managementEnabled(Config c) {
    return !c.hasPath("hmm-emu.management.enabled") || c.getBoolean("hmm-emu.management.enabled");
  }

  /**
   * Copies hmm-emu.management.{hostname,port} to pekko.management.http (localhost and a free port by default) and
   * sets hmm-emu.management.token: the configured one, or else a new random one ({@link FaultRoutes} requires it).
   */
  public static Config withManagement(Config c) {
    if (!managementEnabled(c)) return c;
    try {
      String host = c.getString("hmm-emu.management.hostname");
      int port = c.getInt("hmm-emu.management.port");
      if (port < 0 || port > 65535) throw new SettingsException("hmm-emu.management.port: out of range: " + port);
      String token = c.hasPath("hmm-emu.management.token") ? c.getString("hmm-emu.management.token") : "";
      if (token.isBlank()) token = FaultRoutes.newToken();
      return ConfigFactory.parseMap(Map.of("pekko.management.http.hostname", host,
          "pekko.management.http.port", port, "hmm-emu.management.token", token)).withFallback(c);
    } catch (ConfigException e) {
      throw new SettingsException(HmmEmuSettings.oneLine(e.getMessage()));
    }
  }

  /**
   * Starts Pekko Management HTTP on {@code system} (bounded wait), writes its token to {@link FaultRoutes#tokenFile} (deleted
   * when the system terminates) and returns its base URI.
   */
  public static String startManagement(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    try {
      String uri = org.apache.pekko.management.javadsl.PekkoManagement.get(system).start().toCompletableFuture()
          .get(30, java.util.concurrent.TimeUnit.SECONDS).toString();
      writeToken(system, java.net.URI.create(uri).getPort());
      return uri;
    } catch (SettingsException e) {
      system.terminate();
      throw e;
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      system.terminate();
      throw new SettingsException("management: could not bind "
          + system.settings().config().getString("pekko.management.http.hostname") + ":"
          + system.settings().config().getString("pekko.management.http.port") + ": "
          + HmmEmuSettings.oneLine(String.valueOf(cause.getMessage())));
    }
  }

  private static void writeToken(org.apache.pekko.actor.typed.ActorSystem<?> system, int port) {
    Path file = FaultRoutes.tokenFile(port);
    try {
      Path dir = file.getParent();
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
      Path tmp = Files.createTempFile(dir, "management-" + port + "-", ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(tmp, system.settings().config().getString("hmm-emu.management.token") + "\n");
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | UnsupportedOperationException e) {
      throw new SettingsException("management: cannot write the token file " + file + ": "
          + HmmEmuSettings.oneLine(e.getMessage()));
    }
    system.getWhenTerminated().thenRun(() -> {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // a stale file is overwritten by the next endpoint on this port
      }
    });
  }

  /** The cluster's mutual-TLS settings (hmm-emu.tls), validated. */
  public record Tls(boolean enabled, Path keyStore, String keyStorePassword, Path trustStore,
      String trustStorePassword) {
    /** Reads hmm-emu.tls from {@code config} (absent = disabled). */
    public static Tls of(Config config) {
      if (!config.hasPath("hmm-emu.tls")) return new Tls(false, null, "", null, "");
      try {
        Config t = config.getConfig("hmm-emu.tls");
        if (!t.getBoolean("enabled")) return new Tls(false, null, "", null, "");
        return new Tls(true, path(t.getString("key-store"), "hmm-emu.tls.key-store (--keystore)"),
            t.getString("key-store-password"),
            path(t.getString("trust-store"), "hmm-emu.tls.trust-store (--truststore)"),
            t.getString("trust-store-password"));
      } catch (ConfigException e) {
        throw new SettingsException(HmmEmuSettings.oneLine(e.getMessage()));
      }
    }

    private static Path path(String s, String what) {
      if (s.isBlank()) throw new SettingsException(what + ": TLS is on but no file is given");
      return Path.of(s).toAbsolutePath();
    }

    /** Opens both stores once, so a wrong path or password is one line at start-up, not a refused handshake. */
    public Tls validated() {
      if (!enabled) return this;
      check(keyStore, keyStorePassword, "hmm-emu.tls.key-store (--keystore)", true);
      check(trustStore, trustStorePassword, "hmm-emu.tls.trust-store (--truststore)", false);
      return this;
    }

    private static void check(Path p, String password, String what, boolean needsKey) {
      if (!Files.isRegularFile(p)) throw new SettingsException(what + ": no such file: " + p);
      KeyStore ks;
      try (InputStream in = Files.newInputStream(p)) {
        ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(in, password.toCharArray());
      } catch (IOException | GeneralSecurityException e) {
        throw new SettingsException(what + ": cannot open " + p + ": " + HmmEmuSettings.oneLine(e.getMessage()));
      }
      try {
        boolean found = false;
        for (var aliases = ks.aliases(); aliases.hasMoreElements();) {
          String a = aliases.nextElement();
          found |= needsKey ? ks.isKeyEntry(a) : ks.isCertificateEntry(a) || ks.isKeyEntry(a);
        }
        if (!found) {
          throw new SettingsException(what + ": " + p + " holds no " + (needsKey ? "private key" : "certificate"));
        }
      } catch (GeneralSecurityException e) {
        throw new SettingsException(what + ": cannot read " + p + ": " + HmmEmuSettings.oneLine(e.getMessage()));
      }
    }
  }

  /**
   * Artery's tls-tcp transport with the config SSL engine (pekko-remote reference.conf,
   * {@code pekko.remote.artery.ssl.config-ssl-engine}): both ends present the cluster certificate and each
   * checks the other's against its trust store, so a node without it cannot even open an Artery connection.
   */
  static Map<String, Object> tls(Config base) {
    Tls t = Tls.of(base).validated();
    Map<String, Object> m = new HashMap<>();
    if (!t.enabled()) return m;
    String e = "pekko.remote.artery.ssl.config-ssl-engine.";
    m.put("pekko.remote.artery.transport", "tls-tcp");
    m.put(e + "key-store", t.keyStore().toString());
    m.put(e + "key-store-password", t.keyStorePassword());
    m.put(e + "key-password", t.keyStorePassword());
    m.put(e + "trust-store", t.trustStore().toString());
    m.put(e + "trust-store-password", t.trustStorePassword());
    m.put(e + "require-mutual-authentication", "on");
    // The cluster certificate names the cluster, not each host: peers are authenticated by the certificate.
    m.put(e + "hostname-verification", "off");
    return m;
  }
}
