package hmmemu.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The bench starts, runs every probe at its smoke size and ends with one JSON object holding every key. Not a timing test. */
class BenchSmokeTest {
  @Test
  void smokeRunPrintsEveryKey() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    AtomicBoolean asked = new AtomicBoolean();
    int code = Bench.runSmoke(quick -> {
      asked.set(quick);
      return true;
    }, new PrintStream(buf, true, StandardCharsets.UTF_8));
    String out = buf.toString(StandardCharsets.UTF_8);
    System.out.println(out);
    assertEquals(0, code, out);
    assertTrue(asked.get(), "the smoke run asks for the quick 8-node experiment");
    String[] lines = out.strip().split("\n");
    String json = lines[lines.length - 1];
    assertTrue(json.startsWith("{") && json.endsWith("}"), "the last line is the JSON object:\n" + out);
    for (String key : Bench.KEYS) assertTrue(json.contains("\"" + key + "\":"), key + " in " + json);
    assertTrue(json.contains("\"targets\":{"), json);
    // every figure was measured at the smoke sizes (a probe that broke shows up as a null median)
    for (String key : Bench.KEYS) {
      if (!key.equals("gpuNodes8Ok")) assertTrue(!json.contains("\"" + key + "\":{\"median\":null"), key + ": " + out);
    }
  }
}
