package hmmemu.node.link;

import java.util.Locale;

/**
 * One direction of a host-device link, by node index (node 0 = the CPU node, node k = GPU node k). Written
 * {@code cpu0->gpu1}; {@code \u2192} is accepted for {@code ->}.
 */
public record Direction(int from, int to) {
  public Direction {
    if (from < 0 || to < 0) throw new IllegalArgumentException("node indexes are >= 0: " + from + "->" + to);
    if (from == to) throw new IllegalArgumentException("a direction joins two different nodes: " + from + "->" + to);
  }

  public static Direction of(int from, int to) { return new Direction(from, to); }

  public Direction reverse() { return new Direction(to, from); }

  /** "cpu0" for node 0, "gpuK" for node K. */
  public static String nodeName(int node) { return node == 0 ? "cpu0" : "gpu" + node; }

  /**
   * Parses a node name: {@code cpu0} or {@code cpu} (node 0), {@code gpuK} (node K >= 1), or a bare index.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static int parseNode(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.equals("cpu") || t.equals("cpu0")) return 0;
      if (t.startsWith("cpu")) throw new IllegalArgumentException("unknown node \"" + s + "\" (the CPU node is cpu0)");
      if (t.startsWith("gpu")) {
        int k = Integer.parseInt(t.substring(3));
        if (k < 1) throw new IllegalArgumentException("unknown node \"" + s + "\" (GPU nodes are gpu1, gpu2, ...)");
        return k;
      }
      if (t.startsWith("node")) t = t.substring(4);
      int k = Integer.parseInt(t);
      if (k < 0) throw new NumberFormatException();
      return k;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("unknown node \"" + s + "\" (expected cpu0, gpu1, gpu2, ...)");
    }
  }

  /** Parses {@code cpu0->gpu1} (or with {@code \u2192}). */
  public static Direction parse(String s) {
    String t = s.trim().replace("\u2192", "->");
    int i = t.indexOf("->");
    if (i < 0 || t.indexOf("->", i + 2) >= 0 || t.contains("<-")) {
      throw new IllegalArgumentException("bad direction \"" + s + "\" (expected e.g. cpu0->gpu1)");
    }
    int from = parseNode(t.substring(0, i));
    int to = parseNode(t.substring(i + 2));
    if (from == to) throw new IllegalArgumentException("bad direction \"" + s + "\": both ends are the same node");
    return new Direction(from, to);
  }

  @Override
  public String toString() { return nodeName(from) + "->" + nodeName(to); }
}
