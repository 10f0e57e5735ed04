package hmmemu.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * The record every run leaves: result.json (what --json prints), metrics.json (per run: counters, histograms,
 * timelines), trace.json (Trace Event Format) and report.html. The default place is
 * {@code runs/<UTC timestamp>-<name>/}.
 */
public final class RunDirectory {
  private RunDirectory() {}

  public static final String RESULT = "result.json";
  public static final String METRICS = "metrics.json";
  public static final String TRACE = "trace.json";
  public static final String REPORT = "report.html";

  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  /** {@code runs/<UTC timestamp>-<name>} under the working directory. */
  public static Path defaultFor(String name, Instant now) {
    return Path.of("runs", STAMP.format(now) + "-" + name.replaceAll("[^A-Za-z0-9._-]", "_"));
  }

  /**
   * Writes the four files into {@code dir} (created if needed). {@code result} is the JSON text the command
   * prints with --json; {@code settings} what the report shows at the top; {@code sweep} rows for a sweep, or null.
   */
  public static void write(Path dir, String name, String result, ObjectNode settings, List<RunRecorder> runs,
      ArrayNode sweep) throws IOException {
    Files.createDirectories(dir);
    ObjectMapper m = new ObjectMapper();
    JsonNode resultNode = m.readTree(result);
    Files.writeString(dir.resolve(RESULT), m.writerWithDefaultPrettyPrinter().writeValueAsString(resultNode) + "\n");
    ObjectNode metrics = Metrics.F.objectNode();
    metrics.put("name", name);
    metrics.set("settings", settings == null ? Metrics.F.objectNode() : settings);
    ArrayNode rs = metrics.putArray("runs");
    for (RunRecorder r : runs) rs.add(r.metrics().json());
    if (sweep != null) metrics.set("sweep", sweep);
    Files.writeString(dir.resolve(METRICS), m.writerWithDefaultPrettyPrinter().writeValueAsString(metrics) + "\n");
    try (OutputStream out = Files.newOutputStream(dir.resolve(TRACE))) {
      TraceJson.write(runs, out);
    }
    Files.writeString(dir.resolve(REPORT), ReportHtml.render(resultNode, metrics), StandardCharsets.UTF_8);
  }

  /** {@code hmm-emu report DIR}: rebuilds report.html from result.json and metrics.json. */
  public static Path rebuild(Path dir) throws IOException {
    Path result = dir.resolve(RESULT);
    Path metrics = dir.resolve(METRICS);
    for (Path p : new Path[] {result, metrics}) {
      if (!Files.isRegularFile(p)) throw new IOException(p + " is missing (a run directory holds result.json and metrics.json)");
    }
    ObjectMapper m = new ObjectMapper();
    JsonNode r;
    JsonNode mt;
    try {
      r = m.readTree(result.toFile());
      mt = m.readTree(metrics.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IOException("not valid JSON: " + e.getOriginalMessage());
    }
    if (!mt.path("runs").isArray()) throw new IOException(metrics + " has no \"runs\" array: not an hmm-emu metrics file");
    Path out = dir.resolve(REPORT);
    Files.writeString(out, ReportHtml.render(r, mt), StandardCharsets.UTF_8);
    return out;
  }
}
