package hmmemu.gpu.core.driver;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Models a driver's user lock: nouveau's {@code svmm->mutex} or dmirror's {@code dmirror->mutex}
 * (docs/PROTOCOL.md §1.6). A sleeping lock in the kernel; here a waiter is a parked continuation that runs when the
 * lock is handed to it, in FIFO order.
 *
 * <p>Implementation note: a lock is held across steps only where the modelled code holds it across a wait
 * (dmirror's copy through the device, nouveau with driverLockAcrossConversion); every other critical section
 * takes and releases it inside one step.
 */
final class DriverMutex {
  /** Who holds or waits for the lock, described for deadlock reports. */
  interface Holder {
    String describeHolder();
  }

  private record Waiter(Holder who, Runnable continuation) {}

  private final String name;
  /** Transitions: null -> holder (lock/tryLock when free) -> next waiter or null (unlock). */
  private Holder holder;
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

  DriverMutex(String name) { this.name = name; }

  String name() { return name; }

  boolean isHeld() { return holder != null; }

  Holder holder() { return holder; }

  /** mutex_lock(): runs {@code continuation} now if the lock is free, else when it is handed over. */
  void lock(Holder who, Runnable continuation) {
    if (holder == null) {
      holder = who;
      continuation.run();
    } else {
      waiters.addLast(new Waiter(who, continuation));
    }
  }

  /** mutex_trylock(). */
  boolean tryLock(Holder who) {
    if (holder != null) return false;
    holder = who;
    return true;
  }

  /** mutex_unlock(): hands the lock to the first waiter, if any, and runs it. */
  void unlock(Holder who) {
    if (holder != who) {
      throw new IllegalStateException("I7 lock discipline: " + name + " unlocked by "
          + who.describeHolder() + " but held by " + (holder == null ? "nobody" : holder.describeHolder()));
    }
    holder = null;
    Waiter next = waiters.pollFirst();
    if (next != null) {
      holder = next.who();
      next.continuation().run();
    }
  }

  List<Holder> waiters() {
    List<Holder> out = new ArrayList<>();
    for (Waiter w : waiters) out.add(w.who());
    return out;
  }

  void clear() {
    holder = null;
    waiters.clear();
  }
}
