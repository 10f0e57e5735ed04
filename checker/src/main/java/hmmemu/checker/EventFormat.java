package hmmemu.checker;

import hmmemu.protocol.trace.Stamped;
import hmmemu.protocol.trace.Trace;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Renders trace events for violation reports: the record's own text with addresses and ids in hex. */
final class EventFormat {
  private static final Pattern HEX_FIELDS =
      Pattern.compile("\\b(va|pfn|start|end|owner|subId|reqId)=(-?\\d+)");

  private EventFormat() {}

  /** {@code n<node>#<seq> <event>}, e.g. {@code n1#7 DeviceEntryInstalled[deviceId=16, mmId=1, va=0x10000000, ...]}. */
  static String describe(Stamped s) {
    return "n" + s.node() + "#" + s.seq() + " " + describe(s.event());
  }

  static String describe(Trace.Event e) {
    Matcher m = HEX_FIELDS.matcher(String.valueOf(e));
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      long v = Long.parseLong(m.group(2));
      m.appendReplacement(sb, m.group(1) + "=" + hex(v));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  static String hex(long v) { return v < 0 ? Long.toString(v) : "0x" + Long.toHexString(v); }
}
