package hmmemu.sim;

import static hmmemu.sim.FastForwardTotals.*;

import hmmemu.node.link.SplitMix64;
import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fast-forward of deadline spins (issue 12): a driver loop spinning to its deadline (nouveau_atomic_range_fault's
 * HMM_RANGE_DEFAULT_TIMEOUT, docs/PROTOCOL.md §8 R7) whose whole simulator state repeats with a period of p failed
 * rounds, up to time, statistics, random streams and identity families, is advanced by n periods in O(state) instead
 * of being simulated. An emulator-only host mechanism, not a kernel structure; docs/RESULTS.md "Fast-forward, session
 * 8" gives the argument, {@code FastForwardEquivalenceTest} checks it against unskipped runs.
 *
 * <p>Detection, cheap first: after {@link #MIN_STREAK} failed read_retry rounds in a row of one device, the model
 * time, events fired and random draws at the agenda boundary after each failed round are kept; a period p
 * (1..{@link #MAX_PERIOD} rounds) whose {@link #REPEATS} last periods moved each of them by the same amount is a
 * candidate. Then {@link StateWalk} pictures the whole state at 1 + REPEATS boundaries p rounds apart: every leaf
 * must move by the same amount in each period (nanosecond leaves: the period P ns), or, for a leaf of a
 * {@link FastForwardSites#MICROS} site, move as floor((now + c) / 1000) does for one constant c.
 *
 * <p>The jump (at the last picture's boundary): n periods, n x P a multiple of 1,000 ns (so every microsecond leaf
 * moves by exactly n x P / 1000); a leaf of an {@link FastForwardSites#IDENTITY} site stays where it is (its family
 * is shifted by a constant in all its places, which nothing compares but with itself); a leaf of a
 * {@link FastForwardSites#REPORT_ONLY} site stays (it serves violation reports only); an agenda instant moves by n x P and the event's tie key by n x its step a
 * period (its sequence number becomes the one the unskipped run gives it, {@link TieRule}); every other moving leaf
 * is written v + n x delta (time, statistics, the random streams' state: SplitMix64's seed + n x draws x gamma is
 * its jump); a moving leaf that cannot be written refuses the jump.
 * Bounds: every leaf that does not move and lies ahead in the window (ns or µs: a loop's deadline, a lease, a CPU
 * thread's wake, a fault-schedule instant, an agenda event that does not move) keeps n such that at least
 * {@link #MARGIN} periods are simulated before it; so does the run's own bound (model time, events). Ties between
 * simultaneous events are ordered by {@link TieRule} (a per-seed priority, then first scheduled first: no draw), so
 * the agenda's tie keys at the pictures' boundaries, in firing order, must move by the same step each period, as every
 * leaf must. Refused: a draw of the run's random source in the observed periods, a moving link stream whose outcomes
 * are not constant by construction, a scheduler that met a choice point in the observed periods ({@link ScheduledJump}).
 */
public final class FastForward {
  /**
   * Failed rounds in a row of one device's loop before its state is looked at: past the windows the pictures show of
   * the histories a spin turns (the checker's rings, {@link StateWalk#RING_WINDOW}, and {@link PeriodicLog#WINDOW}: 64
   * entries each), which must hold entries of the spin only before the pictures can repeat. The rings themselves
   * (4,096 ids) need not fill: the jump refills them ({@link FastForwardRings#refusal}), in whole when n periods bring
   * 4,096 entries or more, else in part ({@link FastForwardRings#partialIds}: the older entries kept, relabelled).
   */
  static final int MIN_STREAK = 128;
  /** Periods that must repeat. */
  static final int REPEATS = 3;
  /** Longest period tried, in failed rounds of the watched device. */
  static final int MAX_PERIOD = 4;
  /**
   * Failed rounds a jump must be able to skip for a look to be taken ({@code -Dhmm.ff.minJumpRounds}, default 300): a
   * look (four pictures and the judging) costs about as much CPU as ~300 simulated rounds of the R9 rows since session
   * 20 (fflook3: ~3.5 ms warm; 400 before, docs/PERFORMANCE.md "Session 20: fflook3": 200 skips more rounds than 300
   * but pays as much again in looks). Decides only whether to look, never what a jump writes.
   */
  static final int MIN_JUMP_ROUNDS = Integer.getInteger("hmm.ff.minJumpRounds", 300);

  /** Periods simulated before the first leaf ahead (a deadline, a lease, a wake) at least. */
  static final int MARGIN = 2;

  /** One jump: the watched device, failed rounds skipped, model time skipped (ns), model time of the jump (ns). */
  public record Jump(int device, long rounds, long nanos, long atNanos) {}

  /** A detected cycle (diagnostics): device, period in failed rounds, P ns, the moving leaves (path +delta). */
  public record Cycle(int device, int rounds, long periodNanos, List<String> moving) {}

  private final Sim sim;
  private boolean jumpOn = true;
  private final Map<Integer, Integer> streak = new HashMap<>();
  private final Map<Integer, Integer> threshold = new HashMap<>();
  private final Map<Integer, Boolean> jumpedThisLoop = new HashMap<>();
  private int minStreak = Integer.getInteger("hmm.ff.minStreak", MIN_STREAK);
  private int minJumpRounds = MIN_JUMP_ROUNDS;
  /** When to look again at a spin a jump's leaf interrupted (a short streak, session 21). */
  private final FastForwardResume resume = new FastForwardResume(FastForwardResume.RESUME_STREAK);
  private int watching = -1;
  /**
   * Per boundary of the watched device: now, fired, draws of the run's PRNG, ties met so far, InvalidateEnded and
   * FolioUnlockPutDone events judged, choice points met ({@link ScheduledJump}).
   */
  private final List<long[]> marks = new ArrayList<>();
  private int period;
  private final List<StateWalk> shots = new ArrayList<>();
  /** Per picture, the agenda's tie keys in firing order (the pictures leave them out: StateWalk#agenda). */
  private final List<long[]> tieShots = new ArrayList<>();
  private int nextShotAt;
  /** A watched failed round ended in the agenda event that just fired: look at its boundary. */
  boolean due;
  private long ties;
  /** InvalidateEnded and FolioUnlockPutDone events judged so far (upper bounds of the checker's two rings' intake). */
  private long ended, released;
  /** Per device in a streak, the model time (ns) of its loop's first failed round: its deadline is at most D later. */
  private final Map<Integer, Long> firstFailed = new HashMap<>();
  private final List<Jump> jumps = new ArrayList<>();
  private final List<Cycle> cycles = new ArrayList<>();
  private final Map<String, Integer> refusals = new LinkedHashMap<>();
  private long spins, spinsJumped, attempts;

  FastForward(Sim sim) { this.sim = sim; }

  /** Failed rounds in a row before the first look (default {@link #MIN_STREAK}); for diagnostics and tests. */
  public FastForward minStreak(int n) {
    this.minStreak = n;
    return this;
  }

  /** Failed rounds a jump must be able to skip before a look is taken (default {@link #MIN_JUMP_ROUNDS}); for tests. */
  public FastForward minJumpRounds(int n) {
    this.minJumpRounds = n;
    return this;
  }

  /** With {@code false}, cycles are detected and recorded ({@link #cycles}) but never jumped (a diagnostic). */
  public FastForward jump(boolean on) {
    this.jumpOn = on;
    return this;
  }

  /** The agenda took {@code e}; {@code next} is the new minimum: equal instants were ordered by their tie keys. */
  void polled(EventQueue.Event e, EventQueue.Event next) {
    if (next != null && next.atNanos == e.atNanos) {
      ties++;
      if (onTie != null) onTie.accept(e, next);
    }
  }

  /** Diagnostics: hears each tie (the event taken, the one due at the same instant left for later), or null. */
  java.util.function.BiConsumer<EventQueue.Event, EventQueue.Event> onTie;

  /** A trace event the simulator just judged: counts failed rounds per device, and ends a streak at a loop's end. */
  void onEvent(Trace.Event e) {
    if (e instanceof Trace.InvalidateEnded) ended++;
    else if (e instanceof Trace.FolioUnlockPutDone) released++;
    if (e instanceof Trace.ReadRetryChecked r) {
      if (!r.retry()) return;
      int d = r.deviceId();
      int s = streak.merge(d, 1, Integer::sum);
      if (s == 1) firstFailed.put(d, sim.nowNanos());
      resume.failed(d, s, ended, released);
      if (rearmAtNs >= 0) {
        if (sim.nowNanos() < rearmAtNs) return;
        rearmAtNs = -1;
        resume.rearm(streak, threshold, minStreak);
      }
      if (s >= threshold.getOrDefault(d, minStreak) && (watching < 0 || watching == d)) {
        watching = d;
        due = true;
      }
    } else if (e instanceof Trace.DriverFaultHandled h) {
      Integer s = streak.remove(h.deviceId());
      if (LOG != null && s != null && s >= minStreak) log("end " + h.deviceId() + " " + sim.nowNanos() + " " + s);
      if (s != null && s >= minStreak) {
        spins++;
        TOTAL_SPINS.increment();
        if (jumpedThisLoop.getOrDefault(h.deviceId(), false)) {
          spinsJumped++;
          TOTAL_SPINS_JUMPED.increment();
        }
      }
      jumpedThisLoop.remove(h.deviceId());
      resume.ended(h.deviceId());
      firstFailed.remove(h.deviceId());
      threshold.remove(h.deviceId());
      if (watching == h.deviceId()) stopWatching();
    }
  }

  private void stopWatching() {
    watching = -1;
    marks.clear();
    shots.clear();
    tieShots.clear();
    period = 0;
    due = false;
  }

  /**
   * No cycle (or a jump done): look again after as many failed rounds again as this device had; but after a jump, or a
   * look refused as too close (at most {@link #REARMS_TOO_CLOSE} in a row), bounded by a leaf ahead (a CPU thread's
   * wake, a lease), look again {@link #minStreak} failed rounds after that leaf's instant (session 17, demoff), or,
   * after a jump, a short streak ({@link FastForwardResume}, session 21).
   */
  private void backOff(String why) {
    if (why != null) {
      refusals.merge(why, 1, Integer::sum);
      TOTAL_REFUSALS.computeIfAbsent(why, k -> new java.util.concurrent.atomic.LongAdder()).increment();
    }
    int d = watching;
    int s = Math.max(streak.getOrDefault(d, minStreak), minStreak);
    if (LOG != null) {
      String what = why == null ? "JUMP " + jumps.get(jumps.size() - 1).rounds() + " by " + boundedBy.get(boundedBy.size() - 1)
          : why == TOO_CLOSE && !tooClose.isEmpty() ? why + " by " + tooClose.get(tooClose.size() - 1)
          : why == NO_ROOM ? why + " " + roomWhy : why;
      log("look " + d + " " + sim.nowNanos() + " " + streak.getOrDefault(d, 0) + " " + period + " " + what
          + FastForwardResume.intake(marks, period) + " [looks so far "
          + (TOTAL_PICTURE_CPU.sum() + TOTAL_JUDGE_CPU.sum()) / 1_000_000 + " ms CPU, thread " + FastForwardDiagnostics.cpuNanos() / 1_000_000 + " ms;"
          + " pictures " + TOTAL_PICTURE_CPU.sum() / 1000 + " us, judging " + TOTAL_JUDGE_CPU.sum() / 1000 + " us, leaves "
          + lastLeaves + ", objects " + lastObjects + ", ring entries folded again " + ringFolds.hits + " walked " + ringFolds.walks + "]");
    }
    if (resume.fellBack(d, why, streak, threshold)) {
      // a look after a short streak refused: the normal streak's threshold again (when to look only)
    } else if ((why == null || why == TOO_CLOSE) && boundAtNs > sim.nowNanos() && (why == null || tooCloseInARow < REARMS_TOO_CLOSE)) {
      // bounded by a leaf ahead (a CPU thread's wake, a lease, a timer): look again once it has passed and the spin
      // has settled again, not after as many failed rounds again as this device had (a decision of when to look only)
      tooCloseInARow = why == null ? 0 : tooCloseInARow + 1;
      rearmAtNs = boundAtNs;
      if (why == null) resume.jumped(marks, period);
      threshold.put(d, s);
    } else {
      threshold.put(d, 2 * s);
    }
    boundAtNs = -1;
    stopWatching();
  }

  /**
   * Model time (ns) of the leaf ahead that bounded the last jump, or left a look too close to it; -1 when none (the
   * run's bounds). Decides only when to look next.
   */
  private long boundAtNs = -1;

  /**
   * No look before this model time (ns; -1: none): the leaf ahead that bounded the last jump (or refused the last look
   * as too close). At the first failed round at or after it every device in a streak is looked at again after
   * {@link #minStreak} more failed rounds (the spin settled after what that leaf brought, as at a loop's start).
   */
  private long rearmAtNs = -1;

  /** Looks refused as too close in a row, each followed by a look after its leaf: at most {@link #REARMS_TOO_CLOSE}. */
  private int tooCloseInARow;

  /** Looks refused as too close in a row that may each be retried after their leaf, before the threshold doubles. */
  static final int REARMS_TOO_CLOSE = 2;

  /** Diagnostics ({@code -Dhmm.ff.log=FILE}): each look's outcome and each spin's end, one line each; never enters the run. */
  private static final java.io.PrintStream LOG = FastForwardDiagnostics.openLog();

  /** Whether this simulator's configuration has been written to the log (diagnostics). */
  private boolean loggedConfig;

  /** Diagnostics: the figures behind the last refusal before any picture (period, P, step of n, periods left). */
  private String roomWhy = "";

  private void log(String line) {
    synchronized (LOG) {
      if (!loggedConfig) { // which run (a row of a sweep) the following lines are of
        loggedConfig = true;
        SimConfig c = sim.config();
        LOG.println(System.identityHashCode(sim) + " sim seed " + c.seed() + " gpus " + c.gpuNodes() + " link "
            + c.link().defaults() + " switches " + c.switches());
      }
      LOG.println(System.identityHashCode(sim) + " " + line);
    }
  }

  /** The agenda boundary after a watched failed round (runUntil's bounds: model time and the event count). */
  void boundary(long untilNanos, long firedLimit) {
    due = false;
    marks.add(new long[] {sim.nowNanos(), sim.fired(), sim.random().draws(), ties, ended, released, sim.choicePoints()});
    if (period == 0) {
      int m = marks.size() - 1;
      for (int p = 1; p <= MAX_PERIOD && m >= REPEATS * p; p++) {
        if (cheapCycle(p)) {
          long[] a = marks.get(m - REPEATS * p), b = marks.get(m);
          // refusals the marks already show, before any picture is paid for
          if (b[2] != a[2]) {
            backOff(DREW);
            return;
          }
          if (b[6] != a[6] && ScheduledJump.refusal(sim, marks, p, REPEATS) != null) {
            backOff(ScheduledJump.CHOSE);
            return;
          }
          if (!roomForAJump(p, untilNanos)) {
            backOff(NO_ROOM);
            return;
          }
          if (!resume.clean(watching, p)) { // an early look whose rings hold a foreign entry: the short streak's look
            threshold.put(watching, resume.notClean(watching));
            stopWatching();
            return;
          }
          period = p;
          nextShotAt = marks.size() - 1;
          attempts++;
          break;
        }
      }
      if (period == 0) {
        if (m >= REPEATS * MAX_PERIOD) backOff("no period in the model time of the last rounds");
        return;
      }
    }
    if (marks.size() - 1 != nextShotAt) return;
    long t0 = System.nanoTime(), c0 = FastForwardDiagnostics.cpuNanos(); // diagnostics only: never enter the run
    // the last one full, the others light; sized as the last picture was
    StateWalk w = StateWalk.window(sim, false, shots.size() == REPEATS, lastLeaves, lastObjects, arrayHashes, ringFolds);
    TOTAL_PICTURE_CPU.add(FastForwardDiagnostics.cpuNanos() - c0);
    if (ringFolds.check) FastForwardDiagnostics.sameWithoutFolds(sim, w);
    lastLeaves = w.size();
    lastObjects = w.objects();
    pictures++;
    pictureNanos += System.nanoTime() - t0;
    pictureLeaves += w.size();
    if (w.opaque != null) {
      int d = watching;
      boolean resumed = resume.resumed(d); // after a short streak: the normal streak, not "never again in this loop"
      backOff("picture: " + w.opaque);
      if (StateWalk.TOO_LARGE.equals(w.opaque) && !resumed) threshold.put(d, Integer.MAX_VALUE); // not again in this loop
      return;
    }
    shots.add(w);
    if (shots.size() == 1 && FastForwardWakeProbe.OUT != null) FastForwardWakeProbe.firstPicture(sim);
    tieShots.add(TieRule.inFiringOrder(sim.agenda()));
    nextShotAt += period;
    if (shots.size() == 2 && shots.get(0).size() != w.size()) {
      int d = watching;
      boolean resumed = resume.resumed(d);
      backOff("the state grew (a history): " + grown());
      if (!resumed) threshold.put(d, Integer.MAX_VALUE); // a history that grows in this loop keeps growing: not again in it
      return;
    }
    if (shots.size() < REPEATS + 1) return;
    long c1 = FastForwardDiagnostics.cpuNanos();
    String why = tryJump(untilNanos, firedLimit);
    TOTAL_JUDGE_CPU.add(FastForwardDiagnostics.cpuNanos() - c1);
    backOff(why);
  }

  /**
   * Whether a jump could still fit before the deadline of every loop in a streak (at most D after its first failed
   * round) and the run's bound, after the pictures to come: REPEATS periods, then MARGIN + 1, and a jump of at least one step of n
   * (n x P a multiple of 1,000 ns). A ring refill of fewer than 4,096 entries is partial, so the rings bound nothing
   * (with -Dhmm.ff.fullRings=true, as before: n x a ring's entries a period >= 4,096; the InvalidateEnded,
   * FolioUnlockPutDone events a period bound the ended, released ring's entries from above). A cheap necessary condition of
   * {@link #tryJump}'s bounds (barring such an event its ring does not take in), so it refuses only looks that
   * would be refused after four pictures; it never decides how a jump is made. The step of n doubles (when odd) when the last
   * look found a notifier seq moving by an odd step a period ({@link #seqOdd}), as tryJump's does when it finds that
   * again (a guess from the last look: when wrong, a look that could have jumped is skipped, which only skips less).
   */
  private boolean roomForAJump(int p, long untilNanos) {
    long dMicros = sim.config().switches().driverDeadlineMicros();
    // every loop in a streak (the watched one and another device's) has its deadline ahead, a leaf that bounds n
    long first = firstFailed.values().stream().mapToLong(Long::longValue).min().orElse(-1);
    if (first < 0 || dMicros <= 0 || dMicros > 3_600_000_000L) return true;
    int m = marks.size() - 1;
    long pNanos = marks.get(m)[0] - marks.get(m - p)[0];
    if (pNanos <= 0) return true;
    long left = (Math.min(untilNanos, first + dMicros * 1000 + 1000) - sim.nowNanos()) / pNanos;
    // the step of n: n x P a multiple of 1,000 ns with -Dhmm.ff.microsStep, else any n (landing), even for an odd seq
    long step = FastForwardLanding.MICROS_STEP ? 1000 / gcd(Math.floorMod(pNanos, 1000), 1000) : 1;
    if (seqOdd && step % 2 != 0) step *= 2;
    long ring = 1; // a ring refill of fewer than 4,096 entries is partial: no bound of its own (but -Dhmm.ff.fullRings)
    if (FastForwardRings.FULL_ONLY) {
      for (int j = 4; j <= 5; j++) { // the ended ring (InvalidateEnded), the released ring (FolioUnlockPutDone)
        long per = marks.get(m)[j] - marks.get(m - p)[j];
        if (per > 0) ring = Math.max(ring, (FastForwardRings.RING_KEPT + per - 1) / per);
      }
    }
    if (LOG != null) roomWhy = "{p " + p + " P " + pNanos + " step " + step + " left " + left + "}";
    if (left < REPEATS + MARGIN + 1 + Math.max(step, ring)) return false;
    // worth a look: the most this jump could skip (n periods of p rounds, n a multiple of step) pays for the pictures
    return (left - REPEATS - MARGIN - 1) / step * step * p >= minJumpRounds;
  }

  /** Whether the last REPEATS periods of p rounds moved time, events fired and draws by the same amounts. */
  private boolean cheapCycle(int p) {
    int m = marks.size() - 1;
    for (int j = 0; j < 4; j++) {
      long d = marks.get(m)[j] - marks.get(m - p)[j];
      for (int k = 2; k <= REPEATS; k++) {
        if (marks.get(m - (k - 1) * p)[j] - marks.get(m - k * p)[j] != d) return false;
      }
    }
    return marks.get(m)[0] > marks.get(m - p)[0];
  }

  /** Checks the pictures and jumps; returns null when jumped, else why not. */
  private String tryJump(long untilNanos, long firedLimit) {
    int m = marks.size() - 1;
    long[] a = marks.get(m - REPEATS * period), b = marks.get(m);
    long pNanos = (b[0] - a[0]) / REPEATS, firedPer = (b[1] - a[1]) / REPEATS, drawsPer = (b[2] - a[2]) / REPEATS;
    if (drawsPer != 0) return DREW;
    long[] tieStep = TieRule.steps(tieShots);
    if (tieStep == null) return "the agenda's tie keys do not move by the same step each period";
    String byScheduler = ScheduledJump.refusal(sim, marks, period, REPEATS);
    if (byScheduler != null) return byScheduler;
    long delayBound = ScheduledJump.delayBound(sim);
    StateWalk last = shots.get(REPEATS);
    int size = last.size();
    for (StateWalk s : shots) if (s.size() != size) return "the state grew (a history)";
    long nowNs = sim.nowNanos();
    long nowUs = nowNs / 1000;
    // unit: the periods per jump step so that n x P is a multiple of 1,000 ns
    long unit = 1000 / gcd(Math.floorMod(pNanos, 1000), 1000);
    long horizon = Math.min(untilNanos - nowNs, 3_600_000_000_000L); // at most an hour of model time a jump
    long nMax = horizon / pNanos - MARGIN;
    if (firedLimit != Long.MAX_VALUE && firedPer > 0) nMax = Math.min(nMax, (firedLimit - sim.fired()) / firedPer - MARGIN);
    String bySite = "the run's bounds";
    boundAtNs = -1;
    long[] delta = new long[size];
    // the microsecond leaves: index, and the range [lo, hi] of their constant c (leaf = floor((now + c) / 1000))
    int nMicros = 0;
    int[] microsAt = new int[16];
    long[] microsC = new long[32];
    byte[] kind = new byte[size]; // 0 fixed, 1 linear, 2 micros, 3 stays (identity, report only), 4 a history
    boolean linkMoves = false, oddSeq = false;
    java.util.Set<String> unwritable = new java.util.TreeSet<>(), uneven = new java.util.TreeSet<>(),
        unknown = new java.util.TreeSet<>();
    String lastSite = null;
    int lastBits = 0;
    for (int i = 0; i < size; i++) {
      StateWalk.Leaf l = last.leaves.get(i);
      long d = l.value() - shots.get(REPEATS - 1).value(i);
      boolean linear = true;
      for (int k = 1; k <= REPEATS; k++) {
        StateWalk x = shots.get(k), y = shots.get(k - 1);
        if (x.where(i) != y.where(i)) return "the state changed shape" + (named ? ": " + named(i) : "");
        if (x.value(i) - y.value(i) != d) linear = false;
      }
      String site = l.site();
      if (site != lastSite) { // leaves of one site come in runs (an object's fields, an array): one lookup a run
        lastSite = site;
        lastBits = FastForwardSites.bits(site);
      }
      int bits = lastBits;
      if ((bits & FastForwardSites.REPORT_ONLY_BIT) != 0) {
        kind[i] = 3;
        continue;
      }
      if ((bits & FastForwardSites.MICROS_BIT) != 0 && (d != 0 || !linear)) {
        if (nMicros == microsAt.length) {
          microsAt = java.util.Arrays.copyOf(microsAt, 2 * nMicros);
          microsC = java.util.Arrays.copyOf(microsC, 4 * nMicros);
        }
        if (!microsLeaf(i, microsC, nMicros)) return "a microsecond leaf does not follow model time: " + named(i);
        microsAt[nMicros++] = i;
        kind[i] = 2;
        continue;
      }
      if (!linear) {
        if (uneven.size() < 40) uneven.add(named ? named(i) : site);
        continue;
      }
      delta[i] = d;
      if (d == 0) {
        // a leaf ahead in the window bounds the jump, if it may be an instant (its field is named as one)
        if ((bits & FastForwardSites.INSTANT) == 0 || !l.number()) continue; // a null, a type, a size: never an instant
        long v = l.value();
        int unitOf = bits & 3; // 1 ns only, 2 µs only, 3 either (unitOf)
        long boundNs = (unitOf & 1) != 0 && v > nowNs ? v : -1;
        // an agenda event that does not move may become a choice under a scheduler's delay bound D once the spin's
        // events come within D of it: bounded D earlier (ScheduledJump#delayBound)
        if (boundNs > 0 && delayBound > 0 && l.owner() instanceof EventQueue.Event) boundNs = Math.max(nowNs + 1, v - delayBound);
        long boundUs = (unitOf & 2) != 0 && v > nowUs && v < Long.MAX_VALUE / 1000 ? v * 1000 : -1;
        for (long bound : new long[] {boundNs, boundUs}) {
          if (bound > nowNs && bound - nowNs <= (nMax + MARGIN) * pNanos) {
            nMax = Math.min(nMax, (bound - nowNs) / pNanos - MARGIN - 1);
            bySite = site + (bound == boundNs ? " (ns " : " (µs ") + v + ")";
            boundAtNs = bound;
          }
        }
        continue;
      }
      if (named) moving.merge(site + (l.writable() ? "" : " (not writable)"), "+" + d, (x, y) -> x.equals(y) ? x : x + "," + y);
      if ((bits & FastForwardSites.IDENTITY_BIT) != 0) { // identity(site)
        // a seq's parity says whether an invalidation is in progress (mmu_interval_read_begin): shift it by even steps
        if (site.endsWith("eq") && (d & 1) != 0) oddSeq = true;
        kind[i] = 3;
        continue;
      }
      if (!FastForwardSites.ADVANCE.containsKey(site)) {
        if (unknown.size() < 40) unknown.add(site + " +" + d);
        continue;
      }
      if (l.owner() instanceof SplitMix64 r && r != sim.random()) linkMoves = true;
      if (!l.writable()) {
        if (unwritable.size() < 40) unwritable.add(site);
        continue;
      }
      if (FastForwardRings.refills(site)) {
        if (d < 0) return "a checker ring took in " + d + " entries a period";
        kind[i] = 5; // the checker's ring: refilled as n more periods leave it (see FastForwardRings.refusal)
        continue;
      }
      if (l.owner() instanceof PeriodicLog<?>) {
        // the window shows the last WINDOW entries the same in every picture: the d entries a period appends repeat
        if (d < 0 || d > PeriodicLog.WINDOW) return "a history grows by " + d + " entries a period (more than its window)";
        kind[i] = 4;
        continue;
      }
      kind[i] = 1;
    }
    if (!unknown.isEmpty()) return "moving leaves on no list (identity, advance, micros, report only): " + unknown;
    if (!uneven.isEmpty()) return "leaves that do not move by the same amount each period: " + uneven;
    if (!unwritable.isEmpty()) return "moving leaves that cannot be written: " + unwritable;
    if (linkMoves && !(sim.linkStage() instanceof ModeledLinkStage ls && ls.drawsFixed())) {
      return "a link stream draws outcomes that are not constant by construction";
    }
    // n even (every seq then moves by an even step): a step already even makes every n even (session 17, demoff)
    if (oddSeq && unit % 2 != 0) unit *= 2;
    seqOdd = oddSeq;
    long bySched = ScheduledJump.maxPeriods(sim, marks, period, REPEATS, shots, untilNanos, pNanos);
    if (bySched < nMax) { // the scheduler's repeats end first (ScheduledJump): look again once past them
      nMax = bySched;
      bySite = ScheduledJump.BY_SCHEDULER;
      boundAtNs = nowNs + (Math.max(0, bySched) + 1) * pNanos;
    }
    long n = nMax / unit * unit;
    if (!FastForwardLanding.MICROS_STEP && nMax > n) n = FastForwardLanding.landing(nMax, n, oddSeq, nowNs, pNanos, microsC, nMicros);
    if (n <= 0 && jumpOn) { // before the rings' check, which costs more and cannot make room
      tooClose.add(bySite + " [nMax " + nMax + ", unit " + unit + "]");
      return TOO_CLOSE;
    }
    // a ring that n periods refill with fewer than 4,096 entries is refilled partially (FastForwardRings.partialIds)
    String ringWhy = FastForwardRings.refusal(last, delta, kind, n);
    if (ringWhy != null) return ringWhy;
    cycles.add(new Cycle(watching, period, pNanos, List.of()));
    if (!jumpOn) return "jumps are off";
    if (n <= 0) {
      tooClose.add(bySite);
      return TOO_CLOSE;
    }
    if (!TieRule.advances(sim.agenda(), n, tieStep)) return "a tie key's sequence number would overflow";
    // the jump
    if (FastForwardWakeProbe.OUT != null) FastForwardWakeProbe.beforeJump(sim, last, delta, kind, pNanos, n);
    TieRule.advance(sim.agenda(), n, tieStep); // first: in the firing order the steps were measured in
    try {
      for (int i = 0; i < size; i++) {
        StateWalk.Leaf l = last.leaves.get(i);
        if (kind[i] == 1) {
          if (l.owner() instanceof EventQueue.Event e) {
            if (delta[i] != pNanos) return "an agenda instant moves by " + delta[i] + " ns a period, not " + pNanos;
            e.atNanos += n * pNanos;
          } else {
            l.write(l.value() + n * delta[i]);
          }
        } else if (kind[i] == 2) {
          l.write(Math.floorDiv(nowNs + n * pNanos + FastForwardLanding.microsC(i, microsAt, microsC, nMicros), 1000));
        } else if (kind[i] == 4) {
          ((PeriodicLog<?>) l.owner()).repeatLast((int) delta[i], n);
        } else if (kind[i] == 5 && FastForwardRings.partial(delta, i, n)) {
          FastForwardRings.refillPartial(l, (int) delta[i], n);
        } else if (kind[i] == 5) {
          FastForwardRings.refill(l, (int) delta[i], n);
        }
      }
    } catch (ReflectiveOperationException | ArithmeticException ex) {
      throw new IllegalStateException("fast-forward: a leaf could not be written after the checks: " + ex, ex);
    }
    sim.agenda().rekey();
    Jump j = new Jump(watching, n * period, n * pNanos, nowNs);
    jumps.add(j);
    boundedBy.add(bySite);
    TOTAL_JUMPS.increment();
    TOTAL_ROUNDS.add(j.rounds());
    TOTAL_NANOS.add(j.nanos());
    jumpedThisLoop.put(watching, true);
    ScheduledJump.skipped(sim, marks, period, REPEATS, n);
    sim.foldJump(j);
    if (ScheduledJump.keysIncomparable(sim)) keysIncomparable = true;
    return null;
  }

  /**
   * Whether a jump of this run followed choice points of its scheduler: its state keys are no longer comparable with
   * other runs' ({@link ScheduledJump}), and {@link Sim#stateKey} throws.
   */
  boolean keysIncomparable;

  /** The refusal before any picture for a loop's deadline that leaves no room for a jump worth a look. */
  static final String NO_ROOM = "the loop's deadline is too close for a jump worth a look (seen before any picture)";

  /** The refusal for a leaf ahead that leaves no room for a jump of n x P a multiple of 1,000 ns. */
  static final String TOO_CLOSE = "a leaf ahead (deadline, lease, wake, fault, the run's bounds) is too close";

  /**
   * Whether the last look that got so far found a notifier seq moving by an odd step a period (the jump's step of n
   * then doubles when odd): {@link #roomForAJump} expects the same of the next look. Decides only whether to look.
   */
  private boolean seqOdd;

  /** The refusal for a draw of the run's PRNG in the observed periods (its outcomes need not repeat). */
  private static final String DREW = "the run's random source drew in the observed periods (a hop delay, a workload's choice)";

  /**
   * Whether leaf i of the pictures is floor((now + c) / 1000) for one constant c at every picture; the range of such c
   * goes to {@code c[2j]}, {@code c[2j + 1]}.
   */
  private boolean microsLeaf(int i, long[] c, int j) {
    long lo = Long.MIN_VALUE, hi = Long.MAX_VALUE;
    int m = marks.size() - 1;
    for (int k = 0; k <= REPEATS; k++) {
      long now = marks.get(m - (REPEATS - k) * period)[0];
      long v = shots.get(k).value(i);
      lo = Math.max(lo, v * 1000 - now);
      hi = Math.min(hi, v * 1000 + 999 - now);
    }
    c[2 * j] = lo;
    c[2 * j + 1] = hi;
    return lo <= hi;
  }


  private String named(int i) {
    StateWalk w = StateWalk.window(sim, true);
    StateWalk.Leaf l = w.leaves.get(i);
    return l.path() + " (" + l.site() + ")";
  }

  /** The first path where the first two pictures differ in shape (diagnostics: costs a named picture). */
  private String grown() {
    if (!named) return "";
    StateWalk a = shots.get(0), b = StateWalk.window(sim, true);
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      if (a.where(i) != b.where(i)) return b.leaves.get(i).path() + " (" + b.leaves.get(i).site() + ")";
    }
    return "at the end";
  }

  /** Per refusal for a leaf too close ahead, that leaf (site and value; diagnostics). */
  public final List<String> tooClose = new ArrayList<>();

  /** Per jump, the leaf ahead that bounded it (site and value) or the run's bounds (diagnostics). */
  public final List<String> boundedBy = new ArrayList<>();

  /** The moving sites of the last look, with their deltas (diagnostics, hmm.ff.named). */
  public final Map<String, String> moving = new java.util.TreeMap<>();

  /** Whether refusals name the leaf (a named picture each: slow; diagnostics). */
  private boolean named = Boolean.getBoolean("hmm.ff.named");

  private static long gcd(long a, long b) { return b == 0 ? a : gcd(b, a % b); }

  /** {@link FastForwardDiagnostics#differences}: where two simulators' state pictures differ (equivalence tests). */
  public static Map<String, String> differences(Sim unskipped, Sim fastForwarded) {
    return FastForwardDiagnostics.differences(unskipped, fastForwarded);
  }

  /** {@link FastForwardTotals#refusals}: the JVM's most frequent reasons not to jump so far (diagnostics). */
  public static String totalsRefusals() { return FastForwardTotals.refusals(); }

  /** {@link FastForwardTotals#json}: the JVM's fast-forward figures so far as JSON members. */
  public static String totalsJson() { return FastForwardTotals.json(); }

  /** {@link FastForwardTotals#numbers}: jumps, skipped rounds, skipped µs, spins, spins jumped. */
  public static long[] totals() { return FastForwardTotals.numbers(); }

  /** {@link FastForwardTotals#line}: {@link #totalsJson} as one line of text. */
  public static String totalsLine() { return FastForwardTotals.line(); }

  /** Jumps made so far. */
  public List<Jump> jumps() { return List.copyOf(jumps); }

  /** Failed rounds skipped by jumps so far. */
  public long skippedRounds() { return jumps.stream().mapToLong(Jump::rounds).sum(); }

  /** Model time skipped by jumps so far (ns). */
  public long skippedNanos() { return jumps.stream().mapToLong(Jump::nanos).sum(); }

  /** Cycles found (whether jumped or not). */
  public List<Cycle> cycles() { return List.copyOf(cycles); }

  /** Why looks at the state did not jump, with how often. */
  public Map<String, Integer> refusals() { return Map.copyOf(refusals); }

  /** Driver loops that spun at least {@link #MIN_STREAK} failed rounds, and of those, the ones with a jump. */
  public long spins() { return spins; }

  public long spinsJumped() { return spinsJumped; }

  /** {@link FastForwardDiagnostics#leavesBySite}: the sites with the most leaves in a picture (diagnostics). */
  public static String leavesBySite(Sim sim, int top) { return FastForwardDiagnostics.leavesBySite(sim, top); }

  /** The large folded arrays' hashes kept between this simulator's pictures (session 22, ffwake). */
  private final StateWalkArrayHashes arrayHashes = new StateWalkArrayHashes();
  /** The checker rings' entry folds kept between this simulator's pictures ({@link RingFolds}; session 24, ffchg). */
  final RingFolds ringFolds = new RingFolds();

  /** The last picture's leaves and objects (the next one is sized for them). */
  private int lastLeaves = 4 * 8192, lastObjects = 8192;

  /** Pictures taken, the wall time they took and their leaves (diagnostics: the fast-forward's own cost). */
  public long pictures, pictureNanos, pictureLeaves;

  /** Candidate periods pictured. */
  public long attempts() { return attempts; }
}
