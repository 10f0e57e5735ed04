package hmmemu.cluster.demo;

import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.HmmEmuSettings;
import hmmemu.node.link.Link;
import hmmemu.node.link.LinkSettings;
import hmmemu.node.link.ModeledLink;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Emulator-only host mechanism (no kernel function): warms the JVM before the measured arms of an embedded-cluster
 * run. A cold JVM loads classes and interprets, then compiles, the code of every message path the first time it
 * runs (mailbox, protobuf, the cores' steps, the link stage); on the project's 2-core machine that cost a node's
 * first steps milliseconds of real time each, which the scaled model clock counts as model time (1 ms of real time
 * = 10 model µs at time-scale 100). The first arm of a run was measured on a cold JVM, the others on a warm one:
 * at 100 µs and time-scale 100 the kernel arm's first fault batch took 0.9-1.6 ms of node time on its critical path
 * instead of ~0.15 ms (docs/RESULTS.md "The first arm ran on a cold JVM"). The warm-up runs the first selected arm
 * once, on its own embedded cluster, at time-scale 1.0 with a short workload; its figures are thrown away. The
 * later arms share its code paths (the arms differ only in when the folio is unlocked) and run after it.
 */
public final class WarmUp {
  /** CPU increments per thread in a warm-up arm, at most. */
  static final int OPS_PER_THREAD = 50;
  /** CPU think time in a warm-up arm, at most (model µs = real µs at time-scale 1.0). */
  static final long THINK_MICROS = 1000;
  /** The driver deadline in a warm-up arm, at most (a deadline spin then lasts 100 ms of real time). */
  static final long DEADLINE_MICROS = 100_000;
  /** Real time a warm-up arm may take before it is given up (the measured arms run anyway). */
  static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);

  /** What the warm-up did, for the run record's settings: arms run (and how many were ok) and its real time. */
  public record Summary(List<String> arms, int ok, long wallMillis) {
    @Override
    public String toString() {
      return arms.size() + " arm(s) (" + String.join(", ", arms) + ") at time-scale 1.0, " + ok + " ok, "
          + wallMillis + " ms of real time; figures discarded";
    }
  }

  private WarmUp() {}

  /**
   * The warm-up of an embedded-cluster command ({@code demo}, {@code sweep}): none when {@code skip}
   * ({@code --no-warm-up}), else {@link #run} with its summary line on stdout (stderr under {@code --json}, which keeps
   * stdout to one JSON line, and then no summary line).
   */
  public static Summary unless(boolean skip, HmmEmuSettings measured, List<String> arms, boolean link, boolean json) {
    if (skip) return null;
    Summary warm = run(measured, arms, link, json ? System.err : System.out);
    if (!json) System.out.println("  warm-up: " + warm);
    return warm;
  }

  /**
   * The warm-up's settings: the measured run's (switches, link, workload shape, seed) at time-scale 1.0, with at
   * most {@link #OPS_PER_THREAD} CPU increments per thread, a think of at most {@link #THINK_MICROS}, a driver
   * deadline of at most {@link #DEADLINE_MICROS} and a run timeout of {@link #RUN_TIMEOUT}.
   */
  public static HmmEmuSettings settings(HmmEmuSettings measured) {
    HmmEmuSettings.Demo d = measured.demo;
    long deadline = Math.min(measured.switches.driverDeadlineMicros(), DEADLINE_MICROS);
    return HmmEmuSettings.fromConfig(ConfigFactory.parseMap(Map.of(
            "hmm-emu.time-scale", 1.0,
            "hmm-emu.demo.ops-per-thread", Math.min(d.opsPerThread(), OPS_PER_THREAD),
            "hmm-emu.demo.cpu-think", Math.min(d.cpuThinkMicros(), THINK_MICROS) + "us",
            "hmm-emu.model.driver-deadline", deadline + "us",
            "hmm-emu.demo.run-timeout", RUN_TIMEOUT.toSeconds() + "s"))
        .withFallback(measured.config));
  }

  /**
   * Runs the first of {@code arms} ("kernel" or "early-unlock") on a fresh embedded cluster with {@link #settings}
   * (one arm: an embedded cluster's start is most of a warm-up's 5-7 s of real time), through a modelled link of the measured run's hmm-emu.link when {@code link}, and discards the
   * figures. A failed or timed-out warm-up arm is reported on {@code say} and does not stop the measured run.
   */
  public static Summary run(HmmEmuSettings measured, List<String> arms, boolean link, PrintStream say) {
    HmmEmuSettings s = settings(measured);
    long started = System.nanoTime();
    List<String> once = arms.isEmpty() ? List.of() : List.of(arms.get(0));
    int ok = 0;
    for (String a : once) {
      boolean kernel = a.equals("kernel");
      String name = "warm-up " + a;
      try {
        Experiment.RunResult r;
        if (link) {
          try (ModeledLink modeled = new ModeledLink(LinkSettings.fromConfig(s.config), s.demo.seed(), s.timeScale,
              Link.DIRECT)) {
            r = Experiment.runArm(name, s, s.switches.withFolioLockUntilMapped(kernel), modeled);
          }
        } else {
          r = Experiment.runArm(name, s, s.switches.withFolioLockUntilMapped(kernel), Link.DIRECT);
        }
        if (r.ok()) ok++;
        else say.println("hmm-emu: the warm-up arm '" + a + "' was not ok (" + r.violations().size()
            + " violation(s), final " + r.finalValue() + " / expected " + r.expectedValue() + "); measuring anyway");
      } catch (RuntimeException e) {
        say.println("hmm-emu: the warm-up arm '" + a + "' failed (" + e.getMessage() + "); measuring anyway");
      }
    }
    return new Summary(once, ok, (System.nanoTime() - started) / 1_000_000);
  }
}
