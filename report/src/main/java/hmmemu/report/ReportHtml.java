package hmmemu.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * report.html: one self-contained file (no network; the data and a small script that draws inline SVG are in
 * the file) built from result.json and metrics.json alone — settings and verdict at the top, then per run (the
 * demo's two arms side by side) the GPU access latency CDF, a histogram of driver loop iterations, throughput over
 * model time with fault-injection windows as bands, and an ownership timeline of the hottest pages; for a sweep,
 * the curves against hop latency with their intervals.
 */
public final class ReportHtml {
  private ReportHtml() {}

  /** The page for {@code result} (what --json printed) and {@code metrics} (metrics.json). */
  public static String render(JsonNode result, JsonNode metrics) throws IOException {
    String template;
    try (InputStream in = ReportHtml.class.getResourceAsStream("report-template.html")) {
      if (in == null) throw new IOException("report-template.html is missing from the report module's resources");
      template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    ObjectMapper m = new ObjectMapper();
    String data = "{\"result\":" + m.writeValueAsString(result) + ",\"metrics\":" + m.writeValueAsString(metrics) + "}";
    // A JSON text inside <script> must not close the element: escape '<' everywhere.
    data = data.replace("<", "\\u003c");
    String title = metrics.path("name").asText("run");
    return template.replace("__TITLE__", escape("hmm-emu " + title)).replace("__DATA__", data);
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
