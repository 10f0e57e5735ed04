package hmmemu.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.ModelSwitches;
import java.io.File;
import java.time.Duration;
import java.util.Map;

/**
 * Reads and validates the hmm-emu.* configuration (defaults in reference.conf). Every problem is reported as
 * one {@link SettingsException} line naming the key, detected at start-up before any node starts.
 */
public final class HmmEmuSettings {
  /** The largest time-scale: one model microsecond lasts at most a real second. */
  public static final double MAX_TIME_SCALE = 1e6;
  public final Config config;
  public final ModelSwitches switches;
  public final double timeScale;
  public final Demo demo;
  /** The lease on a dead driver's folio lock (checked here, read by the CPU node and the simulator hosts). */
  public static final String LEASE_KEY = "hmm-emu.faults.folio-lock-lease";
  /** The simulator's controller hop (checked here when set, read by SimDemo). */
  public static final String CONTROLLER_HOP_KEY = "hmm-emu.sim.controller-hop";

  /** The headline experiment's shape (hmm-emu.demo.*); {@code cpuThinkMicros}: model µs a CPU thread works between two atomics. */
  public record Demo(int gpuNodes, int warpsPerDevice, int opsPerWarp, int cpuThreads, int opsPerThread,
      int counters, int counterPages, long seed, Duration runTimeout, boolean cpuSpin, long cpuThinkMicros) {}

  /** hmm-emu.model.mutants: kebab-case Mutant names; an unknown one is a SettingsException naming the known ones. */
  private static java.util.Set<hmmemu.protocol.model.Mutant> mutants(java.util.List<String> names) {
    java.util.Set<hmmemu.protocol.model.Mutant> out = java.util.EnumSet.noneOf(hmmemu.protocol.model.Mutant.class);
    for (String n : names) {
      try {
        out.add(hmmemu.protocol.model.Mutant.parse(n));
      } catch (IllegalArgumentException e) {
        throw new SettingsException("hmm-emu.model.mutants: " + e.getMessage());
      }
    }
    return out;
  }

  /** hmm-emu.demo.cpu-think in model µs: 0 (no think time) up to one model second. */
  private static long think(Config c) {
    Duration d = duration(c, "hmm-emu.demo.cpu-think");
    if (d.isNegative() || d.compareTo(Duration.ofSeconds(1)) > 0) {
      throw bad(c, "hmm-emu.demo.cpu-think", "must be between 0 and 1s");
    }
    return d.toNanos() / 1000;
  }

  /** hmm-emu.demo.run-timeout: > 0 (at least 1us: the simulator bounds model time by it in µs). */
  private static Duration runTimeout(Config c) {
    micros(c, "hmm-emu.demo.run-timeout", true);
    return duration(c, "hmm-emu.demo.run-timeout");
  }

  /**
   * Where {@code key}'s value was set, as a prefix of an error line: {@code "FILE:LINE: "} when a --config file set it,
   * else "" (reference.conf, a command-line flag).
   */
  public static String origin(Config c, String key) {
    com.typesafe.config.ConfigOrigin o = c.getValue(key).origin();
    if (o == null || o.filename() == null) return "";
    return o.filename() + (o.lineNumber() > 0 ? ":" + o.lineNumber() : "") + ": ";
  }

  /** {@code key}'s value as it was typed ({@code -1ms}, not java.time's {@code PT-0.001S}). */
  public static String typed(Config c, String key) {
    com.typesafe.config.ConfigValue v = c.getValue(key);
    Object u = v.unwrapped();
    return u instanceof String str ? str : v.render();
  }

  /** The one-line error for a bad {@code key}: {@code FILE:LINE: key = typed: what} (no file for a flag's value). */
  public static SettingsException bad(Config c, String key, String what) {
    return new SettingsException(origin(c, key) + key + " = " + typed(c, key) + ": " + what);
  }

  /** A duration {@code key} (read from the root, so a parse error names the whole key and its file). */
  public static Duration duration(Config c, String key) {
    try {
      return c.getDuration(key);
    } catch (ConfigException.BadValue | ConfigException.WrongType e) {
      throw bad(c, key, "not a duration (e.g. 20us, 70ms, 2s)");
    }
  }

  /** A duration {@code key} that must be >= 0 ({@code positive}: > 0), in model µs. */
  public static long micros(Config c, String key, boolean positive) {
    Duration d = duration(c, key);
    if (d.isNegative() || positive && d.isZero()) throw bad(c, key, positive ? "must be > 0" : "must be >= 0");
    long micros = d.toNanos() / 1000;
    if (positive && micros == 0) throw bad(c, key, "must be at least 1us");
    return micros;
  }

  private HmmEmuSettings(Config config) {
    this.config = config;
    try {
      Config m = config.getConfig("hmm-emu.model");
      String profile = m.getString("kernel-profile");
      KernelProfile kp = switch (profile) {
        case "v6.15" -> KernelProfile.V6_15;
        case "v5.14" -> KernelProfile.V5_14;
        default -> throw new SettingsException(
            "hmm-emu.model.kernel-profile: expected \"v6.15\" or \"v5.14\", got \"" + profile + "\"");
      };
      long deadline = micros(config, "hmm-emu.model.driver-deadline", true);
      this.switches = new ModelSwitches(kp, m.getBoolean("folio-lock-until-mapped"), m.getBoolean("owner-filter"),
          m.getBoolean("driver-lock-across-conversion"), m.getBoolean("leak-folio-on-retry"),
          m.getBoolean("dmirror-seq-check"), m.getBoolean("hmm-pfn-exclusive"), deadline, false,
          java.util.List.copyOf(mutants(m.getStringList("mutants"))));
      this.timeScale = config.getDouble("hmm-emu.time-scale");
      if (!(timeScale > 0) || !(timeScale <= MAX_TIME_SCALE)) {
        throw bad(config, "hmm-emu.time-scale", "must be > 0 and at most " + MAX_TIME_SCALE);
      }
      Config d = config.getConfig("hmm-emu.demo");
      this.demo = new Demo(
          range(config, "hmm-emu.demo.gpu-nodes", 1, 15),
          range(config, "hmm-emu.demo.warps-per-device", 1, 4096),
          range(config, "hmm-emu.demo.ops-per-warp", 0, 10_000_000),
          range(config, "hmm-emu.demo.cpu-threads", 0, 4096),
          range(config, "hmm-emu.demo.ops-per-thread", 0, 10_000_000),
          range(config, "hmm-emu.demo.counters", 1, 512 * 64),
          range(config, "hmm-emu.demo.counter-pages", 1, 64),
          d.getLong("seed"),
          runTimeout(config),
          d.getBoolean("cpu-spin"),
          think(config));
      if (config.hasPath(LEASE_KEY)) micros(config, LEASE_KEY, false);
      if (config.hasPath(CONTROLLER_HOP_KEY)) micros(config, CONTROLLER_HOP_KEY, false);
      if (demo.counterPages() > demo.counters()) {
        throw new SettingsException("hmm-emu.demo.counter-pages: " + demo.counterPages()
            + " pages for " + demo.counters() + " counters would leave pages without a counter");
      }
    } catch (ConfigException e) {
      throw new SettingsException(oneLine(e.getMessage()));
    }
  }

  private static int range(Config c, String key, int min, int max) {
    int v;
    try {
      v = c.getInt(key);
    } catch (ConfigException.WrongType e) {
      throw bad(c, key, "not a whole number");
    }
    if (v < min || v > max) throw bad(c, key, "must be in [" + min + ", " + max + "]");
    return v;
  }

  static String oneLine(String s) { return s == null ? "invalid configuration" : s.replace('\n', ' '); }

  /** Loads reference.conf, then the optional file, then the overrides (highest priority). */
  public static HmmEmuSettings load(File configFile, Map<String, Object> overrides) {
    try {
      Config base = ConfigFactory.load();
      if (configFile != null) {
        if (!configFile.isFile()) throw new SettingsException("--config: no such file: " + configFile);
        try {
          base = ConfigFactory.parseFile(configFile).withFallback(base).resolve();
        } catch (StackOverflowError e) {
          throw new SettingsException("--config " + configFile + ": nested too deeply to parse");
        }
      }
      Config c = ConfigFactory.parseMap(overrides).withFallback(base);
      return new HmmEmuSettings(c);
    } catch (ConfigException e) {
      throw new SettingsException(oneLine(e.getMessage()));
    }
  }

  public static HmmEmuSettings fromConfig(Config c) { return new HmmEmuSettings(c); }
}
