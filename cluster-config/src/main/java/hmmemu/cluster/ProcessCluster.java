package hmmemu.cluster;

import com.typesafe.config.Config;
import hmmemu.cluster.check.CheckerActor;
import hmmemu.node.ServiceKeys;
import hmmemu.protocol.wire.pb.Envelope;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * A local cluster of separate JVM processes: this process is the controller (role "control", the seed, and the
 * host of the invariant checker); it launches one CPU node and N GPU nodes as child JVMs running
 * {@code hmm-emu node}. No child outlives it: each child stops when its stdin pipe closes (so even a SIGKILL of
 * this process ends them), a JVM shutdown hook destroys them on Ctrl-C, and {@link #close} kills them.
 */
public final class ProcessCluster implements ClusterHandle {
  private final ActorSystem<Void> system;
  private final ActorRef<Object> checker;
  private final List<Process> children = new ArrayList<>();
  private final List<Path> logs = new ArrayList<>();
  private final Thread hook;
  private ActorRef<Envelope> cpu;
  private final List<ActorRef<Envelope>> gpus = new ArrayList<>();

  private ProcessCluster(Config base, int gpuNodes, Map<String, String> sets, Duration upTimeout) {
    system = ActorSystem.create(Behaviors.empty(), EmbeddedCluster.SYSTEM_NAME,
        NodeConfig.of(base, "control", "127.0.0.1", 0, "", List.of()));
    Cluster cluster = Cluster.get(system);
    Address seed = cluster.selfMember().address();
    cluster.manager().tell(Join.create(seed));
    String profile = sets.getOrDefault("hmm-emu.model.kernel-profile", base.getString("hmm-emu.model.kernel-profile"));
    checker = system.systemActorOf(CheckerActor.create(profile.equals("v5.14")
        ? hmmemu.protocol.model.KernelProfile.V5_14 : hmmemu.protocol.model.KernelProfile.V6_15), "checker", Props.empty());
    hook = new Thread(this::killChildren, "hmm-emu-children-reaper");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      String seedArg = seed.host().get() + ":" + seed.port().get();
      children.add(launch(List.of("--role", "cpu", "--no-checker"), seedArg, sets, "cpu"));
      for (int k = 1; k <= gpuNodes; k++) {
        children.add(launch(List.of("--role", "gpu", "--node-index", Integer.toString(k)), seedArg, sets, "gpu" + k));
      }
      awaitUp(2 + gpuNodes, upTimeout);
      cpu = find(ServiceKeys.CPU, upTimeout);
      for (int k = 1; k <= gpuNodes; k++) gpus.add(find(ServiceKeys.gpu(k), upTimeout));
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Launches the children and waits (bounded) until all are Up and registered. */
  public static ProcessCluster start(Config base, int gpuNodes, Map<String, String> sets, Duration upTimeout) {
    return new ProcessCluster(base, gpuNodes, sets, upTimeout);
  }

  private Process launch(List<String> roleArgs, String seed, Map<String, String> sets, String name) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xss4m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("hmmemu.cluster.cli.Main");
    cmd.add("node");
    cmd.addAll(roleArgs);
    cmd.add("--seed-nodes");
    cmd.add(seed);
    cmd.add("--exit-on-stdin-eof");
    for (Map.Entry<String, String> e : sets.entrySet()) {
      cmd.add("--set");
      cmd.add(e.getKey() + "=" + e.getValue());
    }
    try {
      Path log = Files.createTempFile("hmm-emu-" + name + "-", ".log");
      logs.add(log);
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.redirectInput(ProcessBuilder.Redirect.PIPE);
      return pb.start();
    } catch (IOException e) {
      throw new IllegalStateException("could not launch the " + name + " JVM: " + e.getMessage());
    }
  }

  private void awaitUp(int members, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long up = 0;
      for (var m : Cluster.get(system).state().getMembers()) if (m.status() == MemberStatus.up()) up++;
      if (up == members) return;
      for (int i = 0; i < children.size(); i++) {
        if (!children.get(i).isAlive()) {
          throw new IllegalStateException("child JVM " + i + " exited with " + children.get(i).exitValue()
              + " before the cluster formed; log: " + tail(logs.get(i)));
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("cluster not formed: " + up + " of " + members + " members Up after "
            + timeout.toSeconds() + " s");
      }
      pause(50);
    }
  }

  private ActorRef<Envelope> find(ServiceKey<Envelope> key, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        Receptionist.Listing l = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
            r -> Receptionist.find(key, r), Duration.ofSeconds(3), system.scheduler())
            .toCompletableFuture().get(4, TimeUnit.SECONDS);
        Optional<ActorRef<Envelope>> ref = l.getServiceInstances(key).stream().findFirst();
        if (ref.isPresent()) return ref.get();
      } catch (Exception ignored) {
        // asked again below until the deadline
      }
      pause(50);
    }
    throw new IllegalStateException("no '" + key.id() + "' registered within " + timeout.toSeconds() + " s");
  }

  private static void pause(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  /** The child processes, CPU node first (for crash tests). */
  public List<Process> children() { return List.copyOf(children); }

  @Override
  public ActorSystem<?> controlSystem() { return system; }

  @Override
  public ActorRef<?> cpu() { return cpu; }

  @Override
  public ActorRef<?> gpu(int k) { return gpus.get(k - 1); }

  @Override
  public int gpuCount() { return gpus.size(); }

  @Override
  public ActorRef<Object> checker() { return checker; }

  @Override
  public int processes() { return 1 + children.size(); }

  private void killChildren() {
    for (Process p : children) {
      try {
        p.getOutputStream().close();
      } catch (IOException ignored) {
        // the child notices the closed pipe, or is killed below
      }
      p.destroy();
    }
    for (Process p : children) {
      try {
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    killChildren();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // already shutting down: the hook runs anyway
    }
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(15, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // abandoned; the JVM exit takes it down
    }
    for (Path l : logs) {
      try {
        Files.deleteIfExists(l);
      } catch (IOException ignored) {
        // temp file
      }
    }
  }

}
