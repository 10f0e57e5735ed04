package hmmemu.node.link;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The {@link LinkSpec} of every direction: a default plus per-direction overrides, read from the HOCON block
 * {@code hmm-emu.link} (see docs/LATENCY.md for the keys, units and the sources of the defaults).
 */
public record LinkSettings(LinkSpec defaults, Map<Direction, LinkSpec> directions, boolean reliable,
    double replayTimeoutMicros, int replayBuffer, int receiveWindow, boolean lanes) {

  /** The built-in defaults, the fallback of {@link #fromConfig}; docs/LATENCY.md shows the same block. */
  public static final String DEFAULTS_HOCON = String.join("\n",
      "hmm-emu.link {",
      "  default {",
      "    delay = { dist = constant, value = 1us }",
      "    jitter = 0us",
      "    tail = { p = 0, alpha = 1.5, scale = 50us }",
      "    bandwidth-bytes-per-us = 16000",
      "    loss = 0",
      "    duplication = 0",
      "    reordering = 0",
      "    reorder-extra = { dist = uniform, min = 10us, max = 50us }",
      "  }",
      "  directions { }",
      "  reliable = on",
      "  replay-timeout = 5ms",
      "  replay-buffer = 4096",
      "  receive-window = 4096",
      "  lanes = off",
      "}");

  public LinkSettings {
    Objects.requireNonNull(defaults, "defaults");
    directions = Map.copyOf(directions);
    if (!(replayTimeoutMicros > 0)) {
      throw new IllegalArgumentException("hmm-emu.link.replay-timeout must be > 0, got " + replayTimeoutMicros + "us");
    }
    if (replayBuffer < 1) throw new IllegalArgumentException("hmm-emu.link.replay-buffer must be >= 1, got " + replayBuffer);
    if (receiveWindow < 1) {
      throw new IllegalArgumentException("hmm-emu.link.receive-window must be >= 1, got " + receiveWindow);
    }
  }

  /** One lane per direction ({@code hmm-emu.link.lanes = off}). */
  public LinkSettings(LinkSpec defaults, Map<Direction, LinkSpec> directions, boolean reliable,
      double replayTimeoutMicros, int replayBuffer, int receiveWindow) {
    this(defaults, directions, reliable, replayTimeoutMicros, replayBuffer, receiveWindow, false);
  }

  /** The settings with the default bounds of the replay buffer and the receive window. */
  public LinkSettings(LinkSpec defaults, Map<Direction, LinkSpec> directions, boolean reliable,
      double replayTimeoutMicros) {
    this(defaults, directions, reliable, replayTimeoutMicros, hmmemu.node.link.LinkReliability.DEFAULT_REPLAY_BUFFER,
        hmmemu.node.link.LinkReliability.DEFAULT_RECEIVE_WINDOW);
  }

  /** Per-direction specs with the default data link layer (reliable, 5 ms replay timeout). */
  public LinkSettings(LinkSpec defaults, Map<Direction, LinkSpec> directions) {
    this(defaults, directions, true, hmmemu.node.link.LinkReliability.DEFAULT.replayTimeoutMicros());
  }

  /** The same spec on every direction. */
  public static LinkSettings of(LinkSpec spec) { return new LinkSettings(spec, Map.of()); }

  /** A copy with the data link layer on or off ({@code hmm-emu.link.reliable}). */
  public LinkSettings withReliable(boolean on) {
    return new LinkSettings(defaults, directions, on, replayTimeoutMicros, replayBuffer, receiveWindow, lanes);
  }

  /**
   * A copy with one lane per sending kernel thread ({@code hmm-emu.link.lanes = per-thread}, {@link Lanes},
   * docs/PROTOCOL.md §5.8) or one lane per direction ({@code off}).
   */
  public LinkSettings withLanes(boolean perThread) {
    return new LinkSettings(defaults, directions, reliable, replayTimeoutMicros, replayBuffer, receiveWindow, perThread);
  }

  /** The data link layer settings of these link settings at {@code timeScale}. */
  public LinkReliability reliability(double timeScale) {
    return new LinkReliability(reliable, replayTimeoutMicros, timeScale, replayBuffer, receiveWindow, lanes);
  }

  /** A copy with another replay timeout (model microseconds). */
  public LinkSettings withReplayTimeout(double micros) {
    return new LinkSettings(defaults, directions, reliable, micros, replayBuffer, receiveWindow, lanes);
  }

  /** The built-in defaults. */
  public static LinkSettings builtIn() { return fromConfig(ConfigFactory.empty()); }

  public LinkSpec spec(Direction d) { return directions.getOrDefault(d, defaults); }

  public LinkSpec spec(int from, int to) { return spec(new Direction(from, to)); }

  /** A copy with {@code spec} on direction {@code d}. */
  public LinkSettings with(Direction d, LinkSpec spec) {
    Map<Direction, LinkSpec> m = new LinkedHashMap<>(directions);
    m.put(d, spec);
    return new LinkSettings(defaults, m, reliable, replayTimeoutMicros, replayBuffer, receiveWindow, lanes);
  }

  /**
   * Reads {@code hmm-emu.link} from {@code config} (the built-in {@link #DEFAULTS_HOCON} fills what it lacks).
   * Keys of {@code directions} are {@code "cpu0->gpu1"} (quoted in HOCON) or {@code "cpu0<->gpu1"} (both
   * directions); each override falls back to {@code default} key by key.
   *
   * @throws IllegalArgumentException naming the path of a bad value
   * @throws ConfigException for HOCON type errors (naming the path)
   */
  public static LinkSettings fromConfig(Config config) {
    Config root = config.withFallback(ConfigFactory.parseString(DEFAULTS_HOCON)).resolve();
    Config link = root.getConfig("hmm-emu.link");
    Config def = link.getConfig("default");
    LinkSpec defaults = spec(def, "hmm-emu.link.default");
    Map<Direction, LinkSpec> dirs = new LinkedHashMap<>();
    ConfigObject d = link.getObject("directions");
    for (Map.Entry<String, ConfigValue> e : d.entrySet()) {
      String key = e.getKey();
      String path = "hmm-emu.link.directions.\"" + key + "\"";
      if (!(e.getValue() instanceof ConfigObject o)) throw new IllegalArgumentException(path + ": expected an object");
      LinkSpec spec = spec(o.toConfig().withFallback(def), path);
      try {
        String k = key.replace("\u2194", "<->");
        if (k.contains("<->")) {
          Direction one = Direction.parse(k.replace("<->", "->"));
          dirs.put(one, spec);
          dirs.put(one.reverse(), spec);
        } else {
          dirs.put(Direction.parse(k), spec);
        }
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException(path + ": " + ex.getMessage(), ex);
      }
    }
    boolean reliable;
    double replay;
    int replayBuffer;
    int receiveWindow;
    boolean lanes;
    try {
      reliable = link.getBoolean("reliable");
      replay = micros(link, "replay-timeout");
      replayBuffer = link.getInt("replay-buffer");
      receiveWindow = link.getInt("receive-window");
      lanes = lanes(link.getString("lanes"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("hmm-emu.link: " + e.getMessage(), e);
    }
    return new LinkSettings(defaults, dirs, reliable, replay, replayBuffer, receiveWindow, lanes);
  }

  /** {@code hmm-emu.link.lanes}: {@code per-thread} (true) or {@code off} (false). */
  public static boolean lanes(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("per-thread")) return true;
    if (v.equals("off")) return false;
    throw new IllegalArgumentException("lanes = " + value + ": expected per-thread or off");
  }

  private static LinkSpec spec(Config c, String path) {
    try {
      return new LinkSpec(
          distribution(c, "delay"),
          micros(c, "jitter"),
          new LinkSpec.Tail(c.getDouble("tail.p"), c.getDouble("tail.alpha"), micros(c, "tail.scale")),
          bandwidth(c, "bandwidth-bytes-per-us"),
          c.getDouble("loss"),
          c.getDouble("duplication"),
          c.getDouble("reordering"),
          distribution(c, "reorder-extra"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
    }
  }

  private static double bandwidth(Config c, String key) {
    ConfigValue v = c.getValue(key);
    if (v.valueType() == ConfigValueType.STRING) {
      String s = c.getString(key).trim().toLowerCase(Locale.ROOT);
      if (s.equals("inf") || s.equals("unlimited") || s.equals("infinite")) return 0;
    }
    return c.getDouble(key);
  }

  /** A duration (HOCON units: ns, us, ms, s...) in microseconds; a bare number is refused unless it is 0. */
  static double micros(Config c, String key) {
    ConfigValue v = c.getValue(key);
    if (v.valueType() == ConfigValueType.NUMBER) {
      if (c.getDouble(key) == 0) return 0;
      throw new IllegalArgumentException(key + " = " + v.render() + ": give a unit (e.g. 2us, 1.5ms)" + setIn(v));
    }
    double us = c.getDuration(key).toNanos() / 1000.0;
    if (us < 0) {
      Object typed = v.unwrapped();
      throw new IllegalArgumentException(key + " = " + (typed instanceof String t ? t : v.render()) + ": must be >= 0"
          + setIn(v));
    }
    return us;
  }

  /** " (set in FILE:LINE)" when a config file set {@code v}, else "" (an error names the file the user typed). */
  static String setIn(ConfigValue v) {
    var o = v.origin();
    if (o == null || o.filename() == null) return "";
    return " (set in " + o.filename() + (o.lineNumber() > 0 ? ":" + o.lineNumber() : "") + ")";
  }

  /** {@code {dist = constant|uniform|normal|exponential, ...}}, or a plain duration meaning a constant. */
  static Distribution distribution(Config c, String key) {
    ConfigValue v = c.getValue(key);
    if (v.valueType() != ConfigValueType.OBJECT) return new Distribution.Constant(micros(c, key));
    Config d = c.getConfig(key);
    String dist = d.hasPath("dist") ? d.getString("dist").trim().toLowerCase(Locale.ROOT) : "constant";
    switch (dist) {
      case "constant":
        return new Distribution.Constant(micros(d, "value"));
      case "uniform":
        return new Distribution.Uniform(micros(d, "min"), micros(d, "max"));
      case "normal":
        return new Distribution.Normal(micros(d, "mean"), micros(d, "stddev"));
      case "exponential":
        return new Distribution.Exponential(micros(d, "mean"));
      default:
        throw new IllegalArgumentException(key + ".dist = " + dist + ": expected constant, uniform, normal or exponential");
    }
  }
}
