package hmmemu.gpu.core.driver;

import hmmemu.gpu.core.device.DevicePageTable;
import hmmemu.gpu.core.device.StepContext;
import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * Models one dmirror ioctl of lib/test_hmm.c (docs/PROTOCOL.md §4.6): READ (dmirror_read), WRITE (dmirror_write),
 * EXCLUSIVE (dmirror_exclusive: the V2025 page loop, or under the 5.14 profile the V2021 64-page chunks), CHECK_EXCLUSIVE (dmirror_check_atomic), SNAPSHOT
 * (dmirror_snapshot), MIGRATE_TO_DEV (dmirror_migrate_to_device) and MIGRATE_TO_SYS (dmirror_migrate_to_system).
 * A copy through an entry naming a device-private page of this device reads or writes device memory. Pages are copied through the device entries with DeviceMemoryAccess (word 0 of each page)
 * while the dmirror mutex is held, as dmirror_do_read/do_write copy under it.
 *
 * <p>On an error the reply carries the errno with zero counters and no data: the ioctl returns before copying
 * the command back to user space. dmirror_do_read's -ENOENT during EXCLUSIVE's read-back is reported as EFAULT,
 * because Errno has no ENOENT.
 */
final class DmirrorIoctl implements DriverMutex.Holder {
  /**
   * Transitions: COPYING (under the mutex, waiting for host accesses) -> FAULTING (dmirror_fault) -> COPYING ...;
   * CONVERTING (make_device_exclusive) -> MAPPING (mutex) -> CONVERTING | COPYING; SNAPSHOTTING; -> DONE, through
   * RETURNING (an UnlockFence in flight) when FolioUnlockPuts went out since the CPU node last answered.
   */
  enum State { WAITING_MUTEX, COPYING, FAULTING, CONVERTING, MAPPING, SNAPSHOTTING, MIGRATING, RETURNING, DONE }

  /** dmirror_fault() works in chunks of ARRAY_SIZE(pfns) = 64 pages. */
  static final int DMIRROR_CHUNK_PAGES = 64;

  private final Drivers drivers;
  private final StepContext ctx;
  private final Binding binding;
  private final HmmProtocol.DmirrorCmd cmd;
  private final long start;
  private final long end;
  private final long[] data;
  private State state = State.WAITING_MUTEX;
  private long faults;
  private long cpages;
  private int outstanding;
  /** A FolioUnlockPut went out and no answer of the CPU node to a later message of this ioctl came back yet. */
  private boolean unlocksUnfenced;

  /** Model time at which the command arrived (the ioctl's entry). */
  private final long arrivedAtMicros;

  DmirrorIoctl(Drivers drivers, Binding binding, HmmProtocol.DmirrorCmd cmd) {
    if (cmd.npages() < 0 || (cmd.start() & (Page.SIZE - 1)) != 0) {
      throw new IllegalStateException("dmirror ioctl range must be page aligned with npages >= 0: " + cmd);
    }
    if (cmd.op() == HmmProtocol.DmirrorOp.WRITE && (cmd.data() == null || cmd.data().size() != cmd.npages())) {
      throw new IllegalStateException("dmirror WRITE carries one word per page: " + cmd);
    }
    this.drivers = drivers;
    this.ctx = drivers.ctx;
    this.binding = binding;
    this.cmd = cmd;
    this.start = cmd.start();
    this.end = cmd.start() + ((long) cmd.npages() << Page.SHIFT);
    this.data = new long[cmd.npages()];
    this.arrivedAtMicros = ctx.nowMicros();
  }

  void start() {
    switch (cmd.op()) {
      case READ:
      case WRITE:
        copyPass(start);
        break;
      case EXCLUSIVE:
        if (ctx.switches().kernelProfile() == KernelProfile.V5_14 && !ctx.switches().dmirrorSeqCheck()) {
          convertChunkV2021(start);
        } else {
          convert(start);
        }
        break;
      case CHECK_EXCLUSIVE:
        checkExclusive();
        break;
      case SNAPSHOT:
        snapshotChunk(start);
        break;
      case MIGRATE_TO_DEV:
        migrateToDevice(start);
        break;
      case MIGRATE_TO_SYS:
        migrateToSystem(start);
        break;
      default:
        throw new IllegalStateException("unknown dmirror op " + cmd.op());
    }
  }

  private boolean writing() { return cmd.op() == HmmProtocol.DmirrorOp.WRITE; }

  private int index(long va) { return (int) ((va - start) >>> Page.SHIFT); }

  // ------------------------------------------------------------------------------------------- READ / WRITE

  /**
   * One round of dmirror_read/dmirror_write: under the mutex copy through the entries from {@code from} up to the
   * first unusable one (read accepts any entry, write needs the WRITE tag); on -ENOENT fault the rest, faults++.
   */
  private void copyPass(long from) {
    state = State.WAITING_MUTEX;
    binding.mutex.lock(this, () -> {
      state = State.COPYING;
      List<Long> usable = new ArrayList<>();
      long va = from;
      for (; va < end; va += Page.SIZE) {
        DevicePageTable.Entry e = drivers.pageTable.entry(binding.mmId, va);
        if (e == null || (writing() && !e.write())) break;
        usable.add(va);
      }
      long missing = va;
      copyThrough(usable, () -> {
        binding.mutex.unlock(this);
        if (missing >= end) {
          reply(Errno.OK);
          return;
        }
        dmirrorFault(missing, writing(), errno -> {
          if (errno != Errno.OK) {
            reply(errno);
          } else {
            faults++;
            copyPass(missing);
          }
        });
      });
    });
  }

  /** memcpy_from_page / memcpy_to_page of word 0 for each page, as device accesses; then {@code done}. */
  private void copyThrough(List<Long> pages, Runnable done) {
    if (pages.isEmpty()) {
      done.run();
      return;
    }
    outstanding = pages.size();
    for (long va : pages) {
      DevicePageTable.Entry e = drivers.pageTable.entry(binding.mmId, va);
      int i = index(va);
      Access access = writing() ? Access.WRITE : Access.READ;
      long value = writing() ? cmd.data().get(i) : 0L;
      if (drivers.deviceMemory.owns(e.pfn())) { // a device-private page: the copy stays in device memory
        if (writing()) drivers.deviceMemory.setWord(e.pfn(), 0, value);
        else data[i] = drivers.deviceMemory.word(e.pfn(), 0);
        cpages++;
        if (--outstanding == 0) done.run();
        continue;
      }
      drivers.issueHostAccess(binding.mmId, va, e.pfn(), 0, access, value, old -> {
        unlocksUnfenced = false; // answered behind the earlier unlocks (same lane, FIFO)
        if (!writing()) data[i] = old;
        cpages++;
        if (--outstanding == 0) done.run();
      });
    }
  }

  /** dmirror_fault(): hmm_range_fault over [from, end) in chunks of 64 pages. */
  private void dmirrorFault(long from, boolean write, Consumer<Errno> done) {
    state = State.FAULTING;
    if (from >= end) {
      done.accept(Errno.OK);
      return;
    }
    long chunkEnd = Math.min(from + ((long) DMIRROR_CHUNK_PAGES << Page.SHIFT), end);
    rangeFault(from, chunkEnd, write, ctx.nowMicros() + ctx.switches().driverDeadlineMicros(), errno -> {
      if (errno != Errno.OK) done.accept(errno); else dmirrorFault(chunkEnd, write, done);
    });
  }

  /** dmirror_range_fault(): the seq loop on dmirror's notifier, then dmirror_do_fault() under the mutex. */
  private void rangeFault(long from, long to, boolean write, long deadline, Consumer<Errno> done) {
    Subscription sub = binding.subscription;
    int n = (int) ((to - from) >>> Page.SHIFT);
    int flags = HmmPfn.REQ_FAULT | (write ? HmmPfn.REQ_WRITE : 0);
    var call = drivers.replies.hmmRangeFault(sub, from, Collections.nCopies(n, flags));
    new IntervalReadLoop<>(drivers.ids, ctx, drivers.notifiers, sub, binding.mutex, this, false, deadline, call,
        new IntervalReadLoop.Body<HmmProtocol.HmmRangeFaultReply>() {
          @Override
          public void replied(HmmProtocol.HmmRangeFaultReply reply) { checkWords(reply, n); }

          @Override
          public Errno update(HmmProtocol.HmmRangeFaultReply reply, long seq) {
            return doFault(from, reply.hmmPfns(), write, sub.subId, seq);
          }

          @Override
          public void ended(IntervalReadLoop.End how, Errno errno) { done.accept(errno); }
        }).start();
  }

  /** dmirror_do_fault(): untagged entry for a read-only pfn, WRITE tag for a writable one. */
  private Errno doFault(long from, List<Long> words, boolean write, long subId, long seq) {
    for (int i = 0; i < words.size(); i++) {
      long word = words.get(i);
      // WARN_ON(ERROR), WARN_ON(!VALID): a populating fault never returns those on success.
      if ((word & HmmPfn.ERROR) != 0 || (word & HmmPfn.VALID) == 0) return Errno.EFAULT;
      boolean writable = (word & HmmPfn.WRITE) != 0;
      if (!writable && write) return Errno.EFAULT; // WARN_ON(default_flags & HMM_PFN_WRITE)
      drivers.pageTable.install(binding.mmId, from + ((long) i << Page.SHIFT), HmmPfn.pfn(word), true, writable,
          false, subId, seq);
    }
    return Errno.OK;
  }

  private static void checkWords(HmmProtocol.HmmRangeFaultReply reply, int n) {
    if (reply.hmmPfns() == null || reply.hmmPfns().size() != n) {
      throw new IllegalStateException("hmm_range_fault answers one word per page: expected " + n + ", got "
          + (reply.hmmPfns() == null ? "none" : reply.hmmPfns().size()));
    }
  }

  // ------------------------------------------------------------------------------------------- EXCLUSIVE

  /**
   * dmirror_exclusive(), V2025: per page make_device_exclusive(owner NULL), store an ATOMIC entry under the mutex
   * WITHOUT read_begin/read_retry (unless dmirrorSeqCheck), folio_unlock+folio_put; then read the pages back.
   */
  private void convert(long va) {
    if (va >= end) {
      readBack();
      return;
    }
    boolean seqCheck = ctx.switches().dmirrorSeqCheck();
    long deadline = seqCheck ? ctx.nowMicros() + ctx.switches().driverDeadlineMicros() : Long.MAX_VALUE;
    Subscription sub = binding.subscription;
    long[] folio = new long[2]; // the reqId and pfn of the successful make_device_exclusive()
    var call = drivers.replies.makeDeviceExclusive(binding.mmId, va, binding.owner);
    new IntervalReadLoop<>(drivers.ids, ctx, drivers.notifiers, seqCheck ? sub : null, binding.mutex, this, false,
        deadline, call, new IntervalReadLoop.Body<HmmProtocol.MakeDeviceExclusiveReply>() {
          @Override
          public void round() { state = State.CONVERTING; }

          @Override
          public void replied(HmmProtocol.MakeDeviceExclusiveReply reply) {
            unlocksUnfenced = false; // answered behind the earlier unlocks (same lane, FIFO)
            folio[0] = reply.reqId();
            folio[1] = reply.pfn();
            state = State.MAPPING;
          }

          @Override
          public void retrying(HmmProtocol.MakeDeviceExclusiveReply reply) {
            unlockPut(reply.reqId(), reply.pfn());
          }

          @Override
          public Errno update(HmmProtocol.MakeDeviceExclusiveReply reply, long seq) {
            drivers.pageTable.install(binding.mmId, va, reply.pfn(), true, false, true, sub.subId, seq);
            return Errno.OK;
          }

          @Override
          public void ended(IntervalReadLoop.End how, Errno errno) {
            if (how == IntervalReadLoop.End.CALL_FAILED) unlocksUnfenced = false; // its reply came behind them
            if (how != IntervalReadLoop.End.UPDATED) {
              reply(errno);
              return;
            }
            unlockPut(folio[0], folio[1]);
            convert(va + Page.SIZE);
          }
        }).start();
  }

  /**
   * dmirror_exclusive(), V2021 (5.14 lib/test_hmm.c, until the make_device_exclusive rework): chunks of
   * ARRAY_SIZE(pages) = 64 pages, one make_device_exclusive_range() call each (MakeDeviceExclusiveRange): the CPU
   * node GUPs the whole chunk, then converts page by page, leaving pages[i] NULL for a page it could not convert
   * (trylock_page failed, a tail page, page_make_device_exclusive failed) and returning fewer pages when GUP
   * stopped. The converted pages stay locked and referenced while dmirror_atomic_map() stores an ATOMIC entry for
   * each under the mutex (only when GUP got the whole chunk: "iff all pages are marked", the 5.18 stable fix); then
   * unlock_page + put_page of each, and -EBUSY when fewer pages were mapped than the chunk holds: the pages converted
   * before and after a skipped one keep their DEVEXCL entry and device mapping.
   */
  private void convertChunkV2021(long from) {
    if (from >= end) {
      readBack();
      return;
    }
    long next = Math.min(end, from + ((long) DMIRROR_CHUNK_PAGES << Page.SHIFT));
    int n = (int) ((next - from) >>> Page.SHIFT);
    List<Long> pageReqIds = new ArrayList<>(n); // one folio lock + reference per converted page
    for (int i = 0; i < n; i++) pageReqIds.add(drivers.ids.newReqId());
    state = State.CONVERTING;
    drivers.replies.makeDeviceExclusiveRange(drivers.ids.newReqId(), binding.mmId, from, binding.owner,
        Collections.unmodifiableList(pageReqIds), reply -> {
          unlocksUnfenced = false; // answered behind the earlier unlocks (same lane, FIFO)
          if (reply.pfns() == null || reply.pfns().size() != n) {
            throw new IllegalStateException("make_device_exclusive_range answers pages[] of " + n + " pages, got "
                + (reply.pfns() == null ? "none" : reply.pfns().size()));
          }
          boolean gupFailed = reply.errno() != Errno.OK || reply.npages() < n;
          state = State.WAITING_MUTEX;
          binding.mutex.lock(this, () -> { // dmirror_atomic_map()
            state = State.MAPPING;
            int mapped = 0;
            if (!gupFailed) {
              for (int i = 0; i < n; i++) {
                if (reply.pfns().get(i) == 0) continue;
                drivers.pageTable.install(binding.mmId, from + ((long) i << Page.SHIFT), reply.pfns().get(i), true,
                    false, true, binding.subscription.subId, -1);
                mapped++;
              }
            }
            binding.mutex.unlock(this);
            for (int i = 0; i < n; i++) { // "for (i = 0; i < ret; i++) if (pages[i]) { unlock_page; put_page }"
              long pfn = reply.pfns().get(i);
              if (pfn != 0) unlockPut(pageReqIds.get(i), pfn);
            }
            if (mapped < n) reply(Errno.EBUSY);
            else convertChunkV2021(next);
          });
        });
  }

  /** "Return the migrated data for verification": dmirror_do_read over the whole range under the mutex. */
  private void readBack() {
    state = State.WAITING_MUTEX;
    binding.mutex.lock(this, () -> {
      state = State.COPYING;
      List<Long> pages = new ArrayList<>();
      for (long va = start; va < end; va += Page.SIZE) {
        if (drivers.pageTable.entry(binding.mmId, va) == null) {
          binding.mutex.unlock(this);
          reply(Errno.EFAULT); // -ENOENT: an entry was invalidated since it was stored
          return;
        }
        pages.add(va);
      }
      copyThrough(pages, () -> {
        binding.mutex.unlock(this);
        reply(Errno.OK);
      });
    });
  }

  // ------------------------------------------------------------------------------------------- MIGRATE

  /**
   * dmirror_migrate_to_device(): rounds of up to 64 pages (clamped by the CPU node to the VMA), then "return the
   * migrated data for verification": dmirror_do_read over the whole range (-ENOENT, here EFAULT, for a page that is
   * not in the device page table); cpages is what that read copied.
   */
  private void migrateToDevice(long from) {
    if (from >= end) {
      readBack();
      return;
    }
    state = State.MIGRATING;
    int n = (int) Math.min(DmirrorMigrate.CHUNK_PAGES, (end - from) >>> Page.SHIFT);
    drivers.migrate.toDevice(binding, this, from, n, r -> {
      if (r.errno() != Errno.OK || r.covered() == 0) {
        reply(r.errno() != Errno.OK ? r.errno() : Errno.EINVAL);
        return;
      }
      migrateToDevice(from + ((long) r.covered() << Page.SHIFT));
    });
  }

  /** dmirror_migrate_to_system(): rounds of up to 64 pages; cpages counts the pages successfully migrated. */
  private void migrateToSystem(long from) {
    if (from >= end) {
      reply(Errno.OK);
      return;
    }
    state = State.MIGRATING;
    int n = (int) Math.min(DmirrorMigrate.CHUNK_PAGES, (end - from) >>> Page.SHIFT);
    drivers.migrate.toSystem(binding, from, n, 0, r -> {
      if (r.errno() != Errno.OK || r.covered() == 0) {
        reply(r.errno() != Errno.OK ? r.errno() : Errno.EINVAL);
        return;
      }
      cpages += r.migrated();
      migrateToSystem(from + ((long) r.covered() << Page.SHIFT));
    });
  }

  // ------------------------------------------------------------------------------------------- CHECK_EXCLUSIVE

  /** dmirror_check_atomic(): -EPERM if any entry of [start, end) is ATOMIC (no lock taken, as upstream). */
  private void checkExclusive() {
    for (long va = start; va < end; va += Page.SIZE) {
      DevicePageTable.Entry e = drivers.pageTable.entry(binding.mmId, va);
      if (e != null && e.atomic()) {
        reply(Errno.EPERM);
        return;
      }
    }
    reply(Errno.OK);
  }

  // ------------------------------------------------------------------------------------------- SNAPSHOT

  /**
   * dmirror_snapshot(): per chunk of 64 pages a temporary interval notifier over the chunk and
   * dmirror_range_snapshot() (hmm_range_fault without fault flags, seq loop); cpages += pages of each chunk.
   */
  private void snapshotChunk(long from) {
    if (from >= end) {
      reply(Errno.OK);
      return;
    }
    state = State.SNAPSHOTTING;
    long to = Math.min(from + ((long) DMIRROR_CHUNK_PAGES << Page.SHIFT), end);
    long deadline = ctx.nowMicros() + ctx.switches().driverDeadlineMicros();
    int n = (int) ((to - from) >>> Page.SHIFT);
    Subscription[] window = new Subscription[1];
    window[0] = drivers.notifiers.insert(Subscription.Role.DMIRROR_SNAPSHOT, binding, from, to, () -> {
      var call = drivers.replies.hmmRangeFault(window[0], from, Collections.nCopies(n, 0));
      new IntervalReadLoop<>(drivers.ids, ctx, drivers.notifiers, window[0], binding.mutex, this, false, deadline,
          call, new IntervalReadLoop.Body<HmmProtocol.HmmRangeFaultReply>() {
            @Override
            public void replied(HmmProtocol.HmmRangeFaultReply reply) { checkWords(reply, n); }

            @Override
            public Errno update(HmmProtocol.HmmRangeFaultReply reply, long seq) {
              for (int i = 0; i < n; i++) data[index(from) + i] = reply.hmmPfns().get(i);
              return Errno.OK;
            }

            @Override
            public void ended(IntervalReadLoop.End how, Errno errno) {
              if (how != IntervalReadLoop.End.UPDATED) {
                drivers.notifiers.remove(window[0], () -> reply(errno));
                return;
              }
              cpages += n;
              drivers.notifiers.remove(window[0], () -> snapshotChunk(to));
            }
          }).start();
    });
  }

  // ------------------------------------------------------------------------------------------- reply

  boolean done() { return state == State.DONE; }

  /** The CPU node is gone: the ioctl fails with {@code errno} unless it already returned. */
  void abort(Errno errno) {
    if (state != State.DONE) replyNow(errno);
  }

  /** folio_unlock() + folio_put() of a page make_device_exclusive(_range) returned locked and referenced. */
  private void unlockPut(long reqId, long pfn) {
    unlocksUnfenced = true;
    ctx.toCpu(new HmmProtocol.FolioUnlockPut(reqId, drivers.ids.deviceId(), pfn));
  }

  /**
   * The ioctl returns. dmirror_exclusive() runs in the caller's thread, so its unlocks took effect before the return:
   * when FolioUnlockPuts went out unanswered, the reply waits for an UnlockFence behind them (emulator-only).
   */
  private void reply(Errno errno) {
    if (unlocksUnfenced) {
      unlocksUnfenced = false;
      state = State.RETURNING;
      drivers.replies.unlockFence(() -> {
        if (state == State.RETURNING) replyNow(errno); // else aborted meanwhile
      });
      return;
    }
    replyNow(errno);
  }

  private void replyNow(Errno errno) {
    state = State.DONE;
    if (errno != Errno.OK) {
      ctx.reply(new HmmProtocol.DmirrorReply(cmd.reqId(), errno, 0, 0, List.of(), ctx.nowMicros() - arrivedAtMicros));
      return;
    }
    List<Long> out = new ArrayList<>(data.length);
    if (cmd.op() != HmmProtocol.DmirrorOp.WRITE && cmd.op() != HmmProtocol.DmirrorOp.CHECK_EXCLUSIVE
        && cmd.op() != HmmProtocol.DmirrorOp.MIGRATE_TO_SYS) {
      for (long word : data) out.add(word);
    }
    ctx.reply(new HmmProtocol.DmirrorReply(cmd.reqId(), Errno.OK, faults, cpages, Collections.unmodifiableList(out),
        ctx.nowMicros() - arrivedAtMicros));
  }

  @Override
  public String describeHolder() {
    return String.format("dmirror %s [%#x,%#x) (req %d, device %d, mm %d) in %s", cmd.op(), start, end, cmd.reqId(),
        drivers.ids.deviceId(), binding.mmId, state);
  }

  @Override
  public String toString() { return describeHolder() + " data=" + Arrays.toString(data); }
}
