package hmmemu.cluster.cli;

import hmmemu.node.link.FaultRoutes;

import com.typesafe.config.Config;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.node.link.LinkControl;
import hmmemu.cluster.NodeConfig;
import hmmemu.cluster.NodeRoles;
import hmmemu.cluster.SettingsException;
import hmmemu.cluster.check.CheckerActor;
import hmmemu.node.link.Link;
import hmmemu.node.ModelClock;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.Props;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Cluster;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hmm-emu node}: one cluster node in this JVM; serves until SIGTERM (graceful leave) or stdin EOF. */
@Command(name = "node", mixinStandardHelpOptions = true,
    description = {"Starts one node (role cpu or gpu) and joins a cluster.",
        "Logs when it is Up and serves until stopped: SIGTERM (or Ctrl-C) leaves the cluster gracefully."})
final class NodeCommand implements Callable<Integer> {
  @Option(names = "--role", required = true, description = "The node's role: cpu or gpu.") String role;
  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Canonical (public) host (default ${DEFAULT-VALUE}).")
  String host;
  @Option(names = "--port", defaultValue = "0", description = "Canonical port; 0 picks a free one (default ${DEFAULT-VALUE}).")
  int port;
  @Option(names = "--bind-host", defaultValue = "", description = "Address to bind to, if not --host (e.g. 0.0.0.0).")
  String bindHost;
  @Option(names = "--seed-nodes", split = ",", description = "HOST:PORT of seed nodes; none = start a new cluster.")
  List<String> seeds = List.of();
  @Option(names = "--node-index", defaultValue = "1", description = "For role gpu: this GPU node's index 1..15 (unique).")
  int nodeIndex;
  @Option(names = "--devices", defaultValue = "1", description = "For role gpu: devices on this node (default 1).")
  int devices;
  @Option(names = "--no-checker", description = "For role cpu: do not host the invariant checker (a controller does).")
  boolean noChecker;
  @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file that overrides reference.conf.")
  File config;
  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one configuration key (repeatable).")
  Map<String, String> sets = Map.of();
  @Option(names = "--exit-on-stdin-eof", description = "Stop when standard input closes (used by 'hmm-emu cluster').")
  boolean exitOnStdinEof;
  @Option(names = "--management-host", paramLabel = "HOST",
      description = "Pekko Management HTTP address for `hmm-emu inject` (default hmm-emu.management.hostname, 127.0.0.1).")
  String managementHost;
  @Option(names = "--management-port", paramLabel = "PORT",
      description = "Pekko Management HTTP port (default hmm-emu.management.port; 0 = a free port).")
  Integer managementPort;
  @Option(names = "--no-management", description = "Do not serve Pekko Management HTTP (no `hmm-emu inject`).")
  boolean noManagement;
  @Option(names = "--pause-points", description = "Serve a scenario controller's pause points and stream link "
      + "observations to it (used by 'hmm-emu cluster --scenario').")
  boolean pausePoints;
  @CommandLine.Mixin TlsOptions tls = new TlsOptions();

  /** The settings a scenario controller gives each node incarnation (JvmLinkTap.sets): not inherited from the start. */
  static final List<String> INCARNATION_KEYS = List.of("hmm-emu.model.kernel-profile", "hmm-emu.time-scale",
      "hmm-emu.link.lanes");

  @Override
  public Integer call() throws Exception {
    if (!role.equals("cpu") && !role.equals("gpu")) throw new SettingsException("--role: expected cpu or gpu, got '" + role + "'");
    if (role.equals("gpu") && (nodeIndex < 1 || nodeIndex > 15)) throw new SettingsException("--node-index: must be in [1, 15]");
    if (devices < 1 || devices > 16) throw new SettingsException("--devices: must be in [1, 16]");
    if (port < 0 || port > 65535) throw new SettingsException("--port: out of range: " + port);
    if (port != 0) checkPortFree(bindHost.isEmpty() ? host : bindHost, port);
    checkSetKeys(sets);
    Map<String, Object> o = new HashMap<>(sets);
    o.putAll(tls.overrides());
    if (managementHost != null) o.put("hmm-emu.management.hostname", managementHost);
    if (managementPort != null) {
      if (managementPort < 0 || managementPort > 65535) throw new SettingsException("--management-port: out of range: " + managementPort);
      o.put("hmm-emu.management.port", managementPort);
    }
    if (noManagement) o.put("hmm-emu.management.enabled", false);
    HmmEmuSettings settings = HmmEmuSettings.load(config, o);
    Config c = NodeConfig.withManagement(NodeConfig.of(settings.config, role, host, port, bindHost, seeds));
    ModeledLink link;
    try {
      link = new ModeledLink(LinkSettings.fromConfig(settings.config), settings.demo.seed(), settings.timeScale,
          Link.DIRECT);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(e.getMessage());
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), hmmemu.cluster.EmbeddedCluster.SYSTEM_NAME, c);
    Cluster cluster = Cluster.get(Adapter.toClassic(system));
    if (seeds.isEmpty()) cluster.join(cluster.selfAddress());
    String name = role.equals("cpu") ? "cpu0" : "gpu" + nodeIndex;
    if (pausePoints || role.equals("cpu")) hmmemu.cluster.DropWatch.install(system, name); // startGpu installs its own
    if (role.equals("cpu") && !noChecker) {
      system.systemActorOf(CheckerActor.create(settings.switches.kernelProfile()), "checker", org.apache.pekko.actor.typed.Props.empty());
    }
    if (pausePoints) {
      // A scenario's pause gate and observing stage around the modelled link (docs/SCENARIOS.md "Across separate
      // JVMs"), with the node actor and the link control: the first incarnation of a node JVM that a scenario
      // controller may reuse for its next file (NodeIncarnations starts them, and their later incarnations).
      link.close();
      File configFile = config;
      // a new incarnation takes the scenario's kernel profile, time scale and lanes from its request alone (absent:
      // the configuration's, as for a JVM started without them)
      Map<String, Object> baseOverrides = new HashMap<>(o);
      for (String perRun : INCARNATION_KEYS) baseOverrides.remove(perRun);
      system.systemActorOf(hmmemu.cluster.NodeIncarnations.create(role, nodeIndex, devices, incarnationSets -> {
        if (incarnationSets.isEmpty()) return settings;
        Map<String, Object> with = new HashMap<>(baseOverrides);
        with.putAll(incarnationSets);
        return HmmEmuSettings.load(configFile, with);
      }), "node-host", org.apache.pekko.actor.typed.Props.empty());
    } else {
      system.getWhenTerminated().thenRun(link::close);
      ModelClock clock = ModelClock.scaledWall(settings.timeScale);
      if (role.equals("cpu")) {
        system.systemActorOf(hmmemu.cpu.actor.CpuNodeActor.create(settings.switches, clock, link), "cpu-mmu",
            org.apache.pekko.actor.typed.Props.empty());
      } else {
        NodeRoles.startGpu(system, nodeIndex, devices, settings.switches, clock, link);
      }
      // The link control also answers the node's model time (run records align clocks with it) and its cores'
      // live counters (hmm-emu status).
      system.systemActorOf(LinkControl.create(name, link, clock::nowMicros,
          () -> hmmemu.node.NodeCounters.of(system).snapshot()), "link-control", org.apache.pekko.actor.typed.Props.empty());
    }
    Address self = cluster.selfAddress();
    String tlsNote = NodeConfig.Tls.of(settings.config).enabled() ? " (mutual TLS)" : "";
    System.out.println("hmm-emu node: " + name + " listening on " + self.host().get() + ":" + self.port().get() + tlsNote);
    if (NodeConfig.managementEnabled(c)) {
      String uri = NodeConfig.startManagement(system);
      int mport = java.net.URI.create(uri).getPort();
      System.out.println("hmm-emu node: management at " + uri + " (hmm-emu inject --node HOST:PORT \"FAULT\")");
      System.out.println("hmm-emu node: management token " + c.getString("hmm-emu.management.token") + " (in "
          + hmmemu.node.link.FaultRoutes.tokenFile(mport) + ", where hmm-emu inject on this machine reads it)");
    }
    System.out.flush();
    cluster.registerOnMemberUp(() -> {
      System.out.println("hmm-emu node: " + role + (role.equals("gpu") ? " " + nodeIndex : "") + " at "
          + self.host().get() + ":" + self.port().get() + " is Up");
      System.out.flush();
    });
    cluster.registerOnMemberRemoved(system::terminate);
    if (exitOnStdinEof) {
      Thread watchdog = new Thread(() -> {
        try (InputStream in = System.in) {
          while (in.read() >= 0) {
            // keep reading until the parent closes the pipe (or dies)
          }
        } catch (IOException ignored) {
          // a broken pipe means the parent is gone, too
        }
        system.terminate();
      }, "stdin-watchdog");
      watchdog.setDaemon(true);
      watchdog.start();
    }
    try {
      system.getWhenTerminated().toCompletableFuture().get();
    } catch (ExecutionException e) {
      return 1;
    }
    return 0;
  }

  /** Every --set key must name a key of reference.conf (or a link direction): a typo is not silently ignored. */
  static void checkSetKeys(Map<String, String> sets) {
    Config known = com.typesafe.config.ConfigFactory.load();
    for (String key : sets.keySet()) {
      boolean ok;
      try {
        ok = key.startsWith("hmm-emu.link.directions.") || known.hasPathOrNull(key);
      } catch (com.typesafe.config.ConfigException e) {
        throw new SettingsException("--set " + key + ": not a configuration path (" + e.getMessage().replace('\n', ' ') + ")");
      }
      if (!ok) {
        throw new SettingsException("--set " + key + ": unknown configuration key (keys are those of reference.conf,"
            + " e.g. hmm-emu.time-scale or pekko.remote.artery.canonical.port)");
      }
    }
  }

    static void checkPortFree(String host, int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new SettingsException("--port: " + host + ":" + port + " is not free (" + e.getMessage() + ")");
    }
  }
}
