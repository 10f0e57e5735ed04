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

  /**
   * The one-line error for a bad {@code key}: {@code FILE:LINE: key = typed: what}, or {@code --flag typed: what} for a
   * value a command-line flag set (an override given as a ConfigValue whose origin description is the flag).
   */
  public static SettingsException bad(Config c, String key, String what) {
    com.typesafe.config.ConfigOrigin o = c.getValue(key).origin();
    if (o != null && o.filename() == null && o.description() != null && o.description().startsWith("--")) {
      return new SettingsException(o.description() + " " + typed(c, key) + ": " + what); // the flag that set it
    }
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
        if (configFile.isDirectory()) throw new SettingsException("--config: " + configFile + " is a directory, not a file");
        if (!configFile.isFile()) throw new SettingsException("--config: no such file: " + configFile);
        if (!configFile.canRead()) throw new SettingsException("--config: cannot read " + configFile + ": permission denied");
        try {
          Config file = ConfigFactory.parseFile(configFile);
          unknownKeys(file, ConfigFactory.defaultReference());
          base = file.withFallback(base).resolve();
        } catch (StackOverflowError e) {
          throw new SettingsException("--config " + configFile + ": nested too deeply to parse");
        }
      }
      // a ConfigValue override keeps its origin (a command-line flag's name: an error then names the flag)
      Map<String, Object> plain = new java.util.HashMap<>();
      Config typed = ConfigFactory.empty();
      for (Map.Entry<String, Object> e : overrides.entrySet()) {
        if (e.getValue() instanceof com.typesafe.config.ConfigValue v) typed = typed.withValue(e.getKey(), v);
        else plain.put(e.getKey(), e.getValue());
      }
      Config c = ConfigFactory.parseMap(plain).withFallback(typed).withFallback(base);
      return new HmmEmuSettings(c);
    } catch (ConfigException e) {
      throw new SettingsException(oneLine(e.getMessage()));
    }
  }

  public static HmmEmuSettings fromConfig(Config c) { return new HmmEmuSettings(c); }

  /** Keys read though reference.conf does not set them (SimDemo, the explorer). */
  private static final java.util.Set<String> OPTIONAL_KEYS = java.util.Set.of(CONTROLLER_HOP_KEY,
      "hmm-emu.explore.snapshots");
  /** Objects whose keys are free (a direction's name, a distribution's parameters), not checked below them. */
  private static final java.util.Set<String> FREE_OBJECTS = java.util.Set.of("hmm-emu.link.directions",
      "hmm-emu.link.default.delay", "hmm-emu.link.default.reorder-extra");

  /**
   * Refuses a key under hmm-emu in a --config file that nothing reads (a typo, {@code cpu-thnik}, would otherwise leave
   * the default in force silently): {@code FILE:LINE: hmm-emu.demo.cpu-thnik: unknown key (did you mean cpu-think?)}.
   */
  static void unknownKeys(Config file, Config reference) {
    if (!file.hasPathOrNull("hmm-emu") || !(file.getValue("hmm-emu") instanceof com.typesafe.config.ConfigObject o)) {
      return;
    }
    unknownKeys(o, java.util.List.of("hmm-emu"), reference);
  }

  private static void unknownKeys(com.typesafe.config.ConfigObject o, java.util.List<String> at, Config reference) {
    for (Map.Entry<String, com.typesafe.config.ConfigValue> e : o.entrySet()) {
      java.util.List<String> p = new java.util.ArrayList<>(at);
      p.add(e.getKey());
      String path = com.typesafe.config.ConfigUtil.joinPath(p);
      if (OPTIONAL_KEYS.contains(path) || FREE_OBJECTS.contains(path)) continue;
      boolean holdsOptional = OPTIONAL_KEYS.stream().anyMatch(k -> k.startsWith(path + "."));
      if (holdsOptional && e.getValue() instanceof com.typesafe.config.ConfigObject child
          && !reference.hasPathOrNull(path)) {
        unknownKeys(child, p, reference); // e.g. hmm-emu.sim, which reference.conf does not set
        continue;
      }
      if (!reference.hasPathOrNull(path)) {
        com.typesafe.config.ConfigOrigin w = e.getValue().origin();
        String where = w == null || w.filename() == null ? ""
            : w.filename() + (w.lineNumber() > 0 ? ":" + w.lineNumber() : "") + ": ";
        String parent = com.typesafe.config.ConfigUtil.joinPath(at);
        java.util.Set<String> siblings = new java.util.TreeSet<>();
        if (reference.hasPathOrNull(parent) && reference.getValue(parent) instanceof com.typesafe.config.ConfigObject r) {
          siblings.addAll(r.keySet());
        }
        for (String k : OPTIONAL_KEYS) if (k.startsWith(parent + ".")) siblings.add(k.substring(parent.length() + 1));
        String near = nearest(e.getKey(), siblings);
        throw new SettingsException(where + path + ": unknown key" + (near != null ? " (did you mean " + near + "?)"
            : " (reference.conf lists the keys)"));
      }
      if (e.getValue() instanceof com.typesafe.config.ConfigObject child
          && reference.getValue(path) instanceof com.typesafe.config.ConfigObject) {
        unknownKeys(child, p, reference);
      }
    }
  }

  /** The key of {@code known} closest to {@code key} (at most 3 edits), or null. */
  private static String nearest(String key, java.util.Set<String> known) {
    String best = null;
    int bestD = 4;
    for (String k : known) {
      int d = edits(key, k);
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    return best;
  }

  private static int edits(String a, String b) {
    int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) prev[j] = j;
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
