package hmmemu.cluster.check;

import hmmemu.cluster.ClusterHandle;
import hmmemu.node.link.ModeledLink;
import hmmemu.report.RunRecorder;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Attaching a {@link RunRecorder} to a running cluster's checker and taking it back (docs/OBSERVABILITY.md), and
 * adding what the controller knows itself: the modelled link's counters and injected fault windows.
 */
public final class Recording {
  private Recording() {}

  /** Flow halves ride on trace batches or are flushed by the shells within 20 ms (real time; see NodeShell). */
  static final Duration FLOW_POLL = Duration.ofMillis(50);
  /** Longest wait for the last flow halves; what is still unpaired then is counted as such in the metrics. */
  static final Duration FLOW_DRAIN_BOUND = Duration.ofSeconds(5);
  /** Unpaired halves that did not change for this long are messages that will not be paired (lost, node gone). */
  static final Duration FLOW_SETTLED = Duration.ofMillis(500);

  /** Attaches {@code recorder} to the cluster's checker: it sees every event applied from now on. */
  public static void attach(ClusterHandle cluster, RunRecorder recorder) {
    if (recorder != null) cluster.checker().tell(new CheckerActor.Record(recorder));
  }

  /** Reports a fault-injection window (model time) to the attached recorder. */
  public static void fault(ClusterHandle cluster, RunRecorder.FaultWindow window) {
    cluster.checker().tell(new CheckerActor.RecordFault(window));
  }

  /**
   * Aligns the clocks of nodes the attached recorder has no offset for yet (a node that joined mid-run, e.g. a
   * restarted one); offsets already set stay, so a node's timeline is never shifted twice.
   */
  public static void clockOffsets(ClusterHandle cluster, java.util.Map<Integer, Long> offsets) {
    cluster.checker().tell(new CheckerActor.RecordClockOffsets(java.util.Map.copyOf(offsets)));
  }

  /**
   * Detaches the recorder (after the checker caught up: the caller took its verdict), first waiting (bounded by
   * {@link #FLOW_DRAIN_BOUND}) until every flow half is paired or the unpaired ones stop changing; returns it, or
   * null when none was attached.
   */
  public static RunRecorder detach(ClusterHandle cluster) {
    try {
      long deadline = System.nanoTime() + FLOW_DRAIN_BOUND.toNanos();
      long last = -1;
      long lastChange = System.nanoTime();
      while (System.nanoTime() < deadline) {
        long unpaired = AskPattern.<Object, Long>ask(cluster.checker(), CheckerActor.Unpaired::new,
            Duration.ofSeconds(5), cluster.controlSystem().scheduler()).toCompletableFuture().get(6, TimeUnit.SECONDS);
        if (unpaired == 0) break;
        if (unpaired != last) {
          last = unpaired;
          lastChange = System.nanoTime();
        } else if (System.nanoTime() - lastChange > FLOW_SETTLED.toNanos()) {
          break;
        }
        Thread.sleep(FLOW_POLL.toMillis()); // polling the checker's count between asks, bounded above
      }
      Optional<RunRecorder> r = AskPattern.<Object, Optional<RunRecorder>>ask(cluster.checker(),
              CheckerActor.StopRecording::new, Duration.ofSeconds(10), cluster.controlSystem().scheduler())
          .toCompletableFuture().get(11, TimeUnit.SECONDS);
      return r.orElse(null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while taking the run recorder back");
    } catch (Exception e) {
      throw new IllegalStateException("the checker did not hand the run recorder back within 10 s: " + e);
    }
  }

  /** Adds a modelled link's per-direction counters to {@code recorder} (node "link a->b", one counter per field). */
  public static void linkStats(RunRecorder recorder, ModeledLink link) {
    if (recorder == null || link == null) return;
    for (ModeledLink.DirectionStats st : link.stats().values()) {
      String node = "link " + st.direction();
      for (RecordComponent c : ModeledLink.DirectionStats.class.getRecordComponents()) {
        try {
          Object v = c.getAccessor().invoke(st);
          if (v instanceof Number n) recorder.counter(node, c.getName(), Math.round(n.doubleValue()));
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException(e);
        }
      }
    }
  }
}
