package hmmemu.cluster.cli;

import hmmemu.cluster.SettingsException;
import java.time.Duration;
import java.util.Map;

/**
 * Not a kernel structure: a duration given on the command line ({@code --one-way}, {@code --latencies},
 * {@code --cpu-think}) read as HOCON reads one, except that a bare number other than 0 is refused: HOCON takes it as
 * milliseconds, so {@code --one-way 5} would silently mean 5 ms where a user may mean 5 µs (hmm-emu.link refuses it
 * too: LinkSettings.micros).
 */
final class FlagDurations {
  private FlagDurations() {}

  /** {@code text} as a duration; a settings error naming {@code option} when it is none or has no unit. */
  static Duration parse(String option, String text) {
    String t = text.trim();
    if (t.matches("[+-]?\\d+(\\.\\d*)?([eE][+-]?\\d+)?") && Double.parseDouble(t) != 0) {
      throw new SettingsException(option + ": '" + text + "' has no unit (e.g. " + t + "us, " + t + "ms)");
    }
    try {
      return com.typesafe.config.ConfigFactory.parseMap(Map.of("d", t)).getDuration("d");
    } catch (com.typesafe.config.ConfigException e) {
      throw new SettingsException(option + ": not a duration: '" + text + "' (e.g. 20us, 70ms, 0)");
    }
  }
}
