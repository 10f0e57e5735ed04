package hmmemu.sim;

import hmmemu.node.link.Direction;
import hmmemu.node.link.Lanes;
import hmmemu.node.link.LinkRandom;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.LinkSpec;
import hmmemu.node.link.ModeledLink.Fault;
import hmmemu.node.link.ModeledLink.PartitionMode;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToIntFunction;

/**
 * The link model of hmmemu.node.link.ModeledLink carried out in virtual time: per direction the {@link LinkSpec} of
 * {@link LinkSettings} (base delay, jitter, heavy tail, bandwidth with the direction busy while it transmits, loss,
 * duplication, reordering with an extra delay), drawn from the same per-direction {@link LinkRandom} streams in the
 * same order, so the n-th message of a direction draws what it draws on the cluster. FIFO per direction except for
 * a message drawn as reordered. With lanes ({@code hmm-emu.link.lanes = per-thread}, {@link Lanes}, as on the
 * cluster) order, sequence numbers and draws are per (direction, lane): each lane has its own FIFO, its own data
 * link layer sequence and its own {@link LinkRandom}, so messages of different kernel threads may overtake each
 * other (docs/PROTOCOL.md §5.8); the direction's transmission time stays shared.
 *
 * <p>The data link layer (models the PCIe Data Link Layer, docs/FAULTS.md): with {@code reliable = on} every message
 * has a sequence number; the receiver delivers in sequence, exactly once (a duplicate is dropped, a message ahead of
 * a gap waits), and a lost message is sent again when its replay timer expires (the timer doubles per replay without
 * progress, up to 64 times, as in NodeShell). ACKs themselves are not modelled as traffic (they would only load the
 * reverse direction); the pure DataLink will replace this part. With {@code reliable = off} loss, duplication and
 * reordering reach the protocol; a lost message is recorded by name.
 *
 * <p>Run-time faults (the link actions of a hmmemu.node.link.FaultSchedule, as ModeledLink carries them out):
 * added delay with jitter per direction, loss/duplication/reordering probability overrides, and partitions of a
 * node (two-way, or one-way: its outgoing or its incoming directions). A partitioned direction drops what is sent
 * on it and what would arrive on it while it is cut, counted as {@code dropped}; with the data link layer on, the
 * sender's replay timer sends it again (so a partition only delays, until it heals), with it off it is lost.
 */
public final class ModeledLinkStage implements LinkStage {
  /** Wire size assumed per message when no size function is given: an envelope with a 4-entry vector clock. */
  public static final int DEFAULT_MESSAGE_BYTES = 96;

  private record Copy(long seq, long lane, HmmProtocol.Msg msg, long[] vc, int copies) {}

  /** Order, sequence and random source of one lane of a direction (lane 0: the whole direction, lanes off). */
  private static final class Lane {
    final LinkRandom rng;
    final ArrayDeque<Copy> fifo = new ArrayDeque<>();
    long lastDue = Long.MIN_VALUE;
    long nextSeq = 1;
    long expected = 1;
    final TreeMap<Long, Copy> ahead = new TreeMap<>();

    Lane(LinkRandom rng) { this.rng = rng; }
  }

  /** A delay added at run time: {@code micros} plus jitter in [-jitter, +jitter], until {@code untilNanos}. */
  private record Added(long id, double micros, double jitterMicros, long untilNanos) {}

  private final class Dir {
    final Direction direction;
    final LinkSpec spec;
    final Lane main;
    final Map<Long, Lane> lanes = new HashMap<>(64); // a lane per callback's ack: dozens per run, grown once or never
    long busyUntil = Long.MIN_VALUE;
    long sent, delivered, dropped, duplicated, reordered, replayed, duplicatesDropped, resequenced, rawDuplicates,
        rawOutOfOrder;
    int generation;
    final List<Added> added = new ArrayList<>();
    final Double[] overrides = new Double[Fault.values().length];

    /** The spec draws nothing that matters: a constant delay, no jitter, tail or fault (the common case). */
    final boolean fixedSpec;
    boolean fixed;
    final LinkSpec.Draw fixedDraw;
    /**
     * A fixed spec's propagation delay, and its transmission time of a message of the default size, in nanoseconds
     * (what {@link #transmit} would round from the spec for every message; transient: derived from the spec, so
     * StateWalk's pictures stay as they were). Emulator-only.
     */
    final transient long fixedDelayNanos;
    final transient long defaultTxNanos;

    Dir(Direction d) {
      this.direction = d;
      this.spec = settings.spec(d);
      this.main = new Lane(new LinkRandom(runSeed, d));
      this.fixedSpec = spec.delay() instanceof hmmemu.node.link.Distribution.Constant c && spec.jitterMicros() == 0
          && spec.tail().p() == 0 && spec.loss() == 0 && spec.duplication() == 0 && spec.reordering() == 0;
      this.fixed = fixedSpec;
      this.fixedDraw = fixedSpec ? new LinkSpec.Draw(false, false, false, spec.delay().mean(), 0, 0, 0) : null;
      this.fixedDelayNanos = fixedSpec ? nanos(fixedDraw.delayMicros()) : 0;
      this.defaultTxNanos = nanos(spec.transmitMicros(DEFAULT_MESSAGE_BYTES));
    }

    /** The lane looked up last, and its key: a message's send and transmit ask for the same lane in a row. */
    private long lastKey;
    private Lane last;

    Lane lane(long lane) {
      if (lane == 0) return main;
      if (last != null && lastKey == lane) return last;
      Lane l = lanes.get(lane); // get then put: computeIfAbsent's lambda would capture this Dir on every call
      if (l == null) lanes.put(lane, l = new Lane(new LinkRandom(runSeed, direction, lane)));
      lastKey = lane;
      last = l;
      return l;
    }

    /**
     * Forgets lane {@code key} once it is idle: every message sent on it delivered in sequence (none ahead, none in
     * flight, none waiting for a replay) and the direction's draws fixed, so that a lane made afresh for the key
     * behaves as this one would (a constant delay; sequence numbers from 1 on both ends). For the lanes of one
     * notifier callback invocation each (Lanes.callback: one InvalidateAck per (invId, subId), StepContext), which a
     * deadline spin otherwise piles up one per round; emulator-only bookkeeping, no model change.
     */
    void retireIfIdle(long key, Lane l) {
      if (!fixed || l == main || l.nextSeq != l.expected || !l.fifo.isEmpty() || !l.ahead.isEmpty()) return;
      if (lanes.remove(key, l) && last == l) {
        last = null;
        lastKey = 0;
      }
    }

    double p(Fault f, double specValue) {
      Double o = overrides[f.ordinal()];
      return o == null ? specValue : o;
    }

    /** Run-time faults changed: the fixed-draw shortcut holds only without overrides and added delays. */
    void refresh() {
      boolean none = added.isEmpty();
      for (Double o : overrides) none &= o == null;
      fixed = fixedSpec && none;
    }
  }

  private final LinkSettings settings;
  private final long runSeed;
  private final Host host;
  private final ToIntFunction<HmmProtocol.Msg> sizeOf;
  /** Whether {@link #sizeOf} is the default (every message {@link #DEFAULT_MESSAGE_BYTES}): Dir's defaultTxNanos. */
  private final transient boolean defaultSize;
  private final Dir[][] dirs = new Dir[17][17];
  private final List<String> lost = new ArrayList<>();
  private final Map<Integer, PartitionMode> partitions = new HashMap<>();
  private long inFlight;
  private long nextDelayId = 1;

  /**
   * @param settings per-direction specs and the data link layer settings
   * @param runSeed the run's seed (each direction's {@link LinkRandom} derives from it)
   * @param host the simulator
   * @param sizeOf wire size of a message in bytes (transmission time); null = {@link #DEFAULT_MESSAGE_BYTES}
   */
  public ModeledLinkStage(LinkSettings settings, long runSeed, Host host, ToIntFunction<HmmProtocol.Msg> sizeOf) {
    this.settings = settings;
    this.runSeed = runSeed;
    this.host = host;
    this.sizeOf = sizeOf != null ? sizeOf : m -> DEFAULT_MESSAGE_BYTES;
    this.defaultSize = sizeOf == null;
  }

  private Dir dir(int from, int to) {
    Dir x = dirs[from][to];
    if (x == null) x = dirs[from][to] = new Dir(new Direction(from, to));
    return x;
  }

  /**
   * Whether every direction draws nothing that matters (a fixed spec, no override or added delay) and no partition
   * is on: the fast-forward may then skip link draws (hmmemu.sim.FastForward).
   */
  boolean drawsFixed() {
    for (Dir[] row : dirs) for (Dir x : row) if (x != null && !x.fixed) return false;
    return partitions.isEmpty();
  }

  @Override
  public void send(int from, int to, HmmProtocol.Msg msg, long[] vc) {
    Dir x = dir(from, to);
    x.sent++;
    long lane = settings.lanes() ? Lanes.of(msg) : 0;
    transmit(x, new Copy(x.lane(lane).nextSeq++, lane, msg, vc, 1), 1, x.generation);
  }

  /** A nonzero key of one lane of a direction (a {@link Scheduler} source). */
  private static long laneKey(Direction d, long lane) {
    long k = ((long) (d.from() & 0x7f) << 56) | ((long) d.to() << 48) | ((lane * 0x9E3779B97F4A7C15L) >>> 16);
    return k == 0 ? 1 : k; // positive: a lane (Sim gives other events negative sources of their own)
  }

  private static long nanos(double micros) { return Math.round(micros * 1000.0); }

  private void transmit(Dir x, Copy c, int backoff, int generation) {
    if (generation != x.generation) return; // the direction went down meanwhile
    LinkSpec s = x.spec;
    Lane ln = x.lane(c.lane());
    // Each message draws from its own stream (LinkRandom.nextMessage), so skipping the draws of a fixed spec gives
    // the very values LinkSpec.draw would, and leaves every other message's draws unchanged.
    LinkSpec.Draw dr;
    if (x.fixed) {
      ln.rng.skipMessage();
      dr = x.fixedDraw;
    } else {
      dr = s.draw(ln.rng.nextMessage(), x.p(Fault.LOSS, s.loss()), x.p(Fault.DUPLICATION, s.duplication()),
          x.p(Fault.REORDERING, s.reordering()));
    }
    long now = host.nowNanos();
    if (dr.lost() || partitioned(x.direction)) {
      dropped(x, c, backoff, generation);
      return;
    }
    double addedMicros = 0;
    if (!x.added.isEmpty()) {
      for (var it = x.added.iterator(); it.hasNext();) {
        Added a = it.next();
        if (now >= a.untilNanos()) {
          it.remove();
        } else {
          addedMicros += a.micros() + a.jitterMicros() * dr.addedJitterUnit();
        }
      }
      if (x.added.isEmpty()) x.refresh();
    }
    long tx = defaultSize ? x.defaultTxNanos : nanos(s.transmitMicros(sizeOf.applyAsInt(c.msg())));
    long start = x.busyUntil == Long.MIN_VALUE || now > x.busyUntil ? now : x.busyUntil;
    x.busyUntil = start + tx;
    long due = x.busyUntil + (dr == x.fixedDraw ? x.fixedDelayNanos // the fixed draw adds nothing (x.fixed: none added)
        : nanos(addedMicros == 0 ? dr.delayMicros() : Math.max(0, dr.delayMicros() + addedMicros)));
    Copy copy = dr.duplicated() ? new Copy(c.seq(), c.lane(), c.msg(), c.vc(), 2) : c;
    if (dr.duplicated()) x.duplicated++;
    inFlight++;
    if (dr.reordered()) {
      x.reordered++;
      host.at(due + nanos(dr.reorderExtraMicros()), () -> {
        inFlight--;
        if (generation == x.generation) arriveOrDrop(x, copy, generation);
      });
    } else {
      if (ln.lastDue != Long.MIN_VALUE && ln.lastDue > due) due = ln.lastDue;
      ln.lastDue = due;
      ln.fifo.add(copy);
      Arrival arrival = new Arrival(x, ln, generation, c.lane(), c.msg());
      // each lane's arrivals are one scheduler source: whichever of them fires takes the lane's head (FIFO)
      long key = laneKey(x.direction, c.lane());
      if (host instanceof Sim sim) sim.at(due, arrival, key, TieRule.link(x.direction.from(), x.direction.to(), c.lane()));
      else host.at(due, arrival, key, arrival.link());
    }
  }

  /**
   * The arrival of a lane's head, as its own agenda event (emulator-only host mechanism: no lambda and no wrapping
   * event per message; its {@link Scheduler.LinkEvent} is built only when a scheduler or a picture asks for it).
   */
  private final class Arrival extends EventQueue.Event implements Runnable {
    private final Dir x;
    private final Lane ln;
    private final int generation;
    /** What {@link #link} describes (transient: left out of StateWalk's picture, which holds them under link). */
    private final transient long lane;
    private final transient HmmProtocol.Msg msg;

    Arrival(Dir x, Lane ln, int generation, long lane, HmmProtocol.Msg msg) {
      this.x = x;
      this.ln = ln;
      this.generation = generation;
      this.lane = lane;
      this.msg = msg;
    }

    @Override
    void fire() {
      inFlight--;
      if (generation != x.generation) return;
      Copy head = ln.fifo.poll();
      if (head != null) arriveOrDrop(x, head, generation);
    }

    @Override
    public void run() { fire(); }

    @Override
    boolean isLink() { return true; }

    @Override
    Scheduler.LinkEvent link() { return new Scheduler.LinkEvent(x.direction.from(), x.direction.to(), lane, msg); }
  }

  /**
   * The link lost a copy (drawn lost, or sent into or arriving at a partition): with the data link layer on, the
   * sender's REPLAY_TIMER expires without an ACK for it and it is handed to the link again; off, it is lost.
   */
  private void dropped(Dir x, Copy c, int backoff, int generation) {
    x.dropped++;
    if (settings.reliable()) {
      long timer = nanos(settings.replayTimeoutMicros() * backoff);
      inFlight++;
      host.at(host.nowNanos() + timer, () -> {
        inFlight--;
        x.replayed++;
        transmit(x, new Copy(c.seq(), c.lane(), c.msg(), c.vc(), 1), Math.min(backoff * 2, 64), generation);
      });
    } else {
      lost.add(x.direction + " seq " + c.seq() + ": " + c.msg());
    }
  }

  private void arriveOrDrop(Dir x, Copy c, int generation) {
    if (partitioned(x.direction)) {
      dropped(x, c, 1, generation);
      return;
    }
    arrive(x, c);
  }

  /** A copy (or two, when duplicated) reaches the far end: the receiving side of the data link layer. */
  private void arrive(Dir d, Copy c) {
    Lane x = d.lane(c.lane());
    for (int i = 0; i < c.copies(); i++) {
      if (settings.reliable()) {
        // NEXT_RCV_SEQ check: a duplicate TLP is discarded, one ahead of a gap waits for the gap to fill.
        if (c.seq() < x.expected || (!x.ahead.isEmpty() && x.ahead.containsKey(c.seq()))) {
          d.duplicatesDropped++;
          continue;
        }
        if (c.seq() > x.expected) {
          x.ahead.put(c.seq(), c);
          continue;
        }
        x.expected++;
        deliver(d, c);
        for (Copy next; !x.ahead.isEmpty() && (next = x.ahead.remove(x.expected)) != null;) {
          x.expected++;
          d.resequenced++;
          deliver(d, next);
        }
      } else {
        if (c.seq() < x.expected || x.ahead.containsKey(c.seq())) {
          d.rawDuplicates++;
        } else {
          if (c.seq() > x.expected) d.rawOutOfOrder++;
          x.ahead.put(c.seq(), c);
          while (x.ahead.remove(x.expected) != null) x.expected++;
          if (x.ahead.size() > 4096) x.expected = x.ahead.pollFirstEntry().getKey() + 1;
        }
        deliver(d, c);
      }
    }
    if ((c.lane() >>> 56) == CALLBACK_LANES) d.retireIfIdle(c.lane(), x);
  }

  /** The tag of the lanes of one notifier callback invocation each (Lanes.callback: the lane key's top byte). */
  private static final long CALLBACK_LANES = Lanes.callback(0, 0) >>> 56;

  private void deliver(Dir x, Copy c) {
    x.delivered++;
    host.arrive(x.direction.from(), x.direction.to(), c.msg(), c.vc());
  }

  private boolean partitioned(Direction d) {
    if (partitions.isEmpty()) return false;
    PartitionMode f = partitions.get(d.from());
    PartitionMode t = partitions.get(d.to());
    return f == PartitionMode.OUTGOING || f == PartitionMode.BOTH || t == PartitionMode.INCOMING
        || t == PartitionMode.BOTH;
  }

  @Override
  public void partition(int node, PartitionMode mode) { partitions.put(node, mode); }

  @Override
  public void heal(int node) { partitions.remove(node); }

  @Override
  public Map<Integer, PartitionMode> partitions() { return Map.copyOf(partitions); }

  @Override
  public long addDelay(int from, int to, double micros, double jitterMicros, long untilNanos) {
    if (!(micros >= 0) || !(jitterMicros >= 0)) {
      throw new IllegalArgumentException("added delay and jitter must be >= 0, got " + micros + ", " + jitterMicros);
    }
    Dir x = dir(from, to);
    long id = nextDelayId++;
    x.added.add(new Added(id, micros, jitterMicros, untilNanos));
    x.refresh();
    return id;
  }

  @Override
  public void removeDelay(long id) {
    for (Dir[] row : dirs) {
      for (Dir x : row) {
        if (x != null && x.added.removeIf(a -> a.id() == id)) x.refresh();
      }
    }
  }

  @Override
  public void setProbability(Fault fault, int from, int to, Double p) {
    Dir x = dir(from, to);
    x.overrides[fault.ordinal()] = p;
    x.refresh();
  }

  @Override
  public void clearFaults() {
    partitions.clear();
    for (Dir[] row : dirs) {
      for (Dir x : row) {
        if (x == null) continue;
        x.added.clear();
        java.util.Arrays.fill(x.overrides, null);
        x.refresh();
      }
    }
  }

  @Override
  public void nodeDown(int node) {
    for (int i = 0; i < dirs.length; i++) {
      for (int j = 0; j < dirs.length; j++) {
        if ((i == node || j == node) && dirs[i][j] != null) {
          Dir old = dirs[i][j];
          Dir fresh = new Dir(old.direction);
          fresh.generation = old.generation + 1;
          fresh.added.addAll(old.added); // run-time faults belong to the direction, not to an incarnation
          System.arraycopy(old.overrides, 0, fresh.overrides, 0, old.overrides.length);
          fresh.refresh();
          old.generation++; // pending arrivals of the old incarnation are dropped
          dirs[i][j] = fresh;
        }
      }
    }
  }

  @Override
  public long inFlight() { return inFlight; }

  @Override
  public List<String> stats() {
    List<String> out = new ArrayList<>();
    for (Dir[] row : dirs) {
      for (Dir x : row) {
        if (x == null) continue;
        out.add(String.format("%s sent=%d delivered=%d dropped=%d duplicated=%d reordered=%d replayed=%d"
                + " duplicatesDropped=%d resequenced=%d rawDuplicates=%d rawOutOfOrder=%d", x.direction, x.sent,
            x.delivered, x.dropped, x.duplicated, x.reordered, x.replayed, x.duplicatesDropped, x.resequenced,
            x.rawDuplicates, x.rawOutOfOrder));
      }
    }
    return out;
  }

  @Override
  public List<String> lost() { return List.copyOf(lost); }
}
