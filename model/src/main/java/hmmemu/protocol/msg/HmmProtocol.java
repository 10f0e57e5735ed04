package hmmemu.protocol.msg;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.NotifierKind;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.model.VmaKind;
import java.util.List;

/**
 * The messages CPU nodes, GPU nodes and the controller exchange. Each record has a protobuf twin in
 * protocol/src/main/protobuf (same TitleCase name) and a codec in hmmemu.protocol.wire; only the twins
 * cross the wire. Requests carry a reqId that their reply repeats.
 *
 * <p>Addresses: {@code mmId} names a process address space on the CPU node; {@code va} is a byte address;
 * {@code pfn} names a physical page (one order-0 folio; pfns are never reused, so a stale pfn is detectable).
 * {@code deviceId} names one emulated device (with its driver); {@code subId} one notifier subscription.
 * {@code owner} is the notifier owner cookie; 0 models NULL.
 */
public final class HmmProtocol {
  private HmmProtocol() {}

  /** Every message of the contract. */
  public sealed interface Msg
      permits NotifierInsert, NotifierRemove, MakeDeviceExclusive, MakeDeviceExclusiveRange, FolioUnlockPut,
          HmmRangeFault, DeviceMemoryAccess, InvalidateAck, NotifierInserted, NotifierRemoved, InvalidateStart,
          InvalidateEnd, MakeDeviceExclusiveReply, MakeDeviceExclusiveRangeReply, HmmRangeFaultReply, DeviceMemoryAccessReply, CpuAccess, CpuAccessDone,
          CpuThreadRun, CpuThreadDone,
          Syscall, SyscallDone, InspectPage, PageInfo, InspectNotifier, NotifierInfo, InspectFolio, KthreadFolioLock,
          KthreadFolioUnlock, KthreadFolioDone, DeviceAccess, DeviceAccessDone, WarpRun, WarpDone, BindMm, MmBound,
          DmirrorCmd, DmirrorReply, InspectDevice, DeviceInfo, ResetNode, ResetDone, MigrateVmaSetup, MigrateVmaPages,
          MigrateVmaFinalize, MigrateVmaReply, MigrateToRam, MigrateToRamDone, UnlockFence, UnlockFenceReply {}

  // ---------------------------------------------------------------- direction and kind families
  //
  // Every record implements Msg and exactly one direction family (who sends it to whom); records that a reqId
  // pairs implement Request or Reply as well. The families do not extend Msg: Msg permits the records themselves
  // (the wire codec and its tests enumerate Msg.getPermittedSubclasses() as the list of records), so a family
  // value is a Msg by construction, not by type. HmmProtocolFamiliesTest checks the partition and that it agrees
  // with the routing predicates of the node shells and the scenario parser.
  //
  // "Host" is the CPU node (the kernel's mm); "driver" is a device driver on a GPU node; "controller" is whatever
  // drives a run (ScenarioRunner, ControlClient, the workloads).

  /**
   * Driver (GPU node) -> CPU node: the driver's calls into the host kernel (mmu_interval_notifier_insert/remove,
   * make_device_exclusive, folio_unlock + folio_put, hmm_range_fault), its device's accesses to host memory, and
   * its answers to invalidate callbacks. The link stage carries them host-bound.
   */
  public sealed interface DriverToHost
      permits NotifierInsert, NotifierRemove, MakeDeviceExclusive, MakeDeviceExclusiveRange, FolioUnlockPut,
          HmmRangeFault, DeviceMemoryAccess, InvalidateAck, MigrateVmaSetup, MigrateVmaPages, MigrateVmaFinalize, MigrateToRamDone,
          UnlockFence {}

  /**
   * CPU node -> driver (GPU node): the returns of the driver's host calls and the mmu notifier callbacks
   * (invalidate start/end of a subscription). The link stage carries them device-bound.
   */
  public sealed interface HostToDriver
      permits NotifierInserted, NotifierRemoved, InvalidateStart, InvalidateEnd, MakeDeviceExclusiveReply,
          MakeDeviceExclusiveRangeReply, HmmRangeFaultReply, DeviceMemoryAccessReply, MigrateVmaReply, MigrateToRam,
          UnlockFenceReply {}

  /** Controller -> CPU node: user-thread accesses, syscalls and page introspection. */
  public sealed interface ControllerToCpu
      permits CpuAccess, CpuThreadRun, Syscall, InspectPage, InspectNotifier, InspectFolio, KthreadFolioLock,
          KthreadFolioUnlock {}

  /** CPU node -> controller: the answers to {@link ControllerToCpu}. */
  public sealed interface CpuToController permits CpuAccessDone, CpuThreadDone, SyscallDone, PageInfo, NotifierInfo, KthreadFolioDone {}

  /** Controller -> GPU node: device accesses, driver binding, dmirror ioctls and device introspection. */
  public sealed interface ControllerToGpu permits DeviceAccess, WarpRun, BindMm, DmirrorCmd, InspectDevice {}

  /** GPU node -> controller: the answers to {@link ControllerToGpu}. */
  public sealed interface GpuToController permits DeviceAccessDone, WarpDone, MmBound, DmirrorReply, DeviceInfo {}

  /** Controller -> any node (CPU or GPU). */
  public sealed interface ControllerToNode permits ResetNode {}

  /** Any node -> controller: the answers to {@link ControllerToNode}. */
  public sealed interface NodeToController permits ResetDone {}

  /**
   * A message that carries a reqId: a {@link Request}, its {@link Reply}, or FolioUnlockPut (which names the
   * make_device_exclusive call whose folio it releases and is not answered by reqId).
   */
  public sealed interface HasReqId permits Request, Reply, FolioUnlockPut {
    /** The request's id, repeated by its reply; who generated it is encoded in it (see {@link Ids}). */
    long reqId();
  }

  /**
   * A call answered by exactly one {@link Reply} with the same reqId. The notifier conversations are not
   * Requests: NotifierInsert/NotifierRemove are answered by subId, InvalidateStart by (invId, subId); nor is the
   * CPU node's call into a driver, MigrateToRam, answered by its faultId.
   */
  public sealed interface Request extends HasReqId
      permits MakeDeviceExclusive, MakeDeviceExclusiveRange, HmmRangeFault, DeviceMemoryAccess, CpuAccess, CpuThreadRun, Syscall, InspectPage, DeviceAccess, WarpRun,
          BindMm, InspectNotifier, InspectFolio, DmirrorCmd, InspectDevice, ResetNode, MigrateVmaSetup, MigrateVmaPages,
          MigrateVmaFinalize, KthreadFolioLock, KthreadFolioUnlock, UnlockFence {}

  /** The answer to the {@link Request} with the same reqId. */
  public sealed interface Reply extends HasReqId
      permits MakeDeviceExclusiveReply, MakeDeviceExclusiveRangeReply, HmmRangeFaultReply, DeviceMemoryAccessReply, CpuAccessDone, CpuThreadDone, SyscallDone,
          PageInfo, NotifierInfo, DeviceAccessDone, WarpDone, MmBound, DmirrorReply, DeviceInfo, ResetDone, MigrateVmaReply,
          KthreadFolioDone, UnlockFenceReply {}

  // ---------------------------------------------------------------- driver (GPU node) -> CPU node: DriverToHost

  /** Models mmu_interval_notifier_insert() (INTERVAL) or mmu_notifier_register() (CLASSIC); answered by NotifierInserted. */
  public record NotifierInsert(long subId, int deviceId, int mmId, NotifierKind kind, long start, long end)
      implements Msg, DriverToHost {}

  /**
   * Models mmu_interval_notifier_remove() (mm/mmu_notifier.c); answered by NotifierRemoved. While an interval
   * invalidation of the mm runs, the subscription stays in the tree (its callbacks still run) and the caller waits
   * until that invalidation period ends.
   */
  public record NotifierRemove(long subId) implements Msg, DriverToHost {}

  /** Models make_device_exclusive(mm, addr, owner) (mm/rmap.c); answered by MakeDeviceExclusiveReply. */
  public record MakeDeviceExclusive(long reqId, int deviceId, int mmId, long va, long owner)
      implements Msg, DriverToHost, Request {}

  /**
   * Models make_device_exclusive_range(mm, start, end, pages, owner) (5.14 mm/rmap.c), which 5.14-6.14
   * dmirror_exclusive() calls once per chunk of up to 64 pages (docs/PROTOCOL.md §3.2); answered by
   * MakeDeviceExclusiveRangeReply. The range is {@code pageReqIds.size()} pages from {@code start};
   * {@code pageReqIds[i]} names the folio lock and reference page i is returned with when it is converted: the reqId
   * of that page's ExclusiveReturned trace and of the caller's FolioUnlockPut for it.
   */
  public record MakeDeviceExclusiveRange(long reqId, int deviceId, int mmId, long start, long owner,
      List<Long> pageReqIds) implements Msg, DriverToHost, Request {}

  /**
   * Models the caller's folio_unlock() + folio_put() after a successful make_device_exclusive; reqId is that call's
   * (for a page a MakeDeviceExclusiveRange converted: the page's pageReqIds entry).
   * {@code thenRemoveSubId} (0 = none) is the caller's next host call, made without waiting in between:
   * mmu_interval_notifier_remove() of that subscription, answered by NotifierRemoved (nouveau_atomic_range_fault's
   * exit path). It travels in the same message so that a thread the unlock woke runs after it, as in the kernel.
   */
  public record FolioUnlockPut(long reqId, int deviceId, long pfn, long thenRemoveSubId)
      implements Msg, DriverToHost, HasReqId {
    /** folio_unlock() + folio_put() alone. */
    public FolioUnlockPut(long reqId, int deviceId, long pfn) { this(reqId, deviceId, pfn, 0); }
  }

  /**
   * Models hmm_range_fault() (mm/hmm.c). {@code reqFlags[i]}: bit 0 REQ_FAULT, bit 1 REQ_WRITE.
   * {@code subId}/{@code seq} are the caller's interval subscription and the seq from read_begin: the walk
   * returns -EBUSY when that subscription was invalidated meanwhile (mmu_interval_check_retry).
   */
  public record HmmRangeFault(long reqId, int deviceId, long subId, long seq, int mmId, long start,
      List<Integer> reqFlags, long devPrivateOwner) implements Msg, DriverToHost, Request {
    /**
     * A call whose range.dev_private_owner is NULL (0): every device-private page is faulted back to system memory
     * (hmm_vma_handle_pte).
     */
    public HmmRangeFault(long reqId, int deviceId, long subId, long seq, int mmId, long start, List<Integer> reqFlags) {
      this(reqId, deviceId, subId, seq, mmId, start, reqFlags, 0);
    }
  }

  /**
   * Models migrate_vma_setup() (mm/migrate_device.c) over {@code npages} from {@code start}: collect (under an
   * MMU_NOTIFY_MIGRATE invalidation whose owner is {@code pgmapOwner}) the pages {@code flags} selects
   * (DevicePrivate.SELECT_SYSTEM, SELECT_DEVICE_PRIVATE of that owner), lock them, replace their PTEs by migration
   * entries, and keep those whose references allow migration (migrate_vma_check_page). {@code faultPfn} is
   * args->fault_page (the device-private page a CPU fault is migrating back, 0 for none): that call already holds
   * mmap_lock through the fault; any other call takes mmap_lock for read here and drops it at finalize. Answered by
   * MigrateVmaReply with {@code migrateId} naming the migration for the two later calls.
   */
  public record MigrateVmaSetup(long reqId, int deviceId, int mmId, long start, int npages, int flags,
      long pgmapOwner, long faultPfn) implements Msg, DriverToHost, Request {}

  /**
   * Models migrate_vma_pages(): {@code dst[i]} is the driver's destination page (a DevicePrivate migrate word; a
   * device-private pfn, or 0 with MIGRATE_PFN_VALID for "a new system page", which the CPU node allocates as the
   * driver's alloc_page_vma() would). {@code contents} are the words the driver copied into system destination pages,
   * as triples (page index, word index, value) of the non-zero words. Answered by MigrateVmaReply with the src
   * words after the call (MIGRATE cleared where the page could not be migrated).
   */
  public record MigrateVmaPages(long reqId, int deviceId, long migrateId, List<Long> dst, List<Long> contents)
      implements Msg, DriverToHost, Request {}

  /**
   * Models migrate_vma_finalize(): remove_migration_ptes() onto the new page (or back onto the old one where the
   * migration failed), unlock and put the pages; drops the mmap_lock migrate_vma_setup took. Answered by
   * MigrateVmaReply.
   */
  public record MigrateVmaFinalize(long reqId, int deviceId, long migrateId) implements Msg, DriverToHost, Request {}

  /**
   * The answer to MigrateVmaSetup / MigrateVmaPages / MigrateVmaFinalize: {@code src} are migrate->src[] (one
   * DevicePrivate migrate word per page), {@code cpages} migrate->cpages, and for setup {@code contents} the words of
   * the collected system pages the driver copies (triples page index, word index, value of the non-zero words), and
   * {@code vmaWrite}, args->vma->vm_flags & VM_WRITE (dmirror_migrate_alloc_and_copy makes a hole's device page
   * writable only then); true in the answers to the later calls.
   */
  public record MigrateVmaReply(long reqId, Errno errno, long migrateId, List<Long> src, long cpages,
      List<Long> contents, boolean vmaWrite) implements Msg, HostToDriver, Reply {
    public MigrateVmaReply(long reqId, Errno errno, long migrateId, List<Long> src, long cpages, List<Long> contents) {
      this(reqId, errno, migrateId, src, cpages, contents, true);
    }
  }

  /**
   * Models pgmap->ops->migrate_to_ram(vmf) (dmirror_devmem_fault): do_swap_page on a device-private entry calls the
   * driver of the device that owns {@code pfn}, for the faulting thread {@code threadId} at (mmId, va), holding
   * mmap_lock and a reference on the page (and, since 6.15, its lock). Answered by MigrateToRamDone with the same
   * {@code faultId} (a CPU-node number, like InvalidateStart's invId).
   */
  public record MigrateToRam(long faultId, int deviceId, int mmId, long va, long pfn, int threadId)
      implements Msg, HostToDriver {}

  /** migrate_to_ram() returned: {@code errno} OK (0) or the vm_fault_t it failed with (SIGBUS as EFAULT). */
  public record MigrateToRamDone(long faultId, int deviceId, Errno errno) implements Msg, DriverToHost {}

  /**
   * Emulator-only: models that the caller's thread finished its unlocks before the ioctl returns (dmirror_exclusive()
   * runs in the caller's thread: folio_unlock + folio_put of each page, then return). Sent on the worker's lane
   * behind its FolioUnlockPuts; the CPU node answers UnlockFenceReply at once, so the ioctl replies to its caller
   * only after those unlocks took effect. No kernel state changes.
   */
  public record UnlockFence(long reqId, int deviceId) implements Msg, DriverToHost, Request {}

  /** A device's access to host memory by physical address (a PCIe read/write/atomic to system memory). */
  public record DeviceMemoryAccess(long reqId, int deviceId, long pfn, int wordIndex, Access access, long value)
      implements Msg, DriverToHost, Request {}

  /**
   * The driver's answer to InvalidateStart: ok=false models a non-blockable callback whose trylock failed.
   * {@code seqSet}: the callback called mmu_interval_set_seq(sub, cur_seq) (false when it returned early, e.g. the
   * owner filter of nouveau_svm_range_invalidate(), or failed): only then does mmu_interval_check_retry() see it.
   */
  public record InvalidateAck(long invId, long subId, boolean ok, boolean seqSet) implements Msg, DriverToHost {
    /** A callback that returned {@code ok} and, if ok, set the seq (every interval callback that does not filter). */
    public InvalidateAck(long invId, long subId, boolean ok) { this(invId, subId, ok, ok); }
  }

  // ---------------------------------------------------------------- CPU node -> driver: HostToDriver

  /**
   * Models the return of mmu_interval_notifier_insert() / mmu_notifier_register(). {@code seq} is the
   * subscription's initial invalidate_seq, {@code mmSeq} the mm's subscriptions->invalidate_seq at the insert.
   * Idle mm: seq = mmSeq - 1 (odd, never a live global seq). During an invalidation (__mmu_interval_notifier_insert
   * with active_invalidate_ranges != 0) seq = mmSeq, odd: mmu_interval_read_begin() sees is_invalidating and
   * sleeps until the period ends (InvalidateEnd to this subscription).
   */
  public record NotifierInserted(long subId, long seq, long mmSeq) implements Msg, HostToDriver {
    /** An insert on an idle mm: mmSeq = seq + 1. */
    public NotifierInserted(long subId, long seq) { this(subId, seq, seq + 1); }

    /** read_begin's is_invalidating: the subscription's seq is the mm's current (odd) seq. */
    public boolean invalidating() { return seq == mmSeq && (seq & 1) != 0; }
  }

  /** mmu_interval_notifier_remove() returned: the subscription is out of the tree and gets no more callbacks. */
  public record NotifierRemoved(long subId) implements Msg, HostToDriver {}

  /**
   * Models one invalidate callback of mn_itree_invalidate() / mn_hlist_invalidate_range_start() for one
   * subscription. The CPU node changes no PTE of [start,end) before every addressed subscription acked.
   * {@code curSeq} is the odd global seq the callback must store with mmu_interval_set_seq().
   */
  public record InvalidateStart(long invId, long subId, int mmId, long start, long end, NotifyEvent event,
      long owner, boolean blockable, long curSeq) implements Msg, HostToDriver {}

  /** Models mn_itree_inv_end(): the global seq became even again; read_begin waiters on subId may proceed. */
  public record InvalidateEnd(long subId, long seq) implements Msg, HostToDriver {}

  /** Reply to MakeDeviceExclusive: OK with the pfn (folio locked unless the ablation switch says otherwise, referenced) or an errno. */
  public record MakeDeviceExclusiveReply(long reqId, Errno errno, long pfn) implements Msg, HostToDriver, Reply {}

  /**
   * Reply to MakeDeviceExclusiveRange, make_device_exclusive_range()'s return value and pages[]: {@code npages} pages
   * were pinned by get_user_pages_remote() (fewer than asked when it stopped at a page; 0 with {@code errno} != OK
   * when it pinned none), and per page of the range ({@code pfns.size()} = the range's pages) the pfn of a converted
   * page, returned locked (unless the ablation switch says otherwise) and referenced, or 0 = NULL (not pinned,
   * trylock_page() failed, or page_make_device_exclusive() refused it).
   */
  public record MakeDeviceExclusiveRangeReply(long reqId, Errno errno, int npages, List<Long> pfns)
      implements Msg, HostToDriver, Reply {}

  /** Reply to HmmRangeFault: per page an HMM_PFN word (see HmmPfn) or an errno for the whole call. */
  public record HmmRangeFaultReply(long reqId, Errno errno, List<Long> hmmPfns) implements Msg, HostToDriver, Reply {}

  /** Reply to DeviceMemoryAccess: the old value of the word (reads return the value). */
  public record DeviceMemoryAccessReply(long reqId, long value) implements Msg, HostToDriver, Reply {}

  /** Emulator-only: the answer to UnlockFence; the driver's earlier messages on its lane were handled. */
  public record UnlockFenceReply(long reqId) implements Msg, HostToDriver, Reply {}

  // ---------------------------------------------------------------- CPU node: user threads and syscalls

  /**
   * A user thread's load/store/atomic at va (may fault); answered by CpuAccessDone. With {@code spin}, the thread
   * then stays in a tight loop on that word until its next CpuAccess: it touches (reads) the word again right after
   * any make_device_exclusive() converts the page, before the converting caller returns; a touch that faults restores
   * the PTE (remove_device_exclusive_entry) like any access. This is the limit of a CPU loop whose period is far
   * below one driver iteration (docs/SCENARIOS.md C08).
   */
  public record CpuAccess(long reqId, int threadId, int mmId, long va, Access access, long value, boolean spin)
      implements Msg, ControllerToCpu, Request {
    /** An access after which the thread does not spin. */
    public CpuAccess(long reqId, int threadId, int mmId, long va, Access access, long value) {
      this(reqId, threadId, mmId, va, access, value, false);
    }
  }

  /**
   * Result of a CpuAccess: OK or SIGSEGV; value is the old value; faults counts page faults taken;
   * {@code latencyMicros} is the model time from the request's arrival at the CPU node to this reply.
   */
  public record CpuAccessDone(long reqId, int threadId, Errno errno, long value, int faults, long latencyMicros)
      implements Msg, CpuToController, Reply {
    /** A reply without a measured duration (latencyMicros 0; the CPU core stamps it when it sends the reply). */
    public CpuAccessDone(long reqId, int threadId, Errno errno, long value, int faults) {
      this(reqId, threadId, errno, value, faults, 0);
    }

    /** The same reply with its duration. */
    public CpuAccessDone withLatency(long micros) {
      return new CpuAccessDone(reqId, threadId, errno, value, faults, micros);
    }
  }

  /**
   * A user thread's loop of accesses, run on the CPU node as a real thread runs on its CPU: the thread issues
   * {@code CpuAccess(va_i, access, value)} for each {@code vas[i]} in order, each when the previous one completed,
   * with no controller between two accesses (the controller starts the thread and hears when it is done). With
   * {@code spin} the thread stays in a tight loop on its word between accesses (as CpuAccess.spin), not after the
   * last. {@code thinkMicros}: the thread's work between two accesses (model µs): access i+1 is issued that long
   * after access i completed (0: at once). {@code rounds}: the thread goes over {@code vas} that many times (at least
   * 1); {@code forMicros} (> 0): instead of a count, it starts another round while less than that many model µs have
   * passed on the CPU node since its first access (a scenario's {@code for}); with {@code spin} too, the thread stays
   * on its words after its first round until that time is up (touching them after every conversion, as CpuAccess.spin)
   * and then makes its last round: the rounds in between hit present pages and change only the words, so they are not
   * simulated one by one. Answered by one CpuThreadDone when the last access completed or the first one failed.
   */
  public record CpuThreadRun(long reqId, int threadId, int mmId, List<Long> vas, Access access, long value,
      boolean spin, long thinkMicros, int rounds, long forMicros) implements Msg, ControllerToCpu, Request {
    public CpuThreadRun {
      vas = List.copyOf(vas);
      if (thinkMicros < 0) throw new IllegalArgumentException("thinkMicros < 0: " + thinkMicros);
      if (rounds < 1) throw new IllegalArgumentException("rounds < 1: " + rounds);
      if (forMicros < 0) throw new IllegalArgumentException("forMicros < 0: " + forMicros);
    }

    /** One round over {@code vas}, with a think time. */
    public CpuThreadRun(long reqId, int threadId, int mmId, List<Long> vas, Access access, long value, boolean spin,
        long thinkMicros) {
      this(reqId, threadId, mmId, vas, access, value, spin, thinkMicros, 1, 0);
    }

    /** A loop with no think time: each access issued as soon as the previous one completed. */
    public CpuThreadRun(long reqId, int threadId, int mmId, List<Long> vas, Access access, long value, boolean spin) {
      this(reqId, threadId, mmId, vas, access, value, spin, 0);
    }
  }

  /**
   * Result of a CpuThreadRun: OK, or the errno of the access that ended the loop; {@code ops} accesses completed
   * (OK), {@code faults} page faults they took; {@code latencyMicros[i]} is access i's model time from its issue on
   * the CPU node to its completion, for the accesses of the first round; {@code value} is the last access's value
   * (as CpuAccessDone.value) and {@code micros} the model time from the loop's first access to the end of its last
   * one (think times included).
   */
  public record CpuThreadDone(long reqId, int threadId, Errno errno, int ops, long faults, List<Long> latencyMicros,
      long value, long micros) implements Msg, CpuToController, Reply {
    public CpuThreadDone {
      latencyMicros = List.copyOf(latencyMicros);
    }

    /** A reply without the last value and the total (0). */
    public CpuThreadDone(long reqId, int threadId, Errno errno, int ops, long faults, List<Long> latencyMicros) {
      this(reqId, threadId, errno, ops, faults, latencyMicros, 0, 0);
    }
  }

  /**
   * The syscalls the model knows, and the kernel activities a scenario triggers like one (docs/PROTOCOL.md §3.8):
   * MADV_HUGEPAGE (VM_HUGEPAGE; {@code prot} carries the largest folio order enabled, 9 = PMD THP, 2..8 = mTHP),
   * MADV_PAGEOUT (reclaim: try_to_unmap), MIGRATE_PAGES (compaction/move_pages: try_to_migrate), OFFLINE_PAGES
   * (memory offline of the block behind the range), KSM_SCAN (one ksmd pass) and KHUGEPAGED_SCAN (one khugepaged
   * pass), each over start/length.
   */
  public enum SyscallKind { MMAP, MUNMAP, MPROTECT, MADV_DONTNEED, FORK, EXIT, SOFT_DIRTY_RESET, OOM_REAP,
    MADV_HUGEPAGE, MADV_PAGEOUT, MIGRATE_PAGES, OFFLINE_PAGES, KSM_SCAN, KHUGEPAGED_SCAN }

  /**
   * A syscall on mm {@code mmId} made by user thread {@code threadId} (0: no particular thread; the CPU core
   * names the thread in the mmap_lock it takes and in the faults it takes on the thread's behalf). MMAP uses start/length/prot/vmaKind; MUNMAP, MADV_DONTNEED and
   * SOFT_DIRTY_RESET use start/length; MPROTECT adds prot; FORK creates {@code childMmId}; EXIT and
   * OOM_REAP take the whole mm.
   */
  public record Syscall(long reqId, int mmId, SyscallKind kind, long start, long length, int prot,
      VmaKind vmaKind, int childMmId, int threadId) implements Msg, ControllerToCpu, Request {
    /** A syscall made by no particular thread of the process (threadId 0). */
    public Syscall(long reqId, int mmId, SyscallKind kind, long start, long length, int prot, VmaKind vmaKind,
        int childMmId) {
      this(reqId, mmId, kind, start, length, prot, vmaKind, childMmId, 0);
    }
  }

  /**
   * Result of a Syscall (fork failing with ENOMEM, for example); {@code latencyMicros} is the model time from the
   * request's arrival at the CPU node to this reply.
   */
  public record SyscallDone(long reqId, Errno errno, long value, long latencyMicros)
      implements Msg, CpuToController, Reply {
    /** A reply without a measured duration (latencyMicros 0; the CPU core stamps it when it sends the reply). */
    public SyscallDone(long reqId, Errno errno, long value) { this(reqId, errno, value, 0); }

    /** The same reply with its duration. */
    public SyscallDone withLatency(long micros) { return new SyscallDone(reqId, errno, value, micros); }
  }

  /** Introspection (no side effects): the PTE and folio behind (mmId, va). */
  public record InspectPage(long reqId, int mmId, long va) implements Msg, ControllerToCpu, Request {}

  /**
   * Introspection (no side effects) of the notifier subscriptions device {@code deviceId} holds on mm {@code mmId}
   * (struct mmu_interval_notifier / struct mmu_notifier), deferred ones included.
   */
  public record InspectNotifier(long reqId, int deviceId, int mmId) implements Msg, ControllerToCpu, Request {}

  /**
   * One subscription as InspectNotifier sees it: {@code seq} is interval_sub->invalidate_seq (INTERVAL only),
   * {@code live} whether it is in the interval tree (or the classic hlist), {@code deferredInsert} and
   * {@code deferredRemove} whether it sits on the mm's deferred_list waiting for mn_itree_inv_end().
   */
  public record NotifierState(long subId, NotifierKind kind, long start, long end, long seq, boolean live,
      boolean deferredInsert, boolean deferredRemove) {}

  /**
   * Answer to InspectNotifier: the mm's invalidate_seq ({@code mmSeq}, odd while an invalidation that hit an
   * interval subscription is active), active_invalidate_ranges, and the device's subscriptions by subId.
   */
  public record NotifierInfo(long reqId, long mmSeq, int activeRanges, List<NotifierState> subscriptions)
      implements Msg, CpuToController, Reply {}

  /**
   * Introspection (no side effects) of the folio at {@code pfn}, mapped or not (a driver's reference keeps an
   * unmapped folio alive); answered by a PageInfo with pte NONE, or zeroes when no folio has that pfn.
   */
  public record InspectFolio(long reqId, long pfn) implements Msg, ControllerToCpu, Request {}

  /**
   * A kernel thread named {@code kthread} (kcompactd, khugepaged, the reclaim path's shrink_folio_list, ...) takes a
   * reference on the folio mapped at (mmId, va) and folio_lock()s it (mm/filemap.c __folio_lock: it waits in the
   * lock's queue while another holder has it). Answered by KthreadFolioDone once the thread holds the lock (errno
   * OK, pfn), or at once with EINVAL when the thread already holds a folio lock or EFAULT when no folio is mapped
   * there. The lock is held until {@link KthreadFolioUnlock}.
   */
  public record KthreadFolioLock(long reqId, String kthread, int mmId, long va)
      implements Msg, ControllerToCpu, Request {}

  /**
   * The kernel thread {@code kthread}'s folio_unlock() + folio_put() of the folio it locked (folio_unlock wakes the
   * waiters); answered by KthreadFolioDone (EINVAL when the thread holds no folio lock).
   */
  public record KthreadFolioUnlock(long reqId, String kthread) implements Msg, ControllerToCpu, Request {}

  /** Answer to KthreadFolioLock / KthreadFolioUnlock: OK with the folio's pfn, or an errno (pfn 0). */
  public record KthreadFolioDone(long reqId, Errno errno, long pfn) implements Msg, CpuToController, Reply {}

  /**
   * Answer to InspectPage and InspectFolio; folio fields are zero/false when no folio backs the PTE. {@code words}:
   * the page's 512 words (none without a folio), a {@link PageWords} as the CPU node and the wire codec build it.
   */
  public record PageInfo(long reqId, PteState pte, long pfn, boolean write, boolean dirty, boolean young,
      boolean folioLocked, int refcount, int mapcount, boolean folioDirty, boolean anonExclusive, long word0,
      List<Long> words) implements Msg, CpuToController, Reply {}

  // ---------------------------------------------------------------- GPU node: device, driver, workload

  /** One access by a device thread (warp) at va; answered when it completes or its fault is cancelled. */
  public record DeviceAccess(long reqId, int deviceId, int mmId, long va, Access access, long value)
      implements Msg, ControllerToGpu, Request {}

  /** Result of a DeviceAccess: OK (value = old value) or CANCELLED; faultRounds counts faults taken; latency in model µs. */
  public record DeviceAccessDone(long reqId, int deviceId, Errno errno, long value, int faultRounds,
      long latencyMicros) implements Msg, GpuToController, Reply {}

  /**
   * A warp's loop of accesses, run on the GPU node as a real warp runs on its device: the warp issues
   * {@code DeviceAccess(va_i, access, value)} for each {@code vas[i]} in order, each as soon as the previous one
   * completed or was cancelled (nouveau_svm_fault_cancel_fault(): the warp goes on with its next access, as the
   * controller did with a cancelled DeviceAccess), with no controller between two accesses. Answered by one
   * WarpDone when the last access completed or was cancelled. An emulator-only host message, not a kernel interface.
   */
  public record WarpRun(long reqId, int deviceId, int warpId, int mmId, List<Long> vas, Access access, long value)
      implements Msg, ControllerToGpu, Request {
    public WarpRun {
      vas = List.copyOf(vas);
    }
  }

  /**
   * Result of a WarpRun, one entry per access in issue order: {@code errnos[i]} is access i's outcome (OK, CANCELLED
   * by the driver, ENODEV when the CPU node was gone), {@code latencyMicros[i]} its model time from its issue on the
   * device to its completion or cancel; {@code faultRounds} the faults the completed accesses took.
   */
  public record WarpDone(long reqId, int deviceId, int warpId, List<Errno> errnos, List<Long> latencyMicros,
      long faultRounds) implements Msg, GpuToController, Reply {
    public WarpDone {
      errnos = List.copyOf(errnos);
      latencyMicros = List.copyOf(latencyMicros);
      if (errnos.size() != latencyMicros.size()) {
        throw new IllegalArgumentException("one latency per access: " + errnos.size() + " != " + latencyMicros.size());
      }
    }

    /** Accesses that completed (OK). */
    public int completed() {
      int n = 0;
      for (Errno e : errnos) if (e == Errno.OK) n++;
      return n;
    }

    /** Accesses that did not complete (cancelled by the driver, or failed because the CPU node was gone). */
    public int cancelled() { return errnos.size() - completed(); }
  }

  /** Bind a device's driver to a process (nouveau: svmm + classic notifier; dmirror: open + interval notifier). */
  public record BindMm(long reqId, int deviceId, int mmId, DriverFlavour flavour)
      implements Msg, ControllerToGpu, Request {}

  /** The device's driver is bound and its notifiers are live; owner is its owner cookie. */
  public record MmBound(long reqId, int deviceId, long owner) implements Msg, GpuToController, Reply {}

  /** The dmirror ioctls of lib/test_hmm.c. */
  public enum DmirrorOp {
    READ, WRITE, EXCLUSIVE, CHECK_EXCLUSIVE, SNAPSHOT,
    /** HMM_DMIRROR_MIGRATE_TO_DEV: dmirror_migrate_to_device(), then the migrated data read back. */
    MIGRATE_TO_DEV,
    /** HMM_DMIRROR_MIGRATE_TO_SYS: dmirror_migrate_to_system(). */
    MIGRATE_TO_SYS
  }

  /** A dmirror ioctl over npages from start; WRITE carries one word per page in data. */
  public record DmirrorCmd(long reqId, int deviceId, int mmId, DmirrorOp op, long start, int npages,
      List<Long> data) implements Msg, ControllerToGpu, Request {}

  /**
   * Result of a DmirrorCmd with the ioctl's counters; data holds words read or snapshot flags per page;
   * latencyMicros is the model time from the command's arrival to this reply.
   */
  public record DmirrorReply(long reqId, Errno errno, long faults, long cpages, List<Long> data, long latencyMicros)
      implements Msg, GpuToController, Reply {
    /** A reply without a measured duration (latencyMicros 0). */
    public DmirrorReply(long reqId, Errno errno, long faults, long cpages, List<Long> data) {
      this(reqId, errno, faults, cpages, data, 0);
    }
  }

  /** Introspection of a device: its page-table entries and counters. */
  public record InspectDevice(long reqId, int deviceId) implements Msg, ControllerToGpu, Request {}

  /** One device page-table entry. */
  public record DeviceEntry(int mmId, long va, long pfn, boolean read, boolean write, boolean atomic) {}

  /**
   * Answer to InspectDevice. Counters: faults (device faults raised), driverIterations (loop iterations),
   * driverIterationsMax, driverTimeouts (-EBUSY cancels), cancels (all cancels), invalidations (callbacks received),
   * replays. deadlockSuspects: invalidate callbacks blocked on a driver mutex, each naming the holder and what it
   * waits for (GpuNode.deadlockSuspects() of this device; the C10 cycle).
   */
  public record DeviceInfo(long reqId, int deviceId, List<DeviceEntry> entries, long faults, long driverIterations,
      long driverIterationsMax, long driverTimeouts, long cancels, long invalidations, long replays,
      long faultsHandled, List<String> deadlockSuspects) implements Msg, GpuToController, Reply {}

  // ---------------------------------------------------------------- control

  /** Drop all state and start a new run with these switches; nodeIndex numbers the node in vector clocks. */
  public record ResetNode(long reqId, String runName, ModelSwitches switches)
      implements Msg, ControllerToNode, Request {}

  /** The node was reset; {@code traceEvents} is how many trace events it had emitted before (for flushing). */
  public record ResetDone(long reqId, int nodeIndex) implements Msg, NodeToController, Reply {}
}
