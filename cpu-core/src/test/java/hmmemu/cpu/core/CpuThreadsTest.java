package hmmemu.cpu.core;

import static hmmemu.cpu.core.Harness.B;
import static hmmemu.cpu.core.Harness.D0;
import static hmmemu.cpu.core.Harness.MM;
import static hmmemu.cpu.core.Harness.P;
import static hmmemu.cpu.core.Harness.S0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Access;
import hmmemu.protocol.model.Errno;
import hmmemu.protocol.model.Outbound;
import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A user thread's loop of accesses on the CPU node (CpuThreadRun, cpu-core CpuThreads). */
class CpuThreadsTest {

  private static HmmProtocol.CpuThreadDone done(Harness h, long reqId) {
    HmmProtocol.CpuThreadDone d = null;
    for (Outbound o : h.sent) if (o.msg() instanceof HmmProtocol.CpuThreadDone x && x.reqId() == reqId) d = x;
    return d;
  }

  private static long accessReplies(Harness h) {
    return h.sent.stream().filter(o -> o.msg() instanceof HmmProtocol.CpuAccessDone).count();
  }

  /** The accesses run one after another in one step (none blocks); only the loop's reply leaves the node. */
  @Test
  void aLoopThatDoesNotBlockRunsInOneStepAndAnswersOnce() {
    Harness h = new Harness();
    h.mmapRw(B, 2);
    long id = h.req();
    h.step(-1, new HmmProtocol.CpuThreadRun(id, 1, MM, List.of(B, B + P, B, B + 8), Access.ATOMIC, 1, true));
    HmmProtocol.CpuThreadDone d = done(h, id);
    assertEquals(Errno.OK, d.errno());
    assertEquals(4, d.ops());
    assertEquals(2, d.faults(), "the first touch of each page faults (do_anonymous_page)");
    assertEquals(List.of(0L, 0L, 0L, 0L), d.latencyMicros());
    assertEquals(0, accessReplies(h), "no CpuAccessDone for the loop's own accesses");
    assertEquals(2, h.cpu(B, Access.READ, 0).value());
    assertEquals(1, h.cpu(B + 8, Access.READ, 0).value());
  }

  /** The access that fails ends the loop; the reply says how many completed. */
  @Test
  void aFailingAccessEndsTheLoop() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    long id = h.req();
    h.step(-1, new HmmProtocol.CpuThreadRun(id, 1, MM, List.of(B, B + 4 * P, B), Access.ATOMIC, 1, false));
    HmmProtocol.CpuThreadDone d = done(h, id);
    assertEquals(Errno.SIGSEGV, d.errno());
    assertEquals(1, d.ops());
    assertEquals(1, h.cpu(B, Access.READ, 0).value(), "the access after the failing one was not made");
  }

  /**
   * An access that meets a device-exclusive entry waits for the restore's invalidation (remove_device_exclusive_entry);
   * the loop goes on in the step that completes it, and the waited time is that access's latency.
   */
  @Test
  void aBlockedAccessResumesTheLoopWhenItCompletes() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 5);
    h.insertInterval(S0, D0);
    h.exclusive(D0, B, 0);
    assertEquals(PteState.DEVEXCL, h.pte(B).state());
    h.autoAck = false;
    long id = h.req();
    h.step(-1, new HmmProtocol.CpuThreadRun(id, 1, MM, List.of(B, B, B), Access.ATOMIC, 1, false));
    assertNull(done(h, id), "the first access waits for the CLEAR callback's ack");
    h.advanceTo(h.now() + 40);
    h.ackAll();
    HmmProtocol.CpuThreadDone d = done(h, id);
    assertEquals(Errno.OK, d.errno());
    assertEquals(3, d.ops());
    assertEquals(1, d.faults());
    assertTrue(d.latencyMicros().get(0) >= 40, "the first access waited: " + d.latencyMicros());
    assertEquals(List.of(0L, 0L), d.latencyMicros().subList(1, 3));
    assertEquals(PteState.PRESENT, h.pte(B).state());
  }

  /**
   * With a think time T the thread works T µs (model time) between two accesses: access k is issued at t0 + k*T,
   * when the host's timer steps the core at {@link CpuMm#nextThreadWake}, not earlier.
   */
  @Test
  void aThinkingThreadIssuesAccessKAtKTimesItsThinkTime() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 0);
    long think = 100;
    long id = h.req();
    long t0 = h.now();
    h.step(-1, new HmmProtocol.CpuThreadRun(id, 1, MM, List.of(B, B, B, B, B), Access.ATOMIC, 1, false, think));
    assertNull(done(h, id), "the thread thinks after its first access");
    for (int k = 1; k < 5; k++) {
      long wake = h.cpu.nextThreadWake();
      assertEquals(t0 + k * think, wake, "access " + k + " is due k*T after the start");
      h.tick(wake - 1);
      assertEquals(wake, h.cpu.nextThreadWake(), "access " + k + " not issued before its think time is over");
      assertNull(done(h, id));
      h.tick(wake);
    }
    HmmProtocol.CpuThreadDone d = done(h, id);
    assertEquals(Errno.OK, d.errno());
    assertEquals(5, d.ops());
    assertEquals(Long.MAX_VALUE, h.cpu.nextThreadWake(), "no thread thinks any more");
    assertEquals(5, h.cpu(B, Access.READ, 0).value());
  }

  /**
   * rounds: the thread goes over its accesses that many times; the reply counts every access, keeps the first
   * round's latencies and carries the last access's value (a scenario's spin loop with repeat).
   */
  @Test
  void aLoopOfRoundsRunsEachRoundAndReturnsTheLastValue() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    long id = h.req();
    h.step(-1, new HmmProtocol.CpuThreadRun(id, 1, MM, List.of(B), Access.ATOMIC, 1, true, 0, 500, 0));
    HmmProtocol.CpuThreadDone d = done(h, id);
    assertEquals(Errno.OK, d.errno());
    assertEquals(500, d.ops());
    assertEquals(1, d.faults());
    assertEquals(List.of(0L), d.latencyMicros(), "the first round's latencies only");
    assertEquals(499, d.value(), "the last fetch-and-add's old value");
    assertEquals(500, h.cpu(B, Access.READ, 0).value());
  }

  /**
   * forMicros: the thread starts another round while less than that much model time passed since its first access
   * (a scenario's {@code for}), with a think time here so that time passes on the node between two accesses.
   */
  @Test
  void aLoopBoundedInModelTimeStopsOnceItsTimeIsUp() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 0);
    long id = h.req();
    long t0 = h.now();
    h.step(-1, new HmmProtocol.CpuThreadRun(id, 1, MM, List.of(B), Access.ATOMIC, 1, false, 10, 1, 35));
    for (int k = 0; k < 10 && done(h, id) == null; k++) h.tick(h.cpu.nextThreadWake());
    HmmProtocol.CpuThreadDone d = done(h, id);
    assertEquals(Errno.OK, d.errno());
    assertEquals(5, d.ops(), "accesses at t0, +10, +20, +30 start a next round (< 35 µs), the one at +40 ends it");
    assertTrue(h.now() >= t0 + 40, "the fifth access came after 4 think times: " + (h.now() - t0));
    assertEquals(5, h.cpu(B, Access.READ, 0).value());
  }

  /**
   * forMicros with spin: after its first access the thread stays on its word until its time is up (a Spinner: it
   * touches the word after every conversion), then makes its last access; the accesses in between are not simulated.
   */
  @Test
  void aSpinningLoopBoundedInTimeSpinsUntilItsTimeIsUpThenAccessesOnceMore() {
    Harness h = new Harness();
    h.mmapRw(B, 1);
    h.cpu(B, Access.WRITE, 0);
    long id = h.req();
    long t0 = h.now();
    h.step(-1, new HmmProtocol.CpuThreadRun(id, 1, MM, List.of(B), Access.ATOMIC, 1, true, 1, 1, 500));
    assertNull(done(h, id), "the thread spins on its word");
    assertEquals(t0 + 500, h.cpu.nextThreadWake(), "its last access when its time is up");
    h.tick(h.cpu.nextThreadWake());
    HmmProtocol.CpuThreadDone d = done(h, id);
    assertEquals(Errno.OK, d.errno());
    assertEquals(2, d.ops());
    assertEquals(1, d.value(), "the last fetch-and-add's old value");
    assertTrue(d.micros() >= 500, "the loop's span: " + d.micros());
  }
}
