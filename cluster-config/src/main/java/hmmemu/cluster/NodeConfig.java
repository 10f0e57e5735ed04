package hmmemu.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Builds one node's Pekko configuration: role, canonical (public) and bind addresses, seed nodes. */
public final class NodeConfig {
  private NodeConfig() {}

  /**
   * @param host     the canonical hostname other nodes reach this node at (public address)
   * @param port     the canonical port (0 = pick a free one)
   * @param bindHost the address to bind to ("" = same as host; use 0.0.0.0 behind NAT or in containers)
   * @param seeds    seed nodes as host:port ("" entries ignored); empty = this node is the first seed
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
    return ConfigFactory.parseMap(m).withFallback(base);
  }
}
