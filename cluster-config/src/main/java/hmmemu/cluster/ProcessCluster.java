package hmmemu.cluster;

import com.typesafe.config.Config;
import hmmemu.cluster.check.CheckerActor;
import hmmemu.node.ServiceKeys;
import hmmemu.node.link.Direction;
import hmmemu.node.link.FaultSchedule;
import hmmemu.node.link.LinkControl;
import hmmemu.protocol.wire.pb.Envelope;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * A local cluster of separate JVM processes: this process is the controller (role "control", the seed, and the
 * host of the invariant checker and of the Pekko Management endpoint for {@code hmm-emu inject}); it launches one
 * CPU node and N GPU nodes as child JVMs running {@code hmm-emu node}. No child outlives it: each child stops when
 * its stdin pipe closes, and a watchdog process ({@code ChildProcesses.watchdog}) beside each child thaws and kills it when this process is
 * gone (so even a SIGKILL of this process ends them, a SIGSTOPped child included); a JVM shutdown hook destroys
 * them on Ctrl-C, and {@link #close} kills them. {@link #runFaults} carries out a fault schedule: crash (SIGKILL), pause (SIGSTOP),
 * resume (SIGCONT) and restart of a child JVM, and link faults sent to every node's link stage; a scenario runner
 * hands it its own node actions ({@link FaultSchedule.Callbacks}). {@link #reincarnate} moves children started with
 * {@code --pause-points} to a new node incarnation (reused node JVMs). Over 600 lines: the process faults need the
 * children's bookkeeping (launch, watchdogs, logs, indexes), which stays private to this class.
 */
public final class ProcessCluster implements ClusterHandle {
  private static final Pattern LISTENING = Pattern.compile("listening on ([^\\s:]+):(\\d+)");

  /** One child JVM: cluster node {@code node} (0 = the CPU node, k = GPU node k). */
  private static final class Child {
    final int node;
    final List<String> args;
    /** Its devices ({@code --devices}); a restart starts as many. */
    final int devices;
    volatile Process process;
    volatile Path log;
    volatile boolean stopped;

    Child(int node, List<String> args, int devices) {
      this.node = node;
      this.args = args;
      this.devices = devices;
    }
  }

  private final ActorSystem<Void> system;
  /** The checker of the current node incarnation ({@link #reincarnate}). */
  private volatile ActorRef<Object> checker;
  /** The current node incarnation (0: as started); {@link #reincarnate} moves it on. */
  private volatile long epoch;
  /** Whether a child was ever signalled (SIGSTOP/SIGCONT) by {@link #stop} or {@link #cont}. */
  private volatile boolean signalled;
  private final Config base;
  private final Map<String, String> sets;
  private final List<String> childArgs;
  private final Duration upTimeout;
  private final String seedArg;
  /** Child k is node k (restarted nodes are new children with new indexes). */
  private final List<Child> children = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<Path> logs = new ArrayList<>();
  private final List<Process> everStarted = new ArrayList<>();
  /** One {@link #watchdog} per child ever started. */
  private final List<Process> watchdogs = new ArrayList<>();
  private final Thread hook;
  private final String management;
  private volatile ActorRef<Envelope> cpu;
  private final List<ActorRef<Envelope>> gpus = new ArrayList<>();

  private ProcessCluster(Config base, int gpuNodes, Map<Integer, Integer> devicesPerNode, Map<String, String> sets,
      List<String> childArgs, Duration upTimeout) {
    this.base = base;
    this.sets = Map.copyOf(sets);
    this.childArgs = List.copyOf(childArgs);
    this.upTimeout = upTimeout;
    system = ActorSystem.create(Behaviors.empty(), EmbeddedCluster.SYSTEM_NAME,
        NodeConfig.withManagement(NodeConfig.of(base, "control", "127.0.0.1", 0, "", List.of())));
    Cluster cluster = Cluster.get(system);
    Address seed = cluster.selfMember().address();
    cluster.manager().tell(Join.create(seed));
    String profile = sets.getOrDefault("hmm-emu.model.kernel-profile", base.getString("hmm-emu.model.kernel-profile"));
    checker = system.systemActorOf(CheckerActor.create(profile.equals("v5.14")
        ? hmmemu.protocol.model.KernelProfile.V5_14 : hmmemu.protocol.model.KernelProfile.V6_15), "checker", Props.empty());
    hook = new Thread(this::killChildren, "hmm-emu-children-reaper");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      management = NodeConfig.managementEnabled(system.settings().config()) ? NodeConfig.startManagement(system) : null;
      seedArg = seed.host().get() + ":" + seed.port().get();
      children.add(new Child(0, List.of("--role", "cpu", "--no-checker"), 0));
      for (int k = 1; k <= gpuNodes; k++) children.add(gpuChild(k, Math.max(1, devicesPerNode.getOrDefault(k, 1))));
      for (Child c : children) launch(c);
      awaitUp(2 + gpuNodes, upTimeout);
      cpu = find(ServiceKeys.CPU, upTimeout, null);
      for (int k = 1; k <= gpuNodes; k++) gpus.add(find(ServiceKeys.gpu(k), upTimeout, null));
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Launches the children and waits (bounded) until all are Up and registered. */
  public static ProcessCluster start(Config base, int gpuNodes, Map<String, String> sets, Duration upTimeout) {
    return new ProcessCluster(base, gpuNodes, Map.of(), sets, List.of(), upTimeout);
  }

  /** As above, adding {@code childArgs} (e.g. {@code --config FILE}) to every child's {@code hmm-emu node}. */
  public static ProcessCluster start(Config base, int gpuNodes, Map<String, String> sets, List<String> childArgs,
      Duration upTimeout) {
    return new ProcessCluster(base, gpuNodes, Map.of(), sets, childArgs, upTimeout);
  }

  /** As above, GPU node k having {@code devicesPerNode.get(k)} devices (absent: 1; a scenario's declarations). */
  public static ProcessCluster start(Config base, int gpuNodes, Map<Integer, Integer> devicesPerNode,
      Map<String, String> sets, List<String> childArgs, Duration upTimeout) {
    return new ProcessCluster(base, gpuNodes, devicesPerNode, sets, childArgs, upTimeout);
  }

  private static String name(int node) { return Direction.nodeName(node); }

  private static Child gpuChild(int k, int devices) {
    return new Child(k, List.of("--role", "gpu", "--node-index", Integer.toString(k), "--devices",
        Integer.toString(devices)), devices);
  }

  private void launch(Child c) {
    List<String> cmd = new ArrayList<>(ChildJvmFlags.javaCommand());
    cmd.add("hmmemu.cluster.cli.Main");
    cmd.add("node");
    cmd.addAll(c.args);
    cmd.add("--seed-nodes");
    cmd.add(seedArg);
    cmd.add("--exit-on-stdin-eof");
    // The controller serves Management (and forwards injected faults to every node); children need none.
    cmd.add("--no-management");
    cmd.addAll(childArgs);
    for (Map.Entry<String, String> e : sets.entrySet()) {
      cmd.add("--set");
      cmd.add(e.getKey() + "=" + e.getValue());
    }
    try {
      Path log = Files.createTempFile("hmm-emu-" + name(c.node) + "-", ".log");
      synchronized (logs) {
        logs.add(log);
      }
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.redirectInput(ProcessBuilder.Redirect.PIPE);
      NodeConfig.Tls tls = NodeConfig.Tls.of(base);
      if (tls.enabled()) {
        // Through the environment (reference.conf reads it), so no password appears on a command line.
        Map<String, String> env = pb.environment();
        env.put("HMM_EMU_TLS", "true");
        env.put("HMM_EMU_TLS_KEY_STORE", tls.keyStore().toString());
        env.put("HMM_EMU_TLS_KEY_STORE_PASSWORD", tls.keyStorePassword());
        env.put("HMM_EMU_TLS_TRUST_STORE", tls.trustStore().toString());
        env.put("HMM_EMU_TLS_TRUST_STORE_PASSWORD", tls.trustStorePassword());
      }
      Process p = pb.start();
      synchronized (everStarted) {
        everStarted.add(p);
      }
      Process dog = ChildProcesses.watchdog(p);
      synchronized (watchdogs) {
        watchdogs.add(dog);
      }
      p.onExit().thenRun(dog::destroyForcibly);
      c.log = log;
      c.process = p;
      c.stopped = false;
    } catch (IOException e) {
      throw new IllegalStateException("could not launch the " + name(c.node) + " JVM: " + e.getMessage());
    }
  }

  /**
   * Waits until {@code members} are Up, bounding the wait by the children's progress rather than by wall time alone:
   * a starting child JVM needs CPU time (a few CPU-seconds for the JVM, Pekko and the join), and on a loaded machine
   * (a load average of 50 on 2 cores was seen) three of them starting at once can take minutes of wall time while
   * they never stop working. So the wait fails when for {@code stall} no new member came Up and the children
   * together used less than {@link #STARTING_CPU_NANOS} of CPU (they are stuck, not slow), when a child exited, or,
   * so that nothing ever hangs, after {@link #UP_CAP_FACTOR} times {@code stall} in all. The failure names each
   * child's state, CPU time and log tail.
   */
  private void awaitUp(int members, Duration stall) {
    long start = System.nanoTime();
    long cap = start + UP_CAP_FACTOR * stall.toNanos();
    long lastProgress = start;
    long lastUp = -1;
    long cpuAtProgress = childrenCpuNanos();
    while (true) {
      long up = 0;
      for (var m : Cluster.get(system).state().getMembers()) if (m.status() == MemberStatus.up()) up++;
      if (up == members) return;
      for (Child c : children) {
        if (!c.process.isAlive()) {
          throw new IllegalStateException("the " + name(c.node) + " JVM exited with " + c.process.exitValue()
              + " before the cluster formed; log: " + tail(c.log));
        }
      }
      long now = System.nanoTime();
      long cpu = childrenCpuNanos();
      if (up > lastUp || cpu - cpuAtProgress >= STARTING_CPU_NANOS) {
        lastUp = up;
        lastProgress = now;
        cpuAtProgress = cpu;
      }
      boolean stalled = now - lastProgress > stall.toNanos();
      if (stalled || now > cap) {
        throw new IllegalStateException("cluster not formed: " + up + " of " + members + " members Up after "
            + (now - start) / 1_000_000_000L + " s (" + (stalled ? "no member joined and the children used under "
            + STARTING_CPU_NANOS / 1_000_000 + " ms of CPU in the last " + stall.toSeconds() + " s"
            : "the cap of " + UP_CAP_FACTOR + " x " + stall.toSeconds() + " s") + "); " + childrenReport());
      }
      pause(50);
    }
  }

  /** CPU time a starting child must use within a stall window to count as still starting (not stuck). */
  static final long STARTING_CPU_NANOS = 2_000_000_000L;
  /** The overall bound on forming the cluster, in stall windows: never a hang, however loaded the machine. */
  static final int UP_CAP_FACTOR = 5;

  /** The children's CPU time together (ProcessHandle.Info.totalCpuDuration; 0 where the OS does not say). */
  private long childrenCpuNanos() {
    long sum = 0;
    for (Child c : children) {
      if (c.process != null) sum += c.process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }
    return sum;
  }

  /** Each child: node, alive, CPU time, last log lines. */
  private String childrenReport() {
    StringBuilder b = new StringBuilder();
    for (Child c : children) {
      if (b.length() > 0) b.append("; ");
      long cpuMs = c.process.info().totalCpuDuration().map(Duration::toMillis).orElse(-1L);
      b.append(name(c.node)).append(c.process.isAlive() ? " alive" : " exited").append(", cpu ").append(cpuMs)
          .append(" ms, log: ").append(tail(c.log));
    }
    return b.toString();
  }

  /** The registered instance of {@code key} (on {@code port}, if given), waiting for it (bounded). */
  private ActorRef<Envelope> find(ServiceKey<Envelope> key, Duration timeout, Integer port) {
    ActorRef<Envelope> ref = Reincarnation.await(system, key, System.nanoTime() + timeout.toNanos(),
        r -> port == null || Optional.ofNullable(r.path().address().getPort().orElse(null)).map(port::equals).orElse(false),
        50);
    if (ref == null) throw new IllegalStateException("no '" + key.id() + "' registered within " + timeout.toSeconds() + " s");
    return ref;
  }

  private static void pause(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  static String tail(Path log) { return ChildProcesses.tail(log); }

  /** The child processes, CPU node first (for crash tests); a restarted node's current process. */
  public List<Process> children() {
    List<Process> l = new ArrayList<>();
    for (Child c : children) l.add(c.process);
    return l;
  }

  /** Every child process this cluster started, restarted incarnations included (for orphan checks). */
  public List<Process> allProcesses() {
    synchronized (everStarted) {
      return List.copyOf(everStarted);
    }
  }

  /** The controller's Pekko Management base URI ({@code hmm-emu inject --node}), or null when disabled. */
  public String managementUri() { return management; }

  /** The token {@code hmm-emu inject} must send to {@link #managementUri} (null when disabled). */
  public String managementToken() {
    return management == null ? null : system.settings().config().getString("hmm-emu.management.token");
  }

  @Override
  public ActorSystem<?> controlSystem() { return system; }

  @Override
  public ActorRef<?> cpu() { return cpu; }

  @Override
  public ActorRef<?> gpu(int k) {
    synchronized (gpus) {
      return gpus.get(k - 1);
    }
  }

  @Override
  public int gpuCount() {
    synchronized (gpus) {
      return gpus.size();
    }
  }

  @Override
  public ActorRef<Object> checker() { return checker; }

  @Override
  public int processes() {
    synchronized (everStarted) {
      return 1 + everStarted.size();
    }
  }

  // ------------------------------------------------------------------------------------------------ process faults

  private Child child(int node) {
    if (node < 0 || node >= children.size()) {
      throw new IllegalArgumentException("no node " + name(node) + " in this cluster (cpu0, gpu1..gpu" + (children.size() - 1) + ")");
    }
    return children.get(node);
  }

  /** Kills node's JVM with SIGKILL (Process.destroyForcibly on Linux) and waits (bounded) until it is gone. */
  public void crash(int node) {
    Child c = child(node);
    c.stopped = true;
    c.process.destroyForcibly();
    try {
      if (!c.process.waitFor(10, TimeUnit.SECONDS)) throw new IllegalStateException(name(node) + " survived SIGKILL for 10 s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Freezes node's JVM (SIGSTOP): its threads stop, its connections stay open, the failure detector notices. */
  public void stop(int node) { signal(node, "STOP"); }

  /** Thaws a frozen JVM (SIGCONT). */
  public void cont(int node) { signal(node, "CONT"); }

  private void signal(int node, String sig) {
    Child c = child(node);
    signalled = true;
    if (!c.process.isAlive()) throw new IllegalStateException(name(node) + " is not running (SIG" + sig + ")");
    try {
      Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(c.process.pid())).redirectErrorStream(true).start();
      if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
        throw new IllegalStateException("kill -" + sig + " " + c.process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new IllegalStateException("kill -" + sig + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  /**
   * Starts a crashed GPU node again as a new member under a NEW node index, like {@code EmbeddedCluster.restartGpu}:
   * a new JVM ({@code hmm-emu node --node-index K}, K = the highest index so far + 1, hence new device ids) that
   * joins through the seed, and waits (bounded) until it registered; {@link #gpu}(K) is then its actor. Not the
   * same index: the CPU node drops every message of a node index it declared gone ({@code CpuMm.nodeGone} keys by
   * node), maps a member's address to the node indexes whose drivers spoke from it, and dedups inserts and
   * requests that a new incarnation's restarted id counters would repeat; the checker's causal delivery would take
   * the new incarnation's events (its vector clock entry restarting at 0) for duplicates (docs/FAULTS.md, Restart).
   * The new JVM hosts as many devices as the crashed one; the wait ends once the controller sees it Up (as
   * {@code EmbeddedCluster.restartGpu} waits for the CPU node's view), bounded by the start timeout.
   *
   * @return the new node index
   */
  public int restart(int node) {
    if (node == 0) throw new IllegalArgumentException("restart: only a GPU node can be restarted (the CPU node holds the mm)");
    Child old = child(node);
    if (old.process.isAlive()) throw new IllegalStateException("restart " + name(node) + ": it is still running (crash it first)");
    Child c;
    synchronized (gpus) {
      int k = children.size();
      c = gpuChild(k, Math.max(1, old.devices));
      children.add(c);
    }
    int k = c.node;
    launch(c);
    Integer port = null;
    long deadline = System.nanoTime() + upTimeout.toNanos();
    while (port == null) {
      try {
        for (String line : Files.readAllLines(c.log)) {
          Matcher m = LISTENING.matcher(line);
          if (m.find()) port = Integer.parseInt(m.group(2));
        }
      } catch (IOException ignored) {
        // not written yet
      }
      if (port != null) break;
      if (!c.process.isAlive()) throw new IllegalStateException("restarted " + name(node) + " (as " + name(k) + ") exited: " + tail(c.log));
      if (System.nanoTime() > deadline) throw new IllegalStateException("restarted " + name(node) + " (as " + name(k) + ") did not start");
      pause(50);
    }
    ActorRef<Envelope> ref = find(ServiceKeys.gpu(k), upTimeout, port);
    awaitMemberUp(port, deadline, "restarted " + name(node) + " (as " + name(k) + ")");
    synchronized (gpus) {
      while (gpus.size() < k - 1) gpus.add(null);
      gpus.add(ref);
    }
    return k;
  }

  /** Waits (until {@code deadline}, System.nanoTime) until the controller sees the member on {@code port} Up. */
  private void awaitMemberUp(int port, long deadline, String what) {
    while (true) {
      for (var m : Cluster.get(system).state().getMembers()) {
        if (m.status() == MemberStatus.up() && m.address().getPort().map(p -> p == port).orElse(false)) return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(what + " registered but was not Up within " + upTimeout.toSeconds() + " s");
      }
      pause(50);
    }
  }

  /** The current node incarnation (0: the children's first). */
  public long epoch() { return epoch; }

  /**
   * Whether this cluster can serve another run as it is: every child JVM it started is running, none was crashed,
   * restarted, frozen or thawed (membership and process state as at the start).
   */
  public boolean reusable() {
    if (signalled || children.size() != 1 + gpuCount()) return false;
    for (Child c : children) if (c.stopped || !c.process.isAlive()) return false;
    return true;
  }

  /**
   * Moves every node JVM to node incarnation {@code newEpoch} (children started with {@code --pause-points}; docs/
   * SCENARIOS.md "Across separate JVMs"): a new checker of {@code profile} under that incarnation's key (the old one
   * retired), each node's node actors, link gate, link control and modelled link replaced by new ones with
   * {@code sets} and GPU node k's {@code devicesPerNode.get(k)} devices ({@code NodeIncarnations}), and the new
   * node actors found (bounded by {@code bound}); {@link #cpu}, {@link #gpu} and {@link #checker} then name them.
   */
  public void reincarnate(long newEpoch, hmmemu.protocol.model.KernelProfile profile, Map<String, String> sets,
      Map<Integer, Integer> devicesPerNode, Duration bound) {
    if (newEpoch <= epoch) throw new IllegalArgumentException("incarnation " + newEpoch + " is not after " + epoch);
    if (!reusable()) throw new IllegalStateException("a child JVM was crashed, restarted or signalled");
    ActorRef<Object> old = checker;
    checker = system.systemActorOf(CheckerActor.create(profile, newEpoch), "checker-" + newEpoch, Props.empty());
    old.tell(new CheckerActor.Retire());
    epoch = newEpoch;
    int n = gpuCount();
    Reincarnation.incarnate(system, n, newEpoch, sets, devicesPerNode, bound);
    long deadline = System.nanoTime() + bound.toNanos();
    cpu = Reincarnation.find(system, ServiceKeys.ofEpoch(ServiceKeys.CPU, newEpoch), deadline);
    synchronized (gpus) {
      for (int k = 1; k <= n; k++) {
        gpus.set(k - 1, Reincarnation.find(system, ServiceKeys.ofEpoch(ServiceKeys.gpu(k), newEpoch), deadline));
      }
    }
  }

  /** Whether node's JVM was crashed by {@link #crash} (and not restarted). */
  public boolean crashed(int node) { return child(node).stopped; }

  /**
   * Checks that every node {@code schedule} names exists and that it restarts only GPU nodes. A restart adds a node
   * (gpu{N+1}, then gpu{N+2}...: {@link #restart}), which later entries may name.
   *
   * @throws IllegalArgumentException one line naming the entry
   */
  public static void validate(FaultSchedule schedule, int gpuNodes) {
    int known = gpuNodes;
    for (FaultSchedule.Entry e : schedule.entries()) {
      FaultSchedule.Action a = e.action();
      if (a instanceof FaultSchedule.Restart r && r.node() == 0) {
        throw new IllegalArgumentException(e + ": only a GPU node can be restarted");
      }
      for (int n : LinkControl.nodes(a)) {
        if (n > known) throw new IllegalArgumentException(e + ": no node " + name(n) + " (the cluster has gpu1..gpu" + known + " then)");
      }
      if (a instanceof FaultSchedule.Restart && known == LinkControl.MAX_NODE) {
        throw new IllegalArgumentException(e + ": the restarted node would be gpu" + (known + 1) + ", beyond the "
            + LinkControl.MAX_NODE + " GPU node indexes (docs/FAULTS.md, Restart)");
      }
      if (a instanceof FaultSchedule.Restart) known++;
    }
  }

  private record Step(Duration at, boolean end, int order, FaultSchedule.Entry entry) {}

  /**
   * Carries out {@code schedule} from now (real time), on its own thread: crash = SIGKILL, pause = SIGSTOP (and
   * SIGCONT after {@code for}), resume = SIGCONT, restart = a new JVM; link faults (add, loss, duplication,
   * reordering, partition, heal, clear) go to every node's link stage through {@link LinkControl#broadcast}.
   * The future completes after the last step (exceptionally with the first failed step); {@code log} hears each.
   */
  public CompletableFuture<Void> runFaults(FaultSchedule schedule, Consumer<String> log) {
    return runFaults(schedule, log, (e, end, began) -> {});
  }

  /**
   * Hears each step of {@link #runFaults} that ran: an entry's start, or the end of its {@code for} period, and when
   * it began ({@link System#nanoTime}; carrying a step out, e.g. asking every node, takes time).
   */
  @FunctionalInterface
  public interface FaultSteps {
    void ran(FaultSchedule.Entry entry, boolean end, long beganNanos);
  }

  /**
   * As above; {@code ran} hears each step that ran, right after it ran (a run record draws fault windows from them:
   * an entry with {@code for} is a window from its start to its end step, one without is a point).
   */
  public CompletableFuture<Void> runFaults(FaultSchedule schedule, Consumer<String> log, FaultSteps ran) {
    return runFaults(schedule, log, ran, null, n -> n);
  }

  /**
   * As above, the node actions (crash, restart, pause, resume) carried out by {@code nodes} instead of this
   * cluster's own ({@link #crash}, {@link #restart}, {@link #stop}, {@link #cont}), and every node a link action
   * names sent as {@code clusterNode} of it: a scenario runner's, whose gpu1 names the current incarnation of its
   * GPU node 1 (docs/SCENARIOS.md "Crash and restart"). {@code nodes} null: this cluster's own.
   */
  public CompletableFuture<Void> runFaults(FaultSchedule schedule, Consumer<String> log, FaultSteps ran,
      FaultSchedule.Callbacks nodes, java.util.function.IntUnaryOperator clusterNode) {
    List<Step> steps = new ArrayList<>();
    int order = 0;
    for (FaultSchedule.Entry e : schedule.entries()) {
      steps.add(new Step(e.at(), false, order++, e));
      // A pause's end is a SIGCONT; a link fault's end is done by each node's link stage (its 'for' travels with
      // the line), and the step here only marks it.
      if (e.action().forDuration() != null) {
        steps.add(new Step(e.at().plus(e.action().forDuration()), true, order++, e));
      }
    }
    steps.sort(Comparator.comparing(Step::at).thenComparing(s -> !s.end()).thenComparingInt(Step::order));
    CompletableFuture<Void> done = new CompletableFuture<>();
    long start = System.nanoTime();
    Thread t = new Thread(() -> {
      Exception first = null;
      for (Step s : steps) {
        long wait = s.at().toNanos() - (System.nanoTime() - start);
        try {
          if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
        } catch (InterruptedException ie) {
          done.complete(null);
          return;
        }
        long began = System.nanoTime();
        try {
          String what = s.end() ? end(s.entry(), nodes) : apply(s.entry(), nodes, clusterNode);
          log.accept("fault " + s.entry() + ": " + what);
          ran.ran(s.entry(), s.end(), began);
        } catch (Exception ex) {
          log.accept("fault " + s.entry() + " failed: " + ex.getMessage());
          if (first == null) first = ex;
        }
      }
      if (first != null) done.completeExceptionally(first); else done.complete(null);
    }, "hmm-emu-process-faults");
    t.setDaemon(true);
    t.start();
    done.whenComplete((v, ex) -> t.interrupt());
    return done;
  }

  private String apply(FaultSchedule.Entry e, FaultSchedule.Callbacks nodes,
      java.util.function.IntUnaryOperator clusterNode) throws Exception {
    FaultSchedule.Action a = e.action();
    if (nodes != null && a instanceof FaultSchedule.Crash c) {
      nodes.crash(c.node());
      return "crashed " + name(c.node());
    } else if (nodes != null && a instanceof FaultSchedule.Restart r) {
      nodes.restart(r.node());
      return "restarted " + name(r.node()) + " (a new member)";
    } else if (nodes != null && a instanceof FaultSchedule.Pause p) {
      nodes.pause(p.node());
      return "paused " + name(p.node());
    } else if (nodes != null && a instanceof FaultSchedule.Resume r) {
      nodes.resume(r.node());
      return "resumed " + name(r.node());
    } else if (a instanceof FaultSchedule.Crash c) {
      crash(c.node());
      return "SIGKILL " + name(c.node());
    } else if (a instanceof FaultSchedule.Restart r) {
      int k = restart(r.node());
      return name(r.node()) + " restarted as " + name(k) + " (a new member) and registered";
    } else if (a instanceof FaultSchedule.Pause p) {
      stop(p.node());
      return "SIGSTOP " + name(p.node());
    } else if (a instanceof FaultSchedule.Resume r) {
      cont(r.node());
      return "SIGCONT " + name(r.node());
    }
    String line = LinkLines.of(LinkLines.renamed(a, clusterNode));
    List<String> replies = LinkControl.broadcast(system, line, Duration.ofSeconds(5)).toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    for (String r : replies) {
      // A crashed or frozen node does not answer; the live nodes applied it.
      if (!r.startsWith("ok") && !r.contains("no answer")) throw new IllegalStateException(r);
    }
    return String.join("; ", replies);
  }

  private String end(FaultSchedule.Entry e, FaultSchedule.Callbacks nodes) {
    if (e.action() instanceof FaultSchedule.Pause p) {
      if (nodes != null) {
        nodes.resume(p.node());
        return "resumed " + name(p.node());
      }
      cont(p.node());
      return "SIGCONT " + name(p.node());
    }
    return "its 'for' period ended (each node's link stage ended it)";
  }


  // ------------------------------------------------------------------------------------------------ shutdown

  private void killChildren() {
    List<Process> all = allProcesses();
    try {
      ChildProcesses.kill(all);
    } finally {
      synchronized (watchdogs) {
        watchdogs.forEach(Process::destroyForcibly);
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
    synchronized (logs) {
      for (Path l : logs) {
        try {
          Files.deleteIfExists(l);
        } catch (IOException ignored) {
          // temp file
        }
      }
    }
  }
}
