package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.MM;
import static hmmemu.cpu.core.Harness.OWNER0;
import static hmmemu.cpu.core.Harness.S0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import org.junit.jupiter.api.Test;

/**
 * A kernel thread's folio lock (KthreadFolioLock / KthreadFolioUnlock): folio_lock() waits behind a held lock,
 * folio_unlock() wakes what waits on it (6.15 make_device_exclusive's folio_lock_killable, a CPU fault's
 * folio_lock_or_retry), and 5.14's trylock_page skips the page; CpuAccessDone and SyscallDone carry the model time
 * from the request's arrival to the reply.
 */
class KthreadFolioLockTest {

  private static long lockSend(Harness h, String kthread, long va) {
    long id = h.req();
    h.step(-1, new HmmProtocol.KthreadFolioLock(id, kthread, MM, va));
    return id;
  }

  private static HmmProtocol.KthreadFolioDone done(Harness h, long id) {
    return h.reply(HmmProtocol.KthreadFolioDone.class, x -> x.reqId() == id);
  }

  private static HmmProtocol.KthreadFolioDone unlock(Harness h, String kthread) {
    long id = h.req();
    h.step(-1, new HmmProtocol.KthreadFolioUnlock(id, kthread));
    return done(h, id);
  }

  private static Harness written(ModelSwitches s) {
    Harness h = new Harness(s);
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 7);
    return h;
  }

  @Test
  void lockTakesAReferenceAndUnlockDropsIt() {
    Harness h = written(ModelSwitches.kernel());
    long pfn = h.pte(B).pfn();
    HmmProtocol.KthreadFolioDone d = done(h, lockSend(h, "kcompactd0", B));
    assertEquals(new HmmProtocol.KthreadFolioDone(d.reqId(), Errno.OK, pfn), d);
    assertTrue(h.folio(pfn).locked());
    assertEquals(2, h.folio(pfn).refcount());
    assertEquals(pfn, h.cpu.kthreadHolds("kcompactd0"));
    assertEquals(Errno.OK, unlock(h, "kcompactd0").errno());
    assertFalse(h.folio(pfn).locked());
    assertEquals(1, h.folio(pfn).refcount());
    assertEquals(-1, h.cpu.kthreadHolds("kcompactd0"));
    assertEquals(Errno.EINVAL, unlock(h, "kcompactd0").errno(), "a thread that holds no folio lock");
  }

  @Test
  void noFolioMappedIsEfaultAndASecondLockByTheSameThreadIsEinval() {
    Harness h = written(ModelSwitches.kernel());
    assertEquals(Errno.EFAULT, done(h, lockSend(h, "khugepaged", B + Harness.P)).errno(), "outside every VMA");
    assertEquals(Errno.OK, done(h, lockSend(h, "khugepaged", B)).errno());
    assertEquals(Errno.EINVAL, done(h, lockSend(h, "khugepaged", B)).errno());
  }

  @Test
  void lockWaitsBehindAHeldLockUntilItsUnlock() {
    Harness h = written(ModelSwitches.kernel());
    long pfn = h.pte(B).pfn();
    assertEquals(Errno.OK, done(h, lockSend(h, "kcompactd0", B)).errno());
    long second = lockSend(h, "kswapd0", B);
    assertNull(done(h, second), "folio_lock sleeps while kcompactd0 holds the lock");
    assertEquals(1, h.folio(pfn).lockWaiters());
    unlock(h, "kcompactd0");
    assertEquals(Errno.OK, done(h, second).errno(), "woken by folio_unlock, it takes the lock");
    assertTrue(h.folio(pfn).locked());
    assertEquals(pfn, h.cpu.kthreadHolds("kswapd0"));
  }

  /** 6.15 make_device_exclusive(): folio_lock_killable() waits for the kthread's unlock, then converts. */
  @Test
  void makeDeviceExclusiveWaitsForTheKthreadsUnlockOn615() {
    Harness h = written(ModelSwitches.kernel());
    h.insertInterval(S0, D0);
    long pfn = h.pte(B).pfn();
    done(h, lockSend(h, "kcompactd0", B));
    long mde = h.mdeSend(D0, B, OWNER0);
    assertNull(h.mdeReply(mde), "make_device_exclusive waits in folio_lock_killable");
    assertEquals(PteState.PRESENT, h.pte(B).state());
    unlock(h, "kcompactd0");
    HmmProtocol.MakeDeviceExclusiveReply r = h.mdeReply(mde);
    assertNotNull(r, "the unlock woke make_device_exclusive");
    assertEquals(Errno.OK, r.errno());
    assertEquals(pfn, r.pfn());
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
  }

  /** 5.14 make_device_exclusive_range(): trylock_page() fails, the page is skipped (dmirror: -EBUSY). */
  @Test
  void makeDeviceExclusiveSkipsThePageOn514() {
    Harness h = written(ModelSwitches.kernel().withKernelProfile(KernelProfile.V5_14));
    h.insertInterval(S0, D0);
    long pfn = h.pte(B).pfn();
    done(h, lockSend(h, "kcompactd0", B));
    HmmProtocol.MakeDeviceExclusiveReply r = h.mde(D0, B, OWNER0);
    assertEquals(Errno.EBUSY, r.errno(), "the page is reported NULL at once");
    assertEquals(PteState.PRESENT, h.pte(B).state());
    assertEquals(2, h.folio(pfn).refcount(), "the page's mapping + the kthread's reference; GUP's was put");
    unlock(h, "kcompactd0");
    assertEquals(1, h.folio(pfn).refcount());
  }

  /**
   * A CPU access to a device-exclusive page whose folio a kthread holds: folio_lock_or_retry drops mmap_lock and
   * waits; after the unlock the access retries, takes the lock and restores the PTE. Its reply carries the model
   * time from its arrival.
   */
  @Test
  void cpuFaultOnDeviceExclusiveWaitsForTheKthreadsUnlock() {
    Harness h = written(ModelSwitches.kernel());
    h.insertInterval(S0, D0);
    h.exclusive(D0, B, OWNER0);
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    done(h, lockSend(h, "kcompactd0", B));
    long arrived = h.now();
    long read = h.cpuSend(MM, 1, B, Access.READ, 0);
    assertNull(h.cpuDone(read), "the fault waits for the folio lock");
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    h.advanceTo(arrived + 5000);
    unlock(h, "kcompactd0");
    HmmProtocol.CpuAccessDone d = h.cpuDone(read);
    assertNotNull(d, "the unlock woke the fault");
    assertEquals(Errno.OK, d.errno());
    assertEquals(7, d.value());
    assertEquals(2, d.faults(), "VM_FAULT_RETRY, then the restore");
    assertEquals(PteState.PRESENT, h.pte(B).state());
    // the restore's CLEAR callback is acked one step (1 µs) after the unlock: the reply comes with that ack
    assertEquals(5001, d.latencyMicros(), "from the access's arrival to the CLEAR ack after the unlock");
  }

  @Test
  void anUncontendedAccessAndASyscallTakeNoModelTime() {
    Harness h = written(ModelSwitches.kernel());
    assertEquals(0, h.cpu(B, Access.READ, 0).latencyMicros());
    assertEquals(0, h.syscall(HmmProtocol.SyscallKind.MADV_DONTNEED, B, Harness.P, 0, null, 0).latencyMicros());
  }
}
