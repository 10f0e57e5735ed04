package hmmemu.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens report.html in a real headless browser (Debian's chromium; .ci/run installs it where it is missing): no
 * script error, every plot rendered with marks, and a screenshot saved under target/.
 */
class ReportBrowserTest {
  @TempDir Path tmp;

  static Path chromium() {
    String env = System.getenv("HMM_EMU_CHROMIUM");
    List<String> candidates = new ArrayList<>();
    if (env != null && !env.isBlank()) candidates.add(env);
    candidates.addAll(List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"));
    for (String c : candidates) if (Files.isExecutable(Path.of(c))) return Path.of(c);
    String why = "no headless browser: install Debian's chromium (apt-get install chromium; .ci/run does this) or set"
        + " HMM_EMU_CHROMIUM to a Chromium binary";
    if ("1".equals(System.getenv("HMM_EMU_REQUIRE_BROWSER"))) fail(why);
    Assumptions.abort(why);
    return null;
  }

  static String run(Path browser, Path userData, List<String> extra, Path page) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + userData, "--virtual-time-budget=5000"));
    cmd.addAll(extra);
    cmd.add(page.toUri().toString());
    Path out = Files.createTempFile(userData.getParent(), "chromium", ".out");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(false).redirectOutput(out.toFile())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("chromium did not finish within 90 s: " + String.join(" ", cmd));
    }
    return Files.readString(out, StandardCharsets.UTF_8);
  }

  @Test
  void theDemoReportRendersEveryPlotWithoutAScriptError() throws Exception {
    Path browser = chromium();
    Path dir = tmp.resolve("run");
    ArrayNode sweep = Metrics.F.arrayNode();
    double[] hops = {1, 10, 100, 1000};
    for (String arm : List.of("folio-lock (kernel)", "early-unlock (ablation)")) {
      for (double h : hops) {
        double rate = arm.startsWith("folio") ? 0.05 : 0.2 + h / 5000;
        sweep.addObject().put("arm", arm).put("hopMicros", h).put("cancelRate", rate)
            .put("cancelLo", rate * 0.8).put("cancelHi", Math.min(1, rate * 1.2));
      }
    }
    RunDirectory.write(dir, "demo", "{\"ok\": true, \"violations\": 0}", null,
        List.of(RunRecordTest.oneFaultRun("folio-lock (kernel)", 1000), RunRecordTest.oneFaultRun("early-unlock (ablation)", 1000)),
        sweep);
    Path page = dir.resolve(RunDirectory.REPORT);
    String dom = run(browser, tmp.resolve("profile1"), List.of("--dump-dom"), page);
    assertFalse(dom.isBlank(), "chromium printed no DOM");
    assertFalse(dom.contains("<title>REPORT-ERROR") || !errors(dom).isBlank(), "a script error:\n" + errors(dom));
    Matcher rendered = Pattern.compile("data-rendered=\"(\\d+)\"").matcher(dom);
    assertTrue(rendered.find(), "the script never finished (no data-rendered on body)");
    assertEquals(9, Integer.parseInt(rendered.group(1)), "plots rendered: 4 per arm and the sweep");
    Matcher plot = Pattern.compile("data-plot=\"([^\"]+)\"[^>]*data-marks=\"(\\d+)\"").matcher(dom);
    int plots = 0;
    while (plot.find()) {
      plots++;
      assertTrue(Integer.parseInt(plot.group(2)) > 0, "plot '" + plot.group(1) + "' drew nothing");
    }
    assertEquals(9, plots, "every plot carries its marks");
    Path shot = Path.of("target", "report-screenshot.png").toAbsolutePath();
    Files.createDirectories(shot.getParent());
    Files.deleteIfExists(shot);
    run(browser, tmp.resolve("profile2"), List.of("--screenshot=" + shot, "--window-size=1400,1900",
        "--hide-scrollbars"), page);
    assertTrue(Files.isRegularFile(shot) && Files.size(shot) > 10_000, "screenshot saved at " + shot);
  }

  private static String errors(String dom) {
    Matcher m = Pattern.compile("<div id=\"errors\">(.*?)</div>", Pattern.DOTALL).matcher(dom);
    return m.find() ? m.group(1) : "(no errors element: " + dom.substring(0, Math.min(2000, dom.length())) + ")";
  }

}
