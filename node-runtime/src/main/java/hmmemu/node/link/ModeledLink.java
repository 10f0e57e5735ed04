package hmmemu.node.link;

import hmmemu.protocol.wire.pb.Envelope;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The host-device latency model and the link-level fault injector: a {@link Link} that applies, per direction, the
 * {@link LinkSpec} of {@link LinkSettings} plus faults set at run time, then hands each message to {@code next}
 * (usually {@link Link#DIRECT}).
 *
 * <p><b>Time.</b> Delays are model microseconds; they are carried out in real time, {@code real us = model us *
 * timeScale}, by one scheduler thread owned by this link (closed by {@link #close}). Messages whose delay is zero
 * and that have nothing queued ahead of them are delivered at once, on the sender's thread.
 *
 * <p><b>Order.</b> Each direction is FIFO: a message's delivery time is max(its own due time, the due time of the
 * previous message on the direction). Only a message drawn as reordered leaves that order: it is delayed by an
 * extra {@link LinkSpec#reorderExtra} sample and later messages may overtake it. With lanes
 * ({@code hmm-emu.link.lanes = per-thread}, the envelope's {@code link_lane}, {@link Lanes}) that holds per
 * (direction, lane): each lane draws its delays from its own {@link LinkRandom} and keeps its own FIFO, so messages
 * of different lanes may overtake each other; the direction's transmission time is still shared.
 *
 * <p><b>Randomness.</b> Each direction draws from its own {@link LinkRandom}, seeded from the run seed and the
 * direction: a run is reproducible in what it draws (which messages are lost, duplicated, reordered and their
 * delays), not in wall-clock timing.
 *
 * <p><b>Faults.</b> Loss is decided when a message is sent. A partitioned direction drops what is sent on it and
 * what would arrive on it while it is cut (counted as dropped). A paused node's incoming and outgoing messages are
 * held, in order, when they arrive and are delivered in order on {@link #resume}. All controls are thread-safe.
 */
public final class ModeledLink implements Link, AutoCloseable {

  /**
   * Which of a node's directions a partition cuts. {@code OUTGOING} (one-way: the node hears but is not heard),
   * {@code INCOMING} (one-way: it is heard but hears nothing) and {@code BOTH} (two-way).
   */
  public enum PartitionMode { OUTGOING, INCOMING, BOTH }

  /** Probabilities that can be overridden at run time. */
  public enum Fault { LOSS, DUPLICATION, REORDERING }

  /**
   * Counters of one direction. {@code sent}: messages handed to the link; {@code delivered}: copies handed to
   * {@code next} (a duplicated message counts twice); {@code dropped}: lost, sent into a partition, or arriving
   * while partitioned; {@code duplicated}, {@code reordered}: messages drawn so; {@code held}: messages held by a
   * pause (total); {@code inFlight}: scheduled and not yet arrived; {@code heldNow}: held at this moment;
   * {@code addedDelayMicros}: total model delay the link added (propagation, transmission, queueing, run-time
   * delay, reordering) over the messages not dropped at send; {@code maxDelayMicros} the largest;
   * {@code lateMicrosTotal} / {@code lateMicrosMax}: real microseconds by which deliveries came later than their
   * due time (the scheduler's own error, timer slack included), over scheduled deliveries. Data link layer
   * (docs/FAULTS.md, counted by the node shells of this JVM): {@code replayed} messages the sender handed to the
   * link again after its replay timer expired; {@code duplicatesDropped} copies the receiver discarded by
   * sequence number; {@code resequenced} messages the receiver held behind a gap and delivered once it filled.
   * A message counted in {@code dropped} is "lost"; with the data link layer on, it is delivered by a replay;
   * with it off, the sender reports it ({@code lostDetected}, {@link #detectedLosses}) after the replay timeout,
   * and the receiver counts the duplicates ({@code rawDuplicates}) and out-of-order arrivals
   * ({@code rawOutOfOrder}) it handed to the protocol. Bounds and large messages: {@code replayStalled} messages
   * that waited because the sender's replay buffer was full; {@code beyondWindow} messages the receiver dropped
   * beyond its receive window (replayed later); {@code chunked} messages sent as chunk frames; {@code chunksLost}
   * chunked messages given up on the raw link; {@code oversize} frames dropped as too large or unjoinable.
   */
  public record DirectionStats(Direction direction, long sent, long delivered, long dropped, long duplicated,
      long reordered, long held, long inFlight, long heldNow, double addedDelayMicros, double maxDelayMicros,
      double lateMicrosTotal, double lateMicrosMax, long errors, long replayed, long duplicatesDropped,
      long resequenced, long lostDetected, long rawDuplicates, long rawOutOfOrder, long replayStalled,
      long beyondWindow, long chunked, long chunksLost, long oversize) {
    @Override
    public String toString() {
      return String.format("%s sent=%d delivered=%d dropped=%d duplicated=%d reordered=%d held=%d inFlight=%d"
              + " heldNow=%d addedDelay=%.1fus maxDelay=%.1fus lateTotal=%.1fus lateMax=%.1fus errors=%d"
              + " replayed=%d duplicatesDropped=%d resequenced=%d lostDetected=%d"
              + " rawDuplicates=%d rawOutOfOrder=%d replayStalled=%d beyondWindow=%d chunked=%d chunksLost=%d"
              + " oversize=%d",
          direction, sent, delivered, dropped, duplicated, reordered, held, inFlight, heldNow, addedDelayMicros,
          maxDelayMicros, lateMicrosTotal, lateMicrosMax, errors, replayed, duplicatesDropped, resequenced, lostDetected,
          rawDuplicates, rawOutOfOrder, replayStalled, beyondWindow, chunked, chunksLost, oversize);
    }
  }

  private record Pending(ActorRef<Envelope> to, Envelope envelope, int copies, long dueNanos, boolean scheduled) {}

  private record Added(long id, double micros, double jitterMicros, long untilNanos) {}

  /** FIFO order and random source of one lane of a direction (lane 0: the whole direction, lanes off). */
  private static final class Lane {
    final LinkRandom rng;
    final ArrayDeque<Pending> fifo = new ArrayDeque<>();
    long lastDue = Long.MIN_VALUE;

    Lane(LinkRandom rng) { this.rng = rng; }
  }

  private final class Dir {
    final Direction direction;
    final LinkSpec spec;
    final Lane main;
    final Map<Long, Lane> lanes = new HashMap<>();
    final ArrayDeque<Pending> held = new ArrayDeque<>();
    final List<Added> added = new ArrayList<>();
    final Double[] overrides = new Double[Fault.values().length];
    long busyUntil = Long.MIN_VALUE;
    long sent, delivered, dropped, duplicated, reordered, heldTotal, inFlight, errors;
    long replayed, duplicatesDropped, resequenced, lostDetected, rawDuplicates, rawOutOfOrder;
    long replayStalled, beyondWindow, chunked, chunksLost, oversize;
    double addedDelay, maxDelay, lateTotal, lateMax;

    Dir(Direction d) {
      this.direction = d;
      this.spec = settings.spec(d);
      this.main = new Lane(new LinkRandom(runSeed, d));
    }

    Lane lane(long lane) {
      return lane == 0 ? main : lanes.computeIfAbsent(lane, l -> new Lane(new LinkRandom(runSeed, direction, l)));
    }

    double p(Fault f, double specValue) {
      Double o = overrides[f.ordinal()];
      return o == null ? specValue : o;
    }

    DirectionStats stats() {
      return new DirectionStats(direction, sent, delivered, dropped, duplicated, reordered, heldTotal, inFlight,
          held.size(), addedDelay, maxDelay, lateTotal, lateMax, errors, replayed, duplicatesDropped, resequenced, lostDetected,
          rawDuplicates, rawOutOfOrder, replayStalled, beyondWindow, chunked, chunksLost, oversize);
    }
  }

  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final long MAX_DELAY_NANOS = 1_000_000_000_000_000L; // ~11.6 days: keeps sums far from overflow

  private final LinkSettings settings;
  private final long runSeed;
  private final double timeScale;
  private final Link next;
  private final LongSupplier nanoClock;
  private final ScheduledThreadPoolExecutor scheduler;
  private final Object lock = new Object();
  private final Map<Direction, Dir> dirs = new HashMap<>();
  private final Map<Integer, PartitionMode> partitions = new HashMap<>();
  private final Set<Integer> paused = new HashSet<>();
  private long nextDelayId = 1;
  private boolean closed;

  /**
   * @param settings per-direction specs
   * @param runSeed the run's seed; each direction's random source derives from it
   * @param timeScale real microseconds per model microsecond (> 0)
   * @param next where delivered messages go (e.g. {@link Link#DIRECT}, or a {@code GateLink})
   */
  public ModeledLink(LinkSettings settings, long runSeed, double timeScale, Link next) {
    this(settings, runSeed, timeScale, next, System::nanoTime);
  }

  /** As above with a clock for the link's bookkeeping (tests); the scheduler still waits in real time. */
  ModeledLink(LinkSettings settings, long runSeed, double timeScale, Link next, LongSupplier nanoClock) {
    if (!(timeScale > 0) || Double.isInfinite(timeScale)) throw new IllegalArgumentException("time-scale must be > 0, got " + timeScale);
    this.settings = Objects.requireNonNull(settings, "settings");
    this.runSeed = runSeed;
    this.timeScale = timeScale;
    this.next = Objects.requireNonNull(next, "next");
    this.nanoClock = nanoClock;
    this.scheduler = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "hmm-link-" + THREADS.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    scheduler.setRemoveOnCancelPolicy(true);
    scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
  }

  public LinkSettings settings() { return settings; }

  public long runSeed() { return runSeed; }

  public double timeScale() { return timeScale; }

  /** Real nanoseconds for {@code modelMicros}. */
  public long realNanos(double modelMicros) {
    double n = modelMicros * timeScale * 1000.0;
    if (!(n > 0)) return 0;
    return n >= MAX_DELAY_NANOS ? MAX_DELAY_NANOS : Math.round(n);
  }

  private double modelMicros(long realNanos) { return realNanos / 1000.0 / timeScale; }

  private Dir dir(int from, int to) { return dirs.computeIfAbsent(new Direction(from, to), Dir::new); }

  private boolean partitioned(Direction d) {
    PartitionMode f = partitions.get(d.from());
    PartitionMode t = partitions.get(d.to());
    return f == PartitionMode.OUTGOING || f == PartitionMode.BOTH || t == PartitionMode.INCOMING || t == PartitionMode.BOTH;
  }

  private boolean paused(Direction d) { return paused.contains(d.from()) || paused.contains(d.to()); }

  // ------------------------------------------------------------------------------------------------ data link layer

  @Override
  public LinkReliability reliability() {
    return settings.reliability(timeScale);
  }

  /** A message the data link layer (off) reported lost: direction, sequence number and the message. */
  public record DetectedLoss(Direction direction, long seq, String what) {
    @Override public String toString() { return direction + " seq " + seq + ": " + what; }
  }

  private final List<DetectedLoss> detectedLosses = new ArrayList<>();

  @Override
  public void lost(int fromNode, int toNode, long seq, String what) {
    synchronized (lock) {
      dir(fromNode, toNode).lostDetected++;
      detectedLosses.add(new DetectedLoss(new Direction(fromNode, toNode), seq, what));
    }
  }

  /** Messages reported lost by the node shells (data link layer off), in report order. */
  public List<DetectedLoss> detectedLosses() {
    synchronized (lock) {
      return List.copyOf(detectedLosses);
    }
  }

  @Override
  public void count(int fromNode, int toNode, LinkReliability.Event event, long n) {
    synchronized (lock) {
      Dir x = dir(fromNode, toNode);
      switch (event) {
        case REPLAYED -> x.replayed += n;
        case DUPLICATE_DROPPED -> x.duplicatesDropped += n;
        case RESEQUENCED -> x.resequenced += n;
        case RAW_DUPLICATE -> x.rawDuplicates += n;
        case RAW_OUT_OF_ORDER -> x.rawOutOfOrder += n;
        case REPLAY_BUFFER_FULL -> x.replayStalled += n;
        case BEYOND_WINDOW_DROPPED -> x.beyondWindow += n;
        case CHUNKED -> x.chunked += n;
        case CHUNKS_LOST -> x.chunksLost += n;
        case OVERSIZE_DROPPED -> x.oversize += n;
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ sending

  @Override
  public void send(int fromNode, int toNode, ActorRef<Envelope> to, Envelope envelope) {
    synchronized (lock) {
      Dir x = dir(fromNode, toNode);
      x.sent++;
      LinkSpec s = x.spec;
      Lane ln = x.lane(envelope.getLinkLane());
      LinkSpec.Draw dr = s.draw(ln.rng.nextMessage(), x.p(Fault.LOSS, s.loss()), x.p(Fault.DUPLICATION, s.duplication()),
          x.p(Fault.REORDERING, s.reordering()));
      if (closed || partitioned(x.direction) || dr.lost()) {
        x.dropped++;
        return;
      }
      long now = nanoClock.getAsLong();
      double addedMicros = 0;
      for (var it = x.added.iterator(); it.hasNext();) {
        Added a = it.next();
        if (now - a.untilNanos() >= 0) {
          it.remove();
        } else {
          addedMicros += a.micros() + a.jitterMicros() * dr.addedJitterUnit();
        }
      }
      long tx = realNanos(s.transmitMicros(envelope.getSerializedSize()));
      long start = x.busyUntil == Long.MIN_VALUE || now - x.busyUntil > 0 ? now : x.busyUntil;
      x.busyUntil = start + tx;
      long due = x.busyUntil + realNanos(Math.max(0, dr.delayMicros() + addedMicros));
      int copies = 1;
      if (dr.duplicated()) {
        x.duplicated++;
        copies = 2;
      }
      boolean fifo = !dr.reordered();
      if (dr.reordered()) {
        x.reordered++;
        due += realNanos(dr.reorderExtraMicros());
      } else {
        if (ln.lastDue != Long.MIN_VALUE && ln.lastDue - due > 0) due = ln.lastDue;
        ln.lastDue = due;
      }
      double delay = modelMicros(due - now);
      x.addedDelay += delay;
      x.maxDelay = Math.max(x.maxDelay, delay);
      if (due - now <= 0 && (!fifo || ln.fifo.isEmpty())) {
        arrive(x, new Pending(to, envelope, copies, due, false));
        return;
      }
      Pending p = new Pending(to, envelope, copies, due, true);
      x.inFlight++;
      if (fifo) ln.fifo.add(p);
      try {
        scheduler.schedule(fifo ? () -> deliverHead(x, ln) : () -> deliverOne(x, p), due - now, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        if (fifo) ln.fifo.removeLast();
        x.inFlight--;
        x.dropped++;
      }
    }
  }

  private void deliverHead(Dir x, Lane ln) {
    synchronized (lock) {
      Pending p = ln.fifo.poll();
      if (p == null) return;
      x.inFlight--;
      arrive(x, p);
      lock.notifyAll();
    }
  }

  private void deliverOne(Dir x, Pending p) {
    synchronized (lock) {
      x.inFlight--;
      arrive(x, p);
      lock.notifyAll();
    }
  }

  /** A message reaches the far end of its direction (under the lock). */
  private void arrive(Dir x, Pending p) {
    if (partitioned(x.direction)) {
      x.dropped++;
      return;
    }
    if (paused(x.direction) || !x.held.isEmpty()) {
      x.held.add(p);
      x.heldTotal++;
      return;
    }
    handOver(x, p);
  }

  private void handOver(Dir x, Pending p) {
    if (p.scheduled()) {
      double late = (nanoClock.getAsLong() - p.dueNanos()) / 1000.0;
      if (late > 0) {
        x.lateTotal += late;
        x.lateMax = Math.max(x.lateMax, late);
      }
    }
    for (int i = 0; i < p.copies(); i++) {
      try {
        next.send(x.direction.from(), x.direction.to(), p.to(), p.envelope());
        x.delivered++;
      } catch (RuntimeException e) {
        x.errors++;
      }
    }
  }

  /** Delivers, in order, what directions no longer paused hold (under the lock). */
  private void flushHeld() {
    for (Dir x : sortedDirs()) {
      if (paused(x.direction)) continue;
      while (!x.held.isEmpty()) {
        Pending p = x.held.poll();
        if (partitioned(x.direction)) {
          x.dropped++;
        } else {
          handOver(x, p);
        }
      }
    }
  }

  private List<Dir> sortedDirs() {
    List<Dir> l = new ArrayList<>(dirs.values());
    l.sort(Comparator.comparingInt((Dir d) -> d.direction.from()).thenComparingInt(d -> d.direction.to()));
    return l;
  }

  // ------------------------------------------------------------------------------------------------ controls

  /**
   * Adds {@code modelMicros} (plus uniform jitter in [-jitterMicros, +jitterMicros]) to every message sent on
   * from -> to during {@code duration} of real time from now ({@code null} = until removed or {@link #clearFaults}).
   * Overlapping additions sum. Returns an id for {@link #removeDelay}.
   */
  public long addDelay(int from, int to, double modelMicros, double jitterMicros, Duration duration) {
    if (!(modelMicros >= 0) || !(jitterMicros >= 0)) {
      throw new IllegalArgumentException("added delay and jitter must be >= 0, got " + modelMicros + ", " + jitterMicros);
    }
    synchronized (lock) {
      long now = nanoClock.getAsLong();
      long until = now + (duration == null ? Long.MAX_VALUE / 2 : Math.min(duration.toNanos(), MAX_DELAY_NANOS));
      long id = nextDelayId++;
      dir(from, to).added.add(new Added(id, modelMicros, jitterMicros, until));
      return id;
    }
  }

  /** {@link #addDelay(int, int, double, double, Duration)} without jitter. */
  public long addDelay(int from, int to, double modelMicros, Duration duration) {
    return addDelay(from, to, modelMicros, 0, duration);
  }

  /** Removes a delay added by {@link #addDelay}; false if it had expired or was removed. */
  public boolean removeDelay(long id) {
    synchronized (lock) {
      for (Dir x : dirs.values()) {
        if (x.added.removeIf(a -> a.id() == id)) return true;
      }
      return false;
    }
  }

  /** Overrides a probability of direction from -> to (until {@link #resetProbability} or {@link #clearFaults}). */
  public void setProbability(Fault fault, int from, int to, double p) {
    LinkSpec.checkProbability(fault.name().toLowerCase(java.util.Locale.ROOT), p);
    synchronized (lock) {
      dir(from, to).overrides[fault.ordinal()] = p;
    }
  }

  /** Back to the spec's probability. */
  public void resetProbability(Fault fault, int from, int to) {
    synchronized (lock) {
      dir(from, to).overrides[fault.ordinal()] = null;
    }
  }

  public void setLoss(int from, int to, double p) { setProbability(Fault.LOSS, from, to, p); }

  public void setDuplication(int from, int to, double p) { setProbability(Fault.DUPLICATION, from, to, p); }

  public void setReordering(int from, int to, double p) { setProbability(Fault.REORDERING, from, to, p); }

  /** Cuts the node's directions ({@code BOTH} = two-way); replaces a previous partition of the node. */
  public void partition(int node, PartitionMode mode) {
    Objects.requireNonNull(mode, "mode");
    synchronized (lock) {
      partitions.put(node, mode);
    }
  }

  /** Two-way partition. */
  public void partition(int node) { partition(node, PartitionMode.BOTH); }

  /** Ends the node's partition; messages sent or arriving from now on pass. */
  public void heal(int node) {
    synchronized (lock) {
      partitions.remove(node);
    }
  }

  /** Holds the node's incoming and outgoing messages (as they arrive at the far end) until {@link #resume}. */
  public void pause(int node) {
    synchronized (lock) {
      paused.add(node);
    }
  }

  /** Delivers, in order and before anything later, what the pause held (on this thread), and stops holding. */
  public void resume(int node) {
    synchronized (lock) {
      if (paused.remove(node)) flushHeld();
      lock.notifyAll();
    }
  }

  /** Removes every run-time fault: added delays, probability overrides, partitions, pauses (held messages are delivered). */
  public void clearFaults() {
    synchronized (lock) {
      for (Dir x : dirs.values()) {
        x.added.clear();
        java.util.Arrays.fill(x.overrides, null);
      }
      partitions.clear();
      paused.clear();
      flushHeld();
      lock.notifyAll();
    }
  }

  public Set<Integer> pausedNodes() {
    synchronized (lock) {
      return Set.copyOf(paused);
    }
  }

  public Map<Integer, PartitionMode> partitions() {
    synchronized (lock) {
      return Map.copyOf(partitions);
    }
  }

  // ------------------------------------------------------------------------------------------------ stats

  /** Counters of every direction used so far, ordered by (from, to). */
  public Map<Direction, DirectionStats> stats() {
    synchronized (lock) {
      Map<Direction, DirectionStats> m = new LinkedHashMap<>();
      for (Dir x : sortedDirs()) m.put(x.direction, x.stats());
      return Collections.unmodifiableMap(m);
    }
  }

  /** Counters of one direction (zeros if unused). */
  public DirectionStats stats(int from, int to) {
    synchronized (lock) {
      Dir x = dirs.get(new Direction(from, to));
      return x != null ? x.stats() : new DirectionStats(new Direction(from, to), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
          0, 0, 0);
    }
  }

  /**
   * Waits until no message is scheduled (held messages of paused nodes do not count), at most {@code timeout}.
   * Returns whether the link is quiescent.
   */
  public boolean awaitQuiescent(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      for (;;) {
        long inFlight = 0;
        for (Dir x : dirs.values()) inFlight += x.inFlight;
        if (inFlight == 0) return true;
        long left = deadline - System.nanoTime();
        if (left <= 0) return false;
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
    }
  }

  /** Stops the scheduler; messages still scheduled or held are discarded and later sends are dropped. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
    }
    scheduler.shutdownNow();
  }
}
