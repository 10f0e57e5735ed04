package hmmemu.cluster.scenario;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The scenario reader: HOCON text to a raw tree ({@link ConfigObject}) whose every value keeps its origin line, and
 * the typed accessors the parsers read that tree with. Every problem is one {@link ScenarioException}
 * {@code FILE:LINE: what is wrong}, with the line from the HOCON value's origin.
 */
final class ScenarioReader {
  /** A plain name: VMAs, processes, devices, step ids, pfn names. */
  static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_-]*");

  private final String file;

  ScenarioReader(String file) { this.file = file; }

  /** The file name used in messages. */
  String file() { return file; }

  /** Parses {@code text} (HOCON, substitutions resolved) into its root object; a syntax error names its line. */
  ConfigObject read(String text) {
    Config config;
    try {
      config = ConfigFactory.parseString(text, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF)
          .setOriginDescription(file)).resolve();
    } catch (ConfigException e) {
      int line = e.origin() == null ? 1 : e.origin().lineNumber();
      String msg = e.getMessage();
      String prefix = e.origin() == null ? null : e.origin().description() + ": ";
      if (prefix != null && msg.startsWith(prefix)) msg = msg.substring(prefix.length());
      throw new ScenarioException(file, line, "HOCON syntax: " + msg.replace('\n', ' '));
    }
    return config.root();
  }

  // ------------------------------------------------------------------------------------------------ positions

  ScenarioException err(ConfigValue v, String msg) { return new ScenarioException(file, line(v), msg); }

  static int line(ConfigValue v) {
    if (v == null || v.origin() == null) return 1;
    int l = v.origin().lineNumber();
    return l < 1 ? 1 : l;
  }

  ConfigValue required(ConfigObject o, String key, String where, int line) {
    ConfigValue v = o.get(key);
    if (v == null) throw new ScenarioException(file, line, where + ": missing required key '" + key + "'");
    return v;
  }

  void checkKeys(ConfigObject o, Set<String> allowed, String where, int line) {
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      if (!allowed.contains(e.getKey())) {
        throw err(e.getValue(), "unknown key '" + e.getKey() + "' in " + where + " (expected one of: " + sorted(allowed) + ")");
      }
    }
  }

  static String sorted(Set<String> s) { return String.join(", ", new java.util.TreeSet<>(s)); }

  String string(ConfigValue v, String what) {
    if (v.valueType() != ConfigValueType.STRING) {
      throw err(v, what + ": expected a string, got " + v.valueType().name().toLowerCase() + " " + v.render());
    }
    return ((String) v.unwrapped()).trim();
  }

  long integer(ConfigValue v, String what) {
    if (v.valueType() == ConfigValueType.NUMBER) {
      Number n = (Number) v.unwrapped();
      if (n instanceof Double || n instanceof Float) {
        double d = n.doubleValue();
        if (d != Math.rint(d)) throw err(v, what + ": expected an integer, got " + v.render());
        return (long) d;
      }
      return n.longValue();
    }
    if (v.valueType() == ConfigValueType.STRING) {
      String s = ((String) v.unwrapped()).trim().replace("_", "");
      try {
        if (s.startsWith("0x") || s.startsWith("0X")) return Long.parseUnsignedLong(s.substring(2), 16);
        if (s.startsWith("-0x")) return -Long.parseLong(s.substring(3), 16);
        return Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw err(v, what + ": expected an integer, got \"" + v.unwrapped() + "\"");
      }
    }
    throw err(v, what + ": expected an integer, got " + v.valueType().name().toLowerCase() + " " + v.render());
  }

  boolean bool(ConfigValue v, String what) {
    if (v.valueType() == ConfigValueType.BOOLEAN) return (Boolean) v.unwrapped();
    if (v.valueType() == ConfigValueType.STRING) {
      String s = ((String) v.unwrapped()).trim();
      if (s.equals("true") || s.equals("yes") || s.equals("on")) return true;
      if (s.equals("false") || s.equals("no") || s.equals("off")) return false;
    }
    throw err(v, what + ": expected true or false, got " + v.render());
  }

  Boolean optBool(ConfigObject o, String k) { return o.containsKey(k) ? bool(o.get(k), k) : null; }

  Integer optInt(ConfigObject o, String k) { return o.containsKey(k) ? (int) integer(o.get(k), k) : null; }

  /** A duration that must be > 0 (a zero or negative timeout or wait would never, or at once, run out). */
  Duration positive(ConfigValue v, String what) {
    Duration d = duration(v, what);
    if (d.isNegative() || d.isZero()) throw err(v, what + ": must be > 0, got " + v.render());
    return d;
  }

  Duration duration(ConfigValue v, String what) {
    try {
      return ConfigFactory.empty().withValue("d", v).getDuration("d");
    } catch (ConfigException e) {
      throw err(v, what + ": expected a duration such as 500ms or 10s, got " + v.render());
    }
  }

  ConfigObject object(ConfigValue v, String what) {
    if (v.valueType() != ConfigValueType.OBJECT) {
      throw err(v, what + ": expected an object { ... }, got " + v.valueType().name().toLowerCase() + " " + v.render());
    }
    return (ConfigObject) v;
  }

  List<ConfigObject> objects(ConfigValue v, String what) {
    List<ConfigObject> out = new ArrayList<>();
    if (v.valueType() == ConfigValueType.LIST) {
      for (ConfigValue x : (ConfigList) v) out.add(object(x, what));
    } else {
      out.add(object(v, what));
    }
    return out;
  }

  ConfigList list(ConfigValue v, String what) {
    if (v.valueType() != ConfigValueType.LIST) {
      throw err(v, what + ": expected a list [ ... ], got " + v.valueType().name().toLowerCase() + " " + v.render());
    }
    return (ConfigList) v;
  }

  // ------------------------------------------------------------------------------------------------ shared values

  /** A count: a number, or a string bound such as ">= 2" (see {@link Bound}). */
  Bound bound(ConfigValue v, String what) {
    if (v.valueType() == ConfigValueType.NUMBER) return Bound.exactly(integer(v, what));
    try {
      return Bound.parse(string(v, what));
    } catch (IllegalArgumentException e) {
      throw err(v, what + ": " + e.getMessage());
    }
  }

  /** value = N, or pattern = index|value with plus = N; {@code fill} defaults to the index pattern. */
  Pattern valuePattern(ConfigObject o, String what, boolean defaultIndex) {
    if (o.containsKey("value")) {
      forbid(o, what + " with value", "pattern", "plus");
      return Pattern.constant(integer(o.get("value"), "value"));
    }
    long plus = o.containsKey("plus") ? integer(o.get("plus"), "plus") : 0;
    if (o.containsKey("pattern")) {
      ConfigValue pv = o.get("pattern");
      String p = string(pv, "pattern");
      if (p.equals("index")) return Pattern.index(plus);
      if (p.equals("neg-index")) return Pattern.negIndex(plus);
      if (p.equals("value")) return Pattern.constant(plus);
      throw err(pv, "pattern: expected index, neg-index or value, got \"" + p + "\"");
    }
    if (defaultIndex) return Pattern.index(plus);
    throw new ScenarioException(file, line(o), what + ": needs value = N or pattern = index");
  }

  void forbid(ConfigObject o, String what, String... keys) {
    for (String k : keys) if (o.containsKey(k)) throw err(o.get(k), "'" + k + "' does not apply to " + what);
  }

  static String hex(long v) { return "0x" + Long.toHexString(v); }
}
