package hmmemu.cluster.scenario;

import hmmemu.protocol.model.Errno;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The {@code kthread} step (docs/SCENARIOS.md "Kernel threads"): a kernel thread (kcompactd, khugepaged, reclaim's
 * shrink_folio_list) folio_lock()s a page's folio, holds it for model time, then folio_unlock()s it, on either
 * {@link ScenarioHost}.
 */
final class KthreadStep {
  private KthreadStep() {}

  /** How the step sends its requests: the step executor's ask (controller holds apply), else the host's. */
  @FunctionalInterface
  interface Ask {
    CompletableFuture<HmmProtocol.Msg> ask(int node, HmmProtocol.Msg msg);
  }

  /**
   * KthreadFolioLock; once the reply says the thread holds the lock, {@code for} of model time passes on the host's
   * clock ({@link ScenarioHost#afterModelTime}), then KthreadFolioUnlock; {@code done} completes with the unlock's
   * reply (or with the lock's errno when it failed). {@code doing} hears what the step is doing (deadlock reports).
   */
  static void start(ScenarioHost host, Ask ask, Scenario.KthreadOp k, CompletableFuture<Outcome> done,
      Consumer<String> doing) {
    doing.accept(k.kthread() + " folio_lock " + k.at().text());
    ask.ask(0, new HmmProtocol.KthreadFolioLock(host.nextReqId(), k.kthread(), k.mm(), k.at().start()))
        .whenComplete((m, ex) -> {
          if (ex != null) {
            done.completeExceptionally(ex);
          } else if (!(m instanceof HmmProtocol.KthreadFolioDone d)) {
            done.completeExceptionally(new IllegalStateException("expected KthreadFolioDone, got " + m));
          } else if (d.errno() != Errno.OK) {
            done.complete(Outcome.of(d.errno()));
          } else {
            doing.accept(k.kthread() + " holds the folio lock of " + k.at().text() + " (pfn 0x"
                + Long.toHexString(d.pfn()) + ") for " + k.forMicros() + " model µs");
            host.afterModelTime(k.forMicros()).thenRun(() -> unlock(host, ask, k, done, doing));
          }
        });
  }

  /** The thread's folio_unlock() + folio_put(). */
  private static void unlock(ScenarioHost host, Ask ask, Scenario.KthreadOp k, CompletableFuture<Outcome> done,
      Consumer<String> doing) {
    doing.accept(k.kthread() + " folio_unlock " + k.at().text());
    ask.ask(0, new HmmProtocol.KthreadFolioUnlock(host.nextReqId(), k.kthread())).whenComplete((u, ux) -> {
      if (ux != null) done.completeExceptionally(ux);
      else if (u instanceof HmmProtocol.KthreadFolioDone ud) done.complete(Outcome.of(ud.errno()));
      else done.completeExceptionally(new IllegalStateException("expected KthreadFolioDone, got " + u));
    });
  }
}
