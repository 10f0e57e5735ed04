package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.OWNER0;
import static hmmemu.cpu.core.Harness.P;
import static hmmemu.cpu.core.Harness.S0;
import static org.junit.jupiter.api.Assertions.assertEquals;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.HmmPfn;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.InvalidateStart;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * mmu_interval_check_retry() (include/linux/mmu_notifier.h: {@code READ_ONCE(interval_sub->invalidate_seq) !=
 * seq}), as hmm_range_fault() uses it: it sees only what an invalidate callback stored with
 * mmu_interval_set_seq(). A callback that returned early (nouveau_svm_range_invalidate()'s owner filter for its own
 * MMU_NOTIFY_EXCLUSIVE returns true before mmu_interval_set_seq) or has not run yet changes nothing.
 */
class CheckRetryTest {
  @Test
  void checkRetrySeesOnlyWhatTheCallbackSet() {
    Harness h = new Harness();
    h.mmapRw(B, 2);
    h.cpu(B, Access.WRITE, 1);
    h.cpu(B + P, Access.WRITE, 1);
    long seq = h.insertInterval(S0, D0);
    h.autoAck = false;
    long first = h.mdeSend(D0, B, OWNER0);
    InvalidateStart own = h.pendingCallbacks.poll();
    assertEquals(S0, own.subId());
    // Sent, not yet run: invalidate_seq is unchanged.
    assertEquals(Errno.OK, h.rangeFault(D0, S0, seq, B + P, List.of(HmmPfn.REQ_FAULT)).errno(),
        "a callback sent but not run has not set the seq");
    // The owner filter returns true without mmu_interval_set_seq.
    h.step(D0, new HmmProtocol.InvalidateAck(own.invId(), S0, true, false));
    h.ackAll();
    h.unlockPut(D0, first, h.mdeReply(first).pfn());
    assertEquals(Errno.OK, h.rangeFault(D0, S0, seq, B + P, List.of(HmmPfn.REQ_FAULT)).errno(),
        "a filtered callback leaves invalidate_seq");
    // A callback that set the seq is seen.
    long second = h.mdeSend(D0, B + P, 0); // owner NULL: not filtered
    InvalidateStart other;
    while ((other = h.pendingCallbacks.poll()) != null) {
      h.step((int) (other.subId() >>> 32), new HmmProtocol.InvalidateAck(other.invId(), other.subId(), true,
          other.subId() == S0));
    }
    h.unlockPut(D0, second, h.mdeReply(second).pfn());
    assertEquals(Errno.EBUSY, h.rangeFault(D0, S0, seq, B + P, List.of(HmmPfn.REQ_FAULT)).errno(),
        "mmu_interval_set_seq moved invalidate_seq");
  }
}
