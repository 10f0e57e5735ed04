package hmmemu.cluster.scenario;

import hmmemu.protocol.msg.Ids;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import java.time.Duration;
import java.util.List;

/**
 * One parsed and validated scenario file (docs/SCENARIOS.md): the cluster shape, processes, VMAs, devices with
 * their driver flavour, switches and kernel profile, then the steps. Everything in it has been checked against the
 * declarations, so a runner never meets an unknown actor or a page outside a VMA. {@code profiles}: the kernel
 * profiles the file runs under, the first one in {@code switches}. {@code lanes}: the file's
 * {@code link { lanes = per-thread }} (hmm-emu.link.lanes, docs/PROTOCOL.md §5.8): the link has one lane per sending
 * kernel thread and a pause point holds only the lane of the message that closed it. {@code livelockSpan}: the file's
 * {@code liveness { livelock-span = 40us }} (docs/SCENARIOS.md "Liveness verdicts"): a device whose driver fault loop
 * keeps failing its iterations for longer than this (scenario time) is a livelock; null: not checked. {@code order}:
 * the file's {@code order = [...]} (docs/SCENARIOS.md "Pinning every order"): each node takes its inputs from the
 * first step on in this order; empty: no order.
 */
public record Scenario(String file, String name, String caseId, String description, ModelSwitches switches,
    int gpuNodes, Duration stepTimeout, double timeScale, List<Process> processes, List<Device> devices, List<Vma> vmas,
    List<Step> steps, hmmemu.node.link.FaultSchedule faults, List<hmmemu.protocol.model.KernelProfile> profiles,
    boolean lanes, Duration livelockSpan, List<OrderEntry> order) {

  /** A scenario without an {@code order} block. */
  public Scenario(String file, String name, String caseId, String description, ModelSwitches switches,
      int gpuNodes, Duration stepTimeout, double timeScale, List<Process> processes, List<Device> devices,
      List<Vma> vmas, List<Step> steps, hmmemu.node.link.FaultSchedule faults,
      List<hmmemu.protocol.model.KernelProfile> profiles, boolean lanes, Duration livelockSpan) {
    this(file, name, caseId, description, switches, gpuNodes, stepTimeout, timeScale, processes, devices, vmas, steps,
        faults, profiles, lanes, livelockSpan, List.of());
  }

  /**
   * One input of a node in a file's {@code order}: a link message ({@code fromNode} 0 or a GPU node) or a step's
   * controller request ({@code fromNode} -1) to {@code toNode}, of type {@code message}, concerning scenario device
   * {@code deviceId} (-1: a request, counted per node and type); {@code sent}: its ordinal among the messages of that
   * type and device on its direction (requests: of that type to its node) since the first step, in sending order;
   * {@code delivered}: the same in the receiving node's delivery order. Not a kernel structure.
   */
  public record OrderEntry(int fromNode, int toNode, String from, String to, String message, int deviceId, int sent,
      int delivered, int line) {
    /** The entry as the file writes it: {@code "G>cpu MakeDeviceExclusive 2"} ({@code 2/3}: sent/delivered). */
    public String text() {
      return from + ">" + to + " " + message + " " + sent + (delivered == sent ? "" : "/" + delivered);
    }
  }

  /** A scenario without a {@code liveness} block (no busy-loop livelock check). */
  public Scenario(String file, String name, String caseId, String description, ModelSwitches switches,
      int gpuNodes, Duration stepTimeout, double timeScale, List<Process> processes, List<Device> devices,
      List<Vma> vmas, List<Step> steps, hmmemu.node.link.FaultSchedule faults,
      List<hmmemu.protocol.model.KernelProfile> profiles, boolean lanes) {
    this(file, name, caseId, description, switches, gpuNodes, stepTimeout, timeScale, processes, devices, vmas, steps,
        faults, profiles, lanes, null);
  }

  /** A scenario whose link has one lane per direction (no {@code link { lanes = per-thread }} block). */
  public Scenario(String file, String name, String caseId, String description, ModelSwitches switches,
      int gpuNodes, Duration stepTimeout, double timeScale, List<Process> processes, List<Device> devices,
      List<Vma> vmas, List<Step> steps, hmmemu.node.link.FaultSchedule faults,
      List<hmmemu.protocol.model.KernelProfile> profiles) {
    this(file, name, caseId, description, switches, gpuNodes, stepTimeout, timeScale, processes, devices, vmas, steps,
        faults, profiles, false);
  }

  /**
   * The same scenario under one of its kernel profiles (a file with {@code profile = [v6.15, v5.14]} runs once per
   * profile; its per-profile expectations apply to that run only).
   */
  public Scenario forProfile(hmmemu.protocol.model.KernelProfile p) {
    return new Scenario(file, name, caseId, description, switches.withKernelProfile(p), gpuNodes, stepTimeout,
        timeScale, processes, devices, vmas, steps, faults, List.of(p), lanes, livelockSpan, order);
  }

  /**
   * The same scenario with {@code mutants} active on top of the file's own switches (the mutation score,
   * docs/TESTING.md).
   */
  public Scenario withMutants(java.util.Collection<hmmemu.protocol.model.Mutant> mutants) {
    java.util.Set<hmmemu.protocol.model.Mutant> all = java.util.EnumSet.noneOf(hmmemu.protocol.model.Mutant.class);
    all.addAll(switches.mutants());
    all.addAll(mutants);
    return new Scenario(file, name, caseId, description, switches.withMutants(all), gpuNodes, stepTimeout, timeScale,
        processes, devices, vmas, steps, faults, profiles, lanes, livelockSpan, order);
  }

  /** The run's time scale (real µs per model µs): the file's {@code time-scale}, else {@code fallback}. */
  public double timeScaleOr(double fallback) { return timeScale > 0 ? timeScale : fallback; }

  /** A process: one mm on the CPU node. */
  public record Process(String name, int mm, int line) {}

  /** A device and its driver; its id is {@code node * 16 + index} (docs/ARCHITECTURE.md). */
  public record Device(String name, int node, int index, DriverFlavour driver, List<Integer> bind, int line) {
    public int id() { return Ids.deviceId(node, index); }
  }

  /** How a VMA is populated when the scenario starts: nothing, zeroes, or hmm-tests' index fill, in some words. */
  public record Fill(boolean populate, Pattern pattern, int firstWord, int lastWord) {
    public static final Fill NONE = new Fill(false, null, 0, 0);
  }

  /** A VMA of process mm, mmapped when the scenario starts unless {@code mapped} is false. */
  /**
   * A VMA of the set-up; {@code thpOrder} > 0: madvise(MADV_HUGEPAGE) right after the mmap with that largest folio
   * order (9: PMD THP, 2..8: mTHP; docs/SCENARIOS.md "vmas", {@code thp}).
   */
  public record Vma(String name, int mm, long start, int pages, int prot, VmaKind kind, boolean mapped, Fill fill,
      int line, int thpOrder) {
    public Vma(String name, int mm, long start, int pages, int prot, VmaKind kind, boolean mapped, Fill fill, int line) {
      this(name, mm, start, pages, prot, kind, mapped, fill, line, 0);
    }

    public long end() { return start + (long) pages * Page.SIZE; }

    public String describe() {
      return String.format("%s [%#x, %#x) %s %s", name, start, end(), Prot.describe(prot), kind);
    }
  }

  /**
   * One step. {@code async} starts it without waiting; {@code await} steps wait for it later. {@code waitLimit} bounds
   * how long the runner waits for it before it reports a deadlock.
   */
  public record Step(int index, String id, int line, Action action, boolean async, Duration waitLimit,
      List<Expectation> expect) {
    public String label() {
      return "step " + index + (id == null ? "" : " '" + id + "'") + " (" + action.describe() + ", line " + line + ")";
    }
  }

  /** What a step does. */
  public sealed interface Action
      permits CpuOp, SyscallOp, KthreadOp, WarpOp, DmirrorOp, BindOp, PauseOp, AwaitPausedOp, ResumeOp, AwaitOp,
          CheckOp, CrashOp, RestartOp, AwaitGoneOp, AwaitRestartedOp, ConcurrentOp {
    String describe();

    /** True when the action produces an outcome (errno, value, counters) an expectation can test. */
    default boolean hasOutcome() { return false; }
  }

  /** The operations of a CPU thread. */
  public enum CpuOpKind { READ, WRITE, ATOMIC, INCREMENT, FILL }

  /**
   * A user thread's accesses, word by word over the range, in order (the thread stops at the first SIGSEGV).
   * INCREMENT is C's {@code ptr[i]++}: a load then a store of the old value + 1. ATOMIC is a fetch-and-add of
   * {@code value}. WRITE and FILL store {@code pattern}'s value.
   */
  public record CpuOp(String actor, int thread, CpuOpKind op, PageRange at, int mm, long value, Pattern pattern,
      int repeat, boolean spin, long forMicros) implements Action {
    /** Without {@code for}: the loop is bounded by {@code repeat} only. */
    public CpuOp(String actor, int thread, CpuOpKind op, PageRange at, int mm, long value, Pattern pattern, int repeat,
        boolean spin) {
      this(actor, thread, op, at, mm, value, pattern, repeat, spin, 0);
    }

    /**
     * Whether the loop runs on the CPU node as one HmmProtocol.CpuThreadRun (a spinning user thread loops on its
     * CPU and asks nobody between two accesses): a spinning read, write, fill or atomic (one word, one value). An
     * increment's store depends on its load, so it stays one controller request per access.
     */
    public boolean onNode() { return spin && op != CpuOpKind.INCREMENT; }

    @Override
    public String describe() {
      return actor + " " + op.name().toLowerCase() + " " + at.text() + (mm != at.vma().mm() ? " in mm " + mm : "")
          + (repeat > 1 ? " x" + repeat : "") + (forMicros > 0 ? " for " + forMicros + " model µs" : "")
          + (spin ? " (spinning)" : "");
    }

    @Override
    public boolean hasOutcome() { return true; }
  }

  /** A syscall on process {@code mm}, made by user thread {@code thread} (0: no particular thread). */
  public record SyscallOp(String actor, int mm, HmmProtocol.SyscallKind kind, PageRange at, Vma vma, int prot,
      int childMm, int thread) implements Action {
    /** A syscall made by no particular thread of the process. */
    public SyscallOp(String actor, int mm, HmmProtocol.SyscallKind kind, PageRange at, Vma vma, int prot, int childMm) {
      this(actor, mm, kind, at, vma, prot, childMm, 0);
    }

    /** The same syscall made by user thread {@code t}. */
    SyscallOp byThread(int t) { return new SyscallOp(actor, mm, kind, at, vma, prot, childMm, t); }

    @Override
    public String describe() {
      String what = kind.name().toLowerCase().replace('_', '-');
      if (at != null) what += " " + at.text();
      if (vma != null) what += " " + vma.name();
      if (kind == HmmProtocol.SyscallKind.MPROTECT) what += " " + Prot.describe(prot);
      if (kind == HmmProtocol.SyscallKind.FORK) what += " -> mm " + childMm;
      return actor + (thread != 0 ? " (T" + thread + ")" : "") + " " + what;
    }

    @Override
    public boolean hasOutcome() { return true; }
  }

  /**
   * A kernel thread {@code kthread} (kcompactd, khugepaged, reclaim's shrink_folio_list, ...) locks the folio mapped
   * at {@code at} in process {@code mm} (folio_lock(): it waits in the lock's queue while another holder has it),
   * holds it for {@code forMicros} of model time from the moment it has it, then folio_unlock()s it
   * (HmmProtocol.KthreadFolioLock / KthreadFolioUnlock). The step completes with the unlock.
   */
  public record KthreadOp(String kthread, PageRange at, int mm, long forMicros) implements Action {
    @Override
    public String describe() {
      return "kthread " + kthread + " lock-folio " + at.text() + (mm != at.vma().mm() ? " in mm " + mm : "")
          + " for " + forMicros + " model µs";
    }

    @Override
    public boolean hasOutcome() { return true; }
  }

  /**
   * One device (warp) access, a nouveau-style load, store or atomic fetch-and-add at one word, {@code repeat} times
   * one after the other (stopping at the first cancelled one).
   */
  public record WarpOp(Device device, Access access, PageRange at, int mm, long value, int repeat) implements Action {
    @Override
    public String describe() {
      return device.name() + " " + access.name().toLowerCase() + " " + at.text() + (repeat > 1 ? " x" + repeat : "");
    }

    @Override
    public boolean hasOutcome() { return true; }
  }

  /**
   * A dmirror ioctl of lib/test_hmm.c over the range; WRITE stores {@code data} (one word 0 per page); MIGRATE_TO_DEV
   * and MIGRATE_TO_SYS (steps {@code migrate-to-dev}, {@code migrate-to-sys}) migrate it to or from device memory.
   */
  public record DmirrorOp(Device device, HmmProtocol.DmirrorOp op, PageRange at, int mm, Pattern data)
      implements Action {
    @Override
    public String describe() {
      return device.name() + " " + op.name().toLowerCase().replace('_', '-') + " " + at.text();
    }

    @Override
    public boolean hasOutcome() { return true; }
  }

  /** Binds a device's driver to a process (dmirror: open the device file; nouveau: svmm + classic notifier). */
  public record BindOp(Device device, int mm) implements Action {
    @Override
    public String describe() { return device.name() + " bind mm " + mm; }
  }

  /**
   * A pause point: from the first message of type {@code message} (optionally only for {@code event}, a subscription
   * kind, or after {@code skip} earlier matches) sent on the direction fromNode -> toNode, that message and all later
   * ones on the direction are held until the matching resume.
   *
   * <p>With {@code from = controller} ({@link #controller}) it is a <b>controller hold</b> instead (docs/SCENARIOS.md
   * "Holding a controller request"): the controller's {@code skip}+1-th request of type {@code message} to node
   * {@code toNode} (to a device: of that device) is held, alone, until {@code until} (a link message: direction,
   * type, the {@code skip}+1-th delivered since this step) has been delivered to its node's core, or a resume; the
   * controller's other requests pass (they are not ordered among themselves on either host). A link pause point may
   * take an {@code until} too (then its direction opens once that message, or controller request, was delivered).
   *
   * @param deviceId the device whose messages match (-1: any on the direction)
   * @param until the message (a link message; with from = controller a controller request; with to = controller a
   *     step's reply) whose delivery releases the pause point or hold (null: released by resume only)
   */
  public record PauseOp(String pauseId, String from, String to, int fromNode, int toNode, String message,
      NotifyEvent event, NotifierKind kind, int deviceId, int skip, PauseOp until) implements Action {
    /** The {@code from} of a controller hold. */
    public static final String CONTROLLER = "controller";

    /** A pause point on a link direction. */
    public PauseOp(String pauseId, String from, String to, int fromNode, int toNode, String message,
        NotifyEvent event, NotifierKind kind, int deviceId, int skip) {
      this(pauseId, from, to, fromNode, toNode, message, event, kind, deviceId, skip, null);
    }

    /** A hold of one controller request (from = controller), not of a link direction. */
    public boolean controller() { return CONTROLLER.equals(from); }

    /** An {@code until} naming a reply to the controller (to = controller): the request completed. */
    public boolean reply() { return CONTROLLER.equals(to); }

    /** The message it matches, e.g. "the 2nd MakeDeviceExclusive from G to cpu". */
    public String matched() {
      return ordinal(skip + 1) + " " + message + (event == null ? "" : " " + event)
          + (kind == null ? "" : " " + kind.name().toLowerCase()) + " from " + from + " to " + to;
    }

    @Override
    public String describe() {
      if (controller()) {
        return "pause " + pauseId + ": hold the " + matched() + (until == null ? "" : " until the " + until.matched()
            + " was delivered");
      }
      return "pause " + pauseId + " at " + message + (event == null ? "" : " " + event)
          + (kind == null ? "" : " " + kind.name().toLowerCase()) + " from " + from + " to " + to
          + (until == null ? "" : " until the " + until.matched() + " was delivered");
    }

    /** 1 -> "1st", 2 -> "2nd", 11 -> "11th" (the n-th message a pause point names). */
    static String ordinal(int n) {
      String suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : switch (n % 10) {
        case 1 -> "st";
        case 2 -> "nd";
        case 3 -> "rd";
        default -> "th";
      };
      return n + suffix;
    }
  }

  /** Waits (bounded) until the pause point has caught its message. */
  public record AwaitPausedOp(String pauseId) implements Action {
    @Override
    public String describe() { return "await-paused " + pauseId; }
  }

  /** Delivers everything the pause point held, in order, and opens the direction again. */
  public record ResumeOp(String pauseId) implements Action {
    @Override
    public String describe() { return "resume " + pauseId; }
  }

  /**
   * A concurrent block (docs/SCENARIOS.md "Concurrent blocks"): its steps, each an async step with an id, are
   * started together with no fixed order; the host picks the start order and the interleaving (the embedded
   * cluster: whatever its threads do; the simulator: choices drawn from the run's seed). Awaited like async steps.
   */
  public record ConcurrentOp(List<Step> steps) implements Action {
    @Override
    public String describe() {
      List<String> ids = new java.util.ArrayList<>();
      for (Step s : steps) ids.add(s.id());
      return "concurrent " + String.join(", ", ids);
    }
  }

  /** Waits (bounded) for async steps; with one step, its outcome is this step's outcome. */
  public record AwaitOp(List<String> stepIds) implements Action {
    @Override
    public String describe() { return "await " + String.join(", ", stepIds); }

    @Override
    public boolean hasOutcome() { return stepIds.size() == 1; }
  }

  /**
   * Crashes scenario GPU node {@code node} (its current incarnation): its ActorSystem is terminated without leaving
   * the cluster (docs/FAULTS.md, "Node crash and downing"), and what its pause points held is dropped.
   */
  public record CrashOp(int node) implements Action {
    @Override
    public String describe() { return "crash gpu" + node; }
  }

  /**
   * Restarts crashed scenario GPU node {@code node} as a new cluster member (a new node index and device ids); the
   * scenario's names for the node and its devices then mean the new incarnation, whose drivers are bound again to
   * the processes they were bound to.
   */
  public record RestartOp(int node) implements Action {
    @Override
    public String describe() { return "restart gpu" + node; }
  }

  /** Waits (bounded) until the CPU node declared the {@code nth} crashed incarnation of the node gone (trace NodeGone). */
  public record AwaitGoneOp(int node, int nth) implements Action {
    @Override
    public String describe() { return "await-gone gpu" + node; }
  }

  /** Waits (bounded) until the {@code nth} restart of the node (a faults-block line or a step) completed. */
  public record AwaitRestartedOp(int node, int nth) implements Action {
    @Override
    public String describe() { return "await-restarted gpu" + node; }
  }

  /** True when the scenario crashes a GPU node (a crash step or a faults-block crash line). */
  public boolean crashes() {
    for (Step s : steps) if (s.action() instanceof CrashOp) return true;
    for (hmmemu.node.link.FaultSchedule.Entry e : faults.entries()) {
      if (e.action() instanceof hmmemu.node.link.FaultSchedule.Crash) return true;
    }
    return false;
  }

  /** A step that only checks expectations. */
  public record CheckOp() implements Action {
    @Override
    public String describe() { return "check"; }
  }
}
