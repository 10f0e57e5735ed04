package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Issue 13: {@code hmm-emu explore} of every scenario file in {@code mvn verify} (docs/TESTING.md "Exploring every
 * file"). Each file of scenarios/cases, scenarios/faults, scenarios/explore and scenarios/found is explored in the
 * simulator with PCT (the CLI's default strategy, so the printed command replays the very search), seed 1 and a
 * budget of {@link #BUDGET} schedules, of which at most {@link #RUNS} runs with at most {@link #POINTS} choice points
 * in all are simulated (a schedule repeating one already run is counted, not simulated again: Explorer.simulatedRuns;
 * {@code hmm-emu explore --max-runs} replays where it stopped):
 * <ul>
 *   <li>a case or fault file states only what holds in every order, so no schedule may fail; a failure is a finding
 *       (or an expectation the file states wrongly) and the message gives the command that finds, shrinks and writes
 *       it;
 *   <li>an explore file may fail only with its target's kind ({@link #EXPLORE_KINDS}; ExploreFilesTest checks that it
 *       is found, with budgets measured for that);
 *   <li>a found file must fail with its recorded {@code # explore-verdict} (its order or pause points pin it).
 * </ul>
 * Each file is also searched exhaustively (the CLI's default deviation bound, with state hashing) for at most
 * {@link #EXHAUSTIVE_BUDGET} schedules and {@link #EXHAUSTIVE_STATES} choice points, with the same rules ({@link #checkExhaustive}); a file whose bounded space is
 * exhausted within them has had every schedule within the bound explored, which is more than a budget of 1,000.
 * The explorations are independent (each builds its own simulated worlds), so they run on {@link #THREADS} threads.
 * {@code -Dhmm.scenario=a,b} narrows the files as in SimScenariosTest, {@code -Dhmm.explore.every-budget=N},
 * {@code -Dhmm.explore.every-runs=R} and {@code -Dhmm.explore.every-exhaustive=E} and {@code -Dhmm.explore.every-states=S} set the budgets. Each file's
 * schedules, simulated runs, exhaustion, wall and CPU time are printed, and at the end how many files had issue 13's
 * budget of 1,000 schedules.
 */
class ExploreEveryFileTest {
  static final Config BASE = ConfigFactory.load();
  static final Path SCENARIOS = Path.of("..", "scenarios");
  /** The seed (the CLI's default), so that the printed command needs none. */
  static final long SEED = 1;
  /** Schedules per file: issue 13's target, 1000 within 3 minutes of verify (docs/TESTING.md "Exploring every file"). */
  static final int BUDGET = Integer.getInteger("hmm.explore.every-budget", 1000);
  /**
   * At most this many simulated runs per file (PCT), and at most {@link #POINTS} choice points in the runs simulated:
   * files with few choice points or sources repeat most schedules and get the whole {@link #BUDGET}; files of short runs
   * (a few hundred choice points, about 1 ms of CPU a run) simulate up to 1000 runs; the files of long runs (1,200-5,500
   * choice points, 15-70 ms of CPU a run) stop at {@link #POINTS}, which is what fits the 3 minutes (measured:
   * docs/TESTING.md "Exploring every file"). Until session 12 the cap was 110 runs for every file.
   */
  static final int RUNS = Integer.getInteger("hmm.explore.every-runs", 1000);
  /**
   * Choice points (PCT, of the runs simulated) after which a file's exploration stops ({@code
   * Explorer.maxSimulatedPoints}): deterministic, so the printed command replays the very search with {@code --max-runs}
   * set to the runs it simulated. 1,200,000 gives the longest runs (c01's 5,550 choice points) 221 runs (twice the old
   * cap of 110) and every file with runs under 1,200 choice points its 1000 runs; measured, 70 of the 87 files then
   * have the budget of 1,000 for about 235 s of CPU (docs/TESTING.md "Exploring every file", session 12). Session 15:
   * 1,450,000, after xkey's cheaper state key and inspections (the whole class -17 % CPU in the exploring threads): c02
   * and t06 (860 schedules at 1,200,000) now get their 1,000, for +7 s of exploring CPU on the six capped files
   * (docs/TESTING.md "Session 15: the cap raised"). Session 16: 6,000,000, after xcap's and xfold's cheaper runs (the
   * whole class -11 % CPU, the capped files -17 to -24 %): b-anon-read-multiple, c01-exclusive-v5.14, c01-exclusive
   * and t05-hmm-exclusive-thp (426, 333, 277, 333 schedules at 1,450,000) get their 1,000 too, 67.5 s of exploring CPU
   * for the four against ~35 s, so every file that does not fail as it must explores its 1,000 schedules.
   */
  static final long POINTS = Long.getLong("hmm.explore.every-points", 6_000_000);
  /** Schedules of each file's exhaustive search: issue 13's budget. */
  static final int EXHAUSTIVE_BUDGET = Integer.getInteger("hmm.explore.every-exhaustive", 1000);
  /**
   * Choice points (replayed ones included) after which an exhaustive search stops, not exhausted: measured, every
   * bounded space exhausted within 1000 schedules took under 25,000 (explore/b: 24,420 in 599 schedules; the others
   * under 3,000), while a file of long runs visits 2,000-5,000 a schedule (docs/TESTING.md "Exploring every file").
   */
  static final long EXHAUSTIVE_STATES = Long.getLong("hmm.explore.every-states", 30_000);
  static final int THREADS = Math.max(1, Integer.getInteger("hmm.explore.threads", 2));

  /**
   * The deadline spinners whose spin rounds are choice points (r7, c12b, c08: a driver loop spinning to nouveau's
   * 1000 ms deadline round by round, 2-3 M checked events and up to 1.3 M choice points a run), explored with the
   * simulator's fast-forward ({@link Explorer#fastForward}): since session 19 (xspin2) PCT with no state key may jump
   * rounds whose choice points it decides alike (hmmemu.sim.ScheduledJump; ExploreSpinnersTest#pctJumpsChoosingSpinsExactly
   * shows the same report with and without), and exhaustive search jumps where the old rule lets it (no choice point
   * in the observed periods). Until session 18 they were left out ({@code WAITING_FOR_FAST_FORWARD}). The three
   * spinners whose spin meets no choice point (c09, c13, c12) are explored by ExploreSpinnersTest ({@link
   * ExploreSpinnersTest#JUMPED}, left out here) with this class's budgets and rules.
   */
  static final Set<String> FAST_FORWARD = Set.of(
      "c08-thrash-no-folio-lock.conf", "c12b-fork-enomem.conf", "r7-stale-fault-next-batch.conf");

  /**
   * At most this many simulated runs for a {@link #FAST_FORWARD} file's PCT explorations (unbounded and, for c08, under
   * its delay bound): a jumped run of these still costs 55-115 ms of CPU (the simulated rounds before and between
   * jumps, the looks), so their budget of 1,000 (850-1,000 simulated runs each) took 245 s of exploring CPU on top of
   * the class's ~440 s (docs/TESTING.md "Session 19: xspin2"); 100 runs take about a tenth.
   * {@code -Dhmm.explore.every-ff-runs=1000} gives them the class's {@link #RUNS}.
   */
  static final int FF_RUNS = Integer.getInteger("hmm.explore.every-ff-runs", 100);

  /**
   * The {@link #FAST_FORWARD} file whose PCT exploration gets the class's {@link #RUNS}, not {@link #FF_RUNS}: c12b,
   * the one of the three without issue 13's budget of 1,000 otherwise (it stopped at 101 schedules; r7's exhaustive
   * space is exhausted, c08 fails unbounded in schedule 1 as it must). Session 22 (c12bcost): with its looks no longer
   * refused for a fixed reqId outside the released ring (hmmemu.sim.FastForwardRings#ledIds) its 1,000 schedules (992
   * simulated) took 16.3 s of exploring CPU against 3.6 s for 101 (verify's sim-tests JVM flags, load ~10;
   * docs/PERFORMANCE.md "Session 22: c12bcost"). {@code -Dhmm.explore.every-ff-full=false} caps it at FF_RUNS again.
   */
  static final Set<String> FF_FULL = Boolean.parseBoolean(System.getProperty("hmm.explore.every-ff-full", "true"))
      ? Set.of("c12b-fork-enomem.conf") : Set.of();

  /** The simulated runs cap of {@code file}'s PCT explorations. */
  static int runsFor(Path file) {
    return fastForward(file) && !FF_FULL.contains(file.getFileName().toString()) ? Math.min(RUNS, FF_RUNS) : RUNS;
  }

  /** Whether {@code file} is explored with the fast-forward ({@link #FAST_FORWARD}). */
  static boolean fastForward(Path file) { return FAST_FORWARD.contains(file.getFileName().toString()); }

  /** The replay command's option for {@link #fastForward} files. */
  static String ff(Path file) { return fastForward(file) ? " --fast-forward" : ""; }

  /**
   * Files whose expectations are bounds on model time, not statements about every order: exploration delays a
   * message without bound (taking a later event lets virtual time jump to it, docs/TESTING.md "The scheduler hook"),
   * so a kernel thread's hold ({@code for = 5ms}), a dead driver's folio-lock lease or a fault window (a 200 µs delay
   * or a partition for 1-2 s) ends before the step it was meant to overlap, or nouveau's 1000 ms deadline passes:
   * the kernel's outcome for that timing, not the file's. File -> the one failure exploration may report for it
   * ({@code LINE kind}: the file's timing-bound line), pinned exactly, so that any other failure still fails the test.
   * {@code faults/crash-restart.conf}: the explorer once ran a faults block without the host's crash hooks, so its
   * crash never fired (fixed: ExplorerTest.aFaultsBlocksCrashFiresInTheSeededScheduleAsInTheSimulator); now its
   * first failure is a timing bound like the others: taking the end of its 1 s delay window before the reply to an
   * expectation's InspectPage moves virtual time past the simulator host's 1000 ms bound on that answer.
   */
  static final Map<String, String> TIMED = Map.of(
      "k01-kthread-lock-exclusive-waits.conf", "25 expectation",          // at-least = 4ms: the hold ended first
      // pending = [kt2]: kt2's hold ended before the step's inspection (line 35, -EBUSY, before TieRule moved seed 1's
      // draws: the hold then ended before the ioctl); both lines are the step's within = 2ms bound
      "k02-kthread-lock-exclusive-v5.14-skips.conf", "36 expectation",
      "k04-kthread-lock-exclusive-v5.14-delayed-unlock.conf", "19 expectation", // folio locked: kt's hold ended first
      "k03-kthread-lock-devexcl-fault.conf", "20 expectation",            // folio locked: the hold ended first
      "x06-fork-meets-dead-drivers-lock.conf", "29 expectation",          // -ENOMEM: the lease ended first
      "delay.conf", "19 expectation",                                     // CANCELLED: the deadline passed
      "partition-one-way.conf", "19 expectation",
      "partition-two-way.conf", "19 expectation",
      "crash-restart.conf", "1 error",  // the 1 s delay window's end taken first: InspectPage's 1000 ms ask bound
      // G iterations >= 2: T1's loop-end timer (for = 1500ms) taken before G's first link message (ExploreSpinnersTest)
      "c08-thrash-no-folio-lock.conf", "24 expectation");

  /**
   * A TIMED file's other timing-bound line that the exhaustive search reaches first ({@link #checkExhaustive}; PCT's
   * first failure stays pinned to the {@code TIMED} line). x06: the search fails at line 31 in schedule 2, the fork's
   * {@code folio { locked = true }}: fork met the dead driver's lock (line 29's ENOMEM held) and the 2 s lease ran out
   * before the step's inspection read the folio, the same lease that bounds line 29.
   */
  static final Map<String, String> TIMED_EXHAUSTIVE = Map.of(
      "x06-fork-meets-dead-drivers-lock.conf", "31 expectation");

  /**
   * Open findings of the bounded explorations, each pinned exactly ({@code SCHEDULE LINE kind}: a schedule past the
   * 10 the test ran before, so those 10 still may not fail, and any other failure still fails the test). Remove a pin
   * when its finding is fixed. None is open: k02's (schedule 14 with {@code --max-delay 100us}, tri+0 read locked
   * after the -EBUSY ioctl returned) was the model's dmirror replying before its FolioUnlockPuts reached the CPU
   * node; the ioctl now returns behind an UnlockFence (docs/PROTOCOL.md, DmirrorIoctl.reply).
   */
  static final Map<String, String> BOUNDED_FINDINGS = Map.of();

  /**
   * How many postponed events a timed outcome's chain may hold: a {@code TIMED} file is explored with a delay bound
   * of its timing margin ({@link #marginNanos}) divided by this. Between the instant a file's timing starts (a hold's
   * lock reply, a lease's start, a fault window) and the step that must overlap it lie a few controller round trips
   * (each step's inspections), the request's hop and the link messages of one fault or ioctl, each of which the
   * bounded scheduler may postpone by up to D: about 10 events, so 20 leaves the chain at most half the margin.
   */
  static final int CHAIN = 20;

  /**
   * A {@code TIMED} file's timing margin, read from the file (docs/TESTING.md "Bounded delay"): how much model time
   * the events between its timing's start and the step it bounds may take before the expectation's outcome changes.
   * k01, k03: the kthread's hold ({@code for}) minus the step's {@code at-least}; k02, k04: the step's {@code within}
   * (the ioctl must return while kt2 holds the lock, and within that); x06: the dead driver's folio-lock lease (the
   * fork must meet the lock before it runs out); delay: nouveau's fault deadline (HMM_RANGE_DEFAULT_TIMEOUT, the file's
   * switches); the partitions: that deadline minus the partition's length (a fault caught in the window waits it
   * out); crash-restart: the simulator host's bound on an answer (SimHost.CALL_BOUND_NANOS, InspectPage's ask).
   */
  static long marginNanos(Path file) throws IOException {
    String name = file.getFileName().toString();
    String text = Files.readString(file);
    Scenario sc = ScenarioParser.parse(file);
    long deadline = sc.switches().driverDeadlineMicros() * 1000;
    return switch (name) {
      case "k01-kthread-lock-exclusive-waits.conf", "k03-kthread-lock-devexcl-fault.conf" ->
          millis(text, "for = (\\d+)ms") - millis(text, "at-least = (\\d+)ms");
      case "k02-kthread-lock-exclusive-v5.14-skips.conf", "k04-kthread-lock-exclusive-v5.14-delayed-unlock.conf" ->
          millis(text, "within = (\\d+)ms");
      case "x06-fork-meets-dead-drivers-lock.conf" -> BASE.getDuration("hmm-emu.faults.folio-lock-lease").toNanos();
      case "delay.conf" -> deadline;
      case "partition-one-way.conf", "partition-two-way.conf" -> deadline - millis(text, "for (\\d+)ms\"");
      case "crash-restart.conf" -> SimHost.CALL_BOUND_NANOS;
      // c08: T1 must outlast G's loop (its `for` minus the driver's deadline; docs/RESULTS.md "c08 under exploration")
      case "c08-thrash-no-folio-lock.conf" -> millis(text, "for = (\\d+)ms") - deadline;
      default -> throw new AssertionError(file + ": a TIMED file with no margin in marginNanos");
    };
  }

  /** The first match of {@code regex}'s group 1 in {@code text}, as ms of model time in ns. */
  private static long millis(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertTrue(m.find(), "no " + regex);
    return Long.parseLong(m.group(1)) * 1_000_000L;
  }

  /** scenarios/explore: the kind each target fails with (docs/TESTING.md "Finding what we know without being told"). */
  static final Map<String, String> EXPLORE_KINDS = Map.of(
      "a-", "violation", "b-", "livelock", "c-", "expectation", "d-", "violation", "e-", "expectation");

  /** One file's exploration: the report, the runs simulated, and its wall and CPU time. */
  record Explored(Explorer.Report report, int simulated, long wallMillis, long cpuMillis, long points, int runs) {
    Explored(Explorer.Report report, int simulated, long wallMillis, long cpuMillis, long points) {
      this(report, simulated, wallMillis, cpuMillis, points, RUNS);
    }

    /** Whether a PCT exploration ran its budget, its runs or its choice points ({@link #runsFor}, {@link #POINTS}). */
    boolean ranItsBudget() { return report.schedules() == BUDGET || simulated == runs || points >= POINTS; }

    /** The schedules, the runs simulated (when fewer) and whether an exhaustive search's space was exhausted. */
    String schedules() {
      Explorer.Report r = report;
      return r.schedules() + " schedule(s)" + (r.strategy() == Explorer.Strategy.EXHAUSTIVE
          ? (r.exhausted() ? " (the bounded space exhausted)" : r.failure() == null ? " (not exhausted)" : "")
          : simulated < r.schedules() ? " (" + simulated + " simulated)" : "");
    }

    /** Whether this exploration had issue 13's budget: 1000 schedules, or an exhaustive space explored whole. */
    boolean hadTheBudget() {
      return report.failure() == null && (report.schedules() >= 1000 || report.exhausted());
    }
  }

  @TestFactory
  Stream<DynamicTest> everyScenarioFileExplored() throws IOException {
    List<Path> files = new ArrayList<>();
    for (String dir : List.of("cases", "faults", "explore", "found")) {
      for (Path f : SimScenariosTest.files(SCENARIOS.resolve(dir))) {
        String name = f.getFileName().toString();
        if (!ExploreSpinnersTest.JUMPED.contains(name)) files.add(f);
      }
    }
    ExecutorService pool = Executors.newFixedThreadPool(THREADS, r -> {
      Thread t = new Thread(r, "explore-every-file");
      t.setDaemon(true);
      return t;
    });
    List<Future<Explored>> runs = new ArrayList<>();
    for (Path f : files) runs.add(pool.submit(() -> explore(f, hmmemu.sim.DelayBound.UNBOUNDED)));
    List<Future<Explored>> exhaustiveRuns = new ArrayList<>();
    for (Path f : files) exhaustiveRuns.add(pool.submit(() -> exhaustive(f)));
    // each TIMED file once more with a delay bound below its margin: then no schedule may fail
    List<Path> timed = files.stream().filter(f -> TIMED.containsKey(f.getFileName().toString())).toList();
    List<Long> bounds = new ArrayList<>();
    List<Future<Explored>> boundedRuns = new ArrayList<>();
    for (Path f : timed) {
      long d = marginNanos(f) / CHAIN;
      bounds.add(d);
      boundedRuns.add(pool.submit(() -> explore(f, d)));
    }
    pool.shutdown(); // the queued explorations still run; the threads end after the last
    Stream<DynamicTest> unbounded = IntStream.range(0, files.size()).mapToObj(i -> DynamicTest.dynamicTest(
        files.get(i).getParent().getFileName() + "/" + files.get(i).getFileName(), () -> check(files.get(i),
            resultOf(runs.get(i)))));
    Stream<DynamicTest> bounded = IntStream.range(0, timed.size()).mapToObj(i -> DynamicTest.dynamicTest(
        timed.get(i).getParent().getFileName() + "/" + timed.get(i).getFileName() + " --max-delay "
            + hmmemu.sim.DelayBound.text(bounds.get(i)), () -> checkBounded(timed.get(i), bounds.get(i),
            resultOf(boundedRuns.get(i)))));
    Stream<DynamicTest> searched = IntStream.range(0, files.size()).mapToObj(i -> DynamicTest.dynamicTest(
        files.get(i).getParent().getFileName() + "/" + files.get(i).getFileName() + " --strategy exhaustive",
        () -> checkExhaustive(files.get(i), resultOf(exhaustiveRuns.get(i)))));
    // how many files had issue 13's budget of 1000 schedules (PCT's 1000, or an exhaustive space explored whole)
    Stream<DynamicTest> summary = Stream.of(DynamicTest.dynamicTest("budget of 1000: files", () -> {
      int had = 0;
      long cpu = 0;
      List<String> short_ = new ArrayList<>();
      for (int i = 0; i < files.size(); i++) {
        Explored p = resultOf(runs.get(i));
        Explored x = resultOf(exhaustiveRuns.get(i));
        cpu += p.cpuMillis() + x.cpuMillis();
        if (p.hadTheBudget() || x.hadTheBudget()) {
          had++;
        } else if (p.report().failure() == null) {
          short_.add(files.get(i).getFileName() + " " + p.report().schedules());
        }
      }
      for (Future<Explored> b : boundedRuns) cpu += resultOf(b).cpuMillis();
      System.out.println("explore every file: " + files.size() + " files, " + had + " had a budget of 1000 schedules "
          + "(PCT's 1000 schedules, or every schedule within the exhaustive bound), " + short_.size() + " fewer "
          + "(PCT stopped at " + RUNS + " simulated runs, " + FF_RUNS + " for the fast-forwarded spinners but "
          + FF_FULL + ", or " + POINTS
          + " choice points: schedules " + short_
          + "); the others failed as they must; "
          + cpu + " ms CPU in the exploring threads");
    }));
    return Stream.of(unbounded, bounded, searched, summary).flatMap(x -> x);
  }

  /**
   * A TIMED file explored with delays bounded below its timing margin: no schedule may fail (its timed expectations
   * hold once no event waits longer than a kernel's preemption and IRQ latency allow).
   */
  private static void checkBounded(Path file, long bound, Explored e) {
    Explorer.Report r = e.report();
    Explorer.Failure f = r.failure();
    String d = hmmemu.sim.DelayBound.text(bound);
    System.out.println("explore " + file + " --max-delay " + d + ": " + e.schedules() + ", "
        + e.wallMillis() + " ms wall, " + e.cpuMillis() + " ms CPU" + (f == null ? "" : ", " + f.kind()
        + " in schedule " + f.scheduleNumber()) + detail(e));
    assertTrue(f != null || e.ranItsBudget(), file + ": " + r.schedules() + " schedules of " + BUDGET + ", "
        + e.simulated() + " runs of " + e.runs() + " and " + e.points() + " choice points of " + POINTS
        + ": the exploration stopped early");
    String name = file.getFileName().toString();
    if (f != null && BOUNDED_FINDINGS.containsKey(name)) {
      Matcher m = Pattern.compile(":(\\d+): ").matcher(f.firstFailure());
      String got = f.scheduleNumber() + " " + (m.find() ? m.group(1) : "?") + " " + f.kind();
      assertEquals(BOUNDED_FINDINGS.get(name), got, () -> file + " --max-delay " + d + ": not the open finding "
          + "pinned in BOUNDED_FINDINGS: schedule " + f.scheduleNumber() + ": " + f.firstFailure());
      return;
    }
    assertNull(f, () -> file + " --max-delay " + d + " (margin " + bound * CHAIN / 1000 + " µs / " + CHAIN
        + "): schedule " + f.scheduleNumber() + " of " + BUDGET + " fails (" + f.kind() + "): " + f.firstFailure()
        + "\n  replay, shrink and write it: hmm-emu explore " + file + ff(file) + " --budget " + BUDGET + " --max-runs "
        + e.simulated() + " --seed " + SEED + " --max-delay " + d);
  }

  private static Explored explore(Path file, long maxDelayNanos) {
    long t0 = System.nanoTime();
    long c0 = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    // distinct states are not counted: nothing here reads them (the report's other figures are the same either way)
    Explorer x = new Explorer(ScenarioParser.parse(file), SEED, BASE).maxDelay(maxDelayNanos).maxRuns(runsFor(file))
        .maxSimulatedPoints(POINTS).distinctStates(false).fastForward(fastForward(file));
    assertNull(x.unsupported(), file + ": not supported in the simulator");
    Explorer.Report r = x.explore(Explorer.Strategy.PCT, BUDGET, 0);
    return new Explored(r, x.simulatedRuns(), (System.nanoTime() - t0) / 1_000_000,
        (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - c0) / 1_000_000, x.simulatedPoints(),
        runsFor(file));
  }

  /** {@code hmm-emu explore FILE --strategy exhaustive --budget EXHAUSTIVE_BUDGET --max-states EXHAUSTIVE_STATES}. */
  private static Explored exhaustive(Path file) {
    long t0 = System.nanoTime();
    long c0 = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    Explorer x = new Explorer(ScenarioParser.parse(file), SEED, BASE).maxStates(EXHAUSTIVE_STATES)
        .fastForward(fastForward(file));
    assertNull(x.unsupported(), file + ": not supported in the simulator");
    Explorer.Report r = x.explore(Explorer.Strategy.EXHAUSTIVE, EXHAUSTIVE_BUDGET, 0);
    return new Explored(r, r.schedules(), (System.nanoTime() - t0) / 1_000_000,
        (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - c0) / 1_000_000, 0);
  }

  /**
   * The exhaustive search of a file: the rules of {@link #check}, but a TIMED file need not fail (the search's state
   * key ignores virtual time, so it prunes a schedule that differs from one seen only in when a hold or deadline
   * ends: Explorer's Javadoc) and fails only at its timing-bound line when it does; a found file fails with its
   * verdict in the first schedule, the seeded order, which its order or pause points pin.
   */
  private static void checkExhaustive(Path file, Explored e) throws IOException {
    Explorer.Report r = e.report();
    Explorer.Failure f = r.failure();
    System.out.println("explore " + file + " --strategy exhaustive: " + e.schedules() + ", " + e.wallMillis()
        + " ms wall, " + e.cpuMillis() + " ms CPU" + (f == null ? "" : ", " + f.kind() + " in schedule "
        + f.scheduleNumber()) + detail(e));
    String dir = file.getParent().getFileName().toString();
    String name = file.getFileName().toString();
    String replay = "replay, shrink and write it: hmm-emu explore " + file + ff(file) + " --strategy exhaustive --budget "
        + EXHAUSTIVE_BUDGET + " --max-states " + EXHAUSTIVE_STATES + " --seed " + SEED;
    assertTrue(f != null || r.exhausted() || r.schedules() == EXHAUSTIVE_BUDGET || r.states() >= EXHAUSTIVE_STATES,
        file + ": the search stopped at " + r.schedules() + " schedules and " + r.states() + " choice points, neither "
        + "exhausted nor failing");
    switch (dir) {
      case "found", "explore" -> checkFoundOrExplore(file, r, f, replay);
      default -> {
        String timed = TIMED_EXHAUSTIVE.getOrDefault(name, TIMED.get(name));
        if (timed != null && f != null) {
          Matcher m = Pattern.compile(":(\\d+): ").matcher(f.firstFailure());
          String got = (m.find() ? m.group(1) : "?") + " " + f.kind();
          assertEquals(timed, got, () -> file + ": schedule " + f.scheduleNumber() + " fails otherwise than at its "
              + "timing-bound line (TIMED): " + f.firstFailure() + "\n  " + replay);
          return;
        }
        assertNull(f, () -> file + ": schedule " + f.scheduleNumber() + " of " + r.schedules() + " fails (" + f.kind()
            + "): " + f.firstFailure() + "\n  " + replay);
      }
    }
  }

  /**
   * The rules both strategies share for a found file (it must fail with its recorded {@code # explore-verdict}) and
   * an explore file (it may fail only with its target's kind, {@link #EXPLORE_KINDS}).
   */
  private static void checkFoundOrExplore(Path file, Explorer.Report r, Explorer.Failure f, String replay)
      throws IOException {
    String name = file.getFileName().toString();
    if (file.getParent().getFileName().toString().equals("found")) {
      Matcher v = Pattern.compile("(?m)^# explore-verdict = (\\w+)$").matcher(Files.readString(file));
      assertTrue(v.find(), file + ": no '# explore-verdict' header");
      assertTrue(f != null, file + ": no schedule of " + r.schedules() + " showed its " + v.group(1) + " (" + replay
          + ")");
      assertEquals(v.group(1), f.kind(), file + ": schedule " + f.scheduleNumber() + " failed otherwise: "
          + f.firstFailure() + " (" + replay + ")");
      return;
    }
    String kind = EXPLORE_KINDS.entrySet().stream().filter(k -> name.startsWith(k.getKey())).map(Map.Entry::getValue)
        .findFirst().orElse(null);
    assertTrue(kind != null, file + ": no target kind in EXPLORE_KINDS");
    if (f != null) {
      assertEquals(kind, f.kind(), file + ": schedule " + f.scheduleNumber() + " failed otherwise than its target: "
          + f.firstFailure() + " (" + replay + ")");
    }
  }

  /** {@code -Dhmm.explore.every-report=true}: each line also gives the whole report but its times (to compare two builds). */
  static final boolean REPORT = Boolean.getBoolean("hmm.explore.every-report");

  /** The report's figures but its times, when {@link #REPORT} asks for them, else "". */
  static String detail(Explored e) {
    if (!REPORT) return "";
    Explorer.Report r = e.report();
    Explorer.Failure f = r.failure();
    return " [states " + r.states() + ", distinct " + r.distinctStates() + ", generated " + r.generatedStates()
        + ", exhausted " + r.exhausted() + ", kinds " + r.choicePoints() + ", simulated " + e.simulated() + ", points "
        + e.points() + (f == null ? "" : ", failure " + f.kind() + " " + f.scheduleNumber() + " "
        + java.util.Arrays.hashCode(f.schedule()) + " " + f.firstFailure()) + "]";
  }

  private static Explored resultOf(Future<Explored> f) throws Throwable {
    try {
      return f.get();
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause();
    }
  }

  private static void check(Path file, Explored e) throws IOException {
    Explorer.Report r = e.report();
    Explorer.Failure f = r.failure();
    System.out.println("explore " + file + ": " + e.schedules() + ", " + e.wallMillis() + " ms wall, "
        + e.cpuMillis() + " ms CPU" + (f == null ? "" : ", " + f.kind() + " in schedule " + f.scheduleNumber())
        + detail(e));
    String dir = file.getParent().getFileName().toString();
    String name = file.getFileName().toString();
    String replay = "replay, shrink and write it: hmm-emu explore " + file + ff(file) + " --budget " + BUDGET + " --max-runs "
        + e.simulated() + " --seed " + SEED;
    assertTrue(f != null || e.ranItsBudget(), file + ": " + r.schedules() + " schedules of " + BUDGET + ", "
        + e.simulated() + " runs of " + e.runs() + " and " + e.points() + " choice points of " + POINTS
        + ": the exploration stopped early");
    switch (dir) {
      case "found", "explore" -> checkFoundOrExplore(file, r, f, replay);
      default -> {
        String timed = TIMED.get(name);
        // unbounded, a TIMED file fails at its timing-bound line within 10 schedules (measured: schedules 1-9, each
        // simulated), the contrast to its bounded exploration (checkBounded), which must not fail
        if (timed != null && BUDGET >= 10 && RUNS >= 10) {
          assertTrue(f != null, file + ": unbounded, no schedule of " + BUDGET + " failed at its timing-bound line "
              + timed + " (TIMED)");
        }
        if (timed != null && f != null) {
          java.util.regex.Matcher m = Pattern.compile(":(\\d+): ").matcher(f.firstFailure());
          String got = (m.find() ? m.group(1) : "?") + " " + f.kind();
          assertEquals(timed, got, () -> file + ": schedule " + f.scheduleNumber() + " fails otherwise than at its "
              + "timing-bound line (TIMED): " + f.firstFailure() + "\n  " + replay);
          return;
        }
        assertNull(f, () -> file + ": schedule " + f.scheduleNumber() + " of " + BUDGET + " fails (" + f.kind()
          + "): " + f.firstFailure() + "\n  " + replay);
      }
    }
  }
}
