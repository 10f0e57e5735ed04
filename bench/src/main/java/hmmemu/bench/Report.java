package hmmemu.bench;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The bench's table and its JSON object, with issue 11's targets; a missed target is printed MISSED. */
final class Report {
  /** A target: the bound, its direction, and how it is written. */
  record Target(String text, boolean atLeast, double bound) {
    boolean met(Figure f) {
      if (f == null || !f.measured()) return false;
      return atLeast ? f.median() >= bound : f.median() <= bound;
    }
  }

  static final Map<String, Target> TARGETS = new LinkedHashMap<>();

  static {
    TARGETS.put("faultToRawRatio", new Target(">= 0.33", true, 0.33));
    TARGETS.put("pipelinedFaultToRawRatio", new Target(">= 0.25", true, 0.25));
    TARGETS.put("heapBytesPerPage", new Target("<= 128", false, 128));
    TARGETS.put("retainedBytesPerCycle", new Target("<= 1 (~0)", false, 1));
    TARGETS.put("invalidate1GiBMillis", new Target("<= 1000", false, 1000));
    TARGETS.put("coreStepsPerSecond", new Target(">= 2,000,000", true, 2_000_000));
    TARGETS.put("checkerEventsPerSecond", new Target(">= 1,000,000 at 1K and 1M pages, flat", true, 1_000_000));
  }

  private Report() {}

  /** checkerEventsPerSecond: both sizes at least 1 M/s, and the large one at least 80 % of the small one. */
  static boolean met(String key, Map<String, Figure> figures, Map<String, Map<String, Figure>> nested) {
    Target t = TARGETS.get(key);
    Figure f = figures.get(key);
    if (!t.met(f)) return false;
    if (key.equals("checkerEventsPerSecond")) {
      Figure small = nested.getOrDefault(key, Map.of()).get("at1KPages");
      return t.met(small) && f.median() >= 0.8 * small.median();
    }
    return true;
  }

  static String num(double v) {
    if (Double.isNaN(v)) return "-";
    if (Math.abs(v) >= 1000) return String.format(Locale.ROOT, "%,.0f", v);
    if (Math.abs(v) >= 10) return String.format(Locale.ROOT, "%.1f", v);
    return String.format(Locale.ROOT, "%.3f", v);
  }

  static void table(PrintStream out, Sizes sizes, Map<String, Figure> figures, Map<String, Map<String, Figure>> nested,
      Boolean gpuNodes8Ok, String gpuNodes8Note, double seconds) {
    out.printf(Locale.ROOT, "%n%-28s %14s %14s %14s  %-14s %s%n", "figure (" + sizes.name() + ")", "median", "min",
        "max", "target", "");
    for (String key : Bench.KEYS) {
      if (key.equals("gpuNodes8Ok")) {
        boolean ok = Boolean.TRUE.equals(gpuNodes8Ok);
        out.printf(Locale.ROOT, "%-28s %14s %14s %14s  %-14s %s%n", key, String.valueOf(gpuNodes8Ok), "", "",
            "true", (gpuNodes8Ok == null ? "not run" : ok ? "met" : "MISSED") + (gpuNodes8Note.isEmpty() ? "" : "  (" + gpuNodes8Note + ")"));
        continue;
      }
      Figure f = figures.get(key);
      boolean notRun = f == null;
      if (notRun) f = Figure.missing(key, "", "not run");
      Target t = TARGETS.get(key);
      String verdict = t == null ? "" : notRun ? "not run" : (met(key, figures, nested) ? "met" : "MISSED")
          + (sizes.smallerThanTarget(key) ? " (at " + sizes.name() + " size)" : "");
      out.printf(Locale.ROOT, "%-28s %14s %14s %14s  %-14s %s%n", key, num(f.median()), num(f.min()), num(f.max()),
          t == null ? "" : t.text().split(" ")[0] + " " + t.text().split(" ")[1], verdict);
      for (Map.Entry<String, Figure> n : nested.getOrDefault(key, Map.of()).entrySet()) {
        Figure g = n.getValue();
        out.printf(Locale.ROOT, "  %-26s %14s %14s %14s%n", n.getKey(), num(g.median()), num(g.min()), num(g.max()));
      }
    }
    out.println();
    for (String key : Bench.KEYS) {
      Figure f = figures.get(key);
      if (f != null && f.note() != null) out.println("  " + key + ": " + f.note());
      for (Map.Entry<String, Figure> n : nested.getOrDefault(key, Map.of()).entrySet()) {
        out.println("    " + n.getKey() + ": " + n.getValue().note());
      }
    }
    out.printf(Locale.ROOT, "  (%s sizes; %.0f s in all; medians of the repetitions after a warm-up)%n", sizes.name(),
        seconds);
  }

  private static String jnum(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) return "null";
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.6g", v);
  }

  private static String jstr(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  private static String fig(Figure f, Map<String, Figure> inner) {
    StringBuilder b = new StringBuilder("{\"median\":").append(jnum(f.median())).append(",\"min\":")
        .append(jnum(f.min())).append(",\"max\":").append(jnum(f.max()));
    for (Map.Entry<String, Figure> n : inner.entrySet()) b.append(',').append(jstr(n.getKey())).append(':')
        .append(fig(n.getValue(), Map.of()));
    return b.append('}').toString();
  }

  /** One line: each key {median,min,max} (null when not measured), gpuNodes8Ok a boolean, and "targets". */
  static String json(Sizes sizes, Map<String, Figure> figures, Map<String, Map<String, Figure>> nested, Boolean gpuNodes8Ok,
      String gpuNodes8Note) {
    StringBuilder b = new StringBuilder("{");
    for (String key : Bench.KEYS) {
      if (key.equals("gpuNodes8Ok")) {
        b.append(jstr(key)).append(':').append(Boolean.TRUE.equals(gpuNodes8Ok)).append(',');
        continue;
      }
      Figure f = figures.getOrDefault(key, Figure.missing(key, "", "not run"));
      b.append(jstr(key)).append(':').append(fig(f, nested.getOrDefault(key, Map.of()))).append(',');
    }
    b.append("\"targets\":{");
    boolean first = true;
    for (Map.Entry<String, Target> t : TARGETS.entrySet()) {
      if (!first) b.append(',');
      first = false;
      Figure f = figures.get(t.getKey());
      b.append(jstr(t.getKey())).append(":{\"target\":").append(jstr(t.getValue().text())).append(",\"met\":")
          .append(met(t.getKey(), figures, nested));
      if (f != null && (!f.measured() || sizes.smallerThanTarget(t.getKey()))) {
        b.append(",\"note\":").append(jstr((sizes.smallerThanTarget(t.getKey()) ? sizes.name() + " size, not the"
            + " target's: " : "") + f.note()));
      }
      b.append('}');
    }
    b.append(",\"gpuNodes8Ok\":{\"target\":\"true\",\"met\":").append(Boolean.TRUE.equals(gpuNodes8Ok));
    if (!gpuNodes8Note.isEmpty()) b.append(",\"note\":").append(jstr(gpuNodes8Note));
    return b.append("}}}").toString();
  }
}
