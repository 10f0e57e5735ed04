package hmmemu.cpu.core;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.CpuAccess;
import hmmemu.protocol.msg.HmmProtocol.CpuAccessDone;
import hmmemu.protocol.msg.HmmProtocol.CpuThreadDone;
import hmmemu.protocol.msg.HmmProtocol.CpuThreadRun;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * User threads running their loop of accesses on the host CPU (CpuThreadRun): a user-space loop, not a kernel
 * function. A real thread issues its next load/store/atomic as soon as the previous one retired; here the next
 * CpuAccess of the loop is carried out as soon as the previous one completed (in the same step when it did not
 * block; in the step that completes it when it faulted and waited), with no controller in between. The controller
 * only starts the loop and hears its CpuThreadDone. With a think time ({@code CpuThreadRun.thinkMicros}, the thread's
 * work between two atomics) the next access waits that long in model time: the core does not read a clock, so the
 * loop sleeps until its wake-up ({@link #nextWake}) and the host's timer steps the core ({@link CpuMm#tick}) then.
 *
 * <p>The loop's accesses carry reqIds from a range of their own ({@link #LOCAL_REQ_BASE} + n, negative: no
 * controller's or device's reqId is), which never leave the node: {@link Kernel#reply} hands their CpuAccessDone
 * here instead of to a requester.
 */
final class CpuThreads {
  /** reqIds of the loops' own accesses: LOCAL_REQ_BASE + n (all negative, none is -1, the spin touches' id). */
  static final long LOCAL_REQ_BASE = Long.MIN_VALUE;

  private final Kernel k;
  private final UserAccess access;
  /** The running loops, by the reqId of their access in progress. */
  private final Map<Long, Loop> byAccess = new HashMap<>();
  private long nextLocal;
  /** Loops thinking between two accesses, by wake-up time (then by the order they went to sleep). */
  private final PriorityQueue<Wake> sleeping =
      new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
  private long nextSleep;

  /** A loop thinking until model time {@code at}. */
  private record Wake(long at, long seq, Loop loop) {}

  CpuThreads(Kernel k, UserAccess access) {
    this.k = k;
    this.access = access;
  }

  /** One thread's loop in progress. */
  private static final class Loop {
    final CpuThreadRun run;
    int next;
    /** Whether the first round is in progress (its latencies are kept). */
    boolean firstRound = true;
    /** Rounds still to start after this one (CpuThreadRun.rounds; unused with forMicros). */
    int roundsLeft;
    /** Accesses completed OK, over every round. */
    int ops;
    long faults;
    /** The first round's latencies (CpuThreadDone.latencyMicros). */
    final List<Long> latencies = new ArrayList<>();
    long issuedAt;
    /** Model µs of the loop's first access (CpuThreadDone.micros is the time since). */
    long startedAt;
    /** With CpuThreadRun.forMicros: model µs of the first access + forMicros; no round starts at or after it. */
    long untilMicros;

    Loop(CpuThreadRun run) { this.run = run; }
  }

  /** The thread starts its loop: its first access now. */
  void onCpuThreadRun(CpuThreadRun m) {
    Loop l = new Loop(m);
    l.roundsLeft = m.rounds() - 1;
    l.startedAt = k.nowMicros;
    l.untilMicros = k.nowMicros + m.forMicros();
    if (m.vas().isEmpty()) {
      k.reply(new CpuThreadDone(m.reqId(), m.threadId(), Errno.OK, 0, 0, List.of()));
      return;
    }
    issue(l);
  }

  private void issue(Loop l) {
    CpuThreadRun m = l.run;
    int i = l.next++;
    long reqId = LOCAL_REQ_BASE + nextLocal++;
    // spinning between accesses, not after the last (of the last round: whether another follows is decided now)
    boolean spin = m.spin() && (i < m.vas().size() - 1 || moreRounds(l));
    byAccess.put(reqId, l);
    l.issuedAt = k.nowMicros;
    access.onCpuAccess(new CpuAccess(reqId, m.threadId(), m.mmId(), m.vas().get(i), m.access(), m.value(), spin));
  }

  /**
   * Whether the loop starts another round after this one: while less than {@code forMicros} model µs passed since
   * its first access (when set), else until {@code rounds} rounds ran (a user loop's own bound, read on its CPU).
   */
  private boolean moreRounds(Loop l) {
    return l.run.forMicros() > 0 ? k.nowMicros < l.untilMicros : l.roundsLeft > 0;
  }

  /** True (and handled) when {@code d} completes an access of a loop: the loop goes on, or ends with its reply. */
  boolean onAccessDone(CpuAccessDone d) {
    Loop l = byAccess.remove(d.reqId());
    if (l == null) return false;
    long latency = k.nowMicros - l.issuedAt;
    if (l.firstRound) l.latencies.add(latency);
    l.faults += d.faults();
    if (d.errno() != Errno.OK) {
      k.reply(new CpuThreadDone(l.run.reqId(), l.run.threadId(), d.errno(), l.ops, l.faults, l.latencies, d.value(),
          k.nowMicros - l.startedAt));
      return true;
    }
    l.ops++;
    if (l.next == l.run.vas().size()) {
      if (!moreRounds(l)) {
        k.reply(new CpuThreadDone(l.run.reqId(), l.run.threadId(), Errno.OK, l.ops, l.faults, l.latencies, d.value(),
            k.nowMicros - l.startedAt));
        return true;
      }
      l.firstRound = false;
      if (l.run.forMicros() == 0) l.roundsLeft--;
      l.next = 0;
      if (l.run.forMicros() > 0 && l.run.spin()) {
        // A spinning loop bounded in time stays on its word until its time is up (touching it right after every
        // conversion of its page, UserAccess.Spinner), then makes its last round: between conversions its accesses
        // hit a present page and change only the word, so they are not simulated one by one.
        sleeping.add(new Wake(l.untilMicros, nextSleep++, l));
        return true;
      }
    }
    if (l.run.thinkMicros() > 0) {
      sleeping.add(new Wake(k.nowMicros + l.run.thinkMicros(), nextSleep++, l)); // the thread's work, then its next
    } else {
      k.runQueue.add(() -> issue(l)); // after what completed this access has run (no recursion per access)
    }
    return true;
  }

  /** Loops whose think time is over issue their next access (the host's timer stepped the core at their wake-up). */
  void wake() {
    while (!sleeping.isEmpty() && sleeping.peek().at <= k.nowMicros) {
      Loop l = sleeping.poll().loop;
      k.runQueue.add(() -> issue(l));
    }
  }

  /** The model time at which the next thinking loop issues its next access, or Long.MAX_VALUE when none thinks. */
  long nextWake() { return sleeping.isEmpty() ? Long.MAX_VALUE : sleeping.peek().at; }

  /** Loops running (for the core's collection sizes): with an access in progress or thinking. */
  int running() { return byAccess.size() + sleeping.size(); }
}
