package hmmemu.cpu.core;



/** Models mmap_lock (mmap_read_lock/mmap_read_trylock/mmap_write_lock and the unlocks): a fair rw-semaphore per mm. */
final class MmapLock {
  private final Kernel k;

  MmapLock(Kernel k) { this.k = k; }

  /** mmap_read_lock(): runs cont now, or once the lock is granted. */
  void readLock(Mm mm, Runnable cont) {
    if (!mm.mmapWriter && mm.mmapWaiters.isEmpty()) {
      mm.mmapReaders++;
      cont.run();
    } else {
      mm.mmapWaiters.add(new Mm.LockWaiter(false, cont));
    }
  }

  /** mmap_read_trylock(). */
  boolean readTrylock(Mm mm) {
    if (mm.mmapWriter || !mm.mmapWaiters.isEmpty()) return false;
    mm.mmapReaders++;
    return true;
  }

  /** mmap_write_lock(): runs cont now, or once the lock is granted. */
  void writeLock(Mm mm, Runnable cont) {
    if (!mm.mmapWriter && mm.mmapReaders == 0 && mm.mmapWaiters.isEmpty()) {
      mm.mmapWriter = true;
      cont.run();
    } else {
      mm.mmapWaiters.add(new Mm.LockWaiter(true, cont));
    }
  }

  /** mmap_read_unlock(). */
  void readUnlock(Mm mm) {
    if (mm.mmapReaders <= 0) throw new IllegalStateException("mmap_lock: read unlock without a reader (mm " + mm.id + ")");
    mm.mmapReaders--;
    grantMmapLock(mm);
  }

  /** mmap_write_unlock(). */
  void writeUnlock(Mm mm) {
    if (!mm.mmapWriter) throw new IllegalStateException("mmap_lock: write unlock without the writer (mm " + mm.id + ")");
    mm.mmapWriter = false;
    grantMmapLock(mm);
  }

  /** rwsem_wake(): grants the lock to the waiters at the head of the queue, in order. */
  private void grantMmapLock(Mm mm) {
    while (!mm.mmapWaiters.isEmpty()) {
      Mm.LockWaiter w = mm.mmapWaiters.peek();
      if (w.write()) {
        if (mm.mmapReaders == 0 && !mm.mmapWriter) {
          mm.mmapWaiters.poll();
          mm.mmapWriter = true;
          k.runQueue.add(w.continuation());
        }
        return;
      }
      if (mm.mmapWriter) return;
      mm.mmapWaiters.poll();
      mm.mmapReaders++;
      k.runQueue.add(w.continuation());
    }
  }
}
