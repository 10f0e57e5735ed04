package hmmemu.gpu.core.driver;

import hmmemu.gpu.core.device.DeviceIds;
import hmmemu.gpu.core.device.StepContext;
import hmmemu.protocol.model.Errno;
import java.util.function.Consumer;

/**
 * Models the driver-side loop of Documentation/mm/hmm.rst ("again: range.notifier_seq =
 * mmu_interval_read_begin(); hmm_range_fault(); if (ret == -EBUSY) goto again; take_lock(driver->update); if
 * (mmu_interval_read_retry(ni, range.notifier_seq)) { release_lock(driver->update); goto again; } <update the
 * device page table>; release_lock(driver->update)"), bounded by a deadline (HMM_RANGE_DEFAULT_TIMEOUT), with
 * make_device_exclusive() or hmm_range_fault() as the call. It serves nouveau_atomic_range_fault(),
 * nouveau_range_fault(), dmirror_range_fault(), dmirror_range_snapshot() and dmirror_exclusive().
 *
 * <p>Variants: a loop without a subscription does neither read_begin nor read_retry (seq -1; dmirror_exclusive
 * upstream); {@code lockAcrossCall} takes the driver lock before the call and holds it through the reply
 * (nouveau with driverLockAcrossConversion, C10).
 *
 * @param <R> the typed reply of the call
 */
final class IntervalReadLoop<R> {
  /** The call between read_begin and the driver lock, with its typed reply. */
  interface Call<R> {
    /** Parks {@code onReply} until the reply to {@code reqId} arrives. */
    void expect(long reqId, Consumer<R> onReply);

    /** Sends the request with the seq read_begin returned. */
    void send(long reqId, long seq);

    Errno errno(R reply);

    /** hmm_range_fault's -EBUSY restarts the loop ("if (ret == -EBUSY) goto again"); other errors end it. */
    boolean busyRestarts();
  }

  /** How the loop ended. */
  enum End {
    /** The deadline passed at the top of the loop: -EBUSY. */
    TIMED_OUT,
    /** The call failed (any error but a restarting -EBUSY); its errno. */
    CALL_FAILED,
    /** read_retry passed and the device was updated under the lock; update's errno. */
    UPDATED
  }

  /** The driver's part of the loop. Every method runs in the step that reached it. */
  interface Body<R> {
    /** Top of every round, before the deadline check. */
    default void round() {}

    /** The call was sent while the driver lock is held (lockAcrossCall). */
    default void callingUnderLock(long reqId) {}

    /** The call succeeded; before taking the lock (validate or record the reply). */
    default void replied(R reply) {}

    /** Under the lock, before read_retry (brokenMapBeforeRetry programs the device here). */
    default void beforeRetryCheck(R reply, long seq) {}

    /** read_retry asked for another round; the lock is already released. */
    default void retrying(R reply) {}

    /** Under the lock after read_retry passed: update the device page table; the loop's result. */
    Errno update(R reply, long seq);

    /** The loop ended; the lock is released. */
    void ended(End how, Errno errno);
  }

  /** Where the loop waits; nouveau describes its fault by it. Null before the first read_begin; unchanged at the end. */
  enum Phase { READ_BEGIN, LOCKING_BEFORE_CALL, CALLING, LOCKING_FOR_CHECK }

  private final DeviceIds ids;
  private final StepContext ctx;
  private final Notifiers notifiers;
  /** The subscription whose seq guards the update; null: no read_begin / read_retry. */
  private final Subscription sub;
  private final DriverMutex mutex;
  private final DriverMutex.Holder holder;
  private final boolean lockAcrossCall;
  private final long deadlineMicros;
  private final Call<R> call;
  private final Body<R> body;

  private Phase phase;
  private long seq = -1;
  private long pendingReqId;
  private int iterations = 1;
  private boolean holdsLock;

  IntervalReadLoop(DeviceIds ids, StepContext ctx, Notifiers notifiers, Subscription sub, DriverMutex mutex,
      DriverMutex.Holder holder, boolean lockAcrossCall, long deadlineMicros, Call<R> call, Body<R> body) {
    this.ids = ids;
    this.ctx = ctx;
    this.notifiers = notifiers;
    this.sub = sub;
    this.mutex = mutex;
    this.holder = holder;
    this.lockAcrossCall = lockAcrossCall;
    this.deadlineMicros = deadlineMicros;
    this.call = call;
    this.body = body;
  }

  Phase phase() { return phase; }

  /** The reqId of the call last sent. */
  long pendingReqId() { return pendingReqId; }

  /** Rounds so far: 1 + restarts (read_retry or -EBUSY). */
  int iterations() { return iterations; }

  void start() { again(); }

  /** again: the deadline, then read_begin (sleeps while an invalidation of the subscription is in flight). */
  private void again() {
    body.round();
    if (ctx.nowMicros() > deadlineMicros) {
      end(End.TIMED_OUT, Errno.EBUSY);
      return;
    }
    phase = Phase.READ_BEGIN;
    if (sub == null) {
      afterReadBegin(-1);
    } else {
      notifiers.readBegin(sub, this::afterReadBegin);
    }
  }

  private void afterReadBegin(long s) {
    expect(Phase.READ_BEGIN);
    seq = s;
    if (lockAcrossCall) {
      phase = Phase.LOCKING_BEFORE_CALL;
      mutex.lock(holder, () -> {
        holdsLock = true;
        send();
      });
    } else {
      send();
    }
  }

  private void send() {
    phase = Phase.CALLING;
    pendingReqId = ids.newReqId();
    call.expect(pendingReqId, this::onReply);
    if (holdsLock) body.callingUnderLock(pendingReqId);
    call.send(pendingReqId, seq);
  }

  private void onReply(R reply) {
    expect(Phase.CALLING);
    Errno errno = call.errno(reply);
    if (errno == Errno.EBUSY && call.busyRestarts()) {
      releaseIfHeld();
      restart();
      return;
    }
    if (errno != Errno.OK) {
      releaseIfHeld();
      end(End.CALL_FAILED, errno);
      return;
    }
    body.replied(reply);
    if (holdsLock) {
      check(reply);
    } else {
      phase = Phase.LOCKING_FOR_CHECK;
      mutex.lock(holder, () -> {
        holdsLock = true;
        check(reply);
      });
    }
  }

  /** Under the driver lock: read_retry -> again, or update the device and release. */
  private void check(R reply) {
    phase = Phase.LOCKING_FOR_CHECK;
    body.beforeRetryCheck(reply, seq);
    if (sub != null && notifiers.readRetry(sub, seq)) {
      releaseIfHeld();
      body.retrying(reply);
      restart();
      return;
    }
    Errno result = body.update(reply, seq);
    releaseIfHeld();
    end(End.UPDATED, result);
  }

  private void restart() {
    iterations++;
    again();
  }

  private void releaseIfHeld() {
    if (holdsLock) {
      holdsLock = false;
      mutex.unlock(holder);
    }
  }

  private void end(End how, Errno errno) {
    body.ended(how, errno);
  }

  private void expect(Phase expected) {
    if (phase != expected) {
      throw new IllegalStateException("read_begin/read_retry loop order: expected " + expected + " but in " + phase
          + " (" + holder.describeHolder() + ")");
    }
  }
}
