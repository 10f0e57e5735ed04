package hmmemu.gpu.core.device;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.DeviceAccess;
import hmmemu.protocol.msg.HmmProtocol.DeviceAccessDone;
import hmmemu.protocol.msg.HmmProtocol.WarpDone;
import hmmemu.protocol.msg.HmmProtocol.WarpRun;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The warps running their loop of accesses on the device (WarpRun): a warp's instruction stream, not a kernel
 * function. A real warp issues its next atomic as soon as the previous one completed (or was cancelled by the
 * driver: nouveau_svm_fault_cancel_fault() ends that access, not the warp); it never waits for a host controller.
 * Here the next DeviceAccess of a loop becomes ready when the previous one completes, and the device issues it
 * before the step ends ({@link #poll}), in the same model instant. The controller only starts the loop and hears
 * its WarpDone.
 *
 * <p>The loop's accesses carry reqIds of their own ({@link #LOCAL_REQ_BASE} + n, negative: no controller's or
 * device's reqId is), which never leave the node: the fault buffer hands their DeviceAccessDone here
 * ({@link #onAccessDone}) instead of replying to a requester.
 */
public final class Warps {
  /** reqIds of the loops' own accesses: LOCAL_REQ_BASE + n (all negative, none is -1). */
  public static final long LOCAL_REQ_BASE = Long.MIN_VALUE;

  private final StepContext ctx;
  /** The running loops, by the reqId of their access in progress. */
  private final Map<Long, Loop> byAccess = new HashMap<>();
  /** Accesses whose previous one completed, to be issued before the step ends (in the order they became ready). */
  private final ArrayDeque<DeviceAccess> ready = new ArrayDeque<>();
  private long nextLocal;

  public Warps(StepContext ctx) { this.ctx = ctx; }

  /** One warp's loop in progress. */
  private static final class Loop {
    final WarpRun run;
    int next;
    long faultRounds;
    final List<Errno> errnos = new ArrayList<>();
    final List<Long> latencies = new ArrayList<>();

    Loop(WarpRun run) { this.run = run; }
  }

  /** The warp starts its loop: its first access is ready now (an empty loop is done at once). */
  public void onWarpRun(WarpRun m) {
    Loop l = new Loop(m);
    if (m.vas().isEmpty()) {
      ctx.reply(new WarpDone(m.reqId(), m.deviceId(), m.warpId(), List.of(), List.of(), 0));
      return;
    }
    makeReady(l);
  }

  private void makeReady(Loop l) {
    WarpRun m = l.run;
    int i = l.next++;
    long reqId = LOCAL_REQ_BASE + nextLocal++;
    byAccess.put(reqId, l);
    ready.add(new DeviceAccess(reqId, m.deviceId(), m.mmId(), m.vas().get(i), m.access(), m.value()));
  }

  /** The next access to issue (its previous one completed in this step), or null when none is ready. */
  public DeviceAccess poll() { return ready.poll(); }

  /**
   * True (and handled) when {@code d} ends an access of a loop: the loop's next access becomes ready (also after a
   * cancel, as the controller issued a warp's next access after a cancelled one), or the loop ends with its WarpDone.
   */
  public boolean onAccessDone(DeviceAccessDone d) {
    Loop l = byAccess.remove(d.reqId());
    if (l == null) return false;
    l.errnos.add(d.errno());
    l.latencies.add(d.latencyMicros());
    if (d.errno() == Errno.OK) l.faultRounds += d.faultRounds();
    if (l.next == l.run.vas().size()) {
      WarpRun m = l.run;
      ctx.reply(new WarpDone(m.reqId(), m.deviceId(), m.warpId(), l.errnos, l.latencies, l.faultRounds));
    } else {
      makeReady(l);
    }
    return true;
  }

  /** Loops running (an access in flight or ready). */
  public int running() { return byAccess.size(); }
}
