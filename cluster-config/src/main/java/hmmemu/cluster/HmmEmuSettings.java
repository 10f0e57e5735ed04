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
  private static long think(Duration d) {
    long micros = d.toNanos() / 1000;
    if (d.isNegative() || micros > 1_000_000) {
      throw new SettingsException("hmm-emu.demo.cpu-think: must be between 0 and 1s, got " + d);
    }
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
      long deadline = m.getDuration("driver-deadline").toNanos() / 1000;
      positive("hmm-emu.model.driver-deadline", deadline);
      this.switches = new ModelSwitches(kp, m.getBoolean("folio-lock-until-mapped"), m.getBoolean("owner-filter"),
          m.getBoolean("driver-lock-across-conversion"), m.getBoolean("leak-folio-on-retry"),
          m.getBoolean("dmirror-seq-check"), m.getBoolean("hmm-pfn-exclusive"), deadline, false,
          java.util.List.copyOf(mutants(m.getStringList("mutants"))));
      this.timeScale = config.getDouble("hmm-emu.time-scale");
      if (!(timeScale > 0) || !(timeScale <= MAX_TIME_SCALE)) {
        throw new SettingsException("hmm-emu.time-scale: must be > 0 and at most " + MAX_TIME_SCALE + ", got " + timeScale);
      }
      Config d = config.getConfig("hmm-emu.demo");
      this.demo = new Demo(
          range("hmm-emu.demo.gpu-nodes", d.getInt("gpu-nodes"), 1, 15),
          range("hmm-emu.demo.warps-per-device", d.getInt("warps-per-device"), 1, 4096),
          range("hmm-emu.demo.ops-per-warp", d.getInt("ops-per-warp"), 0, 10_000_000),
          range("hmm-emu.demo.cpu-threads", d.getInt("cpu-threads"), 0, 4096),
          range("hmm-emu.demo.ops-per-thread", d.getInt("ops-per-thread"), 0, 10_000_000),
          range("hmm-emu.demo.counters", d.getInt("counters"), 1, 512 * 64),
          range("hmm-emu.demo.counter-pages", d.getInt("counter-pages"), 1, 64),
          d.getLong("seed"),
          d.getDuration("run-timeout"),
          d.getBoolean("cpu-spin"),
          think(d.getDuration("cpu-think")));
      if (demo.counterPages() > demo.counters()) {
        throw new SettingsException("hmm-emu.demo.counter-pages: " + demo.counterPages()
            + " pages for " + demo.counters() + " counters would leave pages without a counter");
      }
    } catch (ConfigException e) {
      throw new SettingsException(oneLine(e.getMessage()));
    }
  }

  private static void positive(String key, long v) {
    if (v <= 0) throw new SettingsException(key + ": must be > 0, got " + v);
  }

  private static int range(String key, int v, int min, int max) {
    if (v < min || v > max) throw new SettingsException(key + ": must be in [" + min + ", " + max + "], got " + v);
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
